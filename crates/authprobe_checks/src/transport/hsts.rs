use authprobe_core::probe::ProbeRequest;
use authprobe_core::{CheckMeta, CheckOutcome, Confidence, Family, Finding, Requirement, ScanContext, Severity};

use super::LOOPBACK_HTTP;
use crate::support::owasp;

/// One year, the minimum HSTS max-age browsers' preload lists and scanners expect.
const ONE_YEAR: u64 = 31_536_000;

crate::declare_check! {
    /// ## What it does
    /// Reads the `Strict-Transport-Security` header of the HTTPS target and reports when it
    /// is missing, when `max-age` is under one year (31536000 s), or when
    /// `includeSubDomains` is absent.
    ///
    /// ## Why is this bad?
    /// Without HSTS a browser's first request to the site may go over plain HTTP, where an
    /// attacker can strip TLS (sslstrip) and read the session cookie or the token the page
    /// stores. A short `max-age` leaves the window open again soon; without
    /// `includeSubDomains` a sibling host can set cookies for the parent domain.
    ///
    /// ## Example
    /// ```python
    /// # settings.py
    /// SECURE_HSTS_SECONDS = 0   # the default: no HSTS header at all
    /// ```
    ///
    /// ## Remediation
    /// ```python
    /// # settings.py (served over HTTPS)
    /// SECURE_HSTS_SECONDS = 31536000
    /// SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    /// SECURE_HSTS_PRELOAD = True   # once every subdomain is HTTPS-only
    /// ```
    /// Roll out with a small value first, then raise it to a year.
    ///
    /// ## References
    /// - RFC 6797: HTTP Strict Transport Security
    /// - Django: `SECURE_HSTS_SECONDS` — https://docs.djangoproject.com/en/stable/ref/settings/#secure-hsts-seconds
    /// - CWE-319: Cleartext Transmission of Sensitive Information
    pub struct HstsWeak;
    meta = CheckMeta {
        code: "TLS003",
        slug: "hsts-weak",
        title: "HSTS missing or weak",
        severity: Severity::Medium,
        cwe: &[319],
        owasp: &[owasp::API8],
        requires: Requirement::Active,
        family: Family::Transport,
    };
}

impl HstsWeak {
    async fn check(&self, cx: &ScanContext) -> CheckOutcome {
        if !cx.target.is_https() {
            return CheckOutcome::skipped(if cx.target.is_loopback() {
                LOOPBACK_HTTP
            } else {
                "the target is plain HTTP: HSTS only applies to HTTPS responses (see TLS001)"
            });
        }
        let known = cx.inventory.get(&cx.target.url).and_then(|e| e.anonymous_ok().cloned());
        let resp = match known {
            Some(r) => r,
            None => match cx.probe.send(ProbeRequest::get(cx.target.url.clone())).await {
                Ok(r) => r,
                Err(e) => return CheckOutcome::skipped(format!("the HTTPS probe failed: {e}")),
            },
        };
        let problem = match resp.header("strict-transport-security") {
            None => Some("sends no Strict-Transport-Security header".to_string()),
            Some(value) => weakness(value),
        };
        match problem {
            None => CheckOutcome::passed(),
            Some(problem) => vec![Finding::new(
                Confidence::Confirmed,
                cx.target.url.path(),
                format!("The HTTPS origin {problem}."),
            )
            .with_evidence([resp.exchange])]
            .into(),
        }
    }
}

/// What is wrong with an HSTS header value, if anything.
fn weakness(value: &str) -> Option<String> {
    let directives: Vec<String> = value.split(';').map(|d| d.trim().to_ascii_lowercase()).collect();
    let max_age = directives
        .iter()
        .find_map(|d| d.strip_prefix("max-age="))
        .and_then(|v| v.trim_matches('"').parse::<u64>().ok());
    match max_age {
        None => Some(format!("sends an HSTS header without a valid max-age (`{value}`)")),
        Some(age) if age < ONE_YEAR => Some(format!("sends HSTS with max-age={age}, under one year ({ONE_YEAR})")),
        Some(_) if !directives.iter().any(|d| d == "includesubdomains") => {
            Some("sends HSTS without includeSubDomains".to_string())
        }
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::weakness;

    #[test]
    fn a_year_with_subdomains_is_strong() {
        assert_eq!(weakness("max-age=31536000; includeSubDomains"), None);
        assert_eq!(weakness("max-age=63072000; includeSubDomains; preload"), None);
    }

    #[test]
    fn short_or_partial_headers_are_weak() {
        assert!(weakness("max-age=3600; includeSubDomains").unwrap().contains("3600"));
        assert!(weakness("max-age=31536000").unwrap().contains("includeSubDomains"));
        assert!(weakness("includeSubDomains").unwrap().contains("max-age"));
    }
}
