use authprobe_core::{CheckMeta, CheckOutcome, Confidence, Family, Finding, Requirement, ScanContext, Severity};

use super::plain_http_url;
use crate::support::owasp;

crate::declare_check! {
    /// ## What it does
    /// For every login and token endpoint found, posts a **made-up** username and password
    /// over plain HTTP (never the real test credentials) and reports endpoints that process
    /// them (answer with a login result such as 400/401/200) instead of redirecting to
    /// HTTPS or refusing the connection.
    ///
    /// ## Why is this bad?
    /// An endpoint that accepts credentials over plain HTTP lets any network observer (public
    /// Wi-Fi, a compromised router, a corporate proxy) collect passwords and the tokens the
    /// endpoint returns. A redirect *after* the credentials were sent does not help, which
    /// is why the check looks at what the endpoint does with the first request.
    ///
    /// ## Example
    /// ```python
    /// # settings.py: the API is also reachable on port 80 and Django does not redirect
    /// SECURE_SSL_REDIRECT = False
    /// # urls.py
    /// path("api/token/", TokenObtainPairView.as_view())
    /// ```
    ///
    /// ## Remediation
    /// Serve the API over HTTPS only: redirect (or better, refuse) plain HTTP at the proxy,
    /// set `SECURE_SSL_REDIRECT = True`, and enable HSTS so clients never try plain HTTP:
    /// ```python
    /// SECURE_SSL_REDIRECT = True
    /// SECURE_HSTS_SECONDS = 31536000
    /// SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    /// ```
    ///
    /// ## References
    /// - CWE-523: Unprotected Transport of Credentials
    /// - OWASP API2:2023 Broken Authentication
    /// - Django: HTTPS — https://docs.djangoproject.com/en/stable/topics/security/#ssl-https
    pub struct CredentialsOverHttp;
    meta = CheckMeta {
        code: "TLS002",
        slug: "credentials-over-http",
        title: "Login or token endpoint accepts credentials over plain HTTP",
        severity: Severity::High,
        cwe: &[523],
        owasp: &[owasp::API2],
        requires: Requirement::Active,
        family: Family::Transport,
    };
    sends_post = true;
}

impl CredentialsOverHttp {
    async fn check(&self, cx: &ScanContext) -> CheckOutcome {
        let logins: Vec<_> = cx.flows.login.iter().filter(|f| !f.takes_form()).collect();
        if logins.is_empty() {
            return CheckOutcome::skipped("no JSON or token login flow was found");
        }
        let mut findings = Vec::new();
        for flow in logins {
            let url = match plain_http_url(cx, flow.url.path()) {
                Ok(u) => u,
                Err(why) => return CheckOutcome::skipped(why),
            };
            // A scanner-made account and password: nothing real crosses the network.
            let Some(req) = flow.attempt_request_over(&cx.probe, &url, "authprobe-nobody", "authprobe-not-a-password")
            else {
                continue;
            };
            let Ok(resp) = cx.probe.send(req).await else {
                continue;
            };
            // A redirect or a refusal to talk plain HTTP is the safe answer; anything that
            // looks like the endpoint's own handling of a login means it took the password.
            let processed = !resp.is_redirect()
                && matches!(resp.status, 200 | 400 | 401 | 403 | 429)
                && resp.content_type().contains("json");
            if processed {
                findings.push(
                    Finding::new(
                        Confidence::Confirmed,
                        url.as_str(),
                        format!(
                            "{} processed a login over plain HTTP (HTTP {}) instead of redirecting to HTTPS; real passwords and the tokens returned would cross the network in clear text.",
                            url, resp.status
                        ),
                    )
                    .with_evidence([resp.exchange]),
                );
            }
        }
        findings.into()
    }
}
