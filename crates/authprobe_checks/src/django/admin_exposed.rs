use authprobe_core::probe::ProbeRequest;
use authprobe_core::{CheckMeta, CheckOutcome, Confidence, Family, Finding, Requirement, ScanContext, Severity};

use crate::support::owasp;

crate::declare_check! {
    /// ## What it does
    /// Requests `/admin/login/` and reports when the Django admin login page answers there.
    ///
    /// ## Why is this bad?
    /// The admin is the most powerful interface of a Django site and its default URL is the
    /// first thing bots try: credential stuffing and password spraying against it are
    /// constant. A reachable admin login is not a vulnerability by itself (hence *info*),
    /// but it widens the attack surface of every staff account.
    ///
    /// ## Example
    /// ```python
    /// # urls.py
    /// urlpatterns = [path("admin/", admin.site.urls), ...]
    /// ```
    ///
    /// ## Remediation
    /// Mount the admin at a path from the environment, restrict it by network (VPN, allow
    /// list at the proxy), and protect staff accounts with MFA (e.g. `django-otp`) and login
    /// throttling (`django-axes`):
    /// ```python
    /// # urls.py
    /// urlpatterns = [path(f"{settings.ADMIN_URL}/", admin.site.urls), ...]
    /// # settings.py
    /// ADMIN_URL = os.environ["DJANGO_ADMIN_URL"]  # e.g. "staff-7f3a9c"
    /// ```
    ///
    /// ## References
    /// - Django: The Django admin site — https://docs.djangoproject.com/en/stable/ref/contrib/admin/
    /// - OWASP API8:2023 Security Misconfiguration
    pub struct DjangoAdminExposed;
    meta = CheckMeta {
        code: "DJ002",
        slug: "django-admin-exposed",
        title: "Django admin login reachable at /admin/",
        severity: Severity::Info,
        cwe: &[200],
        owasp: &[owasp::API8],
        requires: Requirement::Active,
        family: Family::Django,
    };
}

impl DjangoAdminExposed {
    async fn check(&self, cx: &ScanContext) -> CheckOutcome {
        let Some(url) = cx.target.join("/admin/login/") else {
            return CheckOutcome::skipped("cannot build a probe URL on the target");
        };
        let known = cx.inventory.get(&url).and_then(|e| e.anonymous_ok().cloned());
        let resp = match known {
            Some(r) => r,
            None => match cx.probe.send(ProbeRequest::get(url.clone())).await {
                Ok(r) => r,
                Err(e) => return CheckOutcome::skipped(format!("the admin probe failed: {e}")),
            },
        };
        let body = resp.text();
        let is_admin = resp.is_success()
            && resp.is_html()
            && (body.contains("Django administration")
                || body.contains("Django site admin")
                || body.contains("id=\"login-form\""));
        if !is_admin {
            return CheckOutcome::passed();
        }
        vec![Finding::new(
            Confidence::Confirmed,
            url.path(),
            "The Django admin login page is served at the default /admin/ path.",
        )
        .with_evidence([resp.exchange])]
        .into()
    }
}
