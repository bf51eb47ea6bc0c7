use authprobe_core::auth::vocab::CSRF_FORM_FIELD;
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
        let is_admin = resp.is_success() && resp.is_html() && is_django_admin_login(&resp.text());
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

/// Whether an HTML page is Django's admin login: its stock header or title ("Django
/// administration", "Django site admin"), or, with a renamed `site_header`, Django's CSRF
/// form field together with the admin's own markup (the login form's `id="login-form"`,
/// the admin's stylesheets under `admin/css/`). A form id alone is any template's: hand-
/// written and Bootstrap sign-in pages use `login-form` too.
fn is_django_admin_login(body: &str) -> bool {
    let stock = body.contains("Django administration") || body.contains("Django site admin");
    let django_form = body.contains(CSRF_FORM_FIELD);
    let admin_markup = body.contains("id=\"login-form\"") || body.contains("admin/css/");
    stock || (django_form && admin_markup)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Django 5's admin login page, trimmed.
    const DJANGO_ADMIN: &str = r#"<!DOCTYPE html><html lang="en-us" dir="ltr"><head><title>Log in | Django site admin</title><link rel="stylesheet" href="/static/admin/css/base.css"><link rel="stylesheet" href="/static/admin/css/login.css"></head><body class=" login"><div id="header"><div id="branding"><div id="site-name"><a href="/admin/">Django administration</a></div></div></div><div id="content-main"><form action="/admin/login/?next=/admin/" method="post" id="login-form"><input type="hidden" name="csrfmiddlewaretoken" value="k2V"><input type="text" name="username" id="id_username"><input type="password" name="password" id="id_password"><input type="submit" value="Log in"></form></div></body></html>"#;

    #[test]
    fn djangos_admin_is_recognised_with_its_stock_or_a_renamed_header() {
        assert!(is_django_admin_login(DJANGO_ADMIN));
        // `admin.site.site_header = "Acme staff"`, `site_title = "Acme"`.
        let renamed = DJANGO_ADMIN
            .replace("Django site admin", "Acme")
            .replace("Django administration", "Acme staff");
        assert!(is_django_admin_login(&renamed));
        let without_static = renamed.replace("/static/admin/css/", "/s/");
        assert!(is_django_admin_login(&without_static), "the CSRF field and the form id");
    }

    #[test]
    fn another_stacks_sign_in_with_a_login_form_id_is_not_djangos_admin() {
        // Express/EJS, Bootstrap's sign-in template, Rails: `id="login-form"` is common.
        let express = r#"<html><head><title>Shop admin · Sign in</title><link rel="stylesheet" href="/admin/css/app.css"></head><body><form id="login-form" action="/admin/login/" method="post"><input type="hidden" name="_csrf" value="x"><input name="email"><input name="password" type="password"></form></body></html>"#;
        assert!(!is_django_admin_login(express));
        let rails = r#"<form id="login-form" action="/admin/login" method="post"><input type="hidden" name="authenticity_token" value="x"></form>"#;
        assert!(!is_django_admin_login(rails));
        // A Django site's own (non-admin) login form: the CSRF field without the admin's markup.
        let django_site = r#"<form action="/accounts/login/" method="post" class="signin"><input type="hidden" name="csrfmiddlewaretoken" value="x"></form>"#;
        assert!(!is_django_admin_login(django_site));
    }
}
