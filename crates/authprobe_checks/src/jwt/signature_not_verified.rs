use authprobe_core::{CheckMeta, CheckOutcome, Family as CheckFamily, Requirement, ScanContext, Severity};
use authprobe_jwt::forge;

use super::families::{families, no_family_reason};
use crate::support::owasp;

crate::declare_check! {
    /// ## What it does
    /// For every JWT issuer it found, sends the issuer's verifier three forgeries that keep
    /// the token's own algorithm: the second identity's claims under the primary identity's
    /// signature (claims swapped), a token with one signature byte changed (tampered), and a
    /// token with the signature removed (stripped). Any of them accepted means signatures
    /// are not verified; **confirmed** when the verifier answers as the identity named in the
    /// forged claims.
    ///
    /// ## Why is this bad?
    /// Without signature verification a JWT is an unauthenticated claim: anyone can edit
    /// `user_id`, `is_staff` or `exp` and the server believes it. This usually comes from
    /// `options={"verify_signature": False}` left in after debugging, or from reading claims
    /// with an "unverified" helper in middleware.
    ///
    /// ## Example
    /// ```python
    /// payload = jwt.decode(raw, options={"verify_signature": False})  # "we trust our gateway"
    /// user = User.objects.get(pk=payload["user_id"])
    /// ```
    ///
    /// ## Remediation
    /// Always verify with a pinned algorithm and key, and let simplejwt's authentication class
    /// do it instead of decoding tokens yourself:
    /// ```python
    /// payload = jwt.decode(raw, settings.SIMPLE_JWT["SIGNING_KEY"], algorithms=["HS256"],
    ///                      audience="my-api", issuer="https://auth.example.com")
    /// ```
    ///
    /// ## References
    /// - RFC 8725: JSON Web Token Best Current Practices
    /// - CWE-347: Improper Verification of Cryptographic Signature
    /// - OWASP API2:2023 Broken Authentication
    pub struct JwtSignatureNotVerified;
    meta = CheckMeta {
        code: "JWT002",
        slug: "jwt-signature-not-verified",
        title: "JWT signature not verified",
        severity: Severity::Critical,
        cwe: &[347],
        owasp: &[owasp::API2],
        requires: Requirement::Identity,
        family: CheckFamily::Jwt,
    };
    shares = [JwtFamilies];
}

impl JwtSignatureNotVerified {
    async fn check(&self, cx: &ScanContext) -> CheckOutcome {
        let families = families(cx).await;
        if let Some(reason) = no_family_reason(&families) {
            return CheckOutcome::skipped(reason);
        }
        let mut findings = Vec::new();
        for family in families.0.iter().filter(|f| f.verifier.is_some()) {
            let mine = &family.mine.jwt;
            let victim = &family.victim().jwt;
            // The victim's claims under the primary identity's header and signature.
            let swapped = format!("{}.{}.{}", mine.raw_header, victim.raw_claims, mine.raw_signature);
            let tampered = forge::with_signature(
                &victim.header,
                &victim.claims,
                &forge::tampered_signature(&victim.raw_signature),
            );
            let stripped = format!("{}.{}.", victim.raw_header, victim.raw_claims);
            let forgeries = [
                ("claims swapped under another token's signature", swapped),
                ("a signature with one byte changed", tampered),
                ("the signature removed", stripped),
            ];
            // With one identity, the swapped token is the original one: not a forgery.
            let forgeries: Vec<_> = forgeries
                .into_iter()
                .filter(|(what, _)| family.other.is_some() || !what.starts_with("claims swapped"))
                .collect();
            let found = family
                .first_accepted(cx, forgeries, |what| {
                    format!(
                        "{} accepted a {} token from {} with {what}, and answered as {}: signatures are not verified.",
                        family.endpoint(),
                        family.alg(),
                        family.issuer.path(),
                        family.victim_phrase()
                    )
                })
                .await;
            findings.extend(found.ok().flatten());
        }
        findings.into()
    }
}
