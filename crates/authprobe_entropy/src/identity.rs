//! Tokens derived from who they were issued to: hashes (MD5, SHA-1, SHA-256, SHA-512) or
//! encodings (hex, base64) of usernames, emails and user ids — alone, with common salts or
//! counters, or joined to the issue time — and of the issue time; and tokens that simply
//! decode to readable text.

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};
use std::collections::HashMap;

use crate::{Strength, Verdict, Weakness};

/// Salts teams put next to the identity before hashing.
const SALTS: &[&str] = &[
    "salt", "secret", "token", "key", "api", "apikey", "api_key", "pepper", "django", "app", "reset", "session",
];
/// Separators between an identity and a salt, counter or time.
const SEPARATORS: &[&str] = &["", ":", "-", "_", "|", "."];
/// Counters tried after an identity (`alice1`, `alice:2`, ...).
const COUNTERS: u32 = 32;
/// Seconds around the reference time tried as hashed times.
const TIME_WINDOW: i64 = 300;
/// Shortest token matched against a truncated digest.
const MIN_TRUNCATED: usize = 16;

/// How a candidate was made, for the report.
#[derive(Debug, Clone)]
struct Recipe {
    text: String,
}

fn digests(preimage: &str) -> Vec<(&'static str, Vec<u8>)> {
    let b = preimage.as_bytes();
    vec![
        ("md5", Md5::digest(b).to_vec()),
        ("sha1", Sha1::digest(b).to_vec()),
        ("sha256", Sha256::digest(b).to_vec()),
        ("sha512", Sha512::digest(b).to_vec()),
    ]
}

fn encodings(bytes: &[u8]) -> [String; 5] {
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    [
        hex.to_ascii_uppercase(),
        STANDARD.encode(bytes),
        URL_SAFE_NO_PAD.encode(bytes),
        STANDARD_NO_PAD.encode(bytes),
        hex,
    ]
}

/// Every (candidate token → recipe) for these identity values and reference time.
fn candidates(identities: &[String], reference_time: Option<i64>) -> HashMap<String, Recipe> {
    let mut preimages: Vec<(String, String)> = Vec::new();
    let mut values: Vec<String> = Vec::new();
    for id in identities.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        for v in [id.to_string(), id.to_lowercase()] {
            if !values.contains(&v) {
                values.push(v);
            }
        }
    }
    for v in &values {
        preimages.push((v.clone(), format!("`{v}`")));
        for salt in SALTS {
            for sep in [":", "", "-", "_"] {
                preimages.push((format!("{v}{sep}{salt}"), format!("`{v}` + `{sep}{salt}`")));
                preimages.push((format!("{salt}{sep}{v}"), format!("`{salt}{sep}` + `{v}`")));
            }
        }
        for sep in SEPARATORS {
            for i in 0..=COUNTERS {
                preimages.push((format!("{v}{sep}{i}"), format!("`{v}` + `{sep}{i}` (a counter)")));
            }
        }
        for other in values.iter().filter(|o| *o != v) {
            for sep in [":", "", "|", "-"] {
                preimages.push((format!("{v}{sep}{other}"), format!("`{v}` + `{sep}{other}`")));
            }
        }
    }
    let mut out = HashMap::new();
    if let Some(t) = reference_time {
        // Hashed issue times: hex digests of the decimal Unix time.
        for s in t.saturating_sub(TIME_WINDOW)..=t.saturating_add(TIME_WINDOW) {
            let pre = s.to_string();
            for (hash, digest) in digests(&pre).into_iter().take(3) {
                let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
                out.entry(hex).or_insert_with(|| Recipe {
                    text: format!("{hash}(the Unix time {s})"),
                });
            }
        }
    }
    for (pre, how) in &preimages {
        for enc in encodings(pre.as_bytes()) {
            out.entry(enc).or_insert_with(|| Recipe {
                text: format!("an encoding (hex/base64) of {how}"),
            });
        }
        if pre.len() >= MIN_TRUNCATED {
            out.entry(pre.clone()).or_insert_with(|| Recipe {
                text: format!("literally {how}"),
            });
        }
        for (hash, digest) in digests(pre) {
            for enc in encodings(&digest) {
                out.entry(enc).or_insert_with(|| Recipe {
                    text: format!("{hash}({how})"),
                });
            }
        }
    }
    out
}

/// Tokens tried against identity-and-time digests (each costs a hash per value, second
/// and separator of the window).
const MAX_TIMED_TOKENS: usize = 4;

/// The identity values as given and lowercased, without repeats.
fn identity_values(identities: &[String]) -> Vec<String> {
    let mut values: Vec<String> = Vec::new();
    for id in identities.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        for v in [id.to_string(), id.to_lowercase()] {
            if !values.contains(&v) {
                values.push(v);
            }
        }
    }
    values
}

/// How `token` was made, when it is the hex digest (MD5, SHA-1 or SHA-256, by its length)
/// of an identity value joined to a Unix time near `reference` (`md5("alice" +
/// "1733600000")`, `sha1("1733600000:alice")`): the per-login key of many hand-written
/// logins, unique per login and as guessable as the login's time.
fn identity_time_recipe(token: &str, values: &[String], reference: i64) -> Option<String> {
    if !token.bytes().all(|b| b.is_ascii_hexdigit()) || values.is_empty() {
        return None;
    }
    let lower = token.to_ascii_lowercase();
    let hash: fn(&[u8]) -> Vec<u8> = match token.len() {
        32 => |b| Md5::digest(b).to_vec(),
        40 => |b| Sha1::digest(b).to_vec(),
        64 => |b| Sha256::digest(b).to_vec(),
        _ => return None,
    };
    let name = match token.len() {
        32 => "md5",
        40 => "sha1",
        _ => "sha256",
    };
    let wanted: Vec<u8> = (0..lower.len())
        .step_by(2)
        .filter_map(|i| u8::from_str_radix(&lower[i..i + 2], 16).ok())
        .collect();
    for s in reference.saturating_sub(TIME_WINDOW)..=reference.saturating_add(TIME_WINDOW) {
        let time = s.to_string();
        for v in values {
            for sep in SEPARATORS {
                for (pre, how) in [
                    (
                        format!("{v}{sep}{time}"),
                        format!("`{v}` + `{sep}` + the Unix time {time}"),
                    ),
                    (
                        format!("{time}{sep}{v}"),
                        format!("the Unix time {time} + `{sep}` + `{v}`"),
                    ),
                ] {
                    if hash(pre.as_bytes()) == wanted {
                        return Some(format!("{name}({how})"));
                    }
                }
            }
        }
    }
    None
}

/// Verdicts for tokens derived from identities or times, or readable when decoded.
pub fn derived(tokens: &[&str], identities: &[String], reference_time: Option<i64>) -> Vec<Verdict> {
    let mut out = Vec::new();
    if !identities.is_empty() || reference_time.is_some() {
        let table = candidates(identities, reference_time);
        // Truncated digests: the first 16, 20, 24, 32 or 40 characters of a candidate.
        let mut truncated: HashMap<&str, &Recipe> = HashMap::new();
        for (c, r) in &table {
            for len in [16, 20, 24, 32, 40] {
                if c.len() > len && c.is_char_boundary(len) {
                    truncated.entry(&c[..len]).or_insert(r);
                }
            }
        }
        let mut matched = 0usize;
        let mut example: Option<String> = None;
        for t in tokens {
            let hit = table.get(*t).map(|r| r.text.clone()).or_else(|| {
                (t.len() >= MIN_TRUNCATED)
                    .then(|| {
                        truncated
                            .get(*t)
                            .map(|r| format!("the first {} characters of {}", t.len(), r.text))
                    })
                    .flatten()
            });
            if let Some(h) = hit {
                matched += 1;
                example.get_or_insert(h);
            }
        }
        if example.is_none() {
            if let Some(t) = reference_time {
                let values = identity_values(identities);
                for token in tokens.iter().take(MAX_TIMED_TOKENS) {
                    if let Some(recipe) = identity_time_recipe(token, &values, t) {
                        matched += 1;
                        example.get_or_insert(recipe);
                    }
                }
            }
        }
        if let Some(example) = example {
            out.push(Verdict {
                weakness: Weakness::IdentityDerived,
                strength: Strength::Conclusive,
                summary: format!(
                    "{matched} of {} token(s) equal a hash or encoding of identity data or time, e.g. {example}",
                    tokens.len()
                ),
            });
            return out;
        }
    }
    if let Some(v) = readable(tokens) {
        out.push(v);
    }
    out
}

/// Tokens that decode (hex or base64) to printable text carry no secret at all.
fn readable(tokens: &[&str]) -> Option<Verdict> {
    let n = tokens.len();
    let min_bytes = if n >= 5 { 8 } else { 12 };
    let decode = |t: &str| -> Option<Vec<u8>> {
        if t.len() & 1 == 0 && t.bytes().all(|c| c.is_ascii_hexdigit()) {
            return (0..t.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&t[i..i + 2], 16).ok())
                .collect();
        }
        [STANDARD, URL_SAFE]
            .iter()
            .find_map(|e| e.decode(t).ok())
            .or_else(|| [STANDARD_NO_PAD, URL_SAFE_NO_PAD].iter().find_map(|e| e.decode(t).ok()))
    };
    let mut example = None;
    let readable = tokens
        .iter()
        .take(2_000)
        .filter(|t| {
            let Some(bytes) = decode(t) else { return false };
            let ok = bytes.len() >= min_bytes && bytes.iter().all(|&b| (0x20..0x7f).contains(&b));
            if ok && example.is_none() {
                let text: String = bytes.iter().take(6).map(|&b| b as char).collect();
                example = Some(text);
            }
            ok
        })
        .count();
    let checked = n.min(2_000);
    (readable * 10 >= checked * 9).then(|| Verdict {
        weakness: Weakness::IdentityDerived,
        strength: Strength::Strong,
        summary: format!(
            "{readable} of {checked} token(s) are hex/base64 encodings of readable text (e.g. starting `{}…`), not random values",
            example.unwrap_or_default()
        ),
    })
}
