//! Rate-limiting checks: bounded bursts of failed attempts against login, token and
//! password-reset endpoints, and whether a limit, once met, is lifted by a spoofed client
//! address.
//!
//! The bursts are sent once per scan and shared: RATE001 reads the login bursts, RATE002
//! the token-endpoint bursts, RATE003 both (it continues where a burst met a limit). Every
//! burst uses a scanner-made subject (`authprobe-rl-…` username or e-mail address) and a
//! scanner-made secret, so no real account is ever locked out and no real password is sent.

pub mod no_login_rate_limit;
pub mod no_token_endpoint_rate_limit;
pub mod rate_limit_bypass;

use authprobe_core::auth::{AttemptOptions, BodyEncoding, FieldFlow, LoginFlow, LogoutFlow, LogoutScope, RefreshFlow};
use authprobe_core::Shared;
use authprobe_core::{ExchangeId, ProbeError, ProbeResponse, ScanContext};
use futures::future::join_all;
use std::sync::Arc;
use std::time::{Duration, Instant};
use url::Url;

/// Failed attempts per endpoint in one burst (the issue's bound is 40).
pub const BURST: usize = 25;
/// A burst smaller than this proves too little; the check is skipped instead.
pub const MIN_BURST: usize = 15;
/// Requests kept back from the budget for the checks that run alongside the bursts.
const BUDGET_RESERVE: usize = 40;

/// What an endpoint takes, and so how an attempt against it is shaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Surface {
    /// A JSON or password-grant login (its flow's field names).
    JsonLogin,
    /// An HTML form login with its CSRF cookie and field.
    FormLogin,
    /// A refresh endpoint: an invalid refresh token.
    Refresh,
    /// A token verify endpoint: an invalid token.
    Verify,
    /// A blacklist endpoint: an invalid refresh token.
    Blacklist,
    /// A password-reset request: a scanner-made address.
    PasswordReset,
}

/// The flow an attempt goes through: POST goes only where a flow is.
#[derive(Debug, Clone)]
pub(crate) enum Via {
    Login(LoginFlow),
    /// A refresh flow, and the cookie the scan's refresh tokens are held in, if they are.
    Refresh(RefreshFlow, Option<String>),
    Verify(FieldFlow),
    Blacklist(LogoutFlow),
    Reset(FieldFlow),
}

impl Via {
    pub fn url(&self) -> &Url {
        match self {
            Via::Login(f) => &f.url,
            Via::Refresh(f, _) => &f.url,
            Via::Verify(f) | Via::Reset(f) => &f.url,
            Via::Blacklist(f) => &f.url,
        }
    }

    pub fn surface(&self) -> Surface {
        match self {
            Via::Login(f) if f.takes_form() => Surface::FormLogin,
            Via::Login(_) => Surface::JsonLogin,
            Via::Refresh(..) => Surface::Refresh,
            Via::Verify(_) => Surface::Verify,
            Via::Blacklist(_) => Surface::Blacklist,
            Via::Reset(_) => Surface::PasswordReset,
        }
    }
}

impl Surface {
    pub fn noun(self) -> &'static str {
        match self {
            Surface::JsonLogin | Surface::FormLogin => "failed logins",
            Surface::Refresh => "invalid refresh tokens",
            Surface::Verify => "invalid tokens to verify",
            Surface::Blacklist => "invalid tokens to blacklist",
            Surface::PasswordReset => "password-reset requests",
        }
    }

    /// What an unlimited endpoint of this kind allows.
    pub fn risk(self) -> &'static str {
        match self {
            Surface::JsonLogin | Surface::FormLogin => "passwords can be guessed as fast as the server answers",
            Surface::Refresh | Surface::Verify | Surface::Blacklist => {
                "tokens can be guessed or replayed as fast as the server answers"
            }
            Surface::PasswordReset => "anyone can flood a user's mailbox with reset mails",
        }
    }
}

/// One endpoint, ready to receive attempts (a form login has fetched its CSRF token).
#[derive(Debug, Clone)]
pub(crate) struct Attempt {
    pub url: Url,
    pub surface: Surface,
    via: Via,
    options: AttemptOptions,
}

impl Attempt {
    /// Prepares an endpoint for a run of attempts.
    pub async fn prepare(cx: &ScanContext, via: &Via) -> Result<Attempt, String> {
        let options = match via {
            Via::Login(flow) => flow
                .prepare_attempts(&cx.probe)
                .await
                .map_err(|e| format!("the login form did not load: {e}"))?,
            _ => AttemptOptions::new(),
        };
        Ok(Attempt::unprepared(via, options))
    }

    fn unprepared(via: &Via, options: AttemptOptions) -> Attempt {
        Attempt {
            url: via.url().clone(),
            surface: via.surface(),
            via: via.clone(),
            options,
        }
    }

    /// Sends one attempt: `subject` is the username or e-mail address, `secret` the
    /// password or token; `xff` a spoofed `X-Forwarded-For`.
    pub async fn send(
        &self,
        cx: &ScanContext,
        subject: &str,
        secret: &str,
        xff: Option<&str>,
    ) -> Result<ProbeResponse, ProbeError> {
        let req = match &self.via {
            Via::Login(flow) => {
                let mut options = self.options.clone().measuring_throttle();
                if let Some(ip) = xff {
                    options = options.with_header("X-Forwarded-For", ip);
                }
                return flow
                    .attempt_with(&cx.probe, subject, secret, options)
                    .await
                    .map(|a| a.response);
            }
            Via::Refresh(flow, cookie) => flow.refresh_request_held(secret, cookie.as_deref()),
            Via::Verify(flow) => flow.request(secret),
            Via::Blacklist(flow) => flow.refresh_only_request(secret),
            Via::Reset(flow) => {
                let headers: Vec<(&str, &str)> = xff.map(|ip| ("X-Forwarded-For", ip)).into_iter().collect();
                return flow.send(&cx.probe, subject, &headers).await;
            }
        };
        let req = match xff {
            Some(ip) => req.header("X-Forwarded-For", ip),
            None => req,
        };
        cx.probe.send(req.measuring_throttle()).await
    }
}

/// Phrases with which lockouts and throttles announce themselves in a body.
const LIMIT_PHRASES: &[&str] = &[
    "too many",
    "locked",
    "lockout",
    "rate limit",
    "ratelimit",
    "throttled",
    "try again later",
    "temporarily blocked",
];

/// Whether `resp` says the attempt was refused by a limit: HTTP 429 or 423, a
/// `Retry-After` on a failure, or a lockout phrase that the burst's first answer did not
/// already contain. Returns what gave it away.
pub(crate) fn limit_signal(resp: &ProbeResponse, first: Option<&ProbeResponse>) -> Option<String> {
    match resp.status {
        429 => return Some("HTTP 429".into()),
        423 => return Some("HTTP 423 Locked".into()),
        _ => {}
    }
    if !resp.is_success() && resp.header("retry-after").is_some() {
        return Some(format!("HTTP {} with Retry-After", resp.status));
    }
    let body = resp.text().to_ascii_lowercase();
    let before = first.map(|f| f.text().to_ascii_lowercase()).unwrap_or_default();
    LIMIT_PHRASES
        .iter()
        .find(|p| body.contains(**p) && !before.contains(**p))
        .map(|p| format!("HTTP {} saying \"{p}\"", resp.status))
}

/// Whether a response is an ordinary, processed failure (not a limit, not a server error).
pub(crate) fn processed(resp: &ProbeResponse, first: Option<&ProbeResponse>) -> bool {
    resp.status < 500 && limit_signal(resp, first).is_none()
}

/// How a burst ended.
#[derive(Debug, Clone)]
pub(crate) enum Outcome {
    /// A limit answered after `after` attempts.
    Limited {
        after: usize,
        signal: String,
        exchange: ExchangeId,
        /// The first answer, when it was an ordinary processed failure.
        processed_first: Option<Box<ProbeResponse>>,
    },
    /// Every attempt was processed like the first one.
    Unlimited {
        attempts: usize,
        status: u16,
        elapsed: Duration,
        first: ExchangeId,
        last: ExchangeId,
    },
    /// The burst proves nothing (errors, server failures, budget).
    Inconclusive(String),
}

/// One endpoint's burst.
#[derive(Debug, Clone)]
pub(crate) struct Burst {
    pub attempt: Attempt,
    /// The scanner-made username or e-mail address of the burst.
    pub subject: String,
    /// The scanner-made password or token of the burst.
    pub secret: String,
    pub outcome: Outcome,
}

impl Burst {
    pub fn path(&self) -> &str {
        self.attempt.url.path()
    }
}

/// A fresh scanner-made marker: `authprobe-rl-1a2b3c4d`.
pub(crate) fn scanner_name(kind: &str) -> String {
    format!("authprobe-{kind}-{:08x}", rand::random::<u32>())
}

/// Sends up to `size` failed attempts to one endpoint, stopping at the first limit.
pub(crate) async fn burst(cx: &ScanContext, via: &Via, size: usize) -> Burst {
    let surface = via.surface();
    let name = scanner_name("rl");
    let takes_email = matches!(via, Via::Reset(flow) if flow.spec.takes_email());
    let subject = if takes_email {
        format!("{name}@example.invalid")
    } else {
        name
    };
    let secret = scanner_name("wrong");
    let attempt = match Attempt::prepare(cx, via).await {
        Ok(a) => a,
        Err(why) => {
            return Burst {
                attempt: Attempt::unprepared(via, AttemptOptions::new()),
                subject,
                secret,
                outcome: Outcome::Inconclusive(why),
            }
        }
    };
    let started = Instant::now();
    let mut first: Option<ProbeResponse> = None;
    let mut last = None;
    let mut outcome = None;
    for n in 1..=size {
        let resp = match attempt.send(cx, &subject, &secret, None).await {
            Ok(r) => r,
            Err(e) => {
                outcome = Some(Outcome::Inconclusive(format!("attempt {n} failed: {e}")));
                break;
            }
        };
        if let Some(signal) = limit_signal(&resp, first.as_ref()) {
            outcome = Some(Outcome::Limited {
                after: n - 1,
                signal,
                exchange: resp.exchange,
                processed_first: first.take().filter(|f| processed(f, None)).map(Box::new),
            });
            break;
        }
        if resp.status >= 500 {
            outcome = Some(Outcome::Inconclusive(format!("attempt {n} got HTTP {}", resp.status)));
            break;
        }
        match &first {
            None => first = Some(resp.clone()),
            Some(f) if f.status != resp.status => {
                outcome = Some(Outcome::Inconclusive(format!(
                    "the answers changed from HTTP {} to HTTP {} without a recognisable limit",
                    f.status, resp.status
                )));
                break;
            }
            Some(_) => {}
        }
        last = Some(resp.exchange);
    }
    let outcome =
        outcome.unwrap_or_else(|| match (first, last) {
            // Answers that refuse the request's shape never reached the check being tested.
            (Some(f), Some(_)) if is_validation_error(&f) => {
                Outcome::Inconclusive(format!(
            "every attempt was answered HTTP {} with a validation error: the attempts never reached the {} check",
            f.status,
            if matches!(surface, Surface::JsonLogin | Surface::FormLogin) { "login" } else { "token" }
        ))
            }
            (Some(f), Some(l)) => Outcome::Unlimited {
                attempts: size,
                status: f.status,
                elapsed: started.elapsed(),
                first: f.exchange,
                last: l,
            },
            _ => Outcome::Inconclusive("no attempt was answered".into()),
        });
    Burst {
        attempt,
        subject,
        secret,
        outcome,
    }
}

/// Whether an answer refuses the request's shape rather than its credentials: HTTP 415,
/// or a 400 or 422 that names a missing or required field (FastAPI's `Field required`).
/// A 422 about the token itself (Flask-JWT-Extended's `Signature verification failed`) is
/// the check being tested, not the shape.
pub(crate) fn is_validation_error(resp: &ProbeResponse) -> bool {
    match resp.status {
        415 => true,
        400 | 422 => {
            let body = resp.text().to_ascii_lowercase();
            [
                "required",
                "missing",
                "must not be blank",
                "may not be blank",
                "this field",
            ]
            .iter()
            .any(|p| body.contains(p))
        }
        _ => false,
    }
}

/// The burst size the budget allows for `endpoints` endpoints, or why none is possible.
pub(crate) fn burst_size(cx: &ScanContext, endpoints: usize) -> Result<usize, String> {
    let room = cx.probe.remaining_budget().saturating_sub(BUDGET_RESERVE) / endpoints.max(1);
    let size = room.min(BURST);
    if size < MIN_BURST {
        return Err(format!(
            "the request budget leaves {size} attempts per endpoint; a burst needs at least {MIN_BURST} (raise --max-requests)"
        ));
    }
    Ok(size)
}

/// The bursts against every endpoint that takes credentials (computed once per scan).
pub(crate) struct LoginBursts(pub Result<Vec<Burst>, String>);

/// The bursts against refresh, verify, blacklist and password-reset endpoints.
pub(crate) struct TokenBursts(pub Result<Vec<Burst>, String>);

/// Login flows a burst goes to: every login but the admin's (staff accounts only).
pub(crate) fn login_targets(cx: &ScanContext) -> Vec<Via> {
    cx.auth().account_logins().map(|f| Via::Login(f.clone())).collect()
}

/// Refresh, verify, blacklist and password-reset flows a burst goes to.
pub(crate) fn token_targets(cx: &ScanContext) -> Vec<Via> {
    let flows = &cx.flows;
    // Refresh tokens held in a cookie are tampered with in that cookie.
    let cookie = cx.identities.iter().find_map(|i| i.refresh_cookie.clone());
    // A token endpoint's refresh grant is a target once its login issued a refresh token
    // (FastAPI's tutorial `/token` takes only the password grant).
    let granted = |f: &RefreshFlow| {
        f.spec.body != BodyEncoding::OAuth2
            || cx
                .identities
                .iter()
                .any(|i| i.login_url.as_ref() == Some(&f.url) && i.refresh_jwt.is_some())
    };
    let mut out: Vec<Via> = flows
        .refresh
        .iter()
        .filter(|f| granted(f))
        .map(|f| Via::Refresh(f.clone(), cookie.clone()))
        .collect();
    out.extend(flows.verify.iter().map(|f| Via::Verify(f.clone())));
    out.extend(
        flows
            .logout
            .iter()
            .filter(|f| f.spec.revokes == LogoutScope::Refresh && f.takes_refresh())
            .map(|f| Via::Blacklist(f.clone())),
    );
    out.extend(flows.password_reset.iter().map(|f| Via::Reset(f.clone())));
    out
}

async fn run_bursts(cx: &ScanContext, targets: Vec<Via>) -> Result<Vec<Burst>, String> {
    let size = burst_size(cx, targets.len())?;
    Ok(join_all(targets.iter().map(|via| burst(cx, via, size))).await)
}

/// The scan's login bursts.
pub(crate) async fn login_bursts(cx: &ScanContext) -> Arc<LoginBursts> {
    cx.shared(Shared::LoginBursts, || async {
        LoginBursts(run_bursts(cx, login_targets(cx)).await)
    })
    .await
}

/// The scan's token-endpoint bursts.
pub(crate) async fn token_bursts(cx: &ScanContext) -> Arc<TokenBursts> {
    cx.shared(Shared::TokenBursts, || async {
        TokenBursts(run_bursts(cx, token_targets(cx)).await)
    })
    .await
}

/// Findings-or-skip for RATE001/RATE002: one finding per endpoint that never met a limit.
pub(crate) fn unlimited_findings(bursts: &Result<Vec<Burst>, String>, what: &str) -> authprobe_core::CheckOutcome {
    use authprobe_core::{CheckOutcome, Confidence, Finding};
    let bursts = match bursts {
        Ok(b) if b.is_empty() => return CheckOutcome::skipped(format!("no {what} was found")),
        Ok(b) => b,
        Err(why) => return CheckOutcome::skipped(why.clone()),
    };
    let mut findings = Vec::new();
    let mut inconclusive = Vec::new();
    for b in bursts {
        match &b.outcome {
            Outcome::Unlimited {
                attempts,
                status,
                elapsed,
                first,
                last,
            } => {
                let message = format!(
                    "{} processed {attempts} {} in {:.1} s (every one answered HTTP {status}) without a 429, a Retry-After or a lockout: {}.",
                    b.path(),
                    b.attempt.surface.noun(),
                    elapsed.as_secs_f64(),
                    b.attempt.surface.risk()
                );
                findings.push(Finding::new(Confidence::Confirmed, b.path(), message).with_evidence([*first, *last]));
            }
            Outcome::Limited { .. } => {}
            Outcome::Inconclusive(why) => inconclusive.push(format!("{}: {why}", b.path())),
        }
    }
    if findings.is_empty() && inconclusive.len() == bursts.len() {
        return CheckOutcome::skipped(format!("inconclusive on every endpoint ({})", inconclusive.join("; ")));
    }
    findings.into()
}

/// A response for unit tests.
#[cfg(test)]
pub(crate) fn test_response(status: u16, body: &str, retry_after: bool) -> ProbeResponse {
    let mut resp = ProbeResponse {
        exchange: ExchangeId(0),
        url: Url::parse("http://t/x/").unwrap(),
        status,
        headers: Default::default(),
        body: body.to_string().into(),
        body_truncated: false,
        elapsed: Duration::ZERO,
    };
    if retry_after {
        resp.headers.insert("retry-after", "30".parse().unwrap());
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::test_response as response;
    use super::*;

    #[test]
    fn a_429_or_a_lockout_is_a_limit() {
        assert_eq!(
            limit_signal(&response(429, "{}", false), None).as_deref(),
            Some("HTTP 429")
        );
        assert!(limit_signal(&response(423, "", false), None).is_some());
        assert!(limit_signal(&response(403, "{}", true), None).is_some());
        let locked = response(403, r#"{"detail":"Account locked: too many login attempts"}"#, false);
        assert!(limit_signal(&locked, None).is_some());
    }

    #[test]
    fn an_ordinary_failure_is_not_a_limit() {
        let first = response(
            401,
            r#"{"detail":"No active account found with the given credentials"}"#,
            false,
        );
        assert!(limit_signal(&first, None).is_none());
        assert!(processed(&first, None));
        assert!(!processed(&response(500, "oops", false), None));
    }

    #[test]
    fn a_phrase_the_page_always_shows_is_not_a_limit() {
        let page = "<p>After too many failures your account is locked.</p><form></form>";
        let first = response(200, page, false);
        assert!(limit_signal(&response(200, page, false), Some(&first)).is_none());
    }

    #[test]
    fn the_bursts_run_in_the_second_wave_and_enumeration_before_them() {
        use authprobe_core::Check;
        assert!(no_login_rate_limit::NoLoginRateLimit.runs_last());
        assert!(no_token_endpoint_rate_limit::NoTokenEndpointRateLimit.runs_last());
        assert!(rate_limit_bypass::RateLimitBypass.runs_last());
        assert!(!crate::authentication::user_enumeration::UserEnumeration.runs_last());
    }

    #[test]
    fn a_refused_shape_is_a_validation_error_and_a_refused_token_is_not() {
        let fastapi = r#"{"detail":[{"type":"missing","loc":["body","username"],"msg":"Field required"}]}"#;
        assert!(is_validation_error(&response(422, fastapi, false)));
        assert!(is_validation_error(&response(415, "", false)));
        assert!(is_validation_error(&response(
            400,
            r#"{"email":["This field is required."]}"#,
            false
        )));
        // Flask-JWT-Extended's answer to a tampered token: the token check, reached.
        assert!(!is_validation_error(&response(
            422,
            r#"{"msg":"Signature verification failed"}"#,
            false
        )));
        assert!(!is_validation_error(&response(
            401,
            r#"{"detail":"No active account"}"#,
            false
        )));
    }

    #[test]
    fn scanner_names_are_recognisable_and_fresh() {
        let a = scanner_name("rl");
        assert!(a.starts_with("authprobe-rl-"));
        assert_ne!(a, scanner_name("rl"));
    }
}
