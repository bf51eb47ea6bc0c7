//! Session and token-lifecycle checks: what happens to credentials *across* requests —
//! at login (fixation, CSRF), at logout, at refresh, and over time.
//!
//! Every check here works on credentials it obtains itself with fresh logins, never on the
//! primary identity's own credential (other checks use it concurrently), and decides with
//! the differential oracle: a replayed credential "still works" only when the endpoint
//! answers like the valid-credential baseline, as the same user, and unlike a garbage one.

pub mod csrf_unprotected;
pub mod logout_not_revoking;
pub mod password_change_not_revoking;
pub mod refresh_reuse;
pub mod session_fixation;
pub mod session_id_in_url;
pub mod session_lifetime;
pub mod token_as_session_id;

use authprobe_core::config::UserCredential;
use authprobe_core::cookies::CookieJar;
use authprobe_core::discovery::EndpointKind;
use authprobe_core::flows::{family, BodyEncoding, LoginFlow, RefreshFlow};
use authprobe_core::identity::Identity;
use authprobe_core::oracle::{Baseline, Verdict};
use authprobe_core::probe::{ProbeError, ProbeRequest, ProbeResponse};
use authprobe_core::ScanContext;
use regex::Regex;
use std::sync::{Arc, LazyLock};
use url::Url;

/// Endpoints tried when looking for one where the oracle can judge a replayed credential.
const MAX_ORACLE_CANDIDATES: usize = 6;

/// Django's default session cookie name, used when the target never showed its own.
const DEFAULT_SESSION_COOKIE: &str = "sessionid";

/// Path fragments of logout endpoints (discovery records links to them but never requests them).
const LOGOUT_WORDS: &[&str] = &["logout", "log-out", "log_out", "signout", "sign-out", "sign_out"];

/// Whether a cookie name looks like a session id (`sessionid`, `SESSION`, `connect.sid`).
pub(crate) fn is_session_cookie(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    !lower.contains("csrf") && !lower.contains("xsrf") && (lower.contains("session") || lower.ends_with("sid"))
}

/// The account behind the primary identity (fresh logins use it, so the oracle's identity
/// marker is the same user).
pub(crate) fn primary_credential(cx: &ScanContext) -> Option<&UserCredential> {
    let primary = cx.primary()?;
    let name = primary.username.as_deref()?;
    cx.credentials.iter().find(|c| c.username == name)
}

/// The name of the target's session cookie: the one the primary identity's form login
/// received, else Django's default.
pub(crate) fn session_cookie_name(cx: &ScanContext) -> String {
    cx.identities
        .iter()
        .filter_map(|i| i.session.as_ref())
        .flat_map(|jar| jar.names())
        .find(|n| is_session_cookie(n))
        .unwrap_or_else(|| DEFAULT_SESSION_COOKIE.to_string())
}

/// The first endpoint (identity endpoint first) whose A/N/G baselines can be told apart,
/// with those baselines.
pub(crate) async fn oracle(cx: &ScanContext) -> Result<(Url, Baseline), String> {
    let mut urls: Vec<Url> = cx.identity_endpoint.iter().cloned().collect();
    for e in cx.protected_endpoints() {
        if matches!(e.kind, EndpointKind::Api | EndpointKind::IdentityCandidate) && !urls.contains(&e.url) {
            urls.push(e.url.clone());
        }
    }
    let mut reasons = Vec::new();
    for url in urls.into_iter().take(MAX_ORACLE_CANDIDATES) {
        match cx.baseline(&url).await {
            Ok(b) => match b.distinguishable() {
                Ok(()) => return Ok((url, b)),
                Err(why) => reasons.push(format!("{}: {why}", url.path())),
            },
            Err(why) => reasons.push(format!("{}: {why}", url.path())),
        }
    }
    if reasons.is_empty() {
        Err("no endpoint was found that serves the identity and refuses anonymous requests".into())
    } else {
        Err(format!(
            "no endpoint lets the oracle tell a valid credential from an invalid one ({})",
            reasons.join("; ")
        ))
    }
}

/// Sends `req` to the oracle endpoint and judges the answer. A `429` is a refusal.
pub(crate) async fn judge(
    cx: &ScanContext,
    baseline: &Baseline,
    req: ProbeRequest,
) -> Option<(Verdict, ProbeResponse)> {
    let resp = cx.probe.send(req.header("Accept", "application/json")).await.ok()?;
    if resp.status == 429 {
        return Some((Verdict::Rejected, resp));
    }
    Some((baseline.judge(&resp), resp))
}

/// Replays one session cookie, alone, at the oracle endpoint.
pub(crate) async fn replay_session(
    cx: &ScanContext,
    url: &Url,
    baseline: &Baseline,
    cookie: &str,
    value: &str,
) -> Option<(Verdict, ProbeResponse)> {
    let jar = Arc::new(CookieJar::new());
    jar.set(cookie, value);
    judge(cx, baseline, ProbeRequest::get(url.clone()).with_jar(jar)).await
}

/// The Django form login page, from the login flows (a configured form login, else the
/// detected `LoginView`; the admin login only takes staff accounts).
pub(crate) fn form_login_url(cx: &ScanContext) -> Option<Url> {
    form_login(cx).map(|f| f.url.clone())
}

/// The form login flow (see [`form_login_url`]).
pub(crate) fn form_login(cx: &ScanContext) -> Option<&LoginFlow> {
    cx.flows
        .login
        .iter()
        .find(|f| f.spec.body == BodyEncoding::Form && f.family != family::DJANGO_ADMIN)
}

/// The login flow that issues tokens (a JWT pair, or an opaque API token): the one the
/// primary identity logged in through when it holds tokens, else the first JSON login
/// (configured first, then simplejwt, dj-rest-auth, knox).
pub(crate) fn token_login(cx: &ScanContext) -> Option<&LoginFlow> {
    let primary_flow = cx
        .primary()
        .filter(|p| p.access_jwt.is_some() || p.scheme().is_some())
        .and_then(|p| p.login_exchange)
        .and_then(|id| cx.probe.exchange(id))
        .and_then(|x| Url::parse(&x.request.url).ok())
        .and_then(|url| cx.flows.login_at(&url).cloned());
    if let Some(flow) = primary_flow {
        return cx.flows.login.iter().find(|f| Arc::ptr_eq(f, &flow));
    }
    cx.flows
        .login
        .iter()
        .find(|f| f.spec.body == BodyEncoding::Json && f.family != family::AUTHTOKEN)
}

/// Logs `user` in afresh through `flow` and registers every credential it issued with the
/// redactor.
pub(crate) async fn fresh_login(cx: &ScanContext, flow: &LoginFlow, user: &UserCredential) -> Option<Identity> {
    let identity = flow.log_in(&cx.probe, user).await.ok()?;
    for secret in identity.secrets() {
        cx.redactor.add_secret(&secret);
    }
    Some(identity)
}

/// Presents a refresh token at `flow`; the access token minted, if any (registered as a
/// secret, like the rotated refresh token).
pub(crate) async fn refresh_with(
    cx: &ScanContext,
    flow: &RefreshFlow,
    refresh: &str,
) -> Option<(Option<String>, Option<String>, ProbeResponse)> {
    let out = flow.refresh(&cx.probe, refresh).await.ok()?;
    for secret in out.access.iter().chain(&out.refresh) {
        cx.redactor.add_secret(secret);
    }
    Some((out.access, out.refresh, out.response))
}

/// DRF authtoken-style login endpoints (`/api-token-auth/`, `.../authtoken/`).
pub(crate) fn is_authtoken_path(path: &str) -> bool {
    let p = path.to_ascii_lowercase();
    p.contains("token-auth") || p.contains("authtoken") || p.contains("token_auth")
}

/// Token-to-session bridges: endpoints that refuse anonymous requests, answer the identity's
/// GET with `405` (POST only), and whose path says login or session (e.g. `/api/token-login/`).
/// Each is allowed for POST: it is a login flow endpoint.
pub(crate) fn session_bridges(cx: &ScanContext) -> Vec<Url> {
    let urls: Vec<Url> = cx
        .inventory
        .endpoints
        .iter()
        .filter(|e| !e.kind.takes_credentials() && !e.kind.is_token_endpoint())
        .filter(|e| {
            let p = e.path().to_ascii_lowercase();
            (p.contains("login") || p.contains("session")) && !LOGOUT_WORDS.iter().any(|w| p.contains(w))
        })
        .filter(|e| e.anonymously_refused() && e.authenticated.as_ref().is_some_and(|r| r.status == 405))
        .map(|e| e.url.clone())
        .take(2)
        .collect();
    for url in &urls {
        cx.probe.allow_post(url);
    }
    urls
}

static CSRF_FIELD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"name=["']csrfmiddlewaretoken["']\s+value=["']([^"']+)["']|value=["']([^"']+)["']\s+name=["']csrfmiddlewaretoken["']"#)
        .expect("valid regex")
});

/// The `csrfmiddlewaretoken` of a Django form page.
pub(crate) fn csrf_field(html: &str) -> Option<String> {
    CSRF_FIELD
        .captures(html)
        .and_then(|c| c.get(1).or_else(|| c.get(2)))
        .map(|m| m.as_str().to_string())
}

/// A random value shaped like a Django session key (32 lowercase letters and digits).
pub(crate) fn planted_session_id() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..32)
        .map(|_| ALPHABET[rand::random::<u32>() as usize % ALPHABET.len()] as char)
        .collect()
}

/// Posts a Django login form with `jar`. With `csrf`, the form's token and a same-origin
/// `Referer` are sent (as a browser on the site would); without, neither (as a cross-site
/// form would).
pub(crate) async fn post_login_form(
    cx: &ScanContext,
    url: &Url,
    jar: Arc<CookieJar>,
    user: &UserCredential,
    csrf_token: Option<&str>,
) -> Result<ProbeResponse, ProbeError> {
    let mut fields = vec![
        ("username", user.username.as_str()),
        ("password", user.password.as_str()),
    ];
    if let Some(token) = csrf_token {
        fields.insert(0, ("csrfmiddlewaretoken", token));
    }
    let mut req = ProbeRequest::post_form(url.clone(), &fields).with_jar(jar);
    if csrf_token.is_some() {
        req = req.header("Referer", url.as_str());
    }
    cx.probe.send(req).await
}

/// The value of the session cookie a response set (not deleted), if any.
pub(crate) fn new_session_value(resp: &ProbeResponse) -> Option<(String, String)> {
    resp.set_cookies()
        .into_iter()
        .find(|c| !c.deletes && is_session_cookie(&c.name) && !c.value.is_empty())
        .map(|c| (c.name, c.value))
}

/// `N s` / `N min` / `N h` / `N days`, for messages.
pub(crate) fn human_duration(secs: i64) -> String {
    match secs {
        s if s < 120 => format!("{s} s"),
        s if s < 2 * 3600 => format!("{} min", s / 60),
        s if s < 2 * 86400 => format!("{} h", s / 3600),
        s => format!("{} days", s / 86400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_cookies_are_told_from_csrf_and_other_cookies() {
        assert!(is_session_cookie("sessionid"));
        assert!(is_session_cookie("SESSION"));
        assert!(is_session_cookie("connect.sid"));
        assert!(!is_session_cookie("csrftoken"));
        assert!(!is_session_cookie("messages"));
        assert!(!is_session_cookie("csrf_session"));
    }

    #[test]
    fn a_planted_id_looks_like_a_django_session_key() {
        let id = planted_session_id();
        assert_eq!(id.len(), 32);
        assert!(id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
        assert_ne!(id, planted_session_id());
    }

    #[test]
    fn the_csrf_field_is_read_in_either_attribute_order() {
        assert_eq!(
            csrf_field(r#"<input type="hidden" name="csrfmiddlewaretoken" value="abc">"#).as_deref(),
            Some("abc")
        );
        assert_eq!(
            csrf_field(r#"<input value='xyz' name='csrfmiddlewaretoken'>"#).as_deref(),
            Some("xyz")
        );
        assert_eq!(csrf_field("<form></form>"), None);
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(45), "45 s");
        assert_eq!(human_duration(299), "4 min");
        assert_eq!(human_duration(8 * 3600), "8 h");
        assert_eq!(human_duration(30 * 86400), "30 days");
    }
}
