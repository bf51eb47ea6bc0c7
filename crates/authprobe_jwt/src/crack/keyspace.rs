//! The keyspaces a scan walks after the built-in list, until `--crack-time` is spent: a
//! dictionary of English words with the usual mutations, every numeric key of 1 to 8
//! digits (shortest first), and short lowercase and lowercase-plus-digit keys.
//!
//! The order is the one the benchmark (`bench/`, "in-scan cracking coverage") chose: each
//! keyspace's likelihood of holding a human-picked key per candidate, so the cheap, likely
//! ones (short numbers, plain words) go before the large masks, and a 3 s budget on two
//! cores covers every key of up to 7 digits, every dictionary word with common suffixes and
//! every lowercase key of up to 5 letters.

use std::sync::OnceLock;

use super::{Mask, Source};

/// English words (`wordlists/english.txt`: SCOWL via Debian's wamerican, see
/// `wordlists/english.LICENSE`).
const ENGLISH: &str = include_str!("../../wordlists/english.txt");

/// The dictionary's words, shortest first.
pub fn english_words() -> &'static [&'static str] {
    static WORDS: OnceLock<Vec<&'static str>> = OnceLock::new();
    WORDS.get_or_init(|| {
        ENGLISH
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect()
    })
}

/// How a dictionary word is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Case {
    Lower,
    Capitalized,
    Upper,
}

/// A dictionary pass: every word in each case, with each suffix. Candidates are numbered
/// suffix-major, then case, then word, so a range of indices is a slice of one pass and
/// the likeliest spelling of every word comes before the rarer ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WordRule {
    pub cases: Vec<Case>,
    pub suffixes: Vec<Vec<u8>>,
}

impl WordRule {
    /// Candidates in the pass.
    pub fn len(&self) -> u64 {
        english_words().len() as u64 * self.cases.len() as u64 * self.suffixes.len() as u64
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Writes candidate `index` into `out` and returns its length (0 when it does not fit).
    pub(crate) fn write(&self, index: u64, out: &mut [u8]) -> usize {
        let words = english_words();
        let per_suffix = words.len() as u64 * self.cases.len() as u64;
        let suffix = &self.suffixes[(index / per_suffix) as usize];
        let rest = index % per_suffix;
        let case = self.cases[(rest / words.len() as u64) as usize];
        let word = words[(rest % words.len() as u64) as usize].as_bytes();
        let len = word.len() + suffix.len();
        if len > out.len() {
            return 0;
        }
        out[..word.len()].copy_from_slice(word);
        match case {
            Case::Lower => {}
            Case::Capitalized => out[0] = out[0].to_ascii_uppercase(),
            Case::Upper => out[..word.len()].make_ascii_uppercase(),
        }
        out[word.len()..len].copy_from_slice(suffix);
        len
    }

    /// The candidate at `index` (tests, progress).
    pub fn candidate(&self, index: u64) -> Vec<u8> {
        let mut buf = [0u8; 64];
        let n = self.write(index, &mut buf);
        buf[..n].to_vec()
    }
}

/// One keyspace of the in-scan sequence, with the name reports give it.
#[derive(Debug, Clone)]
pub struct Keyspace {
    pub name: String,
    pub source: Source,
}

fn digits(n: usize) -> Keyspace {
    Keyspace {
        name: format!("numeric, {n} digit{}", if n == 1 { "" } else { "s" }),
        source: Source::Mask(Mask::from_sets(vec![b"0123456789".to_vec(); n])),
    }
}

fn lower(n: usize) -> Keyspace {
    Keyspace {
        name: format!("lowercase, {n} letter{}", if n == 1 { "" } else { "s" }),
        source: Source::Mask(Mask::from_sets(vec![b"abcdefghijklmnopqrstuvwxyz".to_vec(); n])),
    }
}

fn lower_digits(n: usize) -> Keyspace {
    Keyspace {
        name: format!("lowercase and digits, {n} character{}", if n == 1 { "" } else { "s" }),
        source: Source::Mask(Mask::from_sets(vec![
            b"abcdefghijklmnopqrstuvwxyz0123456789".to_vec();
            n
        ])),
    }
}

fn words(name: &str, cases: &[Case], suffixes: Vec<Vec<u8>>) -> Keyspace {
    Keyspace {
        name: name.to_string(),
        source: Source::Words(WordRule {
            cases: cases.to_vec(),
            suffixes,
        }),
    }
}

/// The keyspaces after the built-in list and the user's wordlists, in the order a scan
/// walks them.
pub fn scan_keyspaces() -> Vec<Keyspace> {
    use Case::*;
    let common_suffixes: Vec<Vec<u8>> = (0..10)
        .map(|d| d.to_string())
        .chain(["123", "!", "1!", "2024", "2025", "2026"].map(String::from))
        .map(String::into_bytes)
        .collect();
    let two_digits: Vec<Vec<u8>> = (0..100).map(|d| format!("{d:02}").into_bytes()).collect();
    let mut out: Vec<Keyspace> = (1..=6).map(digits).collect();
    out.push(words(
        "dictionary words",
        &[Lower, Capitalized, Upper],
        vec![Vec::new()],
    ));
    out.push(words(
        "dictionary words with a digit, 123, ! or a year",
        &[Lower, Capitalized],
        common_suffixes,
    ));
    out.extend((1..=4).map(lower));
    out.push(digits(7));
    out.push(lower(5));
    out.push(words(
        "dictionary words with two digits",
        &[Lower, Capitalized],
        two_digits,
    ));
    out.extend((1..=5).map(lower_digits));
    out.push(digits(8));
    out.push(lower(6));
    out.push(lower_digits(6));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dictionary_holds_plain_lowercase_words_shortest_first() {
        let words = english_words();
        assert!(words.len() > 60_000, "{}", words.len());
        assert!(words.iter().all(|w| w.bytes().all(|b| b.is_ascii_lowercase())));
        assert!(words.windows(2).all(|p| p[0].len() <= p[1].len()));
        assert!(words.contains(&"dragon") && words.contains(&"sunshine"));
    }

    #[test]
    fn a_word_rule_numbers_suffix_then_case_then_word() {
        let rule = WordRule {
            cases: vec![Case::Lower, Case::Capitalized, Case::Upper],
            suffixes: vec![Vec::new(), b"1".to_vec()],
        };
        let n = english_words().len() as u64;
        assert_eq!(rule.len(), n * 6);
        let first = english_words()[0];
        assert_eq!(rule.candidate(0), first.as_bytes());
        assert_eq!(
            rule.candidate(n),
            (first[..1].to_ascii_uppercase() + &first[1..]).into_bytes()
        );
        assert_eq!(rule.candidate(2 * n), first.to_ascii_uppercase().as_bytes());
        assert_eq!(rule.candidate(3 * n), format!("{first}1").as_bytes());
    }

    #[test]
    fn numbers_come_shortest_first_and_every_keyspace_is_named() {
        let spaces = scan_keyspaces();
        assert_eq!(spaces[0].name, "numeric, 1 digit");
        assert_eq!(spaces[5].name, "numeric, 6 digits");
        let eight = spaces.iter().position(|k| k.name == "numeric, 8 digits").unwrap();
        let seven = spaces.iter().position(|k| k.name == "numeric, 7 digits").unwrap();
        assert!(seven < eight);
        let names: std::collections::HashSet<&str> = spaces.iter().map(|k| k.name.as_str()).collect();
        assert_eq!(names.len(), spaces.len(), "names are unique");
    }
}

#[cfg(test)]
mod in_scan_tests {
    use crate::crack::{crack_in_scan, scan_sources, CpuBudget, CrackTarget};
    use crate::forge::{sign_hmac, HmacAlg};
    use std::time::Duration;

    fn target(key: &str) -> CrackTarget {
        let header = serde_json::json!({"alg": "HS256", "typ": "JWT"});
        let claims = serde_json::json!({"token_type": "access", "user_id": 1, "exp": 1_700_000_300});
        let token = sign_hmac(
            HmacAlg::Hs256,
            header.as_object().unwrap(),
            claims.as_object().unwrap(),
            key.as_bytes(),
        );
        CrackTarget::from_jwt(&token).unwrap()
    }

    #[test]
    fn a_scan_finds_a_six_digit_key_and_a_dictionary_word() {
        for key in ["480613", "walrus", "Juniper"] {
            let outcome = crack_in_scan(&target(key), &[], &CpuBudget::new(Duration::from_secs(20), 2), 2);
            assert_eq!(outcome.found.as_deref(), Some(key.as_bytes()), "{key}: {outcome:?}");
        }
    }

    #[test]
    fn only_the_keyspaces_walked_to_the_end_count_as_exhausted() {
        let outcome = crack_in_scan(
            &target("not-in-any-keyspace-at-all"),
            &[],
            &CpuBudget::new(Duration::from_millis(300), 2),
            2,
        );
        assert!(outcome.found.is_none() && !outcome.exhausted);
        let names: Vec<String> = scan_sources(&[]).into_iter().map(|(n, _)| n).collect();
        assert_eq!(outcome.sources_exhausted.len(), names.len());
        let exhausted = |name: &str| outcome.sources_exhausted[names.iter().position(|n| n == name).unwrap()];
        assert!(
            exhausted("built-in candidates") && exhausted("numeric, 4 digits"),
            "{outcome:?}"
        );
        assert!(!exhausted("lowercase and digits, 6 characters"), "{outcome:?}");
        // Exhaustion is a prefix: nothing after the first unfinished keyspace is complete
        // except the small ones finished by another thread at the same time.
        let tried_all: u64 = names
            .iter()
            .zip(scan_sources(&[]))
            .zip(&outcome.sources_exhausted)
            .filter(|(_, e)| **e)
            .map(|((_, (_, s)), _)| crate::crack::source_len(&s))
            .sum();
        assert!(tried_all <= outcome.tried, "{tried_all} > {}", outcome.tried);
    }
}
