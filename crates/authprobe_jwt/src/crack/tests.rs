//! Fixtures come from the real libraries: PyJWT 2 (`jwt.encode(claims, key, algorithm=...)`)
//! and Django 5.1 (`django.core.signing`), run in the testbed's virtualenv.

use super::engine::{Engine, MultiEngine, Sha256Engine, Tester, BATCH};
use super::*;
use rand::Rng;
use std::io::Write;
use std::sync::Arc;

/// PyJWT: a simplejwt-like access token signed with HS256 and the key `secret`.
const HS256_SECRET: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoxNzAwMDAwMzAwLCJpYXQiOjE3MDAwMDAwMDAsImp0aSI6IjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmIiwidXNlcl9pZCI6MX0.E87VDTPlJRlPupR8-X24Gl3x83FZ_ryogH_4ON7vvRA";
/// PyJWT, HS384, key `changeme2025` (a mutation of a built-in).
const HS384_CHANGEME2025: &str = "eyJhbGciOiJIUzM4NCIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoxNzAwMDAwMzAwLCJpYXQiOjE3MDAwMDAwMDAsImp0aSI6IjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmIiwidXNlcl9pZCI6MX0.omqsUovors4zoT1puGRHXCuum50P2CbpPQN4xbT9Y0aNPK4urvmuOQMG83lNGsiM";
/// PyJWT, HS512, key `Supersecret!`.
const HS512_SUPERSECRET: &str = "eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoxNzAwMDAwMzAwLCJpYXQiOjE3MDAwMDAwMDAsImp0aSI6IjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmIiwidXNlcl9pZCI6MX0.Hul-ndxM8r-9H-sdp-WZOdt5e9Nyx1FFPiH-AugHD5-8PGcMm6zFczOYGt1ZAeUfgy_APRsiG5voY9zAbASyvQ";
/// PyJWT, HS256, key `k3y-n0t-in-any-list`.
const HS256_UNLISTED: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoxNzAwMDAwMzAwLCJpYXQiOjE3MDAwMDAwMDAsImp0aSI6IjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmIiwidXNlcl9pZCI6MX0.NDo-fVwJvCnCUQcF1HU79pi5zxOtG-37eUYa9dm-6e8";
/// PyJWT, HS256, the empty key.
const HS256_EMPTY: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoxNzAwMDAwMzAwLCJpYXQiOjE3MDAwMDAwMDAsImp0aSI6IjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmIiwidXNlcl9pZCI6MX0.iVaC4L56UQHhdGKpPhcfe4nOiGP2pMXY56dvDpeYAhM";
/// PyJWT, HS256, key `z` × 70 (longer than a block: hashed first).
const HS256_LONG_KEY: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoxNzAwMDAwMzAwLCJpYXQiOjE3MDAwMDAwMDAsImp0aSI6IjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmIiwidXNlcl9pZCI6MX0.6L-McuiIdIBJfItqvSnAyFOS6keGbNemWIk1E51Eze8";
/// PyJWT, HS512, key `q` × 150.
const HS512_LONG_KEY: &str = "eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoxNzAwMDAwMzAwLCJpYXQiOjE3MDAwMDAwMDAsImp0aSI6IjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmIiwidXNlcl9pZCI6MX0.DNhLO9nk5tdi5LuAI9Skw2bAK9Evu1lYX2YyAkbOMJBUt33PGgDYzs9i79KmfJyYG6Yh5IKqiuwvpH7uZor6cA";

const TESTBED_KEY: &str = "django-insecure-7v#q2m!x9@h1w$k3p^r8t&z0u*b4n(e6)s-y+c=j%f5g_a~l";
/// Django: `get_cookie_signer(salt="django.contrib.messages").sign("x")`, SECRET_KEY `weak-django-key`.
const DJ_MESSAGES_WEAK: &str = "x:1xVSb9:vtW7_1FeKdzVgmfdk4Ibp3gB_7kWUXlubSrjKEEjV2s";
/// Django: `signing.dumps({"a": 1})` (salt `django.core.signing`), SECRET_KEY `weak-django-key`.
const DJ_DUMPS_WEAK: &str = "eyJhIjoxfQ:1xVSb9:G6tPxH1rTUyBXarjXQzSWfOwva5XDxQ6YiJQQ3k8erk";
/// Django: `Signer(salt="s").sign("v")` (no timestamp), SECRET_KEY `weak-django-key`.
const DJ_PLAIN_WEAK: &str = "v:WfULzuViTRkErRsMoRaLNMPhD6r16tOsPfDSWAU98Tw";
/// Django: `get_cookie_signer(salt="themecolour").sign("dark")` (`set_signed_cookie("theme", ..., salt="colour")`), `weak-django-key`.
const DJ_SET_SIGNED_WEAK: &str = "dark:1xVSbG:gKAzzdmitY2ahqQilH17uwAVwlsf6GmQkJySicMno84";
/// Django: a signed-cookie session (`signing.dumps(..., compress=True, salt=...signed_cookies)`) under the testbed key.
const DJ_SESSION_TESTBED: &str = ".eJyrVopPLC3JiC8tTi2Kz0xRslIyVNJBFktKTM5OzQNJpGQl5qXn6yXn55UUZSbpgZToQWWL9XzzU1JznKBqUQzISCzOAOpOTEpWqgUAjnEncw:1xVSbG:aCoKNz1y_CSqLrviZVsEZaBvg9ZCP3H7vD2qSRzV-TI";
/// Django: a compressed messages cookie (payload over a block long), SECRET_KEY `changeme`.
const DJ_MESSAGES_CHANGEME: &str = ".eJyLjlaKj88qzs-Lz00tLk5MT1XSMdAxMtVR8kjNyclXKMlILUrVAVKZxQpAlKiQk5-XnlqkAFWskJZfBFKjkJyfn52ZqhQbCwBNAxuL:1xVSbG:dt68WtoWpL8P6WDyrsiAiCyicZqymQ31FO0AghzTKwQ";
/// Django: messages cookie with SECRET_KEY `L` × 80 (salt + key span three SHA-256 blocks).
const DJ_MESSAGES_LONG: &str = "x:1xVSbG:WMBpujqamTdtbNwaXRl1a04K4JECcenOPjFs767YHOo";

const MESSAGES: &str = "django.contrib.messages";
const SESSIONS: &str = "django.contrib.sessions.backends.signed_cookies";

fn jwt(token: &str) -> CrackTarget {
    CrackTarget::from_jwt(token).unwrap()
}

/// The fast path on one candidate, alone and at every position of a batch of decoys
/// (the multi-lane SHA-NI path); both must agree.
fn fast(target: &CrackTarget, candidate: &[u8]) -> bool {
    fn both<T: Tester>(e: &T, candidate: &[u8]) -> bool {
        let single = e.test(candidate);
        for len in 1..=BATCH {
            for at in 0..len {
                let mut batch: Vec<&[u8]> = vec![b"decoy"; len];
                batch[at] = candidate;
                let expected = if single { Some(at) } else { None };
                assert_eq!(e.test_batch(&batch), expected, "batch of {len}, candidate at {at}");
            }
        }
        single
    }
    match Engine::new(target) {
        Engine::Sha256(e) => both(&e, candidate),
        Engine::Sha512(e) => both(&e, candidate),
    }
}

/// A file in a fresh temporary directory, removed on drop.
struct TempFile(std::path::PathBuf);

impl TempFile {
    fn new(name: &str) -> TempFile {
        let dir = std::env::temp_dir().join(format!(
            "authprobe-crack-{}-{}",
            std::process::id(),
            rand::rng().random::<u64>()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempFile(dir.join(name))
    }

    fn with_lines(name: &str, lines: &[&str]) -> TempFile {
        let f = TempFile::new(name);
        std::fs::write(&f.0, lines.join("\n")).unwrap();
        f
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(dir) = self.0.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

#[test]
fn hs256_hs384_hs512_tokens_with_builtin_keys_are_cracked() {
    for (token, key) in [
        (HS256_SECRET, "secret"),
        (HS384_CHANGEME2025, "changeme2025"),
        (HS512_SUPERSECRET, "Supersecret!"),
        (HS256_EMPTY, ""),
    ] {
        let outcome = crack(&jwt(token), &[], None, 2);
        assert_eq!(outcome.found.as_deref(), Some(key.as_bytes()), "{token}");
        assert!(!outcome.exhausted);
    }
}

#[test]
fn a_key_in_no_list_is_not_found_and_the_run_is_exhausted() {
    let outcome = crack(&jwt(HS256_UNLISTED), &[], None, 2);
    assert_eq!(outcome.found, None);
    assert!(outcome.exhausted);
    assert_eq!(outcome.tried, builtin_candidates().len() as u64);
}

#[test]
fn a_wrong_key_does_not_verify_and_the_right_one_does() {
    let target = jwt(HS256_UNLISTED);
    assert!(target.verify(b"k3y-n0t-in-any-list"));
    assert!(!target.verify(b"k3y-n0t-in-any-list "));
    assert!(!target.verify(b"secret"));
    assert!(fast(&target, b"k3y-n0t-in-any-list"));
    assert!(!fast(&target, b"K3y-n0t-in-any-list"));
}

#[test]
fn keys_longer_than_a_block_are_hashed_first() {
    let long256 = "z".repeat(70);
    let long512 = "q".repeat(150);
    let list = TempFile::with_lines("long.txt", &["nope", &long256, &long512]);
    let outcome = crack(&jwt(HS256_LONG_KEY), std::slice::from_ref(&list.0), None, 1);
    assert_eq!(outcome.found, Some(long256.into_bytes()));
    let outcome = crack(&jwt(HS512_LONG_KEY), std::slice::from_ref(&list.0), None, 1);
    assert_eq!(outcome.found, Some(long512.into_bytes()));
}

#[test]
fn the_fast_path_agrees_with_the_hmac_crate_on_random_keys_and_messages() {
    let mut rng = rand::rng();
    let derivations = [
        KeyDerivation::Raw,
        KeyDerivation::DjangoSalted {
            prefix: b"django.contrib.messagessignerdjango.http.cookies".to_vec(),
        },
        KeyDerivation::DjangoSalted {
            prefix: vec![b'p'; 64 + 7],
        },
    ];
    for alg in [MacAlg::Sha256, MacAlg::Sha384, MacAlg::Sha512] {
        for derivation in &derivations {
            if alg != MacAlg::Sha256 && *derivation != KeyDerivation::Raw {
                continue;
            }
            for round in 0..300 {
                let message: Vec<u8> = (0..rng.random_range(0..400)).map(|_| rng.random()).collect();
                let key: Vec<u8> = (0..round % 200).map(|_| rng.random()).collect();
                let mut target = CrackTarget {
                    alg,
                    message,
                    expected: Vec::new(),
                    derivation: derivation.clone(),
                };
                target.expected = target.mac_with(&key);
                assert!(fast(&target, &key), "{alg:?} {derivation:?} key {}", key.len());
                let mut other = key.clone();
                other.push(b'x');
                assert!(!fast(&target, &other), "{alg:?} {derivation:?} key {}", key.len());
            }
        }
    }
}

#[test]
fn django_signed_values_from_real_django_are_cracked_with_the_right_salt() {
    let weak = TempFile::with_lines("django.txt", &["letmein", "weak-django-key", "x"]);
    let lists = std::slice::from_ref(&weak.0);
    let cases: [(&str, &str, bool, &str, &[std::path::PathBuf]); 7] = [
        (DJ_MESSAGES_WEAK, MESSAGES, true, "weak-django-key", lists),
        (DJ_DUMPS_WEAK, "django.core.signing", false, "weak-django-key", lists),
        (DJ_PLAIN_WEAK, "s", false, "weak-django-key", lists),
        (DJ_SET_SIGNED_WEAK, "themecolour", true, "weak-django-key", lists),
        (DJ_SESSION_TESTBED, SESSIONS, false, TESTBED_KEY, &[]),
        (DJ_MESSAGES_CHANGEME, MESSAGES, true, "changeme", &[]),
        (DJ_MESSAGES_LONG, MESSAGES, true, "", &[]),
    ];
    for (value, salt, cookie, key, lists) in cases {
        let target = CrackTarget::from_django_signed(value, salt, cookie).unwrap();
        if key.is_empty() {
            let long = "L".repeat(80);
            assert!(target.verify(long.as_bytes()));
            assert!(fast(&target, long.as_bytes()));
            continue;
        }
        assert!(target.verify(key.as_bytes()), "{value}");
        let outcome = crack(&target, lists, None, 2);
        assert_eq!(outcome.found.as_deref(), Some(key.as_bytes()), "{value}");
    }
}

/// The multi-lane engine (SHA-NI where the CPU has it) and the scalar one for a target.
fn multi_lane_and_scalar(target: &CrackTarget) -> (Sha256Engine, Sha256Engine) {
    let multi = Sha256Engine::new(target);
    if !multi.is_multi_lane() {
        eprintln!("no SHA-NI on this CPU: the multi-lane path is the scalar one");
    }
    (multi, Sha256Engine::scalar(target))
}

/// Decoys to put around a key in a batch.
#[derive(Debug, Clone, Copy)]
enum Decoys {
    /// Of lengths whose derivations take one block and two, so lanes of a group differ.
    MixedLengths,
    /// The same with a 130-byte one, which needs three blocks and sends its group down the
    /// one-at-a-time path.
    WithOneTooLong,
    /// As long as the key, like a mask's candidates: with a short salt tail, every lane's
    /// second block is the same padding.
    KeyLength,
}

impl Decoys {
    fn batch<'a>(self, key: &'a [u8], len: usize, at: usize, store: &'a [Vec<u8>]) -> Vec<&'a [u8]> {
        let mut batch: Vec<&[u8]> = (0..len).map(|i| store[(i + at) % store.len()].as_slice()).collect();
        if let Decoys::KeyLength = self {
            batch = (0..len).map(|i| &store[store.len() - 1 - i % 4][..]).collect();
        }
        if let Decoys::WithOneTooLong = self {
            batch[(at + 1) % len] = &store[5];
        }
        batch[at] = key;
        batch
    }

    /// The decoys for `key`: five of mixed lengths, a 130-byte one, four as long as the key.
    fn store(key: &[u8]) -> Vec<Vec<u8>> {
        let mut store = vec![
            b"".to_vec(),
            b"x".to_vec(),
            b"weak-django-kez".to_vec(),
            vec![b'd'; 40],
            vec![b'e'; 60],
        ];
        store.push(vec![b'l'; 130]);
        store.extend((1..=4u8).map(|n| key.iter().map(|b| b.wrapping_add(n)).collect()));
        store
    }
}

#[test]
fn the_multi_lane_django_path_finds_each_key_in_every_lane_and_batch_tail() {
    let long_key = "L".repeat(80);
    let cases = [
        (DJ_DUMPS_WEAK, "django.core.signing", false, "weak-django-key"),
        (DJ_PLAIN_WEAK, "s", false, "weak-django-key"),
        // 48-byte prefix + 15-byte key: the second block is padding only.
        (DJ_MESSAGES_WEAK, MESSAGES, true, "weak-django-key"),
        (DJ_SET_SIGNED_WEAK, "themecolour", true, "weak-django-key"),
        // 53-byte prefix + 66-byte key: exactly two blocks with the padding.
        (DJ_SESSION_TESTBED, SESSIONS, false, TESTBED_KEY),
        // 48 + 8 bytes: the shortest input whose second block is padding only.
        (DJ_MESSAGES_CHANGEME, MESSAGES, true, "changeme"),
        // Three derivation blocks: the key's own group goes one at a time.
        (DJ_MESSAGES_LONG, MESSAGES, true, &long_key),
        (bench::DJANGO_SESSION_COOKIE, SESSIONS, false, bench::BENCHMARK_KEY),
    ];
    for (value, salt, cookie, key) in cases {
        let target = CrackTarget::from_django_signed(value, salt, cookie).unwrap();
        let (multi, scalar) = multi_lane_and_scalar(&target);
        let key = key.as_bytes();
        let store = Decoys::store(key);
        for decoys in [Decoys::MixedLengths, Decoys::WithOneTooLong, Decoys::KeyLength] {
            // Batches of 1 to 8: tails of 1, 2 and 3 after 0 or 1 full group of 4.
            for len in 1..=BATCH {
                for at in 0..len {
                    let batch = decoys.batch(key, len, at, &store);
                    let mut missing = batch.clone();
                    missing[at] = &store[1];
                    let why = format!("{value}: batch of {len}, key at {at}, {decoys:?}");
                    assert_eq!(scalar.test_batch(&batch), Some(at), "scalar, {why}");
                    assert_eq!(multi.test_batch(&batch), Some(at), "multi-lane, {why}");
                    assert_eq!(multi.test_batch(&missing), None, "{why}");
                    assert_eq!(scalar.test_batch(&missing), None, "{why}");
                }
            }
        }
    }
}

#[test]
fn the_multi_lane_django_path_agrees_with_the_scalar_path_on_random_salts_and_keys() {
    let mut rng = rand::rng();
    for round in 0..2_000 {
        // Prefixes of 0 to 149 bytes leave every tail length in the last prefix block.
        let prefix: Vec<u8> = (0..round % 150).map(|_| rng.random()).collect();
        let tail = prefix.len() % 64;
        let message: Vec<u8> = (0..rng.random_range(0..300)).map(|_| rng.random()).collect();
        // Every other round a batch of one length, like a mask's; half of those of a length
        // whose second derivation block is padding only, when the tail leaves room for one.
        let same_length = round % 2 == 0;
        let key_len = if same_length && round % 4 == 0 && tail <= 56 {
            rng.random_range(56..64) - tail
        } else {
            let longest = if rng.random_bool(0.9) { 70 } else { 140 };
            rng.random_range(0..longest)
        };
        let random_bytes =
            |rng: &mut rand::rngs::ThreadRng, len: usize| -> Vec<u8> { (0..len).map(|_| rng.random()).collect() };
        let key = random_bytes(&mut rng, key_len);
        let mut target = CrackTarget {
            alg: MacAlg::Sha256,
            message,
            expected: Vec::new(),
            derivation: KeyDerivation::DjangoSalted { prefix },
        };
        target.expected = target.mac_with(&key);
        let (multi, scalar) = multi_lane_and_scalar(&target);
        let len = rng.random_range(1..=BATCH);
        let mut candidates: Vec<Vec<u8>> = (0..len)
            .map(|_| {
                let len = if same_length { key_len } else { rng.random_range(0..140) };
                random_bytes(&mut rng, len)
            })
            .collect();
        let at = rng.random_range(0..len);
        candidates[at] = key.clone();
        let batch: Vec<&[u8]> = candidates.iter().map(Vec::as_slice).collect();
        // A random decoy equal to the key would be found first: the reference says which.
        let expected = batch.iter().position(|c| target.verify(c));
        assert!(expected.is_some());
        let why = format!("round {round}, tail {tail}, key {key_len} bytes, at {at} of {len}");
        assert_eq!(scalar.test_batch(&batch), expected, "scalar, {why}");
        assert_eq!(multi.test_batch(&batch), expected, "multi-lane, {why}");
    }
}

#[test]
fn django_values_with_the_wrong_salt_or_signer_are_not_cracked() {
    let wrong_salt = CrackTarget::from_django_signed(DJ_SESSION_TESTBED, MESSAGES, false).unwrap();
    assert!(!wrong_salt.verify(TESTBED_KEY.as_bytes()));
    let wrong_signer = CrackTarget::from_django_signed(DJ_MESSAGES_CHANGEME, MESSAGES, false).unwrap();
    assert_eq!(crack(&wrong_signer, &[], None, 2).found, None);
}

#[test]
fn bad_inputs_are_refused_with_the_reason() {
    let rs256 = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln";
    let err = CrackTarget::from_jwt(rs256).unwrap_err().to_string();
    assert!(err.contains("alg RS256 is not HMAC"), "{err}");
    let err = CrackTarget::from_jwt("hello").unwrap_err().to_string();
    assert!(err.starts_with("not a JWT"), "{err}");
    let err = CrackTarget::from_django_signed("no-separator", "s", false)
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("not a Django-signed value"), "{err}");
    let err = CrackTarget::from_django_signed("x:dG9vc2hvcnQ", "s", false)
        .unwrap_err()
        .to_string();
    assert!(err.contains("32 bytes"), "{err}");
    let truncated = &HS256_SECRET[..HS256_SECRET.len() - 4];
    assert!(CrackTarget::from_jwt(truncated).is_err());
}

#[test]
fn a_missing_wordlist_is_an_error_naming_the_file() {
    let sources = [Source::Wordlist("/nonexistent/words.txt".into())];
    let err = crack_sources(
        &jwt(HS256_SECRET),
        &sources,
        &CrackOptions::default(),
        &CrackControl::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("/nonexistent/words.txt"), "{err}");
}

#[test]
fn the_cracker_finds_a_secret_placed_at_the_end_of_a_generated_1m_line_wordlist() {
    let list = TempFile::new("big.txt");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&list.0).unwrap());
    for i in 0..1_000_000u32 {
        writeln!(out, "candidate-{i:07}").unwrap();
    }
    write!(out, "k3y-n0t-in-any-list").unwrap(); // the last line, without a newline
    drop(out);
    let outcome = crack(&jwt(HS256_UNLISTED), std::slice::from_ref(&list.0), None, 0);
    assert_eq!(outcome.found.as_deref(), Some(&b"k3y-n0t-in-any-list"[..]));
    let expected = builtin_candidates().len() as u64 + 1_000_001;
    assert!(outcome.tried <= expected, "{}", outcome.tried);
    assert!(outcome.tried > expected - 100_000, "{}", outcome.tried);
}

#[test]
fn every_wordlist_line_is_tried_exactly_once() {
    let list = TempFile::new("crlf.txt");
    let mut text = String::new();
    for i in 0..300_000u32 {
        text.push_str(&format!("w{i}\r\n"));
    }
    std::fs::write(&list.0, text).unwrap();
    let options = CrackOptions {
        budget: None,
        threads: 2,
        background: None,
    };
    let control = CrackControl::default();
    let target = jwt(HS256_UNLISTED);
    let outcome = crack_sources(&target, &[Source::Wordlist(list.0.clone())], &options, &control).unwrap();
    assert!(outcome.exhausted);
    assert_eq!(outcome.tried, 300_000);
    assert!(control.estimated_total() >= 300_000, "{}", control.estimated_total());
    // `\r\n` endings are stripped: a CRLF file finds its secret.
    std::fs::write(&list.0, "a\r\nk3y-n0t-in-any-list\r\nb\r\n").unwrap();
    let outcome = crack_sources(&target, &[Source::Wordlist(list.0.clone())], &options, &control).unwrap();
    assert_eq!(outcome.found.as_deref(), Some(&b"k3y-n0t-in-any-list"[..]));
}

#[test]
fn the_cracker_finds_a_secret_at_a_random_position_in_a_mask_space() {
    let mask = Mask::parse("?l?l?l?d?d").unwrap();
    let index = rand::rng().random_range(0..mask.len());
    let secret = mask.candidate(index);
    let mut target = CrackTarget::from_jwt(HS256_SECRET).unwrap();
    target.expected = target.mac_with(&secret);
    let control = CrackControl::default();
    let options = CrackOptions {
        budget: None,
        threads: 0,
        background: None,
    };
    let outcome = crack_sources(&target, &[Source::Mask(mask.clone())], &options, &control).unwrap();
    assert_eq!(outcome.found, Some(secret.clone()), "index {index}");
    assert!(outcome.tried <= mask.len());
    // The mask space is walked completely when nothing matches.
    target.expected = target.mac_with(b"not in the mask");
    let fresh = CrackControl::default();
    let outcome = crack_sources(
        &target,
        &[Source::Mask(Mask::parse("?d?d?d?d").unwrap())],
        &options,
        &fresh,
    )
    .unwrap();
    assert!(outcome.exhausted);
    assert_eq!(outcome.tried, 10_000);
}

#[test]
fn the_budget_and_a_stop_request_end_the_run_early() {
    let target = jwt(HS256_UNLISTED);
    let huge = Source::Mask(Mask::parse("?a?a?a?a?a?a?a?a").unwrap());
    let options = CrackOptions {
        budget: Some(std::time::Duration::from_millis(200)),
        threads: 2,
        background: None,
    };
    let outcome = crack_sources(&target, std::slice::from_ref(&huge), &options, &CrackControl::default()).unwrap();
    assert!(!outcome.exhausted);
    assert!(
        outcome.elapsed < std::time::Duration::from_secs(2),
        "{:?}",
        outcome.elapsed
    );

    let control = Arc::new(CrackControl::default());
    let stopper = {
        let control = control.clone();
        std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(100));
            control.stop();
        })
    };
    let options = CrackOptions {
        budget: None,
        threads: 2,
        background: None,
    };
    let outcome = crack_sources(&target, &[huge], &options, &control).unwrap();
    stopper.join().unwrap();
    assert!(!outcome.exhausted);
    assert!(outcome.tried > 0);
    assert_eq!(outcome.tried, control.tried());
}

/// Two JWTs with different keys and algs, two Django values of one salt with different keys,
/// an HS384 token, and a token whose key is in no list.
fn several_targets() -> (Vec<CrackTarget>, Vec<Option<&'static str>>) {
    let django = |value| CrackTarget::from_django_signed(value, MESSAGES, true).unwrap();
    let targets = vec![
        jwt(HS256_SECRET),
        jwt(HS512_SUPERSECRET),
        django(DJ_MESSAGES_WEAK),
        jwt(HS256_UNLISTED),
        django(DJ_MESSAGES_CHANGEME),
        jwt(HS384_CHANGEME2025),
    ];
    let keys = vec![
        Some("secret"),
        Some("Supersecret!"),
        Some("weak-django-key"),
        None,
        Some("changeme"),
        Some("changeme2025"),
    ];
    (targets, keys)
}

#[test]
fn targets_that_derive_their_keys_alike_share_a_key_group() {
    let (targets, _) = several_targets();
    // HS256 JWTs together, HS512 and HS384 apart, the Django values of one salt together.
    assert_eq!(
        MultiEngine::new(&targets).groups(),
        vec![vec![0, 3], vec![1], vec![2, 4], vec![5]]
    );
    let other_salt = CrackTarget::from_django_signed(DJ_DUMPS_WEAK, "django.core.signing", false).unwrap();
    let with_other_salt = [targets[2].clone(), other_salt, targets[4].clone()];
    assert_eq!(MultiEngine::new(&with_other_salt).groups(), vec![vec![0, 2], vec![1]]);
}

#[test]
fn several_targets_are_all_found_in_one_pass() {
    let words = TempFile::with_lines("several.txt", &["letmein", "weak-django-key", "x"]);
    let sources = [Source::Builtin, Source::Wordlist(words.0.clone())];
    let (targets, keys) = several_targets();
    let control = CrackControl::default();
    let options = CrackOptions {
        budget: None,
        threads: 2,
        background: None,
    };
    let outcomes = crack_many_sources(&targets, &sources, &options, &control).unwrap();
    assert_eq!(outcomes.len(), targets.len());
    for (outcome, key) in outcomes.iter().zip(&keys) {
        assert_eq!(outcome.found.as_deref(), key.map(str::as_bytes), "{outcome:?}");
    }
    // The key in no list leaves the run to walk every source, once.
    let walked = builtin_candidates().len() as u64 + 3;
    assert_eq!(control.tried(), walked);
    let unfound = &outcomes[3];
    assert!(unfound.exhausted);
    assert_eq!(unfound.tried, walked);
    assert_eq!(unfound.sources_exhausted, vec![true, true]);
    // A found value's figures are the run's when its key came up: the wordlist's key
    // before the wordlist was walked to its end.
    let wordlist_find = &outcomes[2];
    assert!(!wordlist_find.exhausted);
    assert!(wordlist_find.tried <= walked && wordlist_find.tried > 2);
    assert!(wordlist_find.elapsed <= unfound.elapsed);
    assert!(!wordlist_find.sources_exhausted[1], "{outcomes:?}");
}

#[test]
fn outcomes_come_back_in_target_order() {
    let (targets, keys) = several_targets();
    for order in [[0, 1, 2, 3, 4, 5], [5, 4, 3, 2, 1, 0], [3, 0, 4, 1, 5, 2]] {
        let shuffled: Vec<CrackTarget> = order.iter().map(|&i| targets[i].clone()).collect();
        let outcomes = crack_many(&shuffled, &[], None, 2);
        assert_eq!(outcomes.len(), shuffled.len());
        for (outcome, &i) in outcomes.iter().zip(&order) {
            // "weak-django-key" is in no built-in list: without the wordlist it stays hidden.
            let expected = keys[i].filter(|k| *k != "weak-django-key");
            assert_eq!(
                outcome.found.as_deref(),
                expected.map(str::as_bytes),
                "order {order:?}, target {i}"
            );
        }
    }
    assert!(crack_many(&[], &[], None, 2).is_empty());
}

#[test]
fn a_found_target_stops_being_tried() {
    let (targets, keys) = several_targets();
    let keys: Vec<&[u8]> = keys.iter().map(|k| k.unwrap_or("nope").as_bytes()).collect();
    // Every target's key in one batch, and again in the next: a target asked about and found
    // in the first is neither computed nor reported in the second.
    let batch: Vec<&[u8]> = [b"decoy".as_slice(), keys[0], keys[1], keys[2], keys[4], keys[5]].to_vec();
    for engine in [MultiEngine::new(&targets), MultiEngine::scalar(&targets)] {
        let solved: Vec<std::cell::Cell<bool>> = targets.iter().map(|_| std::cell::Cell::new(false)).collect();
        let mut hits = Vec::new();
        for _ in 0..2 {
            engine.test_batch(&batch, &|t| !solved[t].get(), &mut |t, i| {
                assert!(!solved[t].get(), "target {t} was found already");
                solved[t].set(true);
                hits.push((t, i));
            });
        }
        hits.sort();
        assert_eq!(hits, vec![(0, 1), (1, 2), (2, 3), (4, 4), (5, 5)]);
        // Once all of a group's targets are found, its candidates are not even hashed: no
        // target is asked about past the check.
        let asked = std::cell::Cell::new(0);
        engine.test_batch(
            &batch,
            &|t| {
                asked.set(asked.get() + 1);
                t == 3
            },
            &mut |_, _| panic!("nothing is left to find"),
        );
        assert!(asked.get() > 0);
    }
    // In a run: the two keys at the start of a huge mask end it there, the first found
    // keeping the figures of its find.
    let mask = Mask::parse("?d?d?d?d?d?d?d?d?d").unwrap();
    let mut early = jwt(HS256_SECRET);
    early.expected = early.mac_with(b"000000007");
    let mut later = CrackTarget::from_django_signed(DJ_MESSAGES_WEAK, MESSAGES, true).unwrap();
    later.expected = later.mac_with(b"000300000");
    let control = CrackControl::default();
    let options = CrackOptions {
        budget: Some(std::time::Duration::from_secs(60)),
        threads: 2,
        background: None,
    };
    let outcomes = crack_many_sources(&[later, early], &[Source::Mask(mask)], &options, &control).unwrap();
    assert_eq!(outcomes[0].found.as_deref(), Some(&b"000300000"[..]));
    assert_eq!(outcomes[1].found.as_deref(), Some(&b"000000007"[..]));
    assert!(outcomes[1].tried <= outcomes[0].tried, "{outcomes:?}");
    assert!(
        control.tried() < 1_000_000,
        "the run ends with the last find: {}",
        control.tried()
    );
}

#[test]
fn the_multi_target_engine_agrees_with_one_engine_per_target() {
    let mut rng = rand::rng();
    let derivations = [
        KeyDerivation::Raw,
        KeyDerivation::DjangoSalted {
            prefix: b"django.contrib.messagessignerdjango.http.cookies".to_vec(),
        },
        KeyDerivation::DjangoSalted {
            prefix: b"django.contrib.sessions.backends.signed_cookiessigner".to_vec(),
        },
    ];
    for round in 0..200 {
        let mut targets = Vec::new();
        let mut keys: Vec<Vec<u8>> = Vec::new();
        for _ in 0..rng.random_range(1..7) {
            let alg = [MacAlg::Sha256, MacAlg::Sha384, MacAlg::Sha512][rng.random_range(0..3)];
            let derivation = match alg {
                MacAlg::Sha256 => derivations[rng.random_range(0..3)].clone(),
                _ => KeyDerivation::Raw,
            };
            let message: Vec<u8> = (0..rng.random_range(0..300)).map(|_| rng.random()).collect();
            let key: Vec<u8> = (0..rng.random_range(0..20))
                .map(|_| rng.random_range(b'a'..=b'z'))
                .collect();
            let mut target = CrackTarget {
                alg,
                message,
                expected: Vec::new(),
                derivation,
            };
            target.expected = target.mac_with(&key);
            targets.push(target);
            keys.push(key);
        }
        // Some of the keys among decoys, at random places.
        let mut candidates: Vec<Vec<u8>> = (0..BATCH).map(|i| format!("decoy{i}").into_bytes()).collect();
        for key in &keys {
            if rng.random_bool(0.7) {
                candidates[rng.random_range(0..BATCH)] = key.clone();
            }
        }
        let len = rng.random_range(1..=BATCH);
        let batch: Vec<&[u8]> = candidates[..len].iter().map(Vec::as_slice).collect();
        let expected: Vec<Option<usize>> = targets
            .iter()
            .map(|target| match Engine::new(target) {
                Engine::Sha256(e) => e.test_batch(&batch),
                Engine::Sha512(e) => e.test_batch(&batch),
            })
            .collect();
        let reference: Vec<Option<usize>> = targets.iter().map(|t| batch.iter().position(|c| t.verify(c))).collect();
        assert_eq!(expected, reference, "round {round}");
        for engine in [MultiEngine::new(&targets), MultiEngine::scalar(&targets)] {
            let mut found = vec![None; targets.len()];
            engine.test_batch(&batch, &|_| true, &mut |t, i| {
                found[t].get_or_insert(i);
            });
            assert_eq!(found, expected, "round {round}");
        }
    }
}

#[test]
fn the_budget_bounds_a_multi_target_run() {
    let (mut targets, _) = several_targets();
    for target in &mut targets {
        // Keys in no keyspace a scan reaches.
        target.expected = target.mac_with(b"\x00\x01 not a key anyone reaches");
    }
    let budget = CpuBudget::new(std::time::Duration::from_millis(300), 2);
    let started = std::time::Instant::now();
    let outcomes = crack_many_in_scan(&targets, &[], &budget, 2);
    let took = started.elapsed();
    assert!(
        took < std::time::Duration::from_millis(300 * u64::from(WALL_CAP) + 1_000),
        "{took:?}"
    );
    assert_eq!(outcomes.len(), targets.len());
    let tried = outcomes[0].tried;
    assert!(tried > 0);
    for outcome in &outcomes {
        assert_eq!(outcome.found, None);
        assert!(!outcome.exhausted);
        // Every target saw every candidate walked.
        assert_eq!(outcome.tried, tried);
        assert_eq!(outcome.sources_exhausted.len(), scan_sources(&[]).len());
        assert!(!outcome.sources_exhausted.last().unwrap());
    }
    // Ended by the CPU budget, or by the wall cap on a machine with no core to spare.
    assert!(
        budget.spent() >= std::time::Duration::from_millis(600) || took >= std::time::Duration::from_millis(1_200),
        "spent {:?} in {took:?}",
        budget.spent()
    );
}
