use authprobe_core::{CheckMeta, CheckOutcome, Confidence, Family, Finding, Requirement, ScanContext, Severity};
use authprobe_jwt::Jwt;

use super::{IssuedTokens, NO_JWT};
use crate::support::owasp;

/// Longest acceptable access-token lifetime (1 hour).
pub const MAX_ACCESS_SECS: i64 = 3600;
/// Longest acceptable refresh-token lifetime (7 days).
pub const MAX_REFRESH_SECS: i64 = 7 * 86_400;

crate::declare_check! {
    /// ## What it does
    /// Decodes the access and refresh JWTs the scan's identity was issued at login (the
    /// claims only; nothing is sent) and reports an access token without an `exp` claim,
    /// an access token that lives longer than 1 hour (`exp − iat`), and a refresh token
    /// without `exp` or that lives longer than 7 days. simplejwt's defaults (5 minutes and
    /// 1 day) pass.
    ///
    /// ## Why is this bad?
    /// A JWT is valid until it expires: simplejwt does not look access tokens up, so a
    /// stolen one (from a log, a browser extension, a proxy, an XSS) works for its whole
    /// lifetime, after logout and after a password change. Without `exp` it works forever.
    /// A long-lived refresh token turns one theft into months of access, because each use
    /// mints fresh access tokens.
    ///
    /// ## Example
    /// ```python
    /// # settings.py: "users complained about being logged out"
    /// SIMPLE_JWT = {
    ///     "ACCESS_TOKEN_LIFETIME": timedelta(days=30),
    ///     "REFRESH_TOKEN_LIFETIME": timedelta(days=90),
    /// }
    ///
    /// # or a token class that drops exp "because of expired-token bugs in the app"
    /// class ApiAccessToken(AccessToken):
    ///     def set_exp(self, claim="exp", from_time=None, lifetime=None):
    ///         self.payload.pop("exp", None)
    /// ```
    ///
    /// ## Remediation
    /// Keep access tokens short-lived and let clients refresh them; rotate refresh tokens
    /// and blacklist the old ones, so a stolen refresh token dies at its first reuse:
    /// ```python
    /// INSTALLED_APPS += ["rest_framework_simplejwt.token_blacklist"]
    /// SIMPLE_JWT = {
    ///     "ACCESS_TOKEN_LIFETIME": timedelta(minutes=5),
    ///     "REFRESH_TOKEN_LIFETIME": timedelta(days=1),
    ///     "ROTATE_REFRESH_TOKENS": True,
    ///     "BLACKLIST_AFTER_ROTATION": True,
    /// }
    /// ```
    /// Never remove `exp` from a token class; fix client clock problems with simplejwt's
    /// `LEEWAY` setting (a few seconds) instead.
    ///
    /// ## References
    /// - CWE-613: Insufficient Session Expiration
    /// - OWASP API2:2023 Broken Authentication
    /// - RFC 8725: JSON Web Token Best Current Practices — https://www.rfc-editor.org/rfc/rfc8725
    /// - simplejwt settings — https://django-rest-framework-simplejwt.readthedocs.io/en/latest/settings.html
    pub struct JwtLifetime;
    meta = CheckMeta {
        code: "JWT005",
        slug: "jwt-lifetime",
        title: "JWT lifetime missing or too long",
        severity: Severity::Medium,
        cwe: &[613],
        owasp: &[owasp::API2],
        requires: Requirement::Identity,
        family: Family::Jwt,
    };
}

impl JwtLifetime {
    async fn check(&self, cx: &ScanContext) -> CheckOutcome {
        let Some(tokens) = IssuedTokens::of_primary(cx) else {
            return CheckOutcome::skipped(NO_JWT);
        };
        let problems = lifetime_problems(tokens.access.as_ref(), tokens.refresh.as_ref(), now());
        let source = tokens.source(cx);
        let provenance = tokens.provenance(cx);
        problems
            .into_iter()
            .map(|p| {
                Finding::new(Confidence::Confirmed, source.clone(), p.message(&provenance))
                    .with_evidence(tokens.evidence())
            })
            .collect::<Vec<_>>()
            .into()
    }
}

/// Which of the two simplejwt tokens a problem is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Access,
    Refresh,
}

impl TokenKind {
    fn name(self) -> &'static str {
        match self {
            TokenKind::Access => "access",
            TokenKind::Refresh => "refresh",
        }
    }
}

/// One lifetime weakness of one token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LifetimeProblem {
    /// The token has no `exp` claim: it never expires.
    NoExpiry(TokenKind),
    /// The token lives `secs` seconds, more than `max`.
    TooLong { kind: TokenKind, secs: i64, max: i64 },
}

impl LifetimeProblem {
    fn message(&self, provenance: &str) -> String {
        match self {
            LifetimeProblem::NoExpiry(kind) => format!(
                "The {} JWT {provenance} has no `exp` claim, so nothing in it ever expires: unless the server tracks every token itself, a stolen one works forever.",
                kind.name()
            ),
            LifetimeProblem::TooLong { kind, secs, max } => format!(
                "The {} JWT {provenance} is valid for {} (exp − iat), longer than the recommended maximum of {}.",
                kind.name(),
                human_duration(*secs),
                human_duration(*max)
            ),
        }
    }
}

/// The lifetime weaknesses of an access and a refresh token (`now` stands in for a
/// missing `iat`).
pub fn lifetime_problems(access: Option<&Jwt>, refresh: Option<&Jwt>, now: i64) -> Vec<LifetimeProblem> {
    let mut out = Vec::new();
    for (kind, token, max) in [
        (TokenKind::Access, access, MAX_ACCESS_SECS),
        (TokenKind::Refresh, refresh, MAX_REFRESH_SECS),
    ] {
        let Some(token) = token else { continue };
        match token.lifetime_secs(now) {
            None => out.push(LifetimeProblem::NoExpiry(kind)),
            Some(secs) if secs > max => out.push(LifetimeProblem::TooLong { kind, secs, max }),
            Some(_) => {}
        }
    }
    out
}

/// A duration in the two largest non-zero units: `30 days`, `1 hour 30 minutes`, `5 minutes`.
pub fn human_duration(secs: i64) -> String {
    let units = [("day", 86_400), ("hour", 3600), ("minute", 60), ("second", 1)];
    let mut rest = secs.max(0);
    let mut parts = Vec::new();
    for (name, size) in units {
        let n = rest / size;
        rest %= size;
        if n > 0 && parts.len() < 2 {
            parts.push(format!("{n} {name}{}", if n == 1 { "" } else { "s" }));
        } else if !parts.is_empty() {
            // Only adjacent units: "1 day 5 seconds" reads like noise.
            break;
        }
    }
    if parts.is_empty() {
        "0 seconds".to_string()
    } else {
        parts.join(" ")
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    use crate::jwt::test_jwt as jwt;

    const IAT: i64 = 1_700_000_000;

    fn token(kind: &str, lifetime: i64) -> Jwt {
        jwt(json!({"token_type": kind, "iat": IAT, "exp": IAT + lifetime, "jti": "x", "user_id": 1}))
    }

    #[test]
    fn simplejwt_defaults_pass() {
        let access = token("access", 300);
        let refresh = token("refresh", 86_400);
        assert_eq!(lifetime_problems(Some(&access), Some(&refresh), IAT), vec![]);
    }

    #[test]
    fn exactly_one_hour_and_seven_days_are_still_acceptable() {
        let access = token("access", MAX_ACCESS_SECS);
        let refresh = token("refresh", MAX_REFRESH_SECS);
        assert!(lifetime_problems(Some(&access), Some(&refresh), IAT).is_empty());
    }

    #[test]
    fn an_access_token_without_exp_never_expires() {
        let access = jwt(json!({"token_type": "access", "iat": IAT, "user_id": 1}));
        let refresh = token("refresh", 86_400);
        assert_eq!(
            lifetime_problems(Some(&access), Some(&refresh), IAT),
            vec![LifetimeProblem::NoExpiry(TokenKind::Access)]
        );
    }

    #[test]
    fn long_lifetimes_are_reported_once_per_token() {
        let access = token("access", 30 * 86_400);
        let refresh = token("refresh", 90 * 86_400);
        let problems = lifetime_problems(Some(&access), Some(&refresh), IAT);
        assert_eq!(
            problems,
            vec![
                LifetimeProblem::TooLong {
                    kind: TokenKind::Access,
                    secs: 30 * 86_400,
                    max: MAX_ACCESS_SECS
                },
                LifetimeProblem::TooLong {
                    kind: TokenKind::Refresh,
                    secs: 90 * 86_400,
                    max: MAX_REFRESH_SECS
                },
            ]
        );
        let msg = problems[0].message("issued by /api/token/");
        assert!(
            msg.contains("30 days") && msg.contains("1 hour") && msg.contains("access"),
            "{msg}"
        );
    }

    #[test]
    fn a_missing_iat_counts_from_now() {
        let access = jwt(json!({"exp": IAT + 7200}));
        assert_eq!(
            lifetime_problems(Some(&access), None, IAT),
            vec![LifetimeProblem::TooLong {
                kind: TokenKind::Access,
                secs: 7200,
                max: MAX_ACCESS_SECS
            }]
        );
        assert!(lifetime_problems(Some(&access), None, IAT + 5000).is_empty());
    }

    #[test]
    fn durations_read_like_a_human_wrote_them() {
        assert_eq!(human_duration(300), "5 minutes");
        assert_eq!(human_duration(3600), "1 hour");
        assert_eq!(human_duration(5400), "1 hour 30 minutes");
        assert_eq!(human_duration(30 * 86_400), "30 days");
        assert_eq!(human_duration(86_400 + 5), "1 day");
        assert_eq!(human_duration(0), "0 seconds");
    }
}
