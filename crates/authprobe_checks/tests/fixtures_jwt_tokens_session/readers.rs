//! TOKEN001–TOKEN003 read what the login flows issue (issue 27, class 8), and leave
//! signed client-side session data alone (class 10). An Express API whose login issues an
//! opaque Bearer key, made as hand-written logins make it (a digest of the username and
//! the login time) or at random; and a Flask app whose anonymous pages set Flask's signed
//! `session` cookie holding a flash message (the same value within a second).

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use authprobe_core::exchange::RecordedRequest;
use authprobe_core::probe::ScriptedAnswer;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::support::{
    bearer, express_not_found, express_options_post, fields, html, now, path, random_string, Accounts, Fixture, Row,
    ALNUM, HEX,
};

/// How the login makes its key.
#[derive(Clone, Copy)]
enum KeyGen {
    /// `crypto.createHash("sha256").update(user.username + Math.floor(Date.now() / 1000))`.
    UsernameAndTime,
    /// `crypto.randomBytes(20).toString("hex")`.
    Random,
}

struct KeyApi {
    gen: KeyGen,
    accounts: Accounts,
    keys: Mutex<HashMap<String, &'static str>>,
}

impl KeyApi {
    fn fixture(gen: KeyGen) -> Fixture {
        let api = Arc::new(KeyApi {
            gen,
            accounts: Accounts::default(),
            keys: Mutex::default(),
        });
        Fixture::new(move |req: &RecordedRequest| api.answer(req))
    }

    fn answer(&self, req: &RecordedRequest) -> ScriptedAnswer {
        match (req.method.as_str(), path(req).as_str()) {
            ("GET", "/") => ScriptedAnswer::json(200, json!({"name": "acme-api", "version": "2.0.1"})),
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
                let key = match self.gen {
                    KeyGen::UsernameAndTime => Sha256::digest(format!("{user}{}", now()).as_bytes())
                        .iter()
                        .map(|b| format!("{b:02x}"))
                        .collect(),
                    KeyGen::Random => random_string(40, HEX),
                };
                self.keys.lock().unwrap().insert(key.clone(), user);
                ScriptedAnswer::json(
                    200,
                    json!({"key": key, "user": {"id": Accounts::id(user), "username": user}}),
                )
            }
            ("GET", "/api/auth/me") => {
                let user = bearer(req).and_then(|k| self.keys.lock().unwrap().get(&k).copied());
                match user {
                    Some(user) => ScriptedAnswer::json(200, json!({"id": Accounts::id(user), "username": user})),
                    None => ScriptedAnswer::json(401, json!({"error": {"message": "Unauthorized"}})),
                }
            }
            _ => express_not_found(req),
        }
    }
}

/// A Flask app: its login page flashes "Please log in to access this page." into Flask's
/// signed cookie session (itsdangerous: base64 JSON, a timestamp in seconds, a signature),
/// so every anonymous GET of it sets the same `session` value until the clock ticks. Its
/// JSON root links a CSRF token endpoint (a random value per request: the issuing source
/// TOKEN001 has to judge).
struct FlaskApp {
    /// Requests served; the app's clock ticks once every three (a fast client).
    served: AtomicU64,
}

impl FlaskApp {
    fn fixture() -> Fixture {
        let app = Arc::new(FlaskApp {
            served: AtomicU64::new(0),
        });
        Fixture::new(move |req: &RecordedRequest| app.answer(req))
    }

    /// itsdangerous' `payload.timestamp.signature` for `payload` at second `at`.
    fn signed(payload: &serde_json::Value, at: u64) -> String {
        let body = URL_SAFE_NO_PAD.encode(payload.to_string());
        let stamp = URL_SAFE_NO_PAD.encode((at as u32).to_be_bytes());
        let mut h = DefaultHasher::new();
        (&body, &stamp, "flask-secret-key").hash(&mut h);
        let sig = URL_SAFE_NO_PAD.encode([h.finish().to_be_bytes(), h.finish().rotate_left(17).to_be_bytes()].concat());
        format!("{body}.{stamp}.{}", &sig[..20])
    }

    fn answer(&self, req: &RecordedRequest) -> ScriptedAnswer {
        let n = self.served.fetch_add(1, Ordering::SeqCst);
        let at = 1_765_000_000 + n / 3;
        match (req.method.as_str(), path(req).as_str()) {
            ("GET", "/") => ScriptedAnswer::json(200, json!({"app": "notes", "csrf": "/api/csrf"})),
            ("GET", "/api/csrf") => ScriptedAnswer::json(200, json!({"csrf_token": random_string(40, ALNUM)})),
            ("GET", "/login") => {
                let flash = json!({"_flashes": [{" t": ["message", "Please log in to access this page."]}]});
                html(
                    200,
                    "<!doctype html><title>Log in</title><form method=\"post\"><input name=\"username\"><input type=\"password\" name=\"password\"><button>Log in</button></form>",
                )
                .header(
                    "Set-Cookie",
                    &format!("session={}; HttpOnly; Path=/; SameSite=Lax", FlaskApp::signed(&flash, at)),
                )
            }
            _ => html(404, "<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.</p>\n"),
        }
    }
}

pub fn rows() -> Vec<Row> {
    vec![
        Row {
            code: "TOKEN003",
            fixture: "Express login issuing sha256(username + Unix time) as its Bearer key",
            found: true,
            build: || KeyApi::fixture(KeyGen::UsernameAndTime),
        },
        Row {
            code: "TOKEN003",
            fixture: "Express login issuing crypto.randomBytes(20) keys",
            found: false,
            build: || KeyApi::fixture(KeyGen::Random),
        },
        Row {
            code: "TOKEN001",
            fixture: "Flask's signed session cookie holding a flash message, the same within a second",
            found: false,
            build: FlaskApp::fixture,
        },
    ]
}
