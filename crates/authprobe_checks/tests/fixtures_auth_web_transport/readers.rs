//! Issue 27, class 8 × fixtures: checks that read what the target serves rather than a
//! narrow list. An Express shop written the way tutorials write it (`express.json()`,
//! a `POST /api/auth/login` route only, `res.json({success: false, message})` for a
//! failed login, Mongoose documents serialised whole), once flawed and once hardened.

use std::sync::Arc;

use authprobe_core::exchange::RecordedRequest;
use authprobe_core::probe::ScriptedAnswer;
use serde_json::{json, Value};

use crate::{header, html, json_body, str_field, verify_table, Fixture};

/// The shop's flaws (all off: the hardened shop).
#[derive(Clone, Copy, Default)]
pub struct ShopFlaws {
    /// The login says "User not found" vs "Incorrect password", both with HTTP 200 (AUTH005).
    pub enumeration_200: bool,
    /// `GET /api/users` is open and returns `User.find()` whole, plaintext passwords
    /// included (AUTH001 on the content).
    pub users_with_passwords: bool,
}

struct Shop {
    flaws: ShopFlaws,
}

const ACCOUNTS: &[(&str, &str, &str)] = &[
    ("alice", "pw-1", "4f1c2e7a9b3d5f60a1b2c3d4e5f60718293a4b5c"),
    ("bob", "pw-2", "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a291807"),
];

fn express_not_found(req: &RecordedRequest) -> ScriptedAnswer {
    let path = url::Url::parse(&req.url)
        .map(|u| u.path().to_string())
        .unwrap_or_default();
    html(
        404,
        &format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Error</title>\n</head>\n<body>\n<pre>Cannot {} {path}</pre>\n</body>\n</html>\n",
            req.method
        ),
    )
}

impl Shop {
    fn caller(&self, req: &RecordedRequest) -> Option<&'static str> {
        let token = header(req, "authorization")?.strip_prefix("Bearer ")?;
        ACCOUNTS.iter().find(|(_, _, t)| *t == token).map(|(u, _, _)| *u)
    }

    fn answer(&self, req: &RecordedRequest) -> ScriptedAnswer {
        let path = url::Url::parse(&req.url)
            .map(|u| u.path().to_string())
            .unwrap_or_default();
        match (req.method.as_str(), path.as_str()) {
            ("GET", "/") => ScriptedAnswer::json(200, json!({"name": "shop-api", "version": "1.4.2"})),
            ("OPTIONS", "/api/auth/login") => ScriptedAnswer::new(200)
                .header("Allow", "POST")
                .header("Content-Type", "text/html; charset=utf-8")
                .body("POST"),
            ("POST", "/api/auth/login") => self.login(req),
            ("GET", "/api/auth/me") => match self.caller(req) {
                Some(user) => ScriptedAnswer::json(200, json!({"success": true, "user": {"_id": id_of(user), "username": user}})),
                None => ScriptedAnswer::json(401, json!({"success": false, "message": "Unauthorized"})),
            },
            ("GET", "/api/users") if self.flaws.users_with_passwords => ScriptedAnswer::json(
                200,
                Value::Array(
                    ACCOUNTS
                        .iter()
                        .map(|(u, p, _)| json!({"_id": id_of(u), "username": u, "password": p, "role": "customer", "__v": 0}))
                        .collect(),
                ),
            ),
            ("GET", "/api/users") => match self.caller(req) {
                Some(_) => ScriptedAnswer::json(
                    200,
                    Value::Array(ACCOUNTS.iter().map(|(u, _, _)| json!({"_id": id_of(u), "username": u})).collect()),
                ),
                None => ScriptedAnswer::json(401, json!({"success": false, "message": "Unauthorized"})),
            },
            _ => express_not_found(req),
        }
    }

    fn login(&self, req: &RecordedRequest) -> ScriptedAnswer {
        let Some(body) = json_body(req) else {
            return ScriptedAnswer::json(
                400,
                json!({"success": false, "message": "Username and password are required"}),
            );
        };
        let (Some(user), Some(password)) = (str_field(&body, "username"), str_field(&body, "password")) else {
            return ScriptedAnswer::json(
                400,
                json!({"success": false, "message": "Username and password are required"}),
            );
        };
        match ACCOUNTS.iter().find(|(u, _, _)| *u == user) {
            Some((_, p, token)) if *p == password => ScriptedAnswer::json(
                200,
                json!({"success": true, "token": token, "user": {"_id": id_of(&user), "username": user}}),
            ),
            Some(_) if self.flaws.enumeration_200 => {
                ScriptedAnswer::json(200, json!({"success": false, "message": "Incorrect password"}))
            }
            None if self.flaws.enumeration_200 => {
                ScriptedAnswer::json(200, json!({"success": false, "message": "User not found"}))
            }
            _ => ScriptedAnswer::json(
                200,
                json!({"success": false, "message": "Invalid username or password"}),
            ),
        }
    }
}

fn id_of(user: &str) -> &'static str {
    match user {
        "alice" => "65a1f0c2e4b0a1b2c3d4e5f6",
        _ => "65a1f0c2e4b0a1b2c3d4e5f7",
    }
}

fn shop(name: &str, flaws: ShopFlaws) -> Fixture {
    Fixture::new(format!("Express shop: {name}"), move || async move {
        let shop = Arc::new(Shop { flaws });
        let mut config = crate::config(authprobe_core::engine::FIXTURE_BASE);
        config.extra_paths = vec!["/api/users".into()];
        crate::context_with(move |req: &RecordedRequest| shop.answer(req), config).await
    })
}

#[tokio::test]
async fn checks_read_failed_logins_and_own_passwords_whatever_their_shape() {
    let rows = vec![
        (
            "AUTH005",
            shop(
                "HTTP 200 `User not found` vs `Incorrect password`",
                ShopFlaws {
                    enumeration_200: true,
                    ..ShopFlaws::default()
                },
            ),
            true,
        ),
        (
            "AUTH005",
            shop("HTTP 200 `Invalid username or password` for both", ShopFlaws::default()),
            false,
        ),
        (
            "AUTH001",
            shop(
                "User.find() served to anyone with the seed's 4-character passwords",
                ShopFlaws {
                    users_with_passwords: true,
                    ..ShopFlaws::default()
                },
            ),
            true,
        ),
        (
            "AUTH001",
            shop("/api/users behind the JWT middleware", ShopFlaws::default()),
            false,
        ),
    ];
    verify_table("readers", rows).await;
}

/// A small app of another framework: its routes (`None`: the framework's own 404), with
/// `extra` paths declared to the scan.
fn app(
    name: &str,
    extra: &'static [&'static str],
    routes: fn(&RecordedRequest, &str, bool) -> Option<ScriptedAnswer>,
    not_found: fn() -> ScriptedAnswer,
) -> Fixture {
    Fixture::new(name.to_string(), move || async move {
        let mut config = crate::config(authprobe_core::engine::FIXTURE_BASE);
        config.extra_paths = extra.iter().map(|p| p.to_string()).collect();
        let answer = move |req: &RecordedRequest| {
            let url = url::Url::parse(&req.url).expect("a recorded URL parses");
            let wants_html = header(req, "accept").is_some_and(|a| a.contains("text/html"));
            let path = url.path().to_string();
            let path = match url.query() {
                Some(q) => format!("{path}?{q}"),
                None => path,
            };
            routes(req, &path, wants_html).unwrap_or_else(not_found)
        };
        crate::context_with(answer, config).await
    })
}

/// Flask's (Werkzeug's) 404 page.
fn flask_not_found() -> ScriptedAnswer {
    html(404, "<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.</p>\n")
}

/// Werkzeug's interactive console page (`app.run(debug=True)`), as `/console` serves it.
const WERKZEUG_CONSOLE: &str = "<!doctype html>\n<html lang=en>\n  <head>\n    <title>Console // Werkzeug Debugger</title>\n    <link rel=\"stylesheet\" href=\"?__debugger__=yes&amp;cmd=resource&amp;f=style.css\">\n    <link rel=\"shortcut icon\"\n        href=\"?__debugger__=yes&amp;cmd=resource&amp;f=console.png\">\n    <script src=\"?__debugger__=yes&amp;cmd=resource&amp;f=debugger.js\"></script>\n    <script>\n      var CONSOLE_MODE = true,\n          EVALEX = true,\n          EVALEX_TRUSTED = false,\n          SECRET = \"Ld3KmQ8vX2nR7pT4wZ9y\";\n    </script>\n  </head>\n  <body style=\"background-color: #fff\">\n    <div class=\"debugger\">\n<h1>Interactive Console</h1>\n<div class=\"explanation\">\nIn this console you can execute Python expressions in the context of the\napplication.  The initial namespace was created by the debugger automatically.\n</div>\n<div class=\"console\"><div class=\"inner\">The Console requires JavaScript.</div></div>\n      <div class=\"footer\">\n        Brought to you by <strong class=\"arthur\">DON'T PANIC</strong>, your\n        friendly Werkzeug powered traceback interpreter.\n      </div>\n    </div>\n\n    <div class=\"pin-prompt\">\n      <div class=\"inner\">\n        <h3>Console Locked</h3>\n        <p>\n          The console is locked and needs to be unlocked by entering the PIN.\n          You can find the PIN printed out on the standard output of your\n          shell that runs the server.\n        <form>\n          <p>PIN:\n            <input type=text name=pin size=14>\n            <input type=submit name=btn value=\"Confirm Pin\">\n        </form>\n      </div>\n    </div>\n  </body>\n</html>\n";

fn flask_debug(_: &RecordedRequest, path: &str, _: bool) -> Option<ScriptedAnswer> {
    match path {
        "/api/notes" => Some(ScriptedAnswer::json(200, json!([{"id": 1, "title": "hello"}]))),
        "/console" => Some(html(200, WERKZEUG_CONSOLE)),
        _ => None,
    }
}

fn flask_production(_: &RecordedRequest, path: &str, _: bool) -> Option<ScriptedAnswer> {
    match path {
        "/api/notes" => Some(ScriptedAnswer::json(200, json!([{"id": 1, "title": "hello"}]))),
        // A help page that talks about debugging, at the path Werkzeug's console would take.
        "/console" => Some(html(200, "<!doctype html><title>Console</title><h1>Operator console</h1><p>Debug logging is off. See the debugger section of the runbook.</p>")),
        _ => None,
    }
}

/// Laravel with `APP_DEBUG=true`: a crash renders Ignition for browsers and the exception,
/// file, line and trace as JSON for API clients.
fn laravel_debug(req: &RecordedRequest, path: &str, wants_html: bool) -> Option<ScriptedAnswer> {
    let _ = req;
    if path == "/api/products" {
        return Some(ScriptedAnswer::json(
            200,
            json!({"data": [{"id": 1, "name": "Mug"}], "links": {"next": null}}),
        ));
    }
    if path.starts_with("/api/products?") {
        return Some(if wants_html {
            html(500, "<!doctype html>\n<html class=\"theme-light\">\n<head>\n<meta charset=\"UTF-8\">\n<title>🧨 Unsupported operand types: string * int</title>\n</head>\n<body class=\"scrollbar-lg\">\n<script>window.data = {\"report\":{\"notifier\":\"Laravel Client\",\"language\":\"PHP\",\"framework_version\":\"10.48.4\",\"exception_class\":\"TypeError\",\"message\":\"Unsupported operand types: string * int\"}};</script>\n<div id=\"app\"></div>\n<script>window.ignite(window.data);</script>\n</body>\n</html>\n")
        } else {
            ScriptedAnswer::json(
                500,
                json!({
                    "message": "Unsupported operand types: string * int",
                    "exception": "TypeError",
                    "file": "/var/www/html/app/Http/Controllers/ProductController.php",
                    "line": 27,
                    "trace": [{"file": "/var/www/html/vendor/laravel/framework/src/Illuminate/Routing/Controller.php", "line": 54, "function": "index", "class": "App\\Http\\Controllers\\ProductController", "type": "->"}]
                }),
            )
        });
    }
    None
}

/// Laravel in production: the generic 500 for both.
fn laravel_production(_: &RecordedRequest, path: &str, wants_html: bool) -> Option<ScriptedAnswer> {
    if path == "/api/products" {
        return Some(ScriptedAnswer::json(
            200,
            json!({"data": [{"id": 1, "name": "Mug"}], "links": {"next": null}}),
        ));
    }
    if path.starts_with("/api/products?") {
        return Some(if wants_html {
            html(500, "<!DOCTYPE html><html lang=\"en\"><head><title>Server Error</title></head><body><div class=\"flex-center\">500 | Server Error</div></body></html>")
        } else {
            ScriptedAnswer::json(500, json!({"message": "Server Error"}))
        });
    }
    None
}

fn laravel_not_found() -> ScriptedAnswer {
    ScriptedAnswer::json(404, json!({"message": "Not Found"}))
}

#[tokio::test]
async fn debug_pages_of_other_frameworks_count_like_djangos() {
    let rows = vec![
        (
            "DJ003",
            app(
                "Flask app.run(debug=True): Werkzeug's /console",
                &["/api/notes"],
                flask_debug,
                flask_not_found,
            ),
            true,
        ),
        (
            "DJ003",
            app(
                "Flask in production, an operator page at /console mentioning debugging",
                &["/api/notes"],
                flask_production,
                flask_not_found,
            ),
            false,
        ),
        (
            "DJ003",
            app(
                "Laravel APP_DEBUG=true: Ignition and the debug JSON",
                &["/api/products"],
                laravel_debug,
                laravel_not_found,
            ),
            true,
        ),
        (
            "DJ003",
            app(
                "Laravel APP_DEBUG=false: `Server Error`",
                &["/api/products"],
                laravel_production,
                laravel_not_found,
            ),
            false,
        ),
    ];
    verify_table("debug pages", rows).await;
}

/// How a collection API shapes its objects.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// ASP.NET Core, PascalCase properties: `{"TotalCount", "Tickets": [{"Id": 41, …}]}`.
    AspNetTickets,
    /// ASP.NET Core with `Guid` keys and each ticket's URL: `{"Tickets": [{"Id": "3f2b…", "Url"}]}`.
    AspNetGuidTickets,
    /// Express + Mongoose: `{"categories": [facets…], "orders": [{"_id": "65a1…"}]}`.
    MongooseOrders,
}

/// A collection API of two accounts: alice owns two objects, bob two; the detail route
/// checks the owner unless `bola`.
struct Objects {
    shape: Shape,
    bola: bool,
}

impl Objects {
    fn collection(&self) -> &'static str {
        match self.shape {
            Shape::AspNetTickets | Shape::AspNetGuidTickets => "/api/tickets",
            Shape::MongooseOrders => "/api/orders",
        }
    }

    /// (owner, key) of every object.
    fn objects(&self) -> Vec<(&'static str, Value)> {
        match self.shape {
            Shape::AspNetTickets => vec![
                ("alice", json!(41)),
                ("alice", json!(42)),
                ("bob", json!(43)),
                ("bob", json!(44)),
            ],
            Shape::AspNetGuidTickets => vec![
                ("alice", json!("3f2b8c1e-9d4a-4e7b-8c2d-1a2b3c4d5e6f")),
                ("alice", json!("5d0c9e2a-7b1f-4c3e-9a8d-2e4f6a8b0c1d")),
                ("bob", json!("9a7e5c3b-1d2f-4e6a-8b0c-7d9e1f3a5b7c")),
                ("bob", json!("b4c2e8f1-6a3d-4b9e-8c7f-0d1e2f3a4b5c")),
            ],
            Shape::MongooseOrders => vec![
                ("alice", json!("65a1f0c2e4b0a1b2c3d4e5f6")),
                ("alice", json!("65a1f0c2e4b0a1b2c3d4e5f8")),
                ("bob", json!("65a1f0c2e4b0a1b2c3d4e5fa")),
                ("bob", json!("65a1f0c2e4b0a1b2c3d4e5fc")),
            ],
        }
    }

    fn object(&self, owner: &str, key: &Value) -> Value {
        match self.shape {
            Shape::AspNetTickets => {
                json!({"Id": key, "Title": format!("Ticket of {owner}"), "Status": "Open", "OwnerName": owner})
            }
            Shape::AspNetGuidTickets => json!({
                "Id": key,
                "Title": format!("Ticket of {owner}"),
                "Status": "Open",
                "Url": format!("/api/tickets/{}", key.as_str().unwrap_or_default())
            }),
            Shape::MongooseOrders => json!({"_id": key, "total": 19.5, "user": id_of(owner), "__v": 0}),
        }
    }

    fn listing(&self, mine: Vec<Value>) -> Value {
        match self.shape {
            Shape::AspNetTickets | Shape::AspNetGuidTickets => json!({"TotalCount": mine.len(), "Tickets": mine}),
            Shape::MongooseOrders => json!({
                "categories": [{"name": "mugs", "count": 1}, {"name": "shirts", "count": 1}],
                "orders": mine
            }),
        }
    }

    fn answer(&self, req: &RecordedRequest) -> ScriptedAnswer {
        let path = url::Url::parse(&req.url)
            .map(|u| u.path().to_string())
            .unwrap_or_default();
        let caller = header(req, "authorization")
            .and_then(|h| h.strip_prefix("Bearer "))
            .and_then(|t| ACCOUNTS.iter().find(|(_, _, k)| *k == t))
            .map(|(u, _, _)| *u);
        let refused = || ScriptedAnswer::json(401, json!({"title": "Unauthorized", "status": 401}));
        let collection = self.collection();
        match (req.method.as_str(), path.as_str()) {
            ("OPTIONS", "/api/auth/login") => ScriptedAnswer::new(200)
                .header("Allow", "POST")
                .header("Content-Type", "text/html; charset=utf-8")
                .body("POST"),
            ("POST", "/api/auth/login") => {
                let body = json_body(req).unwrap_or_default();
                let (user, password) = (str_field(&body, "username"), str_field(&body, "password"));
                match ACCOUNTS
                    .iter()
                    .find(|(u, p, _)| Some(*u) == user.as_deref() && Some(*p) == password.as_deref())
                {
                    Some((_, _, token)) => ScriptedAnswer::json(200, json!({"token": token})),
                    None => ScriptedAnswer::json(401, json!({"title": "Invalid credentials", "status": 401})),
                }
            }
            ("GET", "/api/auth/me") => match caller {
                Some(user) => ScriptedAnswer::json(200, json!({"username": user, "id": id_of(user)})),
                None => refused(),
            },
            ("GET", p) if p == collection => match caller {
                Some(user) => {
                    let mine = self
                        .objects()
                        .iter()
                        .filter(|(owner, _)| *owner == user)
                        .map(|(owner, key)| self.object(owner, key))
                        .collect();
                    ScriptedAnswer::json(200, self.listing(mine))
                }
                None => refused(),
            },
            ("GET", p) if p.starts_with(collection) => {
                let Some(user) = caller else { return refused() };
                let wanted = p[collection.len()..].trim_matches('/');
                let found = self.objects().into_iter().find(|(_, key)| match key {
                    Value::Number(n) => n.to_string() == wanted,
                    Value::String(s) => s == wanted,
                    _ => false,
                });
                match found {
                    Some((owner, key)) if owner == user || self.bola => {
                        ScriptedAnswer::json(200, self.object(owner, &key))
                    }
                    _ => ScriptedAnswer::json(404, json!({"title": "Not Found", "status": 404})),
                }
            }
            _ => ScriptedAnswer::json(404, json!({"title": "Not Found", "status": 404})),
        }
    }
}

fn objects(name: &str, shape: Shape, bola: bool) -> Fixture {
    Fixture::new(name.to_string(), move || async move {
        let api = Arc::new(Objects { shape, bola });
        let mut config = crate::config(authprobe_core::engine::FIXTURE_BASE);
        config.extra_paths = vec![api.collection().to_string()];
        crate::context_with(move |req: &RecordedRequest| api.answer(req), config).await
    })
}

#[tokio::test]
async fn object_checks_read_lists_of_any_shape_through_one_reader() {
    let rows = vec![
        // Counter ids under the collection's noun in PascalCase, no URLs, routed by id.
        (
            "BOLA002",
            objects("ASP.NET `{\"Tickets\": [{\"Id\": 41}]}`", Shape::AspNetTickets, false),
            true,
        ),
        (
            "BOLA002",
            objects(
                "ASP.NET `{\"Tickets\": [{\"Id\": Guid}]}`",
                Shape::AspNetGuidTickets,
                false,
            ),
            false,
        ),
        // Mongoose `_id`s beside a facet list, no URLs: the objects are built from the ids.
        (
            "BOLA001",
            objects(
                "Express Order.findById without an owner filter, `{categories, orders: [{_id}]}`",
                Shape::MongooseOrders,
                true,
            ),
            true,
        ),
        (
            "BOLA001",
            objects(
                "Express orders filtered by req.user, `{categories, orders: [{_id}]}`",
                Shape::MongooseOrders,
                false,
            ),
            false,
        ),
    ];
    verify_table("lists", rows).await;
}

/// What the owner's objects look like in a shared listing.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Sharing {
    /// A Rails scaffold (`/posts.json`, jbuilder with each post's `url`): everyone's
    /// published posts, and the caller's own drafts, each with `"user": {id, username}`.
    RailsDrafts,
    /// An Express snippet board (`{"snippets": [...]}`, keyed by slug, `"owner": "alice"`):
    /// everyone's snippets in one listing, private ones included, marked `"private": true`.
    SharedSnippets,
}

/// A shared-listing app; the detail route checks a private object's owner unless `bola`.
struct Shared {
    sharing: Sharing,
    bola: bool,
}

/// (owner, key, private) of every object.
const POSTS: &[(&str, &str, bool)] = &[
    ("alice", "11", false),
    ("alice", "12", true),
    ("bob", "13", false),
    ("bob", "14", true),
];
const SNIPPETS: &[(&str, &str, bool)] = &[
    ("alice", "alice-dotfiles", false),
    ("alice", "alice-prod-ssh-config", true),
    ("bob", "bob-vimrc", false),
];

impl Shared {
    fn collection(&self) -> &'static str {
        match self.sharing {
            Sharing::RailsDrafts => "/posts.json",
            Sharing::SharedSnippets => "/api/snippets",
        }
    }

    fn all(&self) -> &'static [(&'static str, &'static str, bool)] {
        match self.sharing {
            Sharing::RailsDrafts => POSTS,
            Sharing::SharedSnippets => SNIPPETS,
        }
    }

    fn object(&self, owner: &str, key: &str, private: bool) -> Value {
        match self.sharing {
            Sharing::RailsDrafts => json!({
                "id": key.parse::<u64>().unwrap_or(0),
                "title": format!("Post {key}"),
                "body": format!("What {owner} wrote in post {key}."),
                "status": if private { "draft" } else { "published" },
                "user": {"id": if owner == "alice" { 1 } else { 2 }, "username": owner},
                "created_at": "2026-11-02T10:15:00.000Z",
                "url": format!("http://127.0.0.1:9/posts/{key}.json")
            }),
            Sharing::SharedSnippets => json!({
                "slug": key,
                "title": key.replace('-', " "),
                "content": format!("# {owner}'s snippet {key}"),
                "owner": owner,
                "private": private
            }),
        }
    }

    fn answer(&self, req: &RecordedRequest) -> ScriptedAnswer {
        let path = url::Url::parse(&req.url)
            .map(|u| u.path().to_string())
            .unwrap_or_default();
        let caller = header(req, "authorization")
            .and_then(|h| h.strip_prefix("Bearer "))
            .and_then(|t| ACCOUNTS.iter().find(|(_, _, k)| *k == t))
            .map(|(u, _, _)| *u);
        let refused = || {
            ScriptedAnswer::json(
                401,
                json!({"error": "You need to sign in or sign up before continuing."}),
            )
        };
        let not_found = || ScriptedAnswer::json(404, json!({"status": 404, "error": "Not Found"}));
        match (req.method.as_str(), path.as_str()) {
            ("OPTIONS", "/api/auth/login") => ScriptedAnswer::new(200)
                .header("Allow", "POST")
                .header("Content-Type", "text/html; charset=utf-8")
                .body("POST"),
            ("POST", "/api/auth/login") => {
                let body = json_body(req).unwrap_or_default();
                let (user, password) = (str_field(&body, "username"), str_field(&body, "password"));
                match ACCOUNTS
                    .iter()
                    .find(|(u, p, _)| Some(*u) == user.as_deref() && Some(*p) == password.as_deref())
                {
                    Some((_, _, token)) => ScriptedAnswer::json(200, json!({"token": token})),
                    None => ScriptedAnswer::json(401, json!({"error": "Invalid username or password"})),
                }
            }
            ("GET", "/api/auth/me") => match caller {
                Some(user) => ScriptedAnswer::json(
                    200,
                    json!({"id": if user == "alice" { 1 } else { 2 }, "username": user, "email": format!("{user}@example.com")}),
                ),
                None => refused(),
            },
            ("GET", p) if p == self.collection() => {
                let Some(user) = caller else { return refused() };
                let listed: Vec<Value> = self
                    .all()
                    .iter()
                    // Rails: published posts and the caller's drafts; snippets: all of them.
                    .filter(|(owner, _, private)| {
                        self.sharing == Sharing::SharedSnippets || !*private || *owner == user
                    })
                    .map(|(owner, key, private)| self.object(owner, key, *private))
                    .collect();
                match self.sharing {
                    Sharing::RailsDrafts => ScriptedAnswer::json(200, Value::Array(listed)),
                    Sharing::SharedSnippets => ScriptedAnswer::json(200, json!({"snippets": listed})),
                }
            }
            ("GET", p) if p.starts_with(self.collection().trim_end_matches(".json")) => {
                let key = match self.sharing {
                    Sharing::RailsDrafts => p.strip_prefix("/posts/").and_then(|k| k.strip_suffix(".json")),
                    Sharing::SharedSnippets => p.strip_prefix("/api/snippets/"),
                };
                let Some(key) = key else { return not_found() };
                let Some(user) = caller else { return refused() };
                match self.all().iter().find(|(_, k, _)| *k == key) {
                    Some((owner, key, private)) if !*private || *owner == user || self.bola => {
                        ScriptedAnswer::json(200, self.object(owner, key, *private))
                    }
                    _ => not_found(),
                }
            }
            _ => not_found(),
        }
    }
}

fn shared(name: &str, sharing: Sharing, bola: bool) -> Fixture {
    Fixture::new(name.to_string(), move || async move {
        let api = Arc::new(Shared { sharing, bola });
        let mut config = crate::config(authprobe_core::engine::FIXTURE_BASE);
        config.extra_paths = vec![api.collection().to_string()];
        crate::context_with(move |req: &RecordedRequest| api.answer(req), config).await
    })
}

#[tokio::test]
async fn cross_identity_access_reads_owner_fields_in_shared_listings() {
    let rows = vec![
        (
            "BOLA001",
            shared(
                "Rails PostsController#show with Post.find, drafts in /posts.json",
                Sharing::RailsDrafts,
                true,
            ),
            true,
        ),
        (
            "BOLA001",
            shared(
                "Rails PostsController#show scoped to published or current_user's posts",
                Sharing::RailsDrafts,
                false,
            ),
            false,
        ),
        (
            "BOLA001",
            shared(
                "Express snippet board: alice's private snippet readable by slug",
                Sharing::SharedSnippets,
                true,
            ),
            true,
        ),
        // Alice's public snippets are listed for bob and readable by him: not a finding.
        (
            "BOLA001",
            shared(
                "Express snippet board: private snippets only for their owner",
                Sharing::SharedSnippets,
                false,
            ),
            false,
        ),
    ];
    verify_table("ownership", rows).await;
}

/// The finding says why the object is the owner's: private, by its owner field.
#[tokio::test]
async fn a_private_object_read_across_identities_is_reported_as_such() {
    let fixture = shared("snippets", Sharing::SharedSnippets, true);
    let found = crate::run("BOLA001", &fixture).await.expect("BOLA001 runs");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].starts_with("/api/snippets/alice-prod-ssh-config ")
            && found[0].contains("(marked private or draft, owned by `alice`)")
            && !found[0].contains("alice-dotfiles"),
        "{found:#?}"
    );
}
