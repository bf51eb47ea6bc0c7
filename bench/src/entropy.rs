//! Token analysis speed: `authprobe_entropy::analyze` on 20,000 tokens of 40 characters
//! against a straightforward analyser measured in the same process.

use std::collections::HashMap;
use std::io::Write;
use std::time::{Duration, Instant};

/// Tokens per sample (Burp Sequencer's maximum) and characters per token.
pub const TOKENS: usize = 20_000;
pub const TOKEN_LEN: usize = 40;
/// The budget the issue sets for one analysis of the sample.
pub const BUDGET: Duration = Duration::from_millis(100);

/// 20,000 DRF-authtoken-like keys (40 hex characters) from a fixed-seed xorshift.
pub fn sample() -> Vec<String> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..TOKENS)
        .map(|_| {
            (0..TOKEN_LEN / 16 + 1)
                .map(|_| format!("{:016x}", next()))
                .collect::<String>()[..TOKEN_LEN]
                .to_string()
        })
        .collect()
}

/// What a straightforward analyser does: a hash map of characters per position, the bit
/// stream as a `Vec<bool>` built from formatted binary strings, one pass per test over it.
/// Returns the number of failed FIPS-style checks, so the work cannot be optimised away.
pub fn baseline(tokens: &[String]) -> usize {
    let len = tokens.iter().map(|t| t.chars().count()).min().unwrap_or(0);
    let mut per_position: Vec<HashMap<char, usize>> = vec![HashMap::new(); len];
    for t in tokens {
        for (i, c) in t.chars().take(len).enumerate() {
            *per_position[i].entry(c).or_default() += 1;
        }
    }
    let mut alphabet: Vec<char> = per_position.iter().flat_map(|m| m.keys().copied()).collect();
    alphabet.sort_unstable();
    alphabet.dedup();
    let width = (alphabet.len() as f64).log2().ceil() as usize;
    let mut bits: Vec<bool> = Vec::new();
    for t in tokens {
        for c in t.chars() {
            let idx = alphabet.iter().position(|&a| a == c).unwrap_or(0);
            let s = format!("{idx:0width$b}");
            bits.extend(s.chars().map(|b| b == '1'));
        }
    }
    let mut failed = 0;
    let n = tokens.len() as f64;
    for m in &per_position {
        let expected = n / alphabet.len() as f64;
        let chi: f64 = alphabet
            .iter()
            .map(|c| (*m.get(c).unwrap_or(&0) as f64 - expected).powi(2) / expected)
            .sum();
        failed += usize::from(chi > 60.0);
    }
    let ones = bits.iter().filter(|&&b| b).count() as f64;
    failed += usize::from((2.0 * ones - bits.len() as f64).abs() / (bits.len() as f64).sqrt() > 4.0);
    let mut poker = [0usize; 16];
    for chunk in bits.chunks_exact(4) {
        poker[chunk.iter().fold(0, |a, &b| (a << 1) | usize::from(b))] += 1;
    }
    let mut runs = 1;
    let mut longest = 1;
    let mut current = 1;
    for w in bits.windows(2) {
        if w[0] == w[1] {
            current += 1;
            longest = longest.max(current);
        } else {
            runs += 1;
            current = 1;
        }
    }
    failed += usize::from(longest >= 40) + usize::from(runs == 0) + usize::from(poker[0] == 0);
    let joined = tokens.join("\n");
    let compressed = miniz_oxide::deflate::compress_to_vec(joined.as_bytes(), 6);
    failed + usize::from(compressed.len() < 10)
}

/// The best of `rounds` timings of `f`.
fn best_of<T>(rounds: usize, mut f: impl FnMut() -> T) -> Duration {
    (0..rounds)
        .map(|_| {
            let started = Instant::now();
            std::hint::black_box(f());
            started.elapsed()
        })
        .min()
        .unwrap_or_default()
}

/// Prints the time of one analysis of 20,000 × 40-character tokens, the baseline's, and the
/// ratio; says whether the analysis fits the 100 ms budget.
pub fn entropy_report(out: &mut impl Write, rounds: usize) -> std::io::Result<Duration> {
    let tokens = sample();
    let options = authprobe_entropy::Options::default();
    let analysis = authprobe_entropy::analyze(&tokens, &options).expect("enough tokens");
    assert!(
        analysis.verdicts.is_empty(),
        "random keys flagged: {:?}",
        analysis.verdicts
    );
    let base = best_of(rounds, || baseline(&tokens));
    let ours = best_of(rounds, || authprobe_entropy::analyze(&tokens, &options));
    writeln!(
        out,
        "Token randomness analysis, {TOKENS} tokens x {TOKEN_LEN} characters (best of {rounds})"
    )?;
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    writeln!(
        out,
        "  {:<34} {:>8.1} ms  {:>5.2}x",
        "baseline (naive analyser)",
        ms(base),
        1.0
    )?;
    writeln!(
        out,
        "  {:<34} {:>8.1} ms  {:>5.2}x  ({} the {} ms budget)",
        "authprobe_entropy::analyze",
        ms(ours),
        base.as_secs_f64() / ours.as_secs_f64(),
        if ours < BUDGET { "within" } else { "OVER" },
        BUDGET.as_millis()
    )?;
    Ok(ours)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_is_20000_distinct_keys_and_the_report_names_both_timings() {
        let tokens = sample();
        assert_eq!(tokens.len(), TOKENS);
        assert!(tokens.iter().all(|t| t.len() == TOKEN_LEN));
        let distinct: std::collections::HashSet<_> = tokens.iter().collect();
        assert_eq!(distinct.len(), TOKENS);
        let mut out = Vec::new();
        entropy_report(&mut out, 1).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("baseline (naive analyser)") && text.contains("authprobe_entropy::analyze"),
            "{text}"
        );
    }
}
