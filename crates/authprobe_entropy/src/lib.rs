//! Token randomness analysis in the manner of Burp Sequencer, plus the structural
//! predictors statistics miss. Pure: no I/O, no clock (the caller passes the reference time).
//!
//! [`analyze`] takes a sample of tokens in issue order and returns an [`Analysis`]: the
//! alphabet × length bound, character-level and bit-level test results, an
//! effective-entropy estimate at the stated significance level, the structural predictors
//! that matched, and [`Verdict`]s in the vocabulary of the TOKEN001–TOKEN003 checks.

pub mod alphabet;
pub mod bits;
pub mod identity;
pub mod stats;
pub mod structure;

use serde::Serialize;
use std::collections::HashMap;

use alphabet::Alphabet;
use bits::{BitStream, BitTests};
use stats::chi2_sf;
use structure::Prediction;

/// Family-wise significance level of the randomness tests: with every test of a sample
/// corrected for multiplicity (Bonferroni), truly random samples are rejected at most this
/// often.
pub const DEFAULT_SIGNIFICANCE: f64 = 1e-4;

/// Effective entropy below which a token is weak (TOKEN001).
pub const WEAK_BITS: f64 = 64.0;

/// Most tokens analysed; more are ignored (and the report says so).
pub const MAX_TOKENS: usize = 20_000;

/// Fewest tokens the statistics and structural predictors say anything about.
pub const MIN_TOKENS: usize = 2;

/// Tokens whose format is taken as evidence: below this many, bounds are tentative.
const FORMAT_EVIDENCE: usize = 20;

/// What the caller knows besides the tokens.
#[derive(Debug, Clone)]
pub struct Options {
    /// Family-wise significance level of the statistical tests.
    pub significance: f64,
    /// Identity values (usernames, emails, user ids) tokens may be derived from.
    pub identities: Vec<String>,
    /// Unix time the tokens were issued around (the response `Date`), if known.
    pub reference_time: Option<i64>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            significance: DEFAULT_SIGNIFICANCE,
            identities: Vec::new(),
            reference_time: None,
        }
    }
}

/// The weaknesses the checks report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Weakness {
    /// TOKEN001: effective entropy below 64 bits.
    LowEntropy,
    /// TOKEN002: sequential, counter-, generator- or time-derived.
    Predictable,
    /// TOKEN003: a hash or encoding of an identity value or of a time.
    IdentityDerived,
}

impl Weakness {
    /// The check code reporting this weakness.
    pub fn code(self) -> &'static str {
        match self {
            Weakness::LowEntropy => "TOKEN001",
            Weakness::Predictable => "TOKEN002",
            Weakness::IdentityDerived => "TOKEN003",
        }
    }
}

/// How strong the evidence of a verdict is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Strength {
    /// Statistics on a small sample.
    Weak,
    /// Statistics on a reasonable sample, or a structure that fits every token.
    Strong,
    /// Proof: an exact hash match, the alphabet × length bound, a generator that
    /// reproduces every token of the sample.
    Conclusive,
}

/// One weakness the analysis found, with the reason in a sentence.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Verdict {
    pub weakness: Weakness,
    pub strength: Strength,
    pub summary: String,
}

/// How far the sample size lets the statistics be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reliability {
    /// Fewer than 100 tokens: bounds and structure only; statistics say little.
    Insufficient,
    /// 100–999 tokens.
    Weak,
    /// 1,000–4,999 tokens.
    Reasonable,
    /// 5,000–19,999 tokens.
    Good,
    /// 20,000 tokens (the maximum analysed).
    Excellent,
}

impl Reliability {
    pub fn of(n: usize) -> Reliability {
        match n {
            0..100 => Reliability::Insufficient,
            100..1000 => Reliability::Weak,
            1000..5000 => Reliability::Reasonable,
            5000..MAX_TOKENS => Reliability::Good,
            _ => Reliability::Excellent,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Reliability::Insufficient => "insufficient (< 100 tokens: bounds and structure only)",
            Reliability::Weak => "weak (100-999 tokens)",
            Reliability::Reasonable => "reasonable (1,000-4,999 tokens)",
            Reliability::Good => "good (5,000-19,999 tokens)",
            Reliability::Excellent => "excellent (20,000 tokens)",
        }
    }
}

/// Character-level results of one position.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Position {
    pub index: usize,
    /// Every token has the same character here.
    pub constant: bool,
    /// Distinct characters seen here.
    pub distinct: usize,
    /// p-value of the uniformity (count) test, when the sample is large enough.
    pub count_p: Option<f64>,
    /// p-value of the transition test against the previous position.
    pub transition_p: Option<f64>,
    /// Bits this position contributes to the effective-entropy estimate.
    pub bits: f64,
}

/// Everything [`analyze`] found.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Analysis {
    /// Tokens given.
    pub tokens: usize,
    /// Tokens analysed (at most [`MAX_TOKENS`]).
    pub analysed: usize,
    pub distinct: usize,
    /// Pairs of equal tokens.
    pub duplicate_pairs: usize,
    pub min_len: usize,
    pub max_len: usize,
    pub alphabet: Alphabet,
    /// Positions whose character varies across the sample.
    pub varying_positions: usize,
    pub reliability: Reliability,
    pub significance: f64,
    /// Upper bound from the alphabet and the lengths: no generator can put more entropy
    /// into this format.
    pub bound_bits: f64,
    /// Effective entropy per token at [`Analysis::significance`]: positions that fail their
    /// tests count with their observed entropy, and the estimate is capped by the
    /// compression and collision estimates.
    pub effective_bits: f64,
    /// Bits per token DEFLATE needed for the sample (an upper estimate of entropy).
    pub compression_bits: Option<f64>,
    /// Collision (Rényi-2) entropy estimated from duplicate pairs.
    pub collision_bits: Option<f64>,
    pub positions: Vec<Position>,
    pub bit_tests: Option<BitTests>,
    /// Tests whose p-value is below the per-test (Bonferroni) threshold.
    pub failed_tests: Vec<String>,
    pub predictions: Vec<Prediction>,
    pub verdicts: Vec<Verdict>,
}

impl Analysis {
    /// Whether randomness was rejected by any statistical test.
    pub fn randomness_rejected(&self) -> bool {
        !self.failed_tests.is_empty()
    }

    /// The strongest verdict for `weakness`, if any.
    pub fn verdict(&self, weakness: Weakness) -> Option<&Verdict> {
        self.verdicts
            .iter()
            .filter(|v| v.weakness == weakness)
            .max_by_key(|v| v.strength)
    }
}

/// Why a sample cannot be analysed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnalysisError {
    TooFewTokens(usize),
}

impl std::fmt::Display for AnalysisError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AnalysisError::TooFewTokens(n) => write!(
                f,
                "{n} token(s) given; at least {MIN_TOKENS} are needed (100 or more for meaningful statistics)"
            ),
        }
    }
}

impl std::error::Error for AnalysisError {}

/// Analyses tokens given in issue order (empty strings are ignored).
pub fn analyze<S: AsRef<str>>(tokens: &[S], options: &Options) -> Result<Analysis, AnalysisError> {
    let all: Vec<&[u8]> = tokens
        .iter()
        .map(|t| t.as_ref().as_bytes())
        .filter(|t| !t.is_empty())
        .collect();
    let given = all.len();
    let sample = &all[..given.min(MAX_TOKENS)];
    let n = sample.len();
    if n < MIN_TOKENS {
        return Err(AnalysisError::TooFewTokens(n));
    }
    let min_len = sample.iter().map(|t| t.len()).min().unwrap_or(0);
    let max_len = sample.iter().map(|t| t.len()).max().unwrap_or(0);

    // Per-position byte counts over the common length, one pass.
    let mut counts = vec![[0u32; 256]; min_len];
    let mut used = [false; 256];
    for t in sample {
        for (pos, &b) in t[..min_len].iter().enumerate() {
            counts[pos][b as usize] += 1;
        }
        for &b in &t[min_len..] {
            used[b as usize] = true;
        }
    }
    let trust_format = n >= FORMAT_EVIDENCE;
    let constant: Vec<bool> = counts
        .iter()
        .map(|c| trust_format && c.iter().filter(|&&k| k > 0).count() == 1)
        .collect();
    for (pos, c) in counts.iter().enumerate() {
        if !constant[pos] {
            for (b, &k) in c.iter().enumerate() {
                if k > 0 {
                    used[b] = true;
                }
            }
        }
    }
    if !used.iter().any(|&u| u) {
        // Every position constant: every token is the same string.
        for c in &counts {
            for (b, &k) in c.iter().enumerate() {
                used[b] |= k > 0;
            }
        }
    }
    let alphabet = Alphabet::smallest_holding(&used);
    let table = alphabet.index_table();
    let k = alphabet.size;
    let char_bits = alphabet.bits();

    // Positions that use far fewer characters than the alphabet would show in a sample this
    // size have their own, smaller alphabet (the last character of unpadded base64, the
    // variant nibble of a UUID): their characters are indexed within the observed set.
    let mut local: Vec<Option<[u16; 256]>> = vec![None; min_len];
    for pos in 0..min_len {
        let distinct = counts[pos].iter().filter(|&&c| c > 0).count();
        if !constant[pos] && trust_format && restricted(distinct, k, n) {
            let mut t = [u16::MAX; 256];
            let mut i = 0;
            for (b, &c) in counts[pos].iter().enumerate() {
                if c > 0 {
                    t[b] = i;
                    i += 1;
                }
            }
            local[pos] = Some(t);
        }
    }
    let size_at = |pos: usize| -> usize {
        if pos < min_len && constant[pos] {
            1
        } else if let Some(Some(t)) = local.get(pos) {
            t.iter().filter(|&&i| i != u16::MAX).count()
        } else {
            k
        }
    };

    let distinct_lengths = {
        let mut lengths: Vec<usize> = sample.iter().map(|t| t.len()).collect();
        lengths.sort_unstable();
        lengths.dedup();
        lengths.len()
    };
    // The hard bound: every position from the alphabet of every character seen (constant
    // ones included), every observed length.
    let mut all_used = used;
    for c in &counts {
        for (b, &n) in c.iter().enumerate() {
            all_used[b] |= n > 0;
        }
    }
    let full = Alphabet::smallest_holding(&all_used);
    let bound_bits = max_len as f64 * full.bits() + (distinct_lengths as f64).log2();
    // What the sample shows varying: constant positions carry nothing, restricted ones the
    // bits of their own character set.
    let varying = constant.iter().filter(|&&c| !c).count() + (max_len - min_len);

    // Character-level tests: uniformity per position and transitions between neighbours.
    let mut positions = Vec::with_capacity(min_len);
    let mut transitions = vec![0u32; k];
    for pos in 0..min_len {
        let distinct = counts[pos].iter().filter(|&&c| c > 0).count();
        let kp = size_at(pos);
        let mut p = Position {
            index: pos,
            constant: constant[pos],
            distinct,
            count_p: None,
            transition_p: None,
            bits: (kp as f64).log2(),
        };
        if kp > 1 && n >= 5 * kp {
            let expected = n as f64 / kp as f64;
            let pos_table = local[pos].as_ref().unwrap_or(&table);
            let mut x = 0.0;
            for (b, &c) in counts[pos].iter().enumerate() {
                if pos_table[b] != u16::MAX {
                    x += (c as f64 - expected).powi(2) / expected;
                }
            }
            p.count_p = Some(chi2_sf(x, (kp - 1) as f64));
            if pos > 0 && !constant[pos - 1] && local[pos].is_none() && local[pos - 1].is_none() {
                transitions.iter_mut().for_each(|t| *t = 0);
                for t in sample {
                    let a = table[t[pos - 1] as usize] as usize;
                    let b = table[t[pos] as usize] as usize;
                    transitions[(b + k - a) % k] += 1;
                }
                let x: f64 = transitions
                    .iter()
                    .map(|&c| (c as f64 - expected).powi(2) / expected)
                    .sum();
                p.transition_p = Some(chi2_sf(x, (k - 1) as f64));
            }
        }
        positions.push(p);
    }

    // The bit stream: unbiased bits of every non-constant position (for alphabets whose
    // size is not a power of two, only characters below the largest power of two count).
    let mut stream = BitStream::with_capacity(n * max_len * 6);
    let whole_bits = |size: usize| (size as f64).log2().floor() as u32;
    let main_bits = whole_bits(k);
    let per_position: Vec<(u32, u16)> = (0..min_len)
        .map(|pos| {
            let b = whole_bits(size_at(pos));
            (b, 1u16 << b)
        })
        .collect();
    for t in sample {
        for (pos, &b) in t.iter().enumerate() {
            let (count, limit, idx) = if pos < min_len {
                if constant[pos] {
                    continue;
                }
                let (count, limit) = per_position[pos];
                let idx = local[pos].as_ref().map_or(table[b as usize], |l| l[b as usize]);
                (count, limit, idx)
            } else {
                (main_bits, 1u16 << main_bits, table[b as usize])
            };
            if idx < limit {
                stream.push(u32::from(idx), count);
            }
        }
    }
    let bit_tests = (!stream.is_empty()).then(|| bits::run(&stream));

    // Multiplicity: every p-value of this sample is one test.
    let mut p_values: Vec<(String, f64)> = Vec::new();
    for p in &positions {
        if let Some(v) = p.count_p {
            p_values.push((format!("character counts at position {}", p.index), v));
        }
        if let Some(v) = p.transition_p {
            p_values.push((format!("transitions into position {}", p.index), v));
        }
    }
    if let Some(t) = &bit_tests {
        for (name, v) in t.p_values() {
            p_values.push((format!("{name} (bit level)"), v));
        }
    }
    let threshold = options.significance / p_values.len().max(1) as f64;
    let failed_tests: Vec<String> = p_values
        .iter()
        .filter(|(_, p)| *p < threshold)
        .map(|(name, p)| format!("{name}: p = {p:.2e}"))
        .collect();
    // Positions that fail count with their observed (plug-in) entropy.
    for p in positions.iter_mut() {
        let failed = p.count_p.is_some_and(|v| v < threshold) || p.transition_p.is_some_and(|v| v < threshold);
        if failed {
            p.bits = plug_in_entropy(&counts[p.index], n).min(p.bits);
        }
    }
    let positional: f64 = positions.iter().map(|p| p.bits).sum::<f64>() + (max_len - min_len) as f64 * char_bits;

    let compression_bits = (n >= FORMAT_EVIDENCE).then(|| compression_estimate(sample));
    let mut multiplicity: HashMap<&[u8], usize> = HashMap::with_capacity(n);
    for t in sample {
        *multiplicity.entry(t).or_default() += 1;
    }
    let distinct = multiplicity.len();
    let duplicate_pairs: usize = multiplicity.values().map(|&c| c * (c - 1) / 2).sum();
    let collision_bits = (duplicate_pairs > 0).then(|| {
        let pairs = n as f64 * (n as f64 - 1.0) / 2.0;
        (pairs / duplicate_pairs as f64).log2()
    });
    let mut effective_bits = positional.min(bound_bits);
    if let Some(c) = compression_bits {
        effective_bits = effective_bits.min(c);
    }
    if let Some(c) = collision_bits {
        effective_bits = effective_bits.min(c);
    }

    let strs: Vec<&str> = sample.iter().map(|t| std::str::from_utf8(t).unwrap_or("")).collect();
    let predictions = structure::predict(&strs, options.reference_time);
    let mut identity = identity::derived(&strs, &options.identities, options.reference_time);

    let reliability = Reliability::of(n);
    let mut verdicts = Vec::new();
    if bound_bits < WEAK_BITS {
        verdicts.push(Verdict {
            weakness: Weakness::LowEntropy,
            strength: if trust_format {
                Strength::Conclusive
            } else {
                Strength::Weak
            },
            summary: format!(
                "the format holds at most {bound_bits:.1} bits: {max_len} {} character(s) of {} symbols",
                full.name, full.size
            ),
        });
    }
    // Repeats say something once the sample is more than a handful of tokens.
    if distinct < n && distinct > 0 && n >= 10 {
        verdicts.push(Verdict {
            weakness: Weakness::LowEntropy,
            strength: if duplicate_pairs >= 2 || distinct * 2 <= n {
                Strength::Conclusive
            } else {
                Strength::Strong
            },
            summary: format!(
                "{} of {n} tokens repeat an earlier one ({duplicate_pairs} equal pair(s)); collision entropy ≈ {:.1} bits",
                n - distinct,
                collision_bits.unwrap_or(0.0)
            ),
        });
    }
    if effective_bits < WEAK_BITS && bound_bits >= WEAK_BITS && n >= FORMAT_EVIDENCE {
        let why = if compression_bits.is_some_and(|c| c <= effective_bits + 1e-9) {
            format!(
                "the sample compresses to {:.1} bits per token",
                compression_bits.unwrap_or(0.0)
            )
        } else if !failed_tests.is_empty() {
            format!(
                "{} statistical test(s) failed at significance {} ({})",
                failed_tests.len(),
                options.significance,
                failed_tests.iter().take(3).cloned().collect::<Vec<_>>().join("; ")
            )
        } else {
            format!("only {varying} of {max_len} positions vary, some over a reduced character set")
        };
        verdicts.push(Verdict {
            weakness: Weakness::LowEntropy,
            strength: if n >= 100 { Strength::Strong } else { Strength::Weak },
            summary: format!("effective entropy ≈ {effective_bits:.1} bits per token: {why}"),
        });
    }
    for p in &predictions {
        verdicts.push(Verdict {
            weakness: Weakness::Predictable,
            strength: p.strength,
            summary: p.summary.clone(),
        });
    }
    verdicts.append(&mut identity);

    Ok(Analysis {
        tokens: given,
        analysed: n,
        distinct,
        duplicate_pairs,
        min_len,
        max_len,
        alphabet,
        varying_positions: varying,
        reliability,
        significance: options.significance,
        bound_bits,
        effective_bits,
        compression_bits,
        collision_bits,
        positions,
        bit_tests,
        failed_tests,
        predictions,
        verdicts,
    })
}

/// Whether `distinct` characters in `n` draws are far (6 σ) fewer than a uniform choice
/// from `k` symbols shows.
fn restricted(distinct: usize, k: usize, n: usize) -> bool {
    let (k, n) = (k as f64, n as f64);
    let q1 = (1.0 - 1.0 / k).powf(n);
    let q2 = (1.0 - 2.0 / k).powf(n);
    let mean = k * (1.0 - q1);
    let var = (k * q1 + k * (k - 1.0) * q2 - k * k * q1 * q1).max(0.25);
    (distinct as f64) < mean - 6.0 * var.sqrt()
}

fn plug_in_entropy(counts: &[u32; 256], n: usize) -> f64 {
    let n = n as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

/// Bits per token of the DEFLATE-compressed sample (first 4,096 tokens, newline-separated,
/// the newlines' own cost included: an over-estimate, never an under-estimate).
fn compression_estimate(sample: &[&[u8]]) -> f64 {
    let take = sample.len().min(4096);
    let mut joined = Vec::with_capacity(take * (sample[0].len() + 1));
    for t in &sample[..take] {
        joined.extend_from_slice(t);
        joined.push(b'\n');
    }
    let compressed = miniz_oxide::deflate::compress_to_vec(&joined, 6);
    (compressed.len() * 8) as f64 / take as f64
}

#[cfg(test)]
mod tests;
