//! Logins named only by the front end: a single-page app's API routes live in the
//! JavaScript its HTML loads, not in any link or spec. The bundles the target's own pages
//! load (same origin, a few, each read up to a byte limit) and the pages' inline scripts
//! are searched for route strings: `fetch("/api/…")`, an HTTP client's calls
//! (`http.post("/session/create")`, joined with the client's `baseURL`), route tables
//! (`{login: "/api/v1/users/authenticate"}`). The routes join the inventory as endpoints
//! found by [`FoundBy::Script`], so the auth layer's detection (and the POST-only probe of
//! candidates that answer 404) treats them as it treats any other candidate.

use regex::Regex;
use std::sync::LazyLock;
use url::Url;

use crate::discovery::{
    changes_state, classify, fetch_all, kept, Discovered, Endpoint, EndpointKind, FoundBy, MAX_ENDPOINTS,
};
use crate::html;
use crate::probe::{Probe, ProbeRequest, ProbeResponse};

use super::detect::AuthRecognizer;

/// Most bundles fetched per scan.
const MAX_BUNDLES: usize = 3;
/// Bytes of a bundle searched (a production bundle of a large app is a few MiB).
const MAX_BUNDLE_BYTES: usize = 2 * 1024 * 1024;
/// Most routes found in scripts that are asked for (a GET each, an `OPTIONS` for a login
/// that answers 404).
const MAX_ROUTES: usize = 16;
/// Most pages whose scripts are read.
const MAX_PAGES: usize = 20;
/// Words of the paths of scripts that are libraries, not the app's own code (a Vite or
/// webpack vendor chunk, an API docs UI, the Django admin's scripts).
const LIBRARY_WORDS: &[&str] = &[
    "vendor",
    "polyfill",
    "runtime",
    "jquery",
    "bootstrap",
    "analytics",
    "gtag",
    "recaptcha",
    "swagger-ui",
    "redoc",
    "rapidoc",
    "scalar",
    "/admin/js/",
    "/rest_framework/",
];

/// What a route found in a script is for, from its name and how it is called.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RouteRole {
    /// Called with POST (or named so in a route table) and named like a login.
    Login,
    Logout,
    Refresh,
    /// Any other API route, read by GET only.
    Api,
}

/// One route a script names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub url: Url,
    pub role: RouteRole,
}

/// Reads the scripts of the target's HTML pages and adds the routes they name to the
/// inventory: logins (kind [`EndpointKind::TokenObtain`]) when their answers say they take
/// POST (`405` to GET, `Allow` without GET, or a single-page app's shell), refreshes and
/// logouts likewise, other API routes by their GET. A login that answers 404 to GET and to
/// `OPTIONS` goes to `post_only_candidates`, first, for the auth layer's POST probe.
pub async fn read(probe: &Probe, discovered: &mut Discovered) {
    let pages: Vec<(Url, String)> = discovered
        .inventory
        .endpoints
        .iter()
        .filter_map(|e| {
            let r = e.anonymous_ok()?;
            (r.is_success() && r.is_html()).then(|| (e.url.clone(), r.text()))
        })
        .take(MAX_PAGES)
        .collect();
    if pages.is_empty() {
        return;
    }
    let mut code: Vec<(Url, String)> = Vec::new();
    let mut bundles: Vec<Url> = Vec::new();
    for (page, text) in &pages {
        code.extend(html::inline_scripts(text).into_iter().map(|c| (page.clone(), c)));
        for src in html::script_sources(text) {
            let Some(mut url) = page.join(src.trim()).ok().filter(|u| u.origin() == page.origin()) else {
                continue;
            };
            url.set_fragment(None);
            if !bundles.contains(&url) {
                bundles.push(url);
            }
        }
    }
    // Libraries name no route of the app's: only its own code is read.
    bundles.retain(|u| {
        let p = u.path().to_ascii_lowercase();
        !LIBRARY_WORDS.iter().any(|w| p.contains(w))
    });
    bundles.truncate(MAX_BUNDLES.min(probe.remaining_budget() / 20));
    for url in bundles {
        let req = ProbeRequest::get(url.clone()).header("Accept", "*/*");
        let Ok(resp) = probe.send(req).await else { continue };
        if !resp.is_success() || resp.is_html() {
            continue;
        }
        let body = &resp.body[..resp.body.len().min(MAX_BUNDLE_BYTES)];
        code.push((url, String::from_utf8_lossy(body).into_owned()));
    }
    let mut routes: Vec<Route> = Vec::new();
    for (base, text) in &code {
        for route in routes_in(text, base) {
            if !routes.iter().any(|r| r.url == route.url) {
                routes.push(route);
            }
        }
    }
    add_routes(probe, discovered, routes).await;
}

/// Asks for each route (logins first) and adds those that answer as what their name says.
async fn add_routes(probe: &Probe, discovered: &mut Discovered, mut routes: Vec<Route>) {
    let inventory = &discovered.inventory;
    routes.retain(|r| !inventory.contains(&r.url));
    routes.sort_by_key(|r| r.role);
    // A share of the budget: a GET per route.
    let share = probe.remaining_budget() / 20;
    routes.truncate(
        MAX_ROUTES
            .min(share)
            .min(MAX_ENDPOINTS.saturating_sub(inventory.endpoints.len())),
    );
    let fetched = fetch_all(probe, routes.iter().map(|r| (r.url.clone(), false)).collect(), None).await;
    let mut post_only: Vec<(Url, ProbeResponse, FoundBy)> = Vec::new();
    for ((url, _, answer), route) in fetched.into_iter().zip(&routes) {
        let Ok(resp) = answer else { continue };
        let kind = match route.role {
            RouteRole::Login | RouteRole::Logout | RouteRole::Refresh => {
                let takes_post = match resp.status {
                    405 => true,
                    // A single-page app's shell answers every GET it does not route.
                    200..=299 => resp.is_html() && html::password_inputs(&resp.text()) == 0,
                    401 | 403 => route.role == RouteRole::Logout,
                    // A POST-only route of a router that answers every other method 404
                    // (Koa, Hapi, Express): the script posts there, so it is a flow. A
                    // login still earns its place by its `Allow` or its answer to the one
                    // credential POST (the auth layer asks every POST-only candidate, these
                    // first); a logout or refresh is tried when a check needs it, and says
                    // so when it is not one.
                    404 if route.role == RouteRole::Login => {
                        post_only.push((url.clone(), resp.clone(), FoundBy::Script));
                        false
                    }
                    404 => true,
                    _ => false,
                };
                if !takes_post {
                    continue;
                }
                match route.role {
                    RouteRole::Login => EndpointKind::TokenObtain,
                    RouteRole::Logout => EndpointKind::Logout,
                    _ => EndpointKind::TokenRefresh,
                }
            }
            RouteRole::Api => {
                if resp.status == 404 {
                    continue;
                }
                classify(&url, Some(&resp), &AuthRecognizer)
            }
        };
        discovered.inventory.endpoints.push(Endpoint {
            url,
            kind,
            anonymous: Ok(kept(resp)),
            authenticated: None,
            declared: false,
            found_by: FoundBy::Script,
        });
    }
    // A login the front end names is a better candidate than a guessed path.
    post_only.append(&mut discovered.post_only_candidates);
    discovered.post_only_candidates = post_only;
}

static BASE_URL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)\b(?:base_?url|api_?base(?:_?url)?|api_?root|api_?url)["']?\s*[:=]\s*["'`]([^"'`\s]*)["'`]"#)
        .expect("valid regex")
});
static CALL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"\.(get|post|put|patch|delete|head)\(\s*["'`]([^"'`\s$]+)["'`]"#).expect("valid regex")
});
static FETCH: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"\bfetch\(\s*["'`]([^"'`\s$]+)["'`]"#).expect("valid regex"));
static FETCH_METHOD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)^\s*,\s*\{(?:[^{}]|\{[^{}]*\}){0,300}?\bmethod\s*:\s*["'`](\w+)["'`]"#).expect("valid regex")
});
/// A client call whose route is joined to a variable: `a.post(API + "/login")`,
/// `` a.post(`${API}/login`) ``.
static JOINED_CALL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"\.(get|post|put|patch|delete)\(\s*(?:([A-Za-z_$][\w.$]*)\s*\+\s*["'`]|`\$\{\s*([A-Za-z_$][\w.$]{0,60})\s*\})(/[A-Za-z0-9_\-./~]+)["'`]"#)
        .expect("valid regex")
});
static TABLE_ENTRY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"([A-Za-z_$][\w$]*|"[\w$-]+"|'[\w$-]+')\s*:\s*["'`](/[A-Za-z0-9_\-./~]+)["'`]"#).expect("valid regex")
});
static PATH_LITERAL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"["'`](/[A-Za-z0-9_\-./~]{2,})["'`]"#).expect("valid regex"));

/// The routes a script names, resolved against `base` (the page or bundle URL; only
/// same-origin ones kept), with what each is for.
pub fn routes_in(code: &str, base: &Url) -> Vec<Route> {
    let resolve = |raw: &str| -> Option<Url> {
        let mut url = if raw.starts_with("http://") || raw.starts_with("https://") {
            Url::parse(raw).ok()?
        } else if raw.starts_with('/') && !raw.starts_with("//") {
            base.join(raw).ok()?
        } else {
            return None;
        };
        url.set_fragment(None);
        url.set_query(None);
        (url.origin() == base.origin() && looks_like_a_route(url.path())).then_some(url)
    };
    let mut bases: Vec<String> = Vec::new();
    for c in BASE_URL.captures_iter(code) {
        let raw = &c[1];
        let path = if raw.starts_with("http") {
            match Url::parse(raw).ok().filter(|u| u.origin() == base.origin()) {
                Some(u) => u.path().to_string(),
                None => continue,
            }
        } else {
            raw.to_string()
        };
        let path = path.trim_end_matches('/').to_string();
        if path.starts_with('/') && !path.starts_with("//") && !bases.contains(&path) {
            bases.push(path);
        }
    }
    bases.truncate(2);
    // A client's route: the path as written when absolute, else under each base URL.
    let under_bases = |raw: &str| -> Vec<String> {
        let joined: Vec<String> = bases
            .iter()
            .filter(|b| !raw.starts_with(b.as_str()))
            .map(|b| format!("{b}/{}", raw.trim_start_matches('/')))
            .collect();
        if joined.is_empty() || raw.starts_with("http") {
            vec![raw.to_string()]
        } else {
            joined
        }
    };
    let mut out: Vec<Route> = Vec::new();
    let mut written: Vec<String> = Vec::new();
    let push = |url: Option<Url>, role: RouteRole, out: &mut Vec<Route>| {
        let Some(url) = url else { return };
        match out.iter_mut().find(|r| r.url == url) {
            Some(known) => known.role = known.role.min(role),
            None => out.push(Route { url, role }),
        }
    };
    for c in CALL.captures_iter(code) {
        let method = c[1].to_ascii_uppercase();
        for raw in under_bases(&c[2]) {
            let role = role_of(&raw, None, &method);
            // A route the app only writes to is read by nobody: no GET for it.
            if role != RouteRole::Api || method == "GET" {
                push(resolve(&raw), role, &mut out);
            } else {
                written.push(c[2].to_string());
            }
        }
    }
    for c in JOINED_CALL.captures_iter(code) {
        let method = c[1].to_ascii_uppercase();
        let variable = c.get(2).or_else(|| c.get(3)).map(|m| m.as_str()).unwrap_or("");
        let joined = match constant_path(code, variable) {
            Some(prefix) => vec![format!("{}{}", prefix.trim_end_matches('/'), &c[4])],
            None => under_bases(&c[4]),
        };
        for raw in joined {
            let role = role_of(&raw, None, &method);
            if role != RouteRole::Api || method == "GET" {
                push(resolve(&raw), role, &mut out);
            }
        }
    }
    for c in FETCH.captures_iter(code) {
        let rest = &code[c.get(0).map(|m| m.end()).unwrap_or(0)..];
        let method = FETCH_METHOD
            .captures(rest)
            .map(|m| m[1].to_ascii_uppercase())
            .unwrap_or_else(|| "GET".into());
        let role = role_of(&c[1], None, &method);
        if role != RouteRole::Api || method == "GET" {
            push(resolve(&c[1]), role, &mut out);
        } else {
            written.push(c[1].to_string());
        }
    }
    for c in TABLE_ENTRY.captures_iter(code) {
        let key = c[1].trim_matches(['"', '\'']).to_ascii_lowercase();
        let role = role_of(&c[2], Some(&key), "");
        if role == RouteRole::Api && !says_api(&c[2]) {
            continue;
        }
        let mut variants = vec![c[2].to_string()];
        variants.extend(under_bases(&c[2]).into_iter().filter(|v| v != &c[2]));
        for raw in variants {
            push(resolve(&raw), role, &mut out);
        }
    }
    for c in PATH_LITERAL.captures_iter(code) {
        if says_api(&c[1]) && !written.iter().any(|w| w == &c[1]) {
            push(resolve(&c[1]), RouteRole::Api, &mut out);
        }
    }
    // A GET is sent only where the route's name says a GET reads.
    out.retain(|r| r.role != RouteRole::Api || !changes_state(r.url.path()));
    out
}

/// The path a script assigns to `name` (`const API="/api/v3"`), when it assigns one.
fn constant_path(code: &str, name: &str) -> Option<String> {
    let last = name.rsplit('.').next()?;
    if last.is_empty() || !last.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$') {
        return None;
    }
    let pattern = format!(
        r#"(?:^|[^\w$.]){}\s*[:=]\s*["'`](/[A-Za-z0-9_\-./~]*)["'`]"#,
        regex::escape(last)
    );
    let found = Regex::new(&pattern).ok()?.captures(code)?;
    Some(found[1].to_string())
}

/// Whether a path looks like a server route rather than an asset or a template.
fn looks_like_a_route(path: &str) -> bool {
    let last = path.rsplit('/').next().unwrap_or("");
    let asset = last.contains('.')
        && !last.ends_with(".json")
        && [
            ".js", ".mjs", ".css", ".png", ".svg", ".jpg", ".jpeg", ".gif", ".ico", ".woff", ".woff2", ".ttf", ".map",
            ".html", ".htm", ".webp", ".txt", ".xml",
        ]
        .iter()
        .any(|e| last.ends_with(e));
    path.len() > 1 && !asset && !path.contains("//") && !path.contains(':')
}

/// Whether a path names an API (its segments say `api`, a version, `graphql`, `rest`).
fn says_api(path: &str) -> bool {
    path.to_ascii_lowercase().split('/').any(|seg| {
        seg == "api"
            || seg == "rest"
            || seg == "graphql"
            || seg == "backend"
            || (seg.len() >= 2 && seg.starts_with('v') && seg[1..].chars().all(|c| c.is_ascii_digit()))
    })
}

/// Words of a login route's path or route-table key.
const LOGIN_WORDS: &[&str] = &[
    "login",
    "signin",
    "logon",
    "session",
    "authenticate",
    "auth/token",
    "token",
];
/// Words of routes that take a password but are no login (or are another flow).
const NOT_LOGIN_WORDS: &[&str] = &[
    "register",
    "signup",
    "reset",
    "forgot",
    "refresh",
    "logout",
    "signout",
    "verify",
    "revoke",
    "password",
    "callback",
    "social",
    "oauth/authorize",
    "current",
];

/// What a route is for, from its path, its route-table key and the method it is called
/// with: a login is named so and sent by POST (or named so in a route table).
fn role_of(path: &str, key: Option<&str>, method: &str) -> RouteRole {
    let words = format!("{} {}", path, key.unwrap_or(""))
        .to_ascii_lowercase()
        .replace(['-', '_'], "");
    let tokens: Vec<&str> = words.split(|c: char| !c.is_ascii_alphanumeric()).collect();
    let ends_a_session =
        words.contains("session") && ["destroy", "delete", "end", "close"].iter().any(|w| tokens.contains(w));
    if ends_a_session || ["logout", "signout", "logoff"].iter().any(|w| words.contains(w)) {
        return RouteRole::Logout;
    }
    if words.contains("refresh") {
        return RouteRole::Refresh;
    }
    let named_login =
        LOGIN_WORDS.iter().any(|w| words.contains(w)) && !NOT_LOGIN_WORDS.iter().any(|w| words.contains(w));
    if named_login && (method == "POST" || (method.is_empty() && key.is_some())) {
        return RouteRole::Login;
    }
    RouteRole::Api
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(code: &str) -> Vec<(String, RouteRole)> {
        let base = Url::parse("http://t/assets/app.js").unwrap();
        routes_in(code, &base)
            .into_iter()
            .map(|r| (r.url.path().to_string(), r.role))
            .collect()
    }

    #[test]
    fn a_clients_base_url_is_joined_with_its_calls() {
        let code = r#"const a=axios.create({baseURL:"/backend/v2",timeout:5e3});function l(e,t){return a.post("/session/create",{username:e,password:t})}const m=()=>a.get("/notes/mine");a.post("/session/destroy")"#;
        assert_eq!(
            found(code),
            vec![
                ("/backend/v2/session/create".into(), RouteRole::Login),
                ("/backend/v2/notes/mine".into(), RouteRole::Api),
                ("/backend/v2/session/destroy".into(), RouteRole::Logout),
                // The API root the client is based at, read by GET like any API route.
                ("/backend/v2".into(), RouteRole::Api),
            ]
        );
    }

    #[test]
    fn fetch_calls_and_route_tables_name_logins_logouts_and_refreshes() {
        let code = r#"const R={login:"/api/v1/users/authenticate",logout:"/api/v1/users/logout",refresh:"/api/v1/token/refresh",home:"/dashboard"};
            fetch("/api/auth/sign-in",{method:"POST",headers:{}});fetch("/api/orders");fetch("https://evil.example/api/x");
            import("/assets/chunk-1a2b.js");fetch("/api/register",{method:"POST"})"#;
        assert_eq!(
            found(code),
            vec![
                ("/api/auth/sign-in".into(), RouteRole::Login),
                ("/api/orders".into(), RouteRole::Api),
                ("/api/v1/users/authenticate".into(), RouteRole::Login),
                ("/api/v1/users/logout".into(), RouteRole::Logout),
                ("/api/v1/token/refresh".into(), RouteRole::Refresh),
            ]
        );
    }

    #[test]
    fn routes_joined_to_a_variable_and_fetch_options_with_nested_objects_are_read() {
        let code = r#"const B="/api/v3";export const login=(u,p)=>http.post(B+"/auth/login",{u,p});const o=()=>http.post(`${B}/auth/logout`);fetch("/api/v3/token",{headers:{"Content-Type":"application/json"},method:"POST",body:x})"#;
        assert_eq!(
            found(code),
            vec![
                ("/api/v3/auth/login".into(), RouteRole::Login),
                ("/api/v3/auth/logout".into(), RouteRole::Logout),
                ("/api/v3/token".into(), RouteRole::Login),
                ("/api/v3".into(), RouteRole::Api),
            ]
        );
    }

    #[test]
    fn a_login_named_but_read_by_get_is_no_login() {
        assert_eq!(
            found(r#"fetch("/api/session/info")"#),
            vec![("/api/session/info".into(), RouteRole::Api)]
        );
    }
}
