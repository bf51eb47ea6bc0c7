//! The auth model's guarantees at the edges: a failed login, a refused supplied token and
//! a spent request budget each still write every report format, mark it incomplete and
//! exit 2; a login answer that carries a token never reaches stderr.

use crate::util::{authprobe, Testbed, ALICE, BOB};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;

const FORMATS: &[(&str, &str)] = &[
    ("pretty", "report.txt"),
    ("json", "report.json"),
    ("sarif", "report.sarif"),
    ("markdown", "report.md"),
    ("junit", "report.junit.xml"),
    ("html", "report.html"),
];

/// Runs a scan into a fresh output directory with every format; returns the run, the JSON
/// report and the directory.
fn scan_every_format(url: &str, extra: &[&str], name: &str) -> (crate::util::Run, Value, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("authprobe-auth-model-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let formats: Vec<&str> = FORMATS.iter().map(|(f, _)| *f).collect();
    let formats = formats.join(",");
    let mut args = vec!["scan", url, "-q", "--format", &formats, "--output-dir"];
    let dir_str = dir.to_string_lossy().into_owned();
    args.push(&dir_str);
    args.extend_from_slice(extra);
    let run = authprobe(&args);
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("report.json"))
            .unwrap_or_else(|e| panic!("no JSON report ({e}); exit {}, stderr:\n{}", run.code, run.stderr)),
    )
    .unwrap();
    (run, report, dir)
}

fn assert_every_format_written(dir: &Path) {
    for (format, file) in FORMATS {
        let text = std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{format}: {e}"));
        assert!(!text.trim().is_empty(), "{format} report is empty");
    }
}

#[test]
fn a_scan_whose_logins_all_fail_writes_every_format_and_exits_2() {
    let bed = Testbed::shared("none", false);
    let (run, report, dir) = scan_every_format(
        &bed.url,
        &["--user", "alice:not-her-password", "--user", "bob:not-his-either"],
        "logins-fail",
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_every_format_written(&dir);
    assert_eq!(report["incomplete"], true);
    let ids = report["identities"].as_array().unwrap();
    assert_eq!(ids.len(), 2, "{ids:?}");
    for id in ids {
        assert_eq!(id["logged_in"], false, "{id}");
        assert!(id["login_error"].as_str().unwrap().contains("refused"), "{id}");
    }
    // Anonymous checks still ran; identity checks say why they did not.
    assert!(report["stats"]["checks_run"].as_u64().unwrap() > 0);
    let skipped = report["checks_skipped"].as_array().unwrap();
    assert!(
        skipped
            .iter()
            .any(|s| s["reason"].as_str().unwrap().starts_with("login failed for `alice`")),
        "{skipped:?}"
    );
    let pretty = std::fs::read_to_string(dir.join("report.txt")).unwrap();
    assert!(pretty.contains("LOGIN FAILED for `alice`"), "{pretty}");
    assert!(
        pretty.contains("[flows.login]"),
        "the pretty report suggests a flows config: {pretty}"
    );
    for (_, file) in FORMATS {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        assert!(
            !text.contains("not-her-password") && !text.contains("not-his-either"),
            "{file}"
        );
    }
    // A category none of whose checks ran is not tested, never 100.
    for c in report["categories"].as_array().unwrap() {
        assert!(c["score"].is_null() || c["score"].is_u64(), "{c}");
    }
}

#[test]
fn an_invalid_bearer_token_is_not_a_pass() {
    let bed = Testbed::shared("none", false);
    let (run, report, dir) = scan_every_format(
        &bed.url,
        &["--bearer", "authprobe-not-a-valid-token-0123456789"],
        "bad-bearer",
    );
    assert_eq!(
        run.code, 2,
        "an invalid --bearer must not pass the gate: {}",
        run.stderr
    );
    assert_every_format_written(&dir);
    assert_eq!(report["incomplete"], true);
    let id = &report["identities"][0];
    assert_eq!(id["logged_in"], false, "{id}");
    assert!(id["login_error"].as_str().unwrap().contains("refused"), "{id}");
    assert!(!std::fs::read_to_string(dir.join("report.json"))
        .unwrap()
        .contains("authprobe-not-a-valid-token-0123456789"));
}

#[test]
fn a_scan_whose_budget_runs_out_is_incomplete_and_exits_2() {
    let bed = Testbed::shared("none", false);
    let (run, report, dir) = scan_every_format(
        &bed.url,
        &["--user", ALICE, "--user", BOB, "--max-requests", "60"],
        "budget",
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_every_format_written(&dir);
    assert_eq!(report["incomplete"], true);
    assert!(
        report["incomplete_reason"]
            .as_str()
            .unwrap()
            .contains("request budget of 60"),
        "{}",
        report["incomplete_reason"]
    );
    assert!(report["stats"]["requests"].as_u64().unwrap() <= 60);
}

#[test]
fn two_bearer_tokens_are_two_identities() {
    let bed = Testbed::shared("none", false);
    // Tokens of two accounts, obtained the way a user would.
    let token = |user: &str, password: &str| -> String {
        let out = std::process::Command::new("curl")
            .args(["-s", "-X", "POST", "-H", "Content-Type: application/json"])
            .args(["-d", &format!(r#"{{"username":"{user}","password":"{password}"}}"#)])
            .arg(format!("{}api/token/", bed.url))
            .output()
            .expect("curl");
        let v: Value = serde_json::from_slice(&out.stdout).expect("token answer");
        v["access"].as_str().unwrap().to_string()
    };
    let (a, b) = (token("alice", "alice-pass-1"), token("bob", "bob-pass-2"));
    let run = authprobe(&[
        "scan", &bed.url, "-q", "--format", "json", "--bearer", &a, "--bearer", &b,
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.report();
    let labels: Vec<&str> = report["identities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["bearer", "bearer-2"]);
    let skipped: Vec<&str> = report["checks_skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["check"].as_str().unwrap())
        .collect();
    assert!(
        !skipped.contains(&"BOLA001"),
        "BOLA001 needs two identities, which it has: {skipped:?}"
    );
    assert!(!run.stdout.contains(&a) && !run.stderr.contains(&b));
}

/// A login endpoint that refuses with an answer carrying a live-looking token.
fn leaky_login_server() -> String {
    const JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.bGVha2VkLXNpZ25hdHVyZS12YWx1ZQ";
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    return;
                }
                let mut length = 0;
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                        break;
                    }
                    if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let (status, body) = match (line.split(' ').next(), line.split(' ').nth(1)) {
                    (Some("GET"), Some("/")) => ("200 OK", r#"{"api":"v1"}"#.to_string()),
                    (Some("GET"), Some("/api/auth/login/")) => {
                        ("405 Method Not Allowed", r#"{"detail":"POST only"}"#.into())
                    }
                    (Some("POST"), Some("/api/auth/login/")) => (
                        "403 Forbidden",
                        format!(
                            r#"{{"detail":"second factor needed; session {JWT}","access":"{JWT}","refresh":"{JWT}"}}"#
                        ),
                    ),
                    _ => ("404 Not Found", r#"{"detail":"not found"}"#.into()),
                };
                let mut stream = stream;
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\nX-Token: {JWT}\r\n\r\n{body}",
                    body.len()
                );
            });
        }
    });
    url
}

#[test]
fn a_login_answer_that_carries_a_token_never_reaches_stderr() {
    let url = leaky_login_server();
    let run = authprobe(&[
        "scan",
        &url,
        "--user",
        "alice:pw-of-alice",
        "--format",
        "json",
        "--max-requests",
        "200",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("login failed for `alice`"), "{}", run.stderr);
    assert!(
        !run.stderr.contains("bGVha2VkLXNpZ25hdHVyZS12YWx1ZQ"),
        "a token leaked to stderr: {}",
        run.stderr
    );
    assert!(!run.stderr.contains("pw-of-alice") && !run.stdout.contains("pw-of-alice"));
    let report = run.report();
    assert!(report["identities"][0]["login_error"]
        .as_str()
        .unwrap()
        .contains("second factor needed"));
}
