//! Pacing through a target's throttle. A throttled answer (HTTP 429, or 503 with
//! `Retry-After`) to an ordinary request is waited out and the request sent again, and
//! later requests to the same path wait until the pause is over: a throttled API stays
//! scannable, and what the scan reads is the API's answer, not its throttle's. Requests
//! that measure limits (the rate-limit bursts) are never paced: the throttle is their
//! result. Waiting is bounded per answer and per scan, so a target cannot stall a scan.

use reqwest::header::HeaderMap;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

/// Retries of one request after throttled answers.
pub const MAX_RETRIES: u32 = 8;

/// The gap kept between requests released from one pause, so they do not all meet the
/// throttle again at the same instant.
const RELEASE_GAP: Duration = Duration::from_millis(250);

/// The first wait when a throttled answer names none, doubled for each further one.
const DEFAULT_WAIT: Duration = Duration::from_secs(1);

/// What the scan met of the target's throttle, for the report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThrottleReport {
    /// Throttled answers to ordinary requests (bursts' own are not counted).
    pub responses: usize,
    /// Time the scan spent waiting them out.
    pub waited_ms: u64,
    /// Throttled answers that were left standing (the wait asked was too long, or the
    /// scan's waiting allowance was spent).
    pub gave_up: usize,
    /// The paths that were throttled.
    pub paths: Vec<String>,
}

#[derive(Debug, Default)]
struct State {
    /// Path → when its pause ends.
    paused: HashMap<String, Instant>,
    waited: Duration,
    responses: usize,
    gave_up: usize,
    paths: BTreeSet<String>,
}

/// The probe's throttle book-keeping.
#[derive(Debug)]
pub struct Throttle {
    max_wait: Duration,
    total_wait: Duration,
    state: Mutex<State>,
}

impl Throttle {
    pub fn new(max_wait: Duration, total_wait: Duration) -> Throttle {
        Throttle {
            max_wait,
            total_wait,
            state: Mutex::new(State::default()),
        }
    }

    /// How long a request to `path` must wait for a pause a throttled answer started.
    /// Each caller takes its own release slot, [`RELEASE_GAP`] after the previous one.
    pub fn pause_left(&self, path: &str) -> Option<Duration> {
        let mut state = self.state.lock().expect("throttle lock");
        let until = state.paused.get_mut(path)?;
        let left = until.checked_duration_since(Instant::now()).filter(|d| !d.is_zero())?;
        *until += RELEASE_GAP;
        Some(left)
    }

    /// Records a throttled answer to `path` (the `retry`-th for this request, from 0) that
    /// asked for `asked` (its `Retry-After`): the wait before sending it again, or `None`
    /// when the answer stands (too many retries, too long a wait, allowance spent).
    pub fn on_throttled(&self, path: &str, asked: Option<Duration>, retry: u32) -> Option<Duration> {
        let mut state = self.state.lock().expect("throttle lock");
        state.responses += 1;
        state.paths.insert(path.to_string());
        let wait = asked.unwrap_or(DEFAULT_WAIT * 2u32.saturating_pow(retry));
        let affordable = state.waited + wait <= self.total_wait;
        if retry >= MAX_RETRIES || wait > self.max_wait || !affordable {
            state.gave_up += 1;
            return None;
        }
        state.waited += wait;
        let until = Instant::now() + wait;
        let entry = state.paused.entry(path.to_string()).or_insert(until);
        *entry = (*entry).max(until);
        Some(wait)
    }

    /// What the scan met, or `None` when it was never throttled.
    pub fn report(&self) -> Option<ThrottleReport> {
        let state = self.state.lock().expect("throttle lock");
        (state.responses > 0).then(|| ThrottleReport {
            responses: state.responses,
            waited_ms: u64::try_from(state.waited.as_millis()).unwrap_or(u64::MAX),
            gave_up: state.gave_up,
            paths: state.paths.iter().cloned().collect(),
        })
    }
}

/// Whether an answer is a throttle's (HTTP 429, or 503 with `Retry-After`), and the wait it
/// asks for: `Some(None)` when it names none or names one that cannot be read.
pub fn throttled(status: u16, headers: &HeaderMap) -> Option<Option<Duration>> {
    let retry_after = headers.get("retry-after").and_then(|v| v.to_str().ok());
    match status {
        429 => Some(retry_after.and_then(parse_retry_after)),
        503 if retry_after.is_some() => Some(retry_after.and_then(parse_retry_after)),
        _ => None,
    }
}

/// `Retry-After` (RFC 9110 §10.2.3): seconds, or an HTTP date.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(retry_after: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(v) = retry_after {
            h.insert("retry-after", HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn a_429_or_a_503_with_retry_after_is_a_throttle() {
        assert_eq!(throttled(429, &headers(Some("2"))), Some(Some(Duration::from_secs(2))));
        assert_eq!(throttled(429, &headers(None)), Some(None));
        assert_eq!(throttled(503, &headers(Some("1"))), Some(Some(Duration::from_secs(1))));
        assert_eq!(throttled(503, &headers(None)), None);
        assert_eq!(throttled(401, &headers(Some("5"))), None);
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(parse_retry_after(" 7 "), Some(Duration::from_secs(7)));
        let soon = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(30));
        let wait = parse_retry_after(&soon).unwrap();
        assert!(
            wait > Duration::from_secs(25) && wait <= Duration::from_secs(30),
            "{wait:?}"
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(Duration::ZERO),
            "a date in the past means now"
        );
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn waits_are_bounded_per_answer_per_request_and_per_scan() {
        let t = Throttle::new(Duration::from_secs(10), Duration::from_secs(12));
        assert_eq!(
            t.on_throttled("/a", Some(Duration::from_secs(30)), 0),
            None,
            "too long a wait"
        );
        assert_eq!(t.on_throttled("/a", None, 0), Some(Duration::from_secs(1)));
        assert_eq!(t.on_throttled("/a", None, 1), Some(Duration::from_secs(2)));
        assert_eq!(t.on_throttled("/a", Some(Duration::from_secs(2)), MAX_RETRIES), None);
        assert_eq!(
            t.on_throttled("/b", Some(Duration::from_secs(9)), 0),
            Some(Duration::from_secs(9))
        );
        assert_eq!(
            t.on_throttled("/b", Some(Duration::from_secs(1)), 0),
            None,
            "allowance spent"
        );
        assert!(t.pause_left("/b").is_some());
        assert!(t.pause_left("/c").is_none());
        let report = t.report().unwrap();
        assert_eq!(report.responses, 6);
        assert_eq!(report.gave_up, 3);
        assert_eq!(report.waited_ms, 12_000);
        assert_eq!(report.paths, vec!["/a".to_string(), "/b".to_string()]);
    }

    #[test]
    fn an_unthrottled_scan_reports_nothing() {
        assert_eq!(
            Throttle::new(Duration::from_secs(1), Duration::from_secs(1)).report(),
            None
        );
    }
}
