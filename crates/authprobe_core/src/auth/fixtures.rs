//! Flows × fixtures: each row drives one flow role (login, refresh, logout, presentation)
//! against a scripted target shaped like a stack the scanner must handle, through the real
//! probe (method policy, cookie jars, exchange log) with the network replaced by the
//! [`Transport`] seam. A wrong assumption about a foreign stack fails here in milliseconds.

use std::sync::Arc;

use url::Url;

use super::*;
use crate::auth::identity::{Credential, Identity, Presentation};
use crate::cookies::CookieJar;
use crate::discovery::{Endpoint, EndpointKind, Inventory};
use crate::exchange::RecordedRequest;
use crate::probe::{Probe, ProbeRequest, ProbeSettings, ScriptedAnswer, Transport};
use crate::target::UserCredential;

/// A JWT-shaped token (`{"alg":"HS256","typ":"JWT"}.{"sub":"alice"}.signature`).
const JWT: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl";
const JWT2: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZTIifQ.c2lnbmF0dXJlMg";
const BASE: &str = "http://127.0.0.1:9/";

fn url(path: &str) -> Url {
    Url::parse(BASE).unwrap().join(path).unwrap()
}

fn alice() -> UserCredential {
    UserCredential {
        username: "alice".into(),
        password: "pw-1".into(),
    }
}

/// A probe whose every answer comes from `server`, POST allowed at `posts`.
fn probe(server: impl Fn(&RecordedRequest) -> ScriptedAnswer + Send + Sync + 'static, posts: &[&str]) -> Probe {
    let transport: Arc<dyn Transport> = Arc::new(server);
    let probe = Probe::new(ProbeSettings::default()).unwrap().with_transport(transport);
    for p in posts {
        probe.allow_post(&url(p));
    }
    probe
}

fn header<'a>(req: &'a RecordedRequest, name: &str) -> Option<&'a str> {
    req.headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn body(req: &RecordedRequest) -> &str {
    req.body.as_deref().unwrap_or("")
}

fn path(req: &RecordedRequest) -> String {
    Url::parse(&req.url).unwrap().path().to_string()
}

/// What a row expects of a login.
#[derive(Debug, PartialEq)]
enum Logged {
    /// A token, presented this way, with its refresh token held in this cookie (if any).
    Token(String, Presentation, Option<String>),
    Session,
    Refused,
}

fn logged(result: Result<Identity, crate::auth::identity::LoginError>) -> Logged {
    match result {
        Ok(Identity {
            credential: Credential::Token { value, presentation },
            refresh_cookie,
            ..
        }) => Logged::Token(value, presentation, refresh_cookie),
        Ok(Identity {
            credential: Credential::Session(_),
            ..
        }) => Logged::Session,
        Err(_) => Logged::Refused,
    }
}

/// A hand-written JSON login with its own field names (`login`/`pass`) and an envelope;
/// it names its fields when sent `{}`.
fn envelope_login(req: &RecordedRequest) -> ScriptedAnswer {
    match body(req) {
        "{}" => ScriptedAnswer::json(
            400,
            serde_json::json!({"errors": {"login": ["required"], "pass": ["required"]}}),
        ),
        b if b.contains("\"login\":\"alice\"") && b.contains("\"pass\":\"pw-1\"") => ScriptedAnswer::json(
            200,
            serde_json::json!({"status": "ok", "data": {"auth_token": "0123456789abcdef0123456789abcdef"}}),
        ),
        _ => ScriptedAnswer::json(401, serde_json::json!({"error": "bad credentials"})),
    }
}

/// FastAPI's `OAuth2PasswordRequestForm`: a form in, `{access_token, token_type}` out; a
/// JSON body is refused with 422.
fn oauth2_form_login(req: &RecordedRequest) -> ScriptedAnswer {
    let b = body(req);
    if header(req, "content-type").is_some_and(|c| c.contains("json")) {
        return ScriptedAnswer::json(
            422,
            serde_json::json!({"detail": [{"loc": ["body", "username"], "msg": "Field required"}]}),
        );
    }
    if b.contains("grant_type=password") && b.contains("username=alice") && b.contains("password=pw-1") {
        ScriptedAnswer::json(200, serde_json::json!({"access_token": JWT, "token_type": "bearer"}))
    } else {
        ScriptedAnswer::json(401, serde_json::json!({"detail": "Incorrect username or password"}))
    }
}

/// Flask-JWT-Extended with `JWT_TOKEN_LOCATION = ["cookies"]`: the tokens arrive as cookies.
fn cookie_jwt_login(req: &RecordedRequest) -> ScriptedAnswer {
    if body(req).contains("\"password\":\"pw-1\"") {
        ScriptedAnswer::json(200, serde_json::json!({"msg": "login successful"}))
            .header("Set-Cookie", &format!("access_token_cookie={JWT}; HttpOnly; Path=/"))
            .header(
                "Set-Cookie",
                &format!("refresh_token_cookie={JWT2}; HttpOnly; Path=/api/token/refresh"),
            )
    } else {
        ScriptedAnswer::json(401, serde_json::json!({"msg": "Bad username or password"}))
    }
}

/// express-session with `saveUninitialized: true`: the form page hands out `connect.sid`,
/// a good login redirects away and sets no new cookie, a bad one redirects to the form.
fn express_form(req: &RecordedRequest) -> ScriptedAnswer {
    if req.method == "GET" {
        return ScriptedAnswer::new(200)
            .header("Content-Type", "text/html; charset=utf-8")
            .header("Set-Cookie", "connect.sid=s%3Apre-login-id; Path=/; HttpOnly")
            .body(r#"<form method="post" action="/session/login"><input name="user"><input name="pw" type="password"></form>"#);
    }
    let cookie_sent = header(req, "cookie").is_some_and(|c| c.contains("connect.sid="));
    if cookie_sent && body(req).contains("user=alice") && body(req).contains("pw=pw-1") {
        ScriptedAnswer::new(303).header("Location", "/session/me")
    } else {
        ScriptedAnswer::new(302).header("Location", "/session/login")
    }
}

#[tokio::test]
async fn logins_of_every_stack_shape() {
    type Server = fn(&RecordedRequest) -> ScriptedAnswer;
    let rows: Vec<(&str, &'static str, &str, LoginSpec, Server, Logged)> = vec![
        (
            "json login, own field names, envelope",
            family::JSON_LOGIN,
            "/api/v1/auth/signin",
            LoginSpec::json_preset("/api/v1/auth/signin"),
            envelope_login,
            Logged::Token("0123456789abcdef0123456789abcdef".into(), Presentation::bearer(), None),
        ),
        (
            "oauth2 password grant (form in, JSON out)",
            family::OAUTH2,
            "/token",
            LoginSpec::oauth2_preset("/token"),
            oauth2_form_login,
            Logged::Token(JWT.into(), Presentation::Scheme("Bearer".into()), None),
        ),
        (
            "json refused with 422, retried as a password grant",
            family::JSON_LOGIN,
            "/token",
            LoginSpec::json_preset("/token"),
            oauth2_form_login,
            Logged::Token(JWT.into(), Presentation::Scheme("Bearer".into()), None),
        ),
        (
            "JWTs in HttpOnly cookies",
            family::JSON_LOGIN,
            "/api/login",
            LoginSpec::json_preset("/api/login"),
            cookie_jwt_login,
            Logged::Token(
                JWT.into(),
                Presentation::Cookie("access_token_cookie".into()),
                Some("refresh_token_cookie".into()),
            ),
        ),
        (
            "HTML form of another stack, session kept across login",
            family::FORM,
            "/session/login",
            LoginSpec::form_preset("/session/login"),
            express_form,
            Logged::Session,
        ),
    ];
    for (name, fam, at, spec, server, expected) in rows {
        let probe = probe(server, &[at]);
        let flow = Flow::new(fam, url(at), spec, FlowSource::Path);
        assert_eq!(logged(flow.log_in(&probe, &alice()).await), expected, "{name}");
    }
}

#[tokio::test]
async fn a_form_login_redirected_back_to_its_form_failed() {
    let probe = probe(express_form, &["/session/login"]);
    let flow = Flow::new(
        family::FORM,
        url("/session/login"),
        LoginSpec::form_preset("/session/login"),
        FlowSource::Path,
    );
    let wrong = UserCredential {
        username: "alice".into(),
        password: "wrong".into(),
    };
    assert_eq!(logged(flow.log_in(&probe, &wrong).await), Logged::Refused);
}

/// A refresh endpoint that mints `JWT2` when it gets `JWT` the way `wants` says.
fn refresh_server(req: &RecordedRequest) -> ScriptedAnswer {
    let b = body(req);
    let cookie = header(req, "cookie").unwrap_or("");
    match path(req).as_str() {
        "/api/token/refresh/" if b == format!("{{\"refresh\":\"{JWT}\"}}") => {
            ScriptedAnswer::json(200, serde_json::json!({"access": JWT2}))
        }
        "/api/token/refresh" if cookie.contains(&format!("refresh_token_cookie={JWT}")) => {
            ScriptedAnswer::json(200, serde_json::json!({"msg": "ok"}))
                .header("Set-Cookie", &format!("access_token_cookie={JWT2}; HttpOnly; Path=/"))
        }
        "/o/token/"
            if b.contains("grant_type=refresh_token")
                && b.contains(&format!("refresh_token={JWT}"))
                && b.contains("client_id=spa") =>
        {
            ScriptedAnswer::json(
                200,
                serde_json::json!({"access_token": JWT2, "refresh_token": "rotated"}),
            )
        }
        _ => ScriptedAnswer::json(401, serde_json::json!({"detail": "invalid"})),
    }
}

#[tokio::test]
async fn refreshes_in_a_body_field_a_cookie_and_an_oauth2_grant() {
    let mut client = LoginSpec::oauth2_preset("/o/token/");
    client.client_id = Some("spa".into());
    // (row, endpoint, spec, cookie the refresh token is held in, rotated refresh expected)
    type Row = (
        &'static str,
        &'static str,
        RefreshSpec,
        Option<&'static str>,
        Option<&'static str>,
    );
    let rows: Vec<Row> = vec![
        (
            "simplejwt body field",
            "/api/token/refresh/",
            RefreshSpec::preset("/api/token/refresh/"),
            None,
            None,
        ),
        (
            "cookie-held refresh token",
            "/api/token/refresh",
            RefreshSpec::preset("/api/token/refresh"),
            Some("refresh_token_cookie"),
            None,
        ),
        (
            "oauth2 refresh grant with the client id",
            "/o/token/",
            RefreshSpec::oauth2_preset("/o/token/", &client),
            None,
            Some("rotated"),
        ),
    ];
    for (name, at, spec, cookie, rotated) in rows {
        let probe = probe(refresh_server, &[at]);
        let flow = Flow::new(family::OAUTH2, url(at), spec, FlowSource::Path);
        let out = flow.refresh_held(&probe, JWT, cookie).await.unwrap();
        assert_eq!(
            out.access.as_deref(),
            Some(JWT2),
            "{name}: HTTP {}",
            out.response.status
        );
        assert_eq!(out.refresh.as_deref(), rotated, "{name}");
    }
}

#[tokio::test]
async fn a_logout_carries_the_credential_and_the_refresh_token() {
    let server = |req: &RecordedRequest| {
        let authorized = header(req, "authorization") == Some(&format!("JWT {JWT}"));
        if authorized && body(req) == format!("{{\"refresh\":\"{JWT2}\"}}") {
            ScriptedAnswer::new(205)
        } else {
            ScriptedAnswer::json(400, serde_json::json!({"detail": "refresh required"}))
        }
    };
    let probe = probe(server, &["/auth/logout/"]);
    let flow = Flow::new(
        family::JSON_LOGIN,
        url("/auth/logout/"),
        LogoutSpec::preset("/auth/logout/", Some("refresh")),
        FlowSource::Path,
    );
    let mut identity = Identity::from_token("alice", JWT, Presentation::Scheme("JWT".into()));
    identity.refresh_jwt = Some(JWT2.into());
    assert_eq!(flow.log_out(&probe, &identity).await.unwrap().status, 205);
}

/// An API that takes `Authorization: JWT …` only, and says so in its challenge.
fn jwt_scheme_api(req: &RecordedRequest) -> ScriptedAnswer {
    if header(req, "authorization") == Some(&format!("JWT {JWT}")) {
        ScriptedAnswer::json(200, serde_json::json!({"username": "alice"}))
    } else {
        ScriptedAnswer::json(
            401,
            serde_json::json!({"detail": "Authentication credentials were not provided."}),
        )
        .header("WWW-Authenticate", "JWT realm=\"api\"")
    }
}

/// An API that takes its key in `X-Session-Token`, which its 401 body names.
fn header_key_api(req: &RecordedRequest) -> ScriptedAnswer {
    if header(req, "x-session-token") == Some(JWT) {
        ScriptedAnswer::json(200, serde_json::json!({"username": "alice"}))
    } else {
        ScriptedAnswer::json(401, serde_json::json!({"error": "missing X-Session-Token header"}))
    }
}

#[tokio::test]
async fn the_presentation_is_learned_from_the_challenge_and_the_401_body() {
    type Server = fn(&RecordedRequest) -> ScriptedAnswer;
    let rows: Vec<(&str, Server, Presentation)> = vec![
        (
            "WWW-Authenticate: JWT",
            jwt_scheme_api,
            Presentation::Scheme("JWT".into()),
        ),
        (
            "a header the 401 names",
            header_key_api,
            Presentation::Header("X-Session-Token".into()),
        ),
    ];
    for (name, server, expected) in rows {
        let probe = probe(server, &[]);
        let me = url("/api/me/");
        let anonymous = probe.send(ProbeRequest::get(me.clone())).await.unwrap();
        let inventory = Inventory {
            endpoints: vec![Endpoint {
                url: me.clone(),
                kind: EndpointKind::IdentityCandidate,
                anonymous: Ok(anonymous),
                authenticated: None,
                declared: false,
                found_by: crate::discovery::FoundBy::Guess,
            }],
            ..Default::default()
        };
        let mut identity = Identity::from_token("alice", JWT, Presentation::bearer());
        let settled = present::settle(&probe, &inventory, &[me], &mut identity).await;
        assert_eq!(settled, Some(true), "{name}");
        assert_eq!(identity.presentation(), Some(&expected), "{name}");
    }
}

#[tokio::test]
async fn a_cross_site_attempt_sends_no_token_and_a_foreign_origin() {
    let seen: Arc<std::sync::Mutex<Vec<RecordedRequest>>> = Arc::default();
    let log = seen.clone();
    let server = move |req: &RecordedRequest| {
        log.lock().unwrap().push(req.clone());
        express_form(req)
    };
    let probe = probe(server, &["/session/login"]);
    let flow = Flow::new(
        family::FORM,
        url("/session/login"),
        LoginSpec::form_preset("/session/login"),
        FlowSource::Path,
    );
    let options = AttemptOptions::new().with_jar(Arc::new(CookieJar::new())).cross_site();
    flow.attempt_with(&probe, "alice", "pw-1", options).await.unwrap();
    let seen = seen.lock().unwrap();
    let post = seen.iter().find(|r| r.method == "POST").expect("the login was posted");
    assert_eq!(header(post, "origin"), Some("https://evil.authprobe.invalid"));
    assert_eq!(header(post, "referer"), None);
    assert!(
        body(post).contains("user=alice"),
        "the page's field names: {}",
        body(post)
    );
}
