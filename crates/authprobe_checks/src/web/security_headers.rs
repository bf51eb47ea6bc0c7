use authprobe_core::discovery::Endpoint;
use authprobe_core::{
    CheckMeta, CheckOutcome, Confidence, Family, Finding, ProbeResponse, Requirement, ScanContext, Severity,
};

use crate::support::{anonymous_responses, owasp, summarize};

crate::declare_check! {
    /// ## What it does
    /// Inspects the responses the scan received and reports, per header, where these are
    /// missing: `X-Content-Type-Options: nosniff` (every response), and on HTML pages
    /// `X-Frame-Options` (or a CSP `frame-ancestors` directive) and `Referrer-Policy`.
    ///
    /// ## Why is this bad?
    /// Without `nosniff` a browser may execute a JSON or upload response as script or HTML;
    /// without frame protection the login page can be framed for clickjacking; without a
    /// referrer policy, URLs (with reset tokens or query-string tokens) leak to third
    /// parties in the `Referer` header.
    ///
    /// ## Example
    /// ```python
    /// # settings.py
    /// SECURE_CONTENT_TYPE_NOSNIFF = False
    /// SECURE_REFERRER_POLICY = None
    /// MIDDLEWARE.remove("django.middleware.clickjacking.XFrameOptionsMiddleware")
    /// ```
    ///
    /// ## Remediation
    /// Django sends all three by default; keep the defaults:
    /// ```python
    /// MIDDLEWARE = [
    ///     "django.middleware.security.SecurityMiddleware",
    ///     ...,
    ///     "django.middleware.clickjacking.XFrameOptionsMiddleware",
    /// ]
    /// SECURE_CONTENT_TYPE_NOSNIFF = True
    /// SECURE_REFERRER_POLICY = "same-origin"
    /// X_FRAME_OPTIONS = "DENY"
    /// ```
    ///
    /// ## References
    /// - Django: Security middleware — https://docs.djangoproject.com/en/stable/ref/middleware/#module-django.middleware.security
    /// - OWASP Secure Headers Project — https://owasp.org/www-project-secure-headers/
    /// - CWE-693: Protection Mechanism Failure
    pub struct SecurityHeaders;
    meta = CheckMeta {
        code: "WEB004",
        slug: "security-headers",
        title: "Security headers missing (nosniff, frame options, referrer policy)",
        severity: Severity::Low,
        cwe: &[693],
        owasp: &[owasp::API8],
        requires: Requirement::Passive,
        family: Family::Web,
    };
}

type Rule = (&'static str, bool, fn(&ProbeResponse) -> bool);

/// (header named in the message, applies to HTML only, is it present?)
const RULES: &[Rule] = &[
    ("X-Content-Type-Options: nosniff", false, |r| {
        r.header("x-content-type-options")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("nosniff"))
    }),
    ("X-Frame-Options (or CSP frame-ancestors)", true, |r| {
        r.header("x-frame-options").is_some()
            || r.header("content-security-policy")
                .is_some_and(|v| v.contains("frame-ancestors"))
    }),
    ("Referrer-Policy", true, |r| r.header("referrer-policy").is_some()),
];

impl SecurityHeaders {
    async fn check(&self, cx: &ScanContext) -> CheckOutcome {
        let responses: Vec<(&Endpoint, &ProbeResponse)> =
            anonymous_responses(cx).filter(|(_, r)| r.status < 500).collect();
        if responses.is_empty() {
            return CheckOutcome::skipped("the target answered no request during discovery");
        }
        let mut findings = Vec::new();
        for (header, html_only, present) in RULES {
            let lacking: Vec<_> = responses
                .iter()
                // A redirect is never rendered, so it cannot be framed or leak a referrer.
                .filter(|(_, r)| (!html_only || (r.is_html() && !r.is_redirect())) && !present(r))
                .collect();
            let Some((first, _)) = lacking.first() else { continue };
            let paths: Vec<String> = lacking.iter().map(|(e, _)| e.path().to_string()).collect();
            findings.push(
                Finding::new(
                    Confidence::Confirmed,
                    first.path(),
                    format!("{} response(s) lack {header}: {}.", paths.len(), summarize(&paths, 4)),
                )
                .with_evidence(lacking.iter().take(2).map(|(_, r)| r.exchange)),
            );
        }
        findings.into()
    }
}
