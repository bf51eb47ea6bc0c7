//! Several signed values cracked in one pass against one run per value side by side.
//!
//! A scan cracks every signed value it found (each JWT family's token, each Django-signed
//! cookie) within one CPU budget. It used to start one run per value, each on every core,
//! all charged to that budget; now one run walks the candidates once and tries each against
//! every value ([`authprobe_jwt::crack::crack_many_sources`]), computing the key derivation
//! and the ipad/opad blocks once for the values that derive their keys alike. The figure:
//! candidates tried per value, per second and per CPU-second, for 1, 3 and 6 values.

use authprobe_jwt::crack::bench::{
    BENCHMARK_CANDIDATE_LEN, BENCHMARK_KEY, DJANGO_SESSION_COOKIE, DJANGO_SESSION_SALT, SIMPLEJWT_ACCESS_TOKEN,
    SIMPLEJWT_PROFILE_TOKEN,
};
use authprobe_jwt::crack::{
    crack_many_sources, CpuBudget, CrackControl, CrackOptions, CrackOutcome, CrackTarget, MacAlg, Mask, Source,
};
use authprobe_jwt::forge::{sign_hmac, HmacAlg};
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The values each measurement cracks, as indices into [`scan_values`]: 1, 3 and 6 values
/// hashed with SHA-256 (simplejwt's default HS256, Django's signing), then 6 with one
/// HS512 token, whose SHA-512 (no SHA-NI) costs several times a SHA-256 value's.
pub const SETS: [&[usize]; 4] = [&[0], &[0, 1, 2], &[0, 1, 2, 3, 4, 5], &[0, 1, 2, 3, 4, 6]];

/// Alternating runs of each way; the best of each is kept.
const ROUNDS: usize = 2;

/// The signed values of a scan: a simplejwt access token, a Django signed-cookie session, a
/// token with profile claims (3: two JWT families and a session cookie); a Django messages
/// cookie, a refresh token, a second issuer's access token; an HS512 token. All signed with
/// [`BENCHMARK_KEY`], which the benchmark mask never reaches.
pub fn scan_values() -> Vec<(&'static str, CrackTarget)> {
    let access = CrackTarget::from_jwt(SIMPLEJWT_ACCESS_TOKEN).expect("a valid HS256 token");
    let session = CrackTarget::from_django_signed(DJANGO_SESSION_COOKIE, DJANGO_SESSION_SALT, false)
        .expect("a valid Django session cookie");
    let profile = CrackTarget::from_jwt(SIMPLEJWT_PROFILE_TOKEN).expect("a valid HS256 token");
    let mut hs512 = access.clone();
    hs512.alg = MacAlg::Sha512;
    hs512.expected = hs512.mac_with(BENCHMARK_KEY.as_bytes());
    let mut messages = CrackTarget::from_django_signed(DJANGO_SESSION_COOKIE, "django.contrib.messages", true)
        .expect("a valid Django value");
    messages.expected = messages.mac_with(BENCHMARK_KEY.as_bytes());
    let signed = |changes: &[(&str, serde_json::Value)]| {
        let mut claims = authprobe_jwt::Jwt::parse(SIMPLEJWT_ACCESS_TOKEN)
            .expect("the benchmark token parses")
            .claims;
        for (name, value) in changes {
            claims.insert(name.to_string(), value.clone());
        }
        let header = serde_json::json!({"typ": "JWT"});
        let token = sign_hmac(
            HmacAlg::Hs256,
            header.as_object().expect("an object"),
            &claims,
            BENCHMARK_KEY.as_bytes(),
        );
        CrackTarget::from_jwt(&token).expect("a valid HS256 token")
    };
    let refresh = signed(&[("token_type", "refresh".into()), ("exp", 1_700_086_400u64.into())]);
    let second_issuer = signed(&[("iss", "https://accounts.example.com".into()), ("sub", "42".into())]);
    let values = vec![
        ("simplejwt access token (HS256)", access),
        ("Django session cookie", session),
        ("simplejwt profile token (HS256)", profile),
        ("Django messages cookie", messages),
        ("simplejwt refresh token (HS256)", refresh),
        ("another issuer's access token (HS256)", second_issuer),
        ("access token claims, HS512", hs512),
    ];
    for (name, target) in &values {
        assert!(target.verify(BENCHMARK_KEY.as_bytes()), "{name}");
    }
    values
}

/// Candidates per value a measurement got through. One pass tries every value on the same
/// candidates; runs side by side go as fast as each value's hashing allows, so there the
/// values differ and the slowest one is given too.
#[derive(Debug, Clone, Copy, Default)]
pub struct PerValue {
    /// Mean over the values, per wall-clock second.
    pub per_second: f64,
    /// Mean over the values, per CPU-second charged to the budget.
    pub per_cpu_second: f64,
    /// The value tried on the fewest candidates, per CPU-second.
    pub slowest_per_cpu_second: f64,
}

impl PerValue {
    fn best(self, other: PerValue) -> PerValue {
        PerValue {
            per_second: self.per_second.max(other.per_second),
            per_cpu_second: self.per_cpu_second.max(other.per_cpu_second),
            slowest_per_cpu_second: self.slowest_per_cpu_second.max(other.slowest_per_cpu_second),
        }
    }
}

fn options(budget: &Arc<CpuBudget>) -> CrackOptions {
    CrackOptions {
        budget: None,
        threads: 0,
        background: Some(budget.clone()),
    }
}

fn mask() -> [Source; 1] {
    [Source::Mask(
        Mask::parse(&"?a".repeat(BENCHMARK_CANDIDATE_LEN)).expect("a valid mask"),
    )]
}

fn per_value(outcomes: &[CrackOutcome], wall: Duration, budget: &CpuBudget) -> PerValue {
    assert!(
        outcomes.iter().all(|o| o.found.is_none()),
        "the mask never reaches the key"
    );
    let tried = outcomes.iter().map(|o| o.tried as f64).sum::<f64>() / outcomes.len() as f64;
    let fewest = outcomes.iter().map(|o| o.tried).min().unwrap_or(0) as f64;
    let cpu = budget.spent().as_secs_f64();
    PerValue {
        per_second: tried / wall.as_secs_f64(),
        per_cpu_second: tried / cpu,
        slowest_per_cpu_second: fewest / cpu,
    }
}

/// One pass over the mask for every value, on every core, within `duration` of CPU time on
/// every core (what a scan does now).
pub fn one_pass(targets: &[CrackTarget], duration: Duration) -> PerValue {
    let budget = CpuBudget::on_every_core(duration);
    let started = Instant::now();
    let outcomes =
        crack_many_sources(targets, &mask(), &options(&budget), &CrackControl::default()).expect("no files to open");
    per_value(&outcomes, started.elapsed(), &budget)
}

/// One run per value, side by side, each on every core, all within one budget of `duration`
/// on every core (what a scan did before).
pub fn one_run_per_value(targets: &[CrackTarget], duration: Duration) -> PerValue {
    let budget = CpuBudget::on_every_core(duration);
    let started = Instant::now();
    let outcomes: Vec<CrackOutcome> = std::thread::scope(|scope| {
        let runs: Vec<_> = targets
            .iter()
            .map(|target| {
                let budget = &budget;
                scope.spawn(move || {
                    crack_many_sources(
                        std::slice::from_ref(target),
                        &mask(),
                        &options(budget),
                        &CrackControl::default(),
                    )
                    .expect("no files to open")
                    .remove(0)
                })
            })
            .collect();
        runs.into_iter().map(|run| run.join().expect("a run")).collect()
    });
    per_value(&outcomes, started.elapsed(), &budget)
}

/// Prints, for each of [`SETS`], candidates per value per second and per CPU-second of one
/// pass and of one run per value (the mean over the values and the slowest value), and the
/// ratios.
pub fn multi_target_report(out: &mut impl Write, duration: Duration) -> std::io::Result<()> {
    let values = scan_values();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    writeln!(
        out,
        "\nSeveral signed values: one pass for all vs one run per value side by side ({cores} cores, {:.1} s of CPU time per core each, {BENCHMARK_CANDIDATE_LEN}-byte candidates, best of {ROUNDS} alternating runs)",
        duration.as_secs_f64()
    )?;
    for set in SETS {
        let n = set.len();
        let targets: Vec<CrackTarget> = set.iter().map(|&i| values[i].1.clone()).collect();
        let names: Vec<&str> = set.iter().map(|&i| values[i].0).collect();
        let (mut pass, mut runs) = (PerValue::default(), PerValue::default());
        for _ in 0..ROUNDS {
            pass = pass.best(one_pass(&targets, duration));
            runs = runs.best(one_run_per_value(&targets, duration));
        }
        writeln!(
            out,
            "  {n} value{}: {}",
            if n == 1 { "" } else { "s" },
            names.join(", ")
        )?;
        for (what, rate) in [("one pass", pass), ("one run per value", runs)] {
            writeln!(
                out,
                "    {what:<18} {:>6.2} M/s per value  {:>6.2} M/CPU-s per value  {:>6.2} M/CPU-s the slowest value",
                rate.per_second / 1e6,
                rate.per_cpu_second / 1e6,
                rate.slowest_per_cpu_second / 1e6
            )?;
        }
        writeln!(
            out,
            "    one pass / one run per value: {:.2}x per CPU-second ({:.2}x for the slowest value), {:.2}x per second",
            pass.per_cpu_second / runs.per_cpu_second,
            pass.slowest_per_cpu_second / runs.slowest_per_cpu_second,
            pass.per_second / runs.per_second
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scan_values_are_distinct_and_verify() {
        let values = scan_values();
        assert_eq!(values.len(), 7);
        assert!(SETS.iter().flat_map(|set| set.iter()).all(|&i| i < values.len()));
        for (i, (_, a)) in values.iter().enumerate() {
            for (_, b) in &values[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    #[test]
    fn the_report_compares_both_ways_for_each_count() {
        let mut out = Vec::new();
        multi_target_report(&mut out, Duration::from_millis(20)).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text.matches("one pass / one run per value").count(),
            SETS.len(),
            "{text}"
        );
        assert_eq!(text.matches("M/CPU-s per value").count(), 2 * SETS.len(), "{text}");
        assert!(text.contains("6 values: simplejwt access token"), "{text}");
    }
}
