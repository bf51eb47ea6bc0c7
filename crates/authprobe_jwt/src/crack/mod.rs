//! Offline recovery of HMAC secrets: HS256/HS384/HS512 JWTs and `django.core.signing` values.
//!
//! [`crack`] tries the built-in candidates (the empty key, common secrets with mutations, keys
//! known to be published), then each wordlist, on every core, until the secret is found, the
//! candidates run out or the time budget is spent. [`crack_sources`] adds masks, cancellation
//! and progress for the `authprobe crack` command.
//!
//! [`crack_many`], [`crack_many_in_scan`] and [`crack_many_sources`] crack several signed
//! values in one pass: the sources are walked once and each candidate is tried against every
//! value whose key is not found yet, the work that depends only on the candidate (the key
//! derivation, the HMAC's ipad and opad blocks) done once for all values that derive their
//! keys alike.
//!
//! Speed comes from [`engine`]: the message blocks and paddings are prepared once, each
//! candidate costs only the compression-function calls HMAC needs (SHA-NI where the CPU has
//! it), and nothing is allocated or base64-encoded per candidate.

pub mod bench;
mod candidates;
mod cpu_budget;
mod engine;
pub mod keyspace;
mod mask;
mod run;
#[cfg(target_arch = "x86_64")]
mod shani;
mod target;

pub use candidates::builtin_candidates;
pub use cpu_budget::{CpuBudget, WALL_CAP};
pub use mask::{Mask, MAX_MASK_LEN};
pub use run::{crack_many_sources, crack_sources, CrackControl, CrackOptions, Source};
pub use target::{CrackTarget, KeyDerivation};

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The hash function under HMAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MacAlg {
    Sha256,
    Sha384,
    Sha512,
}

impl MacAlg {
    /// MAC length in bytes.
    pub fn output_len(self) -> usize {
        match self {
            MacAlg::Sha256 => 32,
            MacAlg::Sha384 => 48,
            MacAlg::Sha512 => 64,
        }
    }

    /// The JWS `alg` name (HS256, HS384, HS512).
    pub fn jws_name(self) -> &'static str {
        match self {
            MacAlg::Sha256 => "HS256",
            MacAlg::Sha384 => "HS384",
            MacAlg::Sha512 => "HS512",
        }
    }
}

/// Why a value cannot be cracked or a cracking input is unusable.
#[derive(Debug, thiserror::Error)]
pub enum CrackError {
    #[error("not a JWT: {0}")]
    NotJwt(String),
    #[error("alg {0} is not HMAC (only HS256, HS384 and HS512 tokens can be cracked)")]
    NotHmac(String),
    #[error("bad signature: {0}")]
    BadSignature(String),
    #[error("not a Django-signed value: {0}")]
    NotDjangoSigned(String),
    #[error("bad mask {0}")]
    BadMask(String),
    #[error("cannot read wordlist {}: {source}", path.display())]
    Wordlist {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// What a cracking run achieved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrackOutcome {
    /// The recovered secret, verified with the reference HMAC implementation.
    pub found: Option<Vec<u8>>,
    /// Candidates tested: until the key came up, else all the run tried.
    pub tried: u64,
    /// Until the key came up, else the whole run.
    pub elapsed: Duration,
    /// Every candidate was tried (not stopped by the budget, a cancel or a find).
    pub exhausted: bool,
    /// Per source given, in order: whether every one of its candidates was tried (when the
    /// key came up, for a found one).
    pub sources_exhausted: Vec<bool>,
}

/// What one keyspace of a scan's cracking run covered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyspaceCoverage {
    pub name: String,
    /// Candidates in the keyspace (estimated for a wordlist: 0 until read).
    pub candidates: u64,
    pub exhausted: bool,
}

impl CrackOutcome {
    /// The names of the keyspaces every candidate of which was tried, for reports.
    pub fn coverage(&self, names: &[String], sizes: &[u64]) -> Vec<KeyspaceCoverage> {
        names
            .iter()
            .zip(sizes)
            .zip(self.sources_exhausted.iter().chain(std::iter::repeat(&false)))
            .map(|((name, size), exhausted)| KeyspaceCoverage {
                name: name.clone(),
                candidates: *size,
                exhausted: *exhausted,
            })
            .collect()
    }
}

/// The sources a scan cracks with, named: the built-in candidates, each wordlist, then
/// the in-scan keyspaces ([`keyspace::scan_keyspaces`]).
pub fn scan_sources(wordlists: &[PathBuf]) -> Vec<(String, Source)> {
    let mut out = vec![("built-in candidates".to_string(), Source::Builtin)];
    out.extend(
        wordlists
            .iter()
            .map(|p| (format!("wordlist {}", p.display()), Source::Wordlist(p.clone()))),
    );
    out.extend(keyspace::scan_keyspaces().into_iter().map(|k| (k.name, k.source)));
    out
}

/// Candidates a source holds (0 for a wordlist: it is not read ahead).
pub fn source_len(source: &Source) -> u64 {
    match source {
        Source::Builtin => builtin_candidates().len() as u64,
        Source::Mask(m) => m.len(),
        Source::Words(rule) => rule.len(),
        Source::Wordlist(_) => 0,
    }
}

/// Built-in candidates (with mutations), then each wordlist, until found, exhausted or
/// `budget` elapses. Blocking; uses `threads` threads (0 = all cores). A wordlist that
/// cannot be read ends the run there (`exhausted` is then false).
pub fn crack(target: &CrackTarget, wordlists: &[PathBuf], budget: Option<Duration>, threads: usize) -> CrackOutcome {
    one(crack_many(std::slice::from_ref(target), wordlists, budget, threads))
}

/// [`crack`] for several targets in one pass, until every one is found, the candidates run
/// out or `budget` elapses: one outcome per target, in the order given.
pub fn crack_many(
    targets: &[CrackTarget],
    wordlists: &[PathBuf],
    budget: Option<Duration>,
    threads: usize,
) -> Vec<CrackOutcome> {
    let mut sources = vec![Source::Builtin];
    sources.extend(wordlists.iter().cloned().map(Source::Wordlist));
    crack_with(
        targets,
        &sources,
        &CrackOptions {
            budget,
            threads,
            background: None,
        },
    )
}

/// What a scan runs: [`scan_sources`] (the built-ins, each wordlist, then the keyspaces:
/// numbers, dictionary words, short lowercase keys) until found or `budget` elapses.
/// `sources_exhausted` follows [`scan_sources`]'s order. The workers run in the background
/// ([`CrackOptions::background`]) within `budget`: the scan's probing, which waits on the
/// network, goes first. A scan with several signed values cracks them together with
/// [`crack_many_in_scan`].
pub fn crack_in_scan(
    target: &CrackTarget,
    wordlists: &[PathBuf],
    budget: &Arc<CpuBudget>,
    threads: usize,
) -> CrackOutcome {
    one(crack_many_in_scan(
        std::slice::from_ref(target),
        wordlists,
        budget,
        threads,
    ))
}

/// [`crack_in_scan`] for all of a scan's signed values in one pass: [`scan_sources`] are
/// walked once, each candidate tried against every value whose key is not found yet, until
/// all are found, the sources run out or `budget` is spent. One outcome per target, in the
/// order given; a found value's `elapsed` is the time until its key was found.
pub fn crack_many_in_scan(
    targets: &[CrackTarget],
    wordlists: &[PathBuf],
    budget: &Arc<CpuBudget>,
    threads: usize,
) -> Vec<CrackOutcome> {
    let sources: Vec<Source> = scan_sources(wordlists).into_iter().map(|(_, s)| s).collect();
    let options = CrackOptions {
        budget: None,
        threads,
        background: Some(budget.clone()),
    };
    crack_with(targets, &sources, &options)
}

fn one(mut outcomes: Vec<CrackOutcome>) -> CrackOutcome {
    outcomes.pop().expect("one outcome per target")
}

fn crack_with(targets: &[CrackTarget], sources: &[Source], options: &CrackOptions) -> Vec<CrackOutcome> {
    let control = CrackControl::default();
    let started = std::time::Instant::now();
    crack_many_sources(targets, sources, options, &control).unwrap_or_else(|_| {
        targets
            .iter()
            .map(|_| CrackOutcome {
                found: None,
                tried: control.tried(),
                elapsed: started.elapsed(),
                exhausted: false,
                sources_exhausted: Vec::new(),
            })
            .collect()
    })
}

#[cfg(test)]
mod tests;
