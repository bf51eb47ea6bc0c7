//! Body similarity for the differential oracle: robust to nonces, timestamps and
//! reordered JSON keys, sensitive to different data.

use std::collections::HashSet;

/// Similarity in `[0, 1]` of two response bodies (Jaccard over normalised word tokens).
pub fn similarity(a: &[u8], b: &[u8]) -> f64 {
    let ta = tokens(a);
    let tb = tokens(b);
    if ta.is_empty() && tb.is_empty() {
        return 1.0;
    }
    let common = ta.intersection(&tb).count() as f64;
    let union = ta.union(&tb).count() as f64;
    common / union
}

/// Word tokens of a body; random-looking tokens (nonces, CSRF values, timestamps) are
/// dropped so two renderings of the same page compare equal.
fn tokens(body: &[u8]) -> HashSet<String> {
    String::from_utf8_lossy(body)
        .split(|c: char| !c.is_alphanumeric() && c != '_' && c != '@' && c != '.')
        .map(|t| t.trim_matches('.').to_ascii_lowercase())
        .filter(|t| !t.is_empty() && !looks_random(t))
        .collect()
}

fn looks_random(token: &str) -> bool {
    let digits = token.chars().filter(char::is_ascii_digit).count();
    let letters = token.chars().filter(|c| c.is_ascii_alphabetic()).count();
    (token.len() >= 16 && digits > 0 && letters > 0) || (digits >= 9 && letters == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_data_with_different_nonces_is_similar() {
        let a = br#"{"id":1,"username":"alice","csrf":"a8f7d9c0b1e2f3a4b5c6","ts":1700000000}"#;
        let b = br#"{"ts":1700000999,"username":"alice","id":1,"csrf":"ffeeddccbbaa99887766"}"#;
        assert!(similarity(a, b) > 0.99);
    }

    #[test]
    fn an_error_differs_from_data() {
        let a = br#"{"id":1,"username":"alice","email":"alice@example.com"}"#;
        let g = br#"{"detail":"Given token not valid for any token type","code":"token_not_valid"}"#;
        assert!(similarity(a, g) < 0.2);
    }

    #[test]
    fn two_empty_bodies_are_identical() {
        assert_eq!(similarity(b"", b""), 1.0);
    }
}
