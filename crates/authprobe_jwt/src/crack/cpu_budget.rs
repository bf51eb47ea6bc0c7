//! In-scan cracking's budget as CPU time rather than wall time. The workers run in the
//! background (see [`super::CrackOptions::background`]), so on a busy machine (a CI runner
//! with the API under test on it) they get less of each second; counting the CPU time they
//! got instead of the seconds that passed makes a scan try the same candidates, and so find
//! the same keys, on a busy machine as on an idle one. A wall-time cap bounds the wait on a
//! machine that never has a core to spare.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How many times the budget a run may take in wall time before it stops regardless.
pub const WALL_CAP: u32 = 4;

/// `budget` of every core, shared by every run given the same budget (a scan's signed
/// values crack in one run within it, as they did within one wall-time budget).
#[derive(Debug)]
pub struct CpuBudget {
    quota_ns: u64,
    spent_ns: AtomicU64,
    wall_deadline: Instant,
}

impl CpuBudget {
    /// `budget` on each of `cores` cores: what the workers would get in `budget` of wall
    /// time with the machine to themselves.
    pub fn new(budget: Duration, cores: usize) -> Arc<CpuBudget> {
        let quota = budget.saturating_mul(cores.max(1) as u32);
        Arc::new(CpuBudget {
            quota_ns: u64::try_from(quota.as_nanos()).unwrap_or(u64::MAX),
            spent_ns: AtomicU64::new(0),
            wall_deadline: Instant::now() + budget.saturating_mul(WALL_CAP),
        })
    }

    /// `budget` on every core of this machine.
    pub fn on_every_core(budget: Duration) -> Arc<CpuBudget> {
        CpuBudget::new(budget, std::thread::available_parallelism().map_or(1, |n| n.get()))
    }

    /// Counts CPU time a worker spent.
    pub(crate) fn charge(&self, spent: Duration) {
        let ns = u64::try_from(spent.as_nanos()).unwrap_or(u64::MAX);
        self.spent_ns.fetch_add(ns, Ordering::Relaxed);
    }

    /// Whether the CPU time is spent, or the wall-time cap reached.
    pub(crate) fn is_spent(&self) -> bool {
        self.spent_ns.load(Ordering::Relaxed) >= self.quota_ns || Instant::now() >= self.wall_deadline
    }

    /// CPU time counted so far.
    pub fn spent(&self) -> Duration {
        Duration::from_nanos(self.spent_ns.load(Ordering::Relaxed))
    }
}

/// A worker's own CPU clock, read in laps.
pub(crate) struct ThreadClock {
    last: Duration,
}

impl ThreadClock {
    pub(crate) fn start() -> ThreadClock {
        ThreadClock { last: thread_time() }
    }

    /// The time spent since the last lap (or the start).
    pub(crate) fn lap(&mut self) -> Duration {
        let now = thread_time();
        let lap = now.saturating_sub(self.last);
        self.last = now;
        lap
    }
}

/// The calling thread's CPU time (Linux); elsewhere, wall time since an arbitrary point,
/// which makes the budget a wall-time one per worker.
fn thread_time() -> Duration {
    #[cfg(target_os = "linux")]
    {
        let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: `ts` is a valid, writable timespec for the duration of the call.
        if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) } == 0 {
            return Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32);
        }
    }
    static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    EPOCH.get_or_init(Instant::now).elapsed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_is_spent_by_cpu_time_on_every_core_or_by_the_wall_cap() {
        let budget = CpuBudget::new(Duration::from_millis(100), 2);
        budget.charge(Duration::from_millis(150));
        assert!(!budget.is_spent(), "2 cores x 100 ms is 200 ms of CPU time");
        budget.charge(Duration::from_millis(50));
        assert!(budget.is_spent());
        assert_eq!(budget.spent(), Duration::from_millis(200));

        let capped = CpuBudget::new(Duration::from_millis(10), 2);
        std::thread::sleep(Duration::from_millis(10 * u64::from(WALL_CAP) + 5));
        assert!(
            capped.is_spent(),
            "a machine with no core to spare ends the run at the cap"
        );
    }

    #[test]
    fn a_sleeping_thread_spends_no_cpu_time() {
        let mut clock = ThreadClock::start();
        std::thread::sleep(Duration::from_millis(50));
        let slept = clock.lap();
        let started = Instant::now();
        let mut x = 0u64;
        while started.elapsed() < Duration::from_millis(30) {
            x = std::hint::black_box(x.wrapping_add(1));
        }
        let busy = clock.lap();
        if cfg!(target_os = "linux") {
            assert!(slept < Duration::from_millis(20), "slept {slept:?}");
        }
        assert!(busy > Duration::ZERO, "busy {busy:?}");
    }
}
