use authprobe_core::{
    CheckMeta, CheckOutcome, Confidence, Family as CheckFamily, Finding, Requirement, ScanContext, Severity,
};
use authprobe_jwt::forge::{self, HmacAlg};

use super::cracking::{cracked, display_secret, looks_like_django_key, DJANGO_KEY_CONSEQUENCES};
use super::families::{families, Acceptance};
use crate::support::owasp;

crate::declare_check! {
    /// ## What it does
    /// Cracks the HMAC key of every HS256/HS384/HS512 token the API issued, offline and in
    /// parallel with the other checks, within `--crack-time` (CPU time on every core, shared
    /// by the tokens and cookies cracked): first the secrets JWT libraries' and frameworks'
    /// own docs use as examples (golang-jwt's `AllYourBase`, express-jwt's
    /// `shhhhhhared-secret`, Flask-JWT-Extended's `super-secret`, FastAPI's tutorial key, …;
    /// the finding names the docs), then the empty key, common JWT secrets and tutorial
    /// placeholders with simple mutations, Django keys known to be published, then any
    /// `--wordlist`. With the key, it signs a token carrying the
    /// second identity's claims and sends it to the verifier: **confirmed** when the verifier
    /// answers as that identity.
    ///
    /// ## Why is this bad?
    /// The HMAC key is the only thing that makes a JWT trustworthy. A guessable key lets
    /// anyone mint tokens for any user, forever, without touching the server. For simplejwt
    /// with default settings the key *is* Django's `SECRET_KEY`, which also signs sessions,
    /// password-reset tokens and signed cookies.
    ///
    /// ## Example
    /// ```python
    /// SIMPLE_JWT = {"SIGNING_KEY": "secret123"}
    /// # or simplejwt's default SIGNING_KEY = SECRET_KEY with the startproject key committed:
    /// SECRET_KEY = "django-insecure-…"
    /// ```
    ///
    /// ## Remediation
    /// Generate a long random key, keep it out of the repository, and give JWTs their own
    /// key so a leak of one does not expose the other:
    /// ```python
    /// # python -c "import secrets; print(secrets.token_urlsafe(64))"
    /// SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
    /// SIMPLE_JWT = {"SIGNING_KEY": os.environ["JWT_SIGNING_KEY"], "ALGORITHM": "HS256"}
    /// ```
    /// After a leak, rotate the key (all tokens and sessions become invalid) and consider an
    /// asymmetric algorithm (RS256/ES256) so verifiers never hold the signing key.
    ///
    /// ## References
    /// - RFC 8725 §3.5 (HMAC keys must have enough entropy)
    /// - Django: `SECRET_KEY` — https://docs.djangoproject.com/en/stable/ref/settings/#secret-key
    /// - CWE-1391: Use of Weak Credentials
    pub struct JwtWeakSecret;
    meta = CheckMeta {
        code: "JWT003",
        slug: "jwt-weak-secret",
        title: "JWT HMAC secret recovered",
        severity: Severity::Critical,
        cwe: &[1391],
        owasp: &[owasp::API2],
        requires: Requirement::Identity,
        family: CheckFamily::Jwt,
    };
    starts_first = true;
    shares = [JwtFamilies, Cracking];
}

impl JwtWeakSecret {
    async fn check(&self, cx: &ScanContext) -> CheckOutcome {
        let families = families(cx).await;
        if !families.0.iter().any(|f| HmacAlg::from_alg(f.alg()).is_some()) {
            return CheckOutcome::skipped("no HMAC-signed (HS256/384/512) JWT was obtained");
        }
        let cracked = cracked(cx).await;
        let mut findings = Vec::new();
        let mut reported_keys: Vec<&[u8]> = Vec::new();
        for (index, recovered) in &cracked.jwt {
            let family = &families.0[*index];
            if reported_keys.contains(&recovered.secret.as_slice()) {
                continue;
            }
            let Some(alg) = HmacAlg::from_alg(family.alg()) else {
                continue;
            };
            let forged = forge::sign_hmac(alg, family.header(), family.claims(), &recovered.secret);
            let (acceptance, resp) = family.try_token(cx, &forged).await;
            // The key reproduces the server's own signature, so recovery itself is certain;
            // a forged token accepted as another identity is the confirmation users need.
            let confidence = match acceptance {
                Acceptance::AsOther => Confidence::Confirmed,
                _ => Confidence::Firm,
            };
            let mut message = format!(
                "The {} key of the tokens issued by {} was recovered offline in {} ms: {}.",
                family.alg(),
                family.issuer.path(),
                recovered.elapsed_ms,
                display_secret(cx, &recovered.secret)
            );
            if let Some(docs) = recovered.documented_in {
                message.push_str(&format!(
                    " It is the example key printed in {docs}: a value copied from documentation."
                ));
            }
            if let (Acceptance::AsOther | Acceptance::AsSelf, Some(_)) = (&acceptance, &resp) {
                message.push_str(&format!(
                    " A token signed with it was accepted by {} as {}.",
                    family.endpoint(),
                    family.victim_phrase()
                ));
            }
            if looks_like_django_key(&recovered.secret) {
                message.push(' ');
                message.push_str(DJANGO_KEY_CONSEQUENCES);
            }
            let mut evidence = Vec::new();
            if let Some(resp) = &resp {
                evidence.extend(family.evidence(resp));
            } else {
                evidence.push(recovered.exchange);
            }
            findings.push(Finding::new(confidence, family.endpoint(), message).with_evidence(evidence));
            reported_keys.push(&recovered.secret);
        }
        findings.into()
    }
}
