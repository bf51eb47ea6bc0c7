use authprobe_core::{CheckMeta, CheckOutcome, Confidence, Family, Finding, Requirement, ScanContext, Severity};
use authprobe_jwt::Jwt;
use serde_json::Value;

use super::{IssuedTokens, NO_JWT};
use crate::support::owasp;

crate::declare_check! {
    /// ## What it does
    /// Decodes the access JWT the scan's identity was issued (the claims only; nothing is
    /// sent) and reports when it carries no audience (`aud`) or no issuer (`iss`) claim,
    /// saying which one is missing.
    ///
    /// When JWT003 recovered the signing key, it also signs a token (with the second
    /// identity's claims) for another audience and issuer and sends it to the verifier:
    /// accepted as that identity means `aud`/`iss` are not verified (high, confirmed).
    ///
    /// ## Why is this bad?
    /// Without `aud` and `iss` a token says nothing about who minted it or which service
    /// it is for. Every service that shares the signing key (a staging copy, another
    /// microservice, an internal tool using the same `SECRET_KEY`) accepts every other
    /// service's tokens: a token obtained from the least protected one works on all of
    /// them. With simplejwt, `AUDIENCE` and `ISSUER` default to `None`, and then they are
    /// neither set nor checked.
    ///
    /// ## Example
    /// ```python
    /// # settings.py: the same SIGNING_KEY is used by the API, the admin API and staging
    /// SIMPLE_JWT = {
    ///     "SIGNING_KEY": env("JWT_SIGNING_KEY"),
    ///     # AUDIENCE and ISSUER left at None: tokens are not bound to this service
    /// }
    /// ```
    ///
    /// ## Remediation
    /// Set both, one audience per service; simplejwt then writes them into every token
    /// and rejects tokens whose `aud`/`iss` do not match:
    /// ```python
    /// SIMPLE_JWT = {
    ///     "SIGNING_KEY": env("JWT_SIGNING_KEY"),   # a distinct key per environment
    ///     "AUDIENCE": "https://api.example.com",
    ///     "ISSUER": "https://auth.example.com",
    /// }
    /// ```
    ///
    /// ## References
    /// - CWE-287: Improper Authentication
    /// - OWASP API2:2023 Broken Authentication
    /// - RFC 8725 §3.9 (use and validate audience) and §3.10 (do not trust received claims) — https://www.rfc-editor.org/rfc/rfc8725
    /// - simplejwt settings: `AUDIENCE`, `ISSUER` — https://django-rest-framework-simplejwt.readthedocs.io/en/latest/settings.html
    pub struct JwtMissingAudIss;
    meta = CheckMeta {
        code: "JWT006",
        slug: "jwt-missing-aud-iss",
        title: "JWT without audience or issuer",
        severity: Severity::Low,
        cwe: &[287],
        owasp: &[owasp::API2],
        requires: Requirement::Identity,
        family: Family::Jwt,
    };
    severities = [Severity::Low, Severity::High];
    shares = [JwtFamilies, Cracking];
}

impl JwtMissingAudIss {
    async fn check(&self, cx: &ScanContext) -> CheckOutcome {
        let Some(tokens) = IssuedTokens::of_primary(cx) else {
            return CheckOutcome::skipped(NO_JWT);
        };
        let Some(access) = &tokens.access else {
            return CheckOutcome::skipped("no access JWT was obtained: only a refresh token could be decoded");
        };
        let mut findings = Vec::new();
        if let Some(what) = missing_binding(access) {
            let message = format!(
                "The access JWT {} carries {what}, so nothing in it binds it to this API: a service that shares the signing key cannot tell it from a token minted for itself.",
                tokens.provenance(cx)
            );
            findings.push(
                Finding::new(Confidence::Confirmed, tokens.source(cx), message)
                    .with_severity(Severity::Low)
                    .with_evidence(tokens.evidence()),
            );
        }
        findings.extend(wrong_audience_accepted(cx).await);
        findings.into()
    }
}

/// With a signing key recovered by JWT003: a token for another audience and issuer,
/// signed with the real key, accepted by the verifier (high).
async fn wrong_audience_accepted(cx: &ScanContext) -> Vec<Finding> {
    let cracked = super::cracking::cracked(cx).await;
    let families = super::families::families(cx).await;
    let mut out = Vec::new();
    for (index, recovered) in &cracked.jwt {
        let family = &families.0[*index];
        let Some(alg) = authprobe_jwt::forge::HmacAlg::from_alg(family.alg()) else {
            continue;
        };
        let mut claims = family.claims().clone();
        claims.insert(
            "aud".into(),
            serde_json::Value::String("https://authprobe.invalid/another-api".into()),
        );
        claims.insert(
            "iss".into(),
            serde_json::Value::String("https://authprobe.invalid/".into()),
        );
        let token = authprobe_jwt::forge::sign_hmac(alg, family.header(), &claims, &recovered.secret);
        let (acceptance, resp) = family.try_token(cx, &token).await;
        if let (super::families::Acceptance::AsOther, Some(resp)) = (acceptance, resp) {
            out.push(
                Finding::new(
                    Confidence::Confirmed,
                    family.endpoint(),
                    format!(
                        "{} accepted a token for another audience and issuer (signed with the recovered key) and answered as {}: `aud` and `iss` are not verified.",
                        family.endpoint(),
                        family.victim_phrase()
                    ),
                )
                .with_severity(Severity::High)
                .with_evidence(family.evidence(&resp)),
            );
            break;
        }
    }
    out
}

/// What the token lacks, as a phrase (`neither an `aud` nor an `iss` claim`), or `None`
/// when it carries both.
pub fn missing_binding(token: &Jwt) -> Option<&'static str> {
    match (has_claim(token, "aud"), has_claim(token, "iss")) {
        (true, true) => None,
        (false, false) => Some("neither an audience (`aud`) nor an issuer (`iss`) claim"),
        (false, true) => Some("no audience (`aud`) claim (it has an issuer)"),
        (true, false) => Some("no issuer (`iss`) claim (it has an audience)"),
    }
}

/// A claim that is present and not empty (`null`, `""` and `[]` bind nothing).
fn has_claim(token: &Jwt, name: &str) -> bool {
    match token.claims.get(name) {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) => !s.trim().is_empty(),
        Some(Value::Array(items)) => !items.is_empty(),
        Some(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    use crate::jwt::test_jwt as jwt;

    #[test]
    fn a_token_with_audience_and_issuer_passes() {
        let t = jwt(json!({"token_type":"access","aud":"authprobe-testbed-api","iss":"https://testbed.local"}));
        assert_eq!(missing_binding(&t), None);
        let list = jwt(json!({"aud":["a","b"],"iss":"https://testbed.local"}));
        assert_eq!(missing_binding(&list), None);
    }

    #[test]
    fn simplejwt_defaults_carry_neither() {
        let t = jwt(json!({"token_type":"access","exp":1,"iat":0,"jti":"j","user_id":1}));
        assert!(missing_binding(&t).unwrap().contains("neither"));
    }

    #[test]
    fn the_message_names_the_one_missing_claim() {
        let no_aud = missing_binding(&jwt(json!({"iss":"https://testbed.local"}))).unwrap();
        assert!(no_aud.starts_with("no audience"), "{no_aud}");
        let no_iss = missing_binding(&jwt(json!({"aud":"api"}))).unwrap();
        assert!(no_iss.starts_with("no issuer"), "{no_iss}");
    }

    #[test]
    fn empty_values_bind_nothing() {
        assert!(missing_binding(&jwt(json!({"aud":"","iss":null})))
            .unwrap()
            .contains("neither"));
        assert!(missing_binding(&jwt(json!({"aud":[],"iss":"x"}))).is_some());
    }
}
