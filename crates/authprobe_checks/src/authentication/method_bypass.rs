use authprobe_core::probe::{Method, ProbeRequest};
use authprobe_core::similarity::similarity;
use authprobe_core::{
    CheckMeta, CheckOutcome, Confidence, ExchangeId, Family, Finding, ProbeResponse, Requirement, ScanContext, Severity,
};
use futures::StreamExt;

use crate::support::{owasp, summarize};

/// Protected endpoints probed at most (two requests each).
const MAX_ENDPOINTS: usize = 25;

crate::declare_check! {
    /// ## What it does
    /// For every endpoint that refuses anonymous `GET` (401/403) but serves the scan's
    /// identity, sends the same request anonymously with `HEAD` and `OPTIONS`. `HEAD` must
    /// behave exactly like `GET` (RFC 9110), so a 2xx answer where `GET` says 401, whose
    /// `Content-Length` announces a body at least half the size of the identity's answer
    /// (and longer than the refusal), proves the view ran and produced the protected data
    /// without authentication; a bare 200 with no such length proves nothing and is not
    /// reported. An anonymous `OPTIONS` that returns the protected data is reported too. (Unsafe methods such as `POST` are not
    /// sent: the method policy forbids them outside login flows.)
    ///
    /// ## Why is this bad?
    /// Permission code that only looks at `GET` (`if request.method == "GET"`) leaves every
    /// other method open: `HEAD` confirms objects exist, and `POST`/`PUT` handlers that share
    /// the view's logic often return or change the same data without any credential.
    ///
    /// ## Example
    /// ```python
    /// class AuthenticatedForGet(BasePermission):
    ///     def has_permission(self, request, view):
    ///         if request.method == "GET":                 # HEAD, OPTIONS, POST fall through
    ///             return request.user.is_authenticated
    ///         return True
    /// ```
    ///
    /// ## Remediation
    /// Check permissions for every method; use DRF's built-ins, which treat `HEAD` like
    /// `GET` and deny unknown methods:
    /// ```python
    /// class ExportView(APIView):
    ///     permission_classes = [IsAuthenticated]
    /// # custom rules: branch on SAFE_METHODS, never on one method name
    /// if request.method in SAFE_METHODS: ...
    /// ```
    ///
    /// ## References
    /// - RFC 9110 §9.3.2 (HEAD is GET without the body)
    /// - CWE-287: Improper Authentication
    /// - OWASP API2:2023 Broken Authentication
    pub struct MethodAuthBypass;
    meta = CheckMeta {
        code: "AUTH004",
        slug: "method-auth-bypass",
        title: "Another HTTP method bypasses authentication",
        severity: Severity::High,
        cwe: &[287],
        owasp: &[owasp::API2],
        requires: Requirement::Identity,
        family: Family::Authentication,
    };
}

impl MethodAuthBypass {
    async fn check(&self, cx: &ScanContext) -> CheckOutcome {
        let endpoints: Vec<url::Url> = cx
            .protected_endpoints()
            .take(cx.endpoint_limit(MAX_ENDPOINTS))
            .map(|e| e.url.clone())
            .collect();
        if endpoints.is_empty() {
            return CheckOutcome::skipped(
                "no endpoint was found that serves the identity and refuses anonymous requests",
            );
        }
        // Endpoints are independent: probed side by side, reported in inventory order.
        let mut bypassed = Vec::new();
        let mut evidence = Vec::new();
        let mut judged = futures::stream::iter(endpoints)
            .map(|url| cx.bulk(async move { bypass_at(cx, &url).await }))
            .buffered(cx.fan_out());
        while let Some(found) = judged.next().await {
            if let Some((what, exchanges)) = found {
                bypassed.push(what);
                evidence.extend(exchanges);
            }
        }
        let Some(first) = bypassed.first() else {
            return CheckOutcome::passed();
        };
        let endpoint = first.split_whitespace().nth(1).unwrap_or("").to_string();
        vec![Finding::new(
            Confidence::Confirmed,
            endpoint,
            format!(
                "Anonymous requests with another method pass the authentication that GET enforces: {}.",
                summarize(&bypassed, 4)
            ),
        )
        .with_evidence(evidence.into_iter().take(4))]
        .into()
    }
}

/// What another method than GET gave away at the endpoint of `url`, anonymously: the line
/// for the finding and its two exchanges (the bypass and the refused GET).
async fn bypass_at(cx: &ScanContext, url: &url::Url) -> Option<(String, [ExchangeId; 2])> {
    let endpoint = cx.inventory.get(url)?;
    let (Some(anonymous), Some(valid)) = (endpoint.anonymous_ok(), endpoint.authenticated.as_ref()) else {
        return None;
    };
    if let Ok(head) = cx
        .probe
        .send(ProbeRequest::method(Method::Head, endpoint.url.clone()))
        .await
    {
        if let Some(length) = head_carries_the_data(&head, anonymous, valid) {
            let what = format!(
                "HEAD {} ({} with a {length}-byte body vs {} for GET; the identity's GET is {} bytes)",
                endpoint.path(),
                head.status,
                anonymous.status,
                valid.body.len()
            );
            return Some((what, [head.exchange, anonymous.exchange]));
        }
    }
    let options = cx
        .probe
        .send(ProbeRequest::method(Method::Options, endpoint.url.clone()))
        .await
        .ok()?;
    (options.is_success() && !valid.body.is_empty() && similarity(&options.body, &valid.body) >= 0.85).then(|| {
        (
            format!("OPTIONS {} returned the protected data", endpoint.path()),
            [options.exchange, anonymous.exchange],
        )
    })
}

/// The body length a HEAD answer announces when it shows the view produced the protected
/// data: a 2xx whose `Content-Length` is at least half the identity's GET body and longer
/// than the anonymous refusal. A HEAD carries no body, so its announced length is the
/// evidence; a server that answers every HEAD with 200 and no length proves nothing.
fn head_carries_the_data(head: &ProbeResponse, refused: &ProbeResponse, valid: &ProbeResponse) -> Option<usize> {
    if !head.is_success() || valid.body.is_empty() {
        return None;
    }
    let length: usize = head.header("content-length")?.trim().parse().ok()?;
    (length * 2 >= valid.body.len() && length > refused.body.len()).then_some(length)
}
