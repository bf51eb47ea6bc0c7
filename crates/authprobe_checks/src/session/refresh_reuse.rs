use authprobe_core::oracle::Verdict;
use authprobe_core::probe::ProbeRequest;
use authprobe_core::{CheckMeta, CheckOutcome, Confidence, Family, Finding, Requirement, ScanContext, Severity};

use super::{judge, oracle};
use crate::support::owasp;

crate::declare_check! {
    /// ## What it does
    /// Logs in afresh at the simplejwt token endpoint, uses the refresh token once (the
    /// API answers with a new, rotated refresh token), then presents the **old** refresh
    /// token again. If it still mints an access token — and the differential oracle
    /// accepts that access token as the user — rotation is decorative.
    /// APIs that do not rotate refresh tokens at all are not judged here (their refresh
    /// lifetime is JWT005's concern).
    ///
    /// ## Why is this bad?
    /// Refresh-token rotation exists so that a stolen refresh token is only good until
    /// its owner's client uses it next; the reuse then fails (and can alert). When the
    /// rotated-out token is not blacklisted, an attacker who copied it once can mint
    /// access tokens for the token's whole lifetime, in parallel with the victim, and
    /// nothing ever notices.
    ///
    /// ## Example
    /// ```python
    /// SIMPLE_JWT = {
    ///     "ROTATE_REFRESH_TOKENS": True,
    ///     "BLACKLIST_AFTER_ROTATION": False,   # old refresh tokens keep working
    /// }
    /// ```
    ///
    /// ## Remediation
    /// Install simplejwt's blacklist app and blacklist rotated-out refresh tokens:
    /// ```python
    /// INSTALLED_APPS += ["rest_framework_simplejwt.token_blacklist"]
    /// SIMPLE_JWT = {
    ///     "ROTATE_REFRESH_TOKENS": True,
    ///     "BLACKLIST_AFTER_ROTATION": True,
    /// }
    /// ```
    /// Run `manage.py flushexpiredtokens` periodically to keep the tables small.
    ///
    /// ## References
    /// - CWE-613: Insufficient Session Expiration
    /// - OWASP API2:2023 Broken Authentication
    /// - simplejwt settings: `BLACKLIST_AFTER_ROTATION` — https://django-rest-framework-simplejwt.readthedocs.io/en/latest/settings.html#blacklist-after-rotation
    /// - OAuth 2.0 Security BCP, refresh token rotation — https://datatracker.ietf.org/doc/html/rfc9700#section-4.14.2
    pub struct RefreshReuse;
    meta = CheckMeta {
        code: "SESS004",
        slug: "refresh-reuse",
        title: "Rotated-out refresh token still mints access tokens",
        severity: Severity::High,
        cwe: &[613],
        owasp: &[owasp::API2],
        requires: Requirement::LoginFlow,
        family: Family::Session,
    };
}

impl RefreshReuse {
    async fn check(&self, cx: &ScanContext) -> CheckOutcome {
        let Some(user) = cx.auth().primary_account() else {
            return CheckOutcome::skipped("needs the primary identity to come from a --user login");
        };
        let Some(login) = cx.auth().token_login() else {
            return CheckOutcome::skipped("no token login flow (simplejwt, dj-rest-auth, or [flows.login]) was found");
        };
        let Some(refresh_flow) = cx.flows.refresh_for(login) else {
            return CheckOutcome::skipped(
                "no refresh flow: no refresh endpoint was found or declared in [flows.refresh]",
            );
        };
        let refresh_url = refresh_flow.url.clone();
        let Some(identity) = cx.auth().fresh_login(login, user).await else {
            return CheckOutcome::skipped(format!("the fresh login at {} failed", login.path()));
        };
        let Some(original) = identity.refresh_jwt.clone() else {
            return CheckOutcome::skipped(format!("{} issued no refresh token", login.path()));
        };
        let Some((minted, rotated_to, first)) = cx
            .auth()
            .refresh(refresh_flow, &identity, &original)
            .await
            .map(|r| (r.access, r.refresh, r.response))
        else {
            return CheckOutcome::skipped("the refresh endpoint did not answer");
        };
        if minted.is_none() {
            return CheckOutcome::skipped(format!(
                "refreshing a fresh refresh token at {} failed (HTTP {})",
                refresh_url.path(),
                first.status
            ));
        }
        let rotated = rotated_to.is_some_and(|r| r != original);
        if !rotated {
            // No rotation: reusing the refresh token is the design, not a bypass of it.
            return CheckOutcome::passed();
        }
        let Some((minted, _, reuse)) = cx
            .auth()
            .refresh(refresh_flow, &identity, &original)
            .await
            .map(|r| (r.access, r.refresh, r.response))
        else {
            return CheckOutcome::skipped("the refresh endpoint did not answer the reuse");
        };
        if reuse.status == 429 {
            return CheckOutcome::skipped("the refresh endpoint rate-limited the reuse (HTTP 429)");
        }
        let Some(minted) = minted.filter(|_| reuse.is_success()) else {
            return CheckOutcome::passed();
        };
        let (oracle_url, baseline) = match oracle(cx).await {
            Ok(o) => o,
            Err(why) => {
                return CheckOutcome::skipped(format!("the reused refresh token minted an access token, but {why}"))
            }
        };
        let Some((verdict, check)) = judge(
            cx,
            &baseline,
            identity.present(ProbeRequest::get(oracle_url.clone()), &minted),
        )
        .await
        else {
            return CheckOutcome::skipped("the oracle endpoint did not answer");
        };
        let (confidence, proof) = if verdict == Verdict::Accepted {
            (
                Confidence::Confirmed,
                format!(", which {} accepted as `{}`", oracle_url.path(), user.username),
            )
        } else {
            (Confidence::Firm, String::new())
        };
        let message = format!(
            "{} rotates refresh tokens but a rotated-out one still works: after `{}`'s refresh token had been exchanged once for a new one, presenting the old token again minted another access token{proof}. A stolen refresh token stays usable for its whole lifetime despite rotation.",
            refresh_url.path(),
            user.username
        );
        vec![Finding::new(confidence, refresh_url.path(), message).with_evidence([
            reuse.exchange,
            first.exchange,
            check.exchange,
        ])]
        .into()
    }
}
