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

use authprobe_core::auth::identity::Credential;
use authprobe_core::auth::LoginFlow;
use authprobe_core::config::UserCredential;
use authprobe_core::cookies::CookieJar;
use authprobe_core::discovery::EndpointKind;
use authprobe_core::oracle::{Baseline, Verdict};
use authprobe_core::probe::{ProbeRequest, ProbeResponse};
use authprobe_core::ScanContext;
use authprobe_core::Shared;
use std::sync::Arc;
use url::Url;

/// Endpoints tried when looking for one where the oracle can judge a replayed credential.
const MAX_ORACLE_CANDIDATES: usize = 6;

pub(crate) use authprobe_core::auth::vocab::is_session_cookie;

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
        .shared(Shared::SessionOracle, || async {
            SessionOracle(session_baseline(cx, flow, user).await)
        })
        .await;
    shared.0.clone()
}

async fn session_baseline(
    cx: &ScanContext,
    flow: &LoginFlow,
    user: &UserCredential,
) -> Result<(Url, Baseline), String> {
    let (identity, home) = cx
        .auth()
        .form_session(flow, user)
        .await
        .map_err(|why| format!("the form login {why}"))?;
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
        garbage_jar.set(&cookie, &authprobe_core::auth::view::planted_session_id());
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

/// Why no bridge was tried, for skip reasons.
pub(crate) const BRIDGES_NEED_WRITES: &str =
    "the API's spec declares no token-to-session operation, and other token-to-session endpoints are guesses, tried only with --allow-writes";

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
    fn durations_read_naturally() {
        assert_eq!(human_duration(45), "45 s");
        assert_eq!(human_duration(299), "4 min");
        assert_eq!(human_duration(8 * 3600), "8 h");
        assert_eq!(human_duration(30 * 86400), "30 days");
    }
}
