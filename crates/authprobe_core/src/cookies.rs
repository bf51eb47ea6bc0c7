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
    /// `Expires` as Unix time (seconds), when it parses as a date.
    pub expires_at: Option<i64>,
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
            expires_at: expires_dt.map(|dt| dt.unix_timestamp()),
            deletes: max_age_secs.is_some_and(|s| s <= 0) || expired,
        })
    }
}

impl SetCookie {
    /// How long a browser keeps the cookie, in seconds, or `None` for a cookie that ends
    /// with the browser session. `Max-Age` wins when both are present (RFC 6265 §5.3);
    /// otherwise `Expires` counts from `date`, the answer's `Date` as Unix time (from now
    /// when the answer had none), so a server's clock skew does not change the lifetime.
    pub fn lifetime_secs(&self, date: Option<i64>) -> Option<i64> {
        if let Some(age) = self.max_age_secs {
            return Some(age);
        }
        let from = date.unwrap_or_else(|| time::OffsetDateTime::now_utc().unix_timestamp());
        self.expires_at.map(|at| at - from)
    }
}

/// An HTTP date (`Date`, `Expires`: IMF-fixdate, or the obsolete RFC 850 and asctime
/// forms) as Unix time in seconds.
pub fn http_date(raw: &str) -> Option<i64> {
    let at = httpdate::parse_http_date(raw.trim()).ok()?;
    let secs = at.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
    i64::try_from(secs).ok()
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
    fn expires_is_read_as_a_lifetime_from_the_answers_date_and_max_age_wins() {
        let date = http_date("Mon, 02 Nov 2026 09:00:00 GMT").unwrap();
        assert_eq!(date, 1_793_610_000);
        // express-session, Flask, Rails: `Expires` only.
        let c =
            SetCookie::parse("connect.sid=s%3Aabc; Path=/; Expires=Wed, 02 Dec 2026 09:00:00 GMT; HttpOnly").unwrap();
        assert_eq!(c.max_age_secs, None);
        assert_eq!(c.expires_at, Some(date + 30 * 86_400));
        assert_eq!(c.lifetime_secs(Some(date)), Some(30 * 86_400));
        // Both: Max-Age wins, whatever Expires says.
        let both = SetCookie::parse("sid=x; Expires=Wed, 02 Dec 2099 09:00:00 GMT; Max-Age=3600").unwrap();
        assert_eq!(both.lifetime_secs(Some(date)), Some(3600));
        // Without the answer's Date, from now.
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let soon = httpdate::fmt_http_date(std::time::SystemTime::now() + std::time::Duration::from_secs(7 * 86_400));
        let week = SetCookie::parse(&format!("sid=x; Expires={soon}")).unwrap();
        let lifetime = week.lifetime_secs(None).unwrap();
        assert!(
            (7 * 86_400 - 5..=7 * 86_400).contains(&lifetime),
            "{lifetime} (now {now})"
        );
        // A browser-session cookie has no lifetime.
        assert_eq!(
            SetCookie::parse("sid=x; Path=/").unwrap().lifetime_secs(Some(date)),
            None
        );
        // The obsolete date forms parse too.
        assert_eq!(http_date("Monday, 02-Nov-26 09:00:00 GMT"), Some(date));
        assert_eq!(http_date("Mon Nov  2 09:00:00 2026"), Some(date));
        assert_eq!(http_date("tomorrow"), None);
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
