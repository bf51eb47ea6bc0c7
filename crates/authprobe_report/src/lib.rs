//! authprobe's emitters: one module per output format. Emitters only read a finished
//! [`authprobe_core::Report`]; they never probe and never see unredacted secrets.
//!
//! Formats that describe the whole catalog (SARIF rules, one JUnit test case per check)
//! receive it as data, a slice of [`RuleInfo`], so this crate does not depend on the checks.

pub mod diff;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod pretty;
pub mod sarif;

use authprobe_core::{Report, Severity};

/// The catalog entry of one check, as the emitters need it.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleInfo {
    /// The stable code, e.g. `JWT003`.
    pub code: String,
    /// The machine name, e.g. `jwt-weak-secret`.
    pub slug: String,
    pub title: String,
    /// The catalog severity (a finding may override it).
    pub severity: Severity,
    /// `CWE-NNN` identifiers.
    pub cwe: Vec<String>,
    /// OWASP API Security Top 10 (2023) categories.
    pub owasp: Vec<String>,
    /// The report category (family) the check belongs to, e.g. `jwt`.
    pub category: String,
    /// The check's documentation in Markdown (its doc comment).
    pub help_markdown: String,
}

/// The output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Pretty,
    Json,
    Sarif,
    Markdown,
    Junit,
    Html,
}

impl Format {
    /// Renders `report`; `rules` is the check catalog, `color` applies to `Pretty` only.
    pub fn render(self, report: &Report, rules: &[RuleInfo], color: bool) -> String {
        match self {
            Format::Pretty => pretty::render(report, color),
            Format::Json => json::render(report),
            Format::Sarif => sarif::render(report, rules),
            Format::Markdown => markdown::render(report),
            Format::Junit => junit::render(report, rules),
            Format::Html => html::render(report),
        }
    }

    /// The file this format is written to under `--output-dir`.
    pub fn file_name(self) -> &'static str {
        match self {
            Format::Pretty => "report.txt",
            Format::Json => "report.json",
            Format::Sarif => "report.sarif",
            Format::Markdown => "report.md",
            Format::Junit => "report.junit.xml",
            Format::Html => "report.html",
        }
    }
}

/// A fixed report and catalog for the emitters' snapshot tests.
#[cfg(test)]
pub(crate) mod testing {
    use super::RuleInfo;
    use authprobe_core::exchange::Evidence;
    use authprobe_core::report::*;
    use authprobe_core::{Confidence, Severity};

    pub(crate) fn sample() -> Report {
        Report {
            schema: SCHEMA.into(),
            tool: Tool {
                name: "authprobe".into(),
                version: "0.1.0".into(),
            },
            scan_id: None,
            target: TargetInfo {
                url: "http://127.0.0.1:8000/".into(),
            },
            started_at: "2026-11-23T10:00:00Z".into(),
            finished_at: "2026-11-23T10:00:02Z".into(),
            duration_ms: 2000,
            incomplete: false,
            incomplete_reason: None,
            stats: Stats {
                requests: 120,
                endpoints: 14,
                checks_run: 17,
                checks_total: 40,
                max_requests: 1500,
                methods: [("GET".to_string(), 110), ("POST".to_string(), 10)]
                    .into_iter()
                    .collect(),
                throttle: None,
                in_flight: None,
                exchanges_spilled: 0,
                exchanges_dropped: 0,
            },
            profile: "standard".into(),
            score: 80,
            grade: "B".into(),
            categories: vec![CategoryScore {
                name: "django".into(),
                score: Some(80),
            }],
            checks_skipped: vec![SkippedCheck {
                check: "TLS003".into(),
                reason: "plain HTTP".into(),
            }],
            findings: vec![
                ReportFinding {
                    check: "DJ001".into(),
                    slug: "django-debug".into(),
                    title: "Django DEBUG mode enabled".into(),
                    severity: Severity::High,
                    confidence: Confidence::Confirmed,
                    cwe: vec!["CWE-215".into()],
                    owasp: vec!["API8:2023 Security Misconfiguration".into()],
                    endpoint: "/x/".into(),
                    message: "<script>alert(1)</script> technical 404 page".into(),
                    evidence: vec![Evidence {
                        request: "GET /x/ HTTP/1.1".into(),
                        response: "HTTP/1.1 404 Not Found".into(),
                        curl: "curl -i 'http://127.0.0.1:8000/x/'".into(),
                        role: None,
                    }],
                    remediation: "Set `DEBUG = False` in production settings.".into(),
                    fingerprint: "0123456789abcdef0123456789abcdef".into(),
                    suppressed: false,
                    suppression_reason: None,
                    baseline: None,
                },
                ReportFinding {
                    check: "DJ002".into(),
                    slug: "django-admin-exposed".into(),
                    title: "Django admin exposed".into(),
                    severity: Severity::Info,
                    confidence: Confidence::Firm,
                    cwe: vec!["CWE-200".into()],
                    owasp: vec![],
                    endpoint: "http://127.0.0.1:8000/admin/login/?next=/admin/|x".into(),
                    message: "The admin login answers *anonymously* & [links](x) | pipes @team".into(),
                    evidence: vec![],
                    remediation: "Move the admin to a private network.".into(),
                    fingerprint: "fedcba9876543210fedcba9876543210".into(),
                    suppressed: false,
                    suppression_reason: None,
                    baseline: None,
                },
            ],
            identities: vec![IdentityInfo {
                label: "alice".into(),
                flow: "simplejwt".into(),
                session: true,
                logged_in: true,
                login_error: None,
                presentation: None,
            }],
            endpoints: vec![],
            flows: vec![],
            not_probed: vec![],
            spec: None,
            writes: None,
            baseline: None,
        }
    }

    fn rule(code: &str, slug: &str, title: &str, severity: Severity, cwe: &str, category: &str) -> RuleInfo {
        RuleInfo {
            code: code.into(),
            slug: slug.into(),
            title: title.into(),
            severity,
            cwe: vec![cwe.into()],
            owasp: vec!["API8:2023 Security Misconfiguration".into()],
            category: category.into(),
            help_markdown: format!("## What it does\n{title}.\n\n## Remediation\nFix <it> & \"quote\"."),
        }
    }

    /// A four-check catalog: one with a finding, one info-only, one skipped, one passed.
    pub(crate) fn rules() -> Vec<RuleInfo> {
        vec![
            rule(
                "DJ001",
                "django-debug",
                "Django DEBUG mode enabled",
                Severity::High,
                "CWE-215",
                "django",
            ),
            rule(
                "DJ002",
                "django-admin-exposed",
                "Django admin exposed",
                Severity::Info,
                "CWE-200",
                "django",
            ),
            rule(
                "TLS003",
                "hsts-weak",
                "HSTS missing or weak",
                Severity::Medium,
                "CWE-319",
                "transport",
            ),
            rule(
                "JWT001",
                "jwt-alg-none",
                "alg none accepted",
                Severity::Critical,
                "CWE-347",
                "jwt",
            ),
        ]
    }
}
