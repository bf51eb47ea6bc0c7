use authprobe_core::probe::ProbeRequest;
use authprobe_core::{CheckMeta, CheckOutcome, Confidence, Family, Finding, Requirement, ScanContext, Severity};

use crate::support::owasp;

crate::declare_check! {
    /// ## What it does
    /// Sends requests to the API with foreign `Origin` headers (an attacker's site, the
    /// `null` origin of sandboxed iframes and `file:` pages, and a look-alike host that
    /// starts with the target's name) and reports when the response reflects that origin in
    /// `Access-Control-Allow-Origin` while also sending
    /// `Access-Control-Allow-Credentials: true`.
    ///
    /// ## Why is this bad?
    /// Reflecting any origin with credentials lets every website read authenticated API
    /// responses in the victim's browser: the victim visits the attacker's page, which calls
    /// the API with the victim's session cookie and reads their data, CSRF token included.
    ///
    /// ## Example
    /// ```python
    /// # settings.py (django-cors-headers)
    /// CORS_ALLOW_ALL_ORIGINS = True
    /// CORS_ALLOW_CREDENTIALS = True   # together: any origin, with cookies
    /// ```
    ///
    /// ## Remediation
    /// List the front-end origins explicitly; never combine credentials with a wildcard or a
    /// reflected origin, and don't allow `null`:
    /// ```python
    /// CORS_ALLOWED_ORIGINS = ["https://app.example.com"]
    /// CORS_ALLOW_CREDENTIALS = True
    /// ```
    /// Prefer `CORS_ALLOWED_ORIGINS` over `CORS_ALLOWED_ORIGIN_REGEXES`; anchor any regex at
    /// both ends.
    ///
    /// ## References
    /// - django-cors-headers — https://github.com/adamchainz/django-cors-headers
    /// - CWE-942: Permissive Cross-domain Policy with Untrusted Domains
    /// - OWASP API8:2023 Security Misconfiguration
    pub struct CorsCredentials;
    meta = CheckMeta {
        code: "WEB001",
        slug: "cors-credentials",
        title: "Arbitrary origin allowed with credentials (CORS)",
        severity: Severity::High,
        cwe: &[942],
        owasp: &[owasp::API8],
        requires: Requirement::Active,
        family: Family::Web,
    };
}

impl CorsCredentials {
    async fn check(&self, cx: &ScanContext) -> CheckOutcome {
        let url = cx.oracle_endpoint().unwrap_or_else(|| cx.target.url.clone());
        let host = cx.target.url.host_str().unwrap_or("api");
        let origins = [
            "https://evil.authprobe.invalid".to_string(),
            "null".to_string(),
            format!("https://{host}.authprobe.invalid"),
        ];
        let mut reflected = Vec::new();
        let mut evidence = Vec::new();
        for origin in &origins {
            let mut req = ProbeRequest::get(url.clone()).header("Origin", origin.as_str());
            if let Some(identity) = cx.primary() {
                req = identity.authorize(req);
            }
            let Ok(resp) = cx.probe.send(req).await else { continue };
            let allowed = resp.header("access-control-allow-origin").unwrap_or("");
            let credentials = resp
                .header("access-control-allow-credentials")
                .is_some_and(|v| v.eq_ignore_ascii_case("true"));
            if allowed == origin && credentials {
                reflected.push(format!("`{origin}`"));
                evidence.push(resp.exchange);
            }
        }
        if reflected.is_empty() {
            return CheckOutcome::passed();
        }
        vec![Finding::new(
            Confidence::Confirmed,
            url.path(),
            format!(
                "{} reflects the origin {} in Access-Control-Allow-Origin with Access-Control-Allow-Credentials: true, so any website can read authenticated responses.",
                url.path(),
                reflected.join(", ")
            ),
        )
        .with_evidence(evidence)]
        .into()
    }
}
