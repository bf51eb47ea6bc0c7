use authprobe_core::auth::{AttemptOptions, LoginFlow};
use authprobe_core::{CheckMeta, CheckOutcome, Confidence, Family, Finding, Requirement, ScanContext, Severity};

use crate::support::owasp;

/// The parameter Django's `LoginView` (and many others) redirects to after login.
const NEXT_PARAMETER: &str = "next";

/// Off-site destinations: absolute, scheme-relative, and backslash-confused.
const DESTINATIONS: &[&str] = &[
    "https://evil.authprobe.invalid/",
    "//evil.authprobe.invalid/",
    "/\\evil.authprobe.invalid/",
];

crate::declare_check! {
    /// ## What it does
    /// Logs in through each Django form login with `?next=` (and the `next` form field)
    /// pointing off-site — an absolute URL, a scheme-relative `//host`, and a `/\host`
    /// variant — and reports a login that redirects the freshly authenticated user there.
    ///
    /// ## Why is this bad?
    /// An open redirect after login is a phishing primitive with the site's own domain in
    /// the link: the victim logs in on the real site and lands on a look-alike that asks to
    /// "re-enter the password" or harvests an OAuth code or token from the URL.
    ///
    /// ## Example
    /// ```python
    /// def login_view(request):
    ///     ...
    ///     login(request, user)
    ///     return redirect(request.GET.get("next", "/"))     # any URL
    /// ```
    ///
    /// ## Remediation
    /// Use Django's `LoginView` (it validates `next`), or validate yourself:
    /// ```python
    /// from django.utils.http import url_has_allowed_host_and_scheme
    /// nxt = request.POST.get("next") or request.GET.get("next")
    /// if not url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
    ///     nxt = settings.LOGIN_REDIRECT_URL
    /// return redirect(nxt)
    /// ```
    ///
    /// ## References
    /// - Django: `url_has_allowed_host_and_scheme` — https://docs.djangoproject.com/en/stable/ref/utils/
    /// - CWE-601: URL Redirection to Untrusted Site ('Open Redirect')
    /// - OWASP Unvalidated Redirects and Forwards Cheat Sheet
    pub struct OpenRedirect;
    meta = CheckMeta {
        code: "WEB003",
        slug: "open-redirect",
        title: "Login redirects off-site (open redirect)",
        severity: Severity::Medium,
        cwe: &[601],
        owasp: &[owasp::API8],
        requires: Requirement::LoginFlow,
        family: Family::Web,
    };
}

impl OpenRedirect {
    async fn check(&self, cx: &ScanContext) -> CheckOutcome {
        // Form logins redirect after success; the admin's takes staff accounts only.
        let forms: Vec<&LoginFlow> = cx.auth().form_logins().collect();
        if forms.is_empty() {
            return CheckOutcome::skipped("no form login flow was found");
        }
        let Some(user) = cx.credentials.first() else {
            return CheckOutcome::skipped(Requirement::LoginFlow.missing_reason());
        };
        let mut findings = Vec::new();
        'forms: for flow in forms {
            let form = &flow.url;
            for destination in DESTINATIONS {
                let options = AttemptOptions::new().with_query(NEXT_PARAMETER, destination);
                let Ok(answer) = flow
                    .attempt_with(&cx.probe, &user.username, &user.password, options)
                    .await
                else {
                    continue;
                };
                let resp = answer.response;
                let off_site = resp.is_redirect()
                    && resp
                        .location()
                        .is_some_and(|l| l.host_str() == Some("evil.authprobe.invalid"));
                if off_site {
                    findings.push(
                        Finding::new(
                            Confidence::Confirmed,
                            form.path(),
                            format!(
                                "After a successful login at {}, `next={destination}` redirected the user to {}.",
                                form.path(),
                                resp.header("location").unwrap_or("?")
                            ),
                        )
                        .with_evidence([resp.exchange]),
                    );
                    continue 'forms;
                }
            }
        }
        findings.into()
    }
}
