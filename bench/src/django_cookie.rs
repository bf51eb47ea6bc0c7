//! Django signed-cookie cracking against JWT cracking, per candidate and per compression.
//!
//! A Django candidate costs more hashing than a JWT one (its key is derived with SHA-256
//! before the HMAC), so candidates per second alone would compare unequal work. The fair
//! figure is compressions per CPU-second: equal when the key derivation runs through the
//! same multi-lane path as the HMAC. CPU time rather than wall time, so that other work on
//! the machine does not count against whichever measurement it overlapped.

use authprobe_jwt::crack::bench::{
    compressions_per_candidate, crack_benchmark_mask, BENCHMARK_CANDIDATE_LEN, BENCHMARK_KEY, DJANGO_SESSION_COOKIE,
    DJANGO_SESSION_SALT, SIMPLEJWT_ACCESS_TOKEN,
};
use authprobe_jwt::crack::CrackTarget;
use std::io::Write;
use std::time::{Duration, Instant};

/// Alternating JWT and Django measurements; the best of each is kept, so a burst of load on
/// the machine during one run does not decide the ratio.
const ROUNDS: usize = 3;

/// What one target's best run achieved.
#[derive(Debug, Clone, Copy, Default)]
pub struct Rate {
    /// Candidates per wall-clock second.
    pub candidates_per_second: f64,
    /// Candidates per CPU-second of the process: unlike wall-clock time, not lowered by
    /// other work taking the core.
    pub candidates_per_cpu_second: f64,
    /// SHA-256 compressions per CPU-second of the process.
    pub compressions_per_cpu_second: f64,
}

/// Measures `target` on one worker thread for about `duration`.
pub fn measure(target: &CrackTarget, duration: Duration) -> Rate {
    let compressions = compressions_per_candidate(target, BENCHMARK_CANDIDATE_LEN) as f64;
    let cpu_before = process_cpu_time();
    let wall_before = Instant::now();
    let outcome = crack_benchmark_mask(target, 1, duration);
    let cpu = process_cpu_time()
        .zip(cpu_before)
        .map(|(after, before)| after.saturating_sub(before))
        // Without a process clock, one busy thread's wall time.
        .unwrap_or_else(|| wall_before.elapsed());
    let per_cpu_second = outcome.tried as f64 / cpu.as_secs_f64();
    Rate {
        candidates_per_second: outcome.tried as f64 / outcome.elapsed.as_secs_f64(),
        candidates_per_cpu_second: per_cpu_second,
        compressions_per_cpu_second: per_cpu_second * compressions,
    }
}

/// Prints the simplejwt access token's and the Django session cookie's rates (both signing
/// inputs 184–185 bytes, so only the key derivation differs) and Django's ratio to JWT.
pub fn django_cookie_report(out: &mut impl Write, duration: Duration) -> std::io::Result<()> {
    let jwt = CrackTarget::from_jwt(SIMPLEJWT_ACCESS_TOKEN).expect("a valid HS256 token");
    let django = CrackTarget::from_django_signed(DJANGO_SESSION_COOKIE, DJANGO_SESSION_SALT, false)
        .expect("a valid Django session cookie");
    assert!(jwt.verify(BENCHMARK_KEY.as_bytes()) && django.verify(BENCHMARK_KEY.as_bytes()));

    writeln!(
        out,
        "\nDjango signed-cookie session vs JWT (1 thread, best of {ROUNDS} alternating runs, {BENCHMARK_CANDIDATE_LEN}-byte candidates)"
    )?;
    let (mut best_jwt, mut best_django) = (Rate::default(), Rate::default());
    for _ in 0..ROUNDS {
        best_jwt = best(best_jwt, measure(&jwt, duration));
        best_django = best(best_django, measure(&django, duration));
    }
    let rows = [
        ("simplejwt access token (HS256)", &jwt, best_jwt),
        ("Django session cookie (salted HMAC)", &django, best_django),
    ];
    for (name, target, rate) in rows {
        writeln!(
            out,
            "  {name:<36} {:>3}-byte input, {} compressions  {:>5.2} M candidates/s  {:>5.2} M candidates/CPU-s  {:>6.2} M compressions/CPU-s",
            target.message.len(),
            compressions_per_candidate(target, BENCHMARK_CANDIDATE_LEN),
            rate.candidates_per_second / 1e6,
            rate.candidates_per_cpu_second / 1e6,
            rate.compressions_per_cpu_second / 1e6,
        )?;
    }
    writeln!(
        out,
        "  Django / JWT: {:.2}x candidates/s, {:.2}x candidates per CPU-second, {:.2}x compressions per CPU-second",
        best_django.candidates_per_second / best_jwt.candidates_per_second,
        best_django.candidates_per_cpu_second / best_jwt.candidates_per_cpu_second,
        best_django.compressions_per_cpu_second / best_jwt.compressions_per_cpu_second,
    )
}

fn best(a: Rate, b: Rate) -> Rate {
    Rate {
        candidates_per_second: a.candidates_per_second.max(b.candidates_per_second),
        candidates_per_cpu_second: a.candidates_per_cpu_second.max(b.candidates_per_cpu_second),
        compressions_per_cpu_second: a.compressions_per_cpu_second.max(b.compressions_per_cpu_second),
    }
}

/// CPU time the whole process has used (every thread), where the OS has a clock for it.
#[cfg(unix)]
fn process_cpu_time() -> Option<Duration> {
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `now` is a valid, writable timespec for the call's duration.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut now) };
    (status == 0).then(|| Duration::new(now.tv_sec as u64, now.tv_nsec as u32))
}

#[cfg(not(unix))]
fn process_cpu_time() -> Option<Duration> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_compares_django_with_jwt() {
        let mut out = Vec::new();
        django_cookie_report(&mut out, Duration::from_millis(30)).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("185-byte input, 7 compressions"), "{text}");
        assert!(text.contains("184-byte input, 9 compressions"), "{text}");
        assert_eq!(text.matches("M compressions/CPU-s").count(), 2, "{text}");
        assert_eq!(text.matches("M candidates/CPU-s").count(), 2, "{text}");
        assert!(text.contains("Django / JWT: "), "{text}");
    }

    #[test]
    fn the_process_clock_counts_busy_time() {
        let Some(before) = process_cpu_time() else {
            return;
        };
        let started = Instant::now();
        let mut x = 0u64;
        while started.elapsed() < Duration::from_millis(20) {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
        assert!(process_cpu_time().unwrap() > before);
    }
}
