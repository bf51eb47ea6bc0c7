use authprobe_core::{CheckMeta, CheckOutcome, Family, Requirement, ScanContext, Severity};

use super::{login_bursts, unlimited_findings};
use crate::support::owasp;

crate::declare_check! {
    /// ## What it does
    /// Sends a bounded burst (25 attempts by default, fewer when the request budget is
    /// tight) of failed logins to every endpoint that takes credentials: simplejwt and other
    /// JSON token endpoints, DRF authtoken, and Django login forms. Every attempt uses a
    /// username the scanner makes up (`authprobe-rl-…`) and a wrong password, so no real
    /// account is locked out and no real password is sent. The endpoint passes as soon as
    /// one attempt is refused by a limit: HTTP 429 or 423, a `Retry-After`, or an answer
    /// saying the account is locked or there were too many attempts. It is reported when
    /// every attempt of the burst was processed like the first.
    ///
    /// ## Why is this bad?
    /// A login endpoint without a failed-attempt limit lets an attacker guess passwords as
    /// fast as the server answers: credential stuffing with leaked password lists and
    /// password spraying across every known username succeed against any account with a
    /// reused or common password. Token endpoints are the usual gap: the Django form login
    /// got `django-axes` years ago, the JWT endpoint added later did not.
    ///
    /// ## Example
    /// ```python
    /// # urls.py: the stock simplejwt view, no throttle at all
    /// from rest_framework_simplejwt.views import TokenObtainPairView
    ///
    /// urlpatterns = [
    ///     path("api/token/", TokenObtainPairView.as_view()),
    /// ]
    /// ```
    ///
    /// ## Remediation
    /// Limit *failed* attempts per client and per username, and answer 429 with
    /// `Retry-After` (never refuse a correct password, or the limit becomes a lockout
    /// weapon). With DRF throttling on the login views:
    /// ```python
    /// from rest_framework.throttling import AnonRateThrottle
    ///
    /// class LoginThrottle(AnonRateThrottle):
    ///     scope = "login"
    ///
    /// class ThrottledTokenObtainPairView(TokenObtainPairView):
    ///     throttle_classes = [LoginThrottle]
    ///
    /// REST_FRAMEWORK = {
    ///     "DEFAULT_THROTTLE_RATES": {"login": "10/min"},
    ///     "NUM_PROXIES": 1,   # the number of trusted proxies in front of Django
    /// }
    /// ```
    /// or `django-axes` (`AXES_FAILURE_LIMIT = 10`, `AXES_LOCKOUT_PARAMETERS =
    /// [["ip_address", "username"]]`), which also covers the form login and the admin.
    ///
    /// ## References
    /// - CWE-307: Improper Restriction of Excessive Authentication Attempts
    /// - OWASP API2:2023 Broken Authentication, API4:2023 Unrestricted Resource Consumption
    /// - OWASP Authentication Cheat Sheet (protect against automated attacks) — https://cheatsheetseries.owasp.org/cheatsheets/Authentication_Cheat_Sheet.html
    /// - DRF: Throttling — https://www.django-rest-framework.org/api-guide/throttling/
    /// - django-axes — https://django-axes.readthedocs.io/
    pub struct NoLoginRateLimit;
    meta = CheckMeta {
        code: "RATE001",
        slug: "no-login-rate-limit",
        title: "No limit on failed logins",
        severity: Severity::High,
        cwe: &[307],
        owasp: &[owasp::API2, owasp::API4],
        requires: Requirement::Active,
        family: Family::RateLimiting,
    };
    sends_post = true;
    runs_last = true;
    shares = [LoginBursts];
}

impl NoLoginRateLimit {
    async fn check(&self, cx: &ScanContext) -> CheckOutcome {
        let bursts = login_bursts(cx).await;
        unlimited_findings(&bursts.0, "login endpoint that takes credentials")
    }
}
