//! Learning how a token is presented: `Authorization: <scheme>`, a bare `Authorization`,
//! or a header of its own. The sources, in order: what the login answer says
//! (`token_type`), the schemes the target's 401s challenge with (`WWW-Authenticate`),
//! header names its 401 bodies mention, then the common schemes. Each candidate is tried
//! on an endpoint that refuses anonymous callers; the first that gets a 2xx is kept.

use regex::Regex;
use std::sync::LazyLock;
use url::Url;

use crate::auth::identity::{Credential, Identity, Presentation};
use crate::discovery::{EndpointKind, Inventory};
use crate::probe::{Probe, ProbeRequest};

/// Most presentations tried for one token (each is one GET).
const MAX_TRIES: usize = 8;

/// Headers APIs commonly take a key in, tried after the `Authorization` forms.
const COMMON_HEADERS: &[&str] = &["X-API-Key", "X-Auth-Token", "X-Access-Token"];

static HEADER_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b[Xx]-[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+){0,4}\b").expect("valid regex"));

/// The schemes named by `WWW-Authenticate` challenges (`JWT realm="api"` → `JWT`), Basic
/// and Digest left out (they take no token).
pub fn challenged_schemes(inventory: &Inventory) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for e in &inventory.endpoints {
        let Some(resp) = e.anonymous_ok() else { continue };
        for value in resp.header_all("www-authenticate") {
            for challenge in value.split(',') {
                let Some(scheme) = challenge.split_whitespace().next() else {
                    continue;
                };
                if scheme.contains('=') || scheme.eq_ignore_ascii_case("basic") || scheme.eq_ignore_ascii_case("digest")
                {
                    continue;
                }
                if !out.iter().any(|s| s.eq_ignore_ascii_case(scheme)) {
                    out.push(scheme.to_string());
                }
            }
        }
    }
    out
}

/// Header names (`X-API-Key`) that the target's refusals mention.
pub fn mentioned_headers(inventory: &Inventory) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for e in &inventory.endpoints {
        let Some(resp) = e.anonymous_ok().filter(|r| matches!(r.status, 401 | 403)) else {
            continue;
        };
        let text = resp.text();
        for m in HEADER_NAME.find_iter(&text).take(4) {
            let name = m.as_str();
            let lower = name.to_ascii_lowercase();
            // Not credential headers.
            if lower.starts_with("x-csrf") || lower.starts_with("x-xsrf") || lower.starts_with("x-forwarded") {
                continue;
            }
            if !out.iter().any(|h| h.eq_ignore_ascii_case(name)) {
                out.push(name.to_string());
            }
        }
    }
    out
}

/// The `token_type` of an OAuth 2 answer as a scheme (`bearer` → `Bearer`).
pub fn scheme_from_token_type(token_type: &str) -> Option<String> {
    let t = token_type.trim();
    if t.is_empty() || t.contains(char::is_whitespace) {
        return None;
    }
    Some(if t.eq_ignore_ascii_case("bearer") {
        "Bearer".to_string()
    } else {
        t.to_string()
    })
}

/// The candidates to try after `first`, deduplicated, at most [`MAX_TRIES`] in all.
pub fn candidates(first: &Presentation, challenged: &[String], mentioned: &[String]) -> Vec<Presentation> {
    let mut out = vec![first.clone()];
    let mut push = |p: Presentation| {
        let dup = out.iter().any(|q| match (q, &p) {
            (Presentation::Scheme(a), Presentation::Scheme(b)) => a.eq_ignore_ascii_case(b),
            (Presentation::Header(a), Presentation::Header(b)) => a.eq_ignore_ascii_case(b),
            (a, b) => a == b,
        });
        if !dup {
            out.push(p);
        }
    };
    for scheme in challenged {
        push(Presentation::Scheme(scheme.clone()));
    }
    for header in mentioned {
        push(Presentation::Header(header.clone()));
    }
    for scheme in ["Bearer", "Token", "JWT"] {
        push(Presentation::Scheme(scheme.into()));
    }
    push(Presentation::RawAuthorization);
    for header in COMMON_HEADERS {
        push(Presentation::Header((*header).into()));
    }
    out.truncate(MAX_TRIES);
    out
}

/// Endpoints to try a presentation on: they refuse anonymous callers, so a 2xx means the
/// token was understood. The identity flows and identity-like endpoints first.
pub fn verification_urls(inventory: &Inventory, identity_flows: &[Url]) -> Vec<Url> {
    let mut out: Vec<Url> = identity_flows.to_vec();
    // Shallowest first: `/api/me/` is the API's own, `/api/es/me/` a side door of it.
    let refused = |k: EndpointKind| {
        let mut urls: Vec<Url> = inventory
            .of_kind(k)
            .filter(|e| e.anonymously_refused())
            .map(|e| e.url.clone())
            .collect();
        urls.sort_by_key(|u| (u.path().matches('/').count(), u.path().len()));
        urls
    };
    for url in refused(EndpointKind::IdentityCandidate)
        .into_iter()
        .chain(refused(EndpointKind::Api))
        .chain(refused(EndpointKind::Other))
    {
        // Only the first three are kept: no need to look further (a spec may list thousands).
        if out.len() >= 3 {
            break;
        }
        if !out.contains(&url) {
            out.push(url);
        }
    }
    out.truncate(3);
    out
}

/// Settles how `identity`'s token is presented on `urls` (from [`verification_urls`]):
/// keeps the current presentation when the target accepts it, else the first candidate
/// that it accepts. Returns whether one was accepted (`None`: nothing to try it on, or an
/// answer that says nothing about the token, so nothing could be verified).
pub async fn settle(probe: &Probe, inventory: &Inventory, urls: &[Url], identity: &mut Identity) -> Option<bool> {
    let Credential::Token { value, presentation } = &identity.credential else {
        return None;
    };
    if urls.is_empty() {
        return None;
    }
    let value = value.clone();
    let tries = candidates(
        presentation,
        &challenged_schemes(inventory),
        &mentioned_headers(inventory),
    );
    // Each endpoint may belong to another issuer (a second token family): a presentation
    // counts as refused only when every endpoint refuses it.
    for p in tries {
        for url in urls {
            let Ok(resp) = probe.send(p.apply(ProbeRequest::get(url.clone()), &value)).await else {
                return None;
            };
            if resp.is_success() {
                identity.credential = Credential::Token { value, presentation: p };
                return Some(true);
            }
            // Only a refusal says "not like this"; a 404 or a 500 says nothing about the token.
            if !matches!(resp.status, 400 | 401 | 403 | 422) {
                return None;
            }
        }
    }
    Some(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_put_the_challenge_first_and_never_repeat() {
        let got = candidates(
            &Presentation::bearer(),
            &["JWT".into(), "bearer".into()],
            &["X-API-Key".into()],
        );
        assert_eq!(
            got,
            vec![
                Presentation::bearer(),
                Presentation::Scheme("JWT".into()),
                Presentation::Header("X-API-Key".into()),
                Presentation::Scheme("Token".into()),
                Presentation::RawAuthorization,
                Presentation::Header("X-Auth-Token".into()),
                Presentation::Header("X-Access-Token".into()),
            ]
        );
    }

    #[test]
    fn token_types_become_schemes() {
        assert_eq!(scheme_from_token_type("bearer").as_deref(), Some("Bearer"));
        assert_eq!(scheme_from_token_type("JWT").as_deref(), Some("JWT"));
        assert_eq!(scheme_from_token_type(""), None);
    }
}
