//! Scheduled rescans of `[[monitor]]` targets, and the signed webhook they send when a
//! target gets worse.

use authprobe_core::Severity;
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;
use std::sync::Arc;
use std::time::Duration;

use crate::security::hex;
use crate::AppState;

/// The header carrying `sha256=HEX`, the HMAC-SHA256 of the request body.
pub const SIGNATURE_HEADER: &str = "X-Authprobe-Signature";

/// A target rescanned every `interval`.
#[derive(Clone)]
pub struct Monitor {
    pub target: String,
    pub interval: Duration,
    pub webhook: Option<url::Url>,
    /// The webhook's HMAC key (from the environment, never from the config file).
    pub secret: Option<Vec<u8>>,
}

impl std::fmt::Debug for Monitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Monitor")
            .field("target", &self.target)
            .field("interval", &self.interval)
            .field("webhook", &self.webhook.as_ref().map(|u| u.as_str()))
            .finish()
    }
}

/// Parses `90s`, `30m`, `6h`, `1d` (or plain seconds); at least 10 seconds.
pub fn parse_interval(raw: &str) -> Result<Duration, String> {
    let raw = raw.trim();
    let (digits, unit) = raw.split_at(raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len()));
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("interval `{raw}`: expected a number and a unit (s, m, h, d), e.g. 30m"))?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n.saturating_mul(60),
        "h" => n.saturating_mul(3600),
        "d" => n.saturating_mul(86_400),
        _ => return Err(format!("interval `{raw}`: unknown unit `{unit}` (use s, m, h or d)")),
    };
    if secs < 10 {
        return Err(format!("interval `{raw}` is too short: at least 10s"));
    }
    Ok(Duration::from_secs(secs))
}

/// `sha256=HEX` of `body` under `secret`.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(body);
    format!("sha256={}", hex(&mac.finalize().into_bytes()))
}

/// A new high or critical finding, as the webhook tells it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AlertFinding {
    pub check: String,
    pub severity: String,
    pub title: String,
    pub endpoint: String,
}

/// The webhook's body.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Alert {
    pub event: &'static str,
    pub target: String,
    pub scan_id: i64,
    pub previous_scan_id: i64,
    pub score: u8,
    pub previous_score: u8,
    pub grade: String,
    pub previous_grade: String,
    pub grade_dropped: bool,
    pub new_findings: Vec<AlertFinding>,
}

/// The alert a new scan raises against the previous one: a worse grade, or new findings
/// of high or critical severity. `None` when nothing got worse.
pub fn alert_for(previous: &authprobe_store::StoredScan, current: &authprobe_store::StoredScan) -> Option<Alert> {
    // Grades are letters: A is best, F worst.
    let grade_dropped = current.report.grade > previous.report.grade;
    let d = authprobe_store::diff(&previous.report.findings, &current.report.findings);
    let new_findings: Vec<AlertFinding> = d
        .new
        .iter()
        .filter(|f| f.severity >= Severity::High)
        .map(|f| AlertFinding {
            check: f.check.clone(),
            severity: f.severity.as_str().to_string(),
            title: f.title.clone(),
            endpoint: f.endpoint.clone(),
        })
        .collect();
    (grade_dropped || !new_findings.is_empty()).then(|| Alert {
        event: "authprobe.regression",
        target: current.summary.target.clone(),
        scan_id: current.summary.id,
        previous_scan_id: previous.summary.id,
        score: current.report.score,
        previous_score: previous.report.score,
        grade: current.report.grade.clone(),
        previous_grade: previous.report.grade.clone(),
        grade_dropped,
        new_findings,
    })
}

/// Rescans the monitor's target now and then every interval, forever.
pub async fn run(state: Arc<AppState>, monitor: Monitor) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .redirect(reqwest::redirect::Policy::none())
        .build();
    let mut ticks = tokio::time::interval(monitor.interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let (id, previous) = match state.scan_and_save(monitor.target.clone()).await {
            Ok(ids) => ids,
            Err(e) => {
                eprintln!("monitor {}: scan failed: {e}", monitor.target);
                continue;
            }
        };
        eprintln!("monitor {}: saved scan #{id}", monitor.target);
        let (Some(previous), Some(webhook), Ok(client)) = (previous, &monitor.webhook, &client) else {
            continue;
        };
        let scans = state
            .with_store(move |store| Ok((store.scan(previous)?, store.scan(id)?)))
            .await;
        let alert = match scans {
            Ok((Some(before), Some(after))) => alert_for(&before, &after),
            _ => None,
        };
        let Some(alert) = alert else { continue };
        let body = serde_json::to_vec(&alert).expect("an alert serializes");
        let mut request = client
            .post(webhook.clone())
            .header("content-type", "application/json")
            .header("user-agent", "authprobe-monitor");
        if let Some(secret) = &monitor.secret {
            request = request.header(SIGNATURE_HEADER, sign(secret, &body));
        }
        match request.body(body).send().await {
            Ok(resp) if resp.status().is_success() => {
                eprintln!("monitor {}: alert sent for scan #{id}", monitor.target)
            }
            Ok(resp) => eprintln!("monitor {}: webhook answered {}", monitor.target, resp.status()),
            Err(e) => eprintln!("monitor {}: webhook failed: {e}", monitor.target),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use authprobe_store::fixtures::{finding, report};
    use authprobe_store::{ScanSummary, StoredScan};

    fn stored(id: i64, score: u8, findings: Vec<authprobe_core::report::ReportFinding>) -> StoredScan {
        let report = report("http://t/", score, "2026-01-01T00:00:00Z", findings);
        StoredScan {
            summary: ScanSummary {
                id,
                target: "http://t/".into(),
                started_at: report.started_at.clone(),
                finished_at: report.finished_at.clone(),
                profile: "standard".into(),
                score,
                grade: report.grade.clone(),
                requests: 1,
                findings: 0,
                critical: 0,
                high: 0,
                medium: 0,
                low: 0,
                info: 0,
            },
            report,
        }
    }

    #[test]
    fn intervals_take_a_unit_and_a_floor() {
        assert_eq!(parse_interval("30m").unwrap(), Duration::from_secs(1800));
        assert_eq!(parse_interval("2h").unwrap(), Duration::from_secs(7200));
        assert_eq!(parse_interval("1d").unwrap(), Duration::from_secs(86_400));
        assert_eq!(parse_interval("45").unwrap(), Duration::from_secs(45));
        assert!(parse_interval("5s").is_err());
        assert!(parse_interval("10 parsecs").is_err());
        assert!(parse_interval("").is_err());
    }

    #[test]
    fn signatures_are_hex_hmac_sha256_of_the_body() {
        // RFC 4231 test case 2.
        assert_eq!(
            sign(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn alerts_fire_on_a_grade_drop_or_new_high_findings_only() {
        let base = stored(1, 95, vec![finding("WEB004", Severity::Low, "/", "h")]);
        // Same grade, a new low finding: quiet.
        let low = stored(
            2,
            93,
            vec![
                finding("WEB004", Severity::Low, "/", "h"),
                finding("AUTH007", Severity::Low, "/", "x"),
            ],
        );
        assert!(alert_for(&base, &low).is_none());
        // A new critical finding at the same grade: alert.
        let crit = stored(3, 91, vec![finding("JWT001", Severity::Critical, "/api/", "none")]);
        let alert = alert_for(&base, &crit).unwrap();
        assert!(!alert.grade_dropped);
        assert_eq!(alert.new_findings[0].check, "JWT001");
        // A grade drop alone: alert.
        let drop = stored(4, 75, vec![finding("WEB004", Severity::Low, "/", "h")]);
        let alert = alert_for(&base, &drop).unwrap();
        assert!(alert.grade_dropped && alert.new_findings.is_empty());
        assert_eq!((alert.previous_grade.as_str(), alert.grade.as_str()), ("A", "C"));
        // Getting better never alerts.
        assert!(alert_for(&drop, &base).is_none());
    }
}
