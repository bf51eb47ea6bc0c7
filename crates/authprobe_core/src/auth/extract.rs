//! Reading the credentials out of a login's answer, whatever its shape: JWT-shaped or
//! token-named values at any depth of the body (`$.access`, `$.data.auth_token`,
//! `access_token`), `token_type`, refresh tokens in the body or in cookies, and the cookies
//! a login sets (sessions, or JWTs kept in cookies).

use serde_json::Value;

use crate::cookies::SetCookie;

/// Keys whose string value is a credential whatever else they say, compared after
/// lowercasing and dropping `_` and `-`; beyond these, any key that ends in `token` or `key`
/// (`api_token`, `accessToken`, `auth-token`, `apiKey`, `session_token`) is one.
const TOKEN_KEYS: &[&str] = &["access", "jwt", "bearer"];

/// Words that make a `…token`/`…key` key no credential of the caller's: anti-CSRF tokens,
/// a token's type, public keys, idempotency and cache keys.
const NOT_CREDENTIAL_WORDS: &[&str] = &["csrf", "xsrf", "type", "public", "idempotency", "cache"];

/// Whether a (normalised) key names a credential.
fn is_token_key(norm: &str) -> bool {
    let named = TOKEN_KEYS.contains(&norm) || norm.ends_with("token") || norm.ends_with("key");
    named && !NOT_CREDENTIAL_WORDS.iter().any(|w| norm.contains(w))
}

/// Shortest opaque value taken for a token (DRF keys are 40, knox 64; an `id` of `7` is not).
const MIN_OPAQUE_LEN: usize = 16;

/// Deepest a body is searched.
const MAX_DEPTH: usize = 6;

/// What a login's body carries.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct BodyCredentials {
    /// The first JWT-shaped value not under a refresh-like key.
    pub access_jwt: Option<String>,
    /// The key the JWT came from (`access`, `accessToken`, `session_token`).
    pub access_key: Option<String>,
    /// The first opaque value under a token-like key.
    pub opaque: Option<String>,
    /// The key the opaque value came from (`token`, `key`, `auth_token`).
    pub opaque_key: Option<String>,
    /// A value under a refresh-like key (`refresh`, `refresh_token`, `refreshToken`).
    pub refresh: Option<String>,
    /// The OAuth 2 `token_type` (`bearer`, `JWT`), a hint for how to present the token.
    pub token_type: Option<String>,
}

fn normalised(key: &str) -> String {
    key.chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

fn is_refresh_key(key: &str) -> bool {
    normalised(key).contains("refresh")
}

fn opaque_like(value: &str) -> bool {
    value.len() >= MIN_OPAQUE_LEN
        && value.len() <= 4096
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.~+/=:".contains(&b))
}

/// Searches a login answer's body for its credentials, breadth first so that a shallow
/// `token` wins over one nested in a user record.
pub fn from_body(body: &Value) -> BodyCredentials {
    let mut found = BodyCredentials::default();
    let mut level: Vec<(&str, &Value)> = vec![("", body)];
    for _ in 0..=MAX_DEPTH {
        let mut next = Vec::new();
        for (key, value) in level {
            match value {
                Value::String(s) if !key.is_empty() => read_string(key, s, &mut found),
                Value::Object(map) => next.extend(map.iter().map(|(k, v)| (k.as_str(), v))),
                Value::Array(items) => next.extend(items.iter().map(|v| (key, v))),
                _ => {}
            }
        }
        if next.is_empty() {
            break;
        }
        level = next;
    }
    found
}

fn read_string(key: &str, value: &str, found: &mut BodyCredentials) {
    let norm = normalised(key);
    if norm == "tokentype" {
        found.token_type.get_or_insert_with(|| value.to_string());
        return;
    }
    let jwt = authprobe_jwt::Jwt::looks_like(value);
    if is_refresh_key(key) {
        if jwt || opaque_like(value) {
            found.refresh.get_or_insert_with(|| value.to_string());
        }
        return;
    }
    if jwt {
        if found.access_jwt.is_none() {
            found.access_jwt = Some(value.to_string());
            found.access_key = Some(key.to_string());
        }
    } else if is_token_key(&norm) && opaque_like(value) && found.opaque.is_none() {
        found.opaque = Some(value.to_string());
        found.opaque_key = Some(key.to_string());
    }
}

/// Whether a cookie is an anti-CSRF token rather than a credential.
pub fn is_csrf_cookie(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.contains("csrf") || n.contains("xsrf")
}

/// What the cookies a login set carry.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CookieCredentials {
    /// A JWT kept in a cookie (Flask-JWT-Extended's `access_token_cookie`, dj-rest-auth's
    /// `JWT_AUTH_COOKIE`): (cookie name, token).
    pub access_jwt: Option<(String, String)>,
    /// A refresh token kept in a cookie: (cookie name, token).
    pub refresh: Option<(String, String)>,
    /// Whether the login set a session-like cookie: any new credential cookie, or one whose
    /// name says session.
    pub session: bool,
}

/// Reads the cookies a login's answer set; `before` are the cookie names the client held
/// before it (a login page's own cookies are not the login's doing).
pub fn from_cookies(set: &[SetCookie], before: &[String]) -> CookieCredentials {
    let mut found = CookieCredentials::default();
    for c in set
        .iter()
        .filter(|c| !c.deletes && !c.value.is_empty() && !is_csrf_cookie(&c.name))
    {
        let new = !before.contains(&c.name) || c.name.to_ascii_lowercase().contains("session");
        if !new {
            continue;
        }
        found.session = true;
        if is_refresh_key(&c.name) {
            found.refresh.get_or_insert_with(|| (c.name.clone(), c.value.clone()));
        } else if authprobe_jwt::Jwt::looks_like(&c.value) {
            found
                .access_jwt
                .get_or_insert_with(|| (c.name.clone(), c.value.clone()));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const JWT: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlc2lnbmF0dXJl";

    #[test]
    fn simplejwt_pairs_and_oauth2_answers_are_read() {
        let pair = from_body(&json!({"access": JWT, "refresh": "eyJ.r.x-refresh-token-value"}));
        assert_eq!(pair.access_jwt.as_deref(), Some(JWT));
        assert_eq!(pair.refresh.as_deref(), Some("eyJ.r.x-refresh-token-value"));
        let oauth = from_body(&json!({
            "access_token": "Zx81kLmN0pQrStUvWxYz", "token_type": "Bearer",
            "expires_in": 36000, "refresh_token": "aB3dE5gH7jK9mN1pQ3sT", "scope": "read write"
        }));
        assert_eq!(oauth.opaque.as_deref(), Some("Zx81kLmN0pQrStUvWxYz"));
        assert_eq!(oauth.token_type.as_deref(), Some("Bearer"));
        assert_eq!(oauth.refresh.as_deref(), Some("aB3dE5gH7jK9mN1pQ3sT"));
    }

    #[test]
    fn envelopes_and_camel_case_are_searched_at_any_depth() {
        let body = json!({"status": "ok", "data": {"auth_token": "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b",
                          "user": {"id": 1, "login": "alice"}}});
        let found = from_body(&body);
        assert_eq!(
            found.opaque.as_deref(),
            Some("9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b")
        );
        assert_eq!(found.opaque_key.as_deref(), Some("auth_token"));
        let camel = from_body(&json!({"result": {"accessToken": JWT, "refreshToken": "r".repeat(20)}}));
        assert_eq!(camel.access_jwt.as_deref(), Some(JWT));
        assert_eq!(camel.access_key.as_deref(), Some("accessToken"));
        assert!(camel.refresh.is_some());
    }

    #[test]
    fn any_key_ending_in_token_or_key_holds_a_credential() {
        let laravel = from_body(&json!({"api_token": "LBfK8XDWuHPYYx5oDPhdH7w0e5SZb379RCCl", "token_type": "Bearer"}));
        assert_eq!(laravel.opaque_key.as_deref(), Some("api_token"));
        assert_eq!(laravel.token_type.as_deref(), Some("Bearer"));
        let nested = from_body(&json!({"result": {"personalAccessToken": "pat_4b1f0c2d9e8a7b6c5d4e"}}));
        assert_eq!(nested.opaque_key.as_deref(), Some("personalAccessToken"));
        let not_mine = from_body(&json!({"csrf_token": "f3a9c1d2e4b5a6978812", "public_key": "MFkwEwYHKoZIzj0CAQYI"}));
        assert_eq!(not_mine, BodyCredentials::default());
    }

    #[test]
    fn short_values_and_ordinary_fields_are_not_tokens() {
        let found = from_body(&json!({"key": "abc", "username": "alice-with-a-long-name", "id": 12}));
        assert_eq!(found, BodyCredentials::default());
    }

    #[test]
    fn login_cookies_tell_sessions_jwts_and_refresh_tokens_apart() {
        let cookies: Vec<SetCookie> = [
            format!("access_token_cookie={JWT}; HttpOnly; Path=/"),
            "refresh_token_cookie=eyJ.abc.def-refresh; HttpOnly".to_string(),
            "csrf_access_token=0123456789abcdef; Path=/".to_string(),
        ]
        .iter()
        .filter_map(|h| SetCookie::parse(h))
        .collect();
        let found = from_cookies(&cookies, &[]);
        assert_eq!(found.access_jwt, Some(("access_token_cookie".into(), JWT.into())));
        assert_eq!(
            found.refresh.as_ref().map(|r| r.0.as_str()),
            Some("refresh_token_cookie")
        );
        assert!(found.session);
        let csrf_only: Vec<SetCookie> = SetCookie::parse("csrftoken=abc; Path=/").into_iter().collect();
        assert!(!from_cookies(&csrf_only, &[]).session);
        let old: Vec<SetCookie> = SetCookie::parse("theme=dark").into_iter().collect();
        assert!(!from_cookies(&old, &["theme".into()]).session);
    }
}
