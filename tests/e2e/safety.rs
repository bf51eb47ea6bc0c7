//! Guarantees counted at the target itself, from the testbed's access log: the request
//! budget holds exactly, and the method policy holds (no DELETE/PUT/PATCH; POST only to
//! login, token and logout flow endpoints).

use crate::util::{scan, Testbed};

fn access_log(name: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("authprobe-access-{}-{name}.log", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

fn lines(path: &std::path::Path) -> Vec<(String, String)> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once(' ').map(|(m, p)| (m.to_string(), p.to_string())))
        .collect()
}

/// POST targets a scan may use: credential, token and logout flow endpoints.
fn is_flow_endpoint(path: &str) -> bool {
    let path = path.split('?').next().unwrap_or(path);
    ["token", "login", "logout", "password/reset", "api/keys/"]
        .iter()
        .any(|w| path.contains(w))
}

#[test]
fn the_method_policy_holds_at_the_target() {
    let log = access_log("policy");
    let bed = Testbed::start_with("all", false, &["--access-log", log.to_str().unwrap()]);
    let run = scan(&bed, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let seen = lines(&log);
    assert!(!seen.is_empty(), "the access log is empty");
    for (method, path) in &seen {
        assert!(
            ["GET", "HEAD", "OPTIONS", "POST"].contains(&method.as_str()),
            "the scan sent {method} {path}"
        );
        if method == "POST" {
            assert!(is_flow_endpoint(path), "POST to a non-flow endpoint: {path}");
        }
    }
    // Every request the report counts reached the target, and nothing else did.
    let report = run.report();
    assert_eq!(report["stats"]["requests"].as_u64().unwrap() as usize, seen.len());
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
    assert_eq!(
        run.code, 0,
        "a scan that runs out of budget still reports: {}",
        run.stderr
    );
    assert_eq!(run.report()["stats"]["requests"], 60);
}
