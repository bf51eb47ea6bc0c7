//! The hardened testbed scans clean; all flaws at once yield every implemented code.

use crate::util::{flaws_table, found_codes, implemented_codes, scan, skipped_codes, Testbed, ALICE};
use std::collections::BTreeSet;
use std::time::Duration;

#[test]
fn hardened_testbed_scans_clean_with_grade_a() {
    let bed = Testbed::shared("none", false);
    let run = scan(&bed, &["--fail-on", "low"]);
    let report = run.report();
    assert_eq!(
        found_codes(&report),
        BTreeSet::new(),
        "findings on the hardened testbed: {}",
        report["findings"]
    );
    assert_eq!(report["grade"], "A");
    assert_eq!(report["score"], 100);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // Transport checks say why they did not run on a plain-HTTP loopback server.
    let skipped = skipped_codes(&report);
    for code in ["TLS001", "TLS002", "TLS003"] {
        assert!(
            skipped.contains(code),
            "{code} should be skipped over plain-HTTP loopback: {skipped:?}"
        );
    }
}

#[test]
fn hardened_testbed_with_a_mailbox_scans_clean_and_tests_password_recovery() {
    // Its own testbed: it mails the scan's SMTP sink, and the reset link is used (with
    // alice's own password) under --allow-password-change.
    let log = crate::util::access_log("mailbox-hardened");
    let mail_to = format!("127.0.0.1:{}", crate::util::free_port());
    let bed = Testbed::start_with(
        "none",
        false,
        &["--access-log", log.to_str().unwrap(), "--mail-to", &mail_to],
    );
    let out = std::env::temp_dir().join(format!("authprobe-e2e-mailbox-out-{}", std::process::id()));
    let db = std::env::temp_dir().join(format!("authprobe-e2e-mailbox-{}.db", std::process::id()));
    let (out_arg, db_arg) = (out.to_string_lossy().into_owned(), db.to_string_lossy().into_owned());
    let run = scan(
        &bed,
        &[
            "--fail-on",
            "low",
            "--allow-password-change",
            "--debug",
            "--format",
            "json,html,markdown,sarif,junit",
            "--output-dir",
            &out_arg,
            "--db",
            &db_arg,
        ],
    );
    let written = std::fs::read_to_string(out.join("report.json")).unwrap_or_else(|e| panic!("{e}: {}", run.stderr));
    let report: serde_json::Value = serde_json::from_str(&written).unwrap();
    assert_eq!(
        found_codes(&report),
        BTreeSet::new(),
        "findings on the hardened testbed: {}",
        report["findings"]
    );
    assert!(
        !skipped_codes(&report).contains("PASS002"),
        "PASS002 did not run: {}",
        report["checks_skipped"]
    );
    let confirm = report["flows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["role"] == "password_reset_confirm")
        .unwrap_or_else(|| panic!("the mailed set-password form is not a flow: {}", report["flows"]));
    assert_eq!(confirm["source"], "mail");
    assert_eq!(run.code, 0, "{}", run.stderr);

    // No mailed token and no e-mail text in the report, any output file, the debug log or
    // the stored scan. The mailed token is the one opened twice (the tampered one, once).
    let mut opened: std::collections::HashMap<String, usize> = Default::default();
    for (method, path) in crate::util::access_log_lines(&log) {
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        if method == "GET" && parts.len() == 3 && parts[0] == "reset" && parts[2] != "set-password" {
            *opened.entry(parts[2].to_string()).or_default() += 1;
        }
    }
    let tokens: Vec<&String> = opened.iter().filter(|(_, n)| **n >= 2).map(|(t, _)| t).collect();
    assert!(!tokens.is_empty(), "no reset link was opened: {opened:?}");
    let mut texts = vec![
        ("stdout".to_string(), run.stdout.clone()),
        ("stderr".to_string(), run.stderr.clone()),
    ];
    for entry in std::fs::read_dir(&out).expect("the output dir").flatten() {
        let bytes = std::fs::read(entry.path()).unwrap();
        texts.push((
            entry.path().display().to_string(),
            String::from_utf8_lossy(&bytes).into_owned(),
        ));
    }
    for file in [db.clone(), db.with_extension("db-wal")] {
        if let Ok(bytes) = std::fs::read(&file) {
            texts.push((file.display().to_string(), String::from_utf8_lossy(&bytes).into_owned()));
        }
    }
    assert!(
        texts.len() > 4,
        "the outputs were not written: {:?}",
        texts.iter().map(|t| &t.0).collect::<Vec<_>>()
    );
    for (name, text) in &texts {
        for token in &tokens {
            assert!(!text.contains(token.as_str()), "a reset token reached {name}");
        }
        assert!(
            !text.contains("Someone (hopefully you)"),
            "the reset e-mail's text reached {name}"
        );
    }

    // alice's password is the one she had: a scan without a mailbox logs her in.
    let again = scan(&bed, &[]);
    assert_eq!(again.report()["identities"][0]["logged_in"], true, "{}", again.stderr);
}

#[test]
fn hardened_tls_testbed_scans_clean_with_every_transport_check_run() {
    let bed = Testbed::shared("none", true);
    let run = scan(&bed, &["--fail-on", "low"]);
    let report = run.report();
    assert_eq!(
        found_codes(&report),
        BTreeSet::new(),
        "findings on the hardened TLS testbed: {}",
        report["findings"]
    );
    assert_eq!(report["grade"], "A");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let skipped = skipped_codes(&report);
    for code in ["TLS001", "TLS002", "TLS003", "TLS004"] {
        assert!(
            !skipped.contains(code),
            "{code} was skipped on the TLS testbed: {}",
            report["checks_skipped"]
        );
    }
}

#[test]
fn all_flaws_at_once_yield_every_implemented_code() {
    let flaws = flaws_table();
    let implemented = implemented_codes();
    let expected_plain: BTreeSet<String> = flaws
        .values()
        .filter(|f| !f.get("tls").and_then(|t| t.as_bool()).unwrap_or(false))
        .flat_map(|f| {
            f["codes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_str().unwrap().to_string())
        })
        .filter(|c| implemented.contains(c))
        .collect();
    // Its own testbed: the opt-in SESS005 changes alice's password during this scan, and
    // the testbed mails the scan's SMTP sink (PASS002).
    let bed = Testbed::start_mailing("all", true);
    let report = scan(
        &bed,
        &["--allow-password-change", "--allow-writes", "--environment", "staging"],
    )
    .report();
    let found = found_codes(&report);
    let expected_all: BTreeSet<String> = flaws
        .values()
        .flat_map(|f| {
            f["codes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_str().unwrap().to_string())
        })
        .filter(|c| implemented.contains(c))
        .collect();
    let missing: Vec<_> = expected_all.difference(&found).collect();
    assert!(
        missing.is_empty(),
        "--flaws all (TLS) missed {missing:?}; skipped: {}",
        report["checks_skipped"]
    );
    assert!(expected_plain.is_subset(&expected_all));
    assert!(
        report["score"].as_u64().unwrap() < 60,
        "a fully flawed API must fail: {}",
        report["score"]
    );
}

#[test]
fn the_json_report_keeps_the_v1_contract_and_no_secret() {
    let bed = Testbed::shared("none", false);
    let run = scan(&bed, &[]);
    let report = run.report();
    assert_eq!(report["schema"], "authprobe.report/v1");
    assert_eq!(report["tool"]["name"], "authprobe");
    assert_eq!(report["target"]["url"], bed.url.as_str());
    for key in [
        "started_at",
        "finished_at",
        "duration_ms",
        "score",
        "grade",
        "categories",
        "checks_skipped",
        "findings",
    ] {
        assert!(report.get(key).is_some(), "missing key {key}");
    }
    let requests = report["stats"]["requests"].as_u64().unwrap();
    assert!(requests > 20 && requests <= 1500, "stats.requests = {requests}");
    assert!(report["stats"]["endpoints"].as_u64().unwrap() >= 5);
    for category in report["categories"].as_array().unwrap() {
        assert!(category["name"].is_string() && category["score"].is_u64());
    }
    for skipped in report["checks_skipped"].as_array().unwrap() {
        assert!(!skipped["reason"].as_str().unwrap().is_empty());
    }
    let password = ALICE.split(':').nth(1).unwrap();
    assert!(
        !run.stdout.contains(password) && !run.stderr.contains(password),
        "the password leaked into the output"
    );
    assert!(!run.stdout.contains("bob-pass-2"));
    assert_eq!(report["identities"][0]["label"], "alice");
    // "A scan of the testbed with default settings finishes in a few seconds."
    assert!(run.elapsed < Duration::from_secs(30), "scan took {:?}", run.elapsed);
}

#[test]
fn findings_carry_evidence_with_a_redacted_curl() {
    let bed = Testbed::shared("all", true);
    let run = scan(&bed, &[]);
    let report = run.report();
    for finding in report["findings"].as_array().unwrap() {
        for key in [
            "check",
            "slug",
            "title",
            "severity",
            "confidence",
            "cwe",
            "owasp",
            "endpoint",
            "message",
            "evidence",
            "remediation",
        ] {
            assert!(finding.get(key).is_some(), "finding lacks {key}: {finding}");
        }
        assert!(!finding["remediation"].as_str().unwrap().is_empty());
        let evidence = finding["evidence"].as_array().unwrap();
        assert!(!evidence.is_empty(), "finding without evidence: {finding}");
        assert!(evidence[0]["curl"].as_str().unwrap().starts_with("curl "));
    }
    for secret in ["alice-pass-1", "bob-pass-2"] {
        assert!(!run.stdout.contains(secret), "{secret} leaked into the report");
    }
    // No signed JWT (header.payload.signature) obtained during the scan reaches the report.
    let jwt = regex_lite_jwt(&run.stdout);
    assert!(
        jwt.is_none(),
        "a signed JWT leaked into the report: {}",
        jwt.unwrap_or_default()
    );
}

/// The first `eyJ….eyJ….sig` in `text` with a non-empty signature, if any.
fn regex_lite_jwt(text: &str) -> Option<String> {
    let is_b64 = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    text.match_indices("eyJ").find_map(|(start, _)| {
        let candidate: String = text[start..].chars().take_while(|c| is_b64(*c) || *c == '.').collect();
        let parts: Vec<&str> = candidate.split('.').collect();
        (parts.len() == 3 && parts[1].starts_with("eyJ") && parts[2].len() >= 16).then_some(candidate)
    })
}
