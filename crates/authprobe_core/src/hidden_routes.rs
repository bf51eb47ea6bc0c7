//! Hidden routes: commonly exposed paths that nothing links and no spec lists (debug
//! views, environment and config dumps, metrics, admin helpers, internal trees, backups,
//! other API versions, and the common resource collections). The list is data
//! (`data/hidden_routes.toml`, a reason per entry); this module tries it within a bounded
//! share of the request budget and adds what exists to the inventory, where the checks
//! judge it like any other endpoint.

use std::sync::LazyLock;

use serde::Deserialize;
use url::Url;

use crate::auth::detect::AuthRecognizer;
use crate::discovery::Authorize;
use crate::discovery::{classify, fetch_all, kept, page_request, Endpoint, Inventory};
use crate::probe::{Probe, ProbeError, ProbeResponse};
use crate::similarity::similarity;
use crate::target::Target;

/// One entry of the hidden-routes list.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HiddenRoute {
    /// An absolute path, tried as written.
    #[serde(default)]
    pub path: Option<String>,
    /// A resource name, tried under the root and under each API prefix.
    #[serde(default)]
    pub name: Option<String>,
    pub kind: String,
    pub reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteFile {
    route: Vec<HiddenRoute>,
}

/// The kinds an entry may have (the data file's header explains them).
pub const KINDS: &[&str] = &[
    "debug",
    "env",
    "config",
    "metrics",
    "health",
    "admin",
    "internal",
    "backup",
    "docs",
    "version",
    "collection",
];

/// The list, parsed once from the data file compiled into the binary.
pub static HIDDEN_ROUTES: LazyLock<Vec<HiddenRoute>> = LazyLock::new(|| {
    toml::from_str::<RouteFile>(include_str!("../data/hidden_routes.toml"))
        .expect("data/hidden_routes.toml parses (a unit test checks it)")
        .route
});

/// Share of the request budget the hidden routes may spend (one in six requests).
const BUDGET_SHARE: usize = 6;
/// API prefixes (besides the root) resource names are tried under.
const MAX_PREFIXES: usize = 2;

/// What the hidden-route pass did, for the progress line.
#[derive(Debug, Clone, Copy, Default)]
pub struct HiddenRouteSummary {
    pub tried: usize,
    pub found: usize,
}

/// Tries the hidden routes anonymously and as `identity` (where the anonymous answer was
/// not "no such route", and for every absolute path) and adds those that exist to the
/// inventory with both answers. "Exists" is judged against what the target answers, for
/// the same principal, to a path that cannot exist: a catch-all page or a blanket 401 is
/// not a route.
pub async fn probe_hidden_routes(
    probe: &Probe,
    target: &Target,
    inventory: &mut Inventory,
    identity: Option<&dyn Authorize>,
) -> HiddenRouteSummary {
    let per_candidate = if identity.is_some() { 2 } else { 1 };
    let room = (probe.settings().max_requests / BUDGET_SHARE).min(probe.remaining_budget()) / per_candidate;
    let mut candidates = candidate_urls(target, inventory);
    candidates.truncate(room.saturating_sub(2));
    if candidates.is_empty() {
        return HiddenRouteSummary::default();
    }
    let anon_missing = missing_route_answer(probe, target, None).await;
    let anonymous = resolve_slash_redirects(probe, fetch_all(probe, with_flags(&candidates), None).await, None).await;
    let (primary_missing, authenticated) = match identity {
        Some(id) => {
            let missing = missing_route_answer(probe, target, Some(id)).await;
            let asked: Vec<(Url, bool)> = anonymous
                .iter()
                .zip(&candidates)
                .filter(|((_, anon), candidate)| {
                    candidate.absolute || exists(anon.as_ref().ok(), anon_missing.as_ref())
                })
                .map(|((url, _), _)| (url.clone(), false))
                .collect();
            let answers = resolve_slash_redirects(probe, fetch_all(probe, asked, Some(id)).await, Some(id)).await;
            (missing, answers)
        }
        None => (None, Vec::new()),
    };
    let mut summary = HiddenRouteSummary {
        tried: candidates.len(),
        found: 0,
    };
    for (url, anon) in anonymous {
        let mine = authenticated
            .iter()
            .find(|(u, _)| u == &url)
            .and_then(|(_, r)| r.as_ref().ok().cloned());
        let anon_exists = exists(anon.as_ref().ok(), anon_missing.as_ref()) && !anon.as_ref().is_ok_and(is_refusal);
        let mine_exists = exists(mine.as_ref(), primary_missing.as_ref());
        if !(anon_exists || mine_exists) || inventory.contains(&url) {
            continue;
        }
        summary.found += 1;
        inventory.endpoints.push(Endpoint {
            kind: classify(&url, anon.as_ref().ok(), &AuthRecognizer),
            url,
            anonymous: anon.map(kept),
            authenticated: mine.map(kept),
            declared: false,
            found_by: crate::discovery::FoundBy::Guess,
        });
    }
    summary
}

/// A URL to try, and whether it came from an absolute entry (asked as the identity even
/// when the anonymous answer says "not found": admin and internal trees often hide).
struct Candidate {
    url: Url,
    absolute: bool,
}

fn with_flags(candidates: &[Candidate]) -> Vec<(Url, bool)> {
    candidates.iter().map(|c| (c.url.clone(), false)).collect()
}

/// Every URL of the list for this target, in the list's order: absolute paths as
/// written, resource names under the root and under the API prefixes the inventory
/// shows. URLs the inventory already holds (with or without a trailing slash) are left out.
fn candidate_urls(target: &Target, inventory: &Inventory) -> Vec<Candidate> {
    let prefixes = api_prefixes(inventory);
    let known = |url: &Url| {
        inventory
            .endpoints
            .iter()
            .any(|e| e.path().trim_end_matches('/') == url.path().trim_end_matches('/'))
    };
    let mut out: Vec<Candidate> = Vec::new();
    let push = |path: &str, absolute: bool, out: &mut Vec<Candidate>| {
        if let Some(url) = target.join(path) {
            if !known(&url) && !out.iter().any(|c| c.url == url) {
                out.push(Candidate { url, absolute });
            }
        }
    };
    for route in HIDDEN_ROUTES.iter() {
        if let Some(path) = &route.path {
            push(path, true, &mut out);
        }
    }
    // Names after the absolute paths, each under every prefix before the next name.
    for route in HIDDEN_ROUTES.iter() {
        if let Some(name) = &route.name {
            for prefix in std::iter::once("/").chain(prefixes.iter().map(String::as_str)) {
                push(&format!("{prefix}{name}"), false, &mut out);
            }
        }
    }
    out
}

/// The API prefixes the inventory's paths start with (`/api/v1/` for
/// `/api/v1/auth/signin`), most used first: the longest run of leading `api`, `rest` or
/// `vN` segments of each path.
pub fn api_prefixes(inventory: &Inventory) -> Vec<String> {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for endpoint in &inventory.endpoints {
        let segments: Vec<&str> = endpoint.path().split('/').filter(|s| !s.is_empty()).collect();
        let depth = segments.iter().take_while(|s| is_prefix_segment(s)).count();
        // A path that is only a prefix (`/api/`) still names it; deeper paths name theirs.
        if depth == 0 {
            continue;
        }
        let prefix = format!("/{}/", segments[..depth].join("/"));
        match counts.iter_mut().find(|(p, _)| *p == prefix) {
            Some((_, n)) => *n += 1,
            None => counts.push((prefix, 1)),
        }
    }
    counts.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    counts.into_iter().take(MAX_PREFIXES).map(|(p, _)| p).collect()
}

/// `api`, `rest` or a version (`v1`): a segment of an API prefix, not of a resource.
pub fn is_prefix_segment(segment: &str) -> bool {
    let s = segment.to_ascii_lowercase();
    s == "api" || s == "rest" || (s.len() > 1 && s.starts_with('v') && s[1..].chars().all(|c| c.is_ascii_digit()))
}

/// The answer, for this principal, to a path that cannot exist.
async fn missing_route_answer(
    probe: &Probe,
    target: &Target,
    identity: Option<&dyn Authorize>,
) -> Option<ProbeResponse> {
    let url = target.join(&format!("/authprobe-{:08x}-no-such-route", rand::random::<u32>()))?;
    probe.send(page_request(url, identity)).await.ok().map(kept)
}

/// Whether an answer shows a route: not "not found" (404, 405, 410, 501), not an
/// unresolved redirect, and not the same answer the target gives a path that cannot exist.
fn exists(answer: Option<&ProbeResponse>, missing: Option<&ProbeResponse>) -> bool {
    let Some(r) = answer else { return false };
    if matches!(r.status, 404 | 405 | 410 | 501) || r.is_redirect() {
        return false;
    }
    !missing.is_some_and(|m| m.status == r.status && similarity(&m.body, &r.body) >= 0.9)
}

fn is_refusal(r: &ProbeResponse) -> bool {
    matches!(r.status, 401 | 403)
}

/// Follows, once, a redirect to the same path with a trailing slash (Django's
/// `APPEND_SLASH`, Flask's and FastAPI's slash redirects): the answer and URL of the
/// slash form replace the redirect.
async fn resolve_slash_redirects(
    probe: &Probe,
    fetched: Vec<(Url, bool, Result<ProbeResponse, ProbeError>)>,
    identity: Option<&dyn Authorize>,
) -> Vec<(Url, Result<ProbeResponse, ProbeError>)> {
    let mut out = Vec::with_capacity(fetched.len());
    for (url, _, answer) in fetched {
        let slash_form = answer
            .as_ref()
            .ok()
            .filter(|r| r.is_redirect())
            .and_then(ProbeResponse::location)
            .filter(|loc| loc.path() == format!("{}/", url.path()) && loc.host_str() == url.host_str());
        match slash_form {
            Some(location) => {
                let answer = probe.send(page_request(location.clone(), identity)).await.map(kept);
                out.push((location, answer));
            }
            None => out.push((url, answer)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::{changes_state, EndpointKind};

    #[test]
    fn every_entry_is_well_formed_and_changes_nothing() {
        assert!(HIDDEN_ROUTES.len() >= 40, "the list parsed: {}", HIDDEN_ROUTES.len());
        for route in HIDDEN_ROUTES.iter() {
            assert!(
                route.path.is_some() != route.name.is_some(),
                "exactly one of path/name: {route:?}"
            );
            assert!(KINDS.contains(&route.kind.as_str()), "known kind: {route:?}");
            assert!(route.reason.len() > 10, "a reason: {route:?}");
            let path = route
                .path
                .clone()
                .unwrap_or_else(|| format!("/{}", route.name.as_deref().unwrap_or("")));
            assert!(!changes_state(&path), "a state-changing name: {path}");
            if let Some(p) = &route.path {
                assert!(p.starts_with('/'), "absolute: {p}");
            }
            if let Some(n) = &route.name {
                assert!(!n.contains('/'), "a bare name: {n}");
            }
        }
    }

    fn inventory_of(paths: &[&str]) -> Inventory {
        let target = Target::parse("http://127.0.0.1:1/").unwrap();
        Inventory {
            endpoints: paths
                .iter()
                .map(|p| Endpoint {
                    url: target.join(p).unwrap(),
                    kind: EndpointKind::Api,
                    anonymous: Err(crate::probe::ProbeError::Interrupted("test".into())),
                    authenticated: None,
                    declared: false,
                    found_by: crate::discovery::FoundBy::Guess,
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn prefixes_come_from_the_paths_the_api_uses() {
        let inv = inventory_of(&["/api/v1/auth/signin", "/api/v1/profile", "/api/users/me", "/", "/docs"]);
        assert_eq!(api_prefixes(&inv), vec!["/api/v1/".to_string(), "/api/".to_string()]);
        assert!(api_prefixes(&inventory_of(&["/token", "/users/me"])).is_empty());
    }

    #[test]
    fn names_go_under_every_prefix_and_known_paths_are_left_out() {
        let target = Target::parse("http://127.0.0.1:1/").unwrap();
        let inv = inventory_of(&["/api/v1/profile", "/api/v1/items/", "/debug"]);
        let urls: Vec<String> = candidate_urls(&target, &inv)
            .iter()
            .map(|c| c.url.path().to_string())
            .collect();
        assert!(urls.contains(&"/api/v1/notes".to_string()));
        assert!(urls.contains(&"/notes".to_string()));
        assert!(
            !urls.contains(&"/api/v1/items".to_string()),
            "already known with a slash"
        );
        assert!(!urls.contains(&"/debug".to_string()));
        let first_name = urls.iter().position(|u| u == "/users").unwrap();
        let last_absolute = urls.iter().position(|u| u == "/v1/").unwrap();
        assert!(last_absolute < first_name, "absolute paths first");
    }
}
