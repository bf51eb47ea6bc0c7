//! A Django REST framework API with simplejwt (`/api/token/`), a notes collection with
//! DRF's `OPTIONS` metadata, and Django's own pages (404, admin), hardened by default.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use authprobe_core::config::ScanConfig;
use authprobe_core::exchange::RecordedRequest;
use authprobe_core::probe::ScriptedAnswer;
use serde_json::{json, Value};
use url::Url;

use crate::{header, html, json_body, jwt, now, str_field};

/// The testbed's committed `startproject` key (among the cracker's built-in candidates).
const DEFAULT_KEY: &[u8] = b"django-insecure-7v#q2m!x9@h1w$k3p^r8t&z0u*b4n(e6)s-y+c=j%f5g_a~l";
/// A key from `get_random_secret_key()`, set from the environment.
const STRONG_KEY: &[u8] = b"k8#Qz!v2@Lm9^Rt4&Wp7*Xs1(Yb6)Nd3_Hf5+Jc0=Gu8~Ea2-Io7";

const BASE: &str = authprobe_core::engine::FIXTURE_BASE;

#[derive(Clone, Copy, Debug, Default)]
pub struct DrfFlaws {
    /// `DEBUG = True`: the technical 404 page (DJ001).
    pub debug: bool,
    /// The admin at the default `/admin/` (DJ002).
    pub admin_exposed: bool,
    /// An exception handler that returns the traceback (DJ003).
    pub verbose_errors: bool,
    /// simplejwt signing with the committed `django-insecure-…` SECRET_KEY (DJ004).
    pub default_key: bool,
    /// `NoteDetail` with `queryset = Note.objects.all()`: anyone modifies or deletes (BOLA003).
    pub bola_write: bool,
}

struct Note {
    id: u64,
    owner: String,
    title: String,
    body: String,
}

#[derive(Default)]
struct State {
    tokens: HashMap<String, String>,
    notes: Vec<Note>,
    serial: u64,
}

pub struct Drf {
    flaws: DrfFlaws,
    state: Mutex<State>,
}

impl Drf {
    pub fn new(flaws: DrfFlaws) -> Drf {
        let note = |id: u64, owner: &str| Note {
            id,
            owner: owner.into(),
            title: format!("{owner}'s note"),
            body: format!("what {owner} wrote down, long enough to compare"),
        };
        Drf {
            flaws,
            state: Mutex::new(State {
                notes: vec![note(7, "alice"), note(8, "bob")],
                serial: 100,
                ..State::default()
            }),
        }
    }

    fn key(&self) -> &'static [u8] {
        if self.flaws.default_key {
            DEFAULT_KEY
        } else {
            STRONG_KEY
        }
    }

    fn user_id(name: &str) -> u64 {
        if name == "alice" {
            1
        } else {
            2
        }
    }

    fn mint(&self, user: &str, kind: &str) -> String {
        let mut state = self.state.lock().unwrap();
        state.serial += 1;
        let exp = if kind == "access" { now() + 300 } else { now() + 86_400 };
        let claims = json!({"token_type": kind, "exp": exp, "iat": now(), "jti": format!("{:032x}", state.serial), "user_id": Self::user_id(user)});
        let token = jwt(claims, Some(self.key()));
        if kind == "access" {
            state.tokens.insert(token.clone(), user.to_string());
        }
        token
    }

    fn caller(&self, req: &RecordedRequest) -> Result<String, ScriptedAnswer> {
        let Some(token) = header(req, "authorization").and_then(|v| v.strip_prefix("Bearer ")) else {
            return Err(
                ScriptedAnswer::json(401, json!({"detail": "Authentication credentials were not provided."}))
                    .header("WWW-Authenticate", "Bearer realm=\"api\""),
            );
        };
        match self.state.lock().unwrap().tokens.get(token.trim()) {
            Some(user) => Ok(user.clone()),
            None => Err(ScriptedAnswer::json(
                401,
                json!({"detail": "Given token not valid for any token type", "code": "token_not_valid"}),
            )
            .header("WWW-Authenticate", "Bearer realm=\"api\"")),
        }
    }

    fn not_found(&self, path: &str) -> ScriptedAnswer {
        if self.flaws.debug {
            return html(
                404,
                &format!("<!DOCTYPE html><html lang=\"en\"><head><title>Page not found at {path}</title></head><body><div id=\"summary\"><h1>Page not found <span>(404)</span></h1><table class=\"meta\"><tr><th>Request Method:</th><td>GET</td></tr><tr><th>Request URL:</th><td>http://127.0.0.1:9{path}</td></tr></table></div><div id=\"info\"><p>Using the URLconf defined in <code>notes.urls</code>, Django tried these URL patterns, in this order:</p><ol><li>admin/</li><li>api/</li></ol></div><div id=\"explanation\"><p>You’re seeing this error because you have <code>DEBUG = True</code> in your Django settings file.</p></div></body></html>"),
            );
        }
        html(
            404,
            "<!doctype html><html lang=\"en\"><head><title>Not Found</title></head><body><h1>Not Found</h1><p>The requested resource was not found on this server.</p></body></html>",
        )
    }

    fn note_json(note: &Note) -> Value {
        json!({"id": note.id, "url": format!("{BASE}api/notes/{}/", note.id), "title": note.title, "body": note.body})
    }

    pub fn answer(&self, req: &RecordedRequest) -> ScriptedAnswer {
        let url = Url::parse(&req.url).expect("the probe sends valid URLs");
        let path = url.path();
        let method = req.method.as_str();
        match (method, path) {
            ("GET", "/api/") => {
                return ScriptedAnswer::json(200, json!({"notes": format!("{BASE}api/notes/"), "me": format!("{BASE}api/me/")}))
            }
            ("POST", "/api/token/") => return self.login(req),
            (_, "/api/token/") => {
                return ScriptedAnswer::json(405, json!({"detail": format!("Method \"{method}\" not allowed.")}))
                    .header("Allow", "POST, OPTIONS")
            }
            ("GET", "/admin/login/") if self.flaws.admin_exposed => {
                return html(
                    200,
                    "<!DOCTYPE html><html lang=\"en-us\"><head><title>Log in | Django site admin</title></head><body class=\"login\"><div id=\"header\"><div id=\"branding\"><h1 id=\"site-name\"><a href=\"/admin/\">Django administration</a></h1></div></div><div id=\"content\"><form action=\"/admin/login/?next=/admin/\" method=\"post\" id=\"login-form\"><input type=\"hidden\" name=\"csrfmiddlewaretoken\" value=\"f9K2mQ8vX1zL4pR7tW0yB3nC6hJ5sD8aE2gU9iO1kM4qN7\"><input type=\"text\" name=\"username\" autofocus required id=\"id_username\"><input type=\"password\" name=\"password\" required id=\"id_password\"><input type=\"submit\" value=\"Log in\"></form></div></body></html>",
                )
                .header("Set-Cookie", "csrftoken=Tq8vX1zL4pR7tW0yB3nC6hJ5sD8aE2gU; Path=/; SameSite=Lax; Secure")
            }
            _ => {}
        }
        if path == "/api/me/" {
            return match self.caller(req) {
                Ok(user) if method == "GET" => ScriptedAnswer::json(
                    200,
                    json!({"id": Self::user_id(&user), "username": user, "email": format!("{user}@example.com")}),
                ),
                Ok(_) => ScriptedAnswer::json(405, json!({"detail": format!("Method \"{method}\" not allowed.")})),
                Err(refused) => refused,
            };
        }
        if path == "/api/notes/" {
            let user = match self.caller(req) {
                Ok(user) => user,
                Err(refused) => return refused,
            };
            return match method {
                "GET" => self.list(&url, &user),
                "OPTIONS" => ScriptedAnswer::json(
                    200,
                    json!({"name": "Note List", "renders": ["application/json"], "parses": ["application/json"], "actions": {"POST": {
                        "id": {"type": "integer", "required": false, "read_only": true, "label": "ID"},
                        "url": {"type": "field", "required": false, "read_only": true, "label": "Url"},
                        "title": {"type": "string", "required": true, "read_only": false, "label": "Title", "max_length": 200},
                        "body": {"type": "string", "required": false, "read_only": false, "label": "Body"},
                    }}}),
                )
                .header("Allow", "GET, POST, HEAD, OPTIONS"),
                "POST" => self.create(req, &user),
                _ => ScriptedAnswer::json(405, json!({"detail": format!("Method \"{method}\" not allowed.")})),
            };
        }
        if let Some(id) = path
            .strip_prefix("/api/notes/")
            .and_then(|rest| rest.strip_suffix('/'))
            .and_then(|id| id.parse::<u64>().ok())
        {
            let user = match self.caller(req) {
                Ok(user) => user,
                Err(refused) => return refused,
            };
            return self.detail(req, id, &user);
        }
        self.not_found(path)
    }

    fn login(&self, req: &RecordedRequest) -> ScriptedAnswer {
        let body = json_body(req).unwrap_or_default();
        let (Some(username), Some(password)) = (str_field(&body, "username"), str_field(&body, "password")) else {
            return ScriptedAnswer::json(
                400,
                json!({"username": ["This field is required."], "password": ["This field is required."]}),
            );
        };
        if !matches!(
            (username.as_str(), password.as_str()),
            ("alice", "pw-1") | ("bob", "pw-2")
        ) {
            return ScriptedAnswer::json(
                401,
                json!({"detail": "No active account found with the given credentials"}),
            )
            .header("WWW-Authenticate", "Bearer realm=\"api\"");
        }
        let (refresh, access) = (self.mint(&username, "refresh"), self.mint(&username, "access"));
        ScriptedAnswer::json(200, json!({"refresh": refresh, "access": access}))
    }

    fn list(&self, url: &Url, user: &str) -> ScriptedAnswer {
        if let Some((_, page)) = url.query_pairs().find(|(k, _)| k == "page") {
            if page.parse::<u32>().is_err() {
                if self.flaws.verbose_errors {
                    let traceback = format!("Traceback (most recent call last):\n  File \"/app/notes/views.py\", line 42, in list\n    page = int(request.GET[\"page\"])\nValueError: invalid literal for int() with base 10: '{page}'\n");
                    return ScriptedAnswer::json(
                        500,
                        json!({"detail": "Internal server error", "traceback": traceback}),
                    );
                }
                return ScriptedAnswer::json(404, json!({"detail": "Invalid page."}));
            }
        }
        let state = self.state.lock().unwrap();
        let results: Vec<Value> = state
            .notes
            .iter()
            .filter(|n| n.owner == user)
            .map(Self::note_json)
            .collect();
        ScriptedAnswer::json(
            200,
            json!({"count": results.len(), "next": null, "previous": null, "results": results}),
        )
        .header("Allow", "GET, POST, HEAD, OPTIONS")
    }

    fn create(&self, req: &RecordedRequest, user: &str) -> ScriptedAnswer {
        let body = json_body(req).unwrap_or_default();
        let Some(title) = str_field(&body, "title") else {
            return ScriptedAnswer::json(400, json!({"title": ["This field is required."]}));
        };
        let mut state = self.state.lock().unwrap();
        state.serial += 1;
        let note = Note {
            id: state.serial,
            owner: user.into(),
            title,
            body: str_field(&body, "body").unwrap_or_default(),
        };
        let answer = Self::note_json(&note);
        state.notes.push(note);
        ScriptedAnswer::json(201, answer)
    }

    fn detail(&self, req: &RecordedRequest, id: u64, user: &str) -> ScriptedAnswer {
        let mut state = self.state.lock().unwrap();
        let Some(position) = state.notes.iter().position(|n| n.id == id) else {
            return ScriptedAnswer::json(404, json!({"detail": "Not found."}));
        };
        let own = state.notes[position].owner == user;
        // The hardened view's queryset is the caller's notes: another's is not found.
        let reachable = own || (self.flaws.bola_write && req.method != "GET");
        if !reachable {
            return ScriptedAnswer::json(404, json!({"detail": "Not found."}));
        }
        match req.method.as_str() {
            "GET" => ScriptedAnswer::json(200, Self::note_json(&state.notes[position])),
            "PATCH" | "PUT" => {
                let body = json_body(req).unwrap_or_default();
                let note = &mut state.notes[position];
                if let Some(title) = str_field(&body, "title") {
                    note.title = title;
                }
                if let Some(text) = str_field(&body, "body") {
                    note.body = text;
                }
                ScriptedAnswer::json(200, Self::note_json(note))
            }
            "DELETE" => {
                state.notes.remove(position);
                ScriptedAnswer::new(204)
            }
            method => ScriptedAnswer::json(405, json!({"detail": format!("Method \"{method}\" not allowed.")})),
        }
    }
}

/// A row's fixture on the DRF API with `flaws`, the scan configured by `scan_setup`.
pub fn fixture_with(name: &str, flaws: DrfFlaws, scan_setup: fn(&mut ScanConfig)) -> crate::Fixture {
    crate::Fixture::new(format!("DRF: {name}"), move || async move {
        let api = Arc::new(Drf::new(flaws));
        let mut config = crate::config(BASE);
        scan_setup(&mut config);
        crate::context_with(move |req: &RecordedRequest| api.answer(req), config).await
    })
}

/// A row's fixture on the DRF API with `flaws`.
pub fn fixture(name: &str, flaws: DrfFlaws) -> crate::Fixture {
    fixture_with(name, flaws, |_| {})
}

/// The flaws of a row: `set` applied to the hardened API's.
pub fn flawed(set: fn(&mut DrfFlaws)) -> DrfFlaws {
    let mut flaws = DrfFlaws::default();
    set(&mut flaws);
    flaws
}
