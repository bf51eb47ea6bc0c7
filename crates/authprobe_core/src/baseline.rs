//! Which findings of two reports are the same weakness: the basis of `--baseline` and
//! `authprobe diff`.
//!
//! A finding is identified across scans by its check, its *location* and its
//! *fingerprint*:
//! - the location is the endpoint relative to the scanned target (`/api/me/`), so the same
//!   API served on another host or port (a fresh testbed, a review app) still matches; an
//!   endpoint on another host stays absolute, one on another scheme of the same host keeps
//!   its scheme (`http:/api/token/` for the plain-HTTP side of an HTTPS target);
//! - the fingerprint is `SHA-256("authprobe-finding/v1" · check · location · message)`, first
//!   16 bytes in hex, where the message is normalised so that what changes from one scan to
//!   the next does not count: the target's origin is removed, `[redacted:XXXXXXXX]`
//!   markers lose their hash (tokens differ per login) and every run of digits becomes `0`
//!   (timings, counts, ids, ports).
//!
//! Matching pairs findings one to one, in three passes over what is still unpaired:
//! 1. equal fingerprints;
//! 2. the same check and location (the same weakness, reworded);
//! 3. the same check and the same *statement*, the first sentence of the normalised
//!    message (the same weakness confirmed somewhere else: e.g. a cracked JWT key is
//!    reported at whichever endpoint accepted the forged token, and that can change while
//!    the key does not). Checks that report one finding per place name the place in that
//!    first sentence, so this pass does not pair two different places.

use sha2::{Digest, Sha256};
use url::Url;

use crate::report::{Report, ReportFinding};

/// The version tag hashed into every fingerprint; bump it if the inputs ever change.
const FINGERPRINT_VERSION: &str = "authprobe-finding/v1";

/// Where a finding is, relative to the scanned target (see the module documentation).
pub fn location(endpoint: &str, target: &str) -> String {
    let Ok(base) = Url::parse(target) else {
        return endpoint.to_string();
    };
    let Ok(url) = base.join(endpoint) else {
        return endpoint.to_string();
    };
    if url.host_str() != base.host_str() {
        return url.to_string();
    }
    let mut path = url.path().to_string();
    if let Some(query) = url.query() {
        path.push('?');
        path.push_str(query);
    }
    if url.scheme() == base.scheme() {
        path
    } else {
        format!("{}:{path}", url.scheme())
    }
}

/// The message with what varies between scans taken out (see the module documentation).
pub fn normalize_message(message: &str, target: &str) -> String {
    let mut text = message.to_string();
    if let Ok(base) = Url::parse(target) {
        let origin = base.origin().ascii_serialization();
        if origin != "null" {
            text = text.replace(&origin, "");
        }
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(start) = rest.find("[redacted:") {
        out.push_str(&rest[..start]);
        out.push_str("[redacted]");
        rest = &rest[start..];
        rest = match rest.find(']') {
            Some(end) => &rest[end + 1..],
            None => "",
        };
    }
    out.push_str(rest);
    let mut normalized = String::with_capacity(out.len());
    let mut in_digits = false;
    for c in out.chars() {
        if c.is_ascii_digit() {
            if !in_digits {
                normalized.push('0');
            }
            in_digits = true;
        } else {
            normalized.push(c);
            in_digits = false;
        }
    }
    normalized
}

/// The fingerprint of a finding of `check` at `endpoint` saying `message`, in a scan of
/// `target`.
pub fn fingerprint(check: &str, endpoint: &str, message: &str, target: &str) -> String {
    let digest = Sha256::new()
        .chain_update(FINGERPRINT_VERSION.as_bytes())
        .chain_update([0u8])
        .chain_update(check.as_bytes())
        .chain_update([0u8])
        .chain_update(location(endpoint, target).as_bytes())
        .chain_update([0u8])
        .chain_update(normalize_message(message, target).as_bytes())
        .finalize();
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// The first sentence of the normalised message.
fn statement(message: &str, target: &str) -> String {
    let normalized = normalize_message(message, target);
    match normalized.find(". ") {
        Some(end) => normalized[..end].to_string(),
        None => normalized,
    }
}

/// Fills every finding's `fingerprint`.
pub fn stamp_fingerprints(report: &mut Report) {
    let target = report.target.url.clone();
    for f in &mut report.findings {
        f.fingerprint = fingerprint(&f.check, &f.endpoint, &f.message, &target);
    }
}

/// Two reports' findings, paired. Indices point into the reports' `findings`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Comparison {
    /// Findings of the new report that the old one does not have.
    pub new: Vec<usize>,
    /// Findings of both: (old index, new index).
    pub unchanged: Vec<(usize, usize)>,
    /// Findings of the old report that the new one no longer has.
    pub resolved: Vec<usize>,
}

/// What a finding is matched on.
struct Key {
    check: String,
    location: String,
    fingerprint: String,
    statement: String,
}

/// Pairs the findings of `old` and `new` (see the module documentation). The fingerprints
/// are recomputed from each report's own data, so reports written before fingerprints
/// existed compare too.
pub fn compare(old: &Report, new: &Report) -> Comparison {
    let keys = |report: &Report| -> Vec<Key> {
        report
            .findings
            .iter()
            .map(|f: &ReportFinding| Key {
                check: f.check.clone(),
                location: location(&f.endpoint, &report.target.url),
                fingerprint: fingerprint(&f.check, &f.endpoint, &f.message, &report.target.url),
                statement: statement(&f.message, &report.target.url),
            })
            .collect()
    };
    let old_keys = keys(old);
    let new_keys = keys(new);
    let mut old_taken = vec![false; old_keys.len()];
    let mut new_match: Vec<Option<usize>> = vec![None; new_keys.len()];
    for same in [
        |a: &Key, b: &Key| a.fingerprint == b.fingerprint,
        |a: &Key, b: &Key| a.check == b.check && a.location == b.location,
        |a: &Key, b: &Key| a.check == b.check && a.statement == b.statement,
    ] {
        for (n, new_key) in new_keys.iter().enumerate() {
            if new_match[n].is_some() {
                continue;
            }
            if let Some(o) = (0..old_keys.len()).find(|&o| !old_taken[o] && same(&old_keys[o], new_key)) {
                old_taken[o] = true;
                new_match[n] = Some(o);
            }
        }
    }
    let mut comparison = Comparison::default();
    for (n, matched) in new_match.iter().enumerate() {
        match matched {
            Some(o) => comparison.unchanged.push((*o, n)),
            None => comparison.new.push(n),
        }
    }
    comparison.resolved = (0..old_keys.len()).filter(|&o| !old_taken[o]).collect();
    comparison
}

#[cfg(test)]
mod tests {
    use super::*;

    const T1: &str = "http://127.0.0.1:8000/";
    const T2: &str = "http://127.0.0.1:9123/";

    #[test]
    fn locations_are_relative_to_the_target() {
        assert_eq!(location("/api/me/", T1), "/api/me/");
        assert_eq!(location("http://127.0.0.1:8000/api/me/?a=1", T1), "/api/me/?a=1");
        assert_eq!(location("http://127.0.0.1:9123/api/me/", T1), "/api/me/");
        assert_eq!(
            location("http://127.0.0.1:8001/x/", "https://127.0.0.1:8000/"),
            "http:/x/"
        );
        assert_eq!(location("https://other.example/x", T1), "https://other.example/x");
    }

    #[test]
    fn fingerprints_survive_a_new_port_new_tokens_and_new_timings() {
        let a = fingerprint(
            "SESS003",
            "http://127.0.0.1:8000/api/logout/",
            "token [redacted:0a1b2c3d] still works at http://127.0.0.1:8000/api/me/ after 120 ms",
            T1,
        );
        let b = fingerprint(
            "SESS003",
            "http://127.0.0.1:9123/api/logout/",
            "token [redacted:99ffee00] still works at http://127.0.0.1:9123/api/me/ after 7 ms",
            T2,
        );
        assert_eq!(a, b);
        assert_eq!(a.len(), 32);
        assert_ne!(a, fingerprint("SESS004", "/api/logout/", "x", T1));
        assert_ne!(
            fingerprint("DJ001", "/a/", "m", T1),
            fingerprint("DJ001", "/b/", "m", T1)
        );
        assert_ne!(
            fingerprint("DJ00", "1/a/", "m", T1),
            fingerprint("DJ001", "/a/", "m", T1)
        );
    }

    fn report(target: &str, findings: &[(&str, &str, &str)]) -> Report {
        let mut value = serde_json::json!({
            "schema": "authprobe.report/v1", "tool": {"name": "authprobe", "version": "0"},
            "target": {"url": target}, "started_at": "", "finished_at": "", "duration_ms": 0,
            "stats": {"requests": 0, "endpoints": 0}, "score": 100, "grade": "A",
            "categories": [], "checks_skipped": [], "findings": []
        });
        for (check, endpoint, message) in findings {
            value["findings"].as_array_mut().unwrap().push(serde_json::json!({
                "check": check, "slug": "s", "title": "t", "severity": "high",
                "confidence": "confirmed", "cwe": [], "owasp": [], "endpoint": endpoint,
                "message": message, "evidence": [], "remediation": ""
            }));
        }
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn comparison_pairs_by_fingerprint_then_by_check_and_location() {
        let old = report(
            T1,
            &[
                ("JWT003", "/api/token/", "secret cracked in 3 s"),
                ("DJ001", "/x/", "technical 404"),
                ("WEB004", "/", "nosniff missing"),
                ("WEB004", "/", "frame options missing"),
            ],
        );
        let new = report(
            T2,
            &[
                ("WEB004", "/", "frame options missing"),
                ("JWT003", "http://127.0.0.1:9123/api/token/", "secret cracked in 1 s"),
                ("DJ001", "/x/", "technical 404 page (reworded)"),
                ("AUTH003", "/api/me/", "query token"),
            ],
        );
        let c = compare(&old, &new);
        assert_eq!(c.new, vec![3]);
        let mut unchanged = c.unchanged.clone();
        unchanged.sort();
        assert_eq!(unchanged, vec![(0, 1), (1, 2), (3, 0)]);
        assert_eq!(c.resolved, vec![2]);
    }

    #[test]
    fn the_same_statement_confirmed_elsewhere_is_the_same_finding() {
        let old = report(
            T1,
            &[
                (
                    "JWT003",
                    "/api/notes/",
                    "The HS256 key was recovered in 56 ms. Accepted by /api/notes/.",
                ),
                (
                    "AUTH001",
                    "/api/notes/1/",
                    "/api/notes/1/ answers without credentials. Also /api/notes/2/.",
                ),
            ],
        );
        let new = report(
            T2,
            &[
                (
                    "JWT003",
                    "/api/me/",
                    "The HS256 key was recovered in 30 ms. Accepted by /api/me/.",
                ),
                (
                    "AUTH001",
                    "/api/admin/",
                    "/api/admin/ answers without credentials. Also /api/notes/2/.",
                ),
            ],
        );
        let c = compare(&old, &new);
        assert_eq!(c.unchanged, vec![(0, 0)]);
        assert_eq!(c.new, vec![1], "another place is another finding");
        assert_eq!(c.resolved, vec![1]);
    }

    #[test]
    fn a_report_compared_with_itself_is_all_unchanged() {
        let r = report(T1, &[("A", "/", "m"), ("A", "/", "m"), ("B", "/b", "n")]);
        let c = compare(&r, &r);
        assert!(c.new.is_empty() && c.resolved.is_empty());
        assert_eq!(c.unchanged.len(), 3);
    }
}
