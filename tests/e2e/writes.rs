//! Write probes (`--allow-writes`): refused without a declared non-production environment;
//! with one, they write only to what the scan created, and leave the testbed's data as it
//! was (counted at the target: its access log and its database).

use serde_json::Value;
use std::collections::BTreeSet;

use crate::util::{
    access_log, access_log_lines, authprobe, flow_endpoints, found_codes, is_flow_endpoint, scan, skipped_codes,
    tempfile, testbed_data, Testbed,
};

const WRITES: &[&str] = &["--allow-writes", "--environment", "staging"];

/// Scans a testbed of its own with write probes, and checks what reached it: the data
/// after the scan equals the data before, and every write went to something the report
/// lists as created by the scan.
fn scan_with_writes(flaws: &str) -> Value {
    let log = access_log(&format!("writes-{flaws}"));
    let db = access_log(&format!("writes-{flaws}.sqlite3"));
    let bed = Testbed::start_with(
        flaws,
        false,
        &["--access-log", log.to_str().unwrap(), "--db", db.to_str().unwrap()],
    );
    let before = testbed_data(&db);
    let run = scan(&bed, WRITES);
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    let report = run.report();
    assert_eq!(testbed_data(&db), before, "the scan changed the testbed's data");

    let writes = &report["writes"];
    assert_eq!(writes["environment"], "staging");
    assert_eq!(writes["left_behind"], 0, "{writes}");
    let objects = writes["objects"].as_array().unwrap();
    let kinds: BTreeSet<&str> = objects.iter().map(|o| o["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, BTreeSet::from(["account", "object"]), "{writes}");
    assert!(objects.iter().all(|o| o["removed"] == true), "{writes}");

    // What the write probes may touch: the objects they created (and their collections),
    // the accounts they registered (by name), the registration and identity endpoints.
    let object_paths: Vec<String> = objects
        .iter()
        .filter(|o| o["kind"] == "object")
        .map(|o| {
            url::Url::parse(o["location"].as_str().unwrap())
                .unwrap()
                .path()
                .to_string()
        })
        .collect();
    let accounts: Vec<&str> = objects
        .iter()
        .filter(|o| o["kind"] == "account")
        .map(|o| o["location"].as_str().unwrap())
        .collect();
    let created = |path: &str| {
        object_paths.iter().any(|o| o == path) || accounts.iter().any(|a| path.contains(a)) || path == "/api/me/"
    };
    let flows = flow_endpoints(&report);
    let seen = access_log_lines(&log);
    for (method, path) in &seen {
        let path = path.split('?').next().unwrap();
        match method.as_str() {
            "GET" | "HEAD" | "OPTIONS" => {}
            "PUT" | "PATCH" | "DELETE" => assert!(created(path), "{method} {path}: not created by the scan"),
            "POST" => {
                let flow = is_flow_endpoint(path, &flows) || GUESSED_WRITES.contains(&path);
                let collection = object_paths.iter().any(|o| o.starts_with(path) && o != path);
                assert!(
                    flow || collection || created(path) || path == "/api/register/",
                    "POST {path}: neither a flow nor a write to what the scan created"
                );
            }
            other => panic!("the scan sent {other} {path}"),
        }
    }
    assert_eq!(report["stats"]["requests"].as_u64().unwrap() as usize, seen.len());
    report
}

/// The state-changing endpoints checks guess from a path and try only with write probes
/// on: the testbed's token-to-session bridge (SESS001, SESS007), API-key creation (SESS008)
/// and one-shot token minting (JWT004).
const GUESSED_WRITES: &[&str] = &["/api/token-login/", "/api/keys/", "/api/token/ephemeral/"];

#[test]
fn write_probes_on_every_flaw_find_them_and_leave_the_data_as_it_was() {
    let report = scan_with_writes("all");
    let found = found_codes(&report);
    for code in ["BOLA003", "AUTHZ001", "AUTHZ002"] {
        assert!(found.contains(code), "{code} not found: {}", report["checks_skipped"]);
    }
    let methods = &report["stats"]["methods"];
    assert!(methods["DELETE"].as_u64().unwrap() >= 2, "{methods}");
    let bola003: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == "BOLA003")
        .collect();
    let endpoints: Vec<&str> = bola003.iter().map(|f| f["endpoint"].as_str().unwrap()).collect();
    assert!(endpoints.iter().any(|e| e.starts_with("/api/notes/")), "{endpoints:?}");
    assert!(endpoints.iter().any(|e| e.ends_with("/password/")), "{endpoints:?}");
    assert!(bola003
        .iter()
        .all(|f| f["confidence"] == "confirmed" && f["severity"] == "critical"));
}

#[test]
fn write_probes_on_the_hardened_testbed_find_nothing_and_leave_the_data_as_it_was() {
    let report = scan_with_writes("none");
    assert_eq!(
        report["findings"].as_array().unwrap().len(),
        0,
        "{}",
        report["findings"]
    );
    assert_eq!(report["grade"], "A");
    // They ran: not skipped.
    let skipped = skipped_codes(&report);
    for code in ["BOLA003", "AUTHZ001", "AUTHZ002"] {
        assert!(!skipped.contains(code), "{code} skipped: {}", report["checks_skipped"]);
    }
}

#[test]
fn write_probes_are_refused_unless_the_target_is_declared_non_production() {
    let log = access_log("writes-refused");
    let bed = Testbed::start_with("none", false, &["--access-log", log.to_str().unwrap()]);
    let no_env = scan(&bed, &["--allow-writes"]);
    assert_eq!(no_env.code, 2);
    assert!(
        no_env
            .stderr
            .contains("--allow-writes needs the target declared non-production"),
        "{}",
        no_env.stderr
    );
    let production = scan(&bed, &["--allow-writes", "--environment", "Production"]);
    assert_eq!(production.code, 2);
    assert!(
        production.stderr.contains("refused for environment `Production`"),
        "{}",
        production.stderr
    );
    let config = tempfile("[scan]\nallow_writes = true\n[target]\nenvironment = \"prod\"\n");
    let from_config = scan(&bed, &["--config", config.to_str().unwrap()]);
    assert_eq!(from_config.code, 2, "{}", from_config.stderr);
    assert!(
        from_config.stderr.contains("refused for environment `prod`"),
        "{}",
        from_config.stderr
    );
    let safe = authprobe(&[
        "scan",
        &bed.url,
        "--profile",
        "safe",
        "--allow-writes",
        "--environment",
        "staging",
    ]);
    assert_eq!(safe.code, 2);
    assert!(safe.stderr.contains("--profile safe"), "{}", safe.stderr);
    // Refused before the first request.
    assert!(access_log_lines(&log).is_empty(), "{:?}", access_log_lines(&log));
}
