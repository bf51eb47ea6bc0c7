use authprobe_core::{
    CheckMeta, CheckOutcome, Confidence, ExchangeId, Family, Finding, ProbeResponse, Requirement, ScanContext, Severity,
};

use super::{limit_signal, login_bursts, processed, token_bursts, Burst, Outcome};
use crate::support::{owasp, summarize};

crate::declare_check! {
    /// ## What it does
    /// Continues where a RATE001/RATE002 burst met a limit (HTTP 429 or a lockout): it
    /// sends the next failed attempts with a fresh, spoofed `X-Forwarded-For` address each
    /// (from the documentation ranges 198.51.100.0/24 and 203.0.113.0/24), with an
    /// unspoofed attempt in between as a control. The limit is *bypassed* when both spoofed
    /// attempts are processed again (401/400 like before the limit) while the control is
    /// still refused.
    ///
    /// ## Why is this bad?
    /// A limit keyed on a header the client writes is no limit: an attacker rotates the
    /// header on every request and guesses passwords or tokens at full speed, and the
    /// limit's logs blame made-up addresses. With Django REST framework this happens when
    /// `NUM_PROXIES` is left at its default `None`, which makes throttles trust
    /// `X-Forwarded-For` verbatim even when no proxy sets it.
    ///
    /// ## Example
    /// ```python
    /// REST_FRAMEWORK = {
    ///     "DEFAULT_THROTTLE_RATES": {"login": "10/min"},
    ///     # NUM_PROXIES not set: get_ident() returns the client's own X-Forwarded-For
    /// }
    /// ```
    ///
    /// ## Remediation
    /// Tell DRF how many trusted proxies sit in front of Django, so it takes the client
    /// address from the right end of `X-Forwarded-For` (or from `REMOTE_ADDR` with none):
    /// ```python
    /// REST_FRAMEWORK = {
    ///     "NUM_PROXIES": 1,   # exactly the proxies you run; 0 when Django faces clients
    /// }
    /// ```
    /// Have the proxy overwrite (not append to) `X-Forwarded-For`, and key login limits on
    /// the username as well as the address, so rotating addresses does not help against
    /// one account (`django-axes`: `AXES_LOCKOUT_PARAMETERS = ["username", ["ip_address",
    /// "username"]]`, `AXES_IPWARE_PROXY_COUNT`).
    ///
    /// ## References
    /// - CWE-348: Use of Less Trusted Source
    /// - OWASP API2:2023 Broken Authentication, API4:2023 Unrestricted Resource Consumption
    /// - DRF: Throttling, "How clients are identified" — https://www.django-rest-framework.org/api-guide/throttling/#how-clients-are-identified
    pub struct RateLimitBypass;
    meta = CheckMeta {
        code: "RATE003",
        slug: "rate-limit-bypass",
        title: "Rate limit lifted by a spoofed X-Forwarded-For",
        severity: Severity::High,
        cwe: &[348],
        owasp: &[owasp::API2, owasp::API4],
        requires: Requirement::Active,
        family: Family::RateLimiting,
    };
    sends_post = true;
    runs_last = true;
    shares = [LoginBursts, TokenBursts];
}

impl RateLimitBypass {
    async fn check(&self, cx: &ScanContext) -> CheckOutcome {
        let (logins, tokens) = futures::join!(login_bursts(cx), token_bursts(cx));
        let limited: Vec<&Burst> = [&logins.0, &tokens.0]
            .into_iter()
            .filter_map(|r| r.as_ref().ok())
            .flatten()
            .filter(|b| matches!(b.outcome, Outcome::Limited { .. }))
            .collect();
        if limited.is_empty() {
            return CheckOutcome::skipped(
                "no login, token or password-reset endpoint met a limit during the bursts, so there was none to bypass",
            );
        }
        let mut findings: Vec<(String, Finding)> = Vec::new();
        let mut inconclusive = Vec::new();
        for burst in &limited {
            match try_bypass(cx, burst).await {
                Ok(Some(f)) => findings.push((burst.path().to_string(), f)),
                Ok(None) => {}
                Err(why) => inconclusive.push(format!("{}: {why}", burst.path())),
            }
        }
        if findings.is_empty() && inconclusive.len() == limited.len() {
            return CheckOutcome::skipped(format!(
                "inconclusive on every limited endpoint ({})",
                inconclusive.join("; ")
            ));
        }
        // One cause (the limit's idea of the client address), so one finding naming the rest.
        let others: Vec<String> = findings.iter().skip(1).map(|(p, _)| p.clone()).collect();
        let Some((_, mut finding)) = findings.into_iter().next() else {
            return CheckOutcome::passed();
        };
        if !others.is_empty() {
            finding
                .message
                .push_str(&format!(" The same bypass worked on {}.", summarize(&others, 5)));
        }
        vec![finding].into()
    }
}

/// A fresh address from the documentation ranges (RFC 5737).
fn spoofed_address() -> String {
    let net = if rand::random::<bool>() {
        "198.51.100"
    } else {
        "203.0.113"
    };
    format!("{net}.{}", 1 + rand::random::<u8>() % 254)
}

/// Spoofed, control, spoofed: `Ok(Some)` when the limit is lifted by the header only.
async fn try_bypass(cx: &ScanContext, burst: &Burst) -> Result<Option<Finding>, String> {
    let Outcome::Limited {
        exchange: limit_exchange,
        processed_first,
        signal,
        after,
    } = &burst.outcome
    else {
        return Ok(None);
    };
    let first = processed_first.as_deref();
    // Processed again: no limit, and (when known) the same answer as before the limit.
    let lifted = |r: &ProbeResponse| processed(r, first) && first.is_none_or(|f| f.status == r.status);
    let send = |xff: Option<String>| async move {
        burst
            .attempt
            .send(cx, &burst.subject, &burst.secret, xff.as_deref())
            .await
            .map_err(|e| e.to_string())
    };
    let one = spoofed_address();
    let spoofed = send(Some(one.clone())).await?;
    if !lifted(&spoofed) {
        return Ok(None);
    }
    let control = send(None).await?;
    if limit_signal(&control, first).is_none() {
        return Err(format!(
            "the limit ({signal}) no longer held for an unspoofed attempt (HTTP {}), so the spoofed one proves nothing",
            control.status
        ));
    }
    let mut two = spoofed_address();
    while two == one {
        two = spoofed_address();
    }
    let again = send(Some(two)).await?;
    if !lifted(&again) {
        return Ok(None);
    }
    let evidence: [ExchangeId; 4] = [*limit_exchange, spoofed.exchange, control.exchange, again.exchange];
    let message = format!(
        "{} refused further {} after {after} of them ({signal}), but processed them again (HTTP {}) as soon as each carried a different X-Forwarded-For, while an attempt without the header was still refused (HTTP {}): the limit trusts a client-supplied header.",
        burst.path(),
        burst.attempt.surface.noun(),
        spoofed.status,
        control.status
    );
    Ok(Some(
        Finding::new(Confidence::Confirmed, burst.path(), message).with_evidence(evidence),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spoofed_addresses_come_from_the_documentation_ranges() {
        for _ in 0..50 {
            let ip = spoofed_address();
            assert!(ip.starts_with("198.51.100.") || ip.starts_with("203.0.113."), "{ip}");
            let last: u16 = ip.rsplit('.').next().unwrap().parse().unwrap();
            assert!((1..=254).contains(&last));
        }
    }
}
