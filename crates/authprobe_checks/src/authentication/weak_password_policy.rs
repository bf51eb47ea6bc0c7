use authprobe_core::auth::policy::{self, MIN_PASSWORD_LEN};
use authprobe_core::{CheckMeta, CheckOutcome, Confidence, Family, Finding, Requirement, ScanContext, Severity};

use super::user_enumeration::account_emails;
use crate::session::password_change_not_revoking::restore;
use crate::support::owasp;

/// Password-change endpoints tried at most (a guessed one may not exist).
const MAX_CHANGE_FLOWS: usize = 3;

crate::declare_check! {
    /// ## What it does
    /// Passive: reads the spec's operations that set a password (sign-up, password change,
    /// reset confirmation) and reports a password field whose `minLength` is below 8 (low).
    ///
    /// Active, opt-in (`--allow-password-change`, test accounts only): changes the first
    /// account's password through the API's password-change flow to weak ones — one
    /// character, `password`, `12345678`, the username, the e-mail address — and reports
    /// each the API accepts (medium). After every accepted one it changes the password back
    /// at once (logging in with the weak one if the change revoked the old credentials).
    ///
    /// ## Why is this bad?
    /// Credential stuffing and password spraying try exactly these passwords first; an API
    /// that lets users choose them hands those accounts to the first attacker who tries.
    ///
    /// ## Example
    /// ```python
    /// AUTH_PASSWORD_VALIDATORS = []   # "validators annoy our users"
    ///
    /// class PasswordChangeView(APIView):
    ///     def post(self, request):
    ///         request.user.set_password(request.data["new_password"])   # no validate_password()
    /// ```
    ///
    /// ## Remediation
    /// Turn Django's validators on and run them wherever a password is set (serializers do
    /// not call them by themselves):
    /// ```python
    /// AUTH_PASSWORD_VALIDATORS = [
    ///     {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    ///     {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    ///     {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    ///     {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    /// ]
    /// password_validation.validate_password(new_password, user)
    /// ```
    /// and declare the floor in the schema (`serializers.CharField(min_length=8)`).
    ///
    /// ## References
    /// - CWE-521: Weak Password Requirements
    /// - NIST SP 800-63B §5.1.1.2 (memorised secrets: at least 8 characters, block-lists)
    /// - OWASP ASVS 2.1 (password security)
    pub struct WeakPasswordPolicy;
    meta = CheckMeta {
        code: "PASS001",
        slug: "weak-password-policy",
        title: "Weak password policy",
        severity: Severity::Medium,
        cwe: &[521],
        owasp: &[owasp::API2],
        requires: Requirement::Active,
        family: Family::Authentication,
    };
    severities = [Severity::Low, Severity::Medium];
    sends_post = true;
    changes_account = true;
}

impl WeakPasswordPolicy {
    async fn check(&self, cx: &ScanContext) -> CheckOutcome {
        let declared = declared_passwords(cx);
        // The passive part tested something only if the spec states a length somewhere.
        let lengths_declared = declared.iter().any(|d| d.min_length.is_some());
        let mut findings = short_declared(&declared);
        match accepted_weak(cx).await {
            Ok(Some(f)) => findings.push(f),
            Ok(None) => {}
            Err(why) if findings.is_empty() && !lengths_declared => {
                return CheckOutcome::skipped(format!("{why}; the spec declares no password length either"))
            }
            Err(_) => {}
        }
        findings.into()
    }
}

/// The spec's password fields of operations that set one.
fn declared_passwords(cx: &ScanContext) -> Vec<policy::DeclaredPassword> {
    match &cx.spec {
        Some(api) => policy::declared_new_passwords(api, &cx.flows),
        None => Vec::new(),
    }
}

/// The declared password fields shorter than 8, each a finding (low).
fn short_declared(declared: &[policy::DeclaredPassword]) -> Vec<Finding> {
    declared
        .iter()
        .filter(|d| d.min_length.is_some_and(|m| m < MIN_PASSWORD_LEN))
        .map(|d| {
            Finding::new(
                Confidence::Firm,
                d.path.clone(),
                format!(
                    "The spec lets `{} {}` set a password `{}` of {} character(s) (minLength {}); at least {} is the floor.",
                    d.method,
                    d.path,
                    d.field,
                    d.min_length.unwrap_or_default(),
                    d.min_length.unwrap_or_default(),
                    MIN_PASSWORD_LEN
                ),
            )
        .with_severity(Severity::Low)
        })
        .collect()
}

/// Tries the weak passwords through the password change; `Err` says why it could not.
async fn accepted_weak(cx: &ScanContext) -> Result<Option<Finding>, String> {
    if !cx.config.allow_password_change {
        return Err("opt-in: pass --allow-password-change to let authprobe try weak passwords on the first test account (it changes each back)".into());
    }
    let user = cx
        .auth()
        .primary_account()
        .cloned()
        .ok_or("needs the primary identity to come from a --user login")?;
    let login = cx
        .auth()
        .token_login()
        .ok_or("no token login flow to change the password through")?;
    let changes = cx.flows.password_changes_for(login);
    if changes.is_empty() {
        return Err("no password-change flow: none was found or declared in [flows.password_change]".into());
    }
    let email = account_emails(cx).await.into_iter().next();
    let mut accepted = Vec::new();
    let mut evidence = Vec::new();
    let mut at = None;
    let mut unrestored = false;
    for (weak, why) in policy::weak_candidates(&user.username, email.as_deref()) {
        let Some(before) = cx.auth().fresh_login(login, &user).await else {
            break;
        };
        for change in changes.iter().take(MAX_CHANGE_FLOWS) {
            // The change and its undoing are one unit a Ctrl-C does not cut: a change in
            // flight is answered, and an accepted one is changed back.
            let outcome = authprobe_core::probe::restoring(async {
                let resp = change.change(&cx.probe, &before, &user.password, &weak).await.ok()?;
                let restored = resp.is_success() && restore(cx, login, change, &user, &weak, &before).await;
                Some((resp, restored))
            })
            .await;
            let Some((resp, restored)) = outcome else {
                continue;
            };
            if resp.status == 404 || resp.status == 405 {
                continue;
            }
            if resp.is_success() {
                accepted.push(format!("`{weak}` ({why})"));
                evidence.push(resp.exchange);
                at = Some(*change);
                unrestored |= !restored;
            }
            break;
        }
        if unrestored {
            break;
        }
    }
    let Some(change) = at else {
        return Ok(None);
    };
    let mut message = format!(
        "The password change at {} accepted {} for `{}`: the API sets passwords that spraying tries first.",
        change.path(),
        accepted.join(", "),
        user.username
    );
    if unrestored {
        message.push_str(" authprobe could not change the password back; reset it by hand.");
    }
    Ok(Some(
        Finding::new(Confidence::Confirmed, change.path(), message)
            .with_severity(Severity::Medium)
            .with_evidence(evidence),
    ))
}
