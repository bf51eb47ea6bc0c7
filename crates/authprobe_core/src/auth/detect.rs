//! Recognising how the target logs in from what it serves: the paths a guessing scan asks
//! (the auth packages' and frameworks' login, token and identity endpoints, the usual spec
//! and docs locations), how their answers show a login, a token endpoint or an identity
//! endpoint ([`AuthRecognizer`], which discovery asks), the routes asked again after
//! discovery (POST-only logins, the logout and refresh beside a login), and the logins an
//! API spec declares.

use futures::stream::{self, StreamExt};
use std::sync::LazyLock;
use url::Url;

use super::post_probe::{add_probed_logins, Unanswered};
use super::vocab::{PASSWORD_FIELDS, USERNAME_FIELDS};
use crate::discovery::{
    fetch_all, kept, Discovered, Endpoint, EndpointKind, FoundBy, Inventory, Recognizer, MAX_ENDPOINTS,
};
use crate::html::password_inputs;
use crate::probe::{Method, Probe, ProbeRequest, ProbeResponse};
use crate::spec::{ApiSpec, Operation, SpecLogin};
use crate::target::UserCredential;

/// The auth layer's answers to discovery's questions ([`Recognizer`]).
pub struct AuthRecognizer;

impl Recognizer for AuthRecognizer {
    fn guessed_paths(&self) -> &[String] {
        GUESSED_PATHS.as_slice()
    }

    fn classify(&self, url: &Url, anonymous: Option<&ProbeResponse>) -> Option<EndpointKind> {
        if anonymous.is_some_and(looks_like_a_spec) {
            return Some(EndpointKind::Schema);
        }
        classify_auth(url, anonymous)
    }

    fn may_take_post_only(&self, path: &str) -> bool {
        LOGIN_PATHS.contains(&path)
    }
}

/// Whether an answer is an OpenAPI or Swagger document (JSON or YAML), by its first bytes:
/// wherever the target serves its spec, it is read.
pub fn looks_like_a_spec(resp: &ProbeResponse) -> bool {
    static VERSION: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(r#"(?m)"(openapi|swagger)"\s*:\s*"[23]\.|^(openapi|swagger)\s*:\s*["']?[23]\."#)
            .expect("valid regex")
    });
    if !resp.is_success() || resp.is_html() {
        return false;
    }
    let head = String::from_utf8_lossy(&resp.body[..resp.body.len().min(512)]).to_ascii_lowercase();
    VERSION.is_match(&head)
}

/// Most spec URLs read from docs pages.
const MAX_DOCS_SPECS: usize = 3;

/// The spec URLs a docs page names: Swagger UI's `url: "…"` (in the page or its init
/// script), ReDoc's and RapiDoc's `spec-url="…"`, Scalar's `data-url="…"`, and
/// `<redoc spec-url>`/`Redoc.init("…")`; same-origin ones only.
pub fn spec_urls_in_docs(page: &ProbeResponse, base: &Url) -> Vec<Url> {
    static PATTERNS: LazyLock<Vec<regex::Regex>> = LazyLock::new(|| {
        [
            r#"(?i)\burl\s*:\s*["']([^"'\s]+)["']"#,
            r#"(?i)\bspec-url\s*=\s*["']([^"'\s]+)["']"#,
            r#"(?i)\bdata-url\s*=\s*["']([^"'\s]+)["']"#,
            r#"(?i)Redoc\.init\(\s*["']([^"'\s]+)["']"#,
        ]
        .iter()
        .map(|p| regex::Regex::new(p).expect("valid regex"))
        .collect()
    });
    let text = page.text();
    let mut out: Vec<Url> = Vec::new();
    for pattern in PATTERNS.iter() {
        for c in pattern.captures_iter(&text) {
            let raw = &c[1];
            let spec_like = [".json", ".yaml", ".yml", "api-docs", "openapi", "swagger", "schema"]
                .iter()
                .any(|w| raw.to_ascii_lowercase().contains(w));
            if let Some(url) = base.join(raw).ok().filter(|u| spec_like && u.origin() == base.origin()) {
                if !out.contains(&url) {
                    out.push(url);
                }
            }
        }
    }
    out.truncate(MAX_DOCS_SPECS);
    out
}

/// The spec the target serves: one discovery found where it is (by its path or its first
/// bytes), else one a docs page names (fetched, at most [`MAX_DOCS_SPECS`]).
pub async fn served_spec(probe: &Probe, inventory: &Inventory) -> Option<(ApiSpec, Url)> {
    let served = inventory
        .endpoints
        .iter()
        .filter(|e| e.kind == EndpointKind::Schema)
        .filter_map(|e| e.anonymous_ok().filter(|r| r.is_success()).map(|r| (e, r)))
        .find_map(|(e, r)| Some((ApiSpec::from_text(&r.text(), e.url.as_str()).ok()?, e.url.clone())));
    if served.is_some() {
        return served;
    }
    let named: Vec<Url> = inventory
        .endpoints
        .iter()
        .filter(|e| e.kind == EndpointKind::Html)
        .filter_map(|e| Some(spec_urls_in_docs(e.anonymous_ok()?, &e.url)))
        .flatten()
        .filter(|u| !inventory.contains(u))
        .take(MAX_DOCS_SPECS)
        .collect();
    for url in named {
        if let Ok(spec) = ApiSpec::fetch(probe, url.clone(), url.as_str()).await {
            return Some((spec, url));
        }
    }
    None
}

/// The inventory of an anonymous discovery, with the auth routes it could not see by GET:
/// the login routes the target's HTML pages and scripts name ([`super::page`]), the
/// guessed login paths that take POST only (those whose `OPTIONS` says so, then, as a last
/// resort, one that answers a credential POST as `account` does: see
/// [`super::post_probe`]), and (on a guessing scan) the logout and refresh beside each
/// login. `account` is the scan's first account, `None` without one or when a login is
/// configured: no credential POST is sent then.
pub async fn complete(probe: &Probe, mut discovered: Discovered, account: Option<&UserCredential>) -> Inventory {
    super::page::read(probe, &mut discovered).await;
    let mut inventory = discovered.inventory;
    let unanswered = add_post_only_logins(probe, &mut inventory, discovered.post_only_candidates).await;
    // Last of the login sources: it runs only when no other found a login.
    add_probed_logins(probe, &mut inventory, unanswered, account).await;
    if discovered.guessed {
        add_logouts_beside_logins(probe, &mut inventory).await;
    }
    inventory
}

/// Paths probed on every scan: API roots, simplejwt/authtoken/dj-rest-auth/djoser login
/// endpoints, Django login pages, identity endpoints and schema locations.
pub const COMMON_PATHS: &[&str] = &[
    "/",
    "/api/",
    "/api/v1/",
    "/api/token/",
    "/api/token/refresh/",
    "/api/token/verify/",
    "/api/token/blacklist/",
    "/api/auth/token/",
    "/api/jwt/create/",
    "/auth/jwt/create/",
    "/auth/jwt/refresh/",
    "/api-token-auth/",
    "/api/auth/login/",
    "/dj-rest-auth/login/",
    "/accounts/login/",
    "/admin/login/",
    "/api/me/",
    "/api/user/",
    "/api/users/me/",
    "/auth/users/me/",
    "/dj-rest-auth/user/",
    "/api/auth/user/",
    "/api/profile/",
    "/api/schema/",
    "/openapi.json",
    "/swagger.json",
    "/.well-known/jwks.json",
    // Identity endpoints of other stacks (FastAPI, Flask, Express, Laravel, Rails).
    "/users/me/",
    "/api/me",
    "/api/users/me",
    "/api/user/me",
    "/api/v1/me",
    "/api/v1/profile",
    "/api/v1/users/me",
    "/api/auth/me",
    "/auth/me",
    "/me",
    "/api/user",
    "/api/v1/user",
    "/userinfo",
    "/o/userinfo/",
    "/openapi.yaml",
    "/swagger/v1/swagger.json",
    "/v3/api-docs",
    // Specs at other frameworks' defaults and under the API prefix (NestJS `/api-json`,
    // springdoc and springfox `/v2/api-docs`, hapi-swagger `/swagger.json`, Fastify's
    // `/documentation/json`, Express' swagger-ui `/api-docs`).
    "/api/openapi.json",
    "/schema/openapi.json",
    "/api-json",
    "/api-docs",
    "/v2/api-docs",
    "/documentation/json",
    // Interactive API docs (FastAPI, drf-spectacular, Swagger UI): HTML pages anyone can open.
    "/docs",
    "/redoc",
    "/api/docs",
];

/// Login and token paths of the mainstream auth packages and frameworks beyond Django's:
/// FastAPI's OAuth2 tutorial (`/token`), django-oauth-toolkit (`/o/token/`), OAuth 2
/// servers (`/oauth/token`), djoser, allauth headless, Flask-JWT-Extended and Express
/// tutorials (`/api/login`, `/api/auth/login`), Rails/Devise (`/users/sign_in`), Laravel
/// Sanctum (`/api/login`, `/login`), Spring and ASP.NET Identity (`/api/authenticate`,
/// `/connect/token`), with the usual versioned prefixes. A path that answers GET with 404
/// is asked `OPTIONS` once: routers that serve POST only (Express, Flask) say so in `Allow`.
pub const LOGIN_PATHS: &[&str] = &[
    "/token",
    "/api/token",
    "/auth/token",
    "/o/token/",
    "/oauth/token",
    "/oauth2/token",
    "/connect/token",
    "/login",
    "/login/",
    "/auth/login",
    "/auth/login/",
    "/api/login",
    "/api/login/",
    "/api/auth/login",
    "/api/v1/login",
    "/api/v1/auth/login",
    "/api/v1/auth/login/",
    "/api/v1/auth/signin",
    "/api/auth/signin",
    "/api/signin",
    "/api/v1/token/",
    "/api/authenticate",
    "/api/users/login",
    "/users/sign_in",
    // Server-rendered session logins (Express/Passport, Rails 8's generated authentication).
    "/session/login",
    "/session/new",
    "/signin",
    "/_allauth/app/v1/auth/login",
    "/api/v1/auth/token/",
];

/// Most login paths asked `OPTIONS` after a 404.
const MAX_LOGIN_OPTIONS: usize = 32;

/// Every path a guessing scan asks, in order: the common paths, then the login paths.
static GUESSED_PATHS: LazyLock<Vec<String>> =
    LazyLock::new(|| COMMON_PATHS.iter().chain(LOGIN_PATHS).map(|p| p.to_string()).collect());

/// Names of logout endpoints beside a login (`/api/auth/login` → `/api/auth/logout`).
const LOGOUT_SIBLINGS: &[&str] = &["logout", "signout", "sign_out", "sign-out", "log_out", "log-out"];

/// Names of refresh endpoints beside a login (`/api/login` → `/api/token/refresh`).
const REFRESH_SIBLINGS: &[&str] = &["refresh", "token/refresh", "refresh-token", "refresh_token"];

/// Most sibling paths asked for.
const MAX_SIBLINGS: usize = 30;

/// Asks for the logout and the refresh beside each login of no known Django package,
/// anonymously (an anonymous request can log nobody out, and mints nothing): a route that
/// refuses GET (405), refuses the anonymous caller (401/403), or says in `Allow` that it
/// takes POST is one. Beside a login only a credential POST found (a router answering
/// every other method 404, so no answer to GET or OPTIONS can tell), the `logout` sibling
/// is taken as the logout flow: the revocation check tries it after a fresh login and
/// says so when it is none.
async fn add_logouts_beside_logins(probe: &Probe, inventory: &mut Inventory) {
    let mut candidates: Vec<(Url, EndpointKind)> = Vec::new();
    let mut beside_probed: Vec<Url> = Vec::new();
    let logins = inventory
        .endpoints
        .iter()
        .filter(|e| matches!(e.kind, EndpointKind::TokenObtain | EndpointKind::FormLogin));
    for e in logins {
        let path = e.path();
        let last = path.trim_end_matches('/').rsplit('/').next().unwrap_or("");
        if !matches!(
            last,
            "login" | "signin" | "sign_in" | "sign-in" | "log_in" | "log-in" | "authenticate"
        ) {
            continue;
        }
        let parent = &path[..path.trim_end_matches('/').len() - last.len()];
        let slash = if path.ends_with('/') { "/" } else { "" };
        let refreshes = REFRESH_SIBLINGS.iter().filter(|_| e.kind == EndpointKind::TokenObtain);
        let names = LOGOUT_SIBLINGS
            .iter()
            .map(|n| (n, EndpointKind::Logout))
            .chain(refreshes.map(|n| (n, EndpointKind::TokenRefresh)));
        for (name, kind) in names {
            if let Ok(url) = e.url.join(&format!("{parent}{name}{slash}")) {
                if !inventory.contains(&url) && !candidates.iter().any(|(u, _)| u == &url) {
                    if e.found_by == FoundBy::Probe && *name == LOGOUT_SIBLINGS[0] {
                        beside_probed.push(url.clone());
                    }
                    candidates.push((url, kind));
                }
            }
        }
    }
    candidates.truncate(MAX_SIBLINGS);
    let kinds: Vec<(Url, EndpointKind)> = candidates.clone();
    let fetched = fetch_all(probe, candidates.into_iter().map(|(u, _)| (u, false)).collect(), None).await;
    for (url, _, anonymous) in fetched {
        let Ok(resp) = anonymous else { continue };
        let Some(kind) = kinds.iter().find(|(u, _)| u == &url).map(|(_, k)| *k) else {
            continue;
        };
        let probed = beside_probed.contains(&url);
        let takes_post = match resp.status {
            405 | 401 | 403 => true,
            404 => probe
                .send(ProbeRequest::method(Method::Options, url.clone()))
                .await
                .is_ok_and(|o| allows_post_only(&o) || probed && o.status == 404),
            _ => false,
        };
        if takes_post && inventory.endpoints.len() < MAX_ENDPOINTS {
            inventory.endpoints.push(Endpoint {
                url,
                kind,
                anonymous: Ok(kept(resp)),
                authenticated: None,
                declared: false,
                found_by: if probed { FoundBy::Probe } else { FoundBy::Guess },
            });
        }
    }
}

/// Asks each login path that answered GET with 404 whether it takes POST (`OPTIONS`, the
/// `Allow` header); those that do join the inventory as token endpoints. Returns the
/// others, with their answer to `OPTIONS`.
async fn add_post_only_logins(
    probe: &Probe,
    inventory: &mut Inventory,
    candidates: Vec<(Url, ProbeResponse, FoundBy)>,
) -> Vec<Unanswered> {
    let concurrency = probe.settings().concurrency.max(1);
    let asked: Vec<(Url, ProbeResponse, FoundBy, Option<ProbeResponse>)> =
        stream::iter(candidates.into_iter().take(MAX_LOGIN_OPTIONS))
            .map(|(url, get, found_by)| async move {
                let options = probe
                    .send(ProbeRequest::method(Method::Options, url.clone()))
                    .await
                    .ok();
                (url, get, found_by, options)
            })
            .buffer_unordered(concurrency)
            .collect()
            .await;
    let mut unanswered = Vec::new();
    for (url, get, found_by, options) in asked {
        let Some(options) = options else { continue };
        if !allows_post_only(&options) {
            unanswered.push(Unanswered {
                url,
                get,
                options,
                found_by,
            });
            continue;
        }
        if inventory.contains(&url) || inventory.endpoints.len() >= MAX_ENDPOINTS {
            continue;
        }
        inventory.endpoints.push(Endpoint {
            url,
            kind: EndpointKind::TokenObtain,
            anonymous: Ok(kept(get)),
            authenticated: None,
            declared: false,
            found_by,
        });
    }
    unanswered
}

/// Whether an `OPTIONS` answer says the route takes POST but not GET.
fn allows_post_only(resp: &ProbeResponse) -> bool {
    if !resp.is_success() {
        return false;
    }
    let allow: Vec<String> = resp
        .header_all("allow")
        .iter()
        .flat_map(|v| v.split(','))
        .map(|m| m.trim().to_ascii_uppercase())
        .collect();
    allow.iter().any(|m| m == "POST") && !allow.iter().any(|m| m == "GET")
}

/// Paths of login and token endpoints in other stacks: a last segment that says so
/// (`/token`, `/login`, `/signin`, `/sign_in`, `/authenticate`), with or without a slash.
fn is_login_path(path: &str) -> bool {
    let last = path.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    matches!(
        last,
        "token" | "login" | "signin" | "sign_in" | "sign-in" | "authenticate" | "log_in" | "log-in"
    ) && !path.contains("refresh")
}

/// The auth kind of an endpoint, from its path and its anonymous GET response: token
/// endpoints (POST only: their GET answers 405), HTML logins, identity endpoints.
fn classify_auth(url: &Url, anonymous: Option<&ProbeResponse>) -> Option<EndpointKind> {
    let path = url.path().to_ascii_lowercase();
    let status = anonymous.map(|r| r.status).unwrap_or(0);
    let html = anonymous.is_some_and(|r| r.is_html());
    let body = anonymous.map(|r| r.text().to_ascii_lowercase()).unwrap_or_default();
    let post_only = status == 405;
    // Token endpoints take POST only: their GET answers 405. (A server that answers 401 to
    // every path would otherwise look like it has them all.)
    if post_only {
        if path.contains("refresh") && path.contains("token") || path.contains("jwt/refresh") {
            return Some(EndpointKind::TokenRefresh);
        }
        if path.contains("verify") && (path.contains("token") || path.contains("jwt")) {
            return Some(EndpointKind::TokenVerify);
        }
        if path.contains("blacklist") {
            return Some(EndpointKind::TokenBlacklist);
        }
    }
    if post_only && is_login_path(&path) {
        return Some(EndpointKind::TokenObtain);
    }
    if post_only
        && (path.ends_with("/token/")
            || (path.contains("/token/") && !path.contains("login"))
            || path.ends_with("/jwt/create/")
            || path.contains("api-token-auth")
            || path.ends_with("/login/")
            || path.contains("token/obtain")
            || path.contains("token-auth"))
    {
        return Some(EndpointKind::TokenObtain);
    }
    if html && (200..300).contains(&status) && body.contains("csrfmiddlewaretoken") && body.contains("password") {
        return Some(
            if path.contains("admin") || body.contains("django administration") || body.contains("django site admin") {
                EndpointKind::AdminLogin
            } else {
                EndpointKind::FormLogin
            },
        );
    }
    // Any other stack's HTML login: a page whose path says login (or session) with a form
    // holding exactly one password input (a sign-up or a password change asks twice).
    let says_login = is_login_path(&path) || path.contains("/session");
    if html && (200..300).contains(&status) && says_login && body.contains("<form") && password_inputs(&body) == 1 {
        return Some(EndpointKind::FormLogin);
    }
    let trimmed = format!("{}/", path.trim_end_matches('/'));
    let identity_like = ["/me/", "/user/", "/users/me/", "/profile/", "/whoami/", "/userinfo/"]
        .iter()
        .any(|p| trimmed.ends_with(p));
    if identity_like && !html && status != 404 {
        return Some(EndpointKind::IdentityCandidate);
    }
    None
}

/// Words of a login operation's path or `operationId`.
const LOGIN_WORDS: &[&str] = &[
    "login", "signin", "sign_in", "sign-in", "logon", "token", "auth", "session",
];
/// Words of operations that also take a password but create or change an account.
const NOT_LOGIN_WORDS: &[&str] = &[
    "regist", "signup", "sign_up", "sign-up", "join", "reset", "change", "password",
];

/// Every login the spec declares: its OAuth 2 password flows first, then the POST
/// operations whose body logs in ([`body_login`]), in the spec's order.
pub fn spec_logins(api: &ApiSpec) -> Vec<SpecLogin> {
    let mut out = api.logins.clone();
    for op in api.operations.iter().filter(|o| o.method == "POST") {
        if let Some(login) = body_login(op) {
            if !out.iter().any(|l| l.path == login.path) {
                out.push(login);
            }
        }
    }
    out
}

/// A POST whose request body has a password-like property and whose path or `operationId`
/// says it logs in: a login, unless the body also asks for a new or repeated password (a
/// sign-up or a password change). POSTing to a sign-up would create an account, so an
/// operation that does not say "login" (or token, auth, session) is never taken for one.
fn body_login(op: &Operation) -> Option<SpecLogin> {
    let words = format!(
        "{} {}",
        op.path.to_ascii_lowercase(),
        op.operation_id.as_deref().unwrap_or("").to_ascii_lowercase()
    );
    if !LOGIN_WORDS.iter().any(|w| words.contains(w)) || NOT_LOGIN_WORDS.iter().any(|w| words.contains(w)) {
        return None;
    }
    let body = op.body.as_ref()?;
    let names: Vec<&str> = body.fields.iter().map(|f| f.name.as_str()).collect();
    let lower: Vec<String> = names.iter().map(|n| n.to_ascii_lowercase()).collect();
    let password = PASSWORD_FIELDS.iter().find_map(|f| lower.iter().position(|n| n == f))?;
    // A second password field means a sign-up or a change, not a login.
    let passwordish = lower.iter().filter(|n| n.contains("pass")).count();
    if passwordish > 1 || lower.iter().any(|n| n.contains("new_") || n.contains("confirm")) {
        return None;
    }
    let username = USERNAME_FIELDS.iter().find_map(|f| lower.iter().position(|n| n == f))?;
    Some(SpecLogin {
        path: op.path.clone(),
        form: body.form,
        password_grant: body.form && lower.iter().any(|n| n == "grant_type"),
        username_field: names[username].to_string(),
        password_field: names[password].to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docs_pages_name_their_spec_in_each_ui_s_own_way() {
        let base = Url::parse("http://t/docs/").unwrap();
        let page = |html: &str| spec_urls_in_docs(&response(200, html), &base);
        let paths = |urls: Vec<Url>| urls.iter().map(|u| u.path().to_string()).collect::<Vec<_>>();
        assert_eq!(
            paths(page(r#"<redoc spec-url="/openapi/v1.yaml"></redoc>"#)),
            ["/openapi/v1.yaml"]
        );
        assert_eq!(
            paths(page(
                r#"<script id="api-reference" data-url="../api/spec.json"></script>"#
            )),
            ["/api/spec.json"]
        );
        assert_eq!(paths(page(r#"Redoc.init('/v2/api-docs', {}, el)"#)), ["/v2/api-docs"]);
        assert!(page(r#"SwaggerUIBundle({url: "https://other.example/swagger.json"})"#).is_empty());
        assert!(page(r#"fetch({url: "/api/orders"})"#).is_empty(), "not a spec's name");
    }

    #[test]
    fn a_spec_is_recognised_by_its_first_bytes_not_its_path() {
        assert!(looks_like_a_spec(&response(200, r#"{"openapi":"3.1.0","paths":{}}"#)));
        assert!(looks_like_a_spec(&response(200, "swagger: '2.0'\npaths: {}\n")));
        assert!(!looks_like_a_spec(&response(200, r#"{"orders":[{"openapi":"no"}]}"#)));
        assert!(!looks_like_a_spec(&response(404, r#"{"openapi":"3.1.0"}"#)));
    }
    use crate::oracle::tests::response;

    fn url(p: &str) -> Url {
        Url::parse("http://t").unwrap().join(p).unwrap()
    }

    #[test]
    fn simplejwt_endpoints_are_recognised_by_their_405_on_get() {
        assert_eq!(
            classify_auth(&url("/api/token/"), Some(&response(405, "{}"))),
            Some(EndpointKind::TokenObtain)
        );
        assert_eq!(
            classify_auth(&url("/api/token/refresh/"), Some(&response(405, "{}"))),
            Some(EndpointKind::TokenRefresh)
        );
        assert_eq!(
            classify_auth(&url("/api-token-auth/"), Some(&response(405, "{}"))),
            Some(EndpointKind::TokenObtain)
        );
    }

    #[test]
    fn logins_come_from_password_flows_and_password_bodies() {
        let text = r##"
openapi: 3.1.0
info: {title: Shop}
components:
  securitySchemes:
    oauth: {type: oauth2, flows: {password: {tokenUrl: auth/token, scopes: {}}}}
  schemas:
    Credentials:
      type: object
      properties: {email: {type: string}, secret: {type: string}}
paths:
  /v1/sessions:
    post:
      operationId: createSession
      requestBody:
        content:
          application/json: {schema: {$ref: "#/components/schemas/Credentials"}}
  /v1/register:
    post:
      requestBody:
        content:
          application/json: {schema: {$ref: "#/components/schemas/Credentials"}}
  /v1/auth/password:
    post:
      requestBody:
        content:
          application/json:
            schema: {properties: {old_password: {type: string}, new_password: {type: string}}}
"##;
        let spec = ApiSpec::from_text(text, "s").unwrap();
        assert_eq!(
            spec_logins(&spec),
            vec![
                SpecLogin {
                    path: "/auth/token".into(),
                    form: true,
                    password_grant: true,
                    username_field: "username".into(),
                    password_field: "password".into(),
                },
                SpecLogin {
                    path: "/v1/sessions".into(),
                    form: false,
                    password_grant: false,
                    username_field: "email".into(),
                    password_field: "secret".into(),
                },
            ]
        );
    }

    #[test]
    fn a_swagger_form_login_is_read_from_form_data() {
        let text = r##"
swagger: "2.0"
basePath: /api
paths:
  /login:
    post:
      parameters:
        - {name: user, in: formData, type: string}
        - {name: pass, in: formData, type: string}
"##;
        let spec = ApiSpec::from_text(text, "s").unwrap();
        let logins = spec_logins(&spec);
        assert_eq!(logins.len(), 1);
        let login = &logins[0];
        assert_eq!((login.path.as_str(), login.form), ("/api/login", true));
        assert_eq!(
            (login.username_field.as_str(), login.password_field.as_str()),
            ("user", "pass")
        );
    }
}
