use authprobe_core::{CheckMeta, CheckOutcome, Family as CheckFamily, Finding, Requirement, ScanContext, Severity};
use authprobe_jwt::forge;

use super::families::{families, no_family_reason, Acceptance};
use crate::support::owasp;

crate::declare_check! {
    /// ## What it does
    /// For every issuer of ECDSA-signed tokens (ES256/384/512), sends the verifier a token
    /// carrying the second identity's claims with the "psychic signature" r = s = 0 (all-zero
    /// bytes). **Confirmed** when the verifier answers as the identity named in the forged
    /// claims.
    ///
    /// ## Why is this bad?
    /// ECDSA verification must reject r or s outside [1, n−1]. Verifiers that skip the range
    /// check (Java 15–18, CVE-2022-21449, and hand-rolled or vendored implementations)
    /// compute with zeros and end up accepting the blank signature for *any* payload: every
    /// token can be forged with no key at all.
    ///
    /// ## Example
    /// ```python
    /// def ecdsa_verify(pub, digest, r, s):          # vendored "to avoid a dependency"
    ///     w = pow(s, N - 2, N)                        # s = 0 → w = 0, no range check
    ///     u1, u2 = digest * w % N, r * w % N
    ///     x, _ = point_add(scalar_mult(u1, G), scalar_mult(u2, pub))  # point at infinity
    ///     return x % N == r                           # 0 == 0
    /// ```
    ///
    /// ## Remediation
    /// Verify with a maintained library and a pinned algorithm; never hand-roll ECDSA:
    /// ```python
    /// jwt.decode(raw, ec_public_key, algorithms=["ES256"])   # PyJWT + cryptography
    /// ```
    /// On the JVM, upgrade to a Java release with the CVE-2022-21449 fix.
    ///
    /// ## References
    /// - CVE-2022-21449 "Psychic Signatures"
    /// - SEC 1 v2 §4.1.4 (ECDSA verification range checks)
    /// - CWE-347: Improper Verification of Cryptographic Signature
    pub struct JwtPsychicSignature;
    meta = CheckMeta {
        code: "JWT010",
        slug: "jwt-psychic-signature",
        title: "ECDSA signature r = s = 0 accepted (psychic signature)",
        severity: Severity::Critical,
        cwe: &[347],
        owasp: &[owasp::API2],
        requires: Requirement::Identity,
        family: CheckFamily::Jwt,
    };
    shares = [JwtFamilies];
}

impl JwtPsychicSignature {
    async fn check(&self, cx: &ScanContext) -> CheckOutcome {
        let families = families(cx).await;
        if let Some(reason) = no_family_reason(&families) {
            return CheckOutcome::skipped(reason);
        }
        let ecdsa: Vec<_> = families
            .0
            .iter()
            .filter(|f| f.verifier.is_some() && f.alg().starts_with("ES"))
            .collect();
        if ecdsa.is_empty() {
            return CheckOutcome::skipped("no issuer of ECDSA-signed (ES256/384/512) JWTs was found");
        }
        let mut findings = Vec::new();
        for family in ecdsa {
            if !family.verifies_signatures(cx).await {
                continue;
            }
            let Some(signature) = forge::psychic_signature(family.alg()) else {
                continue;
            };
            let token = forge::with_signature(family.header(), family.claims(), &signature);
            let (acceptance, resp) = family.try_token(cx, &token).await;
            if let (Some(confidence), Some(resp), false) = (
                acceptance.confidence(),
                resp,
                matches!(acceptance, Acceptance::Inconclusive(_)),
            ) {
                findings.push(
                    Finding::new(
                        confidence,
                        family.endpoint(),
                        format!(
                            "{} accepted a {} token with the all-zero signature r = s = 0 and answered as {}: any token can be forged without a key.",
                            family.endpoint(),
                            family.alg(),
                            family.victim_phrase()
                        ),
                    )
                    .with_evidence(family.evidence(&resp)),
                );
            }
        }
        findings.into()
    }
}
