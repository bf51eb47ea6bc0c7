//! Learning how a token is presented: `Authorization: <scheme>`, a bare `Authorization`,
//! a header of its own or a cookie. The sources, in order: the headers and cookies the
//! API's spec names in its `apiKey` schemes, what the login answer says (`token_type`),
//! the schemes the target's 401s challenge with (`WWW-Authenticate`), header names its
//! 401 bodies mention, `Bearer`, a header named after the field the token came in
//! (`session_token` → `X-Session-Token`), the other common schemes, a cookie named like
//! the field, then the common key headers.
//! Each candidate is tried on an endpoint that refuses anonymous callers; the first that
//! gets a 2xx is kept. The query parameters a token may be accepted in (which AUTH003
//! tries) are named here too.

use regex::Regex;
use std::sync::LazyLock;
use url::Url;

use crate::auth::identity::{Credential, Identity, Presentation};
use crate::discovery::{EndpointKind, Inventory};
use crate::probe::{Probe, ProbeRequest};

/// Most presentations tried for one token (each is one GET per verification URL).
const MAX_TRIES: usize = 10;

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

/// Query parameters that authentication libraries and hand-written middleware read tokens
/// and API keys from, most common first.
pub const QUERY_TOKEN_PARAMETERS: &[&str] = &[
    "access_token",
    "token",
    "api_key",
    "auth_token",
    "jwt",
    "apikey",
    "key",
    "api-key",
];

/// Most query parameters a token is tried in.
pub const MAX_QUERY_PARAMETERS: usize = 9;

/// The query parameters a token may be accepted in, most likely first: the ones the API's
/// spec declares (`declared`), the field the login's answer carried the token in when
/// its name has two words or more (`session_token`), then [`QUERY_TOKEN_PARAMETERS`]; no
/// repeats, at most [`MAX_QUERY_PARAMETERS`].
pub fn query_parameters(declared: &[String], token_field: Option<&str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    // A field of two words or more (`session_token`, `authToken`): a lone `access` or `key`
    // is no parameter name of its own (and `token`, `key` are common names already).
    let field = token_field.filter(|f| header_for_field(f).is_some_and(|h| h.matches('-').count() >= 2));
    let names = declared
        .iter()
        .map(String::as_str)
        .chain(field)
        .chain(QUERY_TOKEN_PARAMETERS.iter().copied());
    for name in names {
        if !out.iter().any(|p| p.eq_ignore_ascii_case(name)) {
            out.push(name.to_string());
        }
    }
    out.truncate(MAX_QUERY_PARAMETERS);
    out
}

/// The header named after the field a token came in: `X-` and the field's words, each
/// capitalised, joined by hyphens (`session_token` → `X-Session-Token`, `authToken` →
/// `X-Auth-Token`, `api_key` → `X-API-Key`). `None` for a field that is no name.
pub fn header_for_field(field: &str) -> Option<String> {
    if field.is_empty()
        || field.len() > 40
        || !field
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return None;
    }
    let mut words: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut prev_lower = false;
    for c in field.chars() {
        if c == '_' || c == '-' {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        current.push(c.to_ascii_lowercase());
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
    }
    if !current.is_empty() {
        words.push(current);
    }
    // A field named as a header already (`x_auth_token`).
    if words.first().is_some_and(|w| w == "x") {
        words.remove(0);
    }
    if words.is_empty() {
        return None;
    }
    let cased: Vec<String> = words
        .iter()
        .map(|w| match w.as_str() {
            "api" => "API".to_string(),
            _ => {
                let mut chars = w.chars();
                let first = chars.next().map(|c| c.to_ascii_uppercase()).unwrap_or_default();
                format!("{first}{}", chars.as_str())
            }
        })
        .collect();
    Some(format!("X-{}", cased.join("-")))
}

/// What settling knows before it tries: the spec's key schemes (tried first) and the field
/// the token came in.
#[derive(Debug, Clone, Default)]
pub struct Hints<'a> {
    pub declared: &'a [Presentation],
    pub token_field: Option<&'a str>,
}

/// The candidates to try, deduplicated, at most [`MAX_TRIES`] in all: the spec's key
/// schemes, `first`, the challenged schemes, the mentioned headers, `Bearer`, the header
/// named after the token's field, the other common schemes, a bare `Authorization`, a
/// cookie named like the field, then the common key headers.
pub fn candidates(
    first: &Presentation,
    hints: &Hints<'_>,
    challenged: &[String],
    mentioned: &[String],
) -> Vec<Presentation> {
    let mut out: Vec<Presentation> = Vec::new();
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
    for p in hints.declared {
        push(p.clone());
    }
    push(first.clone());
    for scheme in challenged {
        push(Presentation::Scheme(scheme.clone()));
    }
    for header in mentioned {
        push(Presentation::Header(header.clone()));
    }
    push(Presentation::bearer());
    let field = hints.token_field.filter(|f| header_for_field(f).is_some());
    if let Some(header) = field.and_then(header_for_field) {
        push(Presentation::Header(header));
    }
    for scheme in ["Token", "JWT"] {
        push(Presentation::Scheme(scheme.into()));
    }
    push(Presentation::RawAuthorization);
    if let Some(field) = field {
        push(Presentation::Cookie(field.to_string()));
    }
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
    let hints = Hints {
        declared: &identity.declared_presentations,
        token_field: identity.token_field.as_deref(),
    };
    let tries = candidates(
        presentation,
        &hints,
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
            &Hints::default(),
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
    fn the_specs_key_header_goes_first_and_the_fields_own_header_follows_bearer() {
        let declared = [Presentation::Header("X-Auth-Key".into())];
        let hints = Hints {
            declared: &declared,
            token_field: Some("session_token"),
        };
        let got = candidates(&Presentation::bearer(), &hints, &[], &[]);
        assert_eq!(
            &got[..4],
            &[
                Presentation::Header("X-Auth-Key".into()),
                Presentation::bearer(),
                Presentation::Header("X-Session-Token".into()),
                Presentation::Scheme("Token".into()),
            ]
        );
        assert!(got.len() <= MAX_TRIES);
        assert!(got.contains(&Presentation::Cookie("session_token".into())));
        assert!(got.contains(&Presentation::Header("X-Access-Token".into())), "{got:?}");
    }

    #[test]
    fn headers_are_named_after_token_fields() {
        assert_eq!(header_for_field("session_token").as_deref(), Some("X-Session-Token"));
        assert_eq!(header_for_field("auth_token").as_deref(), Some("X-Auth-Token"));
        assert_eq!(header_for_field("api_key").as_deref(), Some("X-API-Key"));
        assert_eq!(header_for_field("apiKey").as_deref(), Some("X-API-Key"));
        assert_eq!(header_for_field("accessToken").as_deref(), Some("X-Access-Token"));
        assert_eq!(header_for_field("x-auth-token").as_deref(), Some("X-Auth-Token"));
        assert_eq!(header_for_field("token").as_deref(), Some("X-Token"));
        assert_eq!(header_for_field("a b"), None);
        assert_eq!(header_for_field(""), None);
    }

    #[test]
    fn query_parameters_put_the_declared_and_the_tokens_field_first() {
        let got = query_parameters(&["api_key".into(), "x_token".into()], Some("session_token"));
        assert_eq!(&got[..3], &["api_key", "x_token", "session_token"]);
        assert_eq!(got.iter().filter(|p| *p == "api_key").count(), 1);
        assert_eq!(got.len(), MAX_QUERY_PARAMETERS);
        let plain = query_parameters(&[], None);
        assert_eq!(plain.len(), QUERY_TOKEN_PARAMETERS.len());
        assert_eq!(query_parameters(&[], Some("a b=")).len(), QUERY_TOKEN_PARAMETERS.len());
        assert_eq!(
            query_parameters(&[], Some("access")).len(),
            QUERY_TOKEN_PARAMETERS.len()
        );
        assert_eq!(query_parameters(&[], Some("authToken"))[0], "authToken");
    }

    #[test]
    fn token_types_become_schemes() {
        assert_eq!(scheme_from_token_type("bearer").as_deref(), Some("Bearer"));
        assert_eq!(scheme_from_token_type("JWT").as_deref(), Some("JWT"));
        assert_eq!(scheme_from_token_type(""), None);
    }
}
