//! Measuring the cracker on this machine (`authprobe crack --benchmark`, `bench/`).

use super::{
    crack_sources, CrackControl, CrackOptions, CrackOutcome, CrackTarget, KeyDerivation, MacAlg, Mask, Source,
};
use std::time::Duration;

/// A djangorestframework-simplejwt access token with the default claims (185-byte signing
/// input: 4 message blocks, 7 SHA-256 compressions per candidate), signed with a key that no
/// built-in list holds.
pub const SIMPLEJWT_ACCESS_TOKEN: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoxNzAwMDAwMzAwLCJpYXQiOjE3MDAwMDAwMDAsImp0aSI6IjlmMWMyZTdhNGI4ZDRlMGY5YTZiM2M1ZDdlMWYyYTNiIiwidXNlcl9pZCI6NDJ9.WZs_2eo8l4nioQ0G29_Yh0Uhg9EsWUBgmd8YvGmoj3U";

/// The same with profile claims (`username`, `email`, `is_staff`: a 271-byte signing input,
/// 5 message blocks, 8 compressions per candidate).
pub const SIMPLEJWT_PROFILE_TOKEN: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoxNzAwMDAwMzAwLCJpYXQiOjE3MDAwMDAwMDAsImp0aSI6IjlmMWMyZTdhNGI4ZDRlMGY5YTZiM2M1ZDdlMWYyYTNiIiwidXNlcl9pZCI6NDIsInVzZXJuYW1lIjoiYWxpY2UiLCJlbWFpbCI6ImFsaWNlQGV4YW1wbGUuY29tIiwiaXNfc3RhZmYiOmZhbHNlfQ.LidSdpbjAdBMF1acYsruJXW_3RT3k9pYLG6-9kuMY9Q";

/// A Django signed-cookie session of a logged-in user (`SESSION_ENGINE =
/// "django.contrib.sessions.backends.signed_cookies"`, Django 5.1, SECRET_KEY
/// [`BENCHMARK_KEY`]): a 184-byte signing input like [`SIMPLEJWT_ACCESS_TOKEN`]'s, so the two
/// differ only in Django's key derivation (2 more compressions for a 9-byte candidate: 9 in all).
pub const DJANGO_SESSION_COOKIE: &str = ".eJxVzMsOwiAUBNB_YW0I74dL9_0GcoGLVA1NSrsy_rs06UK3M2fmTQLsWw17xzXMmVyJEuTyG0ZIT2xHkx_Q7gtNS9vWOdKD0LPtdFoyvm6n_Tuo0OtYy8KSQZF9dGCLQZ1VklEA98xxK4zUSmlphOWOeT5MNGkYlGWYyBL5fAH42zdu:1xa23N:w6j3B4u_J67R2cakIyr2ZNk0_pwLlklJ2QI8RTIPPPg";

/// The salt Django's signed-cookie session backend signs with (the plain SECRET_KEY, no
/// cookie signer).
pub const DJANGO_SESSION_SALT: &str = "django.contrib.sessions.backends.signed_cookies";

/// The key of the benchmark tokens and of the session cookie.
pub const BENCHMARK_KEY: &str = "benchmark-key-not-in-any-list";

/// Candidate length of the benchmark mask: nine printable characters, far more candidates
/// than any budget gets through.
pub const BENCHMARK_CANDIDATE_LEN: usize = 9;

/// Candidates per second of the full cracker (mask generation included) on `threads`
/// threads (0 = all cores), measured over about `duration`.
pub fn candidates_per_second(target: &CrackTarget, threads: usize, duration: Duration) -> f64 {
    let outcome = crack_benchmark_mask(target, threads, duration);
    outcome.tried as f64 / outcome.elapsed.as_secs_f64()
}

/// Runs the cracker over the benchmark mask for about `duration` on `threads` threads
/// (0 = all cores); the outcome says how many candidates it tried in how long.
pub fn crack_benchmark_mask(target: &CrackTarget, threads: usize, duration: Duration) -> CrackOutcome {
    let mask = Mask::parse(&"?a".repeat(BENCHMARK_CANDIDATE_LEN)).expect("a valid mask");
    let options = CrackOptions {
        budget: Some(duration),
        threads,
        background: None,
    };
    crack_sources(target, &[Source::Mask(mask)], &options, &CrackControl::default()).expect("a mask needs no file")
}

/// Compression-function calls one candidate of `candidate_len` bytes costs: hashing a key
/// longer than a block or deriving Django's key, the ipad block, the message blocks, the opad
/// block and the inner digest. Rates per compression compare targets whose candidates cost
/// different amounts of hashing.
pub fn compressions_per_candidate(target: &CrackTarget, candidate_len: usize) -> usize {
    let (block, length_field) = match target.alg {
        MacAlg::Sha256 => (64, 8),
        MacAlg::Sha384 | MacAlg::Sha512 => (128, 16),
    };
    let padded_blocks = |len: usize| (len + 1 + length_field).div_ceil(block);
    let key = match &target.derivation {
        KeyDerivation::Raw if candidate_len > block => padded_blocks(candidate_len),
        KeyDerivation::Raw => 0,
        KeyDerivation::DjangoSalted { prefix } => padded_blocks(prefix.len() + candidate_len),
    };
    let message = padded_blocks(block + target.message.len()) - 1;
    key + 1 + message + 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_benchmark_tokens_verify_with_their_key() {
        for token in [SIMPLEJWT_ACCESS_TOKEN, SIMPLEJWT_PROFILE_TOKEN] {
            assert!(CrackTarget::from_jwt(token).unwrap().verify(BENCHMARK_KEY.as_bytes()));
        }
    }

    #[test]
    fn the_benchmark_session_cookie_verifies_with_the_key() {
        let target = CrackTarget::from_django_signed(DJANGO_SESSION_COOKIE, DJANGO_SESSION_SALT, false).unwrap();
        assert!(target.verify(BENCHMARK_KEY.as_bytes()));
        assert_eq!(target.message.len(), 184);
    }

    #[test]
    fn compressions_are_counted_as_the_engine_runs_them() {
        let jwt = CrackTarget::from_jwt(SIMPLEJWT_ACCESS_TOKEN).unwrap();
        assert_eq!(compressions_per_candidate(&jwt, BENCHMARK_CANDIDATE_LEN), 7);
        assert_eq!(compressions_per_candidate(&jwt, 65), 7 + 2);
        let profile = CrackTarget::from_jwt(SIMPLEJWT_PROFILE_TOKEN).unwrap();
        assert_eq!(compressions_per_candidate(&profile, BENCHMARK_CANDIDATE_LEN), 8);
        let session = CrackTarget::from_django_signed(DJANGO_SESSION_COOKIE, DJANGO_SESSION_SALT, false).unwrap();
        // The 53-byte prefix and 9 candidate bytes leave no room for the padding: 2 blocks.
        assert_eq!(compressions_per_candidate(&session, BENCHMARK_CANDIDATE_LEN), 9);
        assert_eq!(compressions_per_candidate(&session, 2), 8);
    }

    #[test]
    fn the_benchmark_measures_a_positive_rate() {
        let target = CrackTarget::from_jwt(SIMPLEJWT_ACCESS_TOKEN).unwrap();
        assert!(candidates_per_second(&target, 1, Duration::from_millis(50)) > 1000.0);
    }
}
