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
/// `(Foo.java:42)`, Ruby's `app.rb:12:in`, PHP's `#0 /var/www/app/X.php(42): ` and
/// Laravel's debug JSON `"file": "…/X.php", "line": 42`).
static INTERNALS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"Traceback \(most recent call last\)|File \\?"[^"\\]+\.py\\?", line \d+|django\.db\.utils\.\w+|sqlite3\.\w*Error|psycopg2?\.errors|MySQLdb\._exceptions|<th>Exception Value:</th>|\((?:/|[A-Za-z]:\\)[^()\s<>"]+\.(?:js|mjs|cjs|ts):\d+:\d+\)|\bat [\w$.]+\([\w$]+\.java:\d+\)|\.rb:\d+:in `|\.php"\s*,\s*"line"\s*:\s*\d+|#\d+ (?:/|[A-Za-z]:\\)[^\s()<>"]+\.php\(\d+\): "#,
    )
    .expect("valid regex")
});

/// Debug pages of other frameworks than Django, each recognised by markers only its own
/// template carries (every marker must be present): a 404 page that merely says "debug"
/// is none of them. (framework's page, markers, whether it runs code on the server)
const DEBUG_PAGES: &[(&str, &[&str], bool)] = &[
    // Flask/Werkzeug `debug=True`: the traceback page and the `/console`, both with the
    // in-browser Python console (guarded by a PIN at most).
    ("the Werkzeug debugger", &["Werkzeug Debugger", "__debugger__"], true),
    // Starlette/FastAPI `debug=True`: ServerErrorMiddleware's HTML traceback.
    (
        "Starlette's debug traceback",
        &["<title>Starlette Debugger</title>", "traceback-container"],
        false,
    ),
    // Laravel `APP_DEBUG=true` with Ignition, and the Whoops page of older releases.
    ("Laravel Ignition's error page", &["window.ignite(window.data)"], false),
    ("the Whoops error page", &["class=\"Whoops container\""], false),
];

/// The debug page a body is, if any: (framework's page, whether it runs code).
fn debug_page(body: &str) -> Option<(&'static str, bool)> {
    DEBUG_PAGES
        .iter()
        .find(|(_, markers, _)| markers.iter().all(|m| body.contains(m)))
        .map(|(name, _, runs_code)| (*name, *runs_code))
}

/// How the paths the scanner makes up start (discovery's and the checks' 404 probes).
const SCANNER_PATHS: &str = "/authprobe-";

/// Where the Werkzeug debugger serves its interactive console when debug mode is on.
const WERKZEUG_CONSOLE: &str = "/console";

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
    /// Java, Ruby), and for the debug pages of other frameworks than Django, recognised by
    /// their own templates' markers: the Werkzeug debugger (and its `/console`, requested
    /// once; high severity, since its console runs Python on the server), Starlette's debug
    /// traceback, Laravel's Ignition and Whoops pages.
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
    severities = [Severity::Medium, Severity::High];
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
        // Werkzeug's console answers a plain GET whenever debug mode is on, crash or not.
        if let Some(url) = cx.target.join(WERKZEUG_CONSOLE) {
            let req = ProbeRequest::get(url).header("Accept", "text/html");
            if let Ok(resp) = cx.probe.send(req).await {
                if let Some(finding) = judged(&resp.text(), resp.url.path(), resp.exchange, "a plain GET") {
                    findings.push(finding);
                }
            }
        }
        for resp in malformed {
            if let Some(finding) = judged(&resp.text(), resp.url.path(), resp.exchange, "a malformed JSON body") {
                findings.push(finding);
                break;
            }
        }
        for resp in probes.into_iter().flatten() {
            if let Some(finding) = judged(
                &resp.text(),
                resp.url.path(),
                resp.exchange,
                "malformed query parameters",
            ) {
                findings.push(finding);
            }
        }
        if findings.is_empty() {
            // Any earlier response of the scan may have leaked internals too: a route of the
            // API's own first; a path the scanner made up (a 404 probe) counts for the site,
            // reported at `/` so the finding is the same from scan to scan.
            let mut made_up: Option<Finding> = None;
            cx.probe.visit_exchanges(Recorded::All, |exchange| {
                let Some(resp) = &exchange.response else {
                    return ControlFlow::Continue(());
                };
                let path = url::Url::parse(&exchange.request.url)
                    .map(|u| u.path().to_string())
                    .unwrap_or_default();
                let scanner_made = path.starts_with(SCANNER_PATHS);
                if scanner_made && made_up.is_some() {
                    return ControlFlow::Continue(());
                }
                let Some(finding) = judged(&resp.body, &path, exchange.id, "a request of the scan") else {
                    return ControlFlow::Continue(());
                };
                if scanner_made {
                    made_up = Some(Finding {
                        endpoint: "/".to_string(),
                        ..finding
                    });
                    return ControlFlow::Continue(());
                }
                findings.push(finding);
                ControlFlow::Break(())
            });
            if findings.is_empty() {
                findings.extend(made_up);
            }
        }
        findings.into()
    }
}

/// A finding for an answer that is a framework's debug page or carries internals.
fn judged(body: &str, path: &str, exchange: authprobe_core::ExchangeId, cause: &str) -> Option<Finding> {
    if let Some((page, runs_code)) = debug_page(body) {
        let mut message = format!("{path} answered {cause} with {page}: the framework runs in debug mode");
        if runs_code {
            message.push_str(", and its in-browser console runs Python on the server (behind a PIN at most)");
        }
        message.push_str(", showing source, settings and stack frames to anyone.");
        let finding = Finding::new(Confidence::Confirmed, path, message).with_evidence([exchange]);
        return Some(if runs_code {
            finding.with_severity(Severity::High)
        } else {
            finding
        });
    }
    INTERNALS
        .find(body)
        .map(|sig| leak(path, sig.as_str(), exchange, cause))
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
        let laravel = r#"{"message": "Division by zero", "exception": "DivisionByZeroError", "file": "/var/www/html/app/Http/Controllers/OrderController.php", "line": 31, "trace": []}"#;
        assert!(INTERNALS.is_match(laravel));
        assert!(INTERNALS.is_match("#0 /var/www/html/vendor/laravel/framework/src/Illuminate/Routing/Controller.php(54): App\\Http\\Controllers\\OrderController->index()"));
        assert!(!INTERNALS.is_match(r#"{"message": "Server Error"}"#));
        assert!(!INTERNALS.is_match(r#"{"file": "report.php", "line": "see docs"}"#));
        assert!(!INTERNALS.is_match(r#"{"detail":"see https://docs.example.com/errors.js (v1:2:3)"}"#));
    }

    #[test]
    fn other_frameworks_debug_pages_are_recognised_by_their_templates() {
        use super::debug_page;
        let console = "<!doctype html>\n<html lang=en>\n  <head>\n    <title>Console // Werkzeug Debugger</title>\n    <link rel=\"stylesheet\" href=\"?__debugger__=yes&amp;cmd=resource&amp;f=style.css\">\n    <script src=\"?__debugger__=yes&amp;cmd=resource&amp;f=debugger.js\"></script>\n    <script>\n      var CONSOLE_MODE = true,\n          EVALEX = true,\n          EVALEX_TRUSTED = false,\n          SECRET = \"Xq3bK9vZ2mP7wR4tY8uN\";\n    </script>\n  </head>\n  <body style=\"background-color: #fff\">\n    <div class=\"debugger\">\n<h1>Interactive Console</h1>\n<div class=\"explanation\">\nIn this console you can execute Python expressions in the context of the\napplication.  The initial namespace was created by the debugger automatically.\n</div>\n<div class=\"console\"><div class=\"inner\">The Console requires JavaScript.</div></div>\n      <div class=\"footer\">\n        Brought to you by <strong class=\"arthur\">DON'T PANIC</strong>, your\n        friendly Werkzeug powered traceback interpreter.\n      </div>\n    </div>\n  </body>\n</html>";
        assert_eq!(debug_page(console), Some(("the Werkzeug debugger", true)));
        let starlette = "<html><head><style type='text/css'>p {color: #211c1c;}</style><title>Starlette Debugger</title></head><body><h1>500 Server Error</h1><h2>ZeroDivisionError: division by zero</h2><div class=\"traceback-container\"><p class=\"traceback-title\">Traceback</p><div><p class=\"frame-title\">File <span class=\"frame-filename\">/app/main.py</span>, line <i>14</i>, in <b>totals</b></p></div></div></body></html>";
        assert_eq!(debug_page(starlette), Some(("Starlette's debug traceback", false)));
        assert!(debug_page("<div class=\"Whoops container\"><div class=\"stack-container\">").is_some());
        // Pages that only talk about debugging, and Laravel's production error page.
        assert_eq!(
            debug_page("<h1>404</h1><p>Debug: the page /x was not found. See the debugger docs.</p>"),
            None
        );
        assert_eq!(
            debug_page("<title>Server Error</title><div>500 | Server Error</div>"),
            None
        );
        assert_eq!(debug_page("<title>Werkzeug Debugger docs</title>"), None);
    }

    #[test]
    fn ordinary_errors_are_not_internals() {
        assert!(!INTERNALS.is_match(r#"{"detail":"Invalid page."}"#));
        assert!(!INTERNALS.is_match("<h1>Not Found</h1><p>The requested resource was not found on this server.</p>"));
    }
}
