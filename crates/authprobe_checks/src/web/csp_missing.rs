use authprobe_core::{
    CheckMeta, CheckOutcome, Confidence, Family, Finding, ProbeResponse, Requirement, ScanContext, Severity,
};

use crate::support::{browser_views, html_endpoints, owasp, summarize};

crate::declare_check! {
    /// ## What it does
    /// Looks at every HTML page the scan fetched (login forms, the admin, error pages, other
    /// pages, and what a few JSON endpoints serve to a browser's `Accept`, such as DRF's
    /// browsable API) and reports those served without a `Content-Security-Policy` header (a
    /// `Content-Security-Policy-Report-Only` header does not count: it enforces nothing).
    ///
    /// ## Why is this bad?
    /// Single-page apps and Django templates often keep tokens where JavaScript can reach
    /// them (localStorage, a non-HttpOnly cookie, the DOM). Any XSS then steals them. A CSP
    /// that forbids inline and third-party scripts turns most XSS bugs into harmless text.
    ///
    /// ## Example
    /// ```python
    /// # settings.py: no CSP middleware at all
    /// MIDDLEWARE = ["django.middleware.security.SecurityMiddleware", ...]
    /// ```
    ///
    /// ## Remediation
    /// Send a strict policy on every HTML response, with django-csp (or Django ≥ 6.0's
    /// built-in `ContentSecurityPolicyMiddleware`):
    /// ```python
    /// MIDDLEWARE += ["csp.middleware.CSPMiddleware"]
    /// CONTENT_SECURITY_POLICY = {
    ///     "DIRECTIVES": {
    ///         "default-src": ["'self'"],
    ///         "script-src": ["'self'"],
    ///         "object-src": ["'none'"],
    ///         "frame-ancestors": ["'none'"],
    ///         "base-uri": ["'none'"],
    ///     }
    /// }
    /// ```
    ///
    /// ## References
    /// - MDN: Content-Security-Policy — https://developer.mozilla.org/docs/Web/HTTP/CSP
    /// - django-csp — https://django-csp.readthedocs.io/
    /// - CWE-693: Protection Mechanism Failure
    pub struct CspMissing;
    meta = CheckMeta {
        code: "WEB002",
        slug: "csp-missing",
        title: "HTML responses without a Content-Security-Policy",
        severity: Severity::Low,
        cwe: &[693],
        owasp: &[owasp::API8],
        requires: Requirement::Active,
        family: Family::Web,
    };
    shares = [BrowserViews];
}

impl CspMissing {
    async fn check(&self, cx: &ScanContext) -> CheckOutcome {
        // Pages discovery saw (error pages included: a 404 page that echoes the path is
        // where an injection lands), then JSON endpoints opened as a browser would open
        // them (DRF's browsable API renders HTML for a browser's Accept), anonymously and,
        // for the identity endpoint, as the identity.
        let mut pages: Vec<(String, ProbeResponse)> = html_endpoints(cx)
            .filter(|(_, r)| r.status < 500 && !r.is_redirect())
            .map(|(e, r)| (e.path().to_string(), r.clone()))
            .collect();
        pages.extend(browser_views(cx).await.0.iter().cloned());
        if pages.is_empty() {
            return CheckOutcome::skipped("the scan found no HTML page on the target");
        }
        let missing: Vec<_> = pages
            .iter()
            .filter(|(_, r)| r.header("content-security-policy").is_none())
            .collect();
        let Some((first, _)) = missing.first() else {
            return CheckOutcome::passed();
        };
        let paths: Vec<String> = missing
            .iter()
            .map(|(p, r)| format!("{p} (HTTP {})", r.status))
            .collect();
        vec![Finding::new(
            Confidence::Confirmed,
            first.as_str(),
            format!(
                "{} HTML page(s) are served without a Content-Security-Policy: {}.",
                paths.len(),
                summarize(&paths, 4)
            ),
        )
        .with_evidence(missing.iter().take(3).map(|(_, r)| r.exchange))]
        .into()
    }
}
