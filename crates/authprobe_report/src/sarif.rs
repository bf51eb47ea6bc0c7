//! `--format sarif`: a SARIF 2.1.0 log for code-scanning dashboards (GitHub, GitLab,
//! Azure DevOps). One run; the rules are the whole check catalog, so a dashboard can show
//! a check's documentation even for results it has not seen before, and each links its
//! page under `docs/checks/` in the repository.
//!
//! A scanned API has no source files: a result's artifact is the absolute URL of the
//! endpoint, at line 1, and the API path (with its method) is a logical location.

use authprobe_core::report::ReportFinding;
use authprobe_core::{Report, Severity};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use url::Url;

use crate::RuleInfo;

/// The `$schema` written into every log.
pub const SCHEMA_URI: &str =
    "https://raw.githubusercontent.com/oasis-tcs/sarif-spec/master/Schemata/sarif-schema-2.1.0.json";

/// The project's repository, from Cargo's `package.repository`: the tool's `informationUri`
/// and the root of every rule's `helpUri` (see [`help_uri`]).
pub const REPOSITORY: &str = env!("CARGO_PKG_REPOSITORY");

/// The `partialFingerprints` key; bump the suffix if the hashed fields ever change.
const FINGERPRINT_KEY: &str = "authprobeFinding/v1";

/// The `partialFingerprints` key of [`authprobe_core::baseline::fingerprint`], the identity
/// `--baseline` and `authprobe diff` match on.
const BASELINE_FINGERPRINT_KEY: &str = "authprobeFinding/v2";

/// Renders the SARIF log.
pub fn render(report: &Report, rules: &[RuleInfo]) -> String {
    let mut out = serde_json::to_string_pretty(&log(report, rules)).expect("a SARIF log always serializes");
    out.push('\n');
    out
}

/// The SARIF log as a JSON value.
pub fn log(report: &Report, rules: &[RuleInfo]) -> Value {
    let target = Url::parse(&report.target.url).ok().filter(is_web_url);
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| result(f, rules, target.as_ref()))
        .collect();
    let run = json!({
        "tool": {
            "driver": {
                "name": report.tool.name,
                "version": report.tool.version,
                "semanticVersion": report.tool.version,
                "informationUri": REPOSITORY,
                "rules": rules.iter().map(rule).collect::<Vec<_>>(),
            }
        },
        "results": results,
        "invocations": [{
            "executionSuccessful": true,
            "startTimeUtc": report.started_at,
            "endTimeUtc": report.finished_at,
            "toolExecutionNotifications": report.checks_skipped.iter().map(|s| json!({
                "level": "note",
                "message": { "text": format!("{} skipped: {}", s.check, s.reason) },
                "descriptor": { "id": s.check },
            })).collect::<Vec<_>>(),
        }],
        "properties": {
            "score": report.score,
            "grade": report.grade,
            "profile": report.profile,
        },
    });
    json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [run],
    })
}

/// The documentation of the check `code`: its generated page under `docs/checks/`.
pub fn help_uri(code: &str) -> String {
    format!("{}/blob/main/docs/checks/{code}.md", REPOSITORY.trim_end_matches('/'))
}

/// GitHub's `security-severity` score for a severity (its bands: ≥ 9 critical, ≥ 7 high,
/// ≥ 4 medium, > 0 low).
pub fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    }
}

/// The SARIF `level` of a severity.
pub fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

fn rule(info: &RuleInfo) -> Value {
    let mut tags: Vec<String> = vec!["security".into()];
    tags.extend(info.cwe.iter().cloned());
    tags.extend(info.owasp.iter().map(|o| format!("OWASP {o}")));
    json!({
        "id": info.code,
        "name": info.slug,
        "shortDescription": { "text": info.title },
        "fullDescription": { "text": first_paragraph(&info.help_markdown).unwrap_or(&info.title) },
        "help": { "text": info.help_markdown, "markdown": info.help_markdown },
        "helpUri": help_uri(&info.code),
        "defaultConfiguration": { "level": level(info.severity) },
        "properties": {
            "tags": tags,
            "security-severity": security_severity(info.severity),
        },
    })
}

/// The first paragraph of the `What it does` section, the rule's one-line description.
fn first_paragraph(doc: &str) -> Option<&str> {
    authprobe_core::check::doc_section(doc, "What it does")?
        .split("\n\n")
        .next()
        .map(str::trim)
        .filter(|p| !p.is_empty())
}

fn result(f: &ReportFinding, rules: &[RuleInfo], target: Option<&Url>) -> Value {
    let mut value = json!({
        "ruleId": f.check,
        "level": level(f.severity),
        "message": { "text": format!("{}: {}", f.title, f.message) },
        "locations": [location(f, target)],
        "partialFingerprints": { FINGERPRINT_KEY: fingerprint(&f.check, &f.endpoint) },
        "properties": {
            "severity": f.severity.as_str(),
            "security-severity": security_severity(f.severity),
            "confidence": f.confidence.as_str(),
            "cwe": f.cwe,
            "curl": f.evidence.iter().map(|e| e.curl.as_str()).collect::<Vec<_>>(),
        },
    });
    if let Some(index) = rules.iter().position(|r| r.code == f.check) {
        value["ruleIndex"] = json!(index);
    }
    if !f.fingerprint.is_empty() {
        // The baseline fingerprint: independent of the target's host and port.
        value["partialFingerprints"][BASELINE_FINGERPRINT_KEY] = json!(f.fingerprint);
    }
    if f.suppressed {
        value["suppressions"] = json!([{
            "kind": "external",
            "status": "accepted",
            "justification": f.suppression_reason.as_deref().unwrap_or(""),
        }]);
    }
    if let Some(state) = f.baseline {
        value["baselineState"] = json!(state.as_str());
    }
    value
}

/// Where a finding is. The artifact is the endpoint's absolute URL, at line 1 (code
/// scanning dashboards need a region, and a response has no meaningful lines); the API
/// path, with the method the evidence used on it, is the logical location. A finding
/// whose endpoint is no path (e.g. the `messages` cookie) is located at the target, with
/// its text as the logical location.
fn location(f: &ReportFinding, target: Option<&Url>) -> Value {
    let endpoint = endpoint_url(&f.endpoint, target);
    let logical = match &endpoint {
        Some(url) => {
            let path = path_and_query(url);
            let qualified = match method(f, url, target) {
                Some(method) => format!("{method} {path}"),
                None => path.clone(),
            };
            json!({ "name": path, "fullyQualifiedName": qualified, "kind": "resource" })
        }
        None => json!({ "name": f.endpoint, "fullyQualifiedName": f.endpoint, "kind": "resource" }),
    };
    let mut location = json!({ "logicalLocations": [logical] });
    if let Some(artifact) = endpoint.as_ref().or(target) {
        location["physicalLocation"] = json!({
            "artifactLocation": { "uri": uri_reference(artifact.as_str()) },
            "region": { "startLine": 1 },
        });
    }
    location
}

/// The endpoint as an absolute URL: an `http(s)` URL as it is, a path resolved against the
/// target, anything else (a cookie's name, a sentence) none.
fn endpoint_url(endpoint: &str, target: Option<&Url>) -> Option<Url> {
    if let Ok(url) = Url::parse(endpoint) {
        return Some(url).filter(is_web_url);
    }
    if !endpoint.starts_with('/') || endpoint.contains(char::is_whitespace) {
        return None;
    }
    target?.join(endpoint).ok()
}

fn is_web_url(url: &Url) -> bool {
    matches!(url.scheme(), "http" | "https") && url.has_host()
}

/// `/api/notes/1/?page=2`: the URL without its origin and fragment.
fn path_and_query(url: &Url) -> String {
    match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_string(),
    }
}

/// The method of the first piece of evidence that requested the endpoint (its request text
/// starts `METHOD URL`), if any did.
fn method<'a>(f: &'a ReportFinding, endpoint: &Url, target: Option<&Url>) -> Option<&'a str> {
    f.evidence.iter().find_map(|e| {
        let mut line = e.request.lines().next()?.split_whitespace();
        let method = line
            .next()
            .filter(|m| !m.is_empty() && m.bytes().all(|b| b.is_ascii_uppercase()))?;
        let requested = endpoint_url(line.next()?, target)?;
        let same = requested.origin() == endpoint.origin() && requested.path() == endpoint.path();
        same.then_some(method)
    })
}

/// Percent-encodes what RFC 3986 does not allow in a URI reference; the `url` crate leaves
/// some of it (`|`, `^`, `{`) as it is in queries and fragments.
fn uri_reference(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:/?#[]@!$&'()*+,;=%".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A stable identity for a finding across scans: the check and where it was found.
pub fn fingerprint(check: &str, endpoint: &str) -> String {
    let digest = Sha256::new()
        .chain_update(check.as_bytes())
        .chain_update([0u8])
        .chain_update(endpoint.as_bytes())
        .finalize();
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{rules, sample};

    fn sarif() -> Value {
        serde_json::from_str(&render(&sample(), &rules())).expect("SARIF output is JSON")
    }

    #[test]
    fn sarif_snapshot() {
        insta::assert_snapshot!(render(&sample(), &rules()));
    }

    #[test]
    fn sarif_has_the_required_top_level_keys() {
        let log = sarif();
        assert_eq!(log["version"], "2.1.0");
        assert_eq!(log["$schema"], SCHEMA_URI);
        assert_eq!(log["runs"].as_array().unwrap().len(), 1);
        let driver = &log["runs"][0]["tool"]["driver"];
        assert_eq!(driver["name"], "authprobe");
        assert_eq!(driver["version"], "0.1.0");
        assert!(driver["informationUri"].as_str().unwrap().starts_with("http"));
    }

    #[test]
    fn every_catalog_check_is_a_rule_with_tags_and_security_severity() {
        let log = sarif();
        let rules_out = log["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
        assert_eq!(rules_out.len(), rules().len());
        let dj001 = &rules_out[0];
        assert_eq!(dj001["id"], "DJ001");
        assert_eq!(dj001["properties"]["security-severity"], "8.0");
        let tags: Vec<&str> = dj001["properties"]["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        assert!(tags.contains(&"security") && tags.contains(&"CWE-215"), "{tags:?}");
        assert!(tags.iter().any(|t| t.starts_with("OWASP API8:2023")), "{tags:?}");
        assert_eq!(dj001["fullDescription"]["text"], "Django DEBUG mode enabled.");
    }

    #[test]
    fn every_result_is_at_an_absolute_url_line_1_with_its_api_path_as_a_logical_location() {
        let log = sarif();
        let run = &log["runs"][0];
        assert!(run.get("originalUriBaseIds").is_none());
        let results = run["results"].as_array().unwrap();
        assert!(!results.is_empty());
        for r in results {
            let location = &r["locations"][0];
            assert_eq!(location["physicalLocation"]["region"]["startLine"], 1, "{r}");
            let artifact = &location["physicalLocation"]["artifactLocation"];
            assert!(artifact.get("uriBaseId").is_none(), "{artifact}");
            let uri = Url::parse(artifact["uri"].as_str().unwrap()).expect("an absolute URI");
            assert!(matches!(uri.scheme(), "http" | "https"), "{uri}");
            let logical = &location["logicalLocations"][0];
            assert!(logical["name"].as_str().unwrap().starts_with('/'), "{logical}");
            assert_eq!(logical["kind"], "resource");
        }
        let first = &results[0];
        assert_eq!(first["ruleId"], "DJ001");
        assert_eq!(first["ruleIndex"], 0);
        assert_eq!(first["level"], "error");
        assert_eq!(
            first["locations"][0],
            json!({
                "physicalLocation": {
                    "artifactLocation": { "uri": "http://127.0.0.1:8000/x/" },
                    "region": { "startLine": 1 },
                },
                "logicalLocations": [{ "name": "/x/", "fullyQualifiedName": "GET /x/", "kind": "resource" }],
            })
        );
        // An absolute endpoint stays absolute; without evidence there is no method to name.
        let second = &results[1];
        assert_eq!(second["level"], "note");
        assert_eq!(
            second["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "http://127.0.0.1:8000/admin/login/?next=/admin/%7Cx"
        );
        assert_eq!(
            second["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
            "/admin/login/?next=/admin/|x"
        );
    }

    #[test]
    fn a_finding_that_is_no_path_is_located_at_the_target() {
        let mut report = sample();
        report.findings[0].endpoint = "the `messages` cookie".into();
        let log = super::log(&report, &rules());
        let location = &log["runs"][0]["results"][0]["locations"][0];
        assert_eq!(
            location["physicalLocation"]["artifactLocation"]["uri"],
            "http://127.0.0.1:8000/"
        );
        assert_eq!(location["physicalLocation"]["region"]["startLine"], 1);
        assert_eq!(
            location["logicalLocations"][0],
            json!({ "name": "the `messages` cookie", "fullyQualifiedName": "the `messages` cookie", "kind": "resource" })
        );
    }

    #[test]
    fn an_endpoint_on_another_origin_keeps_its_own_url() {
        let mut report = sample();
        report.target.url = "https://api.example.com/v1/".into();
        report.findings[0].endpoint = "http://api.example.com/login/".into();
        report.findings[0].evidence[0].request = "POST http://api.example.com/login/\n\nusername=a".into();
        let log = super::log(&report, &rules());
        let location = &log["runs"][0]["results"][0]["locations"][0];
        assert_eq!(
            location["physicalLocation"]["artifactLocation"]["uri"],
            "http://api.example.com/login/"
        );
        assert_eq!(location["logicalLocations"][0]["fullyQualifiedName"], "POST /login/");
    }

    #[test]
    fn the_method_is_the_one_the_evidence_used_on_the_endpoint() {
        let mut report = sample();
        let mut login = report.findings[0].evidence[0].clone();
        login.request = "POST http://127.0.0.1:8000/api/token/\nContent-Type: application/json\n\n{}".into();
        let mut read = login.clone();
        read.request = "GET http://127.0.0.1:8000/api/notes/1/?x=1\nAuthorization: Bearer [redacted:0a1b2c3d]\n".into();
        report.findings[0].endpoint = "/api/notes/1/".into();
        report.findings[0].evidence = vec![login, read];
        let log = super::log(&report, &rules());
        let logical = &log["runs"][0]["results"][0]["locations"][0]["logicalLocations"][0];
        assert_eq!(logical["name"], "/api/notes/1/");
        assert_eq!(logical["fullyQualifiedName"], "GET /api/notes/1/");
        // Evidence about other URLs names no method.
        report.findings[0].endpoint = "/api/other/".into();
        let log = super::log(&report, &rules());
        let logical = &log["runs"][0]["results"][0]["locations"][0]["logicalLocations"][0];
        assert_eq!(logical["fullyQualifiedName"], "/api/other/");
    }

    #[test]
    fn the_tool_and_every_rule_link_to_the_repository() {
        let repository = Url::parse(REPOSITORY).expect("package.repository is an absolute URL");
        assert!(matches!(repository.scheme(), "http" | "https"), "{REPOSITORY}");
        let log = sarif();
        let driver = &log["runs"][0]["tool"]["driver"];
        assert_eq!(driver["informationUri"], REPOSITORY);
        for rule in driver["rules"].as_array().unwrap() {
            let id = rule["id"].as_str().unwrap();
            assert_eq!(
                rule["helpUri"],
                format!("{}/blob/main/docs/checks/{id}.md", REPOSITORY.trim_end_matches('/'))
            );
        }
    }

    #[test]
    fn fingerprints_stay_those_of_the_endpoint_not_of_its_location() {
        let log = sarif();
        let first = &log["runs"][0]["results"][0]["partialFingerprints"];
        assert_eq!(first[FINGERPRINT_KEY], fingerprint("DJ001", "/x/"));
        assert_eq!(first[FINGERPRINT_KEY], "45be245ef2e9b7a750e05eeaa11ab280");
        assert_eq!(first[BASELINE_FINGERPRINT_KEY], "0123456789abcdef0123456789abcdef");
    }

    #[test]
    fn uris_are_percent_encoded_where_rfc_3986_requires() {
        assert_eq!(uri_reference("a/?next=/b|c^{d}"), "a/?next=/b%7Cc%5E%7Bd%7D");
        assert_eq!(uri_reference("x/%20y"), "x/%20y");
    }

    #[test]
    fn fingerprints_are_stable_and_distinguish_endpoints() {
        assert_eq!(fingerprint("DJ001", "/x/"), fingerprint("DJ001", "/x/"));
        assert_ne!(fingerprint("DJ001", "/x/"), fingerprint("DJ001", "/y/"));
        assert_ne!(fingerprint("DJ00", "1/x/"), fingerprint("DJ001", "/x/"));
        assert_eq!(fingerprint("DJ001", "/x/").len(), 32);
    }

    #[test]
    fn sarif_validates_against_the_official_schema() {
        // The shipped schema is verbatim; its `language` pattern has a stray `]` that only
        // ECMAScript regex engines forgive, so it is repaired here before compiling.
        let text = include_str!("../schemas/sarif-schema-2.1.0.json").replace(
            r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$""#,
            r#""^[a-zA-Z]{2}(-[a-zA-Z]{2})?$""#,
        );
        let schema: Value = serde_json::from_str(&text).expect("the schema is JSON");
        // `format` is asserted: `informationUri` and `helpUri` must be URIs.
        let validator = jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .expect("the schema compiles");
        let errors_of = |log: &Value| -> Vec<String> {
            validator
                .iter_errors(log)
                .map(|e| format!("{} at {}", e, e.instance_path()))
                .collect()
        };
        let log = sarif();
        assert!(errors_of(&log).is_empty(), "{:#?}", errors_of(&log));
        // A non-URL endpoint, with and without a usable target, is valid too.
        let mut report = sample();
        report.findings.truncate(1);
        report.findings[0].endpoint = "the `messages` cookie".into();
        let other = super::log(&report, &rules());
        assert!(errors_of(&other).is_empty(), "{:#?}", errors_of(&other));
        report.target.url = "not a url".into();
        let other = super::log(&report, &rules());
        assert!(errors_of(&other).is_empty(), "{:#?}", errors_of(&other));
        assert!(other["runs"][0]["results"][0]["locations"][0]
            .get("physicalLocation")
            .is_none());
        // A report without findings.
        let mut report = sample();
        report.findings.clear();
        let empty = super::log(&report, &rules());
        assert!(errors_of(&empty).is_empty(), "{:#?}", errors_of(&empty));
        // Suppressions and baseline states use SARIF's own properties.
        let mut report = sample();
        report.findings[0].suppressed = true;
        report.findings[0].suppression_reason = Some("accepted until the key rotates".into());
        report.findings[1].baseline = Some(authprobe_core::report::BaselineState::New);
        let marked = super::log(&report, &rules());
        assert!(errors_of(&marked).is_empty(), "{:#?}", errors_of(&marked));
        let results = &marked["runs"][0]["results"];
        assert_eq!(results[0]["suppressions"][0]["status"], "accepted");
        assert_eq!(
            results[0]["suppressions"][0]["justification"],
            "accepted until the key rotates"
        );
        assert_eq!(results[1]["baselineState"], "new");
        assert!(results[1].get("suppressions").is_none());
    }
}
