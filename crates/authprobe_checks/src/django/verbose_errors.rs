use authprobe_core::discovery::EndpointKind;
use authprobe_core::exchange_log::Recorded;
use authprobe_core::probe::ProbeRequest;
use authprobe_core::{CheckMeta, CheckOutcome, Confidence, Family, Finding, Requirement, ScanContext, Severity};
use futures::stream::{self, StreamExt};
use regex::Regex;
use std::ops::ControlFlow;
use std::sync::LazyLock;

use crate::support::owasp;

/// Signatures of Python tracebacks and database/framework internals in a response, and
/// the stack frames of other stacks (Node's `(/srv/app/node_modules/x.js:92:19)`, Java's
/// `(Foo.java:42)`, Ruby's `app.rb:12:in`).
static INTERNALS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"Traceback \(most recent call last\)|File \\?"[^"\\]+\.py\\?", line \d+|django\.db\.utils\.\w+|sqlite3\.\w*Error|psycopg2?\.errors|MySQLdb\._exceptions|<th>Exception Value:</th>|\((?:/|[A-Za-z]:\\)[^()\s<>"]+\.(?:js|mjs|cjs|ts):\d+:\d+\)|\bat [\w$.]+\([\w$]+\.java:\d+\)|\.rb:\d+:in `"#,
    )
    .expect("valid regex")
});

/// Login flows sent a malformed JSON body at most.
const MAX_MALFORMED_BODIES: usize = 3;

/// Endpoints fed malformed parameters at most (bounded request cost).
const MAX_PROBED: usize = 20;

/// Malformed values for the query parameters Django/DRF views most often parse by hand.
const MALFORMED_QUERY: &str = "page=authprobe%27%22&page_size=%27&limit=%27&offset=%27&id=%27";

crate::declare_check! {
    /// ## What it does
    /// Sends malformed values for common query parameters (`page`, `page_size`, `limit`,
    /// `offset`, `id`) to the API endpoints it found and a JSON body that does not parse to
    /// the JSON login flows, and scans every response of the scan for Python tracebacks,
    /// source file paths, database exception names and other stacks' stack frames (Node,
    /// Java, Ruby).
    ///
    /// ## Why is this bad?
    /// Stack traces reveal code paths, library versions, SQL, file system layout and
    /// sometimes secrets in local variables, and tell an attacker exactly which input broke
    /// which query. They usually come from a custom exception handler that "helpfully"
    /// returns `traceback.format_exc()`, even with `DEBUG = False`.
    ///
    /// ## Example
    /// ```python
    /// def api_exception_handler(exc, context):
    ///     response = exception_handler(exc, context)
    ///     if response is None:
    ///         return Response({"detail": str(exc), "traceback": traceback.format_exc()}, status=500)
    ///     return response
    /// ```
    ///
    /// ## Remediation
    /// Validate input (use serializers or `int()` inside `try` with a 400), return a generic
    /// error body for unhandled exceptions, and send details to logs only:
    /// ```python
    /// def api_exception_handler(exc, context):
    ///     response = exception_handler(exc, context)
    ///     if response is None:
    ///         logger.exception("unhandled API error")
    ///         return Response({"detail": "Internal server error."}, status=500)
    ///     return response
    /// ```
    ///
    /// ## References
    /// - CWE-209: Generation of Error Message Containing Sensitive Information
    /// - DRF: Custom exception handling — https://www.django-rest-framework.org/api-guide/exceptions/#custom-exception-handling
    /// - OWASP API8:2023 Security Misconfiguration
    pub struct VerboseErrors;
    meta = CheckMeta {
        code: "DJ003",
        slug: "verbose-errors",
        title: "Stack traces or framework internals in responses",
        severity: Severity::Medium,
        cwe: &[209],
        owasp: &[owasp::API8],
        requires: Requirement::Active,
        family: Family::Django,
    };
}

impl VerboseErrors {
    async fn check(&self, cx: &ScanContext) -> CheckOutcome {
        // (URL with malformed parameters, whether anonymous requests already succeed there)
        let mut targets: Vec<(url::Url, bool)> = cx
            .inventory
            .endpoints
            .iter()
            .filter(|e| e.kind == EndpointKind::Api || e.kind == EndpointKind::IdentityCandidate)
            .filter(|e| {
                e.anonymous_ok().is_some_and(|r| r.is_success())
                    || e.authenticated.as_ref().is_some_and(|r| r.is_success())
            })
            .map(|e| {
                let mut url = e.url.clone();
                url.set_query(Some(MALFORMED_QUERY));
                (url, e.anonymous_ok().is_some_and(|r| r.is_success()))
            })
            .collect();
        // `/api/posts/` and `/api/posts/?page=2` are one endpoint once the query is replaced.
        let mut seen = std::collections::HashSet::new();
        targets.retain(|(url, _)| seen.insert(url.clone()));
        targets.truncate(MAX_PROBED);
        let identity = cx.primary();
        let probe = &cx.probe;
        let probes: Vec<_> = stream::iter(targets)
            .map(|(url, anonymous_ok)| {
                let mut req = ProbeRequest::get(url).header("Accept", "application/json");
                if let (false, Some(identity)) = (anonymous_ok, identity) {
                    req = identity.authorize(req);
                }
                cx.bulk(probe.send(req))
            })
            .buffer_unordered(4)
            .collect()
            .await;
        // A body that does not parse, sent to the login flows that take JSON: a framework
        // without an error handler answers with its parser's stack trace.
        let mut malformed = Vec::new();
        for flow in cx.flows.login.iter().take(MAX_MALFORMED_BODIES) {
            if let Some(req) = flow.malformed_request() {
                if let Ok(resp) = cx.probe.send(req).await {
                    malformed.push(resp);
                }
            }
        }
        let mut findings = Vec::new();
        for resp in malformed {
            if let Some(sig) = INTERNALS.find(&resp.text()) {
                findings.push(leak(
                    resp.url.path(),
                    sig.as_str(),
                    resp.exchange,
                    "a malformed JSON body",
                ));
                break;
            }
        }
        for resp in probes.into_iter().flatten() {
            if let Some(sig) = INTERNALS.find(&resp.text()) {
                findings.push(leak(
                    resp.url.path(),
                    sig.as_str(),
                    resp.exchange,
                    "malformed query parameters",
                ));
            }
        }
        if findings.is_empty() {
            // Any earlier response of the scan may have leaked internals too.
            cx.probe.visit_exchanges(Recorded::All, |exchange| {
                let Some(resp) = &exchange.response else {
                    return ControlFlow::Continue(());
                };
                let Some(sig) = INTERNALS.find(&resp.body) else {
                    return ControlFlow::Continue(());
                };
                let path = url::Url::parse(&exchange.request.url)
                    .map(|u| u.path().to_string())
                    .unwrap_or_default();
                findings.push(leak(&path, sig.as_str(), exchange.id, "a request of the scan"));
                ControlFlow::Break(())
            });
        }
        findings.into()
    }
}

fn leak(path: &str, signature: &str, exchange: authprobe_core::ExchangeId, cause: &str) -> Finding {
    let signature: String = signature.chars().take(60).collect();
    Finding::new(
        Confidence::Confirmed,
        path,
        format!("{path} answered {cause} with internals of the server (`{signature}`)."),
    )
    .with_evidence([exchange])
}

#[cfg(test)]
mod tests {
    use super::INTERNALS;

    #[test]
    fn python_tracebacks_in_json_are_recognised() {
        let body = r#"{"detail":"invalid literal for int()","traceback":"Traceback (most recent call last):\n  File \"/srv/app/views.py\", line 42, in get"}"#;
        assert!(INTERNALS.is_match(body));
    }

    #[test]
    fn other_stacks_frames_are_recognised() {
        let express = "SyntaxError: Unexpected end of JSON input<br> &nbsp; &nbsp;at JSON.parse (&lt;anonymous&gt;)<br> &nbsp; &nbsp;at parse (/srv/app/node_modules/body-parser/lib/types/json.js:92:19)";
        assert!(INTERNALS.is_match(express));
        assert!(INTERNALS.is_match("java.lang.NullPointerException\n\tat com.acme.Api.get(Api.java:42)"));
        assert!(INTERNALS.is_match("app/controllers/notes_controller.rb:12:in `show'"));
        assert!(!INTERNALS.is_match(r#"{"detail":"see https://docs.example.com/errors.js (v1:2:3)"}"#));
    }

    #[test]
    fn ordinary_errors_are_not_internals() {
        assert!(!INTERNALS.is_match(r#"{"detail":"Invalid page."}"#));
        assert!(!INTERNALS.is_match("<h1>Not Found</h1><p>The requested resource was not found on this server.</p>"));
    }
}
