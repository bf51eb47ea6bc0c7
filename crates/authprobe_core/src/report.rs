//! The finished scan, in the `authprobe.report/v1` shape every emitter and tool reads.
//! Keys documented in DESIGN.md are stable; new keys may be added, never renamed.

use serde::{Deserialize, Serialize};

use crate::exchange::Evidence;
use crate::finding::{Confidence, Severity};
use crate::score::{grade, score, Scored};

pub const SCHEMA: &str = "authprobe.report/v1";

/// A fresh random (version 4) UUID for a report's `scan_id`.
pub fn new_scan_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Report {
    pub schema: String,
    pub tool: Tool,
    /// A UUID naming this scan wherever its report goes: a dashboard that receives the same
    /// upload twice stores it once. Absent in reports of older versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scan_id: Option<String>,
    pub target: TargetInfo,
    pub started_at: String,
    pub finished_at: String,
    pub duration_ms: u64,
    /// `true` when the scan was stopped before it finished (Ctrl-C, SIGTERM): the findings
    /// are those made until then, and the checks that had not finished are in
    /// `checks_skipped` with the reason. An incomplete scan never passes the CLI's gate.
    #[serde(default)]
    pub incomplete: bool,
    /// Why the scan is incomplete, e.g. `interrupted by SIGTERM`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incomplete_reason: Option<String>,
    /// The profile the scan ran with (`safe`, `standard`, `thorough`).
    #[serde(default)]
    pub profile: String,
    pub stats: Stats,
    pub score: u8,
    pub grade: String,
    pub categories: Vec<CategoryScore>,
    pub checks_skipped: Vec<SkippedCheck>,
    pub findings: Vec<ReportFinding>,
    /// Who the scan acted as (labels only, never credentials) and through which flow.
    #[serde(default)]
    pub identities: Vec<IdentityInfo>,
    /// Every endpoint the scan knew, with its anonymous status.
    #[serde(default)]
    pub endpoints: Vec<EndpointInfo>,
    /// The login/refresh/logout/password-change/identity flows the scan knew, where each
    /// came from (configured or detected) and whether it was used.
    #[serde(default)]
    pub flows: Vec<FlowLine>,
    /// Routes the scan knew of (links, spec operations) and did not request on purpose,
    /// with the reason: a GET there would change state (`GET /createdb`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_probed: Vec<NotProbedInfo>,
    /// The OpenAPI/Swagger spec the scan used, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<SpecInfo>,
    /// What the write probes created and whether they removed it (absent unless
    /// `--allow-writes`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub writes: Option<crate::writes::WritesInfo>,
    /// How this scan compares with `--baseline FILE` (absent without one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineSummary>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SpecInfo {
    /// File path or URL.
    pub source: String,
    /// `swagger-2.0`, `openapi-3.0` or `openapi-3.1`.
    pub version: String,
    pub operations: usize,
    /// `given` (`--spec`: the inventory came from it alone) or `discovered` (served by the
    /// target and added to discovery).
    pub origin: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FlowLine {
    /// `login`, `refresh`, `logout`, `password_change` or `identity`.
    pub role: String,
    /// `simplejwt`, `authtoken`, `dj-rest-auth`, `knox`, `django-form`, `django-admin`,
    /// `custom`, `linked` (a logout the API links to) or `configured`.
    pub family: String,
    pub endpoint: String,
    /// `configured` or `detected`.
    pub source: String,
    pub used: bool,
}

/// The comparison with a baseline report: what the `--baseline` gate looked at.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BaselineSummary {
    /// The baseline's score.
    pub score: u8,
    /// Findings not in the baseline (the only ones `--fail-on` counts).
    pub new: usize,
    /// Findings also in the baseline.
    pub unchanged: usize,
    /// Baseline findings this scan no longer reports.
    pub resolved: usize,
}

/// Whether a finding was already in the baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BaselineState {
    New,
    Unchanged,
}

impl BaselineState {
    pub fn as_str(self) -> &'static str {
        match self {
            BaselineState::New => "new",
            BaselineState::Unchanged => "unchanged",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TargetInfo {
    pub url: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Stats {
    pub requests: usize,
    pub endpoints: usize,
    #[serde(default)]
    pub checks_run: usize,
    /// Checks in the catalog this scan ran with: `checks_run` of `checks_total` ran.
    #[serde(default)]
    pub checks_total: usize,
    #[serde(default)]
    pub max_requests: usize,
    /// Requests sent per HTTP method (the method policy, as it was applied).
    #[serde(default)]
    pub methods: std::collections::BTreeMap<String, usize>,
    /// What the scan met of the target's throttle (429s waited out or left standing);
    /// absent when it met none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttle: Option<crate::throttle::ThrottleReport>,
    /// How busy the scan kept the target: requests in flight on average over its wall
    /// time, and the share of it with none. Absent in older reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_flight: Option<crate::in_flight::InFlightStats>,
    /// Recorded exchanges moved out of memory to a temporary spill file (a scan of more
    /// than 2,048 requests); they stay available as evidence. Absent when none were.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub exchanges_spilled: usize,
    /// Recorded exchanges not kept at all, because the spill file could not be written or
    /// reached its 2 GiB cap: a finding that cited one lists less evidence. Absent when
    /// none were.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub exchanges_dropped: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CategoryScore {
    pub name: String,
    /// `null` when none of the category's checks ran: not tested, which is not 100.
    pub score: Option<u8>,
}

impl CategoryScore {
    /// The score as reports print it: `87`, or `not tested`.
    pub fn label(&self) -> String {
        match self.score {
            Some(s) => s.to_string(),
            None => "not tested".to_string(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SkippedCheck {
    pub check: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct IdentityInfo {
    pub label: String,
    /// The login flow's family (`simplejwt`, `authtoken`, `dj-rest-auth`, `knox`,
    /// `django-form`, `configured`, …), or `bearer` for a supplied token.
    pub flow: String,
    /// Whether a Django session was also obtained through the form login.
    pub session: bool,
    /// Whether the identity authenticated; a failed login is listed with `false`.
    #[serde(default = "yes")]
    pub logged_in: bool,
    /// Why the login failed (redacted), when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_error: Option<String>,
    /// How its credential is sent (`Authorization: JWT`, `X-API-Key header`), if a token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presentation: Option<String>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NotProbedInfo {
    pub method: String,
    pub path: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EndpointInfo {
    pub url: String,
    pub kind: String,
    /// The anonymous GET status, or `null` when it failed.
    pub status: Option<u16>,
    /// Why the anonymous GET failed (the per-endpoint error), or, next to a status, why its
    /// answer is incomplete (body over the size limit, cut short by a timeout or a close).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ReportFinding {
    pub check: String,
    pub slug: String,
    pub title: String,
    pub severity: Severity,
    pub confidence: Confidence,
    /// `CWE-NNN` identifiers.
    pub cwe: Vec<String>,
    /// OWASP API Security Top 10 (2023) categories.
    pub owasp: Vec<String>,
    pub endpoint: String,
    pub message: String,
    pub evidence: Vec<Evidence>,
    pub remediation: String,
    /// A stable identity across scans (see [`crate::baseline::fingerprint`]).
    #[serde(default)]
    pub fingerprint: String,
    /// Accepted through an `[[ignore]]` entry: still reported, but counted by neither the
    /// score nor the gate.
    #[serde(default)]
    pub suppressed: bool,
    /// The `reason` of the `[[ignore]]` entry that suppressed the finding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suppression_reason: Option<String>,
    /// `new` or `unchanged` against `--baseline FILE` (absent without one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineState>,
}

impl Report {
    /// Why the report is partial, as a sentence: `the scan was interrupted by SIGINT`,
    /// `login failed for `alice`: …`.
    pub fn incomplete_summary(&self) -> String {
        match self.incomplete_reason.as_deref() {
            Some(why) if why.starts_with("interrupted") => format!("the scan was {why}"),
            Some(why) => why.to_string(),
            None => "the scan stopped early".to_string(),
        }
    }

    /// Findings at or above `severity`.
    pub fn findings_at_least(&self, severity: Severity) -> impl Iterator<Item = &ReportFinding> {
        self.findings.iter().filter(move |f| f.severity >= severity)
    }

    /// Recomputes the score, the grade and every category's score from the findings that
    /// are not suppressed; `category_of` maps a check code to its category name.
    pub fn rescore(&mut self, category_of: impl Fn(&str) -> Option<String>) {
        let counted: Vec<(Scored<'_>, Option<String>)> = self
            .findings
            .iter()
            .filter(|f| !f.suppressed)
            .map(|f| {
                let scored = Scored {
                    check: &f.check,
                    severity: f.severity,
                    confidence: f.confidence,
                };
                (scored, category_of(&f.check))
            })
            .collect();
        let all: Vec<Scored<'_>> = counted.iter().map(|(s, _)| *s).collect();
        let total = score(&all);
        let categories: Vec<u8> = self
            .categories
            .iter()
            .map(|c| {
                let within: Vec<Scored<'_>> = counted
                    .iter()
                    .filter(|(_, cat)| cat.as_deref() == Some(c.name.as_str()))
                    .map(|(s, _)| *s)
                    .collect();
                score(&within)
            })
            .collect();
        self.score = total;
        self.grade = grade(total).to_string();
        for (category, score) in self.categories.iter_mut().zip(categories) {
            // A category that was not tested stays untested.
            if category.score.is_some() {
                category.score = Some(score);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(check: &str, severity: Severity) -> ReportFinding {
        ReportFinding {
            check: check.into(),
            slug: String::new(),
            title: String::new(),
            severity,
            confidence: Confidence::Confirmed,
            cwe: vec![],
            owasp: vec![],
            endpoint: "/".into(),
            message: String::new(),
            evidence: vec![],
            remediation: String::new(),
            fingerprint: String::new(),
            suppressed: false,
            suppression_reason: None,
            baseline: None,
        }
    }

    fn report(findings: Vec<ReportFinding>) -> Report {
        Report {
            schema: SCHEMA.into(),
            tool: Tool {
                name: "authprobe".into(),
                version: "0".into(),
            },
            scan_id: None,
            target: TargetInfo {
                url: "http://x/".into(),
            },
            started_at: String::new(),
            finished_at: String::new(),
            duration_ms: 0,
            incomplete: false,
            incomplete_reason: None,
            profile: String::new(),
            stats: Stats {
                requests: 0,
                endpoints: 0,
                checks_run: 0,
                checks_total: 0,
                max_requests: 0,
                methods: Default::default(),
                throttle: None,
                in_flight: None,
                exchanges_spilled: 0,
                exchanges_dropped: 0,
            },
            score: 0,
            grade: "F".into(),
            categories: vec![
                CategoryScore {
                    name: "jwt".into(),
                    score: Some(0),
                },
                CategoryScore {
                    name: "django".into(),
                    score: Some(0),
                },
            ],
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

    fn category(code: &str) -> Option<String> {
        Some(if code.starts_with("JWT") { "jwt" } else { "django" }.to_string())
    }

    #[test]
    fn rescoring_leaves_suppressed_findings_out_of_score_grade_and_categories() {
        let mut r = report(vec![
            finding("JWT003", Severity::Critical),
            finding("DJ001", Severity::High),
        ]);
        r.rescore(category);
        assert_eq!((r.score, r.grade.as_str()), (40, "F"));
        assert_eq!((r.categories[0].score, r.categories[1].score), (Some(59), Some(80)));
        r.findings[0].suppressed = true;
        r.rescore(category);
        assert_eq!((r.score, r.grade.as_str()), (80, "B"));
        assert_eq!((r.categories[0].score, r.categories[1].score), (Some(100), Some(80)));
    }
}
