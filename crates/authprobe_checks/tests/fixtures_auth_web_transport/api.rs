//! A scripted API the way another framework than Django serves it, hardened by default,
//! with one flaw switched on per flawed row (as the testbed's `--flaws` switches do).
//!
//! | stack   | login                                  | identity        | collection                |
//! |---------|----------------------------------------|-----------------|---------------------------|
//! | Express | `POST /api/auth/login` → `{"token"}`   | `/api/me`       | `/api/orders` → `{"orders": [...]}` |
//! | FastAPI | `POST /token` (OAuth2 form) → `{"access_token","token_type":"bearer"}` | `/api/users/me` | `/api/items` → `[...]` |
//! | Flask   | `POST /api/login` → `{"access_token","refresh_token"}` (Flask-JWT-Extended), `/login` form (Flask-Login) | `/api/me` | `/api/notes` → `{"notes": [...]}` |
//! | Laravel | `POST /api/login` → `{"token":"1|…"}` (Sanctum) | `/api/user` | `/api/orders` → `{"data": [...]}` |
//!
//! Error bodies are each stack's own: `{"error": {"message"}}` (Express), `{"detail"}`
//! (FastAPI), `{"msg"}` (Flask-JWT-Extended), `{"message"}` (Laravel).

use std::collections::HashMap;
use std::sync::Mutex;

use authprobe_core::config::ScanConfig;
use authprobe_core::exchange::RecordedRequest;
use authprobe_core::probe::ScriptedAnswer;
use serde_json::{json, Value};
use url::Url;

use crate::{form_field, header, html, json_body, jwt, now, str_field};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stack {
    Express,
    FastApi,
    Flask,
    Laravel,
}

/// The flaws switched on (all off: the hardened API).
#[derive(Clone, Copy, Debug, Default)]
pub struct Flaws {
    /// The object detail route forgot its auth middleware (AUTH001).
    pub open_detail: bool,
    /// A token that does not decode falls back to the demo account `alice` (AUTH002).
    pub garbage_accepted: bool,
    /// passport-jwt also extracts the token from `?token=`/`?access_token=` (AUTH003).
    pub query_token: bool,
    /// The auth hook runs for GET and POST only; HEAD reaches the handler (AUTH004).
    pub head_bypass: bool,
    /// The login says "User not found" (404) vs "Incorrect password" (401) (AUTH005).
    pub enumeration: bool,
    /// Any of the API's JWTs is accepted, refresh tokens included (AUTH006).
    pub refresh_as_access: bool,
    /// 401s without `WWW-Authenticate` (passport-jwt rather than passport-http-bearer) (AUTH007).
    pub no_challenge: bool,
    /// The token is read from `x-access-token` only, while the served spec documents
    /// `bearerAuth` (SPEC001).
    pub x_access_token_only: bool,
    /// Objects of other accounts are served by id (BOLA001).
    pub bola: bool,
    /// Objects keyed by a counter rather than UUIDs (BOLA002).
    pub sequential_ids: bool,
    /// `/api/admin/users` checks authentication, not the admin role (AUTHZ001).
    pub bfla: bool,
    /// `User::create($request->all())` with `$guarded = []` (AUTHZ002).
    pub mass_assignment: bool,
    /// No limiter on the login and refresh routes (RATE001, RATE002).
    pub no_rate_limit: bool,
    /// The limiter keys on `X-Forwarded-For` (`trust proxy` on) (RATE003).
    pub xff_trusted: bool,
    /// Plain HTTP serves the app instead of redirecting (TLS001, TLS002).
    pub plain_http: bool,
    /// No `Strict-Transport-Security` (TLS003).
    pub no_hsts: bool,
    /// The refresh cookie without `Secure` and `SameSite` (TLS004).
    pub insecure_cookie: bool,
    /// `cors({origin: true, credentials: true})` (WEB001).
    pub cors_reflect: bool,
    /// HTML pages without a Content-Security-Policy (WEB002).
    pub no_csp: bool,
    /// Flask-Login's `redirect(request.args.get("next"))` (WEB003).
    pub open_redirect: bool,
    /// No helmet: no nosniff, frame options or referrer policy (WEB004).
    pub no_security_headers: bool,
    /// Express's development error handler prints `err.stack` (DJ003).
    pub stack_traces: bool,
    /// Flask run with `debug=True`: a crash renders the Werkzeug debugger (DJ003).
    pub werkzeug_debugger: bool,
}

/// Failed attempts a client may make before the limiter answers 429.
const LIMIT: usize = 10;

/// The "user" of a request that reached a handler without authenticating.
const UNSCOPED: &str = "";

/// The address the scanner's requests come from, as the server's socket sees it.
const PEER: &str = "10.20.30.40";

const ALICE_IDS: [&str; 2] = [
    "3f2b8c1e-9d4a-4e7b-8c2d-1a2b3c4d5e6f",
    "5d0c9e2a-7b1f-4c3e-9a8d-2e4f6a8b0c1d",
];
const BOB_IDS: [&str; 1] = ["9a7e5c3b-1d2f-4e6a-8b0c-7d9e1f3a5b7c"];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Access,
    Refresh,
}

#[derive(Clone)]
struct Account {
    id: u64,
    username: String,
    email: String,
    password: String,
    is_admin: bool,
    role: String,
    deleted: bool,
}

#[derive(Default)]
struct State {
    accounts: Vec<Account>,
    tokens: HashMap<String, (String, Kind)>,
    failures: HashMap<String, usize>,
    serial: u64,
}

/// Who a request is from.
enum Caller {
    Anonymous,
    Invalid,
    Refresh,
    User(String),
}

pub struct Api {
    pub stack: Stack,
    pub flaws: Flaws,
    /// Served at `https://api.example.test/` (its plain-HTTP origin redirects unless flawed).
    pub https: bool,
    /// Serves an OpenAPI document at `/swagger.json` (swagger-jsdoc).
    pub spec: bool,
    /// Listed objects carry their URL (`"url": "/api/orders/…"`).
    pub urls: bool,
    /// The key the API's JWTs are signed with (a key nobody knows when `None`).
    pub jwt_key: Option<&'static [u8]>,
    /// The login's token is an API key the API reads from `X-API-Key`.
    pub api_key: bool,
    /// The query parameters `query_token` reads the token from.
    pub query_params: &'static [&'static str],
    /// The served spec also declares an `apiKey` scheme `in: query` of this name.
    pub spec_query_key: Option<&'static str>,
    /// Sanctum's login answers `{"access_token", "token_type": "Bearer"}` rather than `{"token"}`.
    pub token_type: bool,
    /// An admin sign-in page of the app's own at `/admin/login/` (not Django's).
    pub admin_login: Option<&'static str>,
    state: Mutex<State>,
}

impl Api {
    pub fn new(stack: Stack, flaws: Flaws) -> Api {
        let account = |id: u64, name: &str, password: &str| Account {
            id,
            username: name.into(),
            email: format!("{name}@example.com"),
            password: password.into(),
            is_admin: false,
            role: "user".into(),
            deleted: false,
        };
        Api {
            stack,
            flaws,
            https: false,
            spec: false,
            urls: matches!(stack, Stack::Express | Stack::Flask),
            jwt_key: None,
            admin_login: None,
            token_type: false,
            api_key: false,
            query_params: &["token", "access_token"],
            spec_query_key: None,
            state: Mutex::new(State {
                accounts: vec![account(1, "alice", "pw-1"), account(2, "bob", "pw-2")],
                ..State::default()
            }),
        }
    }

    pub fn origin(&self) -> &'static str {
        if self.https {
            "https://api.example.test/"
        } else {
            authprobe_core::engine::FIXTURE_BASE
        }
    }

    fn login_path(&self) -> &'static str {
        match self.stack {
            Stack::Express => "/api/auth/login",
            Stack::FastApi => "/token",
            Stack::Flask | Stack::Laravel => "/api/login",
        }
    }

    fn me_path(&self) -> &'static str {
        match self.stack {
            Stack::Express | Stack::Flask => "/api/me",
            Stack::FastApi => "/api/users/me",
            Stack::Laravel => "/api/user",
        }
    }

    fn collection(&self) -> &'static str {
        match self.stack {
            Stack::Express | Stack::Laravel => "/api/orders",
            Stack::FastApi => "/api/items",
            Stack::Flask => "/api/notes",
        }
    }

    fn ids_of(&self, user: &str) -> Vec<String> {
        let (alice, bob): (Vec<String>, Vec<String>) = if self.flaws.sequential_ids {
            (vec!["41".into(), "42".into()], vec!["43".into()])
        } else {
            (
                ALICE_IDS.iter().map(|s| s.to_string()).collect(),
                BOB_IDS.iter().map(|s| s.to_string()).collect(),
            )
        };
        match user {
            "alice" => alice,
            "bob" => bob,
            _ => Vec::new(),
        }
    }

    fn owner_of(&self, id: &str) -> Option<&'static str> {
        ["alice", "bob"]
            .into_iter()
            .find(|u| self.ids_of(u).iter().any(|i| i == id))
    }

    fn object(&self, id: &str) -> Value {
        let owner = self.owner_of(id).unwrap_or("nobody");
        let id_value = id.parse::<u64>().map(Value::from).unwrap_or_else(|_| id.into());
        let mut object = json!({
            "id": id_value,
            "owner": owner,
            "item": format!("order {id}"),
            "note": format!("deliver to {owner}'s office, second floor, ask for the parcel room"),
            "total": 42.5,
        });
        if self.urls {
            object["url"] = format!("{}/{id}", self.collection()).into();
        }
        object
    }

    fn listing(&self, user: &str) -> Value {
        // Without a user to scope to (a HEAD past the auth hook), the query is unfiltered.
        let ids = match user {
            UNSCOPED => [self.ids_of("alice"), self.ids_of("bob")].concat(),
            _ => self.ids_of(user),
        };
        let items: Vec<Value> = ids.iter().map(|id| self.object(id)).collect();
        match self.stack {
            Stack::Express => json!({"orders": items}),
            Stack::FastApi => Value::Array(items),
            Stack::Flask => json!({"notes": items}),
            Stack::Laravel => json!({"data": items}),
        }
    }

    fn record(&self, account: &Account) -> Value {
        let mut me = json!({"id": account.id, "username": account.username, "email": account.email});
        if self.stack == Stack::Laravel {
            me["is_admin"] = account.is_admin.into();
        }
        if self.stack == Stack::Express {
            me["role"] = account.role.clone().into();
        }
        me
    }

    fn mint(&self, user: &str, kind: Kind) -> String {
        let mut state = self.state.lock().unwrap();
        state.serial += 1;
        let serial = state.serial;
        let token = match self.stack {
            Stack::Laravel => format!("{serial}|{:020x}{:020x}", rand::random::<u64>(), rand::random::<u64>()),
            _ if self.api_key => format!("ak_{:016x}{:016x}", rand::random::<u64>(), rand::random::<u64>()),
            _ => {
                let kind_claim = if kind == Kind::Access { "access" } else { "refresh" };
                let claims = json!({"sub": user, "type": kind_claim, "jti": format!("{serial:08x}"), "iat": now(), "exp": now() + 900});
                jwt(claims, self.jwt_key)
            }
        };
        state.tokens.insert(token.clone(), (user.to_string(), kind));
        token
    }

    fn account(&self, name: &str) -> Option<Account> {
        let state = self.state.lock().unwrap();
        state
            .accounts
            .iter()
            .find(|a| a.username == name && !a.deleted)
            .cloned()
    }

    fn caller(&self, req: &RecordedRequest, url: &Url) -> Caller {
        let mut token = if self.flaws.x_access_token_only {
            header(req, "x-access-token").map(str::to_string)
        } else if self.api_key {
            header(req, "x-api-key").map(str::to_string)
        } else {
            header(req, "authorization")
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(|t| t.trim().to_string())
        };
        if self.flaws.query_token && token.is_none() {
            token = url
                .query_pairs()
                .find(|(k, _)| self.query_params.contains(&k.as_ref()))
                .map(|(_, v)| v.into_owned());
        }
        let Some(token) = token.filter(|t| !t.is_empty()) else {
            return Caller::Anonymous;
        };
        let found = self.state.lock().unwrap().tokens.get(&token).cloned();
        match found {
            Some((user, _)) if self.account(&user).is_none() => Caller::Invalid,
            Some((user, Kind::Access)) => Caller::User(user),
            Some((user, Kind::Refresh)) if self.flaws.refresh_as_access => Caller::User(user),
            Some((_, Kind::Refresh)) => Caller::Refresh,
            None if self.flaws.garbage_accepted => Caller::User("alice".into()),
            None => Caller::Invalid,
        }
    }

    fn challenged(&self, answer: ScriptedAnswer) -> ScriptedAnswer {
        match self.stack {
            Stack::FastApi => answer.header("WWW-Authenticate", "Bearer"),
            Stack::Express if !self.flaws.no_challenge && !self.flaws.x_access_token_only && !self.api_key => {
                answer.header("WWW-Authenticate", "Bearer realm=\"shop-api\"")
            }
            _ => answer,
        }
    }

    fn refused(&self, caller: &Caller) -> ScriptedAnswer {
        let answer = match (self.stack, caller) {
            (Stack::Express, _) if self.flaws.x_access_token_only => ScriptedAnswer::json(
                401,
                json!({"error": {"message": "No valid token provided in the x-access-token header"}}),
            ),
            (Stack::Express, _) if self.api_key => ScriptedAnswer::json(
                401,
                json!({"error": {"message": "Missing or invalid API key: send it in the X-API-Key header"}}),
            ),
            (Stack::Express, _) => ScriptedAnswer::json(401, json!({"error": {"message": "Authentication required"}})),
            (Stack::FastApi, Caller::Anonymous) => ScriptedAnswer::json(401, json!({"detail": "Not authenticated"})),
            (Stack::FastApi, _) => ScriptedAnswer::json(401, json!({"detail": "Could not validate credentials"})),
            (Stack::Flask, Caller::Anonymous) => {
                ScriptedAnswer::json(401, json!({"msg": "Missing Authorization Header"}))
            }
            (Stack::Flask, Caller::Refresh) => {
                ScriptedAnswer::json(422, json!({"msg": "Only non-refresh tokens are allowed"}))
            }
            (Stack::Flask, _) => ScriptedAnswer::json(422, json!({"msg": "Signature verification failed"})),
            (Stack::Laravel, _) => ScriptedAnswer::json(401, json!({"message": "Unauthenticated."})),
        };
        self.challenged(answer)
    }

    fn not_found(&self, method: &str, path: &str) -> ScriptedAnswer {
        match self.stack {
            Stack::Express => html(
                404,
                &format!("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Error</title></head><body><pre>Cannot {method} {path}</pre></body></html>"),
            ),
            Stack::FastApi => ScriptedAnswer::json(404, json!({"detail": "Not Found"})),
            Stack::Flask => html(
                404,
                "<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.</p>\n",
            ),
            Stack::Laravel => ScriptedAnswer::json(404, json!({"message": "Not Found"})),
        }
    }

    /// A POST-only route asked with GET: Express has no GET route (404), the others 405.
    fn post_only(&self, method: &str, path: &str) -> ScriptedAnswer {
        match self.stack {
            Stack::Express => self.not_found(method, path),
            Stack::FastApi => ScriptedAnswer::json(405, json!({"detail": "Method Not Allowed"})).header("Allow", "POST"),
            Stack::Flask => html(
                405,
                "<!doctype html>\n<html lang=en>\n<title>405 Method Not Allowed</title>\n<h1>Method Not Allowed</h1>\n<p>The method is not allowed for the requested URL.</p>\n",
            )
            .header("Allow", "OPTIONS, POST"),
            Stack::Laravel => ScriptedAnswer::json(
                405,
                json!({"message": format!("The {method} method is not supported for route {}. Supported methods: POST.", path.trim_start_matches('/'))}),
            ),
        }
    }

    /// The limiter's key for a request: the socket's address, or the client's claim.
    fn client(&self, req: &RecordedRequest) -> String {
        match header(req, "x-forwarded-for") {
            Some(xff) if self.flaws.xff_trusted => xff.split(',').next().unwrap_or(PEER).trim().to_string(),
            _ => PEER.to_string(),
        }
    }

    fn limited(&self, client: &str) -> Option<ScriptedAnswer> {
        if self.flaws.no_rate_limit {
            return None;
        }
        let failures = self.state.lock().unwrap().failures.get(client).copied().unwrap_or(0);
        if failures < LIMIT {
            return None;
        }
        let body = match self.stack {
            Stack::Express => json!({"error": {"message": "Too many login attempts, please try again in 15 minutes."}}),
            Stack::FastApi => json!({"error": "Rate limit exceeded: 10 per 1 minute"}),
            Stack::Flask => json!({"msg": "ratelimit exceeded 10 per 1 minute"}),
            Stack::Laravel => json!({"message": "Too Many Attempts."}),
        };
        Some(ScriptedAnswer::json(429, body).header("Retry-After", "900"))
    }

    fn failed(&self, client: &str) {
        *self
            .state
            .lock()
            .unwrap()
            .failures
            .entry(client.to_string())
            .or_default() += 1;
    }

    pub fn answer(&self, req: &RecordedRequest) -> ScriptedAnswer {
        let url = Url::parse(&req.url).expect("the probe sends valid URLs");
        if self.https && url.scheme() == "http" && !self.flaws.plain_http {
            let mut to = url.clone();
            to.set_scheme("https").unwrap();
            return ScriptedAnswer::new(301).header("Location", to.as_str());
        }
        let answer = if req.method == "HEAD" {
            // Express and Flask answer HEAD with the GET route, body dropped.
            let get = RecordedRequest {
                method: "GET".into(),
                ..req.clone()
            };
            let full = self.route(&get, &url, true);
            let length = full.body.len().to_string();
            ScriptedAnswer {
                body: String::new(),
                ..full
            }
            .header("Content-Length", &length)
        } else {
            self.route(req, &url, false)
        };
        self.decorate(req, &url, answer)
    }

    /// Headers every answer gets: helmet's, HSTS over HTTPS, CORS.
    fn decorate(&self, req: &RecordedRequest, url: &Url, mut answer: ScriptedAnswer) -> ScriptedAnswer {
        let is_html = answer
            .headers
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case("content-type") && v.contains("html"));
        if !self.flaws.no_security_headers {
            answer = answer
                .header("X-Content-Type-Options", "nosniff")
                .header("X-Frame-Options", "SAMEORIGIN")
                .header("Referrer-Policy", "no-referrer");
        }
        if is_html && !self.flaws.no_csp {
            answer = answer.header(
                "Content-Security-Policy",
                "default-src 'self'; frame-ancestors 'self'; object-src 'none'",
            );
        }
        if url.scheme() == "https" && !self.flaws.no_hsts {
            answer = answer.header("Strict-Transport-Security", "max-age=31536000; includeSubDomains");
        }
        if let Some(origin) = header(req, "origin") {
            if self.flaws.cors_reflect || origin == "https://shop.example.com" {
                answer = answer
                    .header("Access-Control-Allow-Origin", origin)
                    .header("Access-Control-Allow-Credentials", "true")
                    .header("Vary", "Origin");
            }
        }
        answer
    }

    fn route(&self, req: &RecordedRequest, url: &Url, head: bool) -> ScriptedAnswer {
        let path = url.path();
        let method = req.method.as_str();
        if method == "OPTIONS" {
            return self.options(path);
        }
        if path == self.login_path() {
            return match method {
                "POST" => self.login(req),
                _ => self.post_only(method, path),
            };
        }
        match (self.stack, method, path) {
            (_, "GET", "/") => return ScriptedAnswer::json(200, self.index()),
            (Stack::Express, "GET", "/swagger.json") if self.spec => {
                return ScriptedAnswer::json(200, self.openapi())
            }
            (Stack::FastApi, "GET", "/docs") => {
                return html(
                    200,
                    "<!DOCTYPE html><html><head><link type=\"text/css\" rel=\"stylesheet\" href=\"https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css\"><title>Items API - Swagger UI</title></head><body><div id=\"swagger-ui\"></div><script src=\"https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js\"></script><script>const ui = SwaggerUIBundle({url: '/openapi.json', dom_id: '#swagger-ui'})</script></body></html>",
                )
            }
            (_, "GET", "/admin/login/") if self.admin_login.is_some() => {
                return html(200, self.admin_login.unwrap_or_default())
            }
            (Stack::Flask, _, "/login") => return self.form_login(req, url),
            (Stack::Flask, "POST", "/api/token/refresh") => return self.refresh(req),
            (Stack::Flask, _, "/api/token/refresh") => return self.post_only(method, path),
            (Stack::Flask, "GET", "/api/health") if self.flaws.werkzeug_debugger => return werkzeug_debugger(),
            (Stack::Flask, "GET", "/api/health") => {
                return ScriptedAnswer::json(503, json!({"msg": "database unavailable"}))
            }
            (Stack::Laravel, "POST", "/api/register") => return self.register(req),
            (Stack::Laravel, _, "/api/register") => return self.post_only(method, path),
            _ => {}
        }
        let protected = path == self.me_path()
            || path == self.collection()
            || path.starts_with(&format!("{}/", self.collection()))
            || (self.stack == Stack::Express && path == "/api/admin/users");
        if !protected {
            return self.not_found(method, path);
        }
        let caller = match self.caller(req, url) {
            // The auth hook runs for GET and POST only.
            Caller::Anonymous if head && self.flaws.head_bypass => Caller::User(UNSCOPED.into()),
            caller => caller,
        };
        let open_object =
            self.flaws.open_detail && method == "GET" && path.starts_with(&format!("{}/", self.collection()));
        let user = match caller {
            Caller::User(user) => user,
            _ if open_object => UNSCOPED.into(),
            other => return self.refused(&other),
        };
        if path == self.me_path() && user == UNSCOPED {
            // `current_user` is None past the hook: the handler crashes.
            return html(500, "<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n<h1>Internal Server Error</h1>\n<p>The server encountered an internal error and was unable to complete your request.</p>\n");
        }
        if path == self.me_path() {
            return self.me(req, &user);
        }
        if path == "/api/admin/users" {
            if !self.flaws.bfla {
                return ScriptedAnswer::json(403, json!({"error": {"message": "Forbidden: admin role required"}}));
            }
            let state = self.state.lock().unwrap();
            let users: Vec<Value> = state.accounts.iter().map(|a| self.record(a)).collect();
            return ScriptedAnswer::json(200, json!({"users": users}));
        }
        if method != "GET" {
            return self.not_found(method, path);
        }
        if path == self.collection() {
            return self.list(url, &user);
        }
        let id = &path[self.collection().len() + 1..];
        let visible = user == UNSCOPED || self.flaws.bola || self.owner_of(id) == Some(user.as_str());
        if self.owner_of(id).is_none() || !visible {
            return match self.stack {
                Stack::Express => ScriptedAnswer::json(404, json!({"error": {"message": "Order not found"}})),
                Stack::FastApi => ScriptedAnswer::json(404, json!({"detail": "Item not found"})),
                Stack::Flask => ScriptedAnswer::json(404, json!({"msg": "Note not found"})),
                Stack::Laravel => ScriptedAnswer::json(
                    404,
                    json!({"message": "No query results for model [App\\Models\\Order]."}),
                ),
            };
        }
        let object = self.object(id);
        match self.stack {
            Stack::Laravel => ScriptedAnswer::json(200, json!({"data": object})),
            _ => ScriptedAnswer::json(200, object),
        }
    }

    fn list(&self, url: &Url, user: &str) -> ScriptedAnswer {
        let page = url
            .query_pairs()
            .find(|(k, _)| k == "page")
            .map(|(_, v)| v.into_owned());
        if let Some(page) = page.filter(|p| p.parse::<u32>().is_err()) {
            return match self.stack {
                Stack::Flask if self.flaws.werkzeug_debugger => werkzeug_debugger(),
                Stack::Express if self.flaws.stack_traces => express_stack(
                    500,
                    &format!("RangeError: page {page} is not a number"),
                    &["paginate (/srv/shop-api/src/routes/orders.js:31:17)", "Layer.handle [as handle_request] (/srv/shop-api/node_modules/express/lib/router/layer.js:95:5)"],
                ),
                Stack::Express => {
                    ScriptedAnswer::json(400, json!({"error": {"message": "page must be a positive integer"}}))
                }
                Stack::FastApi => ScriptedAnswer::json(
                    422,
                    json!({"detail": [{"type": "int_parsing", "loc": ["query", "page"], "msg": "Input should be a valid integer"}]}),
                ),
                Stack::Flask => ScriptedAnswer::json(400, json!({"msg": "page must be an integer"})),
                Stack::Laravel => ScriptedAnswer::json(
                    422,
                    json!({"message": "The page field must be an integer.", "errors": {"page": ["The page field must be an integer."]}}),
                ),
            };
        }
        ScriptedAnswer::json(200, self.listing(user))
    }

    fn options(&self, path: &str) -> ScriptedAnswer {
        let allow = if path == self.login_path() || (self.stack == Stack::Laravel && path == "/api/register") {
            "POST"
        } else if path == self.me_path() && self.stack == Stack::Laravel {
            "GET,HEAD,PATCH,DELETE"
        } else if path == "/" || path == self.me_path() || path.starts_with(self.collection()) {
            "GET,HEAD"
        } else {
            return self.not_found("OPTIONS", path);
        };
        // Express's automatic OPTIONS answer: the methods, as text.
        ScriptedAnswer::new(200)
            .header("Allow", allow)
            .header("Content-Type", "text/html; charset=utf-8")
            .body(allow)
    }

    fn index(&self) -> Value {
        match self.stack {
            Stack::Express => json!({
                "name": "shop-api",
                "version": "1.4.2",
                "links": {"me": "/api/me", "orders": "/api/orders", "admin": "/api/admin/users", "login": "/api/auth/login"},
            }),
            Stack::FastApi => {
                json!({"message": "Items API", "docs": "/docs", "items": "/api/items", "me": "/api/users/me"})
            }
            Stack::Flask => {
                json!({"api": {"me": "/api/me", "notes": "/api/notes", "health": "/api/health"}, "web": {"login": "/login"}})
            }
            Stack::Laravel => json!({"name": "Laravel", "api": {"user": "/api/user", "orders": "/api/orders"}}),
        }
    }

    fn me(&self, req: &RecordedRequest, user: &str) -> ScriptedAnswer {
        let Some(account) = self.account(user) else {
            return self.refused(&Caller::Invalid);
        };
        match (self.stack, req.method.as_str()) {
            (_, "GET") => ScriptedAnswer::json(200, self.record(&account)),
            (Stack::Laravel, "PATCH") => {
                let body = json_body(req).unwrap_or_default();
                let mut state = self.state.lock().unwrap();
                let stored = state.accounts.iter_mut().find(|a| a.username == user).unwrap();
                if let Some(email) = str_field(&body, "email") {
                    stored.email = email;
                }
                if self.flaws.mass_assignment {
                    stored.is_admin |= truthy(body.get("is_admin"));
                }
                let record = self.record(stored);
                ScriptedAnswer::json(200, record)
            }
            (Stack::Laravel, "DELETE") => {
                let mut state = self.state.lock().unwrap();
                state.accounts.iter_mut().find(|a| a.username == user).unwrap().deleted = true;
                ScriptedAnswer::new(204)
            }
            _ => self.not_found(&req.method, self.me_path()),
        }
    }

    fn credentials(&self, req: &RecordedRequest) -> Result<(String, String), ScriptedAnswer> {
        let pair = |u: Option<String>, p: Option<String>| u.zip(p).filter(|(u, p)| !u.is_empty() && !p.is_empty());
        match self.stack {
            Stack::FastApi => {
                let form = header(req, "content-type").is_some_and(|c| c.contains("x-www-form-urlencoded"));
                let fields = pair(form_field(req, "username"), form_field(req, "password"));
                match fields.filter(|_| form) {
                    Some(f) => Ok(f),
                    None => Err(ScriptedAnswer::json(
                        422,
                        json!({"detail": [{"type": "missing", "loc": ["body", "username"], "msg": "Field required", "input": null}]}),
                    )),
                }
            }
            _ => {
                let Some(body) = json_body(req) else {
                    return Err(match self.stack {
                        Stack::Express if self.flaws.stack_traces => express_stack(
                            400,
                            "SyntaxError: Expected property name or '}' in JSON at position 1 (line 1 column 2)",
                            &[
                                "JSON.parse (&lt;anonymous&gt;)",
                                "parse (/srv/shop-api/node_modules/body-parser/lib/types/json.js:92:19)",
                                "/srv/shop-api/node_modules/body-parser/lib/read.js:128:18",
                            ],
                        ),
                        Stack::Express => ScriptedAnswer::json(400, json!({"error": {"message": "Invalid JSON body"}})),
                        Stack::Flask => ScriptedAnswer::json(
                            400,
                            json!({"msg": "The browser (or proxy) sent a request that this server could not understand."}),
                        ),
                        _ => ScriptedAnswer::json(400, json!({"message": "Malformed JSON."})),
                    });
                };
                match pair(str_field(&body, "username"), str_field(&body, "password")) {
                    Some(f) => Ok(f),
                    None => Err(match self.stack {
                        Stack::Express => ScriptedAnswer::json(
                            400,
                            json!({"error": {"message": "username and password are required"}}),
                        ),
                        Stack::Flask => ScriptedAnswer::json(400, json!({"msg": "Missing username or password"})),
                        _ => ScriptedAnswer::json(
                            422,
                            json!({"message": "The username field is required. (and 1 more error)", "errors": {"username": ["The username field is required."], "password": ["The password field is required."]}}),
                        ),
                    }),
                }
            }
        }
    }

    fn login(&self, req: &RecordedRequest) -> ScriptedAnswer {
        let client = self.client(req);
        if let Some(limit) = self.limited(&client) {
            return limit;
        }
        let (username, password) = match self.credentials(req) {
            Ok(pair) => pair,
            Err(answer) => return answer,
        };
        let account = self.account(&username);
        let Some(account) = account.filter(|a| a.password == password) else {
            self.failed(&client);
            let unknown = self.account(&username).is_none();
            return match self.stack {
                Stack::Express if self.flaws.enumeration && unknown => {
                    ScriptedAnswer::json(404, json!({"error": {"message": "User not found"}}))
                }
                Stack::Express if self.flaws.enumeration => {
                    ScriptedAnswer::json(401, json!({"error": {"message": "Incorrect password"}}))
                }
                Stack::Express => {
                    ScriptedAnswer::json(401, json!({"error": {"message": "Invalid username or password"}}))
                }
                Stack::FastApi => self.challenged(ScriptedAnswer::json(
                    401,
                    json!({"detail": "Incorrect username or password"}),
                )),
                Stack::Flask => ScriptedAnswer::json(401, json!({"msg": "Bad username or password"})),
                Stack::Laravel => {
                    ScriptedAnswer::json(401, json!({"message": "These credentials do not match our records."}))
                }
            };
        };
        let access = self.mint(&account.username, Kind::Access);
        match self.stack {
            Stack::Express => {
                let refresh = self.mint(&account.username, Kind::Refresh);
                let flags = if self.flaws.insecure_cookie {
                    "Path=/api/auth; HttpOnly"
                } else {
                    "Path=/api/auth; HttpOnly; Secure; SameSite=Strict"
                };
                let body = if self.api_key {
                    json!({"key": access})
                } else {
                    json!({"token": access})
                };
                ScriptedAnswer::json(200, body).header("Set-Cookie", &format!("refreshToken={refresh}; {flags}"))
            }
            Stack::FastApi => ScriptedAnswer::json(200, json!({"access_token": access, "token_type": "bearer"})),
            Stack::Flask => {
                let refresh = self.mint(&account.username, Kind::Refresh);
                ScriptedAnswer::json(200, json!({"access_token": access, "refresh_token": refresh}))
            }
            Stack::Laravel if self.token_type => {
                ScriptedAnswer::json(200, json!({"access_token": access, "token_type": "Bearer"}))
            }
            Stack::Laravel => ScriptedAnswer::json(200, json!({"token": access})),
        }
    }

    /// Flask-JWT-Extended's `@jwt_required(refresh=True)`: the refresh token in the
    /// Authorization header, behind Flask-Limiter.
    fn refresh(&self, req: &RecordedRequest) -> ScriptedAnswer {
        let client = self.client(req);
        if let Some(limit) = self.limited(&client) {
            return limit;
        }
        let token = header(req, "authorization").and_then(|v| v.strip_prefix("Bearer "));
        let found = token.and_then(|t| self.state.lock().unwrap().tokens.get(t).cloned());
        match (token, found) {
            (_, Some((user, Kind::Refresh))) => {
                ScriptedAnswer::json(200, json!({"access_token": self.mint(&user, Kind::Access)}))
            }
            (None, _) => {
                self.failed(&client);
                ScriptedAnswer::json(401, json!({"msg": "Missing Authorization Header"}))
            }
            (Some(_), _) => {
                self.failed(&client);
                ScriptedAnswer::json(422, json!({"msg": "Only refresh tokens are allowed"}))
            }
        }
    }

    /// Flask-Login's form, with Flask-WTF's CSRF field.
    fn form_login(&self, req: &RecordedRequest, url: &Url) -> ScriptedAnswer {
        let page = |error: &str| {
            html(
                200,
                &format!("<!doctype html><html><head><title>Sign in</title></head><body>{error}<form method=\"post\"><input id=\"csrf_token\" name=\"csrf_token\" type=\"hidden\" value=\"IjY4ZGI0ZjA1YzE2\"><label>Username <input name=\"username\" type=\"text\"></label><label>Password <input name=\"password\" type=\"password\"></label><button type=\"submit\">Sign in</button></form></body></html>"),
            )
        };
        if req.method != "POST" {
            return page("");
        }
        let (username, password) = (form_field(req, "username"), form_field(req, "password"));
        let ok = match (username, password) {
            (Some(u), Some(p)) => self.account(&u).is_some_and(|a| a.password == p),
            _ => false,
        };
        if !ok {
            return page("<p class=\"flash\">Invalid username or password.</p>");
        }
        let next = url
            .query_pairs()
            .find(|(k, _)| k == "next")
            .map(|(_, v)| v.into_owned());
        let safe = |n: &String| n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\");
        let location = match next {
            Some(n) if self.flaws.open_redirect || safe(&n) => n,
            _ => "/".into(),
        };
        ScriptedAnswer::new(302).header("Location", &location).header(
            "Set-Cookie",
            &format!(
                "session=.eJw{:016x}; HttpOnly; Path=/; SameSite=Lax",
                rand::random::<u64>()
            ),
        )
    }

    /// Laravel's `RegisteredUserController@store`.
    fn register(&self, req: &RecordedRequest) -> ScriptedAnswer {
        let body = json_body(req).unwrap_or_default();
        let (Some(username), Some(email), Some(password)) = (
            str_field(&body, "username"),
            str_field(&body, "email"),
            str_field(&body, "password"),
        ) else {
            return ScriptedAnswer::json(
                422,
                json!({"message": "The username field is required.", "errors": {"username": ["The username field is required."]}}),
            );
        };
        if self.account(&username).is_some() {
            return ScriptedAnswer::json(
                422,
                json!({"message": "The username has already been taken.", "errors": {"username": ["The username has already been taken."]}}),
            );
        }
        let account = {
            let mut state = self.state.lock().unwrap();
            let account = Account {
                id: state.accounts.len() as u64 + 1,
                username,
                email,
                password,
                is_admin: self.flaws.mass_assignment && truthy(body.get("is_admin")),
                role: "user".into(),
                deleted: false,
            };
            state.accounts.push(account.clone());
            account
        };
        let token = self.mint(&account.username, Kind::Access);
        ScriptedAnswer::json(201, json!({"user": self.record(&account), "token": token}))
    }

    /// The OpenAPI document swagger-jsdoc builds from the route comments: `bearerAuth`.
    fn openapi(&self) -> Value {
        let secured = |summary: &str| json!({"get": {"summary": summary, "responses": {"200": {"description": "OK"}}}});
        let mut schemes = json!({"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}});
        if let Some(name) = self.spec_query_key {
            schemes["queryKey"] = json!({"type": "apiKey", "in": "query", "name": name});
        }
        json!({
            "openapi": "3.0.3",
            "info": {"title": "shop-api", "version": "1.4.2"},
            "components": {"securitySchemes": schemes},
            "security": [{"bearerAuth": []}],
            "paths": {
                "/api/auth/login": {"post": {"summary": "Log in", "security": [], "requestBody": {"content": {"application/json": {"schema": {"type": "object", "required": ["username", "password"], "properties": {"username": {"type": "string"}, "password": {"type": "string"}}}}}}, "responses": {"200": {"description": "A token"}}}},
                "/api/me": secured("The caller's account"),
                "/api/orders": secured("The caller's orders"),
                "/api/orders/{id}": {"get": {"summary": "One order", "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}], "responses": {"200": {"description": "OK"}}}},
            },
        })
    }
}

fn truthy(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => matches!(s.as_str(), "1" | "true" | "admin"),
        Some(Value::Number(n)) => n.as_u64() == Some(1),
        _ => false,
    }
}

/// Express's default error handler in development: `err.stack` in a `<pre>`.
fn express_stack(status: u16, message: &str, frames: &[&str]) -> ScriptedAnswer {
    let frames: String = frames.iter().map(|f| format!("<br> &nbsp; &nbsp;at {f}")).collect();
    html(
        status,
        &format!("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Error</title></head><body><pre>{message}{frames}</pre></body></html>"),
    )
}

/// The Werkzeug debugger's page for an exception (Flask run with `debug=True`).
fn werkzeug_debugger() -> ScriptedAnswer {
    html(
        500,
        "<!doctype html>\n<html lang=en>\n<head><title>sqlalchemy.exc.OperationalError: (sqlite3.OperationalError) no such table: note\n // Werkzeug Debugger</title></head>\n<body style=\"background-color: #fff\">\n<div class=\"debugger\">\n<h1>sqlalchemy.exc.OperationalError</h1>\n<div class=\"detail\"><p class=\"errormsg\">sqlalchemy.exc.OperationalError: (sqlite3.OperationalError) no such table: note</p></div>\n<h2 class=\"traceback\">Traceback <em>(most recent call last)</em></h2>\n<div class=\"traceback\"><ul><li><div class=\"frame\" id=\"frame-140\"><h4>File <cite class=\"filename\">\"/srv/notes/app.py\"</cite>, line <em class=\"line\">57</em>, in <code class=\"function\">health</code></h4></div></li></ul>\n<blockquote>Traceback (most recent call last):\n  File \"/srv/notes/app.py\", line 57, in health\n    db.session.execute(text(\"select count(*) from note\"))\nsqlite3.OperationalError: no such table: note</blockquote></div>\n<div class=\"footer\">Brought to you by <strong class=\"arthur\">DON'T PANIC</strong>, your friendly Werkzeug powered traceback interpreter.</div>\n</div>\n</body>\n</html>",
    )
}

/// A row's fixture on this API: `stack` with `flaws`, the API set up by `api_setup`, then
/// the scan configured by `scan_setup` (start: alice and bob, the API's origin).
pub fn fixture_with(
    name: &str,
    stack: Stack,
    flaws: Flaws,
    api_setup: fn(&mut Api),
    scan_setup: fn(&mut ScanConfig),
) -> crate::Fixture {
    crate::Fixture::new(format!("{stack:?}: {name}"), move || async move {
        let mut api = Api::new(stack, flaws);
        api_setup(&mut api);
        let mut config = crate::config(api.origin());
        scan_setup(&mut config);
        let api = std::sync::Arc::new(api);
        crate::context_with(move |req: &RecordedRequest| api.answer(req), config).await
    })
}

/// A row's fixture on this API as it comes: `stack` with `flaws`.
pub fn fixture(name: &str, stack: Stack, flaws: Flaws) -> crate::Fixture {
    fixture_with(name, stack, flaws, |_| {}, |_| {})
}

/// Served at `https://api.example.test/`.
pub fn https(api: &mut Api) {
    api.https = true;
}

/// The flaws of a row: `set` applied to the hardened API's.
pub fn flawed(set: fn(&mut Flaws)) -> Flaws {
    let mut flaws = Flaws::default();
    set(&mut flaws);
    flaws
}
