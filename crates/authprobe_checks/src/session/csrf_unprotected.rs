use authprobe_core::auth::identity::Presentation;
use authprobe_core::auth::{LoginFlow, CROSS_SITE_HEADERS};
use authprobe_core::cookies::CookieJar;
use authprobe_core::oracle::Verdict;
use authprobe_core::probe::{ProbeRequest, WriteGrant};
use authprobe_core::{CheckMeta, CheckOutcome, Confidence, Family, Finding, Requirement, ScanContext, Severity};
use std::sync::Arc;
use url::Url;

use super::{replay_session, session_oracle};
use crate::support::owasp;

crate::declare_check! {
    /// ## What it does
    /// Sends the requests a malicious web page can make a victim's browser send, and sees
    /// whether the target acts on them:
    /// - **Login CSRF**: posts the form login (Django's, or any stack's HTML login form)
    ///   with valid credentials as a page on another site would: without the CSRF cookie,
    ///   the form's hidden token or a `Referer`, with a foreign `Origin` and
    ///   `Sec-Fetch-Site: cross-site`. If it logs in (a redirect and a new session cookie,
    ///   which the differential oracle confirms is authenticated), an attacker can log
    ///   victims into the attacker's account.
    /// - **Cookie-authenticated state change**: logs in afresh through the form, then makes
    ///   a harmless state-changing `POST` carrying only the session cookie and no
    ///   `X-CSRFToken` — creating an API key (`POST …/keys/`, a guess, so only with
    ///   `--allow-writes`), else logging that fresh session out through the logout flow.
    ///   The same request without the cookie must be refused, so acceptance proves the
    ///   session authenticated a request with no CSRF token.
    /// - **Tokens in cookies** (a login that keeps its JWTs in cookies, as
    ///   Flask-JWT-Extended does, or a JSON login that sets them as cookies too): a
    ///   cross-site `POST` to the login's refresh flow carrying only a fresh login's
    ///   cookies, refused without them, must not mint tokens. Tried when there is no form
    ///   login, or when the form session is protected.
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
    shares = [SessionOracle];
}

/// Path fragments of harmless state-changing endpoints (creating an API key).
const KEY_WORDS: &[&str] = &["keys", "api-key", "apikey", "api_key"];

impl CsrfUnprotected {
    async fn check(&self, cx: &ScanContext) -> CheckOutcome {
        let Some(user) = cx.auth().primary_account() else {
            return CheckOutcome::skipped("needs the primary identity to come from a --user login");
        };
        let Some(flow) = cx.auth().form_login() else {
            return cookie_token_csrf(cx, user).await;
        };
        let form = form_session_csrf(cx, flow, user).await;
        if has_findings(&form) {
            return form;
        }
        // The form session may be protected while tokens another login keeps in cookies are not.
        let cookie = cookie_token_csrf(cx, user).await;
        if has_findings(&cookie) {
            cookie
        } else {
            form
        }
    }
}

/// Login CSRF and a cookie-carried state change of the form login's session.
async fn form_session_csrf(
    cx: &ScanContext,
    flow: &LoginFlow,
    user: &authprobe_core::config::UserCredential,
) -> CheckOutcome {
    let login_url = flow.url.clone();
    let (oracle_url, baseline) = match session_oracle(cx, flow, user).await {
        Ok(o) => o,
        Err(why) => return CheckOutcome::skipped(why),
    };
    let mut findings = Vec::new();

    // Login CSRF: a cross-site form post carries no CSRF cookie, field or same-site Referer.
    let jar = Arc::new(CookieJar::new());
    if let Ok(resp) = cx.auth().post_login(flow, jar, user, false).await {
        if let (true, Some((name, value))) = (resp.is_redirect(), cx.auth().new_session(&resp)) {
            if let Some((Verdict::Accepted, replay)) = replay_session(cx, &oracle_url, &baseline, &name, &value).await {
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
    let Some(jar) = cx.auth().fresh_login(flow, user).await.and_then(|i| i.session) else {
        return findings.into();
    };
    for (url, what) in state_changers(cx) {
        let form = |jar| cross_site(ProbeRequest::post_form(url.clone(), &[]), jar);
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

/// `req` as a page on another site would send it (foreign `Origin`, `Sec-Fetch-Site`),
/// with `jar`'s cookies or none.
fn cross_site(req: ProbeRequest, jar: Option<Arc<CookieJar>>) -> ProbeRequest {
    let req = CROSS_SITE_HEADERS
        .iter()
        .fold(req, |req, (name, value)| req.header(name, *value));
    match jar {
        Some(j) => req.with_jar(j),
        None => req,
    }
}

fn has_findings(outcome: &CheckOutcome) -> bool {
    matches!(outcome, CheckOutcome::Ran(found) if !found.is_empty())
}

/// Logins tried for tokens held in cookies.
const MAX_COOKIE_LOGINS: usize = 2;

/// A login that keeps its tokens in cookies (Flask-JWT-Extended, SPAs, a Django login that
/// sets its JWTs as cookies too) is as exposed to CSRF as a session. The refresh flow is
/// the state change (it mints tokens): a cross-site POST carrying only a fresh login's
/// cookies must be refused when the same POST without them is. The logins tried are the
/// identity's own when it presents a cookie, else the JSON logins that have a refresh flow.
async fn cookie_token_csrf(cx: &ScanContext, user: &authprobe_core::config::UserCredential) -> CheckOutcome {
    let Some(primary) = cx.primary() else {
        return CheckOutcome::skipped("needs the primary identity to come from a --user login");
    };
    let own = primary.login_url.as_ref().and_then(|u| cx.flows.login_at(u));
    let logins: Vec<&LoginFlow> = match (primary.presentation(), own) {
        (Some(Presentation::Cookie(_)), Some(login)) => vec![login],
        _ => cx
            .flows
            .login
            .iter()
            .filter(|f| !f.takes_form() && cx.flows.refresh_for(f).is_some())
            .take(MAX_COOKIE_LOGINS)
            .collect(),
    };
    if logins.is_empty() {
        return CheckOutcome::skipped(
            "no form login flow was found and no login with a refresh flow keeps its tokens in cookies: cookie sessions cannot be tested",
        );
    }
    let mut last = CheckOutcome::skipped("no login set its tokens in cookies");
    for login in logins {
        last = cookie_refresh_csrf(cx, user, login).await;
        if has_findings(&last) {
            break;
        }
    }
    last
}

/// One login's cookies against its refresh flow, sent cross-site.
async fn cookie_refresh_csrf(
    cx: &ScanContext,
    user: &authprobe_core::config::UserCredential,
    login: &LoginFlow,
) -> CheckOutcome {
    let Some(refresh) = cx.flows.refresh_for(login) else {
        return CheckOutcome::skipped(
            "the identity's token is a cookie, but no refresh flow was found to test a cookie-carried state change",
        );
    };
    let Some(jar) = cx
        .auth()
        .fresh_login(login, user)
        .await
        .and_then(|i| i.session)
        .filter(|jar| !jar.names().is_empty())
    else {
        return CheckOutcome::skipped(format!("the fresh login at {} set no cookies", login.path()));
    };
    let post = |jar| {
        cross_site(
            ProbeRequest::post_json(refresh.url.clone(), &serde_json::json!({})),
            jar,
        )
    };
    let Ok(anonymous) = cx.probe.send(post(None)).await else {
        return CheckOutcome::skipped("the refresh endpoint did not answer");
    };
    if !matches!(anonymous.status, 401 | 403) {
        return CheckOutcome::skipped(format!(
            "{} answered a POST without cookies with HTTP {}, so acceptance would prove nothing",
            refresh.path(),
            anonymous.status
        ));
    }
    let Ok(resp) = cx.probe.send(post(Some(jar))).await else {
        return CheckOutcome::skipped("the refresh endpoint did not answer");
    };
    for c in resp.set_cookies() {
        cx.redactor.add_secret(&c.value);
    }
    if let Some(json) = resp.json() {
        let minted = authprobe_core::auth::extract::from_body(&json);
        for token in [minted.access_jwt, minted.refresh, minted.opaque].into_iter().flatten() {
            cx.redactor.add_secret(&token);
        }
    }
    if !resp.is_success() {
        return CheckOutcome::passed();
    }
    vec![Finding::new(
        Confidence::Confirmed,
        refresh.path(),
        format!(
            "POST {} (mints tokens) carrying only the cookies of a fresh login of `{}` at {}, sent as a page on another site would (foreign Origin, no CSRF token), was accepted (HTTP {}), while the same request without the cookies was refused (HTTP {}): any website the user visits can act with the user's cookie-held tokens.",
            refresh.path(),
            user.username,
            login.path(),
            resp.status,
            anonymous.status
        ),
    )
    .with_evidence([resp.exchange, anonymous.exchange])]
    .into()
}

/// Harmless state-changing endpoints to try: API-key creation (refused anonymously, `405`
/// to the identity's GET; a guess, so only with write probes on), then the session's
/// logout flow (of the fresh session only).
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
        .filter(|(url, _)| cx.probe.allow_write(url, WriteGrant::AnyIdentity))
        .collect();
    let session_logout = cx.auth().session_logout();
    out.extend(session_logout.map(|f| (f.url.clone(), "logs the session out")));
    out
}
