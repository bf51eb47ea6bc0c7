//! Measuring the cracker on this machine (`authprobe crack --benchmark`, `bench/`).

use super::{crack_sources, CrackControl, CrackOptions, CrackTarget, Mask, Source};
use std::time::Duration;

/// A djangorestframework-simplejwt access token with the default claims (185-byte signing
/// input: 4 message blocks, 7 SHA-256 compressions per candidate), signed with a key that no
/// built-in list holds.
pub const SIMPLEJWT_ACCESS_TOKEN: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoxNzAwMDAwMzAwLCJpYXQiOjE3MDAwMDAwMDAsImp0aSI6IjlmMWMyZTdhNGI4ZDRlMGY5YTZiM2M1ZDdlMWYyYTNiIiwidXNlcl9pZCI6NDJ9.WZs_2eo8l4nioQ0G29_Yh0Uhg9EsWUBgmd8YvGmoj3U";

/// The same with profile claims (`username`, `email`, `is_staff`: a 271-byte signing input,
/// 5 message blocks, 8 compressions per candidate).
pub const SIMPLEJWT_PROFILE_TOKEN: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoxNzAwMDAwMzAwLCJpYXQiOjE3MDAwMDAwMDAsImp0aSI6IjlmMWMyZTdhNGI4ZDRlMGY5YTZiM2M1ZDdlMWYyYTNiIiwidXNlcl9pZCI6NDIsInVzZXJuYW1lIjoiYWxpY2UiLCJlbWFpbCI6ImFsaWNlQGV4YW1wbGUuY29tIiwiaXNfc3RhZmYiOmZhbHNlfQ.LidSdpbjAdBMF1acYsruJXW_3RT3k9pYLG6-9kuMY9Q";

/// The key of both benchmark tokens.
pub const BENCHMARK_KEY: &str = "benchmark-key-not-in-any-list";

/// Candidates per second of the full cracker (mask generation included) on `threads`
/// threads (0 = all cores), measured over about `duration`.
pub fn candidates_per_second(target: &CrackTarget, threads: usize, duration: Duration) -> f64 {
    // Nine printable characters: far more candidates than any budget gets through.
    let mask = Mask::parse(&"?a".repeat(9)).expect("a valid mask");
    let options = CrackOptions {
        budget: Some(duration),
        threads,
    };
    let outcome =
        crack_sources(target, &[Source::Mask(mask)], &options, &CrackControl::default()).expect("a mask needs no file");
    outcome.tried as f64 / outcome.elapsed.as_secs_f64()
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
    fn the_benchmark_measures_a_positive_rate() {
        let target = CrackTarget::from_jwt(SIMPLEJWT_ACCESS_TOKEN).unwrap();
        assert!(candidates_per_second(&target, 1, Duration::from_millis(50)) > 1000.0);
    }
}
