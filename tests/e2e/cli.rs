//! Command-line behaviour: clear one-line errors with exit 2, the CI gate, the catalog.

use crate::util::{authprobe, scan, Testbed, ALICE};

fn assert_usage_error(args: &[&str], needle: &str) {
    let run = authprobe(args);
    assert_eq!(run.code, 2, "{args:?} should exit 2; stderr: {}", run.stderr);
    let first = run.stderr.lines().next().unwrap_or("");
    assert!(
        first.starts_with("error:") || first.starts_with("error: "),
        "{args:?}: {}",
        run.stderr
    );
    assert!(
        run.stderr.to_lowercase().contains(&needle.to_lowercase()),
        "{args:?}: expected `{needle}` in: {}",
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn a_malformed_url_is_a_usage_error() {
    assert_usage_error(&["scan", "not a url"], "not a valid URL");
    assert_usage_error(&["scan", "ftp://example.com/"], "http:// or https://");
}

#[test]
fn connection_refused_is_a_clear_error() {
    let url = format!("http://127.0.0.1:{}/", free_port());
    assert_usage_error(&["scan", &url, "-q"], "connection refused");
}

#[test]
fn an_unresolvable_host_is_a_clear_error() {
    assert_usage_error(
        &[
            "scan",
            "http://authprobe-does-not-exist.invalid/",
            "-q",
            "--timeout",
            "5",
        ],
        "cannot reach",
    );
}

#[test]
fn tls_failure_without_insecure_is_a_clear_error() {
    let bed = Testbed::shared("none", true);
    let run = authprobe(&["scan", &bed.url, "-q"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("TLS"), "{}", run.stderr);
    assert!(run.stderr.contains("--insecure"), "{}", run.stderr);
}

#[test]
fn a_malformed_bearer_is_a_usage_error() {
    assert_usage_error(
        &["scan", "http://127.0.0.1:9/", "--bearer", "has spaces in it"],
        "malformed --bearer",
    );
    assert_usage_error(
        &["scan", "http://127.0.0.1:9/", "--bearer", "eyJub3Q.eyJqc29u.x"],
        "malformed --bearer",
    );
}

#[test]
fn a_missing_config_file_is_a_usage_error() {
    assert_usage_error(
        &["scan", "http://127.0.0.1:9/", "--config", "/nonexistent/authprobe.toml"],
        "cannot read config file",
    );
}

#[test]
fn a_broken_config_file_names_the_problem() {
    let path = crate::util::tempfile("[target]\nurll = 'x'\n");
    assert_usage_error(
        &["scan", "http://127.0.0.1:9/", "--config", path.to_str().unwrap()],
        "unknown field",
    );
}

#[test]
fn wrong_credentials_make_a_partial_report_and_exit_2() {
    let bed = Testbed::shared("none", false);
    let run = authprobe(&["scan", &bed.url, "-q", "--user", "alice:wrong-password"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stdout.contains("LOGIN FAILED for `alice`"), "{}", run.stdout);
    assert!(run.stderr.contains("login failed for `alice`"), "{}", run.stderr);
    assert!(!run.stderr.contains("wrong-password") && !run.stdout.contains("wrong-password"));
}

#[test]
fn the_gate_fails_on_findings_at_or_above_the_threshold() {
    let bed = Testbed::shared("debug", false);
    assert_eq!(scan(&bed, &["--fail-on", "high"]).code, 1);
    assert_eq!(scan(&bed, &["--fail-on", "critical"]).code, 0);
    assert_eq!(scan(&bed, &["--min-score", "95"]).code, 1);
    assert_eq!(scan(&bed, &["--min-score", "50"]).code, 0);
}

#[test]
fn the_pretty_report_is_readable_without_colour() {
    let bed = Testbed::shared("debug", false);
    let run = authprobe(&["scan", &bed.url, "--user", ALICE, "-q"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("Score "), "{}", run.stdout);
    assert!(run.stdout.contains("DJ001"));
    assert!(run.stdout.contains("curl "));
    assert!(!run.stdout.contains('\x1b'), "NO_COLOR output has escape codes");
}

#[test]
fn the_catalog_lists_and_explains_every_check() {
    let list = authprobe(&["checks"]);
    assert_eq!(list.code, 0);
    for check in authprobe_checks::all() {
        let code = check.meta().code;
        assert!(list.stdout.contains(code), "`authprobe checks` lacks {code}");
        let explained = authprobe(&["explain", code]);
        assert_eq!(explained.code, 0);
        for section in [
            "## What it does",
            "## Why is this bad?",
            "## Example",
            "## Remediation",
            "## References",
        ] {
            assert!(explained.stdout.contains(section), "explain {code} lacks {section}");
        }
    }
    assert_usage_error(&["explain", "NOPE999"], "no check");
}

#[test]
fn a_supplied_bearer_token_is_an_identity_and_never_printed() {
    let bed = Testbed::shared("query_token", false);
    let token = crate::util::alice_access_token(&bed);
    let run = authprobe(&["scan", &bed.url, "--bearer", &token, "--format", "json", "-q"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.report();
    assert!(
        crate::util::found_codes(&report).contains("AUTH003"),
        "{}",
        report["findings"]
    );
    assert_eq!(report["identities"][0]["flow"], "bearer");
    assert!(
        !run.stdout.contains(&token),
        "the supplied token leaked into the report"
    );
    // A signature-less prefix of the token would leak its claims; the whole value is redacted.
    let signature = token.rsplit('.').next().unwrap();
    assert!(!run.stdout.contains(signature));
}

const HS256_SECRET: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoxNzAwMDAwMzAwLCJpYXQiOjE3MDAwMDAwMDAsImp0aSI6IjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmIiwidXNlcl9pZCI6MX0.E87VDTPlJRlPupR8-X24Gl3x83FZ_ryogH_4ON7vvRA";
const HS256_AB12: &str =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIn0.e1AQapNGk1ZWfK4Htd1j6O5Ln4ltWw-TNX81A8SiJnA";

#[test]
fn crack_recovers_a_weak_secret_and_exits_0() {
    let run = authprobe(&["crack", HS256_SECRET, "-q"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.trim(), "secret found: secret");
    let run = authprobe(&["crack", HS256_AB12, "--mask", "?l?l?d?d", "--no-builtin", "-q"]);
    assert_eq!((run.code, run.stdout.trim()), (0, "secret found: ab12"));
}

#[test]
fn crack_exits_1_when_not_found_and_2_on_a_bad_token() {
    let run = authprobe(&["crack", HS256_AB12, "-q"]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.starts_with("not found after "), "{}", run.stdout);
    assert_usage_error(&["crack", "garbage"], "not a JWT");
    assert_usage_error(&["crack", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln"], "is not HMAC");
}

#[test]
fn crack_recovers_the_testbeds_default_django_key_from_a_live_token() {
    let bed = Testbed::shared("default_django_key", false);
    let token = crate::util::alice_access_token(&bed);
    let run = authprobe(&["crack", &token, "-q"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.trim().starts_with("secret found: django-insecure-"),
        "{}",
        run.stdout
    );
}

#[test]
fn recovered_secrets_are_redacted_unless_show_secrets_is_given() {
    let bed = Testbed::shared("weak_secret", false);
    let hidden = scan(&bed, &[]);
    assert!(crate::util::found_codes(&hidden.report()).contains("JWT003"));
    assert!(
        !hidden.stdout.contains("secret123"),
        "the recovered secret leaked without --show-secrets"
    );
    let shown = scan(&bed, &["--show-secrets"]);
    assert!(
        shown.stdout.contains("secret123"),
        "--show-secrets should print the secret"
    );
}

#[test]
fn one_scan_writes_every_format_into_the_output_dir() {
    let bed = Testbed::shared("debug", false);
    let dir = std::env::temp_dir().join(format!("authprobe-e2e-formats-{}", std::process::id()));
    let run = authprobe(&[
        "scan",
        &bed.url,
        "--user",
        ALICE,
        "-q",
        "--format",
        "sarif",
        "--format",
        "markdown,junit,json",
        "--output-dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.is_empty());
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.sarif")).unwrap()).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(
        sarif["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap().len(),
        authprobe_checks::all().len()
    );
    assert!(sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["ruleId"] == "DJ001"));
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(md.starts_with("## authprobe: score ") && md.contains("DJ001"));
    let junit = std::fs::read_to_string(dir.join("report.junit.xml")).unwrap();
    assert_eq!(junit.matches("<testcase ").count(), authprobe_checks::all().len());
    assert!(junit.contains("<failure ") && junit.contains("DJ001"));
    serde_json::from_str::<serde_json::Value>(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    for f in ["report.sarif", "report.md", "report.junit.xml", "report.json"] {
        assert!(
            !std::fs::read_to_string(dir.join(f)).unwrap().contains("alice-pass-1"),
            "{f} leaks the password"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn several_formats_to_stdout_or_a_missing_directory_are_usage_errors() {
    assert_usage_error(
        &["scan", "http://127.0.0.1:9/", "--format", "json", "--format", "sarif"],
        "--output-dir",
    );
    assert_usage_error(
        &[
            "scan",
            "http://127.0.0.1:9/",
            "--format",
            "json,sarif",
            "--output",
            "r.json",
        ],
        "--output-dir",
    );
    assert_usage_error(
        &["scan", "http://127.0.0.1:9/", "--output", "/nonexistent-dir/r.json"],
        "does not exist",
    );
}

#[test]
fn version_names_the_commit_it_was_built_from() {
    let run = authprobe(&["--version"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let line = run.stdout.trim();
    let expected_prefix = format!("authprobe {} (", env!("CARGO_PKG_VERSION"));
    assert!(line.starts_with(&expected_prefix) && line.ends_with(')'), "{line}");
    let commit = &line[expected_prefix.len()..line.len() - 1];
    let head = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    match head {
        // Built from a checkout: the short hash of the commit checked out.
        Some(head) => assert!(commit.len() >= 7 && head.starts_with(commit), "{commit} vs HEAD {head}"),
        None => assert_eq!(commit, "unknown commit"),
    }
}
