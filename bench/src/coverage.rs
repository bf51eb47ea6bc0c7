//! In-scan cracking coverage: what a scan's `--crack-time` (3 s by default) gets through
//! on this machine, which keyspaces it exhausts, and how fast the chosen keyspace order
//! finds the keys people pick, against a baseline order (the brute force most crackers
//! run: every lowercase-and-digit key, shortest first, then the dictionary).

use authprobe_jwt::crack::bench::{BENCHMARK_KEY, SIMPLEJWT_ACCESS_TOKEN};
use authprobe_jwt::crack::keyspace::scan_keyspaces;
use authprobe_jwt::crack::{
    crack_sources, scan_sources, source_len, CrackControl, CrackOptions, CrackTarget, Mask, Source,
};
use authprobe_jwt::forge::{sign_hmac, HmacAlg};
use std::io::Write;
use std::time::Duration;

/// The scan's default `--crack-time` (override with `AUTHPROBE_BENCH_CRACK_SECS`).
fn crack_time() -> Duration {
    let secs = std::env::var("AUTHPROBE_BENCH_CRACK_SECS")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .unwrap_or(3.0);
    Duration::from_secs_f64(secs)
}

/// Keys of the kinds people pick, each in a different keyspace.
const HUMAN_KEYS: &[(&str, &str)] = &[
    ("6-digit number", "482913"),
    ("dictionary word", "sunshine"),
    ("capitalized word and a digit", "Dragon7"),
    ("5 lowercase letters", "qwzvx"),
    ("7-digit number", "9081726"),
    ("word and two digits", "monkey42"),
];

/// A simplejwt-shaped HS256 access token signed with `key`.
fn token_signed_with(key: &str) -> String {
    let claims = authprobe_jwt::Jwt::parse(SIMPLEJWT_ACCESS_TOKEN)
        .expect("the benchmark token parses")
        .claims;
    let header = serde_json::json!({"alg": "HS256", "typ": "JWT"});
    sign_hmac(
        HmacAlg::Hs256,
        header.as_object().expect("an object"),
        &claims,
        key.as_bytes(),
    )
}

/// The baseline order: lowercase and digits, 1 to 6 characters, then the dictionary.
fn baseline_sources() -> Vec<Source> {
    let charset = b"abcdefghijklmnopqrstuvwxyz0123456789".to_vec();
    let mut out: Vec<Source> = (1..=6)
        .map(|n| Source::Mask(Mask::from_sets(vec![charset.clone(); n])))
        .collect();
    out.extend(
        scan_keyspaces()
            .into_iter()
            .filter(|k| matches!(k.source, Source::Words(_)))
            .map(|k| k.source),
    );
    out
}

/// Seconds to find `key` with `sources` on every core within `budget` (`None`: not found).
fn time_to_find(key: &str, sources: &[Source], budget: Duration) -> Option<f64> {
    let target = CrackTarget::from_jwt(&token_signed_with(key)).expect("a valid HS256 token");
    let options = CrackOptions {
        budget: Some(budget),
        threads: 0,
        background: None,
    };
    let outcome = crack_sources(&target, sources, &options, &CrackControl::default()).ok()?;
    (outcome.found.as_deref() == Some(key.as_bytes())).then_some(outcome.elapsed.as_secs_f64())
}

/// Prints the coverage of the default budget and the order comparison.
pub fn coverage_report(out: &mut impl Write) -> std::io::Result<()> {
    let budget = crack_time();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let target = CrackTarget::from_jwt(SIMPLEJWT_ACCESS_TOKEN).expect("a valid HS256 token");
    let named = scan_sources(&[]);
    let sources: Vec<Source> = named.iter().map(|(_, s)| s.clone()).collect();
    let options = CrackOptions {
        budget: Some(budget),
        threads: 0,
        background: None,
    };
    let outcome = crack_sources(&target, &sources, &options, &CrackControl::default()).expect("no files to open");
    assert!(
        outcome.found.is_none(),
        "the benchmark key {BENCHMARK_KEY} is in no keyspace"
    );
    writeln!(
        out,
        "In-scan cracking coverage: --crack-time {:.1} s on {cores} cores, simplejwt access token",
        budget.as_secs_f64()
    )?;
    writeln!(
        out,
        "  {} candidates tried in {:.2} s ({:.2} M/s)",
        outcome.tried,
        outcome.elapsed.as_secs_f64(),
        outcome.tried as f64 / outcome.elapsed.as_secs_f64() / 1e6
    )?;
    let mut cumulative = 0u64;
    for ((name, source), exhausted) in named.iter().zip(&outcome.sources_exhausted) {
        let size = source_len(source);
        let state = if *exhausted {
            "exhausted"
        } else if cumulative < outcome.tried {
            "partly tried"
        } else {
            "not reached"
        };
        cumulative = cumulative.saturating_add(size);
        writeln!(out, "  {name:<48} {size:>12} candidates  {state}")?;
    }
    writeln!(
        out,
        "\nTime to find keys people pick ({:.1} s budget each): chosen order vs baseline order (lowercase+digits 1-6, then the dictionary)",
        budget.as_secs_f64()
    )?;
    let chosen = sources;
    let baseline = baseline_sources();
    for (what, key) in HUMAN_KEYS {
        let mine = time_to_find(key, &chosen, budget);
        let theirs = time_to_find(key, &baseline, budget);
        let show = |t: Option<f64>| t.map_or("not found".to_string(), |s| format!("{s:.3} s"));
        let ratio = match (mine, theirs) {
            (Some(m), Some(t)) => format!("{:.1}x", t / m.max(1e-6)),
            (Some(_), None) => "only the chosen order finds it".to_string(),
            (None, Some(_)) => "only the baseline finds it".to_string(),
            (None, None) => "neither".to_string(),
        };
        writeln!(
            out,
            "  {what:<30} chosen {:>10}  baseline {:>10}  {ratio}",
            show(mine),
            show(theirs)
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_names_every_keyspace_and_every_key() {
        std::env::set_var("AUTHPROBE_BENCH_CRACK_SECS", "0.5");
        let mut out = Vec::new();
        coverage_report(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("numeric, 6 digits"), "{text}");
        assert!(text.contains("6-digit number"), "{text}");
        for (name, _) in scan_sources(&[]) {
            assert!(text.contains(&format!("  {name} ")), "{name}: {text}");
        }
        assert!(text.contains("exhausted"), "{text}");
    }
}
