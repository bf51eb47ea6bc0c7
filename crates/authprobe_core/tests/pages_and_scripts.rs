//! Issue 27, classes 3 and 4: how a target authenticates is read from what it serves to a
//! browser. Class 4: HTML forms and links (a Laravel Blade login with `_token` at a path
//! no list has, linked from the home page; a Rails login whose page and action differ,
//! with `authenticity_token`, a `button_to` sign-out posting `_method=delete` and a
//! "Forgot password?" link; a sign-in page carrying an OAuth client's `client_id`).
//! Class 3: a single-page app whose login route is named only in its Vite-built bundle,
//! under an HTTP client's `baseURL`. Each fixture answers as its framework answers, keeps
//! per-session CSRF tokens, and refuses what the real framework refuses.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use authprobe_core::auth::FlowSource;
use authprobe_core::exchange::RecordedRequest;
use authprobe_core::probe::{ProbeRequest, ScriptedAnswer, Transport};
use authprobe_core::ScanContext;
use serde_json::json;

const ORIGIN: &str = "http://127.0.0.1:9";

fn path_of(req: &RecordedRequest) -> String {
    url::Url::parse(&req.url).unwrap().path().to_string()
}

fn html(status: u16, body: &str) -> ScriptedAnswer {
    ScriptedAnswer::new(status)
        .header("Content-Type", "text/html; charset=utf-8")
        .body(body)
}

fn redirect(to: &str) -> ScriptedAnswer {
    ScriptedAnswer::new(302)
        .header("Location", to)
        .header("Content-Type", "text/html; charset=utf-8")
}

fn cookie(req: &RecordedRequest, name: &str) -> Option<String> {
    let header = req
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("cookie"))?
        .1
        .clone();
    header.split(';').find_map(|pair| {
        let (k, v) = pair.trim().split_once('=')?;
        (k == name).then(|| v.to_string())
    })
}

fn fields(req: &RecordedRequest) -> HashMap<String, String> {
    url::form_urlencoded::parse(req.body.as_deref().unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

/// The flows the scan found, as (role, endpoint, source).
fn flows(cx: &ScanContext) -> Vec<(&'static str, String, FlowSource)> {
    cx.flows
        .info()
        .into_iter()
        .map(|f| (f.role, f.endpoint, f.source))
        .collect()
}

/// Server-side sessions keyed by a cookie, each with its CSRF token and signed-in user.
#[derive(Default)]
struct Sessions {
    next: u32,
    by_id: HashMap<String, (String, Option<String>)>,
}

impl Sessions {
    /// The request's session, or a new one (and the `Set-Cookie` that starts it).
    fn of(&mut self, req: &RecordedRequest, cookie_name: &str) -> (String, Option<String>) {
        if let Some(id) = cookie(req, cookie_name).filter(|id| self.by_id.contains_key(id)) {
            return (id, None);
        }
        self.next += 1;
        let id = format!("s{:04}q8ZkP2vR7mX4tW9yB3nC6hJ5", self.next);
        let token = format!("tok{:04}Xb8VnM2qL5rT9wE3yU6iO1pA4sD7fG", self.next);
        self.by_id.insert(id.clone(), (token, None));
        let set = format!("{cookie_name}={id}; path=/; httponly; samesite=lax");
        (id, Some(set))
    }
}

fn with_cookie(answer: ScriptedAnswer, set: &Option<String>) -> ScriptedAnswer {
    match set {
        Some(c) => answer.header("Set-Cookie", c),
        None => answer,
    }
}

// ---------------------------------------------------------------------------------------
// Laravel (Blade, Breeze-style views): the sign-in page lives at `/account/enter`, linked
// from the home page, and posts to the absolute URL `route('login')` renders.
// ---------------------------------------------------------------------------------------

fn laravel() -> Arc<dyn Transport> {
    let state = Arc::new(Mutex::new(Sessions::default()));
    Arc::new(move |req: &RecordedRequest| {
        let mut st = state.lock().unwrap();
        let (sid, set) = st.of(req, "laravel_session");
        let (token, user) = st.by_id[&sid].clone();
        let form = fields(req);
        let token_ok = form.get("_token") == Some(&token);
        let page = |body: String| with_cookie(html(200, &body), &set);
        match (req.method.as_str(), path_of(req).as_str()) {
            ("GET", "/") => page(format!(
                "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Acme</title></head><body>\
                 <nav class=\"-mx-3 flex flex-1 justify-end\"><a href=\"{ORIGIN}/account/enter\" class=\"rounded-md px-3 py-2\">Log in</a>\
                 <a href=\"{ORIGIN}/register\" class=\"rounded-md px-3 py-2\">Register</a></nav><main>Welcome</main></body></html>"
            )),
            ("GET", "/account/enter") => page(format!(
                "<!DOCTYPE html><html lang=\"en\"><head><meta name=\"csrf-token\" content=\"{token}\"><title>Acme</title></head><body>\
                 <form method=\"POST\" action=\"{ORIGIN}/account/session\">\
                 <input type=\"hidden\" name=\"_token\" value=\"{token}\" autocomplete=\"off\">\
                 <div><label for=\"email\">Email</label><input id=\"email\" class=\"block mt-1 w-full\" type=\"email\" name=\"email\" required autofocus autocomplete=\"username\"></div>\
                 <div><label for=\"password\">Password</label><input id=\"password\" type=\"password\" name=\"password\" required autocomplete=\"current-password\"></div>\
                 <label for=\"remember_me\"><input id=\"remember_me\" type=\"checkbox\" name=\"remember\"> Remember me</label>\
                 <a class=\"underline text-sm\" href=\"{ORIGIN}/forgot-password\">Forgot your password?</a>\
                 <button type=\"submit\">Log in</button></form></body></html>"
            )),
            ("GET", "/forgot-password") => page(format!(
                "<!DOCTYPE html><html><body><div>Forgot your password? No problem.</div>\
                 <form method=\"POST\" action=\"{ORIGIN}/forgot-password\"><input type=\"hidden\" name=\"_token\" value=\"{token}\" autocomplete=\"off\">\
                 <input id=\"email\" type=\"email\" name=\"email\" required autofocus><button type=\"submit\">Email Password Reset Link</button></form></body></html>"
            )),
            ("GET", "/dashboard") => match user {
                Some(name) => page(format!(
                    "<!DOCTYPE html><html><body><nav><div>{name}</div>\
                     <form method=\"POST\" action=\"{ORIGIN}/logout\"><input type=\"hidden\" name=\"_token\" value=\"{token}\" autocomplete=\"off\">\
                     <a href=\"{ORIGIN}/logout\" onclick=\"event.preventDefault(); this.closest('form').submit();\">Log Out</a></form></nav>\
                     <main>You're logged in!</main></body></html>"
                )),
                None => with_cookie(redirect(&format!("{ORIGIN}/account/enter")), &set),
            },
            ("POST", _) if !token_ok => with_cookie(html(419, "<title>Page Expired</title>419 | Page Expired"), &set),
            ("POST", "/account/session") => {
                let ok = form.get("email").map(String::as_str) == Some("alice@example.com")
                    && form.get("password").map(String::as_str) == Some("alice-pass-1");
                if !ok {
                    return with_cookie(redirect(&format!("{ORIGIN}/account/enter")), &set);
                }
                // The session id is regenerated at login.
                st.by_id.remove(&sid);
                let new = format!("{sid}L");
                st.by_id.insert(new.clone(), (token, Some("alice".into())));
                redirect(&format!("{ORIGIN}/dashboard"))
                    .header("Set-Cookie", &format!("laravel_session={new}; path=/; httponly; samesite=lax"))
            }
            ("POST", "/logout") if user.is_some() => {
                st.by_id.remove(&sid);
                redirect(&format!("{ORIGIN}/"))
            }
            ("POST", "/forgot-password") => {
                with_cookie(redirect(&format!("{ORIGIN}/forgot-password")), &set)
            }
            _ => html(404, "<!DOCTYPE html><html><body><div>404</div><div>Not Found</div></body></html>"),
        }
    })
}

#[tokio::test]
async fn a_laravel_login_linked_from_the_home_page_logs_in_with_its_csrf_token() {
    let cx = ScanContext::for_fixture(laravel(), "", &[("alice@example.com", "alice-pass-1")]).await;
    assert_eq!(
        flows(&cx),
        vec![
            ("login", "/account/session".to_string(), FlowSource::Html),
            ("logout", "/logout".to_string(), FlowSource::Html),
            ("password_reset", "/forgot-password".to_string(), FlowSource::Html),
        ]
    );
    assert!(cx.login_failures.is_empty(), "{:?}", cx.login_failures);
    let alice = cx.primary().expect("alice logs in");
    let dashboard = url::Url::parse(&format!("{ORIGIN}/dashboard")).unwrap();
    let resp = cx
        .probe
        .send(alice.authorize(ProbeRequest::get(dashboard.clone())))
        .await
        .unwrap();
    assert_eq!(resp.status, 200, "alice's session opens the dashboard");
    // The sign-out form posts its page's current token, and ends the session.
    let logout = cx.flows.logout.first().unwrap();
    let out = logout.log_out(&cx.probe, alice).await.unwrap();
    assert_eq!(out.status, 302);
    let after = cx
        .probe
        .send(alice.authorize(ProbeRequest::get(dashboard)))
        .await
        .unwrap();
    assert_eq!(after.status, 302, "the session is gone after the sign-out form");
}

#[tokio::test]
async fn a_laravel_reset_form_is_sent_with_its_pages_session_and_token() {
    let cx = ScanContext::for_fixture(laravel(), "", &[]).await;
    let reset = cx.flows.password_reset.first().expect("the reset form");
    assert!(reset.spec.takes_email());
    let resp = cx.probe.send(reset.request("nobody@example.invalid")).await.unwrap();
    assert_eq!(resp.status, 302, "not 419: the token and its session go together");
}

// ---------------------------------------------------------------------------------------
// Rails 8 (`bin/rails generate authentication`): `GET /session/new` shows a form posting
// to `/session`; the layout's sign-out is `button_to "Sign out", session_path,
// method: :delete`, shown to signed-in users only.
// ---------------------------------------------------------------------------------------

fn rails() -> Arc<dyn Transport> {
    let state = Arc::new(Mutex::new((Sessions::default(), HashMap::<String, String>::new())));
    Arc::new(move |req: &RecordedRequest| {
        let mut guard = state.lock().unwrap();
        let (sessions, signed_in) = &mut *guard;
        let (sid, set) = sessions.of(req, "_shop_session");
        let token = sessions.by_id[&sid].0.clone();
        let user = cookie(req, "session_id").and_then(|c| signed_in.get(&c).cloned());
        let form = fields(req);
        let token_ok = form.get("authenticity_token") == Some(&token);
        let page = |body: String| with_cookie(html(200, &body), &set);
        let layout = |main: &str| {
            format!("<!DOCTYPE html><html><head><title>Shop</title><meta name=\"csrf-param\" content=\"authenticity_token\" /><meta name=\"csrf-token\" content=\"{token}\" /></head><body>{main}</body></html>")
        };
        match (req.method.as_str(), path_of(req).as_str()) {
            ("GET", "/") => match user {
                Some(name) => page(layout(&format!(
                    "<header>Signed in as {name} <form class=\"button_to\" method=\"post\" action=\"/session\"><input type=\"hidden\" name=\"_method\" value=\"delete\" autocomplete=\"off\" /><button type=\"submit\">Sign out</button><input type=\"hidden\" name=\"authenticity_token\" value=\"{token}\" autocomplete=\"off\" /></form></header><main><h1>Orders</h1></main>"
                ))),
                None => with_cookie(redirect(&format!("{ORIGIN}/session/new")), &set),
            },
            ("GET", "/session/new") => page(layout(&format!(
                "<form action=\"/session\" accept-charset=\"UTF-8\" method=\"post\"><input type=\"hidden\" name=\"authenticity_token\" value=\"{token}\" autocomplete=\"off\" />\
                 <input type=\"email\" name=\"email_address\" id=\"email_address\" required=\"required\" autofocus=\"autofocus\" autocomplete=\"username\" placeholder=\"Enter your email address\" />\
                 <input type=\"password\" name=\"password\" id=\"password\" required=\"required\" autocomplete=\"current-password\" placeholder=\"Enter your password\" maxlength=\"72\" />\
                 <input type=\"submit\" name=\"commit\" value=\"Sign in\" data-disable-with=\"Sign in\" /></form><br><a href=\"/passwords/new\">Forgot password?</a>"
            ))),
            ("GET", "/passwords/new") => page(layout(&format!(
                "<h1>Forgot your password?</h1><form action=\"/passwords\" accept-charset=\"UTF-8\" method=\"post\"><input type=\"hidden\" name=\"authenticity_token\" value=\"{token}\" autocomplete=\"off\" />\
                 <input type=\"email\" name=\"email_address\" id=\"email_address\" required=\"required\" autofocus=\"autofocus\" autocomplete=\"username\" />\
                 <input type=\"submit\" name=\"commit\" value=\"Email reset instructions\" /></form>"
            ))),
            ("POST", _) if !token_ok => html(422, "<h1>ActionController::InvalidAuthenticityToken</h1>"),
            ("POST", "/session") if form.get("_method").map(String::as_str) == Some("delete") => {
                match cookie(req, "session_id") {
                    Some(c) if signed_in.remove(&c).is_some() => redirect(&format!("{ORIGIN}/session/new"))
                        .header("Set-Cookie", "session_id=; path=/; max-age=0; expires=Thu, 01 Jan 1970 00:00:00 GMT"),
                    _ => redirect(&format!("{ORIGIN}/session/new")),
                }
            }
            ("POST", "/session") => {
                let ok = form.get("email_address").map(String::as_str) == Some("alice@example.com")
                    && form.get("password").map(String::as_str) == Some("alice-pass-1");
                if !ok {
                    return redirect(&format!("{ORIGIN}/session/new"));
                }
                let id = format!("eyJfcmFpbHMiOnsiZGF0YSI6{}--5f2b8c", signed_in.len() + 1);
                signed_in.insert(id.clone(), "alice".into());
                redirect(&format!("{ORIGIN}/")).header(
                    "Set-Cookie",
                    &format!("session_id={id}; path=/; expires=Fri, 07 Dec 2046 00:00:00 GMT; httponly; samesite=lax"),
                )
            }
            ("POST", "/passwords") => redirect(&format!("{ORIGIN}/session/new")),
            _ => html(404, "<!DOCTYPE html><html><head><title>The page you were looking for doesn't exist (404)</title></head><body></body></html>"),
        }
    })
}

#[tokio::test]
async fn a_rails_login_posts_to_its_forms_action_and_signs_out_with_its_method_override() {
    let cx = ScanContext::for_fixture(rails(), "", &[("alice@example.com", "alice-pass-1")]).await;
    assert!(cx.login_failures.is_empty(), "{:?}", cx.login_failures);
    assert_eq!(
        flows(&cx),
        vec![
            ("login", "/session".to_string(), FlowSource::Html),
            ("logout", "/session".to_string(), FlowSource::Html),
            ("password_reset", "/passwords".to_string(), FlowSource::Html),
        ]
    );
    let alice = cx.primary().expect("alice logs in");
    let root = url::Url::parse(&format!("{ORIGIN}/")).unwrap();
    let signed_in = cx
        .probe
        .send(alice.authorize(ProbeRequest::get(root.clone())))
        .await
        .unwrap();
    assert_eq!(signed_in.status, 200);
    let logout = cx.flows.logout.first().unwrap();
    logout.log_out(&cx.probe, alice).await.unwrap();
    let sent = cx
        .probe
        .exchanges()
        .into_iter()
        .rev()
        .find(|x| x.request.method == "POST" && x.request.url.ends_with("/session"))
        .unwrap();
    let body = sent.request.body.unwrap_or_default();
    assert!(
        body.contains("_method=delete") && body.contains("authenticity_token="),
        "{body}"
    );
    let after = cx.probe.send(alice.authorize(ProbeRequest::get(root))).await.unwrap();
    assert_eq!(after.status, 302, "signed out");
}

// ---------------------------------------------------------------------------------------
// An OAuth 2 provider whose sign-in page posts the password grant itself, with the
// public client's id in a hidden input (or in the page's inline configuration).
// ---------------------------------------------------------------------------------------

fn oauth_site(inline_config: bool) -> Arc<dyn Transport> {
    Arc::new(move |req: &RecordedRequest| {
        let form = fields(req);
        let bearer = req
            .headers
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case("authorization") && v == "Bearer at-alice-8Jk2Lm9Qp4Rs7Tv");
        match (req.method.as_str(), path_of(req).as_str()) {
            ("GET", "/") if inline_config => html(
                200,
                "<!doctype html><html><head><script>window.__AUTH__ = {\"clientId\": \"web-7f3a2c\", \"tokenUrl\": \"/oauth/token\"};</script></head>\
                 <body><form id=\"signin\"><input name=\"username\"><input name=\"password\" type=\"password\"><button>Sign in</button></form>\
                 <script src=\"https://cdn.example.net/auth.js\"></script></body></html>",
            ),
            ("GET", "/") => html(
                200,
                "<!doctype html><html><body><h1>Sign in</h1><form method=\"post\" action=\"/oauth/token\">\
                 <input type=\"hidden\" name=\"grant_type\" value=\"password\"><input type=\"hidden\" name=\"client_id\" value=\"web-7f3a2c\">\
                 <input name=\"username\" autocomplete=\"username\"><input name=\"password\" type=\"password\"><button>Sign in</button></form></body></html>",
            ),
            ("GET", "/oauth/token") => ScriptedAnswer::json(405, json!({"detail": "Method \"GET\" not allowed."})),
            ("POST", "/oauth/token") if form.get("client_id").map(String::as_str) != Some("web-7f3a2c") => {
                ScriptedAnswer::json(401, json!({"error": "invalid_client"}))
                    .header("WWW-Authenticate", "Bearer error=\"invalid_client\"")
            }
            ("POST", "/oauth/token") => {
                let ok = form.get("grant_type").map(String::as_str) == Some("password")
                    && form.get("username").map(String::as_str) == Some("alice")
                    && form.get("password").map(String::as_str) == Some("alice-pass-1");
                if ok {
                    ScriptedAnswer::json(
                        200,
                        json!({"access_token": "at-alice-8Jk2Lm9Qp4Rs7Tv", "token_type": "Bearer", "expires_in": 3600, "refresh_token": "rt-alice-3Hn6Wq1Zx5Cv8Bn"}),
                    )
                } else {
                    ScriptedAnswer::json(400, json!({"error": "invalid_grant"}))
                }
            }
            ("GET", "/api/me/") if bearer => ScriptedAnswer::json(200, json!({"id": 1, "username": "alice"})),
            ("GET", "/api/me/") => ScriptedAnswer::json(401, json!({"detail": "Authentication credentials were not provided."}))
                .header("WWW-Authenticate", "Bearer realm=\"api\""),
            _ => ScriptedAnswer::json(404, json!({"detail": "Not found."})),
        }
    })
}

#[tokio::test]
async fn a_sign_in_pages_hidden_client_id_lets_the_password_grant_log_in() {
    for inline in [false, true] {
        let cx = ScanContext::for_fixture(oauth_site(inline), "", &[("alice", "alice-pass-1")]).await;
        assert!(cx.login_failures.is_empty(), "inline={inline}: {:?}", cx.login_failures);
        assert_eq!(
            flows(&cx),
            vec![
                ("login", "/oauth/token".to_string(), FlowSource::Html),
                ("refresh", "/oauth/token".to_string(), FlowSource::Html),
            ],
            "inline={inline}"
        );
        let login = &cx.flows.login[0];
        assert_eq!(login.spec.client_id.as_deref(), Some("web-7f3a2c"));
        assert_eq!(cx.primary().unwrap().token(), Some("at-alice-8Jk2Lm9Qp4Rs7Tv"));
    }
}

// ---------------------------------------------------------------------------------------
// A single-page app (Vite build): its login route is in the bundle only, under an axios
// instance's baseURL; the API (Express) answers 404 to GET on a POST-only route and says
// `Allow: POST` to OPTIONS.
// ---------------------------------------------------------------------------------------

const BUNDLE: &str = r#"import{c as Ue,r as Se}from"./vendor-9a8b7c.js";const a=axios.create({baseURL:"/backend/v2",timeout:1e4,withCredentials:!1});a.interceptors.request.use(e=>{const t=localStorage.getItem("tk");return t&&(e.headers.Authorization=`Bearer ${t}`),e});const Ce={login:(e,t)=>a.post("/session/create",{username:e,password:t}),logout:()=>a.post("/session/destroy"),me:()=>a.get("/users/me"),orders:()=>a.get("/orders")};function Ne(){return Se(()=>import("./Orders-1f2e3d.js"),[])}export{Ce as api};"#;

fn spa() -> Arc<dyn Transport> {
    let issued = Arc::new(Mutex::new(Vec::<String>::new()));
    Arc::new(move |req: &RecordedRequest| {
        let path = path_of(req);
        let auth = req
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
            .map(|(_, v)| v.clone());
        let known = auth
            .as_deref()
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|t| issued.lock().unwrap().iter().any(|i| i == t));
        let cannot = |m: &str| {
            html(404, &format!("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Error</title></head><body><pre>Cannot {m} {path}</pre></body></html>"))
        };
        match (req.method.as_str(), path.as_str()) {
            ("GET", "/") | ("GET", "/index.html") => html(
                200,
                "<!doctype html><html lang=\"en\"><head><meta charset=\"UTF-8\" /><title>Shop</title>\
                 <script type=\"module\" crossorigin src=\"/assets/index-3f2a1c9e.js\"></script>\
                 <link rel=\"modulepreload\" crossorigin href=\"/assets/vendor-9a8b7c.js\"><link rel=\"stylesheet\" href=\"/assets/index-77aa.css\"></head>\
                 <body><div id=\"app\"></div></body></html>",
            ),
            ("GET", "/assets/index-3f2a1c9e.js") => ScriptedAnswer::new(200)
                .header("Content-Type", "application/javascript; charset=utf-8")
                .body(BUNDLE),
            ("OPTIONS", "/backend/v2/session/create") | ("OPTIONS", "/backend/v2/session/destroy") => {
                ScriptedAnswer::new(200).header("Allow", "POST").body("POST")
            }
            ("POST", "/backend/v2/session/create") => {
                let body: serde_json::Value = serde_json::from_str(req.body.as_deref().unwrap_or("")).unwrap_or_default();
                match (body["username"].as_str(), body["password"].as_str()) {
                    (Some("alice"), Some("alice-pass-1")) => {
                        let token = "sp4-alice-Zq8Wm2Lk5Rt9Xv3Bn7Cp1Dj6".to_string();
                        issued.lock().unwrap().push(token.clone());
                        ScriptedAnswer::json(200, json!({"ok": true, "token": token, "user": {"id": 1, "username": "alice"}}))
                    }
                    (Some(_), Some(_)) => ScriptedAnswer::json(401, json!({"ok": false, "error": "invalid credentials"})),
                    _ => ScriptedAnswer::json(400, json!({"ok": false, "error": "username and password are required"})),
                }
            }
            ("POST", "/backend/v2/session/destroy") => ScriptedAnswer::json(200, json!({"ok": true})),
            ("GET", "/backend/v2/users/me") if known => ScriptedAnswer::json(200, json!({"id": 1, "username": "alice"})),
            ("GET", "/backend/v2/orders") if known => ScriptedAnswer::json(200, json!([{"id": 7, "total": 12}])),
            ("GET", "/backend/v2/users/me") | ("GET", "/backend/v2/orders") => {
                ScriptedAnswer::json(401, json!({"ok": false, "error": "unauthorized"}))
            }
            ("GET", "/backend/v2") => ScriptedAnswer::json(200, json!({"name": "shop-api", "version": 2})),
            (m, _) => cannot(m),
        }
    })
}

#[tokio::test]
async fn a_single_page_apps_login_named_only_in_its_bundle_logs_in() {
    let cx = ScanContext::for_fixture(spa(), "", &[("alice", "alice-pass-1")]).await;
    assert!(cx.login_failures.is_empty(), "{:?}", cx.login_failures);
    assert_eq!(
        flows(&cx),
        vec![
            ("login", "/backend/v2/session/create".to_string(), FlowSource::Script),
            ("logout", "/backend/v2/session/destroy".to_string(), FlowSource::Script),
        ]
    );
    assert_eq!(
        cx.primary().unwrap().token(),
        Some("sp4-alice-Zq8Wm2Lk5Rt9Xv3Bn7Cp1Dj6")
    );
    assert_eq!(
        cx.identity_endpoint.as_ref().map(|u| u.path()),
        Some("/backend/v2/users/me")
    );
    let orders = cx
        .inventory
        .endpoints
        .iter()
        .find(|e| e.path() == "/backend/v2/orders")
        .expect("the bundle's other API route joins the inventory");
    assert_eq!(orders.found_by, authprobe_core::discovery::FoundBy::Script);
    // Only the bundle the page loads was fetched, not its lazy chunks or vendor module.
    let fetched: Vec<String> = cx
        .probe
        .exchanges()
        .iter()
        .filter(|x| x.request.url.contains("/assets/"))
        .map(|x| x.request.url.clone())
        .collect();
    assert_eq!(fetched, vec![format!("{ORIGIN}/assets/index-3f2a1c9e.js")]);
}
