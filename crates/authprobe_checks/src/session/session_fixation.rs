use authprobe_core::auth::LoginFlow;
use authprobe_core::cookies::CookieJar;
use authprobe_core::oracle::Verdict;
use authprobe_core::probe::ProbeRequest;
use authprobe_core::{
    CheckMeta, CheckOutcome, Confidence, ExchangeId, Family, Finding, Requirement, ScanContext, Severity,
};
use std::sync::Arc;
use url::Url;

use super::{oracle, replay_session, session_oracle, BRIDGES_NEED_WRITES};
use crate::support::owasp;

crate::declare_check! {
    /// ## What it does
    /// Obtains a pre-login session id the way a browser would — the session cookie the
    /// login page issues to an anonymous visitor, or, when the server issues none, an
    /// attacker-chosen id planted in the cookie jar — and logs in with it: through the
    /// scan's form login flow (Django's `LoginView` or any HTML login form), and through
    /// token-to-session bridges (an endpoint that takes the identity's token and answers
    /// with a session cookie): those the API's spec declares, and, with `--allow-writes`
    /// only, those guessed from their path.
    /// Then it replays **only the
    /// pre-login session id** at an endpoint that serves the identity, and asks the
    /// differential oracle whether the answer is that of the logged-in user. A planted id
    /// the server kept (adopted) is named as such.
    ///
    /// ## Why is this bad?
    /// Session fixation: whoever knows the session id before login — because they planted
    /// it (a subdomain cookie, a shared kiosk, a link on a site that takes ids from the
    /// URL) or read it from the anonymous visit — is logged in as the victim as soon as
    /// the victim logs in. Django's `login()` prevents it by cycling the session key;
    /// hand-rolled logins that write the user id into the existing session do not.
    ///
    /// ## Example
    /// ```python
    /// def start_session(request, user):
    ///     # "so the anonymous basket survives the login"
    ///     request.session[SESSION_KEY] = str(user.pk)
    ///     request.session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    ///     request.session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    ///
    /// class TokenLoginView(APIView):          # Bearer token in, session cookie out
    ///     def post(self, request):
    ///         start_session(request._request, request.user)
    ///         return Response({"status": "ok"})
    /// ```
    ///
    /// ## Remediation
    /// Always log users in with `django.contrib.auth.login()`, which calls
    /// `request.session.cycle_key()` (and rotates the CSRF token); data that must survive
    /// the login is carried over by `cycle_key()` itself:
    /// ```python
    /// from django.contrib.auth import login
    ///
    /// def start_session(request, user):
    ///     login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    /// ```
    /// If you must write the session by hand, call `request.session.cycle_key()` first.
    ///
    /// ## References
    /// - CWE-384: Session Fixation
    /// - OWASP API2:2023 Broken Authentication
    /// - OWASP Session Management Cheat Sheet — https://cheatsheetseries.owasp.org/cheatsheets/Session_Management_Cheat_Sheet.html
    /// - Django: `login()` — https://docs.djangoproject.com/en/stable/topics/auth/default/#django.contrib.auth.login
    pub struct SessionFixation;
    meta = CheckMeta {
        code: "SESS001",
        slug: "session-fixation",
        title: "Pre-login session id authenticated after login (session fixation)",
        severity: Severity::High,
        cwe: &[384],
        owasp: &[owasp::API2],
        requires: Requirement::LoginFlow,
        family: Family::Session,
    };
    shares = [SessionOracle];
}

/// A session id held before login, and where it came from.
struct PreLogin {
    jar: Arc<CookieJar>,
    value: String,
    /// `false`: issued by the server to the anonymous visitor; `true`: planted by the scanner
    /// and kept by the server (adopted).
    planted: bool,
    exchange: Option<ExchangeId>,
}

impl SessionFixation {
    async fn check(&self, cx: &ScanContext) -> CheckOutcome {
        let Some(user) = cx.auth().primary_account() else {
            return CheckOutcome::skipped("needs the primary identity to come from a --user login");
        };
        let form = cx.auth().form_login();
        let judged = match form {
            Some(flow) => session_oracle(cx, flow, user).await,
            None => oracle(cx).await,
        };
        let (oracle_url, baseline) = match judged {
            Ok(o) => o,
            Err(why) => return CheckOutcome::skipped(why),
        };
        let cookie = cx.auth().session_cookie();
        let bridges = if cx.primary().and_then(|p| p.token()).is_some() {
            cx.auth().session_bridges()
        } else {
            Vec::new()
        };
        if form.is_none() && bridges.is_empty() {
            return CheckOutcome::skipped(format!(
                "no session login was found: no form login flow, and {BRIDGES_NEED_WRITES}"
            ));
        }
        let mut findings = Vec::new();
        if let Some(flow) = form {
            if let Some(f) = form_fixation(cx, flow, &cookie, user, &oracle_url, &baseline).await {
                findings.push(f);
            }
        }
        let form_url = form.map(|f| f.url.clone());
        for bridge in &bridges {
            let Some(identity) = cx.primary() else { break };
            let Some(pre) = pre_login_session(cx, form_url.as_ref(), &cookie).await else {
                continue;
            };
            let Some(resp) = cx.auth().bridge(bridge, identity, pre.jar.clone()).await else {
                continue;
            };
            let rotated = pre.jar.get(&cookie).is_some_and(|v| v != pre.value);
            if let Some(f) = replay(
                cx,
                &oracle_url,
                &baseline,
                &cookie,
                &pre,
                user.username.as_str(),
                bridge,
                rotated,
                resp.exchange,
            )
            .await
            {
                findings.push(f);
            }
        }
        findings.into()
    }
}

/// The form login with a pre-login session id, then the replay of that id.
async fn form_fixation(
    cx: &ScanContext,
    flow: &LoginFlow,
    cookie: &str,
    user: &authprobe_core::config::UserCredential,
    oracle_url: &Url,
    baseline: &authprobe_core::oracle::Baseline,
) -> Option<Finding> {
    let login_url = &flow.url;
    let pre = pre_login_session(cx, Some(login_url), cookie).await?;
    let login = cx
        .auth()
        .post_login(flow, pre.jar.clone(), user, true)
        .await
        .ok()
        .filter(|r| r.is_redirect())?;
    let rotated = pre.jar.get(cookie).is_some_and(|v| v != pre.value);
    replay(
        cx,
        oracle_url,
        baseline,
        cookie,
        &pre,
        &user.username,
        login_url,
        rotated,
        login.exchange,
    )
    .await
}

/// A fresh cookie jar holding a pre-login session id: a planted one is sent to the login
/// page; if the page issues its own id, that is the pre-login id (the plant was refused).
async fn pre_login_session(cx: &ScanContext, login_page: Option<&Url>, cookie: &str) -> Option<PreLogin> {
    let jar = Arc::new(CookieJar::new());
    let planted = authprobe_core::auth::view::planted_session_id();
    cx.redactor.add_secret(&planted);
    jar.set(cookie, &planted);
    let exchange = match login_page {
        Some(url) => {
            let page = cx
                .probe
                .send(ProbeRequest::get(url.clone()).with_jar(jar.clone()))
                .await
                .ok()?;
            Some(page.exchange)
        }
        None => None,
    };
    let value = jar.get(cookie)?;
    cx.redactor.add_secret(&value);
    Some(PreLogin {
        planted: value == planted,
        jar,
        value,
        exchange,
    })
}

/// Replays the pre-login id alone; a finding when the oracle says it is the user now.
#[allow(clippy::too_many_arguments)]
async fn replay(
    cx: &ScanContext,
    oracle_url: &Url,
    baseline: &authprobe_core::oracle::Baseline,
    cookie: &str,
    pre: &PreLogin,
    username: &str,
    login_url: &Url,
    rotated: bool,
    login_exchange: ExchangeId,
) -> Option<Finding> {
    let (verdict, resp) = replay_session(cx, oracle_url, baseline, cookie, &pre.value).await?;
    if verdict != Verdict::Accepted {
        return None;
    }
    let origin = if pre.planted {
        "an id the scanner planted in the cookie jar (the server adopted it)"
    } else {
        "the id the server issued to the anonymous visitor"
    };
    let after = if rotated {
        "The login issued a new session cookie but left the old id authenticated."
    } else {
        "The login kept the session id unchanged."
    };
    let message = format!(
        "Logging in as `{username}` at {} did not retire the pre-login session id ({origin}): {} answered as `{username}` to a request carrying only that pre-login `{cookie}` cookie. {after} Whoever planted or learned the id before login is now logged in as the victim.",
        login_url.path(),
        oracle_url.path(),
    );
    let evidence: Vec<ExchangeId> = pre
        .exchange
        .into_iter()
        .chain([login_exchange, resp.exchange, baseline.valid.exchange])
        .collect();
    Some(Finding::new(Confidence::Confirmed, login_url.path(), message).with_evidence(evidence))
}
