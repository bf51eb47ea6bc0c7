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

use authprobe_core::auth::identity::{Credential, Identity};
use authprobe_core::auth::vocab::DEFAULT_SESSION_COOKIE;
use authprobe_core::auth::{family, AttemptOptions, BodyEncoding, LoginFlow, RefreshFlow};
use authprobe_core::config::UserCredential;
use authprobe_core::cookies::CookieJar;
use authprobe_core::discovery::EndpointKind;
use authprobe_core::oracle::{Baseline, Verdict};
use authprobe_core::probe::{ProbeError, ProbeRequest, ProbeResponse, WriteGrant};
use authprobe_core::ScanContext;
use std::sync::Arc;
use url::Url;

/// Endpoints tried when looking for one where the oracle can judge a replayed credential.
const MAX_ORACLE_CANDIDATES: usize = 6;

/// Path fragments of logout endpoints (discovery records links to them but never requests them).
const LOGOUT_WORDS: &[&str] = &["logout", "log-out", "log_out", "signout", "sign-out", "sign_out"];

pub(crate) use authprobe_core::auth::vocab::is_session_cookie;

/// The account behind the primary identity (fresh logins use it, so the oracle's identity
/// marker is the same user).
pub(crate) fn primary_credential(cx: &ScanContext) -> Option<&UserCredential> {
    let primary = cx.primary()?;
    let name = primary.username.as_deref()?;
    cx.credentials.iter().find(|c| c.username == name)
}

/// The name of the target's session cookie: the one a session login received, else one
/// its pages set, else Django's default.
pub(crate) fn session_cookie_name(cx: &ScanContext) -> String {
    let from_identities = cx
        .identities
        .iter()
        .filter_map(|i| i.session.as_ref())
        .flat_map(|jar| jar.names())
        .find(|n| is_session_cookie(n));
    // A session the target hands anonymous visitors (a login page's `connect.sid`).
    let from_pages = || {
        cx.inventory
            .endpoints
            .iter()
            .filter_map(|e| e.anonymous_ok())
            .flat_map(|r| r.set_cookies())
            .find(|c| !c.deletes && is_session_cookie(&c.name))
            .map(|c| c.name)
    };
    from_identities
        .or_else(from_pages)
        .unwrap_or_else(|| DEFAULT_SESSION_COOKIE.to_string())
}

/// Endpoints a replayed credential can be judged at: the identity endpoint, then the
/// protected API endpoints.
fn oracle_candidates(cx: &ScanContext) -> Vec<Url> {
    let mut urls: Vec<Url> = cx.identity_endpoint.iter().cloned().collect();
    for e in cx.protected_endpoints() {
        if matches!(e.kind, EndpointKind::Api | EndpointKind::IdentityCandidate) && !urls.contains(&e.url) {
            urls.push(e.url.clone());
        }
    }
    urls
}

/// The first endpoint (identity endpoint first) whose A/N/G baselines can be told apart,
/// with those baselines.
pub(crate) async fn oracle(cx: &ScanContext) -> Result<(Url, Baseline), String> {
    let mut reasons = Vec::new();
    for url in oracle_candidates(cx).into_iter().take(MAX_ORACLE_CANDIDATES) {
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

/// The oracle for replayed session cookies, once per scan: see [`session_oracle`].
pub(crate) struct SessionOracle(Result<(Url, Baseline), String>);

/// An endpoint where a replayed session cookie can be judged, with its baselines taken
/// with a session: the primary identity's when it holds one (the ordinary oracle), else a
/// fresh login of `user` through the form `flow`. Its candidates are the page that login
/// redirects to (a session's home: `/session/me`, `/accounts/profile/`), then the
/// endpoints the ordinary oracle tries; the first whose answer to the session differs from
/// the anonymous one and from a garbage session id's wins.
pub(crate) async fn session_oracle(
    cx: &ScanContext,
    flow: &LoginFlow,
    user: &UserCredential,
) -> Result<(Url, Baseline), String> {
    let primary_is_session = cx
        .primary()
        .is_some_and(|p| matches!(p.credential, Credential::Session(_)));
    if primary_is_session {
        return oracle(cx).await;
    }
    let shared = cx
        .shared(|| async { SessionOracle(session_baseline(cx, flow, user).await) })
        .await;
    shared.0.clone()
}

async fn session_baseline(
    cx: &ScanContext,
    flow: &LoginFlow,
    user: &UserCredential,
) -> Result<(Url, Baseline), String> {
    let answer = flow
        .attempt_with(&cx.probe, &user.username, &user.password, AttemptOptions::new())
        .await
        .map_err(|e| format!("the form login failed: {e}"))?;
    let home = answer
        .response
        .location()
        .filter(|l| cx.target.same_origin(l) && l.path() != flow.url.path());
    let identity = flow
        .identity_from(user, answer)
        .map_err(|_| format!("the form login did not log `{}` in", user.username))?;
    let Some(jar) = identity.session.clone() else {
        return Err("the form login set no session cookie".into());
    };
    let cookie = jar.names().into_iter().find(|n| is_session_cookie(n));
    let Some(cookie) = cookie else {
        return Err("the form login set no session cookie".into());
    };
    let mut urls: Vec<Url> = home.into_iter().collect();
    for url in oracle_candidates(cx) {
        if !urls.contains(&url) {
            urls.push(url);
        }
    }
    let mut reasons = Vec::new();
    for url in urls.into_iter().take(MAX_ORACLE_CANDIDATES) {
        let get = |jar: Option<Arc<CookieJar>>| {
            let req = ProbeRequest::get(url.clone()).header("Accept", "application/json");
            let req = match jar {
                Some(j) => req.with_jar(j),
                None => req,
            };
            cx.probe.send(req)
        };
        let garbage_jar = Arc::new(CookieJar::new());
        garbage_jar.set(&cookie, &planted_session_id());
        let (Ok(valid), Ok(anonymous), Ok(garbage)) = (
            get(Some(jar.clone())).await,
            get(None).await,
            get(Some(garbage_jar)).await,
        ) else {
            reasons.push(format!("{}: a request failed", url.path()));
            continue;
        };
        let baseline = Baseline::new(valid, anonymous, garbage, identity.marker.as_deref());
        match baseline.distinguishable() {
            Ok(()) => return Ok((url, baseline)),
            Err(why) => reasons.push(format!("{}: {why}", url.path())),
        }
    }
    Err(format!(
        "no endpoint lets the oracle tell a session of `{}` from none ({})",
        user.username,
        reasons.join("; ")
    ))
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

/// The form login flow: a configured form login, else a detected one (the admin login
/// only takes staff accounts, so it is left out).
pub(crate) fn form_login(cx: &ScanContext) -> Option<&LoginFlow> {
    cx.flows
        .login
        .iter()
        .find(|f| f.takes_form() && f.family != family::DJANGO_ADMIN)
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

/// Logs `user` in afresh through `flow` (the auth layer registers every credential it
/// issued with the redactor).
pub(crate) async fn fresh_login(cx: &ScanContext, flow: &LoginFlow, user: &UserCredential) -> Option<Identity> {
    flow.log_in(&cx.probe, user).await.ok()
}

/// Presents `identity`'s refresh token `refresh` at `flow`, the way its login handed it
/// over (a body field, or its cookie); the access token minted, if any (the auth layer
/// registers it as a secret, like the rotated refresh token).
pub(crate) async fn refresh_with(
    cx: &ScanContext,
    flow: &RefreshFlow,
    identity: &Identity,
    refresh: &str,
) -> Option<(Option<String>, Option<String>, ProbeResponse)> {
    let out = flow
        .refresh_held(&cx.probe, refresh, identity.refresh_cookie.as_deref())
        .await
        .ok()?;
    Some((out.access, out.refresh, out.response))
}

/// Token-to-session bridges: endpoints that refuse anonymous requests, answer the identity's
/// GET with `405` (POST only), and whose path says login or session (e.g. `/api/token-login/`).
/// They are guesses, not flows (a POST-only `/session/transfer/` may revoke the very token it
/// is sent), so they are tried only with write probes on, which grant them here.
pub(crate) fn session_bridges(cx: &ScanContext) -> Vec<Url> {
    cx.inventory
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
        .filter(|url| cx.probe.allow_write(url, WriteGrant::AnyIdentity))
        .collect()
}

/// Why no bridge was tried, for skip reasons.
pub(crate) const BRIDGES_NEED_WRITES: &str = "token-to-session endpoints are guesses, tried only with --allow-writes";

/// A random value shaped like a Django session key (32 lowercase letters and digits).
pub(crate) fn planted_session_id() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..32)
        .map(|_| ALPHABET[rand::random::<u32>() as usize % ALPHABET.len()] as char)
        .collect()
}

/// Posts `flow`'s login for `user` with `jar`. With `same_site`, the form's CSRF token
/// and a same-origin `Referer` are sent (as a browser on the site would); without, neither
/// (as a form on another site would).
pub(crate) async fn post_login(
    cx: &ScanContext,
    flow: &LoginFlow,
    jar: Arc<CookieJar>,
    user: &UserCredential,
    same_site: bool,
) -> Result<ProbeResponse, ProbeError> {
    let mut options = AttemptOptions::new().with_jar(jar);
    if !same_site {
        options = options.cross_site();
    }
    let answer = flow
        .attempt_with(&cx.probe, &user.username, &user.password, options)
        .await?;
    Ok(answer.response)
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
    fn a_planted_id_looks_like_a_django_session_key() {
        let id = planted_session_id();
        assert_eq!(id.len(), 32);
        assert!(id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
        assert_ne!(id, planted_session_id());
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(45), "45 s");
        assert_eq!(human_duration(299), "4 min");
        assert_eq!(human_duration(8 * 3600), "8 h");
        assert_eq!(human_duration(30 * 86400), "30 days");
    }
}
