use authprobe_core::{CheckMeta, CheckOutcome, Family as CheckFamily, Requirement, ScanContext, Severity};
use authprobe_jwt::forge;

use super::families::{families, no_family_reason};
use crate::support::owasp;

/// Spellings of `none` that case-sensitive deny lists miss.
const NONE_SPELLINGS: &[&str] = &["none", "None", "NONE", "nOnE"];

crate::declare_check! {
    /// ## What it does
    /// For every JWT issuer it found, takes a token the issuer really issued (to the second
    /// identity when there is one), sets the header's `alg` to `none` (also `None`, `NONE`,
    /// `nOnE`), removes the signature, and sends it to the endpoint that verifies that
    /// issuer's tokens. The differential oracle decides: **confirmed** when the endpoint
    /// answers as the identity named in the unsigned claims while the scan is logged in as
    /// another one.
    ///
    /// ## Why is this bad?
    /// An unsigned token is just JSON anyone can write: whoever can change `user_id` can log
    /// in as any user, administrators included. It happens when the verifier lets the token
    /// pick its own algorithm, e.g. `jwt.decode(token, key, algorithms=[header["alg"]])`, or
    /// decodes `alg: none` tokens "for internal services".
    ///
    /// ## Example
    /// ```python
    /// header = jwt.get_unverified_header(raw)
    /// if header["alg"].lower() == "none":            # "internal callers don't sign"
    ///     payload = jwt.decode(raw, options={"verify_signature": False})
    /// else:
    ///     payload = jwt.decode(raw, settings.SIGNING_KEY, algorithms=["HS256"])
    /// ```
    ///
    /// ## Remediation
    /// Pin the accepted algorithms on the server and never branch on the token's header.
    /// With simplejwt, keep `ALGORITHM` fixed and don't subclass the backend:
    /// ```python
    /// SIMPLE_JWT = {"ALGORITHM": "HS256", "SIGNING_KEY": env("JWT_SIGNING_KEY")}
    /// # PyJWT directly:
    /// jwt.decode(raw, key, algorithms=["HS256"])   # a fixed list, never header["alg"]
    /// ```
    ///
    /// ## References
    /// - RFC 8725: JSON Web Token Best Current Practices, §3.1 and §3.2
    /// - CWE-347: Improper Verification of Cryptographic Signature
    /// - OWASP API2:2023 Broken Authentication
    pub struct JwtAlgNone;
    meta = CheckMeta {
        code: "JWT001",
        slug: "jwt-alg-none",
        title: "Unsigned JWT (alg: none) accepted",
        severity: Severity::Critical,
        cwe: &[347],
        owasp: &[owasp::API2],
        requires: Requirement::Identity,
        family: CheckFamily::Jwt,
    };
    shares = [JwtFamilies];
}

impl JwtAlgNone {
    async fn check(&self, cx: &ScanContext) -> CheckOutcome {
        let families = families(cx).await;
        if let Some(reason) = no_family_reason(&families) {
            return CheckOutcome::skipped(reason);
        }
        let mut findings = Vec::new();
        let mut inconclusive = Vec::new();
        for family in families.0.iter().filter(|f| f.verifier.is_some()) {
            // Every spelling with the standard empty signature, then the two-part layout.
            let attempts = NONE_SPELLINGS
                .iter()
                .map(|spelling| (*spelling, forge::unsigned(family.header(), family.claims(), spelling)))
                .chain(std::iter::once((
                    "none",
                    forge::unsigned(family.header(), family.claims(), "none")
                        .trim_end_matches('.')
                        .to_string(),
                )))
                .collect::<Vec<_>>();
            let found = family
                .first_accepted(cx, attempts, |spelling| {
                    format!(
                        "{} accepted an unsigned token (alg `{spelling}`, empty signature) built from {}'s token and answered as {}.",
                        family.endpoint(),
                        family.issuer.path(),
                        family.victim_phrase()
                    )
                })
                .await;
            match found {
                Ok(finding) => findings.extend(finding),
                Err(why) => inconclusive.push(why),
            }
        }
        if findings.is_empty()
            && !inconclusive.is_empty()
            && inconclusive.len() == families.0.iter().filter(|f| f.verifier.is_some()).count()
        {
            return CheckOutcome::skipped(format!("inconclusive: {}", inconclusive.join("; ")));
        }
        findings.into()
    }
}
