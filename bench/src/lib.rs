//! Benchmarks that print their ratio against a naive baseline measured in the same process,
//! so the figures compare on whatever machine runs them.

pub mod coverage;
pub mod django_cookie;
pub mod entropy;
pub mod multi_target;
pub mod scan;
pub mod testbed;

use authprobe_jwt::crack::bench::{
    candidates_per_second, compressions_per_candidate, BENCHMARK_CANDIDATE_LEN, BENCHMARK_KEY, SIMPLEJWT_ACCESS_TOKEN,
    SIMPLEJWT_PROFILE_TOKEN,
};
use authprobe_jwt::crack::CrackTarget;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::io::Write;
use std::time::{Duration, Instant};

/// How long each measurement runs (override with `AUTHPROBE_BENCH_SECS`).
fn measure_for() -> Duration {
    let secs = std::env::var("AUTHPROBE_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .unwrap_or(2.0);
    Duration::from_secs_f64(secs)
}

/// The naive way (what most JWT crackers do): a fresh `Hmac<Sha256>` per candidate, one
/// thread. Candidates are built the same way as the cracker's mask (fixed-width bytes).
pub fn baseline_per_second(target: &CrackTarget, duration: Duration) -> f64 {
    let started = Instant::now();
    let mut tried = 0u64;
    let mut candidate = *b"aaaaaaaaa";
    let mut found = false;
    while started.elapsed() < duration {
        for _ in 0..1024 {
            let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&candidate).expect("any key length");
            mac.update(&target.message);
            found |= mac.finalize().into_bytes().as_slice() == target.expected.as_slice();
            // Odometer over a-z, like a mask.
            for b in candidate.iter_mut().rev() {
                if *b == b'z' {
                    *b = b'a';
                } else {
                    *b += 1;
                    break;
                }
            }
        }
        tried += 1024;
    }
    assert!(!found, "the benchmark key is not in the baseline's candidates");
    tried as f64 / started.elapsed().as_secs_f64()
}

/// Prints candidates/s of the baseline, the cracker on one thread and on every core, with
/// the ratios, for a default simplejwt access token and one with profile claims; then
/// Django session-cookie cracking against JWT cracking ([`django_cookie`]), and several
/// signed values in one pass against one run per value ([`multi_target`]).
pub fn crack_report(out: &mut impl Write) -> std::io::Result<()> {
    let duration = measure_for();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let sha_ni = cfg!(target_arch = "x86_64") && {
        #[cfg(target_arch = "x86_64")]
        {
            std::arch::is_x86_feature_detected!("sha")
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            false
        }
    };
    writeln!(
        out,
        "HMAC secret cracking, HS256 ({cores} cores, SHA-NI {}), {:.1} s per measurement",
        if sha_ni { "yes" } else { "no" },
        duration.as_secs_f64()
    )?;
    for (name, token) in [
        ("simplejwt access token", SIMPLEJWT_ACCESS_TOKEN),
        ("simplejwt token with profile claims", SIMPLEJWT_PROFILE_TOKEN),
    ] {
        let target = CrackTarget::from_jwt(token).expect("a valid HS256 token");
        assert!(target.verify(BENCHMARK_KEY.as_bytes()));
        writeln!(
            out,
            "\n{name}: {}-byte signing input, {} compressions per candidate",
            target.message.len(),
            compressions_per_candidate(&target, BENCHMARK_CANDIDATE_LEN)
        )?;
        let baseline = baseline_per_second(&target, duration);
        let single = candidates_per_second(&target, 1, duration);
        let all = candidates_per_second(&target, cores, duration);
        let line = |out: &mut dyn Write, what: &str, rate: f64| {
            writeln!(
                out,
                "  {what:<34} {:>8.2} M candidates/s  {:>5.2}x",
                rate / 1e6,
                rate / baseline
            )
        };
        line(out, "baseline (hmac crate, 1 thread)", baseline)?;
        line(out, "authprobe, 1 thread", single)?;
        line(out, &format!("authprobe, {cores} threads"), all)?;
    }
    django_cookie::django_cookie_report(out, duration)?;
    multi_target::multi_target_report(out, duration)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_lists_every_measurement() {
        std::env::set_var("AUTHPROBE_BENCH_SECS", "0.05");
        let mut out = Vec::new();
        crack_report(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        // Three per token, two in the Django section.
        assert_eq!(text.matches("M candidates/s").count(), 8, "{text}");
        assert!(text.contains("185-byte signing input, 7 compressions"), "{text}");
    }
}
