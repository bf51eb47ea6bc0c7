use authprobe_core::auth::LoginFlow;
use authprobe_core::discovery::EndpointKind;
use authprobe_core::oracle::Verdict;
use authprobe_core::probe::ProbeRequest;
use authprobe_core::{CheckMeta, CheckOutcome, Confidence, Family, Finding, Requirement, ScanContext, Severity};
use authprobe_jwt::Jwt;
use url::Url;

use crate::support::owasp;

crate::declare_check! {
    /// ## What it does
    /// Logs the primary account in again through the simplejwt token endpoint, takes the
    /// *refresh* token it issues, and sends it as `Authorization: Bearer` to the identity
    /// endpoint and other protected endpoints, judging each answer with the differential
    /// oracle: the refresh token is *accepted as an access token* when the answer matches
    /// the valid-credential baseline, carries the identity's marker (its username), and
    /// differs from the garbage-credential answer. Endpoints where the oracle cannot tell a
    /// valid credential from garbage are skipped in favour of others.
    ///
    /// ## Why is this bad?
    /// Refresh tokens are long-lived (days or weeks) and are meant to be shown to one
    /// endpoint only. If the API also accepts them as access tokens, the short access
    /// lifetime protects nothing: a leaked refresh token is a bearer credential for the
    /// whole API for its whole lifetime, and revoking access tokens (deny lists, `jti`
    /// checks) does not cover it. It usually comes from hand-written validation that checks
    /// the signature and `exp` but not `token_type`.
    ///
    /// ## Example
    /// ```python
    /// class LenientJWTAuthentication(JWTAuthentication):
    ///     def get_validated_token(self, raw_token):
    ///         # "so the old client that sends the refresh token keeps working"
    ///         payload = jwt.decode(raw_token, settings.SIMPLE_JWT["SIGNING_KEY"], algorithms=["HS256"])
    ///         return UntypedToken(raw_token)   # no token_type check
    /// ```
    ///
    /// ## Remediation
    /// Let simplejwt type-check tokens: `JWTAuthentication` validates against
    /// `AUTH_TOKEN_CLASSES`, which should contain only the access token class, and every
    /// custom validation must check the type claim:
    /// ```python
    /// SIMPLE_JWT = {
    ///     "AUTH_TOKEN_CLASSES": ("rest_framework_simplejwt.tokens.AccessToken",),
    ///     "TOKEN_TYPE_CLAIM": "token_type",
    /// }
    /// # custom code: AccessToken(raw_token) raises TokenError("Token has wrong type")
    /// ```
    ///
    /// ## References
    /// - CWE-287: Improper Authentication
    /// - OWASP API2:2023 Broken Authentication
    /// - RFC 8725 §3.11 (use explicit typing) — https://www.rfc-editor.org/rfc/rfc8725#section-3.11
    /// - simplejwt settings: AUTH_TOKEN_CLASSES, TOKEN_TYPE_CLAIM — https://django-rest-framework-simplejwt.readthedocs.io/en/latest/settings.html
    pub struct TokenTypeConfusion;
    meta = CheckMeta {
        code: "AUTH006",
        slug: "token-type-confusion",
        title: "Refresh token accepted as an access token",
        severity: Severity::High,
        cwe: &[287],
        owasp: &[owasp::API2],
        requires: Requirement::LoginFlow,
        family: Family::Authentication,
    };
}

/// Endpoints judged at most; each costs one request (plus baselines once per scan).
const MAX_ENDPOINTS: usize = 6;
/// Endpoints that must reject the refresh token before the check passes.
const REJECTIONS_TO_PASS: usize = 3;

impl TokenTypeConfusion {
    async fn check(&self, cx: &ScanContext) -> CheckOutcome {
        let Some(refresh) = fresh_refresh_token(cx).await else {
            return CheckOutcome::skipped(
                "no simplejwt refresh token was obtained (the scan's login flow did not issue one)",
            );
        };
        if Jwt::parse(&refresh.token)
            .ok()
            .and_then(|j| authprobe_core::auth::view::typed_as_refresh(&j))
            .is_some_and(|refresh| !refresh)
        {
            return CheckOutcome::skipped("the token endpoint's `refresh` value is not typed as a refresh token");
        }
        let mut candidates: Vec<Url> = cx.oracle_endpoint().into_iter().collect();
        for e in cx.protected_endpoints() {
            if !candidates.contains(&e.url) && matches!(e.kind, EndpointKind::Api | EndpointKind::IdentityCandidate) {
                candidates.push(e.url.clone());
            }
        }
        if candidates.is_empty() {
            return CheckOutcome::skipped(
                "no endpoint was found that serves the identity and refuses anonymous requests",
            );
        }
        let mut why_not = Vec::new();
        let mut rejected = 0;
        for url in candidates.into_iter().take(MAX_ENDPOINTS) {
            let baseline = match cx.baseline(&url).await {
                Ok(b) => b,
                Err(e) => {
                    why_not.push(format!("{}: {e}", url.path()));
                    continue;
                }
            };
            if let Err(why) = baseline.distinguishable() {
                why_not.push(format!("{}: {why}", url.path()));
                continue;
            }
            let Ok(resp) = cx
                .probe
                .send(ProbeRequest::get(url.clone()).bearer(&refresh.token))
                .await
            else {
                continue;
            };
            match baseline.judge(&resp) {
                Verdict::Accepted => {
                    let who = cx
                        .primary()
                        .and_then(|i| i.username.as_deref())
                        .map(|u| format!("`{u}`"))
                        .unwrap_or_else(|| "the scan's identity".into());
                    let message = format!(
                        "{} accepted the refresh token issued by {} as a Bearer access token and answered as {who}, like a valid access token: a leaked long-lived refresh token works as an API credential.",
                        url.path(),
                        refresh.issuer.path()
                    );
                    return vec![Finding::new(Confidence::Confirmed, url.path(), message).with_evidence([
                        resp.exchange,
                        baseline.valid.exchange,
                        baseline.garbage.exchange,
                        refresh.exchange,
                    ])]
                    .into();
                }
                Verdict::Rejected => {
                    rejected += 1;
                    if rejected >= REJECTIONS_TO_PASS {
                        break;
                    }
                }
                Verdict::Inconclusive(why) => why_not.push(format!("{}: {why}", url.path())),
            }
        }
        if rejected == 0 {
            return CheckOutcome::skipped(format!("inconclusive ({})", why_not.join("; ")));
        }
        CheckOutcome::passed()
    }
}

struct Refresh {
    token: String,
    issuer: Url,
    exchange: authprobe_core::ExchangeId,
}

/// A refresh token of the primary account from a fresh login, so that checks rotating or
/// revoking the scan's own tokens at the same time cannot interfere; the identity's own
/// refresh token when no password is known.
async fn fresh_refresh_token(cx: &ScanContext) -> Option<Refresh> {
    let primary = cx.primary()?;
    // Token logins that may issue a refresh token (DRF authtoken and knox issue one key).
    let issuers: Vec<&LoginFlow> = cx.auth().refresh_token_issuers().collect();
    let user = cx
        .credentials
        .iter()
        .find(|c| primary.username.as_deref() == Some(c.username.as_str()))
        .or(cx.credentials.first());
    if let Some(user) = user {
        for flow in issuers {
            let Ok(identity) = flow.log_in(&cx.probe, user).await else {
                continue;
            };
            let issuer = flow.url.clone();
            if let (Some(token), Some(exchange)) = (identity.refresh_jwt, identity.login_exchange) {
                return Some(Refresh {
                    token,
                    issuer,
                    exchange,
                });
            }
        }
    }
    let token = primary.refresh_jwt.clone()?;
    Some(Refresh {
        token,
        issuer: cx.target.url.clone(),
        exchange: primary.login_exchange?,
    })
}
