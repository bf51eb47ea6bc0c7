use std::time::{Duration, SystemTime};

use authprobe_core::auth::recovery::{self, ResetLink};
use authprobe_core::auth::FieldFlow;
use authprobe_core::exchange::ExchangeId;
use authprobe_core::mailbox::{Mailbox, Message};
use authprobe_core::probe::ProbeResponse;
use authprobe_core::{CheckMeta, CheckOutcome, Confidence, Family, Finding, Requirement, ScanContext, Severity};

use super::user_enumeration::account_emails;
use crate::support::owasp;

/// How long a reset e-mail may take to reach the mailbox.
const MAIL_WAIT: Duration = Duration::from_secs(10);
/// How long a later e-mail is awaited once a reset e-mail other than the one wanted came.
const LATE_MAIL_WAIT: Duration = Duration::from_secs(2);

/// A reset link valid longer than this is reported (low): an hour is enough to finish a
/// reset, and a link lives on in mail archives and forwarding rules.
const LONG_RESET_SECS: i64 = 3600;

crate::declare_check! {
    /// ## What it does
    /// Follows the password-reset flow end to end for the first test account, reading
    /// the e-mail the target sends from the scan's mailbox (`--mailbox smtp://…` runs a
    /// sink the staging app mails; `--mailbox mailpit+http://…` reads a mail catcher):
    /// - asks for a reset with a spoofed `X-Forwarded-Host`, then a spoofed `Host`, and
    ///   reports a link built from either (the token goes to the attacker's host);
    /// - reports a reset answer that itself carries the mailed token;
    /// - reports a link whose e-mail states a lifetime above one hour (low);
    /// - with `--allow-password-change`, opens the link, sets the account's *own* password
    ///   through the form it leads to (so the password never changes, even if the scan is
    ///   interrupted), and opens the link again: a link that still leads to the form was
    ///   not spent by its use.
    ///
    /// Without a mailbox only the answer itself is read, and the rest is skipped with how to
    /// give one.
    ///
    /// ## Why is this bad?
    /// The reset link is a password: whoever holds it owns the account. A link built from
    /// the request's `Host` sends the victim's token to the attacker's server the moment the
    /// victim clicks (reset poisoning); a link that works twice, or for days, turns every
    /// mail archive, forwarding rule and proxy log into a way in.
    ///
    /// ## Example
    /// ```python
    /// ALLOWED_HOSTS = ["*"]            # "the load balancer checks the host"
    /// USE_X_FORWARDED_HOST = True
    /// PASSWORD_RESET_TIMEOUT = 259200  # Django's default: three days
    ///
    /// class ResetTokens(PasswordResetTokenGenerator):
    ///     def _make_hash_value(self, user, timestamp):
    ///         return f"{user.pk}{timestamp}"   # no password hash: a used link keeps working
    /// ```
    ///
    /// ## Remediation
    /// List the real host names in `ALLOWED_HOSTS`, leave `USE_X_FORWARDED_HOST` off unless
    /// the proxy overwrites the header, or pass `domain_override` to
    /// `PasswordResetForm.save()`; keep Django's `default_token_generator` (its hash covers
    /// the password and the last login, so a link dies when used); shorten the lifetime:
    /// ```python
    /// ALLOWED_HOSTS = ["api.example.com"]
    /// PASSWORD_RESET_TIMEOUT = 3600
    /// ```
    ///
    /// ## References
    /// - CWE-640: Weak Password Recovery Mechanism for Forgotten Password
    /// - OWASP Forgot Password Cheat Sheet
    /// - Django docs: `PasswordResetView`, `ALLOWED_HOSTS`, `PASSWORD_RESET_TIMEOUT`
    pub struct WeakPasswordRecovery;
    meta = CheckMeta {
        code: "PASS002",
        slug: "weak-password-recovery",
        title: "Weak password recovery",
        severity: Severity::High,
        cwe: &[640],
        owasp: &[owasp::API2],
        requires: Requirement::Identity,
        family: Family::Authentication,
    };
    severities = [Severity::Low, Severity::High];
    sends_post = true;
    changes_account = true;
}

/// One weakness found, with its severity and proof.
struct Weakness {
    severity: Severity,
    message: String,
    evidence: Vec<ExchangeId>,
}

impl WeakPasswordRecovery {
    async fn check(&self, cx: &ScanContext) -> CheckOutcome {
        let Some(reset) = cx.flows.password_reset.first() else {
            return CheckOutcome::skipped("no password-reset flow was found or declared");
        };
        let username_email = cx
            .auth()
            .primary_account()
            .map(|a| a.username.clone())
            .filter(|u| u.contains('@') && !u.starts_with('@'));
        let Some(email) = account_emails(cx).await.into_iter().next().or(username_email) else {
            return CheckOutcome::skipped(
                "the identity endpoint named no e-mail address for the first account, and a reset is requested by e-mail",
            );
        };
        let Some(mailbox) = cx.mailbox.as_deref() else {
            return match answer_leak(cx, reset, &email).await {
                Some(w) => findings(reset, vec![w], Confidence::Firm),
                None => CheckOutcome::skipped(
                    "the reset e-mail was not read: pass --mailbox smtp://127.0.0.1:PORT (and point the staging app's SMTP at it) \
                     or --mailbox mailpit+http://HOST:8025; only the reset answer itself was checked",
                ),
            };
        };

        // The spoofed requests first, the genuine one last: a target that voids a link when
        // a newer one is issued (as it should) keeps the genuine link valid for the reuse test.
        let mut weaknesses = Vec::new();
        for header in ["X-Forwarded-Host", "Host"] {
            if let Some(w) = poisoned(cx, reset, mailbox, &email, header).await {
                weaknesses.push(w);
            }
        }
        // The genuine e-mail: the link, its token, its stated lifetime.
        let since = SystemTime::now();
        let asked = match reset.send(&cx.probe, &email, &[]).await {
            Ok(r) if r.is_success() => r,
            Ok(r) if weaknesses.is_empty() => {
                return CheckOutcome::skipped(format!(
                    "the reset request was answered {} at {}",
                    r.status,
                    reset.path()
                ))
            }
            Err(e) if weaknesses.is_empty() => return CheckOutcome::skipped(format!("the reset request failed: {e}")),
            _ => return findings(reset, weaknesses, Confidence::Confirmed),
        };
        let (message, link) = match next_reset_mail(mailbox, &email, since, |_| true).await {
            Ok(found) => found,
            Err(_) if !weaknesses.is_empty() => return findings(reset, weaknesses, Confidence::Confirmed),
            Err(MailMiss::NoLink) => {
                return CheckOutcome::skipped(format!(
                    "the e-mail {} sent after the reset request holds no link with a token",
                    reset.path()
                ))
            }
            Err(MailMiss::Nothing) => {
                return CheckOutcome::skipped(format!(
                    "no reset e-mail for the first account reached {} within {} s of the request to {}: is the target's mail sent there?",
                    mailbox.describe(),
                    MAIL_WAIT.as_secs(),
                    reset.path()
                ))
            }
        };
        if asked.text().contains(&link.token) {
            weaknesses.push(Weakness {
                severity: Severity::High,
                message: format!(
                    "the answer of {} carries the reset token it e-mails: anyone can reset any account whose address they know",
                    reset.path()
                ),
                evidence: vec![asked.exchange],
            });
        }
        if let Some(lifetime) = recovery::stated_lifetime(&message).filter(|l| *l > LONG_RESET_SECS) {
            weaknesses.push(Weakness {
                severity: Severity::Low,
                message: format!(
                    "the reset e-mail says its link is valid for {}; an hour is enough",
                    crate::session::human_duration(lifetime)
                ),
                evidence: vec![asked.exchange],
            });
        }
        let mut skipped_reuse = None;
        if cx.config.allow_password_change {
            match reused(cx, &link).await {
                Ok(Some(w)) => weaknesses.push(w),
                Ok(None) => {}
                Err(why) => skipped_reuse = Some(why),
            }
        }
        if weaknesses.is_empty() {
            if let Some(why) = skipped_reuse {
                return CheckOutcome::skipped(format!("host and lifetime checked; reuse not tested: {why}"));
            }
            return CheckOutcome::passed();
        }
        findings(reset, weaknesses, Confidence::Confirmed)
    }
}

fn findings(reset: &FieldFlow, weaknesses: Vec<Weakness>, confidence: Confidence) -> CheckOutcome {
    weaknesses
        .into_iter()
        .map(|w| {
            Finding::new(confidence, reset.path(), format!("Password recovery: {}.", w.message))
                .with_severity(w.severity)
                .with_evidence(w.evidence)
        })
        .collect::<Vec<_>>()
        .into()
}

/// Why no wanted reset e-mail was read.
enum MailMiss {
    /// Nothing came for the account.
    Nothing,
    /// Mail came, but no link in it carries a token.
    NoLink,
}

/// The next e-mail to `email` since `since` with a reset link `wanted` accepts, waiting
/// up to [`MAIL_WAIT`]. Once another e-mail has come instead (the target mailed its own
/// host, or no link), only [`LATE_MAIL_WAIT`] more: the check runs alone, so that one was
/// most likely the answer to its request.
async fn next_reset_mail(
    mailbox: &Mailbox,
    email: &str,
    mut since: SystemTime,
    wanted: impl Fn(&ResetLink) -> bool,
) -> Result<(Message, ResetLink), MailMiss> {
    let mut deadline = tokio::time::Instant::now() + MAIL_WAIT;
    let mut miss = MailMiss::Nothing;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let Some(message) = mailbox.wait_for(email, since, left).await else {
            return Err(miss);
        };
        let links = recovery::reset_links(&message);
        if let Some(link) = links.iter().find(|l| wanted(l)) {
            return Ok((message, link.clone()));
        }
        if links.is_empty() {
            miss = MailMiss::NoLink;
        }
        deadline = deadline.min(tokio::time::Instant::now() + LATE_MAIL_WAIT);
        since = message.received + Duration::from_nanos(1);
        if left.is_zero() {
            return Err(miss);
        }
    }
}

/// Asks for a reset with `header` spoofed to a host of ours and reports a mailed link
/// built from it. A target that refuses the request (Django's 400 for a host outside
/// `ALLOWED_HOSTS`) or mails its own host passes.
async fn poisoned(
    cx: &ScanContext,
    reset: &FieldFlow,
    mailbox: &Mailbox,
    email: &str,
    header: &str,
) -> Option<Weakness> {
    let spoofed = format!("authprobe-{:08x}.invalid", rand::random::<u32>());
    let since = SystemTime::now();
    let resp = reset.send(&cx.probe, email, &[(header, &spoofed)]).await.ok()?;
    if !resp.is_success() {
        return None;
    }
    let host = |link: &ResetLink| link.url.host_str().is_some_and(|h| h.eq_ignore_ascii_case(&spoofed));
    let (_, link) = next_reset_mail(mailbox, email, since, host).await.ok()?;
    Some(Weakness {
        severity: Severity::High,
        message: format!(
            "a reset requested with `{header}: {spoofed}` e-mailed a link to http(s)://{}/…: an attacker who asks for a \
             victim's reset this way receives the victim's token when the victim clicks",
            link.authority()
        ),
        evidence: vec![resp.exchange],
    })
}

/// Uses the link once (setting the account's own password, so nothing changes) and opens
/// it again. `Err` says why reuse could not be tested.
async fn reused(cx: &ScanContext, link: &ResetLink) -> Result<Option<Weakness>, String> {
    let Some(user) = cx.auth().primary_account() else {
        return Err("the first account did not come from --user".into());
    };
    // Only the target is probed: a link to a front end elsewhere (a single-page app's
    // reset page, the production site) is not followed.
    if !cx.target.same_origin(&link.url) {
        return Err(format!(
            "the mailed link points at {}, not at the scanned origin; only links on the target are followed",
            link.authority()
        ));
    }
    let first = recovery::open(&cx.probe, link).await.map_err(|e| e.to_string())?;
    let Some(form) = first.form else {
        return Err(format!(
            "the mailed link led to no set-password form (answer {})",
            first.last.status
        ));
    };
    // The oracle: a tampered token must not open the form, or "open" proves nothing.
    let tampered = recovery::open(&cx.probe, &link.tampered())
        .await
        .map_err(|e| e.to_string())?;
    if tampered.form.is_some() {
        return Err("a tampered reset token opened the set-password form too".into());
    }
    let (taken, used): (bool, ProbeResponse) = recovery::submit(&cx.probe, &cx.flows, &form, &user.password)
        .await
        .map_err(|e| e.to_string())?;
    if !taken {
        return Err(format!(
            "the set-password form refused the account's own password (answer {}); a password-history rule?",
            used.status
        ));
    }
    let again = recovery::open(&cx.probe, link).await.map_err(|e| e.to_string())?;
    if again.form.is_none() {
        return Ok(None);
    }
    let mut evidence = first.exchanges;
    evidence.push(used.exchange);
    evidence.extend(again.exchanges);
    Ok(Some(Weakness {
        severity: Severity::High,
        message: format!(
            "the reset link still opened the set-password form at {} after it had been used to set the password: \
             a link from a mail archive or a proxy log resets the password again",
            form.action.path()
        ),
        evidence,
    }))
}

/// Without a mailbox: whether the reset answer itself carries a reset token (a field
/// named for one, or a link with one).
async fn answer_leak(cx: &ScanContext, reset: &FieldFlow, email: &str) -> Option<Weakness> {
    let resp = reset.send(&cx.probe, email, &[]).await.ok()?;
    if !resp.is_success() {
        return None;
    }
    let json = resp.json()?;
    let field = recovery::token_in_answer(&json)?;
    Some(Weakness {
        severity: Severity::High,
        message: format!(
            "the answer of {} carries a reset token in `{field}`: anyone can reset any account whose address they know",
            reset.path()
        ),
        evidence: vec![resp.exchange],
    })
}
