use authprobe_core::{CheckMeta, CheckOutcome, Family, Finding, Requirement, ScanContext, Severity};
use authprobe_entropy::Weakness;

use super::sampling::{confidence, sampling};
use crate::support::owasp;

crate::declare_check! {
    /// ## What it does
    /// Samples tokens the API hands out cheaply — cookies set on anonymous GETs (session and
    /// CSRF ids), token-like JSON fields of GET endpoints (API keys, invite, pairing and reset
    /// codes) — with GET requests only, within the request budget (48 per source by default,
    /// 400 with `--profile thorough`), and the keys and session ids the login flows issue
    /// (fresh logins of the scan's own account: a few, 20 with `--profile thorough`, none in
    /// the read-only `safe` profile). Signed client-side session data (Flask, Starlette,
    /// cookie-session: base64 JSON and a signature, the same for the same content) is content,
    /// not an id, and is not sampled. It estimates how many bits of entropy each token
    /// carries: first the hard upper bound from the alphabet and the length, then
    /// per-position character counts and transitions, FIPS 140-2 bit tests, serial
    /// correlation, a spectral test, compression and duplicates. Reports sources whose
    /// effective entropy is below 64 bits, with the sample size and its reliability.
    ///
    /// ## Why is this bad?
    /// A token is a password the server chose. With 24 bits (six hex digits) there are 16.7
    /// million values: an attacker tries them online in hours, or offline in milliseconds, and
    /// takes over whatever the token unlocks (a session, an API key, a device pairing, a
    /// password reset). 64 bits is the floor below which guessing is practical; Django's own
    /// session keys carry about 165 bits.
    ///
    /// ## Example
    /// ```python
    /// class PairingCodeView(APIView):
    ///     def get(self, request):
    ///         code = secrets.token_hex(3)  # "must fit on a TV screen": 24 bits
    ///         PairingCode.objects.create(owner=request.user, code=code)
    ///         return Response({"code": code})
    /// ```
    ///
    /// ## Remediation
    /// Generate every token with a cryptographic generator and at least 128 bits; keep short
    /// human codes only with a short expiry and a strict attempt limit:
    /// ```python
    /// from django.utils.crypto import get_random_string
    /// from rest_framework.authtoken.models import Token
    ///
    /// code = get_random_string(32)   # ~190 bits
    /// key = Token.generate_key()     # 160 bits
    /// ```
    ///
    /// ## References
    /// - CWE-331: Insufficient Entropy
    /// - NIST SP 800-63B §5.1 (look-up secrets: at least 64 bits), FIPS 140-2 §4.9.1
    /// - OWASP API2:2023 Broken Authentication
    pub struct LowEntropyToken;
    meta = CheckMeta {
        code: "TOKEN001",
        slug: "low-entropy-token",
        title: "Token with less than 64 bits of entropy",
        severity: Severity::High,
        cwe: &[331],
        owasp: &[owasp::API2],
        requires: Requirement::Active,
        family: Family::Tokens,
    };
    starts_first = true;
    shares = [TokenSamples];
}

impl LowEntropyToken {
    async fn check(&self, cx: &ScanContext) -> CheckOutcome {
        let sampling = sampling(cx).await;
        if let Some(reason) = sampling.statistics_skip_reason() {
            return CheckOutcome::skipped(reason);
        }
        let mut findings = Vec::new();
        for source in sampling.issued() {
            let Some(analysis) = &source.analysis else { continue };
            let Some(verdict) = analysis.verdict(Weakness::LowEntropy) else {
                continue;
            };
            findings.push(
                Finding::new(
                    confidence(verdict.strength),
                    source.endpoint.clone(),
                    format!("{}: {}. {}", source.label, verdict.summary, source.figures()),
                )
                .with_evidence(source.evidence.iter().copied()),
            );
        }
        findings.into()
    }
}
