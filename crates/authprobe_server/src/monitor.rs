//! Scheduled rescans of `[[monitor]]` targets, shared by every worker on one database
//! (leases in the store), and the signed webhook they send when a target gets worse.

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
    parse_duration(raw, Duration::from_secs(10)).map_err(|e| format!("interval {e}"))
}

/// Parses `500ms`, `90s`, `30m`, `6h`, `1d` (or plain seconds), at least `min`.
pub fn parse_duration(raw: &str, min: Duration) -> Result<Duration, String> {
    let raw = raw.trim();
    let (digits, unit) = raw.split_at(raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len()));
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`{raw}`: expected a number and a unit (ms, s, m, h, d), e.g. 30m"))?;
    let duration = match unit {
        "ms" => Duration::from_millis(n),
        "" | "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n.saturating_mul(60)),
        "h" => Duration::from_secs(n.saturating_mul(3600)),
        "d" => Duration::from_secs(n.saturating_mul(86_400)),
        _ => return Err(format!("`{raw}`: unknown unit `{unit}` (use ms, s, m, h or d)")),
    };
    if duration < min {
        return Err(format!("`{raw}` is too short: at least {min:?}"));
    }
    Ok(duration)
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
pub fn alert_for(
    previous_id: i64,
    previous: &authprobe_core::Report,
    current_id: i64,
    current: &authprobe_core::Report,
) -> Option<Alert> {
    // Grades are letters: A is best, F worst.
    let grade_dropped = current.grade > previous.grade;
    let d = authprobe_store::diff(&previous.findings, &current.findings);
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
        target: current.target.url.clone(),
        scan_id: current_id,
        previous_scan_id: previous_id,
        score: current.score,
        previous_score: previous.score,
        grade: current.grade.clone(),
        previous_grade: previous.grade.clone(),
        grade_dropped,
        new_findings,
    })
}

/// How a worker takes part in the shared monitor schedule.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// Names this worker in leases and in the run log (`host:pid:random` by default).
    pub id: String,
    /// How long a claimed rescan stays this worker's without a renewal; a worker killed
    /// mid-scan delays its rescan by at most this long.
    pub lease: Duration,
    /// How often an idle worker looks for due rescans and alerts.
    pub poll: Duration,
    /// Rescans this worker runs at once.
    pub parallel: usize,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        WorkerOptions {
            id: default_worker_id(),
            lease: Duration::from_secs(120),
            poll: Duration::from_secs(5),
            parallel: 2,
        }
    }
}

/// `host:pid:random`: unique among workers sharing a database.
pub fn default_worker_id() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "worker".into());
    format!("{host}:{}:{}", std::process::id(), &crate::security::random_hex(3))
}

/// Takes part in the shared schedule forever: registers this worker's monitors, then
/// claims due rescans (whoever configured them) and delivers queued alerts for the
/// monitors whose signing secret it holds.
pub async fn run_worker(state: Arc<AppState>, monitors: Vec<Monitor>, options: WorkerOptions) {
    let specs: Vec<authprobe_store::MonitorSpec> = monitors
        .iter()
        .map(|m| authprobe_store::MonitorSpec {
            target: m.target.clone(),
            interval: m.interval,
            webhook: m.webhook.as_ref().map(|u| u.to_string()),
        })
        .collect();
    // The database may not be up yet when a fleet starts: keep trying.
    while let Err(e) = state
        .with_store({
            let specs = specs.clone();
            move |store| store.register_monitors(&specs)
        })
        .await
    {
        eprintln!("worker {}: cannot register the monitors: {e}", options.id);
        tokio::time::sleep(options.poll).await;
    }
    let monitors = Arc::new(monitors);
    let slots = Arc::new(tokio::sync::Semaphore::new(options.parallel.max(1)));
    tokio::spawn(deliver_alerts(state.clone(), monitors.clone(), options.clone()));
    loop {
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let owner = options.id.clone();
        let lease = options.lease;
        let claimed = state
            .with_store(move |store| store.claim_due_monitor(&owner, lease))
            .await;
        match claimed {
            Ok(Some(lease)) => {
                let state = state.clone();
                let options = options.clone();
                tokio::spawn(async move {
                    run_rescan(state, lease, options).await;
                    drop(slot);
                });
            }
            Ok(None) => {
                drop(slot);
                tokio::time::sleep(options.poll).await;
            }
            Err(e) => {
                drop(slot);
                eprintln!("worker {}: cannot read the schedule: {e}", options.id);
                tokio::time::sleep(options.poll).await;
            }
        }
    }
}

/// Runs one claimed rescan, renewing its lease meanwhile, and completes it.
async fn run_rescan(state: Arc<AppState>, lease: authprobe_store::Lease, options: WorkerOptions) {
    let target = lease.target.clone();
    eprintln!("worker {}: rescanning {target} (due {})", options.id, lease.due_unix);
    let renewer = {
        let state = state.clone();
        let lease = lease.clone();
        let period = options.lease / 3;
        let duration = options.lease;
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(period).await;
                let held = lease.clone();
                match state.with_store(move |store| store.renew_lease(&held, duration)).await {
                    Ok(true) => {}
                    Ok(false) => return,
                    Err(e) => eprintln!("monitor {}: cannot renew the lease: {e}", lease.target),
                }
            }
        })
    };
    let result = state.scan(target.clone()).await;
    renewer.abort();
    let report = match result {
        Ok(report) => report,
        Err(e) => {
            eprintln!("monitor {target}: scan failed: {e}");
            let retry = Duration::from_secs(lease.interval_secs.clamp(1, 60) as u64);
            let lease = lease.clone();
            if let Err(e) = state.with_store(move |store| store.release_lease(&lease, retry)).await {
                eprintln!("monitor {target}: cannot give the lease back: {e}");
            }
            return;
        }
    };
    let retention = state.config.retention;
    let scan_uuid = report
        .scan_id
        .clone()
        .unwrap_or_else(authprobe_core::report::new_scan_id);
    let done = {
        let lease = lease.clone();
        state
            .with_store(move |store| {
                store.complete_monitor_run(&lease, &report, &scan_uuid, retention, |previous_id, previous, id| {
                    alert_for(previous_id, previous, id, &report)
                        .map(|alert| serde_json::to_string(&alert).expect("an alert serializes"))
                })
            })
            .await
    };
    match done {
        Ok(authprobe_store::RunOutcome::Saved { scan_id, alert }) => {
            let queued = if alert { ", alert queued" } else { "" };
            eprintln!("monitor {target}: saved scan #{scan_id}{queued}");
        }
        Ok(authprobe_store::RunOutcome::LeaseLost) => {
            eprintln!(
                "monitor {target}: the lease ran out and another worker took this rescan over; this scan is dropped"
            )
        }
        Err(e) => eprintln!("monitor {target}: cannot save the scan: {e}"),
    }
}

/// Sends the queued alerts of the monitors this worker can sign for, each once: claimed
/// under a lease, marked sent on a 2xx, retried with growing pauses otherwise.
async fn deliver_alerts(state: Arc<AppState>, monitors: Arc<Vec<Monitor>>, options: WorkerOptions) {
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .redirect(reqwest::redirect::Policy::none())
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("worker {}: cannot build the webhook client: {e}", options.id);
            return;
        }
    };
    let targets: Vec<String> = monitors
        .iter()
        .filter(|m| m.webhook.is_some() && m.secret.is_some())
        .map(|m| m.target.clone())
        .collect();
    if targets.is_empty() {
        return;
    }
    loop {
        let claim_targets = targets.clone();
        let claimed = state
            .with_store(move |store| store.claim_alert(&claim_targets, Duration::from_secs(60)))
            .await;
        let alert = match claimed {
            Ok(Some(alert)) => alert,
            Ok(None) => {
                tokio::time::sleep(options.poll).await;
                continue;
            }
            Err(e) => {
                eprintln!("worker {}: cannot read the alert queue: {e}", options.id);
                tokio::time::sleep(options.poll).await;
                continue;
            }
        };
        let Some(monitor) = monitors.iter().find(|m| m.target == alert.target) else {
            continue;
        };
        let mut request = client
            .post(alert.webhook.as_str())
            .header("content-type", "application/json")
            .header("user-agent", "authprobe-monitor");
        if let Some(secret) = &monitor.secret {
            request = request.header(SIGNATURE_HEADER, sign(secret, alert.body.as_bytes()));
        }
        let outcome = match request.body(alert.body.clone()).send().await {
            Ok(resp) if resp.status().is_success() => Ok(()),
            Ok(resp) => Err(format!("the webhook answered {}", resp.status())),
            Err(e) => Err(format!("the webhook failed: {e}")),
        };
        let scan_id = alert.scan_id;
        let result = match outcome {
            Ok(()) => {
                eprintln!("monitor {}: alert sent for scan #{scan_id}", alert.target);
                state.with_store(move |store| store.alert_sent(scan_id)).await
            }
            Err(error) => {
                eprintln!("monitor {}: {error} (try {})", alert.target, alert.attempts);
                let pause = Duration::from_secs(5u64 << alert.attempts.clamp(0, 10));
                state
                    .with_store(move |store| store.alert_failed(scan_id, &error, pause))
                    .await
            }
        };
        if let Err(e) = result {
            eprintln!("worker {}: cannot record the alert: {e}", options.id);
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
        assert!(alert_for(1, &base.report, 2, &low.report).is_none());
        // A new critical finding at the same grade: alert.
        let crit = stored(3, 91, vec![finding("JWT001", Severity::Critical, "/api/", "none")]);
        let alert = alert_for(1, &base.report, 3, &crit.report).unwrap();
        assert!(!alert.grade_dropped);
        assert_eq!(alert.new_findings[0].check, "JWT001");
        // A grade drop alone: alert.
        let drop = stored(4, 75, vec![finding("WEB004", Severity::Low, "/", "h")]);
        let alert = alert_for(1, &base.report, 4, &drop.report).unwrap();
        assert!(alert.grade_dropped && alert.new_findings.is_empty());
        assert_eq!((alert.previous_grade.as_str(), alert.grade.as_str()), ("A", "C"));
        // Getting better never alerts.
        assert!(alert_for(4, &drop.report, 1, &base.report).is_none());
    }
}
