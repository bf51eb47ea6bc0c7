//! Discovery: the paths the auth layer guesses (or a spec's), then links found in JSON
//! bodies and the targets of same-origin redirects, each answer classified with the auth layer's [`Recognizer`]. The resulting
//! [`Inventory`] is shared by every check. Discovery knows no login path, field or cookie.

use futures::stream::{self, StreamExt};
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use url::Url;

use crate::probe::{Probe, ProbeError, ProbeRequest, ProbeResponse};
use crate::similarity::similarity;
use crate::target::Target;

/// Something that makes a request authenticated (an identity of the auth layer): discovery
/// fetches pages as the primary identity without knowing how it presents its credential.
pub trait Authorize: Sync {
    fn authorize(&self, req: ProbeRequest) -> ProbeRequest;
}

/// Verbs that, as a word of a path, say a GET there acts rather than reads: following
/// such a link or spec entry could log the scanner out, or wipe or re-seed the target on a
/// server that acts on GET (`GET /createdb`). A word counts when it is the verb or the verb
/// glued to a noun (`resetdb`, `deleteall`).
const STATE_CHANGING_VERBS: &[&str] = &[
    "logout",
    "signout",
    "delete",
    "remove",
    "destroy",
    "revoke",
    "deactivate",
    "create",
    "drop",
    "reset",
    "init",
    "seed",
    "purge",
    "truncate",
    "wipe",
    "flush",
    "shutdown",
    "restart",
    "migrate",
    "rebuild",
    "clear",
    "unsubscribe",
];

/// Nouns a state-changing verb is glued to in route names (`createdb`, `resetall`).
const GLUED_OBJECTS: &[&str] = &[
    "",
    "db",
    "database",
    "all",
    "data",
    "cache",
    "table",
    "tables",
    "schema",
    "user",
    "users",
    "account",
    "everything",
    "session",
    "sessions",
    "token",
    "tokens",
    "me",
];

/// Whether a path's name says a GET there changes state (see [`STATE_CHANGING_VERBS`]).
/// Split words (`log-out`, `sign_out`, `reset-db`) are joined first. A password reset is a
/// page or a POST-only endpoint, not an action on GET, so `password/reset` is not one.
pub fn changes_state(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    let password_page = lower.contains("password") || lower.contains("passwd");
    let joined = lower.replace(['-', '_'], "");
    let acts = |word: &str| {
        STATE_CHANGING_VERBS.iter().any(|verb| {
            word.strip_prefix(verb)
                .is_some_and(|rest| GLUED_OBJECTS.contains(&rest))
                && !(password_page && *verb == "reset")
        })
    };
    joined
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .any(acts)
}

/// Most endpoints an inventory holds (discovery stops growing it there).
pub const MAX_ENDPOINTS: usize = 200;
/// Most endpoints a spec-driven inventory holds (every operation of a large API).
pub const MAX_SPEC_ENDPOINTS: usize = 10_000;

/// Body bytes an inventory keeps per response: a hostile target linking
/// [`MAX_ENDPOINTS`] endpoints with bodies at the probe's size limit must not hold
/// hundreds of megabytes for the whole scan. Checks that need more fetch again.
pub const KEPT_BODY_BYTES: usize = 256 * 1024;

/// Cuts a response kept in the inventory to [`KEPT_BODY_BYTES`] (marked truncated).
pub(crate) fn kept(mut resp: ProbeResponse) -> ProbeResponse {
    if resp.body.len() > KEPT_BODY_BYTES {
        // A copy, not a slice: a slice would keep the whole buffer alive.
        resp.body = bytes::Bytes::copy_from_slice(&resp.body[..KEPT_BODY_BYTES]);
        resp.body_truncated = true;
    }
    resp
}

/// What an endpoint appears to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EndpointKind {
    /// A JSON/form token endpoint that takes credentials by POST (simplejwt, authtoken, …).
    TokenObtain,
    TokenRefresh,
    TokenVerify,
    TokenBlacklist,
    /// A Django HTML login form.
    FormLogin,
    /// The Django admin login page.
    AdminLogin,
    /// Returns the caller's own user record when authenticated.
    IdentityCandidate,
    Schema,
    Jwks,
    /// A logout endpoint beside a login (found by asking, never by following a link).
    Logout,
    /// Any other JSON API endpoint.
    Api,
    /// Any other HTML page.
    Html,
    Other,
}

impl EndpointKind {
    /// Endpoints that take credentials or tokens by POST; the method policy allows POST here.
    pub fn takes_credentials(self) -> bool {
        matches!(
            self,
            EndpointKind::TokenObtain | EndpointKind::FormLogin | EndpointKind::AdminLogin
        )
    }

    pub fn is_token_endpoint(self) -> bool {
        matches!(
            self,
            EndpointKind::TokenObtain
                | EndpointKind::TokenRefresh
                | EndpointKind::TokenVerify
                | EndpointKind::TokenBlacklist
        )
    }
}

/// How the scan came to know an endpoint; the auth layer reports it as the `source` of the
/// flows it finds there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FoundBy {
    /// A path a guessing scan asks on every target (or the target's own URL).
    #[default]
    Guess,
    /// A same-origin link in one of the target's JSON answers.
    Link,
    /// The `Location` of a same-origin redirect.
    Redirect,
    /// A form or a link on one of the target's HTML pages.
    Html,
    /// A route named in a JavaScript bundle the target's pages load.
    Script,
    /// A URL an API docs page names.
    Docs,
    /// A candidate that answered GET and OPTIONS with 404 and took one credential POST.
    Probe,
    /// An operation of the API's spec.
    Spec,
}

/// One endpoint and the answers it gave during discovery.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub url: Url,
    pub kind: EndpointKind,
    /// The anonymous GET (the N baseline), or why it failed.
    pub anonymous: Result<ProbeResponse, ProbeError>,
    /// The primary identity's GET (the A baseline), when there is an identity.
    pub authenticated: Option<ProbeResponse>,
    /// Whether the user declared it (config) rather than discovery finding it.
    pub declared: bool,
    /// How discovery came to know it.
    pub found_by: FoundBy,
}

impl Endpoint {
    pub fn path(&self) -> &str {
        self.url.path()
    }

    pub fn anonymous_ok(&self) -> Option<&ProbeResponse> {
        self.anonymous.as_ref().ok()
    }

    /// Anonymous access was refused with 401/403.
    pub fn anonymously_refused(&self) -> bool {
        self.anonymous_ok().is_some_and(|r| matches!(r.status, 401 | 403))
    }
}

/// Every endpoint the scan knows about.
#[derive(Debug, Default)]
pub struct Inventory {
    /// Endpoints are only ever appended (never removed, reordered or re-addressed): the
    /// lookup index relies on it.
    pub endpoints: Vec<Endpoint>,
    /// Routes the scan knew of and left alone on purpose (a GET there would change state).
    pub not_probed: Vec<NotProbed>,
    /// Login candidates that were sent one credential POST and did not answer as a login
    /// (the auth layer's last-resort probe): the report lists them beside the flows, so
    /// every POST the scan sent is accounted for.
    pub refused_login_candidates: Vec<Url>,
    /// URL → position of its first endpoint, brought up to date on each lookup, so a
    /// spec-driven inventory of 10,000 endpoints is not searched end to end per request.
    /// A cache: build an inventory with `..Default::default()` and leave it be.
    pub index: EndpointIndex,
}

/// The lookup cache of an [`Inventory`] (see [`Inventory::get`]).
#[derive(Debug, Default)]
pub struct EndpointIndex(Mutex<UrlIndex>);

#[derive(Debug, Default)]
struct UrlIndex {
    positions: HashMap<Url, usize>,
    /// Endpoints indexed so far (a prefix of `endpoints`).
    indexed: usize,
}

impl Clone for Inventory {
    fn clone(&self) -> Self {
        Inventory {
            endpoints: self.endpoints.clone(),
            not_probed: self.not_probed.clone(),
            refused_login_candidates: self.refused_login_candidates.clone(),
            index: EndpointIndex::default(),
        }
    }
}

/// A route the scan found (a link, a spec operation) and did not request, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotProbed {
    pub method: String,
    pub path: String,
    pub reason: String,
}

impl Inventory {
    /// Records a route left alone (once per method and path).
    pub fn skip(&mut self, method: &str, path: &str, reason: impl Into<String>) {
        if !self.not_probed.iter().any(|n| n.method == method && n.path == path) {
            self.not_probed.push(NotProbed {
                method: method.to_string(),
                path: path.to_string(),
                reason: reason.into(),
            });
        }
    }
}

impl Inventory {
    pub fn of_kind(&self, kind: EndpointKind) -> impl Iterator<Item = &Endpoint> {
        self.endpoints.iter().filter(move |e| e.kind == kind)
    }

    pub fn first(&self, kind: EndpointKind) -> Option<&Endpoint> {
        self.of_kind(kind).next()
    }

    pub fn get(&self, url: &Url) -> Option<&Endpoint> {
        self.position(url).map(|i| &self.endpoints[i])
    }

    pub fn get_mut(&mut self, url: &Url) -> Option<&mut Endpoint> {
        self.position(url).map(|i| &mut self.endpoints[i])
    }

    /// Where the first endpoint of `url` is (the same answer as a search from the start).
    fn position(&self, url: &Url) -> Option<usize> {
        let mut index = self.index.0.lock().expect("inventory index lock");
        if index.indexed > self.endpoints.len() {
            *index = UrlIndex::default();
        }
        let from = index.indexed;
        for (i, e) in self.endpoints.iter().enumerate().skip(from) {
            index.positions.entry(e.url.clone()).or_insert(i);
        }
        index.indexed = self.endpoints.len();
        match index.positions.get(url) {
            Some(&i) if &self.endpoints[i].url == url => Some(i),
            // Only if an endpoint was changed in place, which nothing does.
            Some(_) => self.endpoints.iter().position(|e| &e.url == url),
            None => None,
        }
    }

    pub fn contains(&self, url: &Url) -> bool {
        self.get(url).is_some()
    }
}

/// What anonymous discovery found, and what the auth layer asks again.
pub struct Discovered {
    pub inventory: Inventory,
    /// Whether discovery guessed (no spec drove it).
    pub guessed: bool,
    /// Guessed paths that answered GET with 404 but may take POST only.
    pub post_only_candidates: Vec<(Url, ProbeResponse, FoundBy)>,
}

/// Discovers endpoints anonymously: the guessed paths, the declared ones, the target's own
/// URL, then same-origin links found in JSON bodies (breadth first, bounded) and the
/// targets of same-origin redirects (at most [`MAX_REDIRECT_HOPS`] in a row,
/// [`MAX_REDIRECTS`] in all; never another origin, never a path whose name says a GET
/// there changes state). With `spec_paths` (a spec drives the scan) the spec's paths
/// replace the guessing: no common paths, no link crawl; redirects are still followed.
pub async fn discover(
    probe: &Probe,
    target: &Target,
    declared: &[String],
    spec_paths: Option<&[String]>,
    recognizer: &dyn Recognizer,
) -> Discovered {
    let mut seeds: Vec<(Url, bool)> = Vec::new();
    let mut linked: HashSet<Url> = HashSet::new();
    let mut seeded: HashSet<Url> = HashSet::new();
    let mut push = |url: Option<Url>, declared: bool, seeds: &mut Vec<(Url, bool)>| {
        if let Some(url) = url {
            if seeded.insert(url.clone()) {
                seeds.push((url, declared));
            }
        }
    };
    push(Some(target.url.clone()), false, &mut seeds);
    let guess = spec_paths.is_none();
    for path in spec_paths.unwrap_or(recognizer.guessed_paths()) {
        push(target.join(path), false, &mut seeds);
    }
    for path in declared {
        push(target.join(path), true, &mut seeds);
    }
    let mut inventory = Inventory::default();
    let mut seen = seeded;
    let soft_404 = soft_not_found(probe, target).await;
    let limit = if guess { MAX_ENDPOINTS } else { MAX_SPEC_ENDPOINTS };
    let mut frontier = seeds;
    let mut post_only_candidates: Vec<(Url, ProbeResponse, FoundBy)> = Vec::new();
    let mut redirects = Redirects::default();
    while !frontier.is_empty() && inventory.endpoints.len() < limit {
        let fetched = fetch_all(probe, frontier, None).await;
        let mut next = Vec::new();
        for (url, declared, anonymous) in fetched {
            // A same-origin redirect names where the page, the spec or the login is: its
            // target is fetched next, whether or not the redirect itself is kept (a server
            // that redirects every unknown path to its login page still names that page).
            if let Ok(resp) = &anonymous {
                match redirects.target(&url, resp, target) {
                    Some(Ok(to)) if seen.insert(to.clone()) => {
                        redirects.followed(&url, &to);
                        next.push((to, false));
                    }
                    Some(Ok(_)) | None => {}
                    Some(Err(to)) => {
                        let reason = format!(
                            "redirected to from {}; its name says a GET there changes state",
                            url.path()
                        );
                        inventory.skip("GET", to.path(), reason);
                    }
                }
            }
            // A catch-all server answers every path alike: such answers are not endpoints.
            let like_not_found = |r: &ProbeResponse| {
                soft_404
                    .as_ref()
                    .is_some_and(|nf| nf.status == r.status && similarity(&nf.body, &r.body) >= 0.9)
            };
            let keep = declared
                || url == target.url
                || matches!(&anonymous, Ok(r) if r.status != 404 && !like_not_found(r))
                // A path that timed out, broke the connection or sent a malformed answer is
                // kept: the report names its error. Refusals by the probe's own policy are not.
                || matches!(&anonymous, Err(e) if !matches!(e, ProbeError::BudgetExhausted(_) | ProbeError::MethodForbidden { .. } | ProbeError::Interrupted(_)));
            if !keep {
                if let (true, Ok(resp)) = (guess, &anonymous) {
                    if resp.status == 404 && recognizer.may_take_post_only(url.path()) {
                        post_only_candidates.push((url, resp.clone(), FoundBy::Guess));
                    }
                }
                continue;
            }
            if let (true, Ok(resp)) = (guess, &anonymous) {
                for link in all_links_in(resp, target) {
                    if changes_state(link.path()) {
                        let reason = format!("linked from {}; its name says a GET there changes state", url.path());
                        inventory.skip("GET", link.path(), reason);
                    } else if seen.insert(link.clone()) {
                        linked.insert(link.clone());
                        next.push((link, false));
                    }
                }
            }
            let kind = classify(&url, anonymous.as_ref().ok(), recognizer);
            let found_by = if linked.contains(&url) {
                FoundBy::Link
            } else if redirects.reached(&url) {
                FoundBy::Redirect
            } else {
                FoundBy::Guess
            };
            inventory.endpoints.push(Endpoint {
                url,
                kind,
                anonymous: anonymous.map(kept),
                authenticated: None,
                declared,
                found_by,
            });
            if inventory.endpoints.len() >= limit {
                break;
            }
        }
        frontier = next;
    }
    Discovered {
        inventory,
        guessed: guess,
        post_only_candidates,
    }
}

/// Most redirects followed one after another from a fetched URL.
pub const MAX_REDIRECT_HOPS: usize = 3;
/// Most redirect targets one discovery fetches.
pub const MAX_REDIRECTS: usize = 16;

/// The same-origin redirects discovery followed: how many hops led to each target, and
/// how many were followed in all (both bounded).
#[derive(Debug, Default)]
struct Redirects {
    /// Redirect target → the hops that led to it.
    hops: HashMap<Url, usize>,
}

impl Redirects {
    /// Where a redirect answer to GET `from` leads, when discovery follows it: `Ok` with a
    /// same-origin target (its query and fragment left off: the page is the path), `Err`
    /// with one whose name says a GET there changes state (a redirect to a logout), `None`
    /// for anything else (no redirect, another origin, past the bounds).
    fn target(&self, from: &Url, resp: &ProbeResponse, target: &Target) -> Option<Result<Url, Url>> {
        if !resp.is_redirect() || self.hops.len() >= MAX_REDIRECTS {
            return None;
        }
        if self.hops.get(from).copied().unwrap_or(0) >= MAX_REDIRECT_HOPS {
            return None;
        }
        let mut to = resp.location().filter(|u| target.same_origin(u))?;
        to.set_query(None);
        to.set_fragment(None);
        if &to == from {
            return None;
        }
        Some(if changes_state(to.path()) { Err(to) } else { Ok(to) })
    }

    fn followed(&mut self, from: &Url, to: &Url) {
        let hops = self.hops.get(from).copied().unwrap_or(0) + 1;
        self.hops.insert(to.clone(), hops);
    }

    /// Whether discovery came to `url` by a redirect.
    fn reached(&self, url: &Url) -> bool {
        self.hops.contains_key(url)
    }
}

/// What the target answers for a path that cannot exist, when that answer is a success or
/// a redirect (catch-all routes, single-page apps); `None` for an honest 404 or a refusal
/// (a 401 for everything still hides real endpoints behind it).
async fn soft_not_found(probe: &Probe, target: &Target) -> Option<ProbeResponse> {
    let url = target.join(&format!("/authprobe-{:08x}-does-not-exist/", rand::random::<u32>()))?;
    let resp = probe.send(page_request(url, None)).await.ok()?;
    ((200..400).contains(&resp.status)).then_some(resp)
}

/// Fetches every endpoint as `identity` (the A baselines) and adds the endpoints that only
/// an authenticated user can see links to (object detail URLs), with their N baselines.
/// Endpoints that already hold the identity's answer (hidden routes) are not fetched
/// again; their links are followed all the same.
pub async fn discover_authenticated(
    probe: &Probe,
    target: &Target,
    inventory: &mut Inventory,
    identity: &dyn Authorize,
    recognizer: &dyn Recognizer,
) {
    let wanted = |e: &Endpoint| matches!(e.kind, EndpointKind::Api | EndpointKind::IdentityCandidate) || e.declared;
    let mut frontier: Vec<Url> = inventory
        .endpoints
        .iter()
        .filter(|e| wanted(e) && e.authenticated.is_none())
        .map(|e| e.url.clone())
        .collect();
    let mut known_links: Vec<Url> = Vec::new();
    for e in inventory.endpoints.iter().filter(|e| wanted(e)) {
        for link in e.authenticated.iter().flat_map(|r| links_in(r, target)) {
            if !inventory.contains(&link) && !known_links.contains(&link) {
                known_links.push(link);
            }
        }
    }
    let mut rounds = 0;
    while !(frontier.is_empty() && known_links.is_empty()) && rounds < 3 {
        rounds += 1;
        let fetched = fetch_all(
            probe,
            frontier.into_iter().map(|u| (u, false)).collect(),
            Some(identity),
        )
        .await;
        let mut new_links = std::mem::take(&mut known_links);
        for (url, _, resp) in fetched {
            let Ok(resp) = resp else { continue };
            for link in links_in(&resp, target) {
                if !inventory.contains(&link) && !new_links.contains(&link) {
                    new_links.push(link);
                }
            }
            if let Some(e) = inventory.get_mut(&url) {
                e.authenticated = Some(kept(resp));
            }
        }
        let room = MAX_ENDPOINTS.saturating_sub(inventory.endpoints.len());
        new_links.truncate(room);
        let anonymous = fetch_all(probe, new_links.iter().map(|u| (u.clone(), false)).collect(), None).await;
        for (url, _, anonymous) in anonymous {
            let kind = classify(&url, anonymous.as_ref().ok(), recognizer);
            inventory.endpoints.push(Endpoint {
                url,
                kind,
                anonymous: anonymous.map(kept),
                authenticated: None,
                declared: false,
                found_by: FoundBy::Link,
            });
        }
        frontier = new_links;
    }
}

/// Adds `urls` that the inventory lacks (a spec's operations, object URLs built from ids
/// seen in lists), with their anonymous answer and, given an identity, its answer too.
pub async fn add_endpoints(
    probe: &Probe,
    inventory: &mut Inventory,
    urls: Vec<Url>,
    identity: Option<&dyn Authorize>,
    recognizer: &dyn Recognizer,
) {
    let mut urls: Vec<Url> = urls.into_iter().filter(|u| !inventory.contains(u)).collect();
    urls.dedup();
    urls.truncate(MAX_SPEC_ENDPOINTS.saturating_sub(inventory.endpoints.len()));
    let anonymous = fetch_all(probe, urls.iter().map(|u| (u.clone(), false)).collect(), None).await;
    let authenticated = match identity {
        Some(id) => fetch_all(probe, urls.iter().map(|u| (u.clone(), false)).collect(), Some(id)).await,
        None => Vec::new(),
    };
    // The first answer per URL, as a search from the start would find it.
    let mut answers: HashMap<Url, Option<ProbeResponse>> = HashMap::with_capacity(authenticated.len());
    for (u, _, r) in authenticated {
        answers.entry(u).or_insert_with(|| r.ok());
    }
    for (url, _, anonymous) in anonymous {
        let kind = classify(&url, anonymous.as_ref().ok(), recognizer);
        let authenticated = answers.get(&url).cloned().flatten();
        inventory.endpoints.push(Endpoint {
            url,
            kind,
            anonymous,
            authenticated,
            declared: false,
            found_by: FoundBy::Spec,
        });
    }
}

/// The GET discovery sends: JSON preferred, HTML accepted, as `identity` when given.
pub(crate) fn page_request(url: Url, identity: Option<&dyn Authorize>) -> ProbeRequest {
    let req = ProbeRequest::get(url).header("Accept", "application/json, text/html;q=0.9, */*;q=0.8");
    match identity {
        Some(id) => id.authorize(req),
        None => req,
    }
}

pub(crate) async fn fetch_all(
    probe: &Probe,
    urls: Vec<(Url, bool)>,
    identity: Option<&dyn Authorize>,
) -> Vec<(Url, bool, Result<ProbeResponse, ProbeError>)> {
    let concurrency = probe.settings().concurrency.max(1);
    let mut results: Vec<_> = stream::iter(urls.into_iter().enumerate())
        .map(|(i, (url, declared))| async move {
            let req = page_request(url.clone(), identity);
            // Cut at once: a batch of answers at the size limit must not sit in memory whole.
            (i, url, declared, probe.send(req).await.map(kept))
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    results.sort_by_key(|(i, ..)| *i);
    results.into_iter().map(|(_, u, d, r)| (u, d, r)).collect()
}

/// Same-origin links in a JSON body (absolute URLs or root-relative paths), without those
/// whose name says a GET there changes state ([`changes_state`]).
pub fn links_in(resp: &ProbeResponse, target: &Target) -> Vec<Url> {
    let mut links = all_links_in(resp, target);
    links.retain(|l| !changes_state(l.path()));
    links
}

/// Every same-origin link in a JSON body, state-changing names included.
pub fn all_links_in(resp: &ProbeResponse, target: &Target) -> Vec<Url> {
    let Some(json) = resp.json() else { return Vec::new() };
    let mut out = Vec::new();
    collect_links(&json, target, &mut out, 0);
    out
}

fn collect_links(value: &serde_json::Value, target: &Target, out: &mut Vec<Url>, depth: usize) {
    if depth > 8 || out.len() > MAX_ENDPOINTS {
        return;
    }
    match value {
        serde_json::Value::String(s) => {
            let candidate = if s.starts_with('/') && !s.starts_with("//") {
                target.join(s)
            } else if s.starts_with("http://") || s.starts_with("https://") {
                Url::parse(s).ok().filter(|u| target.same_origin(u))
            } else {
                None
            };
            if let Some(mut url) = candidate {
                url.set_fragment(None);
                if !out.contains(&url) {
                    out.push(url);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_links(v, target, out, depth + 1)),
        serde_json::Value::Object(map) => map.values().for_each(|v| collect_links(v, target, out, depth + 1)),
        _ => {}
    }
}

/// Classifies an endpoint from its path and its anonymous GET response: what the auth
/// layer's `recognizer` recognises first (logins, token endpoints, identity endpoints),
/// then key sets and specs, then HTML, JSON or anything else.
pub fn classify(url: &Url, anonymous: Option<&ProbeResponse>, recognizer: &dyn Recognizer) -> EndpointKind {
    let path = url.path().to_ascii_lowercase();
    if path.contains("jwks") {
        return EndpointKind::Jwks;
    }
    if path.ends_with("/schema/") || path.ends_with("openapi.json") || path.ends_with("swagger.json") {
        return EndpointKind::Schema;
    }
    if let Some(kind) = recognizer.classify(url, anonymous) {
        return kind;
    }
    if anonymous.is_some_and(|r| r.is_html()) {
        EndpointKind::Html
    } else if anonymous.is_some_and(|r| r.content_type().contains("json")) {
        EndpointKind::Api
    } else {
        EndpointKind::Other
    }
}

/// What discovery asks the auth layer (`auth::detect`): where a target's logins, token and
/// identity endpoints and specs may be, and how their answers show them. Discovery itself
/// knows no login path, field or cookie: it fetches, keeps and follows links.
pub trait Recognizer: Sync {
    /// Paths asked on a scan that guesses (no spec drives it), in order.
    fn guessed_paths(&self) -> &[String];
    /// The kind of an auth endpoint (a login, a token, refresh, verify or blacklist
    /// endpoint, an identity endpoint), or `None` for anything else.
    fn classify(&self, url: &Url, anonymous: Option<&ProbeResponse>) -> Option<EndpointKind>;
    /// Whether a guessed path that answered GET with 404 may still be a route that takes
    /// POST only (asked again by the auth layer after discovery).
    fn may_take_post_only(&self, path: &str) -> bool;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oracle::tests::response;

    #[test]
    fn links_to_logout_are_never_followed() {
        let target = Target::parse("http://t/").unwrap();
        let resp = response(
            200,
            r#"{"me":"/api/me/","logout":"/api/logout/","ext":"https://evil.example/x","abs":"http://t/api/notes/1/"}"#,
        );
        let links: Vec<String> = links_in(&resp, &target).iter().map(|u| u.path().to_string()).collect();
        assert!(!links.iter().any(|l| l.contains("logout")));
        assert!(links.contains(&"/api/me/".to_string()));
        assert!(links.contains(&"/api/notes/1/".to_string()));
        assert_eq!(links.len(), 2);
    }

    #[test]
    fn route_names_that_act_on_get_are_recognised() {
        for path in [
            "/createdb",
            "/api/reset-db",
            "/api/auth/logout/",
            "/session/sign_out",
            "/api/notes/3/delete",
            "/admin/purge_cache",
            "/o/revoke_token/",
            "/seed",
            "/init",
        ] {
            assert!(changes_state(path), "{path}");
        }
        for path in [
            "/api/notes/",
            "/api/auth/password/reset/",
            "/accounts/password_reset/",
            "/api/initial-data",
            "/api/created-items",
            "/api/me/",
            "/api/v1/items",
            "/api/seeds",
            "/dropbox/files",
        ] {
            assert!(!changes_state(path), "{path}");
        }
    }
}
