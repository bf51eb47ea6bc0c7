use authprobe_core::cookies::CookieJar;
use authprobe_core::flows::family;
use authprobe_core::identity::login_form;
use authprobe_core::oracle::Verdict;
use authprobe_core::probe::ProbeRequest;
use authprobe_core::{CheckMeta, CheckOutcome, Confidence, Family, Finding, Requirement, ScanContext, Severity};
use std::sync::Arc;
use url::Url;

use super::{
    form_login_url, is_session_cookie, new_session_value, oracle, post_login_form, primary_credential, replay_session,
};
use crate::support::owasp;

crate::declare_check! {
    /// ## What it does
    /// Sends the requests a malicious web page can make a victim's browser send, and sees
    /// whether the target acts on them:
    /// - **Login CSRF**: posts the Django login form with valid credentials but without the
    ///   CSRF cookie, the `csrfmiddlewaretoken` field or a `Referer`. If it logs in (a
    ///   redirect and a new session cookie, which the differential oracle confirms is
    ///   authenticated), an attacker can log victims into the attacker's account.
    /// - **Cookie-authenticated state change**: logs in afresh through the form, then makes
    ///   a harmless state-changing `POST` carrying only the session cookie and no
    ///   `X-CSRFToken` — creating an API key (`POST …/keys/`), else logging that fresh
    ///   session out. The same request without the cookie must be refused, so acceptance
    ///   proves the session authenticated a request with no CSRF token.
    ///
    /// ## Why is this bad?
    /// Browsers attach cookies to cross-site requests (unless `SameSite` stops them), so
    /// without a CSRF check any page the user visits can act with the user's session:
    /// create API keys for the attacker to read back, change the password, log the user
    /// out. Login CSRF is subtler: the victim works in the attacker's account, and
    /// whatever they type (cards, documents) lands there.
    ///
    /// ## Example
    /// ```python
    /// class CsrfExemptSessionAuthentication(SessionAuthentication):
    ///     def enforce_csrf(self, request):
    ///         return None          # "fixes" CSRF Failed: CSRF token missing
    ///
    /// urlpatterns = [path("accounts/login/", csrf_exempt(LoginView.as_view()))]
    /// ```
    ///
    /// ## Remediation
    /// Keep `CsrfViewMiddleware` and DRF's stock `SessionAuthentication` (which enforces
    /// CSRF for authenticated sessions); have the SPA send the `csrftoken` cookie back as
    /// `X-CSRFToken`. Never wrap login views in `csrf_exempt`:
    /// ```python
    /// REST_FRAMEWORK = {"DEFAULT_AUTHENTICATION_CLASSES": [
    ///     "rest_framework.authentication.SessionAuthentication",
    /// ]}
    /// CSRF_TRUSTED_ORIGINS = ["https://app.example.com"]
    /// SESSION_COOKIE_SAMESITE = "Lax"
    /// ```
    ///
    /// ## References
    /// - CWE-352: Cross-Site Request Forgery (CSRF)
    /// - OWASP API2:2023 Broken Authentication
    /// - Django: CSRF protection — https://docs.djangoproject.com/en/stable/ref/csrf/
    /// - DRF: CSRF validation with SessionAuthentication — https://www.django-rest-framework.org/topics/ajax-csrf-cors/
    pub struct CsrfUnprotected;
    meta = CheckMeta {
        code: "SESS008",
        slug: "csrf-unprotected",
        title: "Cookie-authenticated request accepted without CSRF token",
        severity: Severity::Medium,
        cwe: &[352],
        owasp: &[owasp::API2],
        requires: Requirement::LoginFlow,
        family: Family::Session,
    };
}

/// Path fragments of harmless state-changing endpoints (creating an API key).
const KEY_WORDS: &[&str] = &["keys", "api-key", "apikey", "api_key"];

impl CsrfUnprotected {
    async fn check(&self, cx: &ScanContext) -> CheckOutcome {
        let Some(user) = primary_credential(cx) else {
            return CheckOutcome::skipped("needs the primary identity to come from a --user login");
        };
        let Some(login_url) = form_login_url(cx) else {
            return CheckOutcome::skipped("no Django form login was found: cookie sessions cannot be tested");
        };
        let (oracle_url, baseline) = match oracle(cx).await {
            Ok(o) => o,
            Err(why) => return CheckOutcome::skipped(why),
        };
        let mut findings = Vec::new();

        // Login CSRF: a cross-site form post carries no CSRF cookie, field or same-site Referer.
        let jar = Arc::new(CookieJar::new());
        if let Ok(resp) = post_login_form(cx, &login_url, jar, user, None).await {
            if let (true, Some((name, value))) = (resp.is_redirect(), new_session_value(&resp)) {
                cx.redactor.add_secret(&value);
                if let Some((Verdict::Accepted, replay)) =
                    replay_session(cx, &oracle_url, &baseline, &name, &value).await
                {
                    findings.push(
                        Finding::new(
                            Confidence::Confirmed,
                            login_url.path(),
                            format!(
                                "{} logged `{}` in from a form post without any CSRF token, CSRF cookie or Referer (login CSRF): the session it issued authenticated at {}. A malicious page can log a victim's browser into an account the attacker controls.",
                                login_url.path(),
                                user.username,
                                oracle_url.path()
                            ),
                        )
                        .with_evidence([resp.exchange, replay.exchange]),
                    );
                }
            }
        }

        // A state change carried by the session cookie alone.
        let Ok((jar, _)) = login_form(&cx.probe, &login_url, user).await else {
            return findings.into();
        };
        for name in jar.names() {
            if is_session_cookie(&name) {
                if let Some(v) = jar.get(&name) {
                    cx.redactor.add_secret(&v);
                }
            }
        }
        for (url, what) in state_changers(cx) {
            let form = |jar: Option<Arc<CookieJar>>| {
                let req = ProbeRequest::post_form(url.clone(), &[]);
                match jar {
                    Some(j) => req.with_jar(j),
                    None => req,
                }
            };
            let Ok(anonymous) = cx.probe.send(form(None)).await else {
                continue;
            };
            if !matches!(anonymous.status, 401 | 403) {
                continue;
            }
            let Ok(resp) = cx.probe.send(form(Some(jar.clone()))).await else {
                continue;
            };
            if let Some(json) = resp.json() {
                for k in ["key", "token", "secret"] {
                    if let Some(v) = json.get(k).and_then(|v| v.as_str()) {
                        cx.redactor.add_secret(v);
                    }
                }
            }
            if !resp.is_success() {
                // A CSRF refusal (or any other): this target is protected; the next would be too.
                break;
            }
            findings.push(
                Finding::new(
                    Confidence::Confirmed,
                    url.path(),
                    format!(
                        "POST {} ({what}) carrying only a fresh session cookie of `{}` and no CSRF token was accepted (HTTP {}), while the same request without the cookie was refused (HTTP {}): any website the user visits can make this change with the user's session.",
                        url.path(),
                        user.username,
                        resp.status,
                        anonymous.status
                    ),
                )
                .with_evidence([resp.exchange, anonymous.exchange]),
            );
            break;
        }
        findings.into()
    }
}

/// Harmless state-changing endpoints to try, allowed for POST: API-key creation (refused
/// anonymously, `405` to the identity's GET), then logout (of the fresh session only).
fn state_changers(cx: &ScanContext) -> Vec<(Url, &'static str)> {
    let mut out: Vec<(Url, &'static str)> = cx
        .inventory
        .endpoints
        .iter()
        .filter(|e| {
            let p = e.path().to_ascii_lowercase();
            KEY_WORDS.iter().any(|w| p.trim_end_matches('/').ends_with(w))
        })
        .filter(|e| e.anonymously_refused() && e.authenticated.as_ref().is_some_and(|r| r.status == 405))
        .map(|e| (e.url.clone(), "creates an API key"))
        .take(1)
        .collect();
    for url in &out {
        cx.probe.allow_post(&url.0);
    }
    let session_logout = cx
        .flows
        .logout
        .iter()
        .find(|f| matches!(f.family, family::LINKED | family::DJANGO_FORM | family::CONFIGURED));
    out.extend(session_logout.map(|f| (f.url.clone(), "logs the session out")));
    out
}
