//! Token families: for every JWT issuer the scan found, the tokens it issued to each
//! identity and the endpoint that verifies them, with oracle baselines. Every forging check
//! (alg none, stripped signatures, cracked keys, key confusion, header injection, psychic
//! signatures) sends its forgeries to a family's verifier and judges them here.
//!
//! A forged token is **confirmed** only when it is accepted *as another identity*: the
//! forgery carries the second identity's claims, and the verifier answers with that
//! identity's username while the primary identity is logged in. Accepted as the primary
//! identity (no second identity available) is **firm**.

use authprobe_core::auth::identity::Presentation;

use authprobe_core::discovery::EndpointKind;
use authprobe_core::oracle::{responses_match, Baseline, Verdict};
use authprobe_core::probe::ProbeRequest;
use authprobe_core::Shared;
use authprobe_core::{Confidence, ExchangeId, Finding, ProbeResponse, ScanContext};
use authprobe_jwt::Jwt;
use futures::StreamExt;
use serde_json::{Map, Value};
use std::sync::Arc;
use url::Url;

/// Verifier candidates tried per family (each costs one request).
const MAX_VERIFIER_CANDIDATES: usize = 12;

/// A JWT one identity obtained from one issuer.
#[derive(Debug, Clone)]
pub(crate) struct Issued {
    pub label: String,
    /// The username, which the verifier echoes for this identity.
    pub marker: String,
    pub token: String,
    pub jwt: Jwt,
    pub exchange: ExchangeId,
}

/// One issuer's tokens and where they are accepted.
#[derive(Debug, Clone)]
pub(crate) struct Family {
    pub issuer: Url,
    /// How the issuer's tokens are sent (the identity's learned presentation for the
    /// flow it logged in through; `Authorization: Bearer` for other issuers).
    pub presentation: Presentation,
    pub mine: Issued,
    pub other: Option<Issued>,
    pub verifier: Option<Verifier>,
}

#[derive(Debug, Clone)]
pub(crate) struct Verifier {
    pub url: Url,
    pub baseline: Baseline,
}

/// How a verifier treated a forged token.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Acceptance {
    /// Answered as the identity whose claims the forgery carried (not the one logged in).
    AsOther,
    /// Answered like the valid-credential baseline (no second identity to tell apart).
    AsSelf,
    Rejected,
    Inconclusive(String),
}

impl Acceptance {
    pub fn confidence(&self) -> Option<Confidence> {
        match self {
            Acceptance::AsOther => Some(Confidence::Confirmed),
            Acceptance::AsSelf => Some(Confidence::Firm),
            _ => None,
        }
    }
}

/// The families of this scan (computed once, shared by the JWT checks).
pub(crate) struct Families(pub Vec<Family>);

impl Family {
    pub fn alg(&self) -> &str {
        self.mine.jwt.alg().unwrap_or("")
    }

    /// The claims a forgery should carry: the second identity's when there is one.
    pub fn victim(&self) -> &Issued {
        self.other.as_ref().unwrap_or(&self.mine)
    }

    /// Who the forgery claims to be, for messages.
    pub fn victim_phrase(&self) -> String {
        match &self.other {
            Some(o) => format!(
                "`{}` (the second identity) while logged in as `{}`",
                o.label, self.mine.label
            ),
            None => format!("`{}`", self.mine.label),
        }
    }

    pub fn header(&self) -> &Map<String, Value> {
        &self.victim().jwt.header
    }

    pub fn claims(&self) -> &Map<String, Value> {
        &self.victim().jwt.claims
    }

    /// Sends `token` to the verifier and judges the answer.
    pub async fn try_token(&self, cx: &ScanContext, token: &str) -> (Acceptance, Option<ProbeResponse>) {
        let Some(verifier) = &self.verifier else {
            return (
                Acceptance::Inconclusive(format!("no endpoint accepts the tokens of {}", self.issuer.path())),
                None,
            );
        };
        if let Err(why) = verifier.baseline.distinguishable() {
            return (
                Acceptance::Inconclusive(format!("{}: {why}", verifier.url.path())),
                None,
            );
        }
        let req = self.presentation.apply(ProbeRequest::get(verifier.url.clone()), token);
        let Ok(resp) = cx.probe.send(req).await else {
            return (Acceptance::Inconclusive("the verifier did not answer".into()), None);
        };
        let verdict = judge(&verifier.baseline, &self.mine, self.other.as_ref(), &resp);
        (verdict, Some(resp))
    }

    /// Sends `forgeries` (description, token) in order and stops at the first the verifier
    /// accepts, returning a finding built by `message(description)`; stops early when the
    /// oracle cannot judge on this family's verifier.
    pub async fn first_accepted<D: Send + Sync>(
        &self,
        cx: &ScanContext,
        forgeries: Vec<(D, String)>,
        message: impl Fn(&D) -> String + Send + Sync,
    ) -> Result<Option<Finding>, String> {
        for (what, token) in forgeries {
            let (acceptance, resp) = self.try_token(cx, &token).await;
            if let Acceptance::Inconclusive(why) = acceptance {
                return Err(why);
            }
            if let (Some(confidence), Some(resp)) = (acceptance.confidence(), resp) {
                return Ok(Some(
                    Finding::new(confidence, self.endpoint(), message(&what)).with_evidence(self.evidence(&resp)),
                ));
            }
        }
        Ok(None)
    }

    /// Whether the verifier rejects the victim's token with one signature byte changed.
    /// Attacks that choose the key (kid, jwk, key confusion, psychic signatures) only mean
    /// something where signatures are verified at all; elsewhere JWT002 reports the cause.
    pub async fn verifies_signatures(&self, cx: &ScanContext) -> bool {
        let victim = &self.victim().jwt;
        let tampered = authprobe_jwt::forge::with_signature(
            &victim.header,
            &victim.claims,
            &authprobe_jwt::forge::tampered_signature(&victim.raw_signature),
        );
        matches!(self.try_token(cx, &tampered).await.0, Acceptance::Rejected)
    }

    /// The endpoint findings name: the verifier when known, else the issuer.
    pub fn endpoint(&self) -> String {
        self.verifier
            .as_ref()
            .map(|v| v.url.path().to_string())
            .unwrap_or_else(|| self.issuer.path().to_string())
    }

    /// Evidence for a finding: the forged request, the valid baseline, the issuing login.
    pub fn evidence(&self, forged: &ProbeResponse) -> Vec<ExchangeId> {
        let mut ids = vec![forged.exchange];
        if let Some(v) = &self.verifier {
            ids.push(v.baseline.valid.exchange);
        }
        ids.push(self.victim().exchange);
        ids
    }
}

/// The oracle for forgeries: as the other identity (confirmed), as self (firm), or not.
pub(crate) fn judge(baseline: &Baseline, mine: &Issued, other: Option<&Issued>, resp: &ProbeResponse) -> Acceptance {
    if let Err(why) = baseline.distinguishable() {
        return Acceptance::Inconclusive(why);
    }
    let body = String::from_utf8_lossy(&resp.body);
    if let Some(other) = other {
        let as_other = resp.status == baseline.valid.status
            && body.contains(other.marker.as_str())
            && !body.contains(mine.marker.as_str())
            && !responses_match(resp, &baseline.garbage)
            && !responses_match(resp, &baseline.anonymous);
        return if as_other {
            Acceptance::AsOther
        } else {
            Acceptance::Rejected
        };
    }
    match baseline.judge(resp) {
        Verdict::Accepted => Acceptance::AsSelf,
        Verdict::Rejected => Acceptance::Rejected,
        Verdict::Inconclusive(why) => Acceptance::Inconclusive(why),
    }
}

/// The tokens one issuer gave the scan's users (the first two credentials).
#[derive(Debug, Clone)]
pub(crate) struct IssuerTokens {
    pub issuer: Url,
    /// How the issuer's tokens are sent (see [`Family::presentation`]).
    pub presentation: Presentation,
    pub mine: Issued,
    pub other: Option<Issued>,
}

/// Every issuer's tokens, in the order of the scan's login flows: what offline cracking
/// needs, ready before the verifiers are found.
#[derive(Debug, Default)]
pub(crate) struct IssuedTokens(pub Vec<IssuerTokens>);

/// The scan's token families.
pub(crate) async fn families(cx: &ScanContext) -> Arc<Families> {
    cx.shared(Shared::JwtFamilies, || build(cx)).await
}

/// The tokens the scan's JWT issuers gave its users, logged in once for every check.
pub(crate) async fn issued_tokens(cx: &ScanContext) -> Arc<IssuedTokens> {
    // The offline cracking waits for these logins: they go first.
    cx.shared(Shared::JwtIssuerTokens, || cx.chain(log_in_at_every_issuer(cx)))
        .await
}

/// Logs the first two users in at every token login flow (configured or detected), through
/// the flow itself: its fields, its body, its credential extraction. One login at a time:
/// sent side by side, they trip login throttles.
async fn log_in_at_every_issuer(cx: &ScanContext) -> IssuedTokens {
    let issuers = cx.auth().jwt_issuers();
    let mut all = Vec::new();
    for flow in issuers {
        let issuer = flow.url.clone();
        let presentation = cx
            .identities
            .iter()
            .find(|i| i.login_url.as_ref() == Some(&issuer))
            .and_then(|i| i.presentation().cloned())
            .unwrap_or_else(Presentation::bearer);
        let mut issued = Vec::new();
        for user in cx.credentials.iter().take(2) {
            let Ok(identity) = flow.log_in(&cx.probe, user).await else {
                continue;
            };
            let Some(token) = identity.access_jwt.clone() else {
                continue;
            };
            let Ok(jwt) = Jwt::parse(&token) else { continue };
            issued.push(Issued {
                label: user.username.clone(),
                marker: user.username.clone(),
                token,
                jwt,
                exchange: identity.login_exchange.expect("a login records its exchange"),
            });
        }
        let mut issued = issued.into_iter();
        let Some(mine) = issued.next() else { continue };
        all.push(IssuerTokens {
            issuer,
            presentation,
            mine,
            other: issued.next(),
        });
    }
    IssuedTokens(all)
}

async fn build(cx: &ScanContext) -> Families {
    let issued = issued_tokens(cx).await;
    // Each issuer's verifier is looked for on its own: side by side, families in order.
    let mut families: Vec<Family> = futures::stream::iter(issued.0.iter().cloned())
        .map(|tokens| async move {
            let verifier = find_verifier(cx, &tokens.issuer, &tokens.mine, &tokens.presentation).await;
            Family {
                issuer: tokens.issuer,
                presentation: tokens.presentation,
                mine: tokens.mine,
                other: tokens.other,
                verifier,
            }
        })
        .buffered(cx.fan_out())
        .collect()
        .await;
    // A supplied `--bearer` JWT is a family of its own, verified where the scan uses it.
    if families.is_empty() {
        if let Some(identity) = cx.primary().filter(|i| i.login.is_none()) {
            if let (Some(token), Some(url)) = (identity.access_jwt.clone(), cx.oracle_endpoint()) {
                if let (Ok(jwt), Ok(baseline)) = (Jwt::parse(&token), cx.baseline(&url).await) {
                    let marker = identity.marker.clone().unwrap_or_default();
                    let mine = Issued {
                        label: identity.label.clone(),
                        marker,
                        token,
                        jwt,
                        exchange: baseline.valid.exchange,
                    };
                    families.push(Family {
                        issuer: cx.target.url.clone(),
                        presentation: identity.presentation().cloned().unwrap_or_else(Presentation::bearer),
                        mine,
                        other: None,
                        verifier: Some(Verifier { url, baseline }),
                    });
                }
            }
        }
    }
    Families(families)
}

/// The endpoint that accepts `mine`'s token: refused anonymously, answers with the
/// identity's username. Endpoints that share the issuer's path prefix are tried first.
pub(crate) async fn find_verifier(
    cx: &ScanContext,
    issuer: &Url,
    mine: &Issued,
    presentation: &Presentation,
) -> Option<Verifier> {
    let mut candidates: Vec<(usize, bool, Url)> = cx
        .inventory
        .endpoints
        .iter()
        .filter(|e| e.anonymously_refused() && matches!(e.kind, EndpointKind::Api | EndpointKind::IdentityCandidate))
        .map(|e| {
            (
                common_prefix(issuer.path(), e.path()),
                e.kind != EndpointKind::IdentityCandidate,
                e.url.clone(),
            )
        })
        .collect();
    candidates.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then(a.1.cmp(&b.1))
            .then(a.2.path().len().cmp(&b.2.path().len()))
    });
    for (_, _, url) in candidates.into_iter().take(MAX_VERIFIER_CANDIDATES) {
        let Ok(valid) = cx
            .probe
            .send(presentation.apply(ProbeRequest::get(url.clone()), &mine.token))
            .await
        else {
            continue;
        };
        if !valid.is_success() || !String::from_utf8_lossy(&valid.body).contains(mine.marker.as_str()) {
            continue;
        }
        let anonymous = match cx.inventory.get(&url).and_then(|e| e.anonymous_ok().cloned()) {
            Some(r) => r,
            None => cx.probe.send(ProbeRequest::get(url.clone())).await.ok()?,
        };
        let garbage = cx
            .probe
            .send(presentation.apply(ProbeRequest::get(url.clone()), &ScanContext::garbage_token()))
            .await
            .ok()?;
        let baseline = Baseline::new(valid, anonymous, garbage, Some(&mine.marker));
        // An endpoint that accepts garbage cannot judge forgeries; look further.
        if baseline.distinguishable().is_ok() {
            return Some(Verifier { url, baseline });
        }
    }
    None
}

/// Path segments two paths share from the start (`/api/rs/token/` and `/api/rs/me/`: 2).
fn common_prefix(a: &str, b: &str) -> usize {
    let segments = |p: &str| {
        p.split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    segments(a)
        .iter()
        .zip(segments(b).iter())
        .take_while(|(x, y)| x == y)
        .count()
}

/// Runs `attempt` on every family with a verifier and collects the first acceptance per
/// family; families whose oracle cannot judge are reported back as the skip reason when
/// nothing at all could be judged.
pub(crate) fn no_family_reason(families: &Families) -> Option<String> {
    if families.0.is_empty() {
        return Some("no JWT was obtained from any token endpoint (pass --user for an account on the target)".into());
    }
    if families.0.iter().all(|f| f.verifier.is_none()) {
        return Some("no endpoint was found that accepts the issued JWTs and refuses anonymous requests".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_verifier_search_prefers_the_issuers_neighbourhood() {
        assert!(common_prefix("/api/rs/token/", "/api/rs/me/") > common_prefix("/api/rs/token/", "/api/me/"));
        assert_eq!(common_prefix("/api/token/", "/api/token-login/"), 1);
    }
}
