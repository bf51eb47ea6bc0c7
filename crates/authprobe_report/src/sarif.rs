//! `--format sarif`: a SARIF 2.1.0 log for code-scanning dashboards (GitHub, GitLab,
//! Azure DevOps). One run; the rules are the whole check catalog, so a dashboard can show
//! a check's documentation even for results it has not seen before.

use authprobe_core::report::ReportFinding;
use authprobe_core::{Report, Severity};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use url::Url;

use crate::RuleInfo;

/// The `$schema` written into every log.
pub const SCHEMA_URI: &str =
    "https://raw.githubusercontent.com/oasis-tcs/sarif-spec/master/Schemata/sarif-schema-2.1.0.json";

/// The `originalUriBaseIds` key endpoints are relative to: the scanned target.
pub const TARGET_BASE_ID: &str = "TARGET";

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
    let base = target_base(&report.target.url);
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| result(f, rules, base.as_ref()))
        .collect();
    let mut run = json!({
        "tool": {
            "driver": {
                "name": report.tool.name,
                "version": report.tool.version,
                "semanticVersion": report.tool.version,
                "informationUri": env!("CARGO_PKG_REPOSITORY"),
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
    if let Some(base) = &base {
        run["originalUriBaseIds"] = json!({ TARGET_BASE_ID: { "uri": base.as_str() } });
    }
    json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [run],
    })
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

fn result(f: &ReportFinding, rules: &[RuleInfo], base: Option<&Url>) -> Value {
    let mut value = json!({
        "ruleId": f.check,
        "level": level(f.severity),
        "message": { "text": format!("{}: {}", f.title, f.message) },
        "locations": [location(&f.endpoint, base)],
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

/// The finding's endpoint as a location: relative to the target when it lives under it,
/// absolute when it is elsewhere (e.g. the plain-HTTP origin), logical when it is no URL.
fn location(endpoint: &str, base: Option<&Url>) -> Value {
    let resolved = match base {
        Some(base) => base.join(endpoint).ok(),
        None => Url::parse(endpoint).ok(),
    };
    let Some(url) = resolved else {
        return json!({ "logicalLocations": [{ "name": endpoint, "kind": "resource" }] });
    };
    let mut artifact = Map::new();
    match base.and_then(|b| url.as_str().strip_prefix(b.as_str())) {
        Some(relative) => {
            let relative = if relative.is_empty() { "./" } else { relative };
            artifact.insert("uri".into(), json!(uri_reference(relative)));
            artifact.insert("uriBaseId".into(), json!(TARGET_BASE_ID));
        }
        None => {
            artifact.insert("uri".into(), json!(uri_reference(url.as_str())));
        }
    }
    json!({ "physicalLocation": { "artifactLocation": artifact } })
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

/// The target as a base URI: SARIF requires base URIs to end with a slash.
fn target_base(target: &str) -> Option<Url> {
    let mut url = Url::parse(target).ok()?;
    url.set_query(None);
    url.set_fragment(None);
    if !url.path().ends_with('/') {
        url = url.join("./").ok()?;
    }
    Some(url)
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
    fn results_point_at_the_endpoint_relative_to_the_target() {
        let log = sarif();
        let run = &log["runs"][0];
        assert_eq!(run["originalUriBaseIds"]["TARGET"]["uri"], "http://127.0.0.1:8000/");
        let first = &run["results"][0];
        assert_eq!(first["ruleId"], "DJ001");
        assert_eq!(first["ruleIndex"], 0);
        assert_eq!(first["level"], "error");
        let artifact = &first["locations"][0]["physicalLocation"]["artifactLocation"];
        assert_eq!(artifact["uri"], "x/");
        assert_eq!(artifact["uriBaseId"], "TARGET");
        // An absolute endpoint under the target is made relative too.
        let second = &run["results"][1];
        assert_eq!(second["level"], "note");
        let uri = second["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap();
        assert!(uri.starts_with("admin/login/?next="), "{uri}");
    }

    #[test]
    fn endpoints_elsewhere_stay_absolute() {
        let base = target_base("https://api.example.com/v1/").unwrap();
        let loc = location("http://api.example.com/login/", Some(&base));
        assert_eq!(
            loc["physicalLocation"]["artifactLocation"],
            json!({ "uri": "http://api.example.com/login/" })
        );
        assert_eq!(
            target_base("https://api.example.com/v1/users?x=1").unwrap().as_str(),
            "https://api.example.com/v1/"
        );
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
        let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
        let log = sarif();
        let errors: Vec<String> = validator
            .iter_errors(&log)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{errors:#?}");
        // A report without findings and a non-URL endpoint are valid too.
        let mut report = sample();
        report.findings.truncate(1);
        report.findings[0].endpoint = "session cookie".into();
        let other = log_without_base(&report);
        let errors: Vec<String> = validator.iter_errors(&other).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{errors:#?}");
        // Suppressions and baseline states use SARIF's own properties.
        let mut report = sample();
        report.findings[0].suppressed = true;
        report.findings[0].suppression_reason = Some("accepted until the key rotates".into());
        report.findings[1].baseline = Some(authprobe_core::report::BaselineState::New);
        let marked = super::log(&report, &rules());
        let errors: Vec<String> = validator.iter_errors(&marked).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{errors:#?}");
        let results = &marked["runs"][0]["results"];
        assert_eq!(results[0]["suppressions"][0]["status"], "accepted");
        assert_eq!(
            results[0]["suppressions"][0]["justification"],
            "accepted until the key rotates"
        );
        assert_eq!(results[1]["baselineState"], "new");
        assert!(results[1].get("suppressions").is_none());
    }

    fn log_without_base(report: &Report) -> Value {
        let mut r = report.clone();
        r.target.url = "not a url".into();
        super::log(&r, &rules())
    }
}
