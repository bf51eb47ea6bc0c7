//! `authprobe tokens analyze` on samples from the testbed's own generators (Django's
//! `get_random_string`, DRF's `Token.generate_key`) and on weak ones.

use crate::util::{authprobe, repo_root, tempfile};
use serde_json::Value;
use std::process::Command;

/// 2,000 tokens from a generator of the testbed's Django/DRF, one per line.
fn testbed_tokens(expression: &str) -> String {
    let script = format!(
        r#"
import django
from django.conf import settings
settings.configure(INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "rest_framework.authtoken"])
django.setup()
from django.utils.crypto import get_random_string
from rest_framework.authtoken.models import Token
print("\n".join({expression} for _ in range(2000)))
"#
    );
    let out = Command::new(repo_root().join("testbed/.venv/bin/python"))
        .args(["-c", &script])
        .output()
        .expect("run the testbed's python (testbed/setup)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn analyze_json(tokens: &str, extra: &[&str]) -> (i32, Value) {
    let file = tempfile(tokens);
    let path = file.to_str().unwrap();
    let mut args = vec!["tokens", "analyze", path, "--format", "json"];
    args.extend_from_slice(extra);
    let run = authprobe(&args);
    let json = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}\n{}", run.stdout, run.stderr));
    (run.code, json)
}

fn codes(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["check"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn django_and_drf_generators_are_never_flagged() {
    for expression in ["get_random_string(32)", "Token.generate_key()"] {
        let tokens = testbed_tokens(expression);
        let (code, report) = analyze_json(&tokens, &["--identity", "alice,alice@example.com,1"]);
        assert_eq!(report["findings"], Value::Array(Vec::new()), "{expression}: {report}");
        assert_eq!(code, 0);
        assert_eq!(report["entropy"]["analysed"], 2000);
        assert!(
            report["entropy"]["effective_bits"].as_f64().unwrap() > 150.0,
            "{expression}: {report}"
        );
        assert_eq!(
            report["entropy"]["randomness_rejected"], false,
            "{expression}: {report}"
        );
    }
}

#[test]
fn weak_samples_get_the_right_codes_and_no_token_is_printed() {
    let counter: String = (0..200).map(|i| format!("{}\n", 40_000_001 + i)).collect();
    let (code, report) = analyze_json(&counter, &[]);
    assert_eq!(code, 1);
    assert_eq!(codes(&report), ["TOKEN001", "TOKEN002"]);
    // md5("alice") and md5("bob"), with the identities as hints.
    let md5 = "6384e2b2184bcbf58eccf10ca7a6563c\n9f9d51bc70ef21ca5c14f307980a29d8\n";
    let (code, report) = analyze_json(md5, &["--identity", "alice", "--identity", "bob"]);
    assert_eq!((code, codes(&report)), (1, vec!["TOKEN003".to_string()]));
    assert_eq!(report["findings"][0]["confidence"], "confirmed");
    let pretty = authprobe(&[
        "tokens",
        "analyze",
        tempfile(md5).to_str().unwrap(),
        "--identity",
        "alice,bob",
    ]);
    assert!(pretty.stdout.contains("TOKEN003"), "{}", pretty.stdout);
    assert!(
        !pretty.stdout.contains("6384e2b2184b"),
        "a token was printed: {}",
        pretty.stdout
    );
}

#[test]
fn a_missing_or_empty_file_is_a_usage_error() {
    let run = authprobe(&["tokens", "analyze", "/nonexistent/tokens.txt"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("cannot read /nonexistent/tokens.txt"),
        "{}",
        run.stderr
    );
    let run = authprobe(&["tokens", "analyze", tempfile("\n\n").to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("holds no tokens"), "{}", run.stderr);
}
