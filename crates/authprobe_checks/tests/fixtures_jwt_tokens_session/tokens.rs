//! TOKEN001–TOKEN004 × fixtures: an Express API (opaque Bearer tokens from
//! `/api/auth/login`, `{"error": {"message"}}` errors) whose root links its token-issuing
//! endpoints: device pairing codes (anonymous), team invites and the account's API key
//! (signed in). Each row turns one of them on, generated the way such code generates it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use authprobe_core::exchange::RecordedRequest;
use authprobe_core::probe::ScriptedAnswer;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{json, Value};

use super::support::{
    bearer, express_not_found, express_options_post, fields, path, random_string, uuid4, Accounts, Fixture, Row, ALNUM,
    HEX,
};

/// How an endpoint makes its tokens.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Gen {
    /// `crypto.randomBytes(3).toString("hex")`: 24 bits.
    Hex6,
    /// `nanoid(32)`-like: 32 random alphanumerics.
    Random32,
    /// An auto-increment column: 40000001, 40000002, …
    Counter,
    /// `crypto.randomUUID()`.
    Uuid,
    /// The legacy API key `base64("<username>:apikey")`, the same on every call.
    UsernameBase64,
    /// A random key made once per account (`ak_live_…`), the same on every call.
    StaticRandom,
}

#[derive(Default)]
struct TokenApi {
    pairing: Option<Gen>,
    invites: Option<Gen>,
    api_key: Option<Gen>,
    /// Laravel API resources: the record inside `{"data": {...}}`.
    envelope: bool,
    /// The 401 for a rejected token quotes the token.
    echo: bool,
    counter: AtomicU64,
    accounts: Accounts,
    sessions: Mutex<HashMap<String, &'static str>>,
    static_keys: Mutex<HashMap<String, String>>,
}

impl TokenApi {
    fn fixture(self) -> Fixture {
        let api = Arc::new(TokenApi {
            counter: AtomicU64::new(40_000_000),
            ..self
        });
        Fixture::new(move |req: &RecordedRequest| api.answer(req))
    }

    fn make(&self, gen: Gen, user: Option<&str>) -> String {
        match gen {
            Gen::Hex6 => random_string(6, HEX),
            Gen::Random32 => random_string(32, ALNUM),
            Gen::Counter => (self.counter.fetch_add(1, Ordering::SeqCst) + 1).to_string(),
            Gen::Uuid => uuid4(),
            Gen::UsernameBase64 => STANDARD.encode(format!("{}:apikey", user.unwrap_or_default())),
            Gen::StaticRandom => self
                .static_keys
                .lock()
                .unwrap()
                .entry(user.unwrap_or_default().to_string())
                .or_insert_with(|| format!("ak_live_{}", random_string(32, ALNUM)))
                .clone(),
        }
    }

    fn record(&self, record: Value) -> ScriptedAnswer {
        if self.envelope {
            ScriptedAnswer::json(200, json!({ "data": record }))
        } else {
            ScriptedAnswer::json(200, record)
        }
    }

    /// The signed-in account, or the 401 express-jwt-style middleware answers.
    fn user(&self, req: &RecordedRequest) -> Result<&'static str, ScriptedAnswer> {
        let Some(token) = bearer(req) else {
            return Err(ScriptedAnswer::json(
                401,
                json!({"error": {"message": "No authorization token was found"}}),
            ));
        };
        if let Some(user) = self.sessions.lock().unwrap().get(&token) {
            return Ok(user);
        }
        let message = if self.echo {
            format!("Invalid token: {token}")
        } else {
            "Invalid token".to_string()
        };
        Err(ScriptedAnswer::json(401, json!({"error": {"message": message}})))
    }

    fn answer(&self, req: &RecordedRequest) -> ScriptedAnswer {
        let p = path(req);
        match (req.method.as_str(), p.as_str()) {
            ("GET", "/") => {
                let mut links = serde_json::Map::new();
                if self.pairing.is_some() {
                    links.insert("pairing".into(), "/api/devices/pairing-code".into());
                }
                if self.invites.is_some() {
                    links.insert("invites".into(), "/api/invites".into());
                }
                if self.api_key.is_some() {
                    links.insert("apiKey".into(), "/api/account/api-key".into());
                }
                ScriptedAnswer::json(200, json!({"name": "acme-api", "version": "1.4.2", "links": links}))
            }
            ("OPTIONS", "/api/auth/login") => express_options_post(),
            ("POST", "/api/auth/login") => {
                let f = fields(req);
                let (Some(user), Some(password)) = (f.get("username"), f.get("password")) else {
                    return ScriptedAnswer::json(
                        400,
                        json!({"error": {"message": "username and password are required"}}),
                    );
                };
                if !self.accounts.check(user, password) {
                    return ScriptedAnswer::json(401, json!({"error": {"message": "Invalid username or password"}}));
                }
                let user = super::support::USERS
                    .iter()
                    .map(|(u, _)| *u)
                    .find(|u| u == user)
                    .expect("a checked account");
                let token = random_string(48, ALNUM);
                self.sessions.lock().unwrap().insert(token.clone(), user);
                ScriptedAnswer::json(
                    200,
                    json!({"token": token, "user": {"id": Accounts::id(user), "username": user}}),
                )
            }
            ("GET", "/api/auth/me") => match self.user(req) {
                Ok(user) => ScriptedAnswer::json(200, json!({"user": {"id": Accounts::id(user), "username": user}})),
                Err(refused) => refused,
            },
            ("GET", "/api/devices/pairing-code") if self.pairing.is_some() => {
                let code = self.make(self.pairing.unwrap_or(Gen::Random32), None);
                self.record(json!({"code": code, "expires_in": 600}))
            }
            ("GET", "/api/invites") if self.invites.is_some() => match self.user(req) {
                Ok(user) => {
                    let code = self.make(self.invites.unwrap_or(Gen::Random32), Some(user));
                    self.record(json!({"code": code, "invited_by": user}))
                }
                Err(refused) => refused,
            },
            ("GET", "/api/account/api-key") if self.api_key.is_some() => match self.user(req) {
                Ok(user) => {
                    let key = self.make(self.api_key.unwrap_or(Gen::Random32), Some(user));
                    self.record(json!({"apiKey": key, "createdAt": "2026-11-02T09:14:00.000Z"}))
                }
                Err(refused) => refused,
            },
            _ => express_not_found(req),
        }
    }
}

pub fn rows() -> Vec<Row> {
    vec![
        Row {
            code: "TOKEN001",
            fixture: "Express pairing codes from crypto.randomBytes(3) (6 hex)",
            found: true,
            build: || {
                TokenApi {
                    pairing: Some(Gen::Hex6),
                    ..TokenApi::default()
                }
                .fixture()
            },
        },
        Row {
            code: "TOKEN001",
            fixture: "Express pairing codes of 32 random alphanumerics",
            found: false,
            build: || {
                TokenApi {
                    pairing: Some(Gen::Random32),
                    ..TokenApi::default()
                }
                .fixture()
            },
        },
        Row {
            code: "TOKEN002",
            fixture: "Express invite codes from an auto-increment column",
            found: true,
            build: || {
                TokenApi {
                    invites: Some(Gen::Counter),
                    ..TokenApi::default()
                }
                .fixture()
            },
        },
        Row {
            code: "TOKEN002",
            fixture: "Express invite codes from crypto.randomUUID()",
            found: false,
            build: || {
                TokenApi {
                    invites: Some(Gen::Uuid),
                    ..TokenApi::default()
                }
                .fixture()
            },
        },
        Row {
            code: "TOKEN003",
            fixture: "Express legacy apiKey base64(username:apikey)",
            found: true,
            build: || {
                TokenApi {
                    api_key: Some(Gen::UsernameBase64),
                    ..TokenApi::default()
                }
                .fixture()
            },
        },
        Row {
            code: "TOKEN003",
            fixture: "Express apiKey made at random once per account",
            found: false,
            build: || {
                TokenApi {
                    api_key: Some(Gen::StaticRandom),
                    ..TokenApi::default()
                }
                .fixture()
            },
        },
        Row {
            code: "TOKEN004",
            fixture: "Express 401 {\"error\": {\"message\": \"Invalid token: <token>\"}}",
            found: true,
            build: || {
                TokenApi {
                    echo: true,
                    ..TokenApi::default()
                }
                .fixture()
            },
        },
        Row {
            code: "TOKEN004",
            fixture: "Express 401 {\"error\": {\"message\": \"Invalid token\"}}",
            found: false,
            build: || TokenApi::default().fixture(),
        },
        // A token inside a `{"data": {...}}` envelope (Laravel API resources, JSON:API, many
        // Express APIs): GET /api/invites answers `{"data": {"code": "40000001", …}}`.
        Row {
            code: "TOKEN002",
            fixture: "Laravel API resource {\"data\": {\"code\"}} invite codes from an auto-increment column",
            found: true,
            build: || {
                TokenApi {
                    invites: Some(Gen::Counter),
                    envelope: true,
                    ..TokenApi::default()
                }
                .fixture()
            },
        },
    ]
}

/// Anonymous 6-hex pairing codes (the first row's fixture), for the message's wording.
pub fn anonymous_hex6_pairing_codes() -> Fixture {
    TokenApi {
        pairing: Some(Gen::Hex6),
        ..TokenApi::default()
    }
    .fixture()
}
