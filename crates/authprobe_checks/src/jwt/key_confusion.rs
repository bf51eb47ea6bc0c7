use authprobe_core::discovery::EndpointKind;
use authprobe_core::{CheckMeta, CheckOutcome, Family as CheckFamily, Finding, Requirement, ScanContext, Severity};
use authprobe_jwt::forge::{self, HmacAlg};

use super::families::{families, no_family_reason, Acceptance};
use crate::support::owasp;

crate::declare_check! {
    /// ## What it does
    /// Reads the RSA public keys the API publishes (its JWKS, e.g.
    /// `/.well-known/jwks.json`), encodes each as the PEM text a server would load (SPKI and
    /// PKCS#1, with and without the trailing newline), and for every issuer of RS/PS-signed
    /// tokens sends the verifier an **HS256** token carrying the second identity's claims,
    /// HMAC-signed with that PEM text as the secret. **Confirmed** when the verifier answers
    /// as the identity named in the forged claims.
    ///
    /// ## Why is this bad?
    /// The public key is public. A verifier that takes the algorithm from the token header
    /// and passes "the key" to whatever algorithm that is will use the RSA public key as an
    /// HMAC secret, so anyone can mint valid tokens for any user (the classic RS256→HS256
    /// algorithm confusion, CVE-2015-9235 and its many descendants).
    ///
    /// ## Example
    /// ```python
    /// def verify(raw):
    ///     alg = jwt.get_unverified_header(raw)["alg"]
    ///     if alg == "HS256":                      # "legacy clients"
    ///         return hmac_verify(raw, PUBLIC_KEY_PEM)   # the same key variable for both
    ///     return jwt.decode(raw, PUBLIC_KEY_PEM, algorithms=["RS256"])
    /// ```
    ///
    /// ## Remediation
    /// Pin one asymmetric algorithm per key and never derive it from the token:
    /// ```python
    /// jwt.decode(raw, public_key, algorithms=["RS256"])        # never ["RS256", "HS256"]
    /// SIMPLE_JWT = {"ALGORITHM": "RS256", "SIGNING_KEY": PRIVATE_PEM, "VERIFYING_KEY": PUBLIC_PEM}
    /// ```
    /// Keep libraries current: modern PyJWT refuses PEM-looking HMAC keys.
    ///
    /// ## References
    /// - RFC 8725: JSON Web Token Best Current Practices, §3.1
    /// - CVE-2015-9235 (jsonwebtoken), CVE-2017-11424 (PyJWT)
    /// - CWE-347: Improper Verification of Cryptographic Signature
    pub struct JwtKeyConfusion;
    meta = CheckMeta {
        code: "JWT008",
        slug: "jwt-key-confusion",
        title: "RSA public key accepted as HMAC secret (algorithm confusion)",
        severity: Severity::Critical,
        cwe: &[347],
        owasp: &[owasp::API2],
        requires: Requirement::Identity,
        family: CheckFamily::Jwt,
    };
    shares = [JwtFamilies];
}

/// `(n, e)` of every RSA key in the JWKS documents discovery fetched.
fn published_rsa_keys(cx: &ScanContext) -> Vec<(String, String)> {
    let mut keys = Vec::new();
    for endpoint in cx.inventory.of_kind(EndpointKind::Jwks) {
        let Some(json) = endpoint.anonymous_ok().and_then(|r| r.json()) else {
            continue;
        };
        let Some(list) = json.get("keys").and_then(|k| k.as_array()) else {
            continue;
        };
        for key in list {
            if key.get("kty").and_then(|k| k.as_str()) != Some("RSA") {
                continue;
            }
            if let (Some(n), Some(e)) = (
                key.get("n").and_then(|v| v.as_str()),
                key.get("e").and_then(|v| v.as_str()),
            ) {
                keys.push((n.to_string(), e.to_string()));
            }
        }
    }
    keys
}

impl JwtKeyConfusion {
    async fn check(&self, cx: &ScanContext) -> CheckOutcome {
        let families = families(cx).await;
        if let Some(reason) = no_family_reason(&families) {
            return CheckOutcome::skipped(reason);
        }
        let rsa_families: Vec<_> = families
            .0
            .iter()
            .filter(|f| f.verifier.is_some() && (f.alg().starts_with("RS") || f.alg().starts_with("PS")))
            .collect();
        if rsa_families.is_empty() {
            return CheckOutcome::skipped("no issuer of RSA-signed JWTs was found");
        }
        let keys = published_rsa_keys(cx);
        if keys.is_empty() {
            return CheckOutcome::skipped("the API publishes no RSA public key (no JWKS found)");
        }
        let mut findings = Vec::new();
        'families: for family in rsa_families {
            if !family.verifies_signatures(cx).await {
                continue;
            }
            for (n, e) in &keys {
                let Some(pems) = forge::rsa_jwk_as_pem_variants(n, e) else {
                    continue;
                };
                for pem in pems {
                    let token = forge::sign_hmac(HmacAlg::Hs256, family.header(), family.claims(), pem.as_bytes());
                    let (acceptance, resp) = family.try_token(cx, &token).await;
                    if let Acceptance::Inconclusive(_) = acceptance {
                        continue 'families;
                    }
                    if let (Some(confidence), Some(resp)) = (acceptance.confidence(), resp) {
                        let form = if pem.contains("RSA PUBLIC KEY") {
                            "PKCS#1"
                        } else {
                            "SPKI"
                        };
                        let newline = if pem.ends_with('\n') { "with" } else { "without" };
                        findings.push(
                            Finding::new(
                                confidence,
                                family.endpoint(),
                                format!(
                                    "{} accepted an HS256 token signed with the published RSA public key ({form} PEM {newline} trailing newline) as the HMAC secret, and answered as {}: anyone can mint tokens for any user.",
                                    family.endpoint(),
                                    family.victim_phrase()
                                ),
                            )
                            .with_evidence(family.evidence(&resp)),
                        );
                        continue 'families;
                    }
                }
            }
        }
        findings.into()
    }
}
