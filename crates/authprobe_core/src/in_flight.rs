//! How busy the probe kept the target: a time-weighted gauge of the requests in flight.
//!
//! A request is in flight from the moment it goes out (after its concurrency and rate slots)
//! until its answer is read; waits on throttles, backoffs and a check's own sleeps are not.
//! The average over the scan's wall time says how much of the configured concurrency the
//! scheduling used, and the idle fraction how long nothing at all was on the wire.

use serde::{Deserialize, Serialize};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What the gauge measured, for the report's `stats.in_flight` and the bench.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct InFlightStats {
    /// Requests in flight on average over the wall time (request-seconds / seconds).
    pub average: f64,
    /// The share of the wall time with no request in flight, 0 to 1.
    pub idle_fraction: f64,
    /// The most requests in flight at once.
    pub peak: usize,
    /// The wall time measured, from the probe's creation.
    pub wall_ms: u64,
}

#[derive(Debug)]
struct State {
    started: Instant,
    /// When `current` last changed: the accumulators are up to date until then.
    last: Instant,
    current: usize,
    peak: usize,
    /// The integral of `current` over time, in request-seconds.
    area: f64,
    idle: Duration,
}

impl State {
    /// Accounts for the time since the last change at the level that held through it.
    fn advance(&mut self, now: Instant) {
        let span = now.saturating_duration_since(self.last);
        self.area += self.current as f64 * span.as_secs_f64();
        if self.current == 0 {
            self.idle += span;
        }
        self.last = now;
    }
}

/// The gauge itself; the probe holds one and enters it around every request on the wire.
#[derive(Debug)]
pub struct InFlightGauge {
    state: Mutex<State>,
}

impl Default for InFlightGauge {
    fn default() -> Self {
        InFlightGauge::new()
    }
}

impl InFlightGauge {
    /// A gauge whose wall time starts now.
    pub fn new() -> InFlightGauge {
        let now = Instant::now();
        InFlightGauge {
            state: Mutex::new(State {
                started: now,
                last: now,
                current: 0,
                peak: 0,
                area: 0.0,
                idle: Duration::ZERO,
            }),
        }
    }

    /// One request goes out; it counts until the guard is dropped.
    pub fn enter(&self) -> InFlightGuard<'_> {
        let mut state = self.state.lock().expect("gauge lock");
        state.advance(Instant::now());
        state.current += 1;
        state.peak = state.peak.max(state.current);
        InFlightGuard(self)
    }

    fn leave(&self) {
        let mut state = self.state.lock().expect("gauge lock");
        state.advance(Instant::now());
        state.current = state.current.saturating_sub(1);
    }

    /// The figures from the gauge's creation until now.
    pub fn stats(&self) -> InFlightStats {
        let mut state = self.state.lock().expect("gauge lock");
        let now = Instant::now();
        state.advance(now);
        let wall = now.saturating_duration_since(state.started);
        let secs = wall.as_secs_f64();
        let (average, idle_fraction) = if secs > 0.0 {
            (state.area / secs, (state.idle.as_secs_f64() / secs).min(1.0))
        } else {
            (0.0, 1.0)
        };
        InFlightStats {
            average,
            idle_fraction,
            peak: state.peak,
            wall_ms: u64::try_from(wall.as_millis()).unwrap_or(u64::MAX),
        }
    }
}

/// A request on the wire; dropping it (answer read, error, or abandoned) ends its count.
#[must_use = "the request counts as in flight only while the guard lives"]
pub struct InFlightGuard<'a>(&'a InFlightGauge);

impl Drop for InFlightGuard<'_> {
    fn drop(&mut self) {
        self.0.leave();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_untouched_gauge_is_idle() {
        let gauge = InFlightGauge::new();
        std::thread::sleep(Duration::from_millis(5));
        let stats = gauge.stats();
        assert_eq!(stats.average, 0.0);
        assert_eq!(stats.idle_fraction, 1.0);
        assert_eq!(stats.peak, 0);
    }

    #[test]
    fn the_average_weighs_each_level_by_how_long_it_held() {
        // Driven with explicit instants: sleeps on a busy machine overshoot.
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let mut state = State {
            started: t0,
            last: t0,
            current: 0,
            peak: 0,
            area: 0.0,
            idle: Duration::ZERO,
        };
        state.advance(at(400));
        state.current = 2;
        state.advance(at(800));
        state.current = 1;
        state.advance(at(1000));
        state.current = 0;
        // Idle 400 ms of 1 s; 2 × 0.4 s + 1 × 0.2 s = 1.0 request-second.
        assert_eq!(state.idle, Duration::from_millis(400));
        assert!((state.area - 1.0).abs() < 1e-9, "{}", state.area);
    }

    #[test]
    fn guards_count_while_they_live() {
        let gauge = InFlightGauge::new();
        {
            let _a = gauge.enter();
            let _b = gauge.enter();
        }
        let _c = gauge.enter();
        assert_eq!(gauge.stats().peak, 2);
        assert_eq!(gauge.state.lock().unwrap().current, 1);
    }
}
