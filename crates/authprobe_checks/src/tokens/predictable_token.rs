use authprobe_core::{CheckMeta, CheckOutcome, Confidence, Family, Finding, Requirement, ScanContext, Severity};
use authprobe_entropy::Weakness;

use super::sampling::{confidence, sampling};
use crate::support::owasp;

crate::declare_check! {
    /// ## What it does
    /// Reads the tokens sampled for TOKEN001 (cookies of anonymous GETs, token-like JSON
    /// fields of GET endpoints) as numbers in every radix that fits and looks for structure:
    /// counters and monotonic sequences (also inside a token, e.g. `inv-000123-x7`), linear
    /// congruential generators (modulus, multiplier and increment recovered from the
    /// sample), Unix times close to the response `Date` (decimal, or hex as in MongoDB
    /// ObjectIds) and version-1 UUIDs. When the structure names the next tokens, the check
    /// asks for one more: the finding is confirmed only if the server issues one of them.
    ///
    /// ## Why is this bad?
    /// A token that follows from the previous one is no secret: whoever receives one
    /// invite code, reset token or session id computes the ones issued to other users next,
    /// and redeems them first. Time-derived tokens shrink the search to the few thousand
    /// values around the moment of issue.
    ///
    /// ## Example
    /// ```python
    /// _counter = itertools.count(1)
    ///
    /// class InviteCodeView(APIView):
    ///     def get(self, request):
    ///         return Response({"key": str(40_000_000 + next(_counter))})
    /// ```
    ///
    /// ## Remediation
    /// Never derive tokens from counters, clocks or non-cryptographic generators (`random`,
    /// `uuid1`); keep a sequential id as the primary key if you need one and hand out a random
    /// token beside it:
    /// ```python
    /// from django.utils.crypto import get_random_string
    ///
    /// invite = Invite.objects.create(code=get_random_string(32))   # id stays internal
    /// ```
    ///
    /// ## References
    /// - CWE-330: Use of Insufficiently Random Values
    /// - CWE-341: Predictable from Observable State
    /// - OWASP API2:2023 Broken Authentication
    pub struct PredictableToken;
    meta = CheckMeta {
        code: "TOKEN002",
        slug: "predictable-token",
        title: "Sequential, counter- or time-derived token",
        severity: Severity::Critical,
        cwe: &[330],
        owasp: &[owasp::API2],
        requires: Requirement::Active,
        family: Family::Tokens,
    };
    starts_first = true;
    shares = [TokenSamples];
}

impl PredictableToken {
    async fn check(&self, cx: &ScanContext) -> CheckOutcome {
        let sampling = sampling(cx).await;
        if let Some(reason) = sampling.statistics_skip_reason() {
            return CheckOutcome::skipped(reason);
        }
        let mut findings = Vec::new();
        for source in sampling.issued() {
            let Some(analysis) = &source.analysis else { continue };
            let Some(verdict) = analysis.verdict(Weakness::Predictable) else {
                continue;
            };
            let mut evidence = source.evidence.clone();
            let (confidence, proof) = match &source.prediction_hit {
                Some((kind, id)) => {
                    evidence.push(*id);
                    (
                        Confidence::Confirmed,
                        format!(
                            " The scanner predicted the next token from the {kind} (at most {} candidates) and the server then issued one of them.",
                            authprobe_entropy::structure::PREDICTION_WINDOW
                        ),
                    )
                }
                None if source.prediction_missed => (
                    Confidence::Tentative,
                    " The next token the server issued was not among the predicted ones.".to_string(),
                ),
                // Offline proof (a generator reproducing the whole sample) without the live
                // test is strong, not confirmed.
                None => (confidence(verdict.strength).min(Confidence::Firm), String::new()),
            };
            findings.push(
                Finding::new(
                    confidence,
                    source.endpoint.clone(),
                    format!("{}: {}.{proof} {}", source.label, verdict.summary, source.figures()),
                )
                .with_evidence(evidence),
            );
        }
        findings.into()
    }
}
