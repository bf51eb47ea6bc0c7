//! Issue 27, classes 2, 5, 9 and 10 (the admin login): logins that only a POST reveals
//! (Koa's router without `allowedMethods()` answers GET and OPTIONS 404; an Express router
//! behind `cors()` answers every OPTIONS 204) — and no such POST where the router tells a
//! refused method from a missing route —, a refused login that does not end the search and
//! is named with every other (`invalid_client` at an OAuth 2 endpoint, the staff-only Django
//! admin, tried last), and redirects
//! discovery follows (the root of a Rails app answering 302 to its Devise sign-in page, a
//! spec URL answering 302 to where the spec lives). Each target is scripted through the
//! transport seam with answers shaped as its framework shapes them.

use std::sync::Arc;

use authprobe_core::auth::FlowSource;
use authprobe_core::exchange::RecordedRequest;
use authprobe_core::probe::ScriptedAnswer;
use authprobe_core::ScanContext;
use serde_json::json;

const USERS: &[(&str, &str)] = &[("alice", "alice-pass-1"), ("bob", "bob-pass-2")];

/// A JWT-shaped token per user (the fixture never verifies its signature).
fn token_of(user: &str) -> String {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    format!(
        "{}.{}.{}",
        b64(r#"{"alg":"HS256","typ":"JWT"}"#),
        b64(&format!(r#"{{"sub":"{user}","iat":1700000000}}"#)),
        b64(&format!("signature-of-{user}"))
    )
}

fn path_of(req: &RecordedRequest) -> String {
    url::Url::parse(&req.url).unwrap().path().to_string()
}

fn json_body(req: &RecordedRequest) -> serde_json::Map<String, serde_json::Value> {
    req.body
        .as_deref()
        .and_then(|b| serde_json::from_str::<serde_json::Value>(b).ok())
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default()
}

fn form_field(req: &RecordedRequest, name: &str) -> Option<String> {
    url::form_urlencoded::parse(req.body.as_deref()?.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The user a JSON body logs in, if its password is right.
fn account_in(body: &serde_json::Map<String, serde_json::Value>) -> Option<&'static str> {
    let field = |k: &str| body.get(k).and_then(|v| v.as_str());
    USERS
        .iter()
        .find(|(u, p)| field("username") == Some(u) && field("password") == Some(p))
        .map(|(u, _)| *u)
}

/// The user a bearer token belongs to.
fn bearer_user(req: &RecordedRequest) -> Option<&'static str> {
    let auth = req
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        .map(|(_, v)| v.clone())?;
    USERS
        .iter()
        .find(|(u, _)| auth == format!("Bearer {}", token_of(u)))
        .map(|(u, _)| *u)
}

/// Koa's answer to anything its router has no route for (no `allowedMethods()`): 404
/// `Not Found` in plain text, to GET and OPTIONS alike.
fn koa_not_found() -> ScriptedAnswer {
    ScriptedAnswer::new(404)
        .header("Content-Type", "text/plain; charset=utf-8")
        .body("Not Found")
}

/// A Koa API (`@koa/router`, `router.post('/api/auth/login')`, no `allowedMethods()`):
/// `{username, password}` in, `{token}` out; `/api/auth/me` takes the bearer token.
fn koa(req: &RecordedRequest) -> ScriptedAnswer {
    match (req.method.as_str(), path_of(req).as_str()) {
        ("POST", "/api/auth/login") => match account_in(&json_body(req)) {
            Some(user) => ScriptedAnswer::json(200, json!({"token": token_of(user), "user": {"username": user}})),
            None => ScriptedAnswer::json(401, json!({"error": "Invalid credentials"})),
        },
        ("GET", "/api/auth/me") => match bearer_user(req) {
            Some(user) => ScriptedAnswer::json(200, json!({"id": 1, "username": user})),
            None => ScriptedAnswer::json(401, json!({"error": "Unauthorized"})),
        },
        _ => koa_not_found(),
    }
}

fn logins(cx: &ScanContext) -> Vec<(String, &'static str, FlowSource)> {
    cx.flows
        .info()
        .into_iter()
        .filter(|f| f.role == "login")
        .map(|f| (f.endpoint, f.family, f.source))
        .collect()
}

fn logged_in(cx: &ScanContext) -> Vec<String> {
    cx.identities.iter().map(|i| i.label.clone()).collect()
}

/// The paths the scan sent POST to, each once.
fn posted_paths(cx: &ScanContext) -> Vec<String> {
    let mut paths: Vec<String> = cx
        .probe
        .exchanges()
        .iter()
        .filter(|x| x.request.method == "POST")
        .map(|x| path_of(&x.request))
        .collect();
    paths.dedup();
    paths.sort();
    paths.dedup();
    paths
}

fn posts_to(cx: &ScanContext, path: &str) -> usize {
    cx.probe
        .exchanges()
        .iter()
        .filter(|x| x.request.method == "POST" && path_of(&x.request) == path)
        .count()
}

// Class 2: a POST-only login that answers GET and OPTIONS 404.

#[tokio::test]
async fn a_koa_login_that_answers_get_and_options_404_is_found_by_one_credential_post() {
    let cx = ScanContext::for_fixture(Arc::new(koa), "", USERS).await;
    assert_eq!(
        logins(&cx),
        [("/api/auth/login".to_string(), "custom", FlowSource::Probe)]
    );
    assert_eq!(logged_in(&cx), ["alice", "bob"]);
    assert!(cx.login_failures.is_empty(), "{:?}", cx.login_failures);
    // Every POST went to the flow: the probe asked the path under the API's own prefix
    // first and stopped there.
    assert_eq!(posted_paths(&cx), ["/api/auth/login"]);
    // The probe's POST, the login's `{}` asking for its fields, and one login per account.
    assert_eq!(posts_to(&cx, "/api/auth/login"), 4);
    // The probe's token never reaches a report.
    let alice = token_of("alice");
    assert!(!cx.redactor.text(&format!("Bearer {alice}")).contains(&alice));
}

#[tokio::test]
async fn without_accounts_no_credential_post_is_sent() {
    let cx = ScanContext::for_fixture(Arc::new(koa), "", &[]).await;
    assert!(logins(&cx).is_empty(), "{:?}", logins(&cx));
    assert!(posted_paths(&cx).is_empty(), "{:?}", posted_paths(&cx));
}

#[tokio::test]
async fn a_configured_login_leaves_the_candidates_alone() {
    let flows = "[login]\npath = \"/api/auth/login\"\n";
    let cx = ScanContext::for_fixture(Arc::new(koa), flows, USERS).await;
    assert_eq!(logged_in(&cx), ["alice", "bob"]);
    assert_eq!(posted_paths(&cx), ["/api/auth/login"]);
    // No probe POST: one login per account.
    assert_eq!(posts_to(&cx, "/api/auth/login"), 2);
}

/// An Express API behind `app.use(cors())`: every OPTIONS is answered 204 without `Allow`
/// (the CORS layer's), GET of the POST-only login is Express' `Cannot GET` page, and the
/// login refuses the scan's accounts (it takes e-mail addresses) with a JSON 401. Its
/// `/api/users/me` wants a token.
fn express_with_cors(req: &RecordedRequest) -> ScriptedAnswer {
    let path = path_of(req);
    match (req.method.as_str(), path.as_str()) {
        ("OPTIONS", _) => ScriptedAnswer::new(204)
            .header("Access-Control-Allow-Origin", "*")
            .header("Access-Control-Allow-Methods", "GET,HEAD,PUT,PATCH,POST,DELETE"),
        ("GET", "/api/users/me") => ScriptedAnswer::json(401, json!({"message": "No authorization token was found"})),
        ("POST", "/api/users/login") => {
            ScriptedAnswer::json(401, json!({"message": "Invalid email or password"}))
        }
        (method, _) => ScriptedAnswer::new(404)
            .header("Content-Type", "text/html; charset=utf-8")
            .body(&format!(
                "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Error</title>\n</head>\n<body>\n<pre>Cannot {method} {path}</pre>\n</body>\n</html>\n"
            )),
    }
}

#[tokio::test]
async fn a_login_that_refuses_the_account_in_json_is_still_a_login() {
    let cx = ScanContext::for_fixture(Arc::new(express_with_cors), "", USERS).await;
    assert_eq!(
        logins(&cx),
        [("/api/users/login".to_string(), "custom", FlowSource::Probe)]
    );
    assert!(logged_in(&cx).is_empty());
    let errors: Vec<&str> = cx.login_failures.iter().map(|f| f.error.as_str()).collect();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors[0].contains("/api/users/login") && errors[0].contains("401"),
        "{errors:?}"
    );
    // Candidates POSTed to and not kept were asked once each, and only login paths.
    for x in cx.probe.exchanges().iter().filter(|x| x.request.method == "POST") {
        let path = path_of(&x.request);
        assert!(
            path == "/api/users/login" || posts_to(&cx, &path) == 1,
            "{path} was sent more than one POST"
        );
    }
}

#[tokio::test]
async fn a_target_without_any_login_gets_few_probe_posts_each_sent_once() {
    let cx = ScanContext::for_fixture(Arc::new(|_: &RecordedRequest| koa_not_found()), "", USERS).await;
    assert!(logins(&cx).is_empty());
    let posted = posted_paths(&cx);
    assert!(!posted.is_empty() && posted.len() <= 8, "{posted:?}");
    for path in &posted {
        assert_eq!(posts_to(&cx, path), 1, "{path}");
        let last = path.trim_end_matches('/').rsplit('/').next().unwrap();
        assert!(
            ["login", "signin", "sign_in", "token", "authenticate", "new"].contains(&last),
            "{path} is no login path"
        );
    }
}

#[tokio::test]
async fn a_login_found_by_its_405_leaves_the_other_candidates_unasked() {
    // simplejwt's TokenObtainPairView answers GET 405; the rest of the site is Koa-like.
    let api = |req: &RecordedRequest| match (req.method.as_str(), path_of(req).as_str()) {
        ("GET", "/api/token/") => ScriptedAnswer::json(405, json!({"detail": "Method \"GET\" not allowed."})),
        ("POST", "/api/token/") => match account_in(&json_body(req)) {
            Some(user) => ScriptedAnswer::json(200, json!({"access": token_of(user), "refresh": token_of("r")})),
            None => ScriptedAnswer::json(
                401,
                json!({"detail": "No active account found with the given credentials"}),
            ),
        },
        _ => koa_not_found(),
    };
    let cx = ScanContext::for_fixture(Arc::new(api), "", USERS).await;
    assert_eq!(logged_in(&cx), ["alice", "bob"]);
    assert_eq!(posted_paths(&cx), ["/api/token/"]);
}

// Class 5 and class 10's admin login: a refused login does not end the search.

/// A Django site with django-oauth-toolkit (`/o/token/`, which wants a `client_id`) and
/// the admin (which logs staff in only).
fn django_oauth() -> impl Fn(&RecordedRequest) -> ScriptedAnswer + Send + Sync {
    move |req: &RecordedRequest| {
        let html = |status: u16, body: &str| {
            ScriptedAnswer::new(status)
                .header("Content-Type", "text/html; charset=utf-8")
                .body(body)
        };
        let admin_form = "<!DOCTYPE html><html><head><title>Log in | Django site admin</title></head><body>\
            <h1 id=\"site-name\"><a href=\"/admin/\">Django administration</a></h1>\
            <form action=\"/admin/login/\" method=\"post\" id=\"login-form\">\
            <input type=\"hidden\" name=\"csrfmiddlewaretoken\" value=\"Zq3cS1rfT0kEn4dm1nF0rmXyZ\">\
            <input type=\"text\" name=\"username\" autofocus autocapitalize=\"none\" autocomplete=\"username\" maxlength=\"150\" required id=\"id_username\">\
            <input type=\"password\" name=\"password\" autocomplete=\"current-password\" required id=\"id_password\">\
            <input type=\"hidden\" name=\"next\" value=\"/admin/\"><input type=\"submit\" value=\"Log in\"></form></body></html>";
        match (req.method.as_str(), path_of(req).as_str()) {
            ("GET", "/o/token/") => ScriptedAnswer::json(405, json!({"detail": "Method \"GET\" not allowed."})),
            ("POST", "/o/token/") => ScriptedAnswer::json(401, json!({"error": "invalid_client"}))
                .header("WWW-Authenticate", "Bearer error=\"invalid_client\""),
            ("GET", "/admin/login/") => html(200, admin_form)
                .header("Set-Cookie", "csrftoken=Zq3cS1rfT0kEn4dm1nF0rmXyZ; Path=/; SameSite=Lax"),
            // Not staff: the form again, with Django's error.
            ("POST", "/admin/login/") => html(
                200,
                &admin_form.replace(
                    "<form",
                    "<p class=\"errornote\">Please enter the correct username and password for a staff account.</p><form",
                ),
            ),
            ("GET", "/api/auth/me") => match bearer_user(req) {
                Some(user) => ScriptedAnswer::json(200, json!({"username": user})),
                None => ScriptedAnswer::json(401, json!({"detail": "Authentication credentials were not provided."})),
            },
            _ => html(404, "<h1>Not Found</h1><p>The requested resource was not found on this server.</p>"),
        }
    }
}

#[tokio::test]
async fn every_refused_login_is_named_and_the_admin_is_tried_last() {
    let cx = ScanContext::for_fixture(Arc::new(django_oauth()), "", &USERS[..1]).await;
    assert!(logged_in(&cx).is_empty());
    let error = &cx.login_failures[0].error;
    let oauth = error.find("/o/token/").expect("the OAuth 2 endpoint's refusal");
    let admin = error.find("/admin/login/").expect("the admin login's refusal");
    assert!(oauth < admin, "the admin login is tried last: {error}");
    assert!(error.contains("invalid_client"), "{error}");
    assert!(error.contains("staff"), "{error}");
}

#[tokio::test]
async fn an_admin_refusal_is_no_failure_when_the_apis_login_succeeds() {
    // The same site with simplejwt's login beside the admin.
    let site = django_oauth();
    let api = move |req: &RecordedRequest| match (req.method.as_str(), path_of(req).as_str()) {
        ("GET", "/api/token/") => ScriptedAnswer::json(405, json!({"detail": "Method \"GET\" not allowed."})),
        ("POST", "/api/token/") => match account_in(&json_body(req)) {
            Some(user) => ScriptedAnswer::json(200, json!({"access": token_of(user), "refresh": token_of("r")})),
            None => ScriptedAnswer::json(
                401,
                json!({"detail": "No active account found with the given credentials"}),
            ),
        },
        _ => site(req),
    };
    let cx = ScanContext::for_fixture(Arc::new(api), "", USERS).await;
    assert_eq!(logged_in(&cx), ["alice", "bob"]);
    assert!(cx.login_failures.is_empty(), "{:?}", cx.login_failures);
    assert_eq!(posts_to(&cx, "/admin/login/"), 0, "the admin login is no fallback");
}

#[tokio::test]
async fn a_router_that_answers_405_is_sent_no_probe_post() {
    // Django answers GET on a POST-only route 405 (`/o/token/`): its 404s are missing
    // routes, so no POST can reveal a login there, even with every login refusing.
    let cx = ScanContext::for_fixture(Arc::new(django_oauth()), "", USERS).await;
    assert!(logged_in(&cx).is_empty());
    assert_eq!(posted_paths(&cx), ["/admin/login/", "/o/token/"]);
}

// Class 9: redirects.

/// A Rails app with Devise for a `Member` model: the root needs a signed-in member and
/// answers 302 to `/members/sign_in`, a form with Rails' `authenticity_token`.
fn rails(req: &RecordedRequest) -> ScriptedAnswer {
    let html = |status: u16, body: &str| {
        ScriptedAnswer::new(status)
            .header("Content-Type", "text/html; charset=utf-8")
            .body(body)
    };
    let form = "<!DOCTYPE html><html><head><title>Shop</title><meta name=\"csrf-token\" content=\"R4ilsT0k3n\"></head><body>\
        <h2>Log in</h2><form class=\"new_member\" id=\"new_member\" action=\"/members/sign_in\" accept-charset=\"UTF-8\" method=\"post\">\
        <input type=\"hidden\" name=\"authenticity_token\" value=\"R4ilsT0k3n\" autocomplete=\"off\">\
        <input autofocus=\"autofocus\" autocomplete=\"email\" type=\"email\" value=\"\" name=\"member[email]\" id=\"member_email\">\
        <input autocomplete=\"current-password\" type=\"password\" name=\"member[password]\" id=\"member_password\">\
        <input name=\"member[remember_me]\" type=\"hidden\" value=\"0\"><input type=\"checkbox\" value=\"1\" name=\"member[remember_me]\">\
        <input type=\"submit\" name=\"commit\" value=\"Log in\"></form><a href=\"/members/password/new\">Forgot your password?</a></body></html>";
    let redirect = |to: &str| {
        html(
            302,
            &format!("<html><body>You are being <a href=\"{to}\">redirected</a>.</body></html>"),
        )
        .header("Location", to)
    };
    match (req.method.as_str(), path_of(req).as_str()) {
        ("GET", "/") => redirect("http://127.0.0.1:9/members/sign_in"),
        ("GET", "/members/sign_in") => html(200, form).header("Set-Cookie", "_shop_session=anon0001; path=/; httponly; samesite=lax"),
        ("POST", "/members/sign_in") => {
            let user = USERS.iter().find(|(u, p)| {
                form_field(req, "member[email]").as_deref() == Some(u)
                    && form_field(req, "member[password]").as_deref() == Some(p)
                    && form_field(req, "authenticity_token").as_deref() == Some("R4ilsT0k3n")
            });
            match user {
                Some((u, _)) => redirect("http://127.0.0.1:9/")
                    .header("Set-Cookie", &format!("_shop_session=signed-in-{u}-0a1b2c3d4e; path=/; httponly; samesite=lax")),
                None => html(422, &form.replace("<form", "<p class=\"alert\">Invalid Email or password.</p><form")),
            }
        }
        _ => html(404, "<!DOCTYPE html><html><head><title>The page you were looking for doesn't exist (404)</title></head><body><h1>The page you were looking for doesn't exist.</h1></body></html>"),
    }
}

#[tokio::test]
async fn the_login_form_the_root_redirects_to_is_found_and_used() {
    let cx = ScanContext::for_fixture(Arc::new(rails), "", USERS).await;
    assert_eq!(
        logins(&cx),
        [("/members/sign_in".to_string(), "form", FlowSource::Link)]
    );
    assert_eq!(logged_in(&cx), ["alice", "bob"]);
    let page = cx
        .inventory
        .endpoints
        .iter()
        .find(|e| e.path() == "/members/sign_in")
        .expect("the sign-in page");
    assert_eq!(page.found_by, authprobe_core::discovery::FoundBy::Redirect);
}

/// A spec whose usual URL answers 302 to where it is kept (a path no guess has).
fn redirected_spec(req: &RecordedRequest) -> ScriptedAnswer {
    let spec = json!({
        "openapi": "3.0.3",
        "info": {"title": "Shop", "version": "3"},
        "paths": {
            "/v3/sessions": {"post": {
                "operationId": "createSession",
                "requestBody": {"content": {"application/json": {"schema": {
                    "properties": {"username": {"type": "string"}, "password": {"type": "string"}}
                }}}}
            }}
        }
    });
    match (req.method.as_str(), path_of(req).as_str()) {
        ("GET", "/openapi.json") => ScriptedAnswer::new(302).header("Location", "/static/spec/v3?ref=root"),
        ("GET", "/static/spec/v3") => ScriptedAnswer::json(200, spec),
        // Logging out on GET: never followed.
        ("GET", "/") => ScriptedAnswer::new(302).header("Location", "/session/logout"),
        ("GET", "/docs") => ScriptedAnswer::new(301).header("Location", "https://docs.example.com/shop"),
        _ => koa_not_found(),
    }
}

#[tokio::test]
async fn a_spec_reached_by_redirect_is_read_and_logouts_and_other_origins_are_not_followed() {
    let cx = ScanContext::for_fixture(Arc::new(redirected_spec), "", &[]).await;
    let spec = cx.spec.as_ref().expect("the spec behind the redirect");
    assert!(spec.source.ends_with("/static/spec/v3"), "{}", spec.source);
    assert_eq!(logins(&cx), [("/v3/sessions".to_string(), "custom", FlowSource::Spec)]);
    let asked: Vec<String> = cx.probe.exchanges().iter().map(|x| x.request.url.clone()).collect();
    assert!(!asked.iter().any(|u| u.contains("logout")), "{asked:?}");
    assert!(!asked.iter().any(|u| u.contains("docs.example.com")), "{asked:?}");
    assert!(cx.inventory.not_probed.iter().any(|n| n.path == "/session/logout"));
}
