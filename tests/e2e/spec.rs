//! OpenAPI-driven scans: the testbed's own drf-spectacular schema drives a scan with no
//! path guessing; hand-written specs (3.1 YAML, Swagger 2.0 JSON) are compared with what the
//! server enforces; broken specs are clear errors.

use serde_json::Value;
use std::collections::BTreeSet;

use crate::util::{expected_codes, found_codes, implemented_codes, repo_root, scan, Testbed};

/// Flaws that live on API endpoints (not on tokens, sessions or transport): the spec's
/// operations alone must lead the scan to each of them.
const ENDPOINT_FLAWS: &[&str] = &[
    "missing_auth",
    "bola",
    "enumerable_ids",
    "invalid_token_accepted",
    "query_token",
    "method_bypass",
    "no_www_authenticate",
    "token_in_error",
    "cors_reflect",
    "verbose_errors",
];

fn fixture(name: &str) -> String {
    repo_root()
        .join("tests/e2e/fixtures")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn endpoint_paths(report: &Value) -> BTreeSet<String> {
    report["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| url::Url::parse(e["url"].as_str().unwrap()).unwrap().path().to_string())
        .collect()
}

#[test]
fn the_testbeds_own_spec_drives_a_scan_that_finds_every_endpoint_level_flaw() {
    let bed = Testbed::start_with(&ENDPOINT_FLAWS.join(","), false, &[]);
    let spec = format!("{}api/schema/", bed.url);
    let run = scan(&bed, &["--spec", &spec]);
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    let report = run.report();
    assert_eq!(report["spec"]["origin"], "given", "{}", report["spec"]);
    assert_eq!(report["spec"]["version"], "openapi-3.0");
    // No guessing: none of discovery's common paths that the API lacks was requested.
    let paths = endpoint_paths(&report);
    for guess in [
        "/api/v1/",
        "/openapi.json",
        "/swagger.json",
        "/api/users/me/",
        "/dj-rest-auth/login/",
    ] {
        assert!(!paths.contains(guess), "{guess} was guessed: {paths:?}");
    }
    let implemented = implemented_codes();
    let expected: BTreeSet<String> = ENDPOINT_FLAWS
        .iter()
        .flat_map(|f| expected_codes(f).0)
        .filter(|c| implemented.contains(c))
        .collect();
    let found = found_codes(&report);
    let missed: Vec<&String> = expected.difference(&found).collect();
    assert!(
        missed.is_empty(),
        "missed {missed:?}; found {found:?}\nskipped: {}",
        report["checks_skipped"]
    );
}

#[test]
fn a_hand_written_openapi_31_spec_is_checked_against_the_server() {
    let bed = Testbed::shared("none", false);
    let spec = fixture("hand-written-openapi31.yaml");
    let run = scan(&bed, &["--spec", &spec]);
    let report = run.report();
    assert_eq!(report["spec"]["version"], "openapi-3.1");
    let findings = report["findings"].as_array().unwrap();
    let at = |code: &str, path: &str| {
        findings
            .iter()
            .find(|f| f["check"] == code && f["endpoint"] == path)
            .unwrap_or_else(|| panic!("no {code} at {path}: {findings:#?}"))
    };
    // Declared secured, served to anyone: missing authentication, proven.
    let open = at("AUTH001", "/api/posts/");
    assert_eq!(open["confidence"], "confirmed");
    // Declared public, but authenticated and personal: drift, informational.
    let drift = at("SPEC001", "/api/me/");
    assert_eq!(drift["severity"], "info");
    // The templated note path was filled with an id the API listed.
    assert!(
        endpoint_paths(&report)
            .iter()
            .any(|p| p.starts_with("/api/notes/") && p.len() > "/api/notes/".len()),
        "{:?}",
        endpoint_paths(&report)
    );
}

#[test]
fn a_swagger_2_spec_drives_the_inventory() {
    let bed = Testbed::shared("none", false);
    let spec = fixture("swagger2.json");
    let run = scan(&bed, &["--spec", &spec]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.report();
    assert_eq!(report["spec"]["version"], "swagger-2.0");
    assert_eq!(report["spec"]["operations"], 4);
    let paths = endpoint_paths(&report);
    assert!(paths.contains("/api/me/") && paths.contains("/api/token/"), "{paths:?}");
    // The hardened server matches this spec: nothing to report.
    assert!(found_codes(&report).is_empty(), "{:#}", report["findings"]);
}

#[test]
fn a_broken_ref_or_invalid_yaml_is_a_clear_error_naming_the_location() {
    let bed = Testbed::shared("none", false);
    let run = scan(&bed, &["--spec", &fixture("broken-ref.yaml")]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("#/components/parameters/NoteIdentifier")
            && run.stderr.contains("$.paths./api/notes/{id}/.get.parameters[0]"),
        "{}",
        run.stderr
    );
    let run = scan(&bed, &["--spec", &fixture("invalid.yaml")]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("invalid.yaml:") && run.stderr.contains("line 5"),
        "{}",
        run.stderr
    );
    let run = scan(&bed, &["--spec", "/nonexistent/openapi.yaml"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("cannot read the spec /nonexistent/openapi.yaml"),
        "{}",
        run.stderr
    );
}
