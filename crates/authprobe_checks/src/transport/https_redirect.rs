use authprobe_core::probe::ProbeRequest;
use authprobe_core::{
    CheckMeta, CheckOutcome, Confidence, Family, Finding, ProbeError, Requirement, ScanContext, Severity,
};

use super::plain_http_url;
use crate::support::owasp;

crate::declare_check! {
    /// ## What it does
    /// Requests the API over plain HTTP (the target itself when it is `http://`, or the
    /// `http://` counterpart of an HTTPS target) and reports when it is served instead of
    /// being redirected to `https://`.
    ///
    /// ## Why is this bad?
    /// Anything served over plain HTTP can be read and rewritten by anyone on the network
    /// path: Bearer tokens, session cookies without `Secure`, and the JavaScript that
    /// handles them. Without a redirect, clients that type or bookmark `http://` stay on
    /// the insecure channel, and HSTS can never be bootstrapped.
    ///
    /// ## Example
    /// ```python
    /// # settings.py: TLS terminates at the load balancer, but Django never redirects
    /// SECURE_SSL_REDIRECT = False
    /// ```
    ///
    /// ## Remediation
    /// Redirect every plain-HTTP request to HTTPS, at the proxy or in Django, and tell
    /// Django how to recognise HTTPS behind the proxy:
    /// ```python
    /// # settings.py
    /// SECURE_SSL_REDIRECT = True
    /// SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")  # only behind a proxy that sets it
    /// ```
    ///
    /// ## References
    /// - Django: `SECURE_SSL_REDIRECT` — https://docs.djangoproject.com/en/stable/ref/settings/#secure-ssl-redirect
    /// - CWE-319: Cleartext Transmission of Sensitive Information
    /// - OWASP API8:2023 Security Misconfiguration
    pub struct NoHttpsRedirect;
    meta = CheckMeta {
        code: "TLS001",
        slug: "no-https-redirect",
        title: "Plain HTTP served without redirect to HTTPS",
        severity: Severity::Medium,
        cwe: &[319],
        owasp: &[owasp::API8],
        requires: Requirement::Active,
        family: Family::Transport,
    };
}

impl NoHttpsRedirect {
    async fn check(&self, cx: &ScanContext) -> CheckOutcome {
        let url = match plain_http_url(cx, cx.target.url.path()) {
            Ok(u) => u,
            Err(why) => return CheckOutcome::skipped(why),
        };
        match cx.probe.send(ProbeRequest::get(url.clone())).await {
            Ok(resp) if resp.is_redirect() && resp.location().is_some_and(|l| l.scheme() == "https") => {
                CheckOutcome::passed()
            }
            Ok(resp) if resp.is_redirect() => vec![Finding::new(
                Confidence::Confirmed,
                url.as_str(),
                format!(
                    "Plain HTTP redirects to {} instead of an https:// URL.",
                    resp.header("location").unwrap_or("?")
                ),
            )
            .with_evidence([resp.exchange])]
            .into(),
            Ok(resp) => vec![Finding::new(
                Confidence::Confirmed,
                url.as_str(),
                format!(
                    "{url} is served over plain HTTP (HTTP {}) without a redirect to HTTPS.",
                    resp.status
                ),
            )
            .with_evidence([resp.exchange])]
            .into(),
            // Nothing listens on plain HTTP: nothing can be served insecurely.
            Err(ProbeError::ConnectionRefused(_)) | Err(ProbeError::Timeout(_)) | Err(ProbeError::Connect { .. }) => {
                CheckOutcome::passed()
            }
            Err(e) => CheckOutcome::skipped(format!("the plain-HTTP probe failed: {e}")),
        }
    }
}
