use authprobe_core::auth::vocab::{cookie_role, CookieRole};
use authprobe_core::cookies::SetCookie;
use authprobe_core::{
    CheckMeta, CheckOutcome, Confidence, ExchangeId, Family, Finding, Requirement, ScanContext, Severity,
};
use std::collections::BTreeMap;

use crate::support::owasp;

crate::declare_check! {
    /// ## What it does
    /// Collects every `Set-Cookie` the target sent during the scan (the login page, the
    /// form login, token endpoints, API pages opened as a browser opens them) and, for session, CSRF and token cookies, reports a
    /// missing `Secure` flag, a missing `HttpOnly` flag (not required for the CSRF cookie,
    /// which JavaScript must read), and a missing or `None` `SameSite` attribute.
    ///
    /// ## Why is this bad?
    /// Without `Secure` the browser also sends the cookie over plain HTTP, where it can be
    /// sniffed; without `HttpOnly` any XSS can read the session id and hijack the session;
    /// without `SameSite` the cookie rides along on cross-site requests, enabling CSRF and
    /// cross-site leaks.
    ///
    /// ## Example
    /// ```python
    /// # settings.py
    /// SESSION_COOKIE_SECURE = False      # the default
    /// SESSION_COOKIE_HTTPONLY = False    # "the SPA needs to read it"
    /// SESSION_COOKIE_SAMESITE = None
    /// CSRF_COOKIE_SECURE = False
    /// ```
    ///
    /// ## Remediation
    /// ```python
    /// # settings.py
    /// SESSION_COOKIE_SECURE = True
    /// SESSION_COOKIE_HTTPONLY = True     # the default; keep it
    /// SESSION_COOKIE_SAMESITE = "Lax"    # or "Strict"
    /// CSRF_COOKIE_SECURE = True
    /// CSRF_COOKIE_SAMESITE = "Lax"
    /// ```
    /// Cookies you set yourself (e.g. a refresh-token cookie) need the same flags:
    /// `response.set_cookie("refresh", value, secure=True, httponly=True, samesite="Strict")`.
    ///
    /// ## References
    /// - Django: Session and CSRF cookie settings — https://docs.djangoproject.com/en/stable/ref/settings/#session-cookie-secure
    /// - CWE-614: Sensitive Cookie in HTTPS Session Without 'Secure' Attribute
    /// - CWE-1004: Sensitive Cookie Without 'HttpOnly' Flag
    /// - CWE-1275: Sensitive Cookie with Improper SameSite Attribute
    pub struct CookieFlags;
    meta = CheckMeta {
        code: "TLS004",
        slug: "cookie-flags",
        title: "Session, CSRF or token cookie without Secure, HttpOnly or SameSite",
        severity: Severity::Medium,
        cwe: &[614, 1004, 1275],
        owasp: &[owasp::API8],
        requires: Requirement::Active,
        family: Family::Transport,
    };
    shares = [BrowserViews];
}

/// The missing protections of a cookie, in the order users fix them.
fn missing_flags(cookie: &SetCookie, role: CookieRole) -> Vec<&'static str> {
    let mut missing = Vec::new();
    if !cookie.secure {
        missing.push("Secure");
    }
    if role != CookieRole::Csrf && !cookie.http_only {
        missing.push("HttpOnly");
    }
    match cookie.same_site.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None => missing.push("SameSite"),
        Some("none") => missing.push("SameSite (set to None)"),
        Some(_) => {}
    }
    missing
}

impl CookieFlags {
    async fn check(&self, cx: &ScanContext) -> CheckOutcome {
        // The pages a browser gets set cookies too (DRF's browsable API sets `csrftoken`).
        crate::support::browser_views(cx).await;
        // First sighting of each relevant cookie name, with the exchange that set it.
        let mut seen: BTreeMap<String, (SetCookie, ExchangeId)> = BTreeMap::new();
        for (cookie, exchange) in cx.probe.set_cookies() {
            if cookie_role(&cookie.name).is_some() {
                seen.entry(cookie.name.clone()).or_insert((cookie, exchange));
            }
        }
        if seen.is_empty() {
            return CheckOutcome::skipped("the target set no session, CSRF or token cookie during the scan");
        }
        seen.into_values()
            .filter_map(|(cookie, exchange)| {
                let role = cookie_role(&cookie.name)?;
                let missing = missing_flags(&cookie, role);
                (!missing.is_empty()).then(|| {
                    let kind = role.describe();
                    let path = cx
                        .probe
                        .exchange(exchange)
                        .and_then(|x| url::Url::parse(&x.request.url).ok())
                        .map(|u| u.path().to_string())
                        .unwrap_or_default();
                    Finding::new(
                        Confidence::Confirmed,
                        path,
                        format!(
                            "The {kind} cookie `{}` is set without {}.",
                            cookie.name,
                            missing.join(", ")
                        ),
                    )
                    .with_evidence([exchange])
                })
            })
            .collect::<Vec<_>>()
            .into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cookie(header: &str) -> SetCookie {
        SetCookie::parse(header).unwrap()
    }

    #[test]
    fn django_hardened_cookies_pass() {
        let session = cookie("sessionid=x; HttpOnly; Path=/; SameSite=Lax; Secure");
        assert!(missing_flags(&session, CookieRole::Session).is_empty());
        let csrf = cookie("csrftoken=y; Path=/; SameSite=Lax; Secure");
        assert!(missing_flags(&csrf, CookieRole::Csrf).is_empty());
    }

    #[test]
    fn django_default_cookies_lack_secure() {
        let session = cookie("sessionid=x; HttpOnly; Path=/; SameSite=Lax");
        assert_eq!(missing_flags(&session, CookieRole::Session), vec!["Secure"]);
        let bare = cookie("sessionid=x; Path=/");
        assert_eq!(
            missing_flags(&bare, CookieRole::Session),
            vec!["Secure", "HttpOnly", "SameSite"]
        );
    }

    #[test]
    fn cookie_roles_come_from_names() {
        assert_eq!(cookie_role("sessionid"), Some(CookieRole::Session));
        assert_eq!(cookie_role("csrftoken"), Some(CookieRole::Csrf));
        assert_eq!(cookie_role("connect.sid"), Some(CookieRole::Session));
        assert_eq!(cookie_role("refresh_token"), Some(CookieRole::Token));
        assert_eq!(cookie_role("_ga"), None);
    }
}
