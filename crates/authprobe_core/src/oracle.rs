//! The differential oracle: a probe response counts as "accepted" only when it looks like
//! the valid-credential baseline (A), carries the identity marker, and differs from the
//! garbage-credential baseline (G). If A and G cannot be told apart, nothing is decided.

use crate::probe::ProbeResponse;
use crate::similarity::similarity;

/// Similarity at or above which a response "matches" a baseline.
pub const MATCH: f64 = 0.85;
/// Similarity below which two responses "differ".
pub const DIFFER: f64 = 0.6;

/// Baselines for one endpoint, taken in the same scan.
#[derive(Debug, Clone)]
pub struct Baseline {
    /// With a valid credential of the primary identity (A).
    pub valid: ProbeResponse,
    /// With no credential (N).
    pub anonymous: ProbeResponse,
    /// With a garbage credential (G).
    pub garbage: ProbeResponse,
    /// A string that identifies the identity in A's body (e.g. the username), if present.
    pub marker: Option<String>,
}

/// The oracle's decision on one probe response.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Looks like A (with the identity marker) and unlike G.
    Accepted,
    Rejected,
    /// A and G are indistinguishable, so acceptance cannot be judged.
    Inconclusive(String),
}

impl Baseline {
    pub fn new(valid: ProbeResponse, anonymous: ProbeResponse, garbage: ProbeResponse, marker: Option<&str>) -> Self {
        let marker = marker
            .filter(|m| !m.is_empty() && String::from_utf8_lossy(&valid.body).contains(*m))
            .map(str::to_string);
        Baseline {
            valid,
            anonymous,
            garbage,
            marker,
        }
    }

    /// Whether A is a success that G and N do not reproduce.
    pub fn distinguishable(&self) -> Result<(), String> {
        if !self.valid.is_success() {
            return Err(format!("the valid credential itself got HTTP {}", self.valid.status));
        }
        if responses_match(&self.garbage, &self.valid) {
            return Err("a garbage credential gets the same answer as a valid one".into());
        }
        if responses_match(&self.anonymous, &self.valid) {
            return Err("the endpoint answers the same without any credential".into());
        }
        Ok(())
    }

    /// Judges whether `probe` was accepted as the baseline identity.
    pub fn judge(&self, probe: &ProbeResponse) -> Verdict {
        if let Err(why) = self.distinguishable() {
            return Verdict::Inconclusive(why);
        }
        let carries_marker = self
            .marker
            .as_deref()
            .is_none_or(|m| String::from_utf8_lossy(&probe.body).contains(m));
        if responses_match(probe, &self.valid) && carries_marker && !responses_match(probe, &self.garbage) {
            Verdict::Accepted
        } else {
            Verdict::Rejected
        }
    }
}

/// Same status and similar body.
pub fn responses_match(a: &ProbeResponse, b: &ProbeResponse) -> bool {
    a.status == b.status && similarity(&a.body, &b.body) >= MATCH
}

/// Different status or clearly different body.
pub fn responses_differ(a: &ProbeResponse, b: &ProbeResponse) -> bool {
    a.status != b.status || similarity(&a.body, &b.body) < DIFFER
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::exchange::ExchangeId;
    use reqwest::header::HeaderMap;
    use std::time::Duration;

    pub fn response(status: u16, body: &str) -> ProbeResponse {
        ProbeResponse {
            exchange: ExchangeId(0),
            url: url::Url::parse("http://t/api/me/").unwrap(),
            status,
            headers: HeaderMap::new(),
            body: bytes::Bytes::from(body.to_string()),
            body_truncated: false,
            elapsed: Duration::ZERO,
        }
    }

    fn baseline() -> Baseline {
        Baseline::new(
            response(200, r#"{"id":1,"username":"alice","email":"alice@example.com"}"#),
            response(401, r#"{"detail":"Authentication credentials were not provided."}"#),
            response(401, r#"{"detail":"Given token not valid for any token type"}"#),
            Some("alice"),
        )
    }

    #[test]
    fn a_response_like_the_valid_baseline_is_accepted() {
        let b = baseline();
        let probe = response(200, r#"{"username":"alice","id":1,"email":"alice@example.com"}"#);
        assert_eq!(b.judge(&probe), Verdict::Accepted);
    }

    #[test]
    fn a_success_for_another_identity_is_not_acceptance_as_this_one() {
        let b = baseline();
        let probe = response(200, r#"{"id":2,"username":"bob","email":"bob@example.com"}"#);
        assert_eq!(b.judge(&probe), Verdict::Rejected);
    }

    #[test]
    fn an_error_is_rejected() {
        let b = baseline();
        assert_eq!(b.judge(&response(401, r#"{"detail":"nope"}"#)), Verdict::Rejected);
    }

    #[test]
    fn indistinguishable_baselines_make_every_verdict_inconclusive() {
        let mut b = baseline();
        b.garbage = b.valid.clone();
        assert!(matches!(b.judge(&b.valid.clone()), Verdict::Inconclusive(_)));
    }
}
