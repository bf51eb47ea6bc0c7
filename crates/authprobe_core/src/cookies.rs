//! Explicit cookie jars (one per session the scan keeps) and Set-Cookie parsing.
//!
//! A scanner is not a browser: the jar sends every cookie it holds to the scanned origin
//! (the `Secure` flag is reported by checks, not enforced), and never shares cookies
//! between identities.

use std::sync::Mutex;

/// The attributes of one `Set-Cookie` header that security checks care about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetCookie {
    pub name: String,
    pub value: String,
    pub secure: bool,
    pub http_only: bool,
    /// `Some("Lax" | "Strict" | "None")` when the attribute is present.
    pub same_site: Option<String>,
    pub max_age_secs: Option<i64>,
    pub expires: Option<String>,
    /// The cookie is being deleted (empty value with Max-Age=0 or an expiry in the past).
    pub deletes: bool,
}

impl SetCookie {
    /// Parses a `Set-Cookie` header value; `None` if it has no `name=value` pair.
    pub fn parse(header: &str) -> Option<SetCookie> {
        let parsed = cookie::Cookie::parse(header.to_string()).ok()?;
        if parsed.name().is_empty() {
            return None;
        }
        let max_age_secs = parsed.max_age().map(|d| d.whole_seconds());
        let expires_dt = parsed.expires().and_then(|e| e.datetime());
        let expired = expires_dt.is_some_and(|dt| dt < time::OffsetDateTime::now_utc());
        let same_site = header
            .split(';')
            .skip(1)
            .filter_map(|attr| attr.trim().split_once('='))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("samesite"))
            .map(|(_, v)| v.trim().to_string());
        Some(SetCookie {
            name: parsed.name().to_string(),
            value: parsed.value().to_string(),
            secure: parsed.secure().unwrap_or(false),
            http_only: parsed.http_only().unwrap_or(false),
            same_site,
            max_age_secs,
            expires: expires_dt.map(|dt| dt.to_string()),
            deletes: max_age_secs.is_some_and(|s| s <= 0) || expired,
        })
    }
}

/// A session's cookies, keyed by name.
#[derive(Debug, Default)]
pub struct CookieJar {
    cookies: Mutex<Vec<(String, String)>>,
}

impl CookieJar {
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores (or deletes) the cookie a response set.
    pub fn store(&self, cookie: &SetCookie) {
        let mut cookies = self.cookies.lock().expect("cookie jar lock");
        cookies.retain(|(name, _)| name != &cookie.name);
        if !cookie.deletes {
            cookies.push((cookie.name.clone(), cookie.value.clone()));
        }
    }

    /// Sets a cookie directly (e.g. an attacker-chosen session id).
    pub fn set(&self, name: &str, value: &str) {
        let mut cookies = self.cookies.lock().expect("cookie jar lock");
        cookies.retain(|(n, _)| n != name);
        cookies.push((name.to_string(), value.to_string()));
    }

    pub fn get(&self, name: &str) -> Option<String> {
        let cookies = self.cookies.lock().expect("cookie jar lock");
        cookies.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
    }

    /// The `Cookie` request header value, or `None` when the jar is empty.
    pub fn header(&self) -> Option<String> {
        let cookies = self.cookies.lock().expect("cookie jar lock");
        if cookies.is_empty() {
            return None;
        }
        Some(
            cookies
                .iter()
                .map(|(n, v)| format!("{n}={v}"))
                .collect::<Vec<_>>()
                .join("; "),
        )
    }

    pub fn names(&self) -> Vec<String> {
        let cookies = self.cookies.lock().expect("cookie jar lock");
        cookies.iter().map(|(n, _)| n.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_security_attributes_of_a_django_session_cookie() {
        let c = SetCookie::parse(
            "sessionid=abc123; expires=Mon, 07 Dec 2099 10:00:00 GMT; HttpOnly; Max-Age=1209600; Path=/; SameSite=Lax; Secure",
        )
        .unwrap();
        assert_eq!(c.name, "sessionid");
        assert!(c.secure && c.http_only);
        assert_eq!(c.same_site.as_deref(), Some("Lax"));
        assert_eq!(c.max_age_secs, Some(1_209_600));
        assert!(!c.deletes);
    }

    #[test]
    fn a_deleting_cookie_empties_the_jar() {
        let jar = CookieJar::new();
        jar.set("sessionid", "x");
        jar.store(&SetCookie::parse("sessionid=\"\"; Max-Age=0; Path=/").unwrap());
        assert_eq!(jar.header(), None);
    }

    #[test]
    fn malformed_set_cookie_is_rejected_not_panicking() {
        assert_eq!(SetCookie::parse(""), None);
        assert_eq!(SetCookie::parse(";;;"), None);
        assert!(SetCookie::parse("=novalue").is_none());
    }
}
