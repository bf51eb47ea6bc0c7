use authprobe_core::exchange_log::Recorded;
use authprobe_core::oracle::Verdict;
use authprobe_core::probe::ProbeRequest;
use authprobe_core::{CheckMeta, CheckOutcome, Confidence, Family, Finding, Requirement, ScanContext, Severity};
use std::ops::ControlFlow;
use url::Url;

use super::{is_session_cookie, judge, oracle};
use crate::support::owasp;

crate::declare_check! {
    /// ## What it does
    /// Looks for session ids that travel in URLs, both ways:
    /// - **issued in the URL**: a redirect the scan received (`Location`) carries one of
    ///   the identity's live session ids as a query parameter or `;jsessionid=`;
    /// - **accepted from the URL**: the identity's live session id is sent as
    ///   `?sessionid=…` (the cookie's own name, then `session_id`, `sid`, `session`), with
    ///   no cookie at all, to an endpoint that serves the identity. The differential oracle
    ///   decides whether the server took it as that user.
    ///
    /// Only GET requests with a session the scan already holds; nothing is changed.
    ///
    /// ## Why is this bad?
    /// URLs are written to access logs, proxy logs and browser history, and sent onward in
    /// `Referer` headers — a session id in one is a session id handed to all of them. A
    /// server that *accepts* the id from the URL is also open to session fixation: an
    /// attacker mails a link carrying a session id of their choosing.
    ///
    /// ## Example
    /// ```python
    /// class SessionFromQueryMiddleware:
    ///     """Keep the mobile web view and e-mailed deep links logged in."""
    ///     def __call__(self, request):
    ///         sid = request.GET.get("sessionid")
    ///         if sid:
    ///             request.COOKIES["sessionid"] = sid
    ///         return self.get_response(request)
    /// ```
    ///
    /// ## Remediation
    /// Read the session id from its cookie only (Django's `SessionMiddleware` does, when
    /// nothing rewrites `request.COOKIES`), and never put it in a link or redirect. Give
    /// deep links a one-time, short-lived token that leads to a normal login instead:
    /// ```python
    /// SESSION_COOKIE_HTTPONLY = True
    /// SESSION_COOKIE_SECURE = True
    /// ```
    ///
    /// ## References
    /// - CWE-384: Session Fixation
    /// - CWE-598: Use of GET Request Method With Sensitive Query Strings
    /// - OWASP API2:2023 Broken Authentication
    /// - OWASP Session Management Cheat Sheet, "Session ID exposure in URLs" — https://cheatsheetseries.owasp.org/cheatsheets/Session_Management_Cheat_Sheet.html
    pub struct SessionIdInUrl;
    meta = CheckMeta {
        code: "SESS002",
        slug: "session-id-in-url",
        title: "Session id issued in or accepted from the URL",
        severity: Severity::High,
        cwe: &[384],
        owasp: &[owasp::API2],
        requires: Requirement::LoginFlow,
        family: Family::Session,
    };
}

/// Session ids shorter than this are not looked for in URLs (they could match by accident).
const MIN_ID_LEN: usize = 16;

impl SessionIdInUrl {
    async fn check(&self, cx: &ScanContext) -> CheckOutcome {
        // The scan's own live sessions: (cookie name, value, identity label).
        let sessions: Vec<(String, String, String)> = cx
            .identities
            .iter()
            .filter_map(|i| i.session.as_ref().map(|jar| (jar, i.label.clone())))
            .flat_map(|(jar, label)| {
                jar.names()
                    .into_iter()
                    .filter(|n| is_session_cookie(n))
                    .filter_map(|n| jar.get(&n).map(|v| (n, v, label.clone())))
                    .collect::<Vec<_>>()
            })
            .filter(|(_, v, _)| v.len() >= MIN_ID_LEN)
            .collect();
        let Some((cookie, value, label)) = sessions.first().cloned() else {
            return CheckOutcome::skipped(
                "no session-cookie login: the scan holds no session (declare a form login in [flows.login])",
            );
        };
        let mut findings = issued_in_redirects(cx, &sessions);

        let (oracle_url, baseline) = match oracle(cx).await {
            Ok(o) => o,
            Err(why) => {
                return if findings.is_empty() {
                    CheckOutcome::skipped(why)
                } else {
                    findings.into()
                }
            }
        };
        let mut names: Vec<&str> = vec![cookie.as_str()];
        names.extend(
            authprobe_core::auth::vocab::SESSION_URL_PARAMS
                .iter()
                .filter(|n| **n != cookie),
        );
        for name in names {
            let mut url = oracle_url.clone();
            url.query_pairs_mut().append_pair(name, &value);
            let Some((verdict, resp)) = judge(cx, &baseline, ProbeRequest::get(url)).await else {
                continue;
            };
            if verdict == Verdict::Accepted {
                findings.push(
                    Finding::new(
                        Confidence::Confirmed,
                        oracle_url.path(),
                        format!(
                            "{} accepts the session id from the URL: `?{name}=<{label}'s session id>`, sent with no cookie at all, authenticated as `{label}`. Session ids in URLs leak through logs, history and Referer headers, and a link carrying an attacker-chosen id fixes the victim's session.",
                            oracle_url.path()
                        ),
                    )
                    .with_evidence([resp.exchange, baseline.anonymous.exchange, baseline.valid.exchange]),
                );
                break;
            }
        }
        findings.into()
    }
}

/// Redirects the scan received whose `Location` carries one of its live session ids.
fn issued_in_redirects(cx: &ScanContext, sessions: &[(String, String, String)]) -> Vec<Finding> {
    let mut findings: Vec<Finding> = Vec::new();
    cx.probe.visit_exchanges(Recorded::Redirecting, |exchange| {
        let Some(location) = exchange
            .response
            .as_ref()
            .and_then(|r| r.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("location")))
            .map(|(_, v)| v.clone())
        else {
            return ControlFlow::Continue(());
        };
        let Some(url) = cx.target.url.join(&location).ok() else {
            return ControlFlow::Continue(());
        };
        let query = url.query().unwrap_or_default().to_string();
        let carried = sessions
            .iter()
            .find(|(_, v, _)| query.contains(v.as_str()) || url.path().contains(&format!(";jsessionid={v}")));
        let Some((_, _, label)) = carried else {
            return ControlFlow::Continue(());
        };
        let path = request_path(&exchange.request.url);
        if findings.iter().any(|f| f.endpoint == path) {
            return ControlFlow::Continue(());
        }
        findings.push(
            Finding::new(
                Confidence::Confirmed,
                path.clone(),
                format!(
                    "{path} redirects to a URL that carries `{label}`'s live session id: it lands in browser history, server and proxy logs, and the Referer of the next page."
                ),
            )
            .with_evidence([exchange.id]),
        );
        ControlFlow::Continue(())
    });
    findings
}

fn request_path(url: &str) -> String {
    Url::parse(url)
        .map(|u| u.path().to_string())
        .unwrap_or_else(|_| url.to_string())
}
