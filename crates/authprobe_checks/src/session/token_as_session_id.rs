use authprobe_core::cookies::CookieJar;
use authprobe_core::oracle::Verdict;
use authprobe_core::{CheckMeta, CheckOutcome, Confidence, Family, Finding, Requirement, ScanContext, Severity};
use std::sync::Arc;

use super::{is_session_cookie, oracle, replay_session, BRIDGES_NEED_WRITES};
use crate::support::owasp;

crate::declare_check! {
    /// ## What it does
    /// Looks for a session id that escapes its `HttpOnly` cookie:
    /// - the scan's Bearer/Token credential **equal to** a session cookie value (one secret
    ///   doing two jobs);
    /// - a token-to-session bridge (an endpoint that takes the identity's token and
    ///   answers with a session cookie) that also **echoes the session id in its response
    ///   body**. A bridge the API's spec declares is tried on every scan; one guessed from
    ///   its path only with `--allow-writes`.
    ///
    /// An echoed value is replayed, alone, as the session cookie at an endpoint that
    /// serves the identity; the differential oracle confirms it is a live session id.
    ///
    /// ## Why is this bad?
    /// `HttpOnly` keeps the session id away from JavaScript, so an XSS bug cannot steal
    /// the session. A session id that is also a header token, or is returned in a JSON
    /// body, is readable by any script on the page — the protection is gone, and the id
    /// also lands in client logs, crash reports and proxies.
    ///
    /// ## Example
    /// ```python
    /// class TokenLoginView(APIView):
    ///     def post(self, request):
    ///         login(request._request, request.user)
    ///         request.session.save()
    ///         # "for the native app"
    ///         return Response({"status": "ok", "session_id": request.session.session_key})
    /// ```
    ///
    /// ## Remediation
    /// Never put the session key in a response body; let the `Set-Cookie` header (with
    /// `HttpOnly`, `Secure`, `SameSite`) carry it. Native clients that cannot use cookies
    /// should get a token of their own (simplejwt, knox), not the browser's session id:
    /// ```python
    /// login(request._request, request.user)
    /// return Response({"status": "ok"})
    /// SESSION_COOKIE_HTTPONLY = True
    /// ```
    ///
    /// ## References
    /// - CWE-384: Session Fixation (session ids exposed outside their cookie)
    /// - OWASP API2:2023 Broken Authentication
    /// - OWASP Session Management Cheat Sheet — https://cheatsheetseries.owasp.org/cheatsheets/Session_Management_Cheat_Sheet.html
    /// - Django: `SESSION_COOKIE_HTTPONLY` — https://docs.djangoproject.com/en/stable/ref/settings/#session-cookie-httponly
    pub struct TokenAsSessionId;
    meta = CheckMeta {
        code: "SESS007",
        slug: "token-as-session-id",
        title: "Session id exposed as a token or in a response body",
        severity: Severity::Medium,
        cwe: &[384],
        owasp: &[owasp::API2],
        requires: Requirement::LoginFlow,
        family: Family::Session,
    };
}

/// Values shorter than this are not compared (they could match by accident).
const MIN_ID_LEN: usize = 16;

impl TokenAsSessionId {
    async fn check(&self, cx: &ScanContext) -> CheckOutcome {
        let mut findings = Vec::new();
        // One secret for two jobs: the identity's header token is also a session cookie.
        for identity in &cx.identities {
            let (Some(token), Some(jar)) = (identity.token(), identity.session.as_ref()) else {
                continue;
            };
            for name in jar.names().into_iter().filter(|n| is_session_cookie(n)) {
                if jar.get(&name).is_some_and(|v| v.len() >= MIN_ID_LEN && v == token) {
                    findings.push(
                        Finding::new(
                            Confidence::Confirmed,
                            cx.target.url.path(),
                            format!(
                                "`{}`'s {} token is identical to its `{name}` session cookie: the session id doubles as a header token that JavaScript holds, so HttpOnly protects nothing.",
                                identity.label,
                                identity.scheme().unwrap_or("Bearer")
                            ),
                        )
                        .with_evidence(identity.login_exchange),
                    );
                }
            }
        }
        let Some(identity) = cx.primary().filter(|p| p.token().is_some()) else {
            return findings.into();
        };
        let bridges = cx.auth().session_bridges();
        if bridges.is_empty() && findings.is_empty() {
            return CheckOutcome::skipped(format!("no token-to-session endpoint was tried: {BRIDGES_NEED_WRITES}"));
        }
        let cookie = cx.auth().session_cookie();
        for bridge in bridges {
            let Some(resp) = cx.auth().bridge(&bridge, identity, Arc::new(CookieJar::new())).await else {
                continue;
            };
            let body = resp.text();
            let mut candidates: Vec<(String, String)> = cx.auth().new_session(&resp).into_iter().collect();
            // A field named like a session id, even when no cookie was set.
            candidates.extend(
                cx.auth()
                    .session_fields(&resp)
                    .into_iter()
                    .map(|(_, v)| (cookie.clone(), v)),
            );
            let echoed = candidates
                .into_iter()
                .find(|(_, v)| v.len() >= MIN_ID_LEN && body.contains(v.as_str()));
            let Some((name, value)) = echoed else { continue };
            let (oracle_url, baseline) = match oracle(cx).await {
                Ok(o) => o,
                Err(why) => return CheckOutcome::skipped(format!("a session id was echoed, but {why}")),
            };
            let Some((verdict, replay)) = replay_session(cx, &oracle_url, &baseline, &name, &value).await else {
                continue;
            };
            if verdict != Verdict::Accepted {
                continue;
            }
            findings.push(
                Finding::new(
                    Confidence::Confirmed,
                    bridge.path(),
                    format!(
                        "{} returns the new session id in its JSON body as well as in the `{name}` cookie; replayed alone as that cookie, the echoed value authenticated as `{}` at {}. Any script that reads the response (an XSS payload, a logging SDK) gets the session the HttpOnly cookie was meant to hide.",
                        bridge.path(),
                        identity.label,
                        oracle_url.path()
                    ),
                )
                .with_evidence([resp.exchange, replay.exchange, baseline.valid.exchange]),
            );
        }
        findings.into()
    }
}
