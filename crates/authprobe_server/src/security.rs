//! The dashboard's own defences: the access token, CSRF tokens and response headers.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use rand::RngCore;
use std::sync::Arc;
use subtle::ConstantTimeEq;

use crate::AppState;

/// The name of the cookie a correct access token buys.
pub const SESSION_COOKIE: &str = "authprobe_session";

/// No inline script or style, nothing from elsewhere, no framing, forms post here only.
pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
                       frame-ancestors 'none'; base-uri 'none'";

/// `n` random bytes, hex-encoded.
pub fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    rand::rng().fill_bytes(&mut bytes);
    hex(&bytes)
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Equality that takes the same time wherever the first difference is.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// Whether a submitted CSRF token is the server's.
pub fn csrf_ok(state: &AppState, submitted: &str) -> bool {
    constant_time_eq(&state.csrf, submitted)
}

fn session_cookie(req: &Request) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_string())
}

/// With an access token configured, every request but the login page and the stylesheet
/// needs `Authorization: Bearer TOKEN` or the session cookie that logging in sets.
pub async fn require_token(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    // Uploads carry their own token (checked by the handler), which reads nothing.
    if req.method() == Method::POST && req.uri().path() == "/api/scans" {
        return next.run(req).await;
    }
    let Some(token) = &state.config.token else {
        // Without a token the dashboard trusts whoever reaches loopback; a page elsewhere
        // that rebinds its DNS name to 127.0.0.1 must not count as such.
        if !loopback_host(&req) {
            return (
                StatusCode::FORBIDDEN,
                "this dashboard answers to 127.0.0.1, [::1] and localhost only",
            )
                .into_response();
        }
        return next.run(req).await;
    };
    let path = req.uri().path();
    if path == "/login" || path == "/static/style.css" {
        return next.run(req).await;
    }
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|given| constant_time_eq(given.trim(), token));
    let cookie = session_cookie(&req).is_some_and(|c| constant_time_eq(&c, &state.session));
    if bearer || cookie {
        return next.run(req).await;
    }
    if req.method() == Method::GET && !path.starts_with("/api/") {
        return Redirect::to("/login").into_response();
    }
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Bearer")],
        "access token required",
    )
        .into_response()
}

/// Whether the request's `Host` names a loopback address or `localhost` (any port).
fn loopback_host(req: &Request) -> bool {
    let Some(host) = req.headers().get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name.eq_ignore_ascii_case("localhost") || name.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The `Set-Cookie` value of a session.
pub fn session_set_cookie(state: &AppState) -> String {
    format!("{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict", state.session)
}

/// Security headers on every response.
pub async fn headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_host(host: &str) -> Request {
        Request::builder()
            .uri("/")
            .header(header::HOST, host)
            .body(axum::body::Body::empty())
            .unwrap()
    }

    #[test]
    fn only_loopback_host_names_count_as_loopback() {
        for ok in ["127.0.0.1:8700", "localhost:1", "LOCALHOST", "[::1]:8700", "127.0.0.2"] {
            assert!(loopback_host(&with_host(ok)), "{ok}");
        }
        for bad in [
            "evil.test",
            "evil.test:8700",
            "10.0.0.1:8700",
            "127.0.0.1.evil.test",
            "[::2]:80",
            "",
        ] {
            assert!(!loopback_host(&with_host(bad)), "{bad}");
        }
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "abcd"));
        assert!(!constant_time_eq("", "a"));
    }
}
