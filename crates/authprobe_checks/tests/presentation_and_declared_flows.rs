//! Issue 27, classes 6, 7 and 10 (second bullet), through the transport seam.
//!
//! - Class 6: a Go `net/http` API answers its login with `{"data": {"session_token": …}}`
//!   and takes the token only in `X-Session-Token`; another names its key header only in
//!   its spec's `apiKey` scheme. The scan presents each token as the API wants it.
//! - Class 7: an Express API's spec declares a sign-out, an operation that turns the
//!   bearer token into a browser session, and an API key in the query (`api_key`); each
//!   is a flow (source `spec`) the checks use zero-config.
//! - Class 10: an operation whose `security` includes `{}` (authentication optional) is
//!   not declared protected: AUTH001 does not report its anonymous answer.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use authprobe_core::auth::{FlowSource, Presentation};
use authprobe_core::exchange::RecordedRequest;
use authprobe_core::probe::{ScriptedAnswer, Transport};
use authprobe_core::{CheckOutcome, ScanContext};
use serde_json::{json, Value};
use url::Url;

fn header<'a>(req: &'a RecordedRequest, name: &str) -> Option<&'a str> {
    req.headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn cookie(req: &RecordedRequest, name: &str) -> Option<String> {
    header(req, "cookie")?
        .split(';')
        .filter_map(|p| p.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

fn query(url: &Url, name: &str) -> Option<String> {
    url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

fn body(req: &RecordedRequest) -> Value {
    req.body
        .as_deref()
        .and_then(|b| serde_json::from_str(b).ok())
        .unwrap_or_default()
}

/// The findings (endpoint of each) a check reported; it must have run, not skipped.
async fn found(cx: &ScanContext, code: &str) -> Vec<String> {
    let check = authprobe_checks::registry::all()
        .iter()
        .find(|c| c.meta().code == code)
        .expect("a registered check");
    match check.run(cx).await {
        CheckOutcome::Ran(findings) => findings.iter().map(|f| f.endpoint.clone()).collect(),
        CheckOutcome::Skipped(why) => {
            let log: Vec<String> = cx
                .probe
                .exchanges()
                .iter()
                .map(|x| {
                    format!(
                        "{} {} -> {:?}",
                        x.request.method,
                        x.request.url,
                        x.response.as_ref().map(|r| r.status)
                    )
                })
                .collect();
            panic!("{code} skipped: {why}\n{}", log.join("\n"))
        }
    }
}

// ---------------------------------------------------------------------------------------
// Class 6: a Go API whose key goes in a header named after it.

/// A Go 1.22 `net/http` API (`mux.HandleFunc("POST /api/v1/auth/login", …)`): the mux
/// answers other methods 405 with `Allow`, unknown routes `404 page not found`, and the
/// auth middleware reads the token from one header (`r.Header.Get(header)`), falling back,
/// when `query_fallback`, to the query parameter named like the login's field.
struct GoApi {
    /// The login answer's field (`session_token`, `token`).
    field: &'static str,
    /// The one header the middleware reads.
    header: &'static str,
    /// Serves `/openapi.json` declaring the header as an `apiKey` scheme.
    spec: bool,
    query_fallback: bool,
    tokens: Mutex<Vec<String>>,
}

impl GoApi {
    fn new(field: &'static str, header: &'static str, spec: bool, query_fallback: bool) -> Arc<GoApi> {
        Arc::new(GoApi {
            field,
            header,
            spec,
            query_fallback,
            tokens: Mutex::default(),
        })
    }

    fn spec_doc(&self) -> Value {
        json!({
            "openapi": "3.0.3",
            "info": {"title": "orders", "version": "1.0"},
            "components": {"securitySchemes": {
                "sessionKey": {"type": "apiKey", "in": "header", "name": self.header}
            }},
            "paths": {
                "/api/v1/auth/login": {"post": {
                    "summary": "Log in",
                    "requestBody": {"content": {"application/json": {"schema": {
                        "type": "object",
                        "properties": {"email": {"type": "string"}, "password": {"type": "string"}}
                    }}}}
                }},
                "/api/v1/me": {"get": {"summary": "The current user", "security": [{"sessionKey": []}]}}
            }
        })
    }

    fn authenticated(&self, req: &RecordedRequest, url: &Url) -> bool {
        let presented = header(req, self.header)
            .map(str::to_string)
            .or_else(|| self.query_fallback.then(|| query(url, self.field)).flatten());
        presented.is_some_and(|t| self.tokens.lock().unwrap().contains(&t))
    }

    fn answer(&self, req: &RecordedRequest) -> ScriptedAnswer {
        let url = Url::parse(&req.url).unwrap();
        let json_error = |status: u16, msg: &str| ScriptedAnswer::json(status, json!({"error": msg}));
        match (req.method.as_str(), url.path()) {
            ("GET", "/openapi.json") if self.spec => ScriptedAnswer::json(200, self.spec_doc()),
            ("POST", "/api/v1/auth/login") => {
                let b = body(req);
                if b["email"] != "alice@example.test" || b["password"] != "alice-pass-1" {
                    return json_error(401, "invalid email or password");
                }
                let mut tokens = self.tokens.lock().unwrap();
                let token = format!("{:064x}", 0x5e55_10f0_u128 * 7919 + tokens.len() as u128);
                tokens.push(token.clone());
                let mut data = serde_json::Map::new();
                data.insert(self.field.to_string(), json!(token));
                data.insert(
                    "user".into(),
                    json!({"id": 1, "email": "alice@example.test", "name": "Alice"}),
                );
                ScriptedAnswer::json(200, json!({ "data": data }))
            }
            (_, "/api/v1/auth/login") => ScriptedAnswer::new(405)
                .header("Allow", "POST")
                .header("Content-Type", "text/plain; charset=utf-8")
                .body("Method Not Allowed\n"),
            ("GET", "/api/v1/me") if self.authenticated(req, &url) => ScriptedAnswer::json(
                200,
                json!({"data": {"id": 1, "email": "alice@example.test", "name": "Alice"}}),
            ),
            ("GET", "/api/v1/me") => json_error(401, "unauthorized"),
            _ => ScriptedAnswer::new(404)
                .header("Content-Type", "text/plain; charset=utf-8")
                .body("404 page not found\n"),
        }
    }
}

async fn go_context(api: Arc<GoApi>) -> ScanContext {
    let transport: Arc<dyn Transport> = Arc::new(move |req: &RecordedRequest| api.answer(req));
    ScanContext::for_fixture(transport, "", &[("alice@example.test", "alice-pass-1")]).await
}

#[tokio::test]
async fn a_token_under_session_token_is_presented_in_x_session_token() {
    for query_fallback in [true, false] {
        let cx = go_context(GoApi::new("session_token", "X-Session-Token", false, query_fallback)).await;
        let primary = cx
            .primary()
            .unwrap_or_else(|| panic!("alice was not logged in: {:?}", cx.login_failures));
        assert_eq!(
            primary.presentation(),
            Some(&Presentation::Header("X-Session-Token".into()))
        );
        // The middleware's query fallback reads the field's own name: AUTH003 tries it.
        let auth003 = found(&cx, "AUTH003").await;
        assert_eq!(
            auth003,
            if query_fallback {
                vec!["/api/v1/me".to_string()]
            } else {
                vec![]
            }
        );
    }
}

#[tokio::test]
async fn the_key_header_an_api_key_scheme_names_is_tried_first() {
    let cx = go_context(GoApi::new("token", "X-Auth-Key", true, false)).await;
    assert!(cx.spec.is_some(), "the spec was not read");
    let primary = cx
        .primary()
        .unwrap_or_else(|| panic!("alice was not logged in: {:?}", cx.login_failures));
    assert_eq!(primary.presentation(), Some(&Presentation::Header("X-Auth-Key".into())));
    // Tried first: the first authenticated request to /api/v1/me already carried it.
    let first = cx
        .probe
        .exchanges()
        .into_iter()
        .find(|x| {
            x.request.url.ends_with("/api/v1/me")
                && x.request
                    .headers
                    .iter()
                    .any(|(k, _)| k.eq_ignore_ascii_case("authorization") || k.eq_ignore_ascii_case("x-auth-key"))
        })
        .expect("the token was tried at /api/v1/me");
    assert!(
        first
            .request
            .headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("x-auth-key")),
        "{:?}",
        first.request.headers
    );
    assert_eq!(found(&cx, "AUTH003").await, Vec::<String>::new());
}

// ---------------------------------------------------------------------------------------
// Classes 7 and 10: an Express API whose spec declares its sign-out, its session bridge,
// its query key and an optional-authentication route.

/// An Express 4 API (express-session with `saveUninitialized`, a bearer middleware):
/// routes answer other methods `404 Cannot GET`, OPTIONS `200 Allow`. Flawed: the
/// sign-out forgets nothing, the session bridge keeps the session id the browser sent and
/// echoes it in its body, the middleware also reads `?api_key=`, and an invoice is served
/// to anyone. Hardened: none of these.
struct ExpressApi {
    hardened: bool,
    /// The header the middleware reads the key from, instead of `Authorization: Bearer`
    /// (the login then answers `{"apiKey": …}`).
    key_header: Option<&'static str>,
    tokens: Mutex<Vec<(String, bool)>>,
    sessions: Mutex<HashMap<String, bool>>,
    minted: Mutex<u64>,
}

fn express_spec(key_header: Option<&str>) -> Value {
    let client_auth = match key_header {
        Some(name) => json!({"type": "apiKey", "in": "header", "name": name}),
        None => json!({"type": "http", "scheme": "bearer"}),
    };
    json!({
        "openapi": "3.0.0",
        "info": {"title": "shop", "version": "2.3.0"},
        "components": {"securitySchemes": {
            "clientAuth": client_auth,
            "queryKey": {"type": "apiKey", "in": "query", "name": "api_key"}
        }},
        "paths": {
            "/api/auth/login": {"post": {
                "summary": "Log in with email and password",
                "requestBody": {"content": {"application/json": {"schema": {
                    "type": "object",
                    "required": ["email", "password"],
                    "properties": {"email": {"type": "string"}, "password": {"type": "string"}}
                }}}}
            }},
            "/api/account/sign-out": {"post": {
                "summary": "Sign out",
                "operationId": "signOut",
                "security": [{"clientAuth": []}],
                "responses": {"204": {"description": "Signed out"}}
            }},
            "/api/v1/session": {"post": {
                "summary": "Create a browser session from the API key",
                "security": [{"clientAuth": []}, {"queryKey": []}],
                "responses": {"200": {
                    "description": "The session cookie is set",
                    "headers": {"Set-Cookie": {"schema": {"type": "string"}}}
                }}
            }},
            "/api/me": {"get": {"security": [{"clientAuth": []}, {"queryKey": []}]}},
            "/api/orders": {"get": {"summary": "Your orders", "security": [{"clientAuth": []}]}},
            "/api/orders/{orderId}": {"get": {
                "summary": "Track an order (guests by order number, customers with their token)",
                "parameters": [{"name": "orderId", "in": "path", "required": true,
                                 "schema": {"type": "integer"}, "example": 1001}],
                "security": [{}, {"clientAuth": []}]
            }},
            "/api/notes": {"get": {"security": [{"clientAuth": []}]}},
            // As drf-spectacular writes an `AllowAny` view: `{}` last.
            "/api/notes/{noteId}": {"get": {
                "parameters": [{"name": "noteId", "in": "path", "required": true,
                                 "schema": {"type": "integer"}, "example": 3001}],
                "security": [{"clientAuth": []}, {}]
            }},
            "/api/invoices/{invoiceId}": {"get": {
                "parameters": [{"name": "invoiceId", "in": "path", "required": true,
                                 "schema": {"type": "integer"}, "example": 2001}],
                "security": [{"clientAuth": []}]
            }}
        }
    })
}

impl ExpressApi {
    fn new(hardened: bool, key_header: Option<&'static str>) -> Arc<ExpressApi> {
        Arc::new(ExpressApi {
            hardened,
            key_header,
            tokens: Mutex::default(),
            sessions: Mutex::default(),
            minted: Mutex::new(0),
        })
    }

    fn mint(&self, prefix: &str) -> String {
        let mut n = self.minted.lock().unwrap();
        *n += 1;
        format!("{prefix}{:032x}", 0x0ddba11_u128 * 104_729 + *n as u128 * 7_777_777)
    }

    /// The live token the request presents (Bearer, or `?api_key=` on the flawed API).
    fn token(&self, req: &RecordedRequest, url: &Url) -> Option<String> {
        let presented = match self.key_header {
            Some(name) => header(req, name),
            None => header(req, "authorization").and_then(|h| h.strip_prefix("Bearer ")),
        }
        .map(str::to_string)
        .or_else(|| (!self.hardened).then(|| query(url, "api_key")).flatten())?;
        let live = self.tokens.lock().unwrap().iter().any(|(t, ok)| *t == presented && *ok);
        live.then_some(presented)
    }

    fn session(&self, req: &RecordedRequest) -> bool {
        cookie(req, "connect.sid").is_some_and(|s| self.sessions.lock().unwrap().get(&s) == Some(&true))
    }

    fn answer(&self, req: &RecordedRequest) -> ScriptedAnswer {
        let url = Url::parse(&req.url).unwrap();
        let path = url.path().to_string();
        let method = req.method.as_str();
        let authed = self.token(req, &url).is_some() || self.session(req);
        let unauthorized = || ScriptedAnswer::json(401, json!({"message": "Unauthorized"}));
        let post_only = ["/api/auth/login", "/api/account/sign-out", "/api/v1/session"];
        let answer = match (method, path.as_str()) {
            ("GET", "/openapi.json") => ScriptedAnswer::json(200, express_spec(self.key_header)),
            ("OPTIONS", p) if post_only.contains(&p) => ScriptedAnswer::new(200).header("Allow", "POST").body("POST"),
            ("POST", "/api/auth/login") => {
                let b = body(req);
                if b["email"] != "alice@example.test" || b["password"] != "alice-pass-1" {
                    return ScriptedAnswer::json(401, json!({"message": "Invalid email or password"}));
                }
                let token = self.mint("");
                self.tokens.lock().unwrap().push((token.clone(), true));
                let field = if self.key_header.is_some() {
                    "apiKey"
                } else {
                    "accessToken"
                };
                ScriptedAnswer::json(
                    200,
                    json!({ field: token, "user": {"id": 7, "email": "alice@example.test"}}),
                )
            }
            ("POST", "/api/account/sign-out") => match self.token(req, &url) {
                Some(token) => {
                    if self.hardened {
                        for (t, ok) in self.tokens.lock().unwrap().iter_mut() {
                            if *t == token {
                                *ok = false;
                            }
                        }
                    }
                    ScriptedAnswer::new(204)
                }
                None => unauthorized(),
            },
            ("POST", "/api/v1/session") => {
                if self.token(req, &url).is_none() {
                    return unauthorized();
                }
                // Flawed: `req.session.userId = …` on the session the browser came with.
                let sid = match cookie(req, "connect.sid") {
                    Some(sent) if !self.hardened => sent,
                    _ => self.mint("s%3A"),
                };
                self.sessions.lock().unwrap().insert(sid.clone(), true);
                let body = if self.hardened {
                    json!({"ok": true})
                } else {
                    json!({"ok": true, "sessionId": sid})
                };
                ScriptedAnswer::json(200, body).header(
                    "Set-Cookie",
                    &format!("connect.sid={sid}; Path=/; HttpOnly; SameSite=Lax"),
                )
            }
            ("GET", "/api/me") if authed => ScriptedAnswer::json(200, json!({"id": 7, "email": "alice@example.test"})),
            ("GET", "/api/me") => unauthorized(),
            ("GET", "/api/orders") if authed => ScriptedAnswer::json(
                200,
                json!({"orders": [{"id": 1001, "status": "shipped", "total": 42.5}]}),
            ),
            ("GET", "/api/orders") => unauthorized(),
            // Optional authentication: guests track an order by its number.
            ("GET", "/api/orders/1001") => ScriptedAnswer::json(
                200,
                json!({"id": 1001, "status": "shipped", "carrier": "DHL", "eta": "2026-12-09"}),
            ),
            ("GET", "/api/notes") if authed => ScriptedAnswer::json(200, json!([{"id": 3001, "title": "diary"}])),
            ("GET", "/api/notes") => unauthorized(),
            // Flawed: the detail view is open to anyone ("share links"), the owner's
            // private note included.
            ("GET", "/api/notes/3001") if authed || !self.hardened => ScriptedAnswer::json(
                200,
                json!({"id": 3001, "owner": "alice@example.test", "title": "diary", "body": "private"}),
            ),
            ("GET", "/api/notes/3001") => unauthorized(),
            ("GET", "/api/invoices/2001") if authed || !self.hardened => ScriptedAnswer::json(
                200,
                json!({"id": 2001, "order": 1001, "total": 42.5, "billing_name": "Alice Liddell"}),
            ),
            ("GET", "/api/invoices/2001") => unauthorized(),
            _ => ScriptedAnswer::new(404)
                .header("Content-Type", "text/html; charset=utf-8")
                .body(&format!("<pre>Cannot {method} {path}</pre>")),
        };
        // express-session with `saveUninitialized: true`: every visitor gets a session.
        if cookie(req, "connect.sid").is_none() && path == "/" {
            let sid = self.mint("s%3Aanon");
            return answer.header("Set-Cookie", &format!("connect.sid={sid}; Path=/; HttpOnly"));
        }
        answer
    }
}

async fn express_context(hardened: bool) -> ScanContext {
    express_context_with(hardened, None).await
}

async fn express_context_with(hardened: bool, key_header: Option<&'static str>) -> ScanContext {
    let api = ExpressApi::new(hardened, key_header);
    let transport: Arc<dyn Transport> = Arc::new(move |req: &RecordedRequest| api.answer(req));
    ScanContext::for_fixture(transport, "", &[("alice@example.test", "alice-pass-1")]).await
}

#[tokio::test]
async fn the_specs_sign_out_and_session_bridge_are_spec_flows() {
    let cx = express_context(false).await;
    assert!(
        cx.primary().is_some(),
        "alice was not logged in: {:?}",
        cx.login_failures
    );
    let info = cx.flows.info();
    let flow = |role: &str, path: &str| {
        info.iter()
            .find(|f| f.role == role && f.endpoint == path)
            .unwrap_or_else(|| panic!("no {role} flow at {path}: {info:?}"))
            .source
    };
    assert_eq!(flow("logout", "/api/account/sign-out"), FlowSource::Spec);
    assert_eq!(flow("bridge", "/api/v1/session"), FlowSource::Spec);
    assert!(
        !info
            .iter()
            .any(|f| f.endpoint == "/api/orders/{orderId}" || f.endpoint == "/api/me"),
        "{info:?}"
    );
}

#[tokio::test]
async fn flows_the_spec_declares_run_zero_config_on_the_flawed_api() {
    let cx = express_context(false).await;
    // The sign-out forgets nothing: the token still works after it.
    assert_eq!(found(&cx, "SESS003").await, vec!["/api/account/sign-out".to_string()]);
    // The bridge keeps the session id the browser came with.
    assert_eq!(found(&cx, "SESS001").await, vec!["/api/v1/session".to_string()]);
    // The bridge echoes the session id in its body.
    assert_eq!(found(&cx, "SESS007").await, vec!["/api/v1/session".to_string()]);
    // The key the spec declares in the query (`api_key`) is accepted there.
    assert_eq!(found(&cx, "AUTH003").await, vec!["/api/me".to_string()]);
    // The invoice is served to anyone, and so is alice's note (its spec says optional, as
    // a generated spec says of an open view, but it serves her own data); the order,
    // optional by the spec and nobody's private data, is not reported.
    let auth001 = found(&cx, "AUTH001").await;
    assert_eq!(
        auth001,
        vec!["/api/invoices/2001".to_string(), "/api/notes/3001".to_string()]
    );
}

#[tokio::test]
async fn the_hardened_api_scans_clean_through_the_same_flows() {
    let cx = express_context(true).await;
    for code in ["SESS003", "SESS001", "SESS007", "AUTH003", "AUTH001"] {
        assert_eq!(found(&cx, code).await, Vec::<String>::new(), "{code}");
    }
    let info = cx.flows.info();
    for path in ["/api/account/sign-out", "/api/v1/session"] {
        assert!(
            info.iter().any(|f| f.endpoint == path && f.used),
            "the {path} flow was not used: {info:?}"
        );
    }
}

#[tokio::test]
async fn an_optional_authentication_route_is_not_declared_protected() {
    let cx = express_context(false).await;
    let auth001 = found(&cx, "AUTH001").await;
    assert!(
        !auth001.iter().any(|e| e.starts_with("/api/orders/")),
        "AUTH001 reported the optional-authentication order route: {auth001:?}"
    );
    assert!(auth001.iter().any(|e| e == "/api/invoices/2001"), "{auth001:?}");
}

#[tokio::test]
async fn a_declared_bridge_takes_a_key_sent_in_its_header() {
    for hardened in [false, true] {
        let cx = express_context_with(hardened, Some("X-API-Key")).await;
        let primary = cx
            .primary()
            .unwrap_or_else(|| panic!("alice was not logged in: {:?}", cx.login_failures));
        assert_eq!(primary.presentation(), Some(&Presentation::Header("X-API-Key".into())));
        let expected: Vec<String> = if hardened {
            vec![]
        } else {
            vec!["/api/v1/session".into()]
        };
        assert_eq!(found(&cx, "SESS001").await, expected, "SESS001, hardened: {hardened}");
        assert_eq!(found(&cx, "SESS007").await, expected, "SESS007, hardened: {hardened}");
    }
}
