//! Guarantees counted at the target itself, from the testbed's access log: the request
//! budget holds exactly, and the method policy holds (no DELETE/PUT/PATCH; POST only to
//! login, token and logout flow endpoints).

use crate::util::{
    access_log, access_log_lines as lines, flow_endpoints, is_flow_endpoint, scan, skipped_codes, Testbed,
};

#[test]
fn the_method_policy_holds_at_the_target() {
    let log = access_log("policy");
    let bed = Testbed::start_with(
        "all",
        false,
        &["--access-log", log.to_str().unwrap(), "--apps", "dj-rest-auth,knox"],
    );
    let run = scan(&bed, &["--allow-password-change"]);
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    let report = run.report();
    let flows = flow_endpoints(&report);
    assert!(flows.iter().any(|f| f.contains("logout")), "{flows:?}");
    let seen = lines(&log);
    assert!(!seen.is_empty(), "the access log is empty");
    for (method, path) in &seen {
        assert!(
            ["GET", "HEAD", "OPTIONS", "POST"].contains(&method.as_str()),
            "the scan sent {method} {path}"
        );
        if method == "POST" {
            assert!(is_flow_endpoint(path, &flows), "POST to a non-flow endpoint: {path}");
        }
        assert!(
            !path.starts_with("/api/demo/reset"),
            "a state-changing GET was sent: {method} {path}"
        );
    }
    // Every request the report counts reached the target, and nothing else did.
    assert_eq!(report["stats"]["requests"].as_u64().unwrap() as usize, seen.len());
    // Without --allow-writes the write probes did not run: skipped with the reason.
    let skipped = skipped_codes(&report);
    for code in ["BOLA003", "AUTHZ002"] {
        assert!(
            skipped.contains(code),
            "{code} not skipped: {}",
            report["checks_skipped"]
        );
    }
    assert!(report["checks_skipped"]
        .to_string()
        .contains("write probe: runs only with --allow-writes"));
    assert!(report.get("writes").is_none(), "{}", report["writes"]);
}

#[test]
fn the_request_budget_holds_exactly_at_the_target() {
    let log = access_log("budget");
    let bed = Testbed::start_with("all", false, &["--access-log", log.to_str().unwrap()]);
    let run = scan(&bed, &["--max-requests", "60"]);
    let seen = lines(&log);
    assert!(
        seen.len() <= 60,
        "the target received {} requests with --max-requests 60",
        seen.len()
    );
    assert!(seen.len() >= 50, "the scan should use its budget, used {}", seen.len());
    // It still reports, marked incomplete, and never passes the gate.
    assert_eq!(
        run.code, 2,
        "a scan that runs out of budget reports and exits 2: {}",
        run.stderr
    );
    let report = run.report();
    assert_eq!(report["stats"]["requests"], 60);
    assert_eq!(report["incomplete"], true);
    // Checks cut short by the budget say so instead of passing silently.
    assert!(
        report["checks_skipped"].to_string().contains("request budget"),
        "{}",
        report["checks_skipped"]
    );
}

#[test]
fn the_safe_profile_sends_only_get_and_head_and_says_so() {
    let log = access_log("safe");
    let bed = Testbed::start_with("all", false, &["--access-log", log.to_str().unwrap()]);
    let run = crate::util::authprobe(&["scan", &bed.url, "--profile", "safe", "--format", "json", "-q"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.report();
    assert_eq!(report["profile"], "safe");
    let methods: Vec<&String> = report["stats"]["methods"].as_object().unwrap().keys().collect();
    assert!(
        methods.iter().all(|m| *m == "GET" || *m == "HEAD"),
        "methods used: {methods:?}"
    );
    for (method, path) in lines(&log) {
        assert!(
            method == "GET" || method == "HEAD",
            "the safe profile sent {method} {path}"
        );
    }
    // Passive findings still come through; POST-only checks say why they did not run.
    assert!(crate::util::found_codes(&report).contains("DJ001"));
    let skipped = report["checks_skipped"].to_string();
    assert!(
        skipped.contains("TLS002") || skipped.contains("safe profile"),
        "{skipped}"
    );
    let refused = crate::util::authprobe(&["scan", &bed.url, "--profile", "safe", "--user", crate::util::ALICE]);
    assert_eq!(refused.code, 2);
    assert!(refused.stderr.contains("--profile safe"), "{}", refused.stderr);
}

#[test]
fn the_report_states_the_profile_and_methods_of_a_standard_scan() {
    let bed = Testbed::shared("none", false);
    let report = scan(&bed, &[]).report();
    assert_eq!(report["profile"], "standard");
    let methods = report["stats"]["methods"].as_object().unwrap();
    assert!(
        methods.contains_key("GET") && methods.contains_key("POST"),
        "{methods:?}"
    );
    for forbidden in ["DELETE", "PUT", "PATCH"] {
        assert!(!methods.contains_key(forbidden));
    }
}

/// The spec lists `GET /api/demo/reset/` (it wipes every note) and the API root links it:
/// the scan never requests it, says so in the report, and finds nothing else (the flaw is
/// the scanner's to avoid, not to report).
#[test]
fn a_get_the_spec_says_changes_state_is_never_sent() {
    let log = access_log("acting-get");
    let bed = Testbed::start_with("state_changing_get", false, &["--access-log", log.to_str().unwrap()]);
    let run = scan(&bed, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.report();
    let codes: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["check"].as_str())
        .collect();
    assert!(codes.is_empty(), "{codes:?}");
    let seen = lines(&log);
    assert!(seen.len() > 100, "the scan ran: {} requests", seen.len());
    assert!(
        !seen.iter().any(|(_, path)| path.starts_with("/api/demo/reset")),
        "the state-changing GET was sent"
    );
    let not_probed = report["not_probed"].as_array().expect("not_probed listed");
    let entry = not_probed
        .iter()
        .find(|n| n["path"] == "/api/demo/reset/")
        .unwrap_or_else(|| panic!("{not_probed:?}"));
    assert_eq!(entry["method"], "GET");
    assert!(entry["reason"].as_str().unwrap().contains("changes state"), "{entry}");
}

/// Every login of `throttled_login` answers 429 (`Retry-After: 2`) to a fourth POST within
/// two seconds, successful logins included: the scan waits the throttle out, logs both
/// users in, skips nothing for want of a login, reports the throttle, and reports no
/// missing rate limit (the throttle is evidence of one).
#[test]
fn a_throttled_login_is_paced_through() {
    let log = access_log("throttled-login");
    let bed = Testbed::start_with("throttled_login", false, &["--access-log", log.to_str().unwrap()]);
    let run = scan(&bed, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.report();
    let above_info: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] != "info")
        .filter_map(|f| f["check"].as_str())
        .collect();
    assert!(above_info.is_empty(), "{above_info:?}");
    let identities = report["identities"].as_array().unwrap();
    assert_eq!(identities.len(), 2);
    assert!(identities.iter().all(|i| i["logged_in"] == true), "{identities:?}");
    let throttle = &report["stats"]["throttle"];
    assert!(throttle["responses"].as_u64().unwrap() > 0, "{throttle}");
    assert!(throttle["waited_ms"].as_u64().unwrap() > 0, "{throttle}");
    assert!(
        throttle["paths"].as_array().unwrap().iter().any(|p| p == "/api/token/"),
        "{throttle}"
    );
    for skipped in report["checks_skipped"].as_array().unwrap() {
        let reason = skipped["reason"].as_str().unwrap().to_ascii_lowercase();
        assert!(
            !(reason.contains("log") && (reason.contains("fail") || reason.contains("did not")))
                && !reason.contains("429"),
            "a check was lost to the throttle: {skipped}"
        );
    }
    let seen = lines(&log);
    assert!(seen.len() > 100, "the scan ran: {} requests", seen.len());
}
