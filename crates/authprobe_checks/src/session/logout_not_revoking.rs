use authprobe_core::auth::identity::Identity;
use authprobe_core::auth::{LoginFlow, LogoutFlow, LogoutScope};
use authprobe_core::oracle::{Baseline, Verdict};
use authprobe_core::probe::ProbeRequest;
use authprobe_core::{
    CheckMeta, CheckOutcome, Confidence, ExchangeId, Family, Finding, Requirement, ScanContext, Severity,
};
use authprobe_jwt::Jwt;
use url::Url;

use super::{human_duration, is_session_cookie, judge, oracle, replay_session};
use crate::support::owasp;

crate::declare_check! {
    /// ## What it does
    /// For every logout flow (declared in `[flows.logout]`, linked from the API's responses,
    /// or recognised: simplejwt's blacklist, dj-rest-auth and knox logouts), logs in afresh
    /// through the matching login flow (never with the scan's own credential), logs out, and
    /// replays every credential that login issued:
    /// - the **refresh token** at the refresh flow — does it still mint access tokens
    ///   (and are they accepted as the user)?
    /// - the **session cookie** of a fresh form login, logged out with its CSRF token;
    /// - an **opaque API token** (knox, dj-rest-auth) — logout is its only end;
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
    severities = [Severity::Medium, Severity::High];
}

/// Login flows logged out at most (each costs a fresh login per logout endpoint).
const MAX_LOGINS: usize = 4;

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
        let Some(user) = cx.auth().primary_account() else {
            return CheckOutcome::skipped("needs the primary identity to come from a --user login");
        };
        // The scan's token login and form login, then every other login whose package has
        // its own logout (dj-rest-auth, knox).
        let mut logins: Vec<&LoginFlow> = cx
            .auth()
            .token_login()
            .into_iter()
            .chain(cx.auth().form_login())
            .collect();
        for flow in &cx.flows.login {
            let own_logout = cx.flows.logout.iter().any(|l| l.family == flow.family);
            let family_covered = logins.iter().any(|l| l.family == flow.family);
            if own_logout && !family_covered && logins.len() < MAX_LOGINS {
                logins.push(flow);
            }
        }
        let pairs: Vec<(&LoginFlow, Vec<&LogoutFlow>)> = logins
            .into_iter()
            .map(|login| (login, cx.flows.logouts_for(login)))
            .filter(|(_, logouts)| !logouts.is_empty())
            .collect();
        if pairs.is_empty() {
            return CheckOutcome::skipped(
                "no logout flow: the API links to no logout endpoint and none was recognised or declared in [flows.logout]",
            );
        }
        let (oracle_url, baseline) = match oracle(cx).await {
            Ok(o) => o,
            Err(why) => return CheckOutcome::skipped(why),
        };
        let oracle = Oracle {
            url: &oracle_url,
            baseline: &baseline,
        };
        // What survived, per logout endpoint (a token login and a session login may both
        // log out at the same endpoint).
        let mut by_logout: Vec<(Url, Survivors)> = Vec::new();
        let mut tried: Vec<String> = Vec::new();
        for (login, logouts) in pairs {
            let mut fresh: Option<Identity> = None;
            for logout in logouts {
                if fresh.is_none() {
                    fresh = cx.auth().fresh_login(login, user).await;
                }
                let Some(identity) = &fresh else { break };
                tried.push(logout.path().to_string());
                // The session cookie as the user held it: a logout that answers with a new
                // cookie (a signed cookie store's empty or flash-only session) replaces it
                // in the identity's jar, and replaying that one would prove nothing.
                let held = held_session_cookie(identity);
                let Ok(resp) = logout.log_out(&cx.probe, identity).await else {
                    continue;
                };
                if !(resp.is_success() || resp.is_redirect()) {
                    // Not this credential's logout: the credential is still fresh, try the next.
                    continue;
                }
                let identity = fresh.take().expect("checked above");
                let slot = match by_logout.iter().position(|(u, _)| u == &logout.url) {
                    Some(i) => i,
                    None => {
                        by_logout.push((logout.url.clone(), Survivors::default()));
                        by_logout.len() - 1
                    }
                };
                let survivors = &mut by_logout[slot].1;
                survivors.evidence.push(resp.exchange);
                let scope = logout.spec.revokes;
                let held = Held {
                    identity: &identity,
                    session: held,
                };
                replay(cx, login, held, &oracle, &user.username, scope, survivors).await;
            }
        }
        if by_logout.is_empty() {
            tried.dedup();
            return CheckOutcome::skipped(format!(
                "no logout succeeded at {} with a fresh login",
                tried.join(", ")
            ));
        }
        by_logout
            .into_iter()
            .flat_map(|(url, survivors)| report(&url, &user.username, survivors))
            .collect::<Vec<_>>()
            .into()
    }
}

/// The endpoint and baselines replays are judged at.
struct Oracle<'a> {
    url: &'a Url,
    baseline: &'a Baseline,
}

/// A logged-out identity and the session cookie it held before the logout.
struct Held<'a> {
    identity: &'a Identity,
    session: Option<(String, String)>,
}

/// The identity's session cookie (name, value), if it holds one.
fn held_session_cookie(identity: &Identity) -> Option<(String, String)> {
    let jar = identity.session.as_ref()?;
    let name = jar.names().into_iter().find(|n| is_session_cookie(n))?;
    let value = jar.get(&name)?;
    Some((name, value))
}

/// Replays every credential a logged-out identity held (only the refresh token when the
/// endpoint just revokes refresh tokens).
async fn replay(
    cx: &ScanContext,
    login: &LoginFlow,
    held: Held<'_>,
    oracle: &Oracle<'_>,
    username: &str,
    scope: LogoutScope,
    out: &mut Survivors,
) {
    let at = oracle.url.path();
    let identity = held.identity;
    if let (Some(refresh), Some(flow)) = (&identity.refresh_jwt, cx.flows.refresh_for(login)) {
        if let Some((Some(minted), _, resp)) = cx
            .auth()
            .refresh(flow, identity, refresh)
            .await
            .map(|r| (r.access, r.refresh, r.response))
        {
            let accepted = judge(
                cx,
                oracle.baseline,
                identity.present(ProbeRequest::get(oracle.url.clone()), &minted),
            )
            .await;
            if let Some((Verdict::Accepted, check)) = accepted {
                out.high.insert(
                    0,
                    format!(
                        "the refresh token still minted a new access token at {} (accepted at {at} as `{username}`)",
                        flow.path()
                    ),
                );
                out.evidence.extend([resp.exchange, check.exchange]);
            }
        }
    }
    if scope == LogoutScope::Refresh {
        // A refresh-token revocation endpoint promises nothing about the rest.
        return;
    }
    if let Some((cookie, value)) = held.session {
        if let Some((Verdict::Accepted, replayed)) =
            replay_session(cx, oracle.url, oracle.baseline, &cookie, &value).await
        {
            out.high.push(format!(
                "the logged-out `{cookie}` session cookie still authenticated as `{username}` at {at}"
            ));
            out.evidence.push(replayed.exchange);
        }
    }
    if let Some(token) = identity.token() {
        let how = identity
            .presentation()
            .map(|p| p.describe())
            .unwrap_or_else(|| "Authorization".into());
        let req = identity.present(ProbeRequest::get(oracle.url.clone()), token);
        if let Some((Verdict::Accepted, resp)) = judge(cx, oracle.baseline, req).await {
            out.evidence.push(resp.exchange);
            match &identity.access_jwt {
                Some(access) if access == token => {
                    let now = time::OffsetDateTime::now_utc().unix_timestamp();
                    let left = Jwt::parse(access)
                        .ok()
                        .and_then(|j| j.numeric_claim("exp"))
                        .map(|exp| exp.saturating_sub(now));
                    out.access = Some(left);
                }
                // An opaque token has no `exp` of its own: logout is its only end.
                _ => out.high.push(format!(
                    "the logged-out API token (sent as `{how}`) still authenticated as `{username}` at {at}"
                )),
            }
        }
    }
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
