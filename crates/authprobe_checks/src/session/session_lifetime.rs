use authprobe_core::auth::{family, LoginFlow};
use authprobe_core::cookies::{http_date, SetCookie};
use authprobe_core::exchange_log::Recorded;
use authprobe_core::oracle::Verdict;
use authprobe_core::probe::ProbeRequest;
use authprobe_core::{CheckMeta, CheckOutcome, Confidence, Family, Finding, Requirement, ScanContext, Severity};
use std::ops::ControlFlow;
use url::Url;

use super::{human_duration, is_session_cookie, judge, oracle};
use crate::support::owasp;

crate::declare_check! {
    /// ## What it does
    /// Logs in twice in a row through each login flow that issues opaque keys (DRF's
    /// authtoken at `/api-token-auth/`, answering `{"token": KEY}`, or any login whose
    /// identity holds a non-JWT key) and compares the keys: the same key on both logins means
    /// a static key — DRF's stock `TokenAuthentication`, whose keys never expire. The key
    /// is then used once at an endpoint that serves the identity, and the differential
    /// oracle confirms it authenticates. It also reads every session cookie the target set
    /// during the scan and reports a lifetime longer than two weeks, Django's default
    /// `SESSION_COOKIE_AGE` (exactly two weeks is not reported): `Max-Age`, or else
    /// `Expires` counted from the answer's `Date` as browsers do (express-session, Flask and
    /// Rails send `Expires` only).
    ///
    /// ## Why is this bad?
    /// A credential that never changes and never expires turns every leak (a log line, a
    /// backup, an old laptop, a former employee's notes) into permanent access: logging in
    /// again does not replace it and nothing ever retires it. Long-lived session cookies do
    /// the same for browsers: a session stolen months ago still works.
    ///
    /// ## Example
    /// ```python
    /// REST_FRAMEWORK = {"DEFAULT_AUTHENTICATION_CLASSES": [
    ///     "rest_framework.authentication.TokenAuthentication",   # keys never expire
    /// ]}
    /// urlpatterns = [path("api-token-auth/", obtain_auth_token)]  # same key every login
    /// SESSION_COOKIE_AGE = 60 * 60 * 24 * 365                      # one-year sessions
    /// ```
    ///
    /// ## Remediation
    /// Issue a fresh key per login and expire keys — use `django-rest-knox` (per-login,
    /// expiring, revocable tokens) or simplejwt, or subclass DRF's token authentication:
    /// ```python
    /// class ExpiringTokenAuthentication(TokenAuthentication):
    ///     def authenticate_credentials(self, key):
    ///         user, token = super().authenticate_credentials(key)
    ///         if token.created < timezone.now() - timedelta(hours=1):
    ///             token.delete()
    ///             raise AuthenticationFailed("Token has expired.")
    ///         return user, token
    ///
    /// SESSION_COOKIE_AGE = 60 * 60 * 8   # hours, not months
    /// ```
    ///
    /// ## References
    /// - CWE-613: Insufficient Session Expiration
    /// - OWASP API2:2023 Broken Authentication
    /// - DRF: TokenAuthentication — https://www.django-rest-framework.org/api-guide/authentication/#tokenauthentication
    /// - Django: `SESSION_COOKIE_AGE` — https://docs.djangoproject.com/en/stable/ref/settings/#session-cookie-age
    pub struct SessionLifetime;
    meta = CheckMeta {
        code: "SESS006",
        slug: "session-lifetime",
        title: "Static never-expiring token or long-lived session",
        severity: Severity::Medium,
        cwe: &[613],
        owasp: &[owasp::API2],
        requires: Requirement::LoginFlow,
        family: Family::Session,
    };
}

/// Django's default `SESSION_COOKIE_AGE`: two weeks. Longer is reported.
const MAX_SESSION_AGE_SECS: i64 = 14 * 24 * 3600;

impl SessionLifetime {
    async fn check(&self, cx: &ScanContext) -> CheckOutcome {
        let mut findings = Vec::new();
        // Logins that issue opaque keys (a JWT carries its own `iat`/`exp`; two logins in
        // one second may mint equal ones).
        let key_logins: Vec<&LoginFlow> = cx
            .auth()
            .token_logins()
            .filter(|f| cx.auth().issues_opaque_keys(f))
            .take(MAX_KEY_LOGINS)
            .collect();
        if let Some(user) = cx.auth().primary_account() {
            for flow in &key_logins {
                if let Some(f) = static_key(cx, flow, &user.username, user).await {
                    findings.push(f);
                }
            }
        }
        let django = cx.flows.login.iter().any(|f| family::is_django(f.family_label()));
        if let Some(seen) = long_session_cookie(cx) {
            findings.push(
                Finding::new(
                    Confidence::Confirmed,
                    seen.endpoint.clone(),
                    long_cookie_message(&seen, django),
                )
                .with_evidence([seen.exchange]),
            );
        }
        if findings.is_empty() && key_logins.is_empty() && !saw_session_cookie(cx) {
            return CheckOutcome::skipped(
                "no login flow issues an opaque key (DRF authtoken and the like) and the target set no session cookie",
            );
        }
        findings.into()
    }
}

/// Most key-issuing logins examined (each costs two logins).
const MAX_KEY_LOGINS: usize = 3;

/// Two logins through `flow`; a finding when they return the same key.
async fn static_key(
    cx: &ScanContext,
    flow: &LoginFlow,
    username: &str,
    user: &authprobe_core::config::UserCredential,
) -> Option<Finding> {
    let url = &flow.url;
    let first = cx.auth().fresh_login(flow, user).await?;
    let second = cx.auth().fresh_login(flow, user).await?;
    if first.access_jwt.is_some() {
        return None;
    }
    let (a, b) = (first.token()?.to_string(), second.token()?.to_string());
    if a != b {
        return None;
    }
    let mut evidence: Vec<_> = [first.login_exchange, second.login_exchange]
        .into_iter()
        .flatten()
        .collect();
    let mut confidence = Confidence::Firm;
    let mut proof = String::new();
    if let Ok((oracle_url, baseline)) = oracle(cx).await {
        let req = first.present(ProbeRequest::get(oracle_url.clone()), &a);
        if let Some((verdict, resp)) = judge(cx, &baseline, req).await {
            if verdict == Verdict::Accepted {
                confidence = Confidence::Confirmed;
                proof = format!(" The key authenticates as `{username}` at {}.", oracle_url.path());
                evidence.push(resp.exchange);
            }
        }
    }
    Some(
        Finding::new(
            confidence,
            url.path(),
            format!(
                "{} returned the same token for `{username}` on two consecutive logins: the key is static — logging in never replaces it, {}.{proof}",
                url.path(),
                static_key_consequence(flow.family_label())
            ),
        )
        .with_evidence(evidence),
    )
}

/// What a static key means, in the terms of the login's package when it is DRF's (whose
/// stock `TokenAuthentication` keys never expire), in what was observed otherwise.
fn static_key_consequence(family: &str) -> &'static str {
    if matches!(family, family::AUTHTOKEN | family::DJ_REST_AUTH) {
        "and with DRF's stock TokenAuthentication it never expires, so a key leaked once works until someone deletes it by hand"
    } else {
        "so a key leaked once keeps working until the server revokes or expires it: a new login does not retire it"
    }
}

/// A session cookie the target set, with its lifetime.
struct SeenCookie {
    /// The path of the request it answered.
    endpoint: String,
    cookie: SetCookie,
    exchange: authprobe_core::ExchangeId,
    /// Seconds a browser keeps it ([`SetCookie::lifetime_secs`] from the answer's `Date`).
    lifetime: Option<i64>,
}

/// The finding's message: the attribute the lifetime came from, and Django's default only
/// on a Django target.
fn long_cookie_message(seen: &SeenCookie, django: bool) -> String {
    let lifetime = seen.lifetime.unwrap_or(0);
    let attribute = match seen.cookie.max_age_secs {
        Some(age) => format!("Max-Age {age} s ({})", human_duration(age)),
        _ => format!("Expires {} ahead", human_duration(lifetime)),
    };
    let bound = if django {
        "longer than Django's two-week default (`SESSION_COOKIE_AGE`)"
    } else {
        "longer than two weeks"
    };
    format!(
        "{} sets the session cookie `{}` with {attribute}, {bound}: a stolen session stays valid that long.",
        seen.endpoint, seen.cookie.name
    )
}

/// Session cookies set with a lifetime above two weeks, from every exchange so far.
fn long_session_cookie(cx: &ScanContext) -> Option<SeenCookie> {
    session_cookies(cx).into_iter().find(|c| too_long(c.lifetime))
}

/// A lifetime above Django's two-week default (exactly two weeks is fine).
fn too_long(lifetime: Option<i64>) -> bool {
    lifetime.is_some_and(|age| age > MAX_SESSION_AGE_SECS)
}

fn saw_session_cookie(cx: &ScanContext) -> bool {
    !session_cookies(cx).is_empty()
}

fn session_cookies(cx: &ScanContext) -> Vec<SeenCookie> {
    let mut out = Vec::new();
    cx.probe.visit_exchanges(Recorded::SettingCookies, |x| {
        let Some(resp) = &x.response else {
            return ControlFlow::Continue(());
        };
        let path = Url::parse(&x.request.url)
            .map(|u| u.path().to_string())
            .unwrap_or_default();
        let date = resp
            .headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("date"))
            .and_then(|(_, value)| http_date(value));
        for (name, value) in &resp.headers {
            if !name.eq_ignore_ascii_case("set-cookie") {
                continue;
            }
            if let Some(c) = SetCookie::parse(value).filter(|c| !c.deletes && is_session_cookie(&c.name)) {
                out.push(SeenCookie {
                    endpoint: path.clone(),
                    lifetime: c.lifetime_secs(date),
                    cookie: c,
                    exchange: x.id,
                });
            }
        }
        ControlFlow::Continue(())
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn djangos_two_week_default_is_not_too_long() {
        let lifetime = |h: &str| SetCookie::parse(h).unwrap().lifetime_secs(None);
        assert!(!too_long(lifetime("sessionid=x; Max-Age=1209600; Path=/")));
        assert!(!too_long(lifetime("sessionid=x; Path=/")));
        assert!(too_long(lifetime("sessionid=x; Max-Age=1209601; Path=/")));
    }

    fn seen(header: &str, date: &str) -> SeenCookie {
        let cookie = SetCookie::parse(header).unwrap();
        SeenCookie {
            endpoint: "/login".into(),
            lifetime: cookie.lifetime_secs(http_date(date)),
            cookie,
            exchange: authprobe_core::ExchangeId(0),
        }
    }

    #[test]
    fn an_expires_only_cookie_is_timed_from_the_answers_date() {
        let date = "Mon, 02 Nov 2026 09:00:00 GMT";
        // express-session's `cookie.maxAge` of 30 days, sent as `Expires`.
        let month = seen(
            "connect.sid=s%3Aab; Path=/; Expires=Wed, 02 Dec 2026 09:00:00 GMT; HttpOnly",
            date,
        );
        assert!(too_long(month.lifetime));
        let message = long_cookie_message(&month, false);
        assert!(
            message.starts_with(
                "/login sets the session cookie `connect.sid` with Expires 30 days ahead, longer than two weeks: "
            ) && !message.contains("Django"),
            "{message}"
        );
        // Flask's default: 31 days. A week, and exactly two weeks, are not reported.
        assert!(too_long(
            seen("session=x; Expires=Thu, 03 Dec 2026 09:00:00 GMT", date).lifetime
        ));
        assert!(!too_long(
            seen("session=x; Expires=Mon, 09 Nov 2026 09:00:00 GMT", date).lifetime
        ));
        assert!(!too_long(
            seen("session=x; Expires=Mon, 16 Nov 2026 09:00:00 GMT", date).lifetime
        ));
        // Max-Age wins over a far Expires.
        assert!(!too_long(
            seen("sid=x; Expires=Wed, 02 Dec 2099 09:00:00 GMT; Max-Age=3600", date).lifetime
        ));
    }

    #[test]
    fn django_is_named_only_on_a_django_target() {
        let year = seen("sessionid=x; Max-Age=31536000; Path=/", "Mon, 02 Nov 2026 09:00:00 GMT");
        let on_django = long_cookie_message(&year, true);
        assert!(
            on_django.contains("Max-Age 31536000 s (365 days), longer than Django's two-week default"),
            "{on_django}"
        );
        let elsewhere = long_cookie_message(&year, false);
        assert!(
            elsewhere.contains("longer than two weeks") && !elsewhere.contains("Django"),
            "{elsewhere}"
        );
        assert!(static_key_consequence(family::AUTHTOKEN).contains("DRF's stock TokenAuthentication"));
        for other in [family::JSON_LOGIN, family::CONFIGURED, family::OAUTH2] {
            let said = static_key_consequence(other);
            assert!(!said.contains("DRF") && !said.contains("Django"), "{said}");
        }
    }
}
