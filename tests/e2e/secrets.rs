//! Supplied secrets (passwords, a Bearer token) and recovered ones (a cracked JWT key)
//! appear in no output: no report format, not standard output, not standard error, even
//! with `RUST_LOG=trace` (authprobe installs no logger; this holds it to that).

use crate::util::{alice_access_token, Testbed, ALICE, BOB};
use std::process::{Command, Stdio};

#[test]
fn secrets_appear_in_no_format_and_no_log_line_even_at_trace_level() {
    let bed = Testbed::shared("weak_secret", false);
    let bearer = alice_access_token(&bed);
    let dir = std::env::temp_dir().join(format!("authprobe-e2e-secrets-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let run = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_authprobe"))
            .args(["scan", &bed.url, "--user", ALICE, "--user", BOB, "--bearer", &bearer])
            .args(extra)
            .env("RUST_LOG", "trace")
            .env("RUST_BACKTRACE", "1")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .output()
            .expect("run authprobe")
    };
    let to_files = run(&[
        "--format",
        "pretty,json,sarif,markdown,junit",
        "--output-dir",
        dir.to_str().unwrap(),
    ]);
    let to_stdout = run(&["--format", "json"]);
    let mut outputs = vec![
        (
            "stdout (files run)".to_string(),
            String::from_utf8_lossy(&to_files.stdout).into_owned(),
        ),
        (
            "stderr (files run)".to_string(),
            String::from_utf8_lossy(&to_files.stderr).into_owned(),
        ),
        (
            "stdout".to_string(),
            String::from_utf8_lossy(&to_stdout.stdout).into_owned(),
        ),
        (
            "stderr".to_string(),
            String::from_utf8_lossy(&to_stdout.stderr).into_owned(),
        ),
    ];
    for file in [
        "report.txt",
        "report.json",
        "report.sarif",
        "report.md",
        "report.junit.xml",
    ] {
        let mut text = std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        if file == "report.sarif" {
            // The rules carry each check's documentation, whose JWT003 example happens to
            // use the testbed's key (`SIGNING_KEY: "secret123"`): check the results only.
            let mut sarif: serde_json::Value = serde_json::from_str(&text).unwrap();
            sarif["runs"][0]["tool"] = serde_json::Value::Null;
            text = sarif.to_string();
        }
        outputs.push((file.to_string(), text));
    }
    let report: serde_json::Value = serde_json::from_str(&outputs[2].1).expect("a JSON report");
    assert!(
        crate::util::found_codes(&report).contains("JWT003"),
        "the key was not recovered, so this test would prove nothing: {}",
        report["findings"]
    );
    let signature = bearer.rsplit('.').next().unwrap();
    let secrets = [
        ("alice's password", "alice-pass-1"),
        ("bob's password", "bob-pass-2"),
        ("the supplied Bearer token", bearer.as_str()),
        ("the supplied token's signature", signature),
        ("the recovered HMAC key", "secret123"),
    ];
    for (what, output) in &outputs {
        for (name, secret) in secrets {
            assert!(!output.contains(secret), "{name} appears in {what}");
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
