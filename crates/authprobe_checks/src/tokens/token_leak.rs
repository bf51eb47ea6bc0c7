use authprobe_core::exchange_log::Recorded;
use authprobe_core::probe::ProbeRequest;
use authprobe_core::{CheckMeta, CheckOutcome, Confidence, Family, Finding, Requirement, ScanContext, Severity};

use crate::support::owasp;
use futures::StreamExt;
use std::sync::atomic::{AtomicBool, Ordering};

/// Endpoints a marker credential is sent to at most.
const MAX_ENDPOINTS: usize = 6;

crate::declare_check! {
    /// ## What it does
    /// Sends a recognisable, harmless marker as the credential (`Authorization: Bearer
    /// authprobe-leak-…`) to protected endpoints and reports responses that echo it back
    /// (error bodies, headers). It also looks through every response of the scan for the
    /// identity's real tokens in `Location` headers (tokens in redirect URLs).
    ///
    /// ## Why is this bad?
    /// A token that appears in an error body or a URL ends up where secrets must never be:
    /// server and proxy logs, error trackers, browser history, `Referer` headers, support
    /// tickets with pasted error messages. Each copy is a way to replay the session.
    ///
    /// ## Example
    /// ```python
    /// except InvalidToken:
    ///     raise AuthenticationFailed({"detail": f"Token {raw} is invalid", "token": raw})
    /// ```
    ///
    /// ## Remediation
    /// Never include credentials in responses or URLs: error messages name the problem, not
    /// the value; redirects carry no tokens; logs filter `Authorization` and cookies:
    /// ```python
    /// raise AuthenticationFailed("Given token not valid for any token type", code="token_not_valid")
    /// LOGGING["filters"] = {"scrub": {"()": "myapp.logging.ScrubAuthorizationFilter"}}
    /// ```
    ///
    /// ## References
    /// - CWE-200: Exposure of Sensitive Information to an Unauthorized Actor
    /// - CWE-598: Use of GET Request Method With Sensitive Query Strings
    /// - OWASP API2:2023 Broken Authentication
    pub struct TokenLeak;
    meta = CheckMeta {
        code: "TOKEN004",
        slug: "token-leak",
        title: "Token or session id leaked in a response or URL",
        severity: Severity::Medium,
        cwe: &[200],
        owasp: &[owasp::API2],
        requires: Requirement::Active,
        family: Family::Tokens,
    };
}

impl TokenLeak {
    async fn check(&self, cx: &ScanContext) -> CheckOutcome {
        let mut targets: Vec<url::Url> = cx.oracle_endpoint().into_iter().collect();
        let mut listed: std::collections::HashSet<url::Url> = targets.iter().cloned().collect();
        for e in cx.inventory.endpoints.iter().filter(|e| e.anonymously_refused()) {
            if targets.len() >= cx.endpoint_limit(MAX_ENDPOINTS) {
                break;
            }
            if listed.insert(e.url.clone()) {
                targets.push(e.url.clone());
            }
        }
        if targets.is_empty() {
            return CheckOutcome::skipped("no endpoint that requires authentication was found");
        }
        let marker = format!("authprobe-leak-{:08x}", rand::random::<u32>());
        // Endpoints are independent: probed side by side. Once one echoes, no new probe
        // starts, but those already sent are awaited (a dropped request may have reached the
        // target and must stay counted as what it is); the first echo in inventory order is
        // the finding.
        let marker = marker.as_str();
        let echoed = AtomicBool::new(false);
        let echoed = &echoed;
        let mut echoes = futures::stream::iter(targets)
            .map(|url| {
                cx.bulk(async move {
                    if echoed.load(Ordering::Relaxed) {
                        return None;
                    }
                    let resp = cx
                        .probe
                        .send(ProbeRequest::get(url.clone()).bearer(marker))
                        .await
                        .ok()?;
                    let in_headers = resp
                        .headers
                        .iter()
                        .any(|(_, v)| v.to_str().is_ok_and(|v| v.contains(marker)));
                    let echo = in_headers || resp.text().contains(marker);
                    echoed.fetch_or(echo, Ordering::Relaxed);
                    echo.then_some((url, resp, in_headers))
                })
            })
            .buffered(cx.fan_out());
        let mut first = None;
        while let Some(echo) = echoes.next().await {
            if first.is_none() {
                first = echo;
            }
        }
        if let Some((url, resp, in_headers)) = first {
            let place = if in_headers {
                "a response header"
            } else {
                "the response body"
            };
            return vec![Finding::new(
                Confidence::Confirmed,
                url.path(),
                format!(
                    "{} echoed the Bearer credential it was sent back in {place} (HTTP {}); real tokens sent by clients end up in error logs, trackers and pasted error messages.",
                    url.path(),
                    resp.status
                ),
            )
            .with_evidence([resp.exchange])]
            .into();
        }
        // Real tokens in redirect URLs.
        let secrets: Vec<String> = cx
            .identities
            .iter()
            .flat_map(|i| i.secrets())
            .filter(|s| s.len() >= 16)
            .collect();
        let leaked = cx.probe.find_exchange(Recorded::Redirecting, |exchange| {
            let location = exchange.response.as_ref().and_then(|resp| {
                resp.headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("location"))
                    .map(|(_, v)| v)
            });
            location.is_some_and(|location| secrets.iter().any(|s| location.contains(s.as_str())))
        });
        if let Some(exchange) = leaked {
            let path = url::Url::parse(&exchange.request.url)
                .map(|u| u.path().to_string())
                .unwrap_or_default();
            return vec![Finding::new(
                Confidence::Confirmed,
                path.clone(),
                format!("{path} redirected to a URL that carries one of the identity's tokens."),
            )
            .with_evidence([exchange.id])]
            .into();
        }
        CheckOutcome::passed()
    }
}
