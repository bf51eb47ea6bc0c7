use authprobe_core::auth::Presentation;
use authprobe_core::oracle::{responses_match, Verdict};
use authprobe_core::probe::ProbeRequest;
use authprobe_core::{CheckMeta, CheckOutcome, Confidence, Family, Finding, Requirement, ScanContext, Severity};
use futures::StreamExt;

use crate::support::{owasp, summarize};
use authprobe_core::ExchangeId;

crate::declare_check! {
    /// ## What it does
    /// On an endpoint that refuses anonymous requests and serves the scan's identity, sends
    /// malformed and garbage credentials (`Bearer` random text, a JWT-shaped value that
    /// does not parse, an empty token) and judges each with the differential oracle: a
    /// garbage credential is *accepted* when the answer matches the valid-credential
    /// baseline, carries the identity's marker (its username), and differs from a refusal.
    ///
    /// ## Why is this bad?
    /// If any string is accepted as a credential, authentication is decorative: everyone
    /// is logged in, usually as whichever account the fallback code picks. This typically
    /// comes from a custom authentication class that swallows token errors and falls back
    /// to a default user, or from middleware that treats "has an Authorization header" as
    /// "is authenticated".
    ///
    /// ## Example
    /// ```python
    /// class MobileJWTAuthentication(JWTAuthentication):
    ///     def authenticate(self, request):
    ///         try:
    ///             return super().authenticate(request)
    ///         except InvalidToken:
    ///             logger.warning("bad token, using demo user")
    ///             return (User.objects.order_by("id").first(), None)   # everyone is user #1
    /// ```
    ///
    /// ## Remediation
    /// Let authentication fail closed: an invalid token must raise
    /// `AuthenticationFailed`/`InvalidToken` (DRF turns it into 401), never fall back to a
    /// user. Use simplejwt's `JWTAuthentication` unmodified, or re-raise in subclasses:
    /// ```python
    /// REST_FRAMEWORK = {
    ///     "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework_simplejwt.authentication.JWTAuthentication"],
    ///     "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    /// }
    /// ```
    ///
    /// ## References
    /// - CWE-287: Improper Authentication
    /// - OWASP API2:2023 Broken Authentication
    /// - DRF: Authentication — https://www.django-rest-framework.org/api-guide/authentication/
    pub struct InvalidTokenAccepted;
    meta = CheckMeta {
        code: "AUTH002",
        slug: "invalid-token-accepted",
        title: "Garbage credential accepted as a valid one",
        severity: Severity::Critical,
        cwe: &[287],
        owasp: &[owasp::API2],
        requires: Requirement::Identity,
        family: Family::Authentication,
    };
}

/// Protected endpoints probed at most on a discovered inventory (each costs one to four
/// requests); a spec-driven scan covers them all.
const MAX_ENDPOINTS: usize = 25;

impl InvalidTokenAccepted {
    async fn check(&self, cx: &ScanContext) -> CheckOutcome {
        let mut urls: Vec<url::Url> = cx.oracle_endpoint().into_iter().collect();
        let mut listed: std::collections::HashSet<url::Url> = urls.iter().cloned().collect();
        for e in cx.protected_endpoints() {
            if listed.insert(e.url.clone()) {
                urls.push(e.url.clone());
            }
        }
        urls.truncate(cx.endpoint_limit(MAX_ENDPOINTS));
        if urls.is_empty() {
            return CheckOutcome::skipped(
                "no endpoint was found that serves the identity and refuses anonymous requests",
            );
        }
        // Garbage goes where the identity's own credential goes (its scheme, header or
        // cookie), as the auth layer learned it.
        let presentation = cx
            .primary()
            .and_then(|i| i.presentation().cloned())
            .unwrap_or_else(Presentation::bearer);
        let presentation = &presentation;
        let mut accepted_at: Vec<(String, &str, ExchangeId, ExchangeId)> = Vec::new();
        let mut inconclusive = Vec::new();
        // Endpoints are independent: probed side by side, judged in inventory order.
        let endpoints = urls.len();
        let mut judged = futures::stream::iter(urls)
            .map(|url| {
                cx.bulk(async move {
                    let judgement = probe_endpoint(cx, &url, presentation).await;
                    (url, judgement)
                })
            })
            .buffered(cx.fan_out());
        while let Some((url, judgement)) = judged.next().await {
            match judgement {
                Ok(Some((what, probe, valid))) => accepted_at.push((url.path().to_string(), what, probe, valid)),
                Ok(None) => {}
                Err(why) => inconclusive.push(format!("{}: {why}", url.path())),
            }
        }
        let Some((path, what, probe, valid)) = accepted_at.first() else {
            if inconclusive.len() == endpoints {
                return CheckOutcome::skipped(format!("inconclusive on every endpoint ({})", inconclusive.join("; ")));
            }
            return CheckOutcome::passed();
        };
        let others: Vec<String> = accepted_at[1..].iter().map(|a| a.0.clone()).collect();
        let mut finding = accepted(path, what, *probe, *valid);
        if !others.is_empty() {
            finding.message.push_str(&format!(" So did {}.", summarize(&others, 4)));
        }
        vec![finding].into()
    }
}

/// Tries garbage credentials on one endpoint: `Ok(Some(..))` when one was accepted (what,
/// probe exchange, valid baseline exchange), `Err` when the oracle cannot judge here.
async fn probe_endpoint(
    cx: &ScanContext,
    url: &url::Url,
    presentation: &Presentation,
) -> Result<Option<(&'static str, ExchangeId, ExchangeId)>, String> {
    let baseline = cx.shared_baseline(url).await?;
    if !baseline.valid.is_success() || responses_match(&baseline.anonymous, &baseline.valid) {
        return Err("the endpoint does not distinguish authenticated requests".into());
    }
    // The baseline's own garbage request is the first probe: if it matches A, the oracle
    // cannot judge anything else here, but that very match is this check's finding.
    if responses_match(&baseline.garbage, &baseline.valid) {
        return Ok(Some((
            "a random value",
            baseline.garbage.exchange,
            baseline.valid.exchange,
        )));
    }
    let garbage = [
        (
            "a JWT-shaped value that does not parse",
            "eyJhbGciOiJIUzI1NiJ9.authprobe.garbage",
        ),
        ("an empty credential", ""),
        ("a non-base64 token", "authprobe!!invalid##"),
    ];
    for (what, value) in garbage {
        let (name, header) = presentation.header(value);
        let req = ProbeRequest::get(url.clone()).header(&name, header.trim_end());
        let Ok(resp) = cx.probe.send(req).await else { continue };
        match baseline.judge(&resp) {
            Verdict::Accepted => return Ok(Some((what, resp.exchange, baseline.valid.exchange))),
            Verdict::Inconclusive(why) => return Err(why),
            Verdict::Rejected => {}
        }
    }
    Ok(None)
}

fn accepted(path: &str, what: &str, probe: ExchangeId, valid: ExchangeId) -> Finding {
    Finding::new(
        Confidence::Confirmed,
        path,
        format!(
            "{path} accepted {what} as a credential and answered as the scan's identity, exactly like a valid token."
        ),
    )
    .with_evidence([probe, valid])
}
