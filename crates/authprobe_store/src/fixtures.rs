//! Builders of well-formed reports for tests and benchmarks of the store and the
//! dashboard (a real scan needs the testbed; these need nothing).

use authprobe_core::exchange::Evidence;
use authprobe_core::report::{CategoryScore, ReportFinding, Stats, TargetInfo, Tool, SCHEMA};
use authprobe_core::{Confidence, Report, Severity};

/// A finding of `check` on `endpoint` with `message`; evidence and remediation quote the
/// message so target-controlled text reaches every field a page shows.
pub fn finding(check: &str, severity: Severity, endpoint: &str, message: &str) -> ReportFinding {
    ReportFinding {
        check: check.into(),
        slug: format!("{}-slug", check.to_lowercase()),
        title: format!("{check} title"),
        severity,
        confidence: Confidence::Confirmed,
        cwe: vec!["CWE-287".into()],
        owasp: vec!["API2:2023".into()],
        endpoint: endpoint.into(),
        message: message.into(),
        evidence: vec![Evidence {
            request: format!("GET {endpoint}\n"),
            response: format!("HTTP/1.1 200 OK\nserver: {message}\n\n{message}"),
            curl: format!("curl -i '{endpoint}'"),
            role: None,
        }],
        remediation: format!("Fix {check}."),
        fingerprint: String::new(),
        suppressed: false,
        suppression_reason: None,
        baseline: None,
    }
}

/// A report on `target` with `score` (grade derived) and `findings`, started at
/// `started_at` (RFC 3339).
pub fn report(target: &str, score: u8, started_at: &str, findings: Vec<ReportFinding>) -> Report {
    Report {
        schema: SCHEMA.into(),
        tool: Tool {
            name: "authprobe".into(),
            version: "test".into(),
        },
        scan_id: None,
        target: TargetInfo { url: target.into() },
        started_at: started_at.into(),
        finished_at: started_at.into(),
        duration_ms: 1000,
        incomplete: false,
        incomplete_reason: None,
        profile: "standard".into(),
        stats: Stats {
            requests: 100,
            endpoints: 10,
            checks_run: 40,
            checks_total: 50,
            max_requests: 1500,
            methods: Default::default(),
            throttle: None,
            in_flight: None,
            exchanges_spilled: 0,
            exchanges_dropped: 0,
        },
        score,
        grade: authprobe_core::score::grade(score).to_string(),
        categories: ["authentication", "jwt", "session", "transport"]
            .iter()
            .enumerate()
            .map(|(i, name)| CategoryScore {
                name: (*name).into(),
                score: Some(score.saturating_add(i as u8 * 3).min(100)),
            })
            .collect(),
        checks_skipped: vec![],
        findings,
        identities: vec![],
        endpoints: vec![],
        flows: vec![],
        not_probed: vec![],
        spec: None,
        writes: None,
        baseline: None,
    }
}

/// A fresh, empty Postgres database for one test, or `None` without a test server.
///
/// `AUTHPROBE_TEST_POSTGRES` names a server where the user may create databases (`.ci/run`
/// starts a throwaway cluster and sets it); each call drops and creates the database
/// `NAME_PID`. With `AUTHPROBE_REQUIRE_POSTGRES=1` a missing server is a failure, not a skip.
pub fn fresh_postgres(name: &str) -> Option<crate::Location> {
    let Some(admin) = std::env::var("AUTHPROBE_TEST_POSTGRES").ok().filter(|v| !v.is_empty()) else {
        assert!(
            std::env::var("AUTHPROBE_REQUIRE_POSTGRES").ok().as_deref() != Some("1"),
            "AUTHPROBE_REQUIRE_POSTGRES=1 but AUTHPROBE_TEST_POSTGRES is not set"
        );
        return None;
    };
    let db: String = format!("{name}_{}", std::process::id())
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    let mut client = crate::location::connect_postgres(&admin)
        .unwrap_or_else(|e| panic!("cannot connect to AUTHPROBE_TEST_POSTGRES: {e}"));
    client.batch_execute(&format!("DROP DATABASE IF EXISTS {db}")).unwrap();
    client.batch_execute(&format!("CREATE DATABASE {db}")).unwrap();
    let mut url = url::Url::parse(&admin).expect("AUTHPROBE_TEST_POSTGRES is a URL");
    url.set_path(&db);
    Some(crate::Location::Postgres(url.to_string()))
}
