use authprobe_core::{CheckMeta, CheckOutcome, Family, Finding, Requirement, ScanContext, Severity};
use authprobe_entropy::{Verdict, Weakness};

use super::sampling::{confidence, sampling};
use crate::support::owasp;

crate::declare_check! {
    /// ## What it does
    /// Compares every token the scan sampled or holds — cookies of anonymous GETs,
    /// token-like JSON fields of GET endpoints (fetched once per identity when they do not
    /// change), the keys and session ids the login flows issue the identities (and fresh
    /// logins of the primary account), JWT `jti`s — with MD5, SHA-1, SHA-256 and SHA-512
    /// digests (hex or base64, also truncated) and plain encodings of the identities'
    /// usernames, emails and ids, alone or with common salts (`secret`, `salt`, `token`, …)
    /// and counters, of the Unix times around the response `Date`, and of an identity
    /// joined to the login's time (`sha256(username + time)`).
    /// An exact match is a confirmed finding; tokens that merely decode to readable text
    /// are reported as firm.
    ///
    /// ## Why is this bad?
    /// A token computed from public data is known to everyone who can compute it: with
    /// `md5(username)` as the API key, any user's key is one hash away, and no login is
    /// needed at all. Salting with a constant does not help once the constant leaks (or
    /// is guessed, as here).
    ///
    /// ## Example
    /// ```python
    /// class LegacyApiKeyView(APIView):
    ///     def get(self, request):
    ///         key = hashlib.md5(request.user.username.encode()).hexdigest()
    ///         return Response({"key": key})
    /// ```
    ///
    /// ## Remediation
    /// Tokens must be random and stored, not computed; look them up instead of recomputing
    /// them. DRF's authtoken does it right:
    /// ```python
    /// from rest_framework.authtoken.models import Token
    ///
    /// token, _ = Token.objects.get_or_create(user=user)   # key = hex of 20 random bytes
    /// ```
    /// If a value must be derivable (an unsubscribe link), sign it with a secret key
    /// (`django.core.signing.dumps`) and give it an expiry.
    ///
    /// ## References
    /// - CWE-340: Generation of Predictable Numbers or Identifiers
    /// - CWE-330: Use of Insufficiently Random Values
    /// - OWASP API2:2023 Broken Authentication
    pub struct IdentityDerivedToken;
    meta = CheckMeta {
        code: "TOKEN003",
        slug: "identity-derived-token",
        title: "Token derived from the username, email, id or time",
        severity: Severity::Critical,
        cwe: &[340],
        owasp: &[owasp::API2],
        requires: Requirement::Active,
        family: Family::Tokens,
    };
    starts_first = true;
    shares = [TokenSamples];
}

impl IdentityDerivedToken {
    async fn check(&self, cx: &ScanContext) -> CheckOutcome {
        let sampling = sampling(cx).await;
        if sampling.sources.is_empty() {
            return CheckOutcome::skipped(
                sampling
                    .statistics_skip_reason()
                    .unwrap_or_else(|| "no token source found".to_string()),
            );
        }
        let mut findings = Vec::new();
        for source in &sampling.sources {
            let verdicts: Vec<&Verdict> = match &source.analysis {
                Some(a) => a.verdicts.iter().collect(),
                None => source.identity.iter().collect(),
            };
            let Some(verdict) = verdicts
                .into_iter()
                .filter(|v| v.weakness == Weakness::IdentityDerived)
                .max_by_key(|v| v.strength)
            else {
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
