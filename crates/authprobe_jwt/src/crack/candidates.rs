//! The built-in candidates: the empty key, common secrets with simple mutations, and
//! secrets known to be published (tried verbatim).

use std::collections::HashSet;
use std::sync::OnceLock;

/// Weak secrets and placeholders, mutated (`wordlists/common.txt`).
const COMMON: &str = include_str!("../../wordlists/common.txt");
/// Secrets published verbatim, not mutated (`wordlists/published.txt`).
const PUBLISHED: &str = include_str!("../../wordlists/published.txt");

/// Suffixes appended by the mutations: digits 0-9 and 00-99, 123, recent years, `!`.
fn suffixes() -> Vec<String> {
    let mut out = vec![String::new()];
    out.extend((0..10).map(|d| d.to_string()));
    out.extend((0..100).map(|d| format!("{d:02}")));
    out.push("123".to_string());
    out.extend((2024..=2026).map(|y| y.to_string()));
    out.push("!".to_string());
    out
}

fn entries(list: &str) -> impl Iterator<Item = &str> {
    list.lines().filter(|l| !l.is_empty() && !l.starts_with('#'))
}

/// Case variants of a word: as written, lower, upper, capitalized.
fn case_variants(word: &str) -> [String; 4] {
    let mut chars = word.chars();
    let capitalized = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars.flat_map(char::to_lowercase)).collect(),
        None => String::new(),
    };
    [word.to_string(), word.to_lowercase(), word.to_uppercase(), capitalized]
}

/// Every built-in candidate, most likely first, without duplicates.
pub fn builtin_candidates() -> &'static [Vec<u8>] {
    static LIST: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    LIST.get_or_init(|| {
        let mut seen = HashSet::new();
        let mut out: Vec<Vec<u8>> = Vec::new();
        let mut push = |c: String| {
            if seen.insert(c.clone()) {
                out.push(c.into_bytes());
            }
        };
        push(String::new());
        entries(COMMON)
            .chain(entries(PUBLISHED))
            .for_each(|w| push(w.to_string()));
        let suffixes = suffixes();
        for suffix in &suffixes {
            for word in entries(COMMON) {
                for variant in case_variants(word) {
                    push(format!("{variant}{suffix}"));
                }
            }
        }
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn has(c: &str) -> bool {
        builtin_candidates().iter().any(|x| x == c.as_bytes())
    }

    #[test]
    fn builtins_start_with_the_empty_key_and_have_no_duplicates() {
        let list = builtin_candidates();
        assert_eq!(list[0], b"");
        let unique: HashSet<_> = list.iter().collect();
        assert_eq!(unique.len(), list.len());
        assert!(list.len() > 10_000, "{}", list.len());
    }

    #[test]
    fn builtins_include_common_secrets_published_keys_and_mutations() {
        for c in [
            "secret",
            "your-256-bit-secret",
            "SECRET_KEY",
            "Secret123",
            "CHANGEME2025",
            "password!",
            "supersecret07",
            "django-insecure-7v#q2m!x9@h1w$k3p^r8t&z0u*b4n(e6)s-y+c=j%f5g_a~l",
        ] {
            assert!(has(c), "{c} missing");
        }
        assert!(!has(
            "# Weak HMAC secrets seen in JWT and Django deployments: defaults, placeholders and the keys"
        ));
    }

    #[test]
    fn the_testbed_key_is_in_the_published_list() {
        let settings = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testbed/project/settings.py");
        let Ok(text) = std::fs::read_to_string(settings) else {
            return; // the crate built outside this repository
        };
        let key = text
            .lines()
            .filter_map(|l| l.trim().strip_prefix("SECRET_KEY = \"django-insecure-"))
            .next()
            .expect("the testbed has a django-insecure key");
        let key = format!("django-insecure-{}", key.trim_end_matches('"'));
        assert!(has(&key), "{key}");
    }
}
