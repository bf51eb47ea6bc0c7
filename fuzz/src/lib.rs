//! The fuzz targets' bodies, shared by the libFuzzer binaries (`cargo fuzz run NAME`) and
//! the plain randomized harness (`src/bin/randomized.rs`). Each one feeds untrusted input
//! (what a hostile target or a broken config can send) to one parser and uses what comes
//! out the way the scanner does; any panic is a crash.

use authprobe_core::config::{FileConfig, Target};
use authprobe_core::cookies::{CookieJar, SetCookie};
use authprobe_core::flows::JsonPathExpr;
use authprobe_jwt::Jwt;

/// A JWT taken from a response or a cookie: parsed, then read like the JWT checks read it.
pub fn jwt_parse(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = Jwt::looks_like(text);
    if let Ok(jwt) = Jwt::parse(text) {
        let _ = jwt.alg();
        let _ = jwt.token_type();
        for claim in ["exp", "iat", "nbf", "sub", "user_id"] {
            let _ = jwt.numeric_claim(claim);
            let _ = jwt.string_claim(claim);
        }
        for now in [0, 1_700_000_000, i64::MIN, i64::MAX] {
            let _ = jwt.lifetime_secs(now);
        }
        let _ = authprobe_jwt::encode_segment(&serde_json::Value::Object(jwt.claims.clone()));
    }
}

/// A `Set-Cookie` header value (lossily decoded, as the probe records headers), stored in
/// a jar and sent back.
pub fn set_cookie(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Some(cookie) = SetCookie::parse(&text) {
        let jar = CookieJar::new();
        jar.store(&cookie);
        let _ = jar.header();
        let _ = jar.get(&cookie.name);
        let _ = jar.names();
    }
}

/// `authprobe.toml`: parsed into the config shape the CLI loads, then the target URLs parsed.
pub fn config_load(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(config) = toml::from_str::<FileConfig>(text) {
        if let Some(target) = config.target {
            for url in [target.url, target.http_url].into_iter().flatten() {
                if let Ok(t) = Target::parse(&url) {
                    let _ = t.join("/api/token/");
                    let _ = t.is_loopback();
                }
            }
        }
    }
}

/// A login flow's JSON path (first line) applied to a response body (the rest).
pub fn json_path(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (path, body) = text.split_once('\n').unwrap_or((text, "{}"));
    let Ok(expr) = JsonPathExpr::parse(path) else { return };
    let _ = expr.as_str();
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(body) {
        let _ = expr.first_str(&value);
    }
}

/// Every target by name, for the randomized harness.
pub const TARGETS: &[(&str, fn(&[u8]))] = &[
    ("jwt_parse", jwt_parse),
    ("set_cookie", set_cookie),
    ("config_load", config_load),
    ("json_path", json_path),
];
