use authprobe_core::auth::identity::Presentation;
use authprobe_core::probe::ProbeRequest;
use authprobe_core::{
    CheckMeta, CheckOutcome, Confidence, Family as CheckFamily, Finding, Requirement, ScanContext, Severity,
};
use authprobe_jwt::Jwt;
use std::time::Duration;

use super::families::{families, find_verifier, judge, Acceptance, Issued};
use crate::support::owasp;

/// Longest token lifetime the check waits out (longer-lived tokens need a known key).
const MAX_WAIT: Duration = Duration::from_secs(12);
/// Seconds past `exp` before replaying (covers clock skew and small leeways).
const GRACE_SECS: i64 = 2;

crate::declare_check! {
    /// ## What it does
    /// Finds short-lived JWTs the API issues (issuers whose access tokens live a few
    /// seconds, and, with `--allow-writes` only, authenticated token-minting endpoints such
    /// as one-shot download tokens, guessed from their path),
    /// waits until each is past its `exp` (plus two seconds), and replays it at the endpoint
    /// that verifies it. The differential oracle decides whether the expired token was
    /// accepted as its identity; the token is the API's own, so acceptance is confirmed.
    /// With a signing key the scan recovered (JWT003), it needs no short-lived token: it
    /// forges the second identity's token with `exp` an hour past, after checking that the
    /// same forgery with a future `exp` is accepted, so tokens of any lifetime are tested.
    ///
    /// ## Why is this bad?
    /// `exp` is what limits the damage of a leaked token (logs, browser history, a stolen
    /// laptop). A verifier that ignores it makes every token ever issued valid forever.
    /// It usually comes from `options={"verify_exp": False}` added to "fix" clock-skew errors,
    /// or from custom token classes that skip `check_exp`.
    ///
    /// ## Example
    /// ```python
    /// payload = jwt.decode(raw, key, algorithms=["HS256"], options={"verify_exp": False})
    /// ```
    ///
    /// ## Remediation
    /// Keep expiry verification on and absorb clock skew with a small leeway instead:
    /// ```python
    /// SIMPLE_JWT = {"ACCESS_TOKEN_LIFETIME": timedelta(minutes=5), "LEEWAY": 30}
    /// jwt.decode(raw, key, algorithms=["HS256"], leeway=30)
    /// ```
    ///
    /// ## References
    /// - RFC 7519 §4.1.4 (`exp`)
    /// - CWE-613: Insufficient Session Expiration
    /// - OWASP API2:2023 Broken Authentication
    pub struct JwtExpiredAccepted;
    meta = CheckMeta {
        code: "JWT004",
        slug: "jwt-expired-accepted",
        title: "Expired JWT still accepted",
        severity: Severity::High,
        cwe: &[613],
        owasp: &[owasp::API2],
        requires: Requirement::Identity,
        family: CheckFamily::Jwt,
    };
    starts_first = true;
    shares = [JwtFamilies, Cracking];
}

impl JwtExpiredAccepted {
    async fn check(&self, cx: &ScanContext) -> CheckOutcome {
        let families = families(cx).await;
        // Short-lived tokens: from issuers, and from authenticated minting endpoints.
        let mut short_lived: Vec<(Issued, super::families::Verifier, Option<Issued>, Presentation)> = Vec::new();
        for family in families.0.iter() {
            if let (Some(v), true) = (&family.verifier, waitable(&family.mine.jwt)) {
                short_lived.push((family.mine.clone(), v.clone(), None, family.presentation.clone()));
            }
        }
        // Minted tokens go the way the primary identity sends its own.
        let minted_presentation = cx
            .primary()
            .and_then(|p| p.presentation().cloned())
            .unwrap_or_else(Presentation::bearer);
        for minted in mint_tokens(cx).await {
            if !waitable(&minted.jwt) {
                continue;
            }
            let issuer = url::Url::parse(
                &cx.probe
                    .exchange(minted.exchange)
                    .map(|x| x.request.url)
                    .unwrap_or_default(),
            )
            .ok();
            let Some(issuer) = issuer else { continue };
            if let Some(v) = find_verifier(cx, &issuer, &minted, &minted_presentation).await {
                short_lived.push((minted, v, None, minted_presentation.clone()));
            }
        }
        let (forged, forgery_tested) = expired_forgeries_accepted(cx).await;
        if !forged.is_empty() {
            return forged.into();
        }
        if short_lived.is_empty() {
            if forgery_tested {
                // A recovered key forged a working token, and its expired twin was refused.
                return CheckOutcome::passed();
            }
            return CheckOutcome::skipped(
                "the API issued no short-lived JWT to wait out, and no signing key is known to forge an expired one",
            );
        }
        let mut findings = Vec::new();
        for (issued, verifier, other, presentation) in short_lived {
            let exp = issued.jwt.numeric_claim("exp").unwrap_or(0);
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            let wait = exp.saturating_add(GRACE_SECS).saturating_sub(now).max(0) as u64;
            tokio::time::sleep(Duration::from_secs(wait)).await;
            let req = presentation.apply(ProbeRequest::get(verifier.url.clone()), &issued.token);
            let Ok(resp) = cx.probe.send(req).await else { continue };
            let acceptance = judge(&verifier.baseline, &issued, other.as_ref(), &resp);
            if matches!(acceptance, Acceptance::AsSelf | Acceptance::AsOther) {
                let age = time::OffsetDateTime::now_utc().unix_timestamp().saturating_sub(exp);
                findings.push(
                    Finding::new(
                        Confidence::Confirmed,
                        verifier.url.path(),
                        format!(
                            "{} accepted `{}`'s access token {age} s after its `exp` and answered as that identity: expiry is not enforced.",
                            verifier.url.path(),
                            issued.label
                        ),
                    )
                    .with_evidence([resp.exchange, issued.exchange, verifier.baseline.valid.exchange]),
                );
                break;
            }
        }
        findings.into()
    }
}

/// With a signing key recovered by JWT003 (or DJ004's SECRET_KEY signing the JWTs): the
/// second identity's claims with `exp` an hour past, signed with the real key. A fresh
/// forgery must be accepted first (the key and the claims work); the expired one accepted
/// as that identity is confirmed. Works whatever the token lifetime: nothing is waited out.
/// Also says whether any forgery could be judged (a fresh one was accepted).
async fn expired_forgeries_accepted(cx: &ScanContext) -> (Vec<Finding>, bool) {
    let mut tested = false;
    let cracked = super::cracking::cracked(cx).await;
    let families = families(cx).await;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    for (index, recovered) in &cracked.jwt {
        let family = &families.0[*index];
        let Some(alg) = authprobe_jwt::forge::HmacAlg::from_alg(family.alg()) else {
            continue;
        };
        let with_times = |exp: i64, iat: i64| {
            let mut claims = family.claims().clone();
            claims.insert("exp".into(), exp.into());
            if claims.contains_key("iat") {
                claims.insert("iat".into(), iat.into());
            }
            authprobe_jwt::forge::sign_hmac(alg, family.header(), &claims, &recovered.secret)
        };
        let (fresh, _) = family.try_token(cx, &with_times(now + 600, now)).await;
        if fresh.confidence().is_none() {
            continue;
        }
        tested = true;
        let (expired, resp) = family.try_token(cx, &with_times(now - 3600, now - 7200)).await;
        let (Some(confidence), Some(resp)) = (expired.confidence(), resp) else {
            continue;
        };
        let finding = Finding::new(
            confidence,
            family.endpoint(),
            format!(
                "{} accepted a token whose `exp` passed an hour ago (signed with the key recovered from {}) and answered as {}: expiry is not enforced.",
                family.endpoint(),
                recovered.source,
                family.victim_phrase()
            ),
        )
        .with_evidence(family.evidence(&resp));
        return (vec![finding], true);
    }
    (Vec::new(), tested)
}

/// A token whose remaining life is short enough to wait out.
fn waitable(jwt: &Jwt) -> bool {
    let Some(exp) = jwt.numeric_claim("exp") else {
        return false;
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    exp.saturating_sub(now) <= MAX_WAIT.as_secs() as i64 - GRACE_SECS
}

/// Tokens the auth layer's minting endpoints issued (only with write probes on: they are
/// guesses, and a POST there mints).
async fn mint_tokens(cx: &ScanContext) -> Vec<Issued> {
    let Some(identity) = cx.primary() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for minted in cx.auth().minted_tokens().await {
        let Ok(jwt) = Jwt::parse(&minted.token) else { continue };
        out.push(Issued {
            label: identity.label.clone(),
            marker: identity.marker.clone().unwrap_or_else(|| identity.label.clone()),
            token: minted.token,
            jwt,
            exchange: minted.response.exchange,
        });
    }
    out
}
