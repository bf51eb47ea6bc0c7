use authprobe_core::auth::identity::Identity;
use authprobe_core::auth::{LoginFlow, PasswordChangeFlow};
use authprobe_core::config::UserCredential;
use authprobe_core::oracle::Verdict;
use authprobe_core::probe::ProbeRequest;
use authprobe_core::{CheckMeta, CheckOutcome, Confidence, Family, Finding, Requirement, ScanContext, Severity};
use authprobe_jwt::Jwt;

use super::{human_duration, judge, oracle};
use crate::support::owasp;

/// Password-change endpoints tried at most (a guessed one may not exist).
const MAX_CHANGE_FLOWS: usize = 3;

/// An access token that outlives the change by more than this is reported (medium).
const LONG_ACCESS_SECS: i64 = 3600;

crate::declare_check! {
    /// ## What it does
    /// Opt-in (`--allow-password-change`, test accounts only): logs the first account in
    /// afresh, changes its password through the API's password-change endpoint, then
    /// replays the credentials issued *before* the change — the refresh token at the refresh
    /// endpoint and the access token at a protected endpoint — and judges them with the
    /// differential oracle. Finally it changes the password back (logging in with the new
    /// one if the old tokens were revoked). A refresh token that still mints access tokens
    /// is high; an access token with more than an hour left is medium.
    ///
    /// ## Why is this bad?
    /// Changing the password is what users do when they suspect an account is compromised.
    /// If tokens and sessions issued before the change keep working, the attacker who stole
    /// them keeps access (refresh tokens for days), and the user believes the problem fixed.
    ///
    /// ## Example
    /// ```python
    /// class PasswordChangeView(APIView):
    ///     def post(self, request):
    ///         request.user.set_password(request.data["new_password"])
    ///         request.user.save()
    ///         update_session_auth_hash(request, request.user)   # "don't log them out everywhere"
    ///         return Response({"detail": "Password changed."})  # every JWT stays valid
    /// ```
    ///
    /// ## Remediation
    /// Revoke everything issued before the change: blacklist the user's outstanding refresh
    /// tokens, rotate DRF keys, and drop other sessions; reject access tokens older than the
    /// change with a per-user generation claim:
    /// ```python
    /// from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
    /// for t in OutstandingToken.objects.filter(user=user):
    ///     BlacklistedToken.objects.get_or_create(token=t)
    /// Token.objects.filter(user=user).delete()
    /// user.profile.token_generation += 1; user.profile.save()   # checked in a custom JWTAuthentication
    /// ```
    ///
    /// ## References
    /// - OWASP ASVS 3.3.3 / 3.3.4 (sessions after credential change)
    /// - CWE-613: Insufficient Session Expiration
    /// - OWASP API2:2023 Broken Authentication
    pub struct PasswordChangeNotRevoking;
    meta = CheckMeta {
        code: "SESS005",
        slug: "password-change-not-revoking",
        title: "Tokens survive a password change",
        severity: Severity::High,
        cwe: &[613],
        owasp: &[owasp::API2],
        requires: Requirement::LoginFlow,
        family: Family::Session,
    };
    severities = [Severity::Medium, Severity::High];
    sends_post = true;
    changes_account = true;
}

impl PasswordChangeNotRevoking {
    async fn check(&self, cx: &ScanContext) -> CheckOutcome {
        if !cx.config.allow_password_change {
            return CheckOutcome::skipped(
                "opt-in: pass --allow-password-change to let authprobe change the first test account's password (it changes it back)",
            );
        }
        let Some(user) = cx.auth().primary_account().cloned() else {
            return CheckOutcome::skipped("needs the primary identity to come from a --user login");
        };
        let Some(login) = cx.auth().token_login() else {
            return CheckOutcome::skipped("no token login flow to obtain tokens before the change");
        };
        let changes = cx.flows.password_changes_for(login);
        if changes.is_empty() {
            return CheckOutcome::skipped(
                "no password-change flow: none was found or declared in [flows.password_change]",
            );
        }
        let (oracle_url, baseline) = match oracle(cx).await {
            Ok(o) => o,
            Err(why) => return CheckOutcome::skipped(why),
        };
        let Some(before) = cx.auth().fresh_login(login, &user).await else {
            return CheckOutcome::skipped("the fresh login before the password change failed");
        };
        let (Some(scheme), Some(token)) = (before.scheme(), before.token().map(str::to_string)) else {
            return CheckOutcome::skipped("the login issued no token");
        };
        let new_password = format!("Authprobe-{:016x}-Pw!", rand::random::<u64>());
        cx.redactor.add_secret(&new_password);
        let mut changed_at = None;
        for change in changes.iter().take(MAX_CHANGE_FLOWS) {
            // Answered even if a Ctrl-C comes meanwhile: a change made must be known to be undone.
            let resp =
                authprobe_core::probe::restoring(change.change(&cx.probe, &before, &user.password, &new_password))
                    .await;
            if resp.is_ok_and(|r| r.is_success()) {
                changed_at = Some(*change);
                break;
            }
        }
        let Some(change) = changed_at else {
            let tried: Vec<&str> = changes.iter().take(MAX_CHANGE_FLOWS).map(|c| c.path()).collect();
            return CheckOutcome::skipped(format!("the password change was refused at {}", tried.join(", ")));
        };

        // Replay what was issued before the change.
        let mut high = Vec::new();
        let mut evidence = Vec::new();
        if let (Some(refresh), Some(flow)) = (&before.refresh_jwt, cx.flows.refresh_for(login)) {
            if let Some((Some(minted), _, resp)) = cx
                .auth()
                .refresh(flow, &before, refresh)
                .await
                .map(|r| (r.access, r.refresh, r.response))
            {
                if let Some((Verdict::Accepted, ok)) = judge(
                    cx,
                    &baseline,
                    before.present(ProbeRequest::get(oracle_url.clone()), &minted),
                )
                .await
                {
                    high.push(format!(
                        "the refresh token issued before the change still minted an access token at {}",
                        flow.path()
                    ));
                    evidence.extend([resp.exchange, ok.exchange]);
                }
            }
        }
        let mut access_left = None;
        let replay = ProbeRequest::get(oracle_url.clone()).header("Authorization", format!("{scheme} {token}"));
        if let Some((Verdict::Accepted, resp)) = judge(cx, &baseline, replay).await {
            evidence.push(resp.exchange);
            if before.access_jwt.as_deref() == Some(token.as_str()) {
                let now = time::OffsetDateTime::now_utc().unix_timestamp();
                access_left = Some(
                    Jwt::parse(&token)
                        .ok()
                        .and_then(|j| j.numeric_claim("exp"))
                        .map(|e| e.saturating_sub(now)),
                );
            } else {
                high.push("the API token issued before the change was still accepted".to_string());
            }
        }

        let restored = restore(cx, login, change, &user, &new_password, &before).await;
        let mut parts = high.clone();
        let severity = match (high.is_empty(), access_left) {
            (false, _) => Severity::High,
            (true, Some(None)) => Severity::High,
            (true, Some(Some(left))) if left > LONG_ACCESS_SECS => Severity::Medium,
            _ => {
                if !restored {
                    return CheckOutcome::skipped(format!(
                        "authprobe could not change `{}`'s password back after the test; reset it by hand",
                        user.username
                    ));
                }
                return CheckOutcome::passed();
            }
        };
        match access_left {
            Some(Some(left)) => parts.push(format!(
                "the access token was still accepted ({} left until its `exp`)",
                human_duration(left.max(0))
            )),
            Some(None) => parts.push("the access token, which has no `exp`, was still accepted".into()),
            None => {}
        }
        let mut message = format!(
            "After `{}` changed the password at {}, {}: credentials stolen before the change keep working.",
            user.username,
            change.path(),
            parts.join("; ")
        );
        if !restored {
            message.push_str(" authprobe could not change the password back; reset it by hand.");
        }
        vec![Finding::new(Confidence::Confirmed, change.path(), message)
            .with_severity(severity)
            .with_evidence(evidence)]
        .into()
    }
}

/// Changes the password back, with a fresh login under the new password (the old token
/// may have been revoked, as it should be), else the old credential. Its requests are sent
/// even when the scan was interrupted meanwhile ([`authprobe_core::probe::restoring`]).
pub(crate) async fn restore(
    cx: &ScanContext,
    login: &LoginFlow,
    change: &PasswordChangeFlow,
    user: &UserCredential,
    new_password: &str,
    before: &Identity,
) -> bool {
    let interim = UserCredential {
        username: user.username.clone(),
        password: new_password.to_string(),
    };
    // Sent even after a Ctrl-C: the account must not be left with the test's password.
    authprobe_core::probe::restoring(async {
        let identity = cx.auth().fresh_login(login, &interim).await;
        let identity = identity.as_ref().unwrap_or(before);
        change
            .change(&cx.probe, identity, new_password, &user.password)
            .await
            .is_ok_and(|r| r.is_success())
    })
    .await
}
