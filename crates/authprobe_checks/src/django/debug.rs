use authprobe_core::probe::ProbeRequest;
use authprobe_core::{CheckMeta, CheckOutcome, Confidence, Family, Finding, Requirement, ScanContext, Severity};

use crate::support::{nonexistent_path, owasp};

/// Markers that only Django's technical (DEBUG) error pages contain.
const DEBUG_MARKERS: &[&str] = &[
    "You're seeing this error because you have <code>DEBUG = True</code>",
    "You’re seeing this error because you have <code>DEBUG = True</code>",
    "Using the URLconf defined in",
    "<th>Django Version:</th>",
];

crate::declare_check! {
    /// ## What it does
    /// Requests a path that cannot exist, asking for HTML, and looks for Django's technical
    /// 404 page ("You're seeing this error because you have DEBUG = True", the list of
    /// URL patterns). It also inspects every page discovery fetched for the technical
    /// 404/500 pages.
    ///
    /// ## Why is this bad?
    /// With `DEBUG = True` Django prints every URL pattern of the project on a 404, and on a
    /// 500 the full traceback with local variables, settings (with only some names masked),
    /// the SQL queries and request headers, including `Authorization` and cookies of the
    /// request that failed. Attackers use the URL list as a map and the 500 page to harvest
    /// secrets. It also makes Django keep every SQL query in memory.
    ///
    /// ## Example
    /// ```python
    /// # settings.py
    /// DEBUG = True  # "temporarily", for a staging bug hunt
    /// ALLOWED_HOSTS = ["api.example.com"]
    /// ```
    ///
    /// ## Remediation
    /// Never run production with `DEBUG = True`; read it from the environment with a safe
    /// default and let `manage.py check --deploy` guard it in CI:
    /// ```python
    /// # settings.py
    /// DEBUG = os.environ.get("DJANGO_DEBUG", "") == "1"   # off unless explicitly enabled
    /// ```
    /// ```sh
    /// DJANGO_SETTINGS_MODULE=project.settings.production python manage.py check --deploy --fail-level WARNING
    /// ```
    /// Log errors to your error tracker (Sentry, logging `AdminEmailHandler`) instead of
    /// rendering them.
    ///
    /// ## References
    /// - Django: Deployment checklist, `DEBUG` — https://docs.djangoproject.com/en/stable/howto/deployment/checklist/#debug
    /// - CWE-215: Insertion of Sensitive Information Into Debugging Code
    /// - OWASP API8:2023 Security Misconfiguration
    pub struct DjangoDebug;
    meta = CheckMeta {
        code: "DJ001",
        slug: "django-debug",
        title: "Django DEBUG mode enabled",
        severity: Severity::High,
        cwe: &[215],
        owasp: &[owasp::API8],
        requires: Requirement::Active,
        family: Family::Django,
    };
}

impl DjangoDebug {
    async fn check(&self, cx: &ScanContext) -> CheckOutcome {
        let Some(url) = cx.target.join(&nonexistent_path()) else {
            return CheckOutcome::skipped("cannot build a probe URL on the target");
        };
        let req = ProbeRequest::get(url.clone()).header("Accept", "text/html");
        let mut findings = Vec::new();
        match cx.probe.send(req).await {
            Ok(resp) if has_debug_page(&resp.text()) => findings.push(
                // The site, not the random probe path, is what has DEBUG on: a stable endpoint
                // keeps the finding's fingerprint the same from scan to scan.
                Finding::new(
                    Confidence::Confirmed,
                    "/",
                    format!(
                        "A request for a nonexistent path ({}) returned Django's technical {} page (DEBUG = True), which lists the project's URL patterns.",
                        url.path(),
                        resp.status
                    ),
                )
                .with_evidence([resp.exchange]),
            ),
            Ok(_) => {}
            Err(e) => return CheckOutcome::skipped(format!("the 404 probe failed: {e}")),
        }
        if findings.is_empty() {
            if let Some((e, r)) = crate::support::anonymous_responses(cx).find(|(_, r)| has_debug_page(&r.text())) {
                findings.push(
                    Finding::new(
                        Confidence::Confirmed,
                        e.path(),
                        format!("{} returned a Django technical error page (DEBUG = True).", e.path()),
                    )
                    .with_evidence([r.exchange]),
                );
            }
        }
        findings.into()
    }
}

fn has_debug_page(body: &str) -> bool {
    DEBUG_MARKERS.iter().any(|m| body.contains(m))
}

#[cfg(test)]
mod tests {
    #[test]
    fn recognises_the_technical_404_page() {
        assert!(super::has_debug_page(
            "<p>Using the URLconf defined in <code>project.urls</code>, Django tried"
        ));
        assert!(!super::has_debug_page(
            "<h1>Not Found</h1><p>The requested resource was not found on this server.</p>"
        ));
    }
}
