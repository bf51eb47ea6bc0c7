//! The finished scan, in the `authprobe.report/v1` shape every emitter and tool reads.
//! Keys documented in DESIGN.md are stable; new keys may be added, never renamed.

use serde::{Deserialize, Serialize};

use crate::exchange::Evidence;
use crate::finding::{Confidence, Severity};

pub const SCHEMA: &str = "authprobe.report/v1";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Report {
    pub schema: String,
    pub tool: Tool,
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
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FlowLine {
    /// `login`, `refresh`, `logout`, `password_change` or `identity`.
    pub role: String,
    /// `simplejwt`, `authtoken`, `dj-rest-auth`, `knox`, `django-form`, `django-admin`,
    /// `json-login`, `linked` (a logout the API links to) or `configured`.
    pub family: String,
    pub endpoint: String,
    /// `configured` or `detected`.
    pub source: String,
    pub used: bool,
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
    #[serde(default)]
    pub max_requests: usize,
    /// Requests sent per HTTP method (the method policy, as it was applied).
    #[serde(default)]
    pub methods: std::collections::BTreeMap<String, usize>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CategoryScore {
    pub name: String,
    pub score: u8,
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
}

impl Report {
    /// Findings at or above `severity`.
    pub fn findings_at_least(&self, severity: Severity) -> impl Iterator<Item = &ReportFinding> {
        self.findings.iter().filter(move |f| f.severity >= severity)
    }
}
