use authprobe_core::config::LoginKind;
use authprobe_core::cookies::CookieJar;
use authprobe_core::identity::{login_form, login_json};
use authprobe_core::oracle::{Baseline, Verdict};
use authprobe_core::probe::{ProbeRequest, ProbeResponse};
use authprobe_core::{
    CheckMeta, CheckOutcome, Confidence, ExchangeId, Family, Finding, Requirement, ScanContext, Severity,
};
use authprobe_jwt::Jwt;
use std::sync::Arc;
use url::Url;

use super::{
    form_login_url, human_duration, is_session_cookie, judge, logout_endpoints, oracle, primary_credential,
    refresh_endpoint, replay_session, simplejwt_issuer,
};
use crate::support::owasp;

crate::declare_check! {
    /// ## What it does
    /// Logs in afresh (never with the scan's own credential), logs out through the logout
    /// endpoint the API links to, and replays every credential that login issued:
    /// - the **refresh token** at the refresh endpoint — does it still mint access tokens
    ///   (and are they accepted as the user)?
    /// - the **session cookie** of a fresh form login, logged out with its CSRF token;
    /// - the **access token** at an endpoint that serves the identity.
    ///
    /// Each replay is judged with the differential oracle. A short-lived access token
    /// (at most one hour left) that simply lives until its `exp` is expected of stateless
    /// JWTs and is only mentioned alongside other survivors; one with more than an hour
    /// left is reported on its own (medium).
    ///
    /// ## Why is this bad?
    /// Logout is what users do on a shared computer or after noticing something wrong. If
    /// the refresh token or the session survives it, a stolen credential stays usable for
    /// its whole lifetime (a day, weeks) — and a refresh token keeps minting fresh access
    /// tokens, so the theft never expires on its own.
    ///
    /// ## Example
    /// ```python
    /// class LogoutView(APIView):
    ///     def post(self, request):
    ///         # "JWTs are stateless, the client just deletes them"
    ///         return Response({"detail": "Logged out."})
    /// ```
    ///
    /// ## Remediation
    /// Blacklist the refresh token (simplejwt's `token_blacklist` app), flush the session,
    /// and keep access tokens short-lived (or deny-list their `jti` until `exp`):
    /// ```python
    /// INSTALLED_APPS += ["rest_framework_simplejwt.token_blacklist"]
    ///
    /// class LogoutView(APIView):
    ///     def post(self, request):
    ///         RefreshToken(request.data["refresh"]).blacklist()
    ///         django.contrib.auth.logout(request._request)   # flushes the session
    ///         return Response({"detail": "Logged out."})
    /// ```
    /// simplejwt also ships `TokenBlacklistView` (`/api/token/blacklist/`) for this.
    ///
    /// ## References
    /// - CWE-613: Insufficient Session Expiration
    /// - OWASP API2:2023 Broken Authentication
    /// - simplejwt: Blacklist app — https://django-rest-framework-simplejwt.readthedocs.io/en/latest/blacklist_app.html
    /// - OWASP Session Management Cheat Sheet — https://cheatsheetseries.owasp.org/cheatsheets/Session_Management_Cheat_Sheet.html
    pub struct LogoutNotRevoking;
    meta = CheckMeta {
        code: "SESS003",
        slug: "logout-not-revoking",
        title: "Credentials still valid after logout",
        severity: Severity::High,
        cwe: &[613],
        owasp: &[owasp::API2],
        requires: Requirement::LoginFlow,
        family: Family::Session,
    };
}

/// Remaining access-token lifetime above which surviving logout is a finding on its own.
const LONG_ACCESS_SECS: i64 = 3600;

/// What survived one logout.
#[derive(Default)]
struct Survivors {
    /// Sentences, one per surviving credential, most severe first.
    high: Vec<String>,
    /// Seconds the surviving access token has left (`None`: it has no `exp`).
    access: Option<Option<i64>>,
    evidence: Vec<ExchangeId>,
}

impl LogoutNotRevoking {
    async fn check(&self, cx: &ScanContext) -> CheckOutcome {
        let Some(user) = primary_credential(cx) else {
            return CheckOutcome::skipped("needs the primary identity to come from a --user login");
        };
        let logouts = logout_endpoints(cx);
        if logouts.is_empty() {
            return CheckOutcome::skipped("no logout endpoint is linked from the API's responses");
        }
        let (oracle_url, baseline) = match oracle(cx).await {
            Ok(o) => o,
            Err(why) => return CheckOutcome::skipped(why),
        };
        let mut survivors = Survivors::default();
        let mut logged_out_at: Option<Url> = None;

        // JWT flow: a fresh access/refresh pair, logged out with the access token.
        if let Some(issuer) = simplejwt_issuer(cx) {
            if let Ok(identity) = login_json(&cx.probe, LoginKind::Simplejwt, &issuer, user).await {
                if let Some(access) = identity.access_jwt.clone() {
                    cx.redactor.add_secret(&access);
                    let refresh = identity.refresh_jwt.clone();
                    if let Some(r) = &refresh {
                        cx.redactor.add_secret(r);
                    }
                    let body = match &refresh {
                        Some(r) => serde_json::json!({ "refresh": r }),
                        None => serde_json::json!({}),
                    };
                    for url in &logouts {
                        let req = ProbeRequest::post_json(url.clone(), &body).bearer(&access);
                        let Ok(resp) = cx.probe.send(req).await else { continue };
                        if !resp.is_success() {
                            continue;
                        }
                        survivors.evidence.push(resp.exchange);
                        logged_out_at = Some(url.clone());
                        jwt_survivors(
                            cx,
                            &issuer,
                            &oracle_url,
                            &baseline,
                            &access,
                            refresh.as_deref(),
                            &mut survivors,
                        )
                        .await;
                        break;
                    }
                }
            }
        }

        // Session flow: a fresh form login, logged out with its CSRF token.
        if let Some(login_url) = form_login_url(cx) {
            if let Ok((jar, _)) = login_form(&cx.probe, &login_url, user).await {
                let cookie = jar.names().into_iter().find(|n| is_session_cookie(n));
                if let Some((cookie, value)) = cookie.and_then(|c| jar.get(&c).map(|v| (c, v))) {
                    cx.redactor.add_secret(&value);
                    let mut order = logouts.clone();
                    if let Some(first) = &logged_out_at {
                        order.sort_by_key(|u| u != first);
                    }
                    for url in &order {
                        let Ok(resp) = session_logout(cx, url, jar.clone()).await else {
                            continue;
                        };
                        if !(resp.is_success() || resp.is_redirect()) {
                            continue;
                        }
                        survivors.evidence.push(resp.exchange);
                        logged_out_at.get_or_insert_with(|| url.clone());
                        if let Some((Verdict::Accepted, replay)) =
                            replay_session(cx, &oracle_url, &baseline, &cookie, &value).await
                        {
                            survivors.high.push(format!(
                                "the logged-out `{cookie}` session cookie (logged out at {}) still authenticated as `{}` at {}",
                                url.path(),
                                user.username,
                                oracle_url.path()
                            ));
                            survivors.evidence.push(replay.exchange);
                        }
                        break;
                    }
                }
            }
        }

        let Some(logout) = logged_out_at else {
            return CheckOutcome::skipped(format!(
                "no logout succeeded at {} with a fresh token or session",
                logouts.iter().map(|u| u.path()).collect::<Vec<_>>().join(", ")
            ));
        };
        report(&logout, &user.username, survivors).into()
    }
}

/// Replays the refresh and access tokens after logout.
async fn jwt_survivors(
    cx: &ScanContext,
    issuer: &Url,
    oracle_url: &Url,
    baseline: &Baseline,
    access: &str,
    refresh: Option<&str>,
    out: &mut Survivors,
) {
    if let (Some(refresh), Some(refresh_url)) = (refresh, refresh_endpoint(cx, issuer)) {
        let req = ProbeRequest::post_json(refresh_url.clone(), &serde_json::json!({ "refresh": refresh }));
        if let Ok(resp) = cx.probe.send(req).await {
            if let Some(minted) = minted_access(cx, &resp) {
                let accepted = judge(cx, baseline, ProbeRequest::get(oracle_url.clone()).bearer(&minted)).await;
                if let Some((Verdict::Accepted, check)) = accepted {
                    out.high.insert(
                        0,
                        format!(
                            "the refresh token still minted a new access token at {} (accepted at {} as the user)",
                            refresh_url.path(),
                            oracle_url.path()
                        ),
                    );
                    out.evidence.extend([resp.exchange, check.exchange]);
                }
            }
        }
    }
    if let Some((Verdict::Accepted, resp)) =
        judge(cx, baseline, ProbeRequest::get(oracle_url.clone()).bearer(access)).await
    {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let left = Jwt::parse(access)
            .ok()
            .and_then(|j| j.numeric_claim("exp"))
            .map(|exp| exp - now);
        out.access = Some(left);
        out.evidence.push(resp.exchange);
    }
}

/// The access JWT a refresh response carries (registered as a secret).
pub(crate) fn minted_access(cx: &ScanContext, resp: &ProbeResponse) -> Option<String> {
    if !resp.is_success() {
        return None;
    }
    let json = resp.json()?;
    for key in ["refresh", "refresh_token"] {
        if let Some(r) = json.get(key).and_then(|v| v.as_str()) {
            cx.redactor.add_secret(r);
        }
    }
    let access = ["access", "access_token", "token"]
        .iter()
        .find_map(|k| json.get(k).and_then(|v| v.as_str()))?;
    cx.redactor.add_secret(access);
    Jwt::looks_like(access).then(|| access.to_string())
}

/// A session-cookie logout: the CSRF cookie's value as `X-CSRFToken` and a same-origin
/// `Referer`, as the site's own JavaScript would send them.
async fn session_logout(
    cx: &ScanContext,
    url: &Url,
    jar: Arc<CookieJar>,
) -> Result<ProbeResponse, authprobe_core::ProbeError> {
    let csrf = jar
        .names()
        .into_iter()
        .find(|n| n.to_ascii_lowercase().contains("csrf"))
        .and_then(|n| jar.get(&n));
    let mut req = ProbeRequest::post_json(url.clone(), &serde_json::json!({}))
        .header("Referer", cx.target.url.as_str())
        .with_jar(jar);
    if let Some(token) = csrf {
        req = req.header("X-CSRFToken", token);
    }
    cx.probe.send(req).await
}

/// Turns what survived into at most one finding.
fn report(logout: &Url, username: &str, s: Survivors) -> Vec<Finding> {
    let access_phrase = match s.access {
        Some(Some(left)) => Some((
            left,
            format!(
                "the access token was still accepted ({} left until its `exp`)",
                human_duration(left.max(0))
            ),
        )),
        Some(None) => Some((
            i64::MAX,
            "the access token, which has no `exp`, was still accepted".to_string(),
        )),
        None => None,
    };
    let (severity, mut parts) = if !s.high.is_empty() {
        let mut parts = s.high.clone();
        if let Some((_, p)) = &access_phrase {
            parts.push(p.clone());
        }
        (Severity::High, parts)
    } else {
        match access_phrase {
            Some((left, p)) if left > LONG_ACCESS_SECS => (Severity::Medium, vec![p]),
            // A short-lived access token living out its `exp` is how stateless JWTs work.
            _ => return Vec::new(),
        }
    };
    let last = parts.pop().unwrap_or_default();
    let list = if parts.is_empty() {
        last
    } else {
        format!("{} and {last}", parts.join("; "))
    };
    let message = format!(
        "After a successful logout at {} (fresh login as `{username}`), {list}. Logout does not revoke these credentials, so a stolen one outlives the user's logout.",
        logout.path()
    );
    vec![Finding::new(Confidence::Confirmed, logout.path(), message)
        .with_severity(severity)
        .with_evidence(s.evidence)]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn survivors(high: &[&str], access: Option<Option<i64>>) -> Survivors {
        Survivors {
            high: high.iter().map(|s| s.to_string()).collect(),
            access,
            evidence: Vec::new(),
        }
    }

    fn run(s: Survivors) -> Vec<Finding> {
        report(&Url::parse("http://t/api/logout/").unwrap(), "alice", s)
    }

    #[test]
    fn a_short_lived_access_token_alone_is_not_a_finding() {
        assert!(run(survivors(&[], Some(Some(290)))).is_empty());
        assert!(run(survivors(&[], None)).is_empty());
    }

    #[test]
    fn a_long_lived_access_token_alone_is_medium() {
        let f = run(survivors(&[], Some(Some(30 * 86400))));
        assert_eq!(f[0].severity, Some(Severity::Medium));
        assert!(f[0].message.contains("30 days left"), "{}", f[0].message);
    }

    #[test]
    fn a_surviving_refresh_token_is_high_and_mentions_the_access_lifetime() {
        let f = run(survivors(
            &["the refresh token still minted a new access token"],
            Some(Some(290)),
        ));
        assert_eq!(f[0].severity, Some(Severity::High));
        assert!(f[0].message.contains("refresh token still minted"));
        assert!(f[0].message.contains("4 min left"), "{}", f[0].message);
    }
}
