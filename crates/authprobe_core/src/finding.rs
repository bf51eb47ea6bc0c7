//! What a check reports: a [`Finding`] with its severity, confidence and evidence.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use crate::exchange::ExchangeId;

/// How bad a weakness is, from the catalog. Ordered: `Info < Low < … < Critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// All severities, most severe first (the order reports list them in).
    pub const DESCENDING: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "info" => Ok(Severity::Info),
            "low" => Ok(Severity::Low),
            "medium" => Ok(Severity::Medium),
            "high" => Ok(Severity::High),
            "critical" => Ok(Severity::Critical),
            other => Err(format!(
                "unknown severity `{other}` (expected critical, high, medium, low or info)"
            )),
        }
    }
}

/// How sure the scanner is. `Confirmed` means the weakness was exploited with a
/// differential oracle (e.g. a forged credential returned another identity's data).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Tentative,
    Firm,
    Confirmed,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Tentative => "tentative",
            Confidence::Firm => "firm",
            Confidence::Confirmed => "confirmed",
        }
    }
}

impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One weakness found by one check at one place.
///
/// Checks fill `check`-independent fields only; the engine stamps the catalog data
/// (code, slug, title, CWE, OWASP, remediation) from the check's [`crate::CheckMeta`].
#[derive(Debug, Clone)]
pub struct Finding {
    /// Overrides the catalog severity when a check grades within a range (e.g. AUTH001).
    pub severity: Option<Severity>,
    pub confidence: Confidence,
    /// The endpoint (path or URL) the finding is about.
    pub endpoint: String,
    /// One or two sentences saying what was observed, in the user's terms.
    pub message: String,
    /// Recorded exchanges that prove it, in the order they matter.
    pub evidence: Vec<ExchangeId>,
}

impl Finding {
    pub fn new(confidence: Confidence, endpoint: impl Into<String>, message: impl Into<String>) -> Self {
        Finding {
            severity: None,
            confidence,
            endpoint: endpoint.into(),
            message: message.into(),
            evidence: Vec::new(),
        }
    }

    pub fn with_evidence(mut self, ids: impl IntoIterator<Item = ExchangeId>) -> Self {
        self.evidence.extend(ids);
        self
    }

    pub fn with_severity(mut self, severity: Severity) -> Self {
        self.severity = Some(severity);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_order_from_info_to_critical() {
        assert!(Severity::Info < Severity::Low);
        assert!(Severity::High < Severity::Critical);
        assert_eq!("HIGH".parse::<Severity>().unwrap(), Severity::High);
        assert!("severe".parse::<Severity>().is_err());
    }
}
