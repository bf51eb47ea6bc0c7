use authprobe_core::{CheckMeta, CheckOutcome, Family as CheckFamily, Finding, Requirement, ScanContext, Severity};
use authprobe_jwt::forge::{self, HmacAlg};
use serde_json::Value;

use super::families::{families, no_family_reason, Acceptance, Family};
use crate::support::owasp;

/// `kid` values that make a naive key lookup return a key the attacker knows, with it.
const KID_INJECTIONS: &[(&str, &str, &[u8])] = &[
    (
        "path traversal to /dev/null (empty key)",
        "../../../../../../../../../../dev/null",
        b"",
    ),
    (
        "SQL injection returning a chosen key",
        "authprobe' UNION SELECT 'authprobe' -- ",
        b"authprobe",
    ),
];

crate::declare_check! {
    /// ## What it does
    /// Tests whether the verifier lets the token's header choose the verification key. For
    /// HMAC token families it forges tokens (carrying the second identity's claims) whose
    /// `kid` is a path traversal to `/dev/null` (signed with the empty key) or an SQL
    /// injection that returns a known key (signed with it). For RSA token families it signs
    /// with the scanner's own RSA key and embeds that key's public half as a `jwk` header.
    /// **Confirmed** when the verifier answers as the identity named in the forged claims.
    /// (`jku`/`x5u` URLs need a callback server the scanner does not run yet.)
    ///
    /// ## Why is this bad?
    /// Header parameters are attacker-controlled. A `kid` used as a file name or in SQL picks
    /// a key the attacker knows; a trusted embedded `jwk` means the token vouches for itself.
    /// Either way anyone can mint tokens for any account.
    ///
    /// ## Example
    /// ```python
    /// def key_for(raw):
    ///     kid = jwt.get_unverified_header(raw)["kid"]
    ///     return open(os.path.join(settings.JWT_KEYS_DIR, kid), "rb").read()   # kid = "../../dev/null"
    ///
    /// def verify_partner(raw):
    ///     jwk = jwt.get_unverified_header(raw)["jwk"]                         # the token's own key
    ///     return jwt.decode(raw, jwt.PyJWK(jwk).key, algorithms=["RS256"])
    /// ```
    ///
    /// ## Remediation
    /// Resolve `kid` against a fixed table of your own keys and reject unknown ids; never
    /// take keys from the token:
    /// ```python
    /// KEYS = {"2024-06": settings.JWT_KEY_2024_06, "2024-12": settings.JWT_KEY_2024_12}
    /// key = KEYS.get(jwt.get_unverified_header(raw).get("kid"))
    /// if key is None:
    ///     raise AuthenticationFailed("unknown key id")
    /// jwt.decode(raw, key, algorithms=["HS256"])
    /// # RS256: fetch keys only from your own JWKS URL (PyJWKClient(settings.JWKS_URL)).
    /// ```
    ///
    /// ## References
    /// - RFC 7515 §4.1.3–4.1.5 (`jku`, `jwk`, `kid`); RFC 8725 §3.10
    /// - CWE-347: Improper Verification of Cryptographic Signature
    /// - OWASP API2:2023 Broken Authentication
    pub struct JwtHeaderInjection;
    meta = CheckMeta {
        code: "JWT009",
        slug: "jwt-header-injection",
        title: "JWT header chooses its own key (kid injection, embedded jwk)",
        severity: Severity::Critical,
        cwe: &[347],
        owasp: &[owasp::API2],
        requires: Requirement::Identity,
        family: CheckFamily::Jwt,
    };
}

impl JwtHeaderInjection {
    async fn check(&self, cx: &ScanContext) -> CheckOutcome {
        let families = families(cx).await;
        if let Some(reason) = no_family_reason(&families) {
            return CheckOutcome::skipped(reason);
        }
        let mut findings = Vec::new();
        for family in families.0.iter().filter(|f| f.verifier.is_some()) {
            if !family.verifies_signatures(cx).await {
                continue;
            }
            let attempts = forgeries(family);
            for (what, token) in attempts {
                let (acceptance, resp) = family.try_token(cx, &token).await;
                if let Acceptance::Inconclusive(_) = acceptance {
                    break;
                }
                if let (Some(confidence), Some(resp)) = (acceptance.confidence(), resp) {
                    findings.push(
                        Finding::new(
                            confidence,
                            family.endpoint(),
                            format!(
                                "{} accepted a token whose header chose its own key ({what}) and answered as {}.",
                                family.endpoint(),
                                family.victim_phrase()
                            ),
                        )
                        .with_evidence(family.evidence(&resp)),
                    );
                    break;
                }
            }
        }
        findings.into()
    }
}

/// The header-injection forgeries that apply to a family's algorithm.
fn forgeries(family: &Family) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(alg) = HmacAlg::from_alg(family.alg()) {
        for (what, kid, key) in KID_INJECTIONS {
            let mut header = family.header().clone();
            header.insert("kid".into(), Value::String((*kid).into()));
            out.push((
                format!("`kid` {what}"),
                forge::sign_hmac(alg, &header, family.claims(), key),
            ));
        }
    }
    if family.alg().starts_with("RS") || family.alg().starts_with("PS") {
        out.push((
            "an embedded `jwk` header with the scanner's own RSA key".to_string(),
            forge::sign_with_embedded_jwk(family.header(), family.claims()),
        ));
    }
    out
}
