use authprobe_core::{CheckMeta, CheckOutcome, Family, Requirement, ScanContext, Severity};

use super::{token_bursts, unlimited_findings};
use crate::support::owasp;

crate::declare_check! {
    /// ## What it does
    /// Sends a bounded burst (25 attempts by default) of invalid tokens to the simplejwt
    /// refresh, verify and blacklist endpoints, and of reset requests for a made-up address
    /// (`authprobe-rl-…@example.invalid`) to a JSON password-reset endpoint. An endpoint
    /// passes as soon as one attempt meets a limit (HTTP 429 or 423, a `Retry-After`, or a
    /// "too many attempts" answer); it is reported when every attempt was processed.
    ///
    /// ## Why is this bad?
    /// Endpoints that accept a token or an e-mail address are guessing oracles and
    /// amplifiers: an unlimited verify or refresh endpoint answers "valid" or "invalid" for
    /// as many candidate tokens as an attacker can send, and an unlimited password-reset
    /// endpoint lets anyone flood a victim's mailbox (and the mail provider's reputation of
    /// the site) or brute-force short reset codes.
    ///
    /// ## Example
    /// ```python
    /// urlpatterns = [
    ///     path("api/token/refresh/", TokenRefreshView.as_view()),   # no throttle_classes
    ///     path("api/token/verify/", TokenVerifyView.as_view()),
    ///     path("api/password/reset/", PasswordResetView.as_view()),  # sends a mail per call
    /// ]
    /// ```
    ///
    /// ## Remediation
    /// Throttle these views per client, and the reset view per address too:
    /// ```python
    /// from rest_framework.throttling import AnonRateThrottle
    ///
    /// class TokenEndpointThrottle(AnonRateThrottle):
    ///     scope = "token"
    ///
    /// class ThrottledTokenRefreshView(TokenRefreshView):
    ///     throttle_classes = [TokenEndpointThrottle]
    ///
    /// REST_FRAMEWORK = {"DEFAULT_THROTTLE_RATES": {"token": "10/min"}, "NUM_PROXIES": 1}
    /// ```
    /// Apply the same to `TokenVerifyView`, `TokenBlacklistView` and the password-reset
    /// view (dj-rest-auth's `PasswordResetView` accepts `throttle_classes` the same way).
    ///
    /// ## References
    /// - CWE-307: Improper Restriction of Excessive Authentication Attempts
    /// - OWASP API4:2023 Unrestricted Resource Consumption, API2:2023 Broken Authentication
    /// - OWASP Forgot Password Cheat Sheet — https://cheatsheetseries.owasp.org/cheatsheets/Forgot_Password_Cheat_Sheet.html
    /// - DRF: Throttling — https://www.django-rest-framework.org/api-guide/throttling/
    pub struct NoTokenEndpointRateLimit;
    meta = CheckMeta {
        code: "RATE002",
        slug: "no-token-endpoint-rate-limit",
        title: "No limit on token or password-reset endpoints",
        severity: Severity::Medium,
        cwe: &[307],
        owasp: &[owasp::API4, owasp::API2],
        requires: Requirement::Active,
        family: Family::RateLimiting,
    };
    sends_post = true;
    runs_last = true;
    shares = [TokenBursts];
}

impl NoTokenEndpointRateLimit {
    async fn check(&self, cx: &ScanContext) -> CheckOutcome {
        let bursts = token_bursts(cx).await;
        unlimited_findings(&bursts.0, "token refresh, verify, blacklist or password-reset endpoint")
    }
}
