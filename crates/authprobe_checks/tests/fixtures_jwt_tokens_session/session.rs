//! SESS001–SESS008 × fixtures, on the stacks where each lifecycle bug is found: an
//! Express/Passport form login with express-session (`connect.sid`), an Express JWT API
//! with opaque refresh tokens (`accessToken`/`refreshToken`, configured flows), an OAuth 2
//! server's `/oauth/token` (password and refresh_token grants), Laravel token logins, an
//! Express API that hands its session id to mobile clients, and a Spring Boot API with a
//! token-to-session bridge (`JSESSIONID`).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use authprobe_core::exchange::RecordedRequest;
use authprobe_core::probe::ScriptedAnswer;
use authprobe_jwt::forge::{self, HmacAlg};
use authprobe_jwt::Jwt;
use serde_json::{json, Value};

use super::support::{
    bearer, cookie, express_not_found, express_options_post, fields, html, now, path, query, random_string, Accounts,
    Fixture, Row, ALNUM, HEX, USERS,
};

fn account(name: &str) -> Option<&'static str> {
    USERS.iter().map(|(u, _)| *u).find(|u| *u == name)
}

// --- Express + Passport local + express-session --------------------------------------------

/// express-session's state per `connect.sid`: the user once logged in, the csurf secret.
#[derive(Clone, Default)]
struct Session {
    user: Option<&'static str>,
    csrf: String,
}

#[derive(Default)]
struct ExpressSessionApp {
    /// Passport < 0.6: `req.login` keeps the session id (no `req.session.regenerate`).
    keeps_session_id: bool,
    /// A middleware for e-mailed deep links takes the session id from `?sid=`.
    sid_from_query: bool,
    /// csurf on the login form and the logout.
    csurf: bool,
    /// `cookie: { maxAge }` in days: express-session then sends `Expires` (no `Max-Age`).
    max_age_days: Option<i64>,
    /// A hand-written logout: `res.clearCookie("connect.sid")` without
    /// `req.session.destroy()`, so the session lives on in the store.
    logout_only_clears_cookie: bool,
    accounts: Accounts,
    sessions: Mutex<HashMap<String, Session>>,
}

impl ExpressSessionApp {
    fn fixture(self) -> Fixture {
        let app = Arc::new(self);
        Fixture::new(move |req: &RecordedRequest| app.answer(req))
    }

    fn set_cookie(&self, sid: &str) -> String {
        match self.max_age_days {
            Some(days) => {
                let at = time::OffsetDateTime::now_utc() + time::Duration::days(days);
                let expires = format!(
                    "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
                    &at.weekday().to_string()[..3],
                    at.day(),
                    &at.month().to_string()[..3],
                    at.year(),
                    at.hour(),
                    at.minute(),
                    at.second()
                );
                format!("connect.sid={sid}; Path=/; Expires={expires}; HttpOnly")
            }
            None => format!("connect.sid={sid}; Path=/; HttpOnly"),
        }
    }

    fn new_session(&self, user: Option<&'static str>) -> String {
        let sid = format!("s%3A{}.{}", random_string(32, ALNUM), random_string(43, ALNUM));
        let session = Session {
            user,
            csrf: random_string(36, ALNUM),
        };
        self.sessions.lock().unwrap().insert(sid.clone(), session);
        sid
    }

    /// The request's live session (its cookie, or `?sid=` where the deep-link middleware runs).
    fn session(&self, req: &RecordedRequest) -> Option<(String, Session)> {
        let sid = cookie(req, "connect.sid").or_else(|| query(req, "sid").filter(|_| self.sid_from_query))?;
        let session = self.sessions.lock().unwrap().get(&sid).cloned()?;
        Some((sid, session))
    }

    fn forbidden_csrf() -> ScriptedAnswer {
        html(403, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Error</title>\n</head>\n<body>\n<pre>ForbiddenError: invalid csrf token</pre>\n</body>\n</html>\n")
    }

    fn answer(&self, req: &RecordedRequest) -> ScriptedAnswer {
        let p = path(req);
        match (req.method.as_str(), p.as_str()) {
            ("GET", "/login") => {
                // saveUninitialized: every visitor without a live session gets one.
                let (sid, session, new) = match self.session(req) {
                    Some((sid, s)) => (sid, s, false),
                    None => {
                        let sid = self.new_session(None);
                        let s = self.sessions.lock().unwrap()[&sid].clone();
                        (sid, s, true)
                    }
                };
                let csrf = if self.csurf {
                    format!("<input type=\"hidden\" name=\"_csrf\" value=\"{}\">", session.csrf)
                } else {
                    String::new()
                };
                let page = html(
                    200,
                    &format!(
                        "<!DOCTYPE html><html><head><title>Sign in</title></head><body><h1>Sign in</h1>\
                         <form action=\"/login\" method=\"post\">{csrf}\
                         <label>Username <input type=\"text\" name=\"username\" autocomplete=\"username\" required></label>\
                         <label>Password <input type=\"password\" name=\"password\" autocomplete=\"current-password\" required></label>\
                         <button type=\"submit\">Sign in</button></form></body></html>"
                    ),
                );
                if new {
                    page.header("Set-Cookie", &self.set_cookie(&sid))
                } else {
                    page
                }
            }
            ("POST", "/login") => self.login(req),
            ("OPTIONS", "/logout") => express_options_post(),
            ("POST", "/logout") => {
                let live = self.session(req);
                if self.csurf {
                    let token = fields(req).get("_csrf").cloned().unwrap_or_default();
                    if live.as_ref().is_none_or(|(_, s)| s.csrf != token) {
                        return ExpressSessionApp::forbidden_csrf();
                    }
                }
                let redirect = ScriptedAnswer::new(302).header("Location", "/login");
                if self.logout_only_clears_cookie {
                    return redirect.header(
                        "Set-Cookie",
                        "connect.sid=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
                    );
                }
                if let Some((sid, _)) = live {
                    self.sessions.lock().unwrap().remove(&sid);
                }
                redirect
            }
            ("GET", "/dashboard") => match self.session(req).and_then(|(_, s)| s.user) {
                Some(user) => html(
                    200,
                    &format!("<!DOCTYPE html><html><body><h1>Welcome, {user}</h1></body></html>"),
                ),
                None => ScriptedAnswer::new(302).header("Location", "/login"),
            },
            ("GET", "/api/me") => match self.session(req).and_then(|(_, s)| s.user) {
                Some(user) => ScriptedAnswer::json(200, json!({"user": {"id": Accounts::id(user), "username": user}})),
                None => ScriptedAnswer::json(401, json!({"message": "Unauthorized"})),
            },
            _ => express_not_found(req),
        }
    }

    fn login(&self, req: &RecordedRequest) -> ScriptedAnswer {
        let f = fields(req);
        let live = self.session(req);
        if self.csurf && live.as_ref().is_none_or(|(_, s)| Some(&s.csrf) != f.get("_csrf")) {
            return ExpressSessionApp::forbidden_csrf();
        }
        let user = match (f.get("username"), f.get("password")) {
            (Some(u), Some(p)) if self.accounts.check(u, p) => account(u),
            _ => None,
        };
        let Some(user) = user else {
            // passport.authenticate("local", { failureRedirect: "/login" })
            return ScriptedAnswer::new(302).header("Location", "/login");
        };
        let redirect = ScriptedAnswer::new(302).header("Location", "/dashboard");
        match live {
            Some((sid, _)) if self.keeps_session_id => {
                if let Some(s) = self.sessions.lock().unwrap().get_mut(&sid) {
                    s.user = Some(user);
                }
                redirect
            }
            live => {
                // req.session.regenerate(): the old id is dropped, a new one issued.
                if let Some((sid, _)) = live {
                    self.sessions.lock().unwrap().remove(&sid);
                }
                let sid = self.new_session(Some(user));
                redirect.header("Set-Cookie", &self.set_cookie(&sid))
            }
        }
    }
}

// --- Express JWT access tokens + opaque refresh tokens ----------------------------------------

/// The Express API's flows, as its README tells a scanner (camelCase fields).
const EXPRESS_REFRESH_FLOWS: &str = r#"
[login]
path = "/api/auth/login"
[refresh]
path = "/api/auth/refresh"
field = "refreshToken"
access = "$.accessToken"
refresh = "$.refreshToken"
[logout]
path = "/api/auth/logout"
refresh_field = "refreshToken"
[password_change]
path = "/api/auth/change-password"
old_field = "currentPassword"
new_fields = ["newPassword"]
[identity]
path = "/api/auth/me"
"#;

#[derive(Default)]
struct ExpressRefreshApi {
    /// Logout deletes the refresh token (else it only tells the client to forget it).
    logout_revokes: bool,
    /// A password change deletes the refresh tokens and bumps the account's `tokenVersion`.
    password_change_revokes: bool,
    key: String,
    accounts: Accounts,
    /// Refresh token → account.
    refresh: Mutex<HashMap<String, &'static str>>,
    versions: Mutex<HashMap<&'static str, u64>>,
}

impl ExpressRefreshApi {
    fn fixture(self) -> Fixture {
        let app = Arc::new(ExpressRefreshApi {
            key: random_string(48, ALNUM),
            ..self
        });
        Fixture::new(move |req: &RecordedRequest| app.answer(req)).flows(EXPRESS_REFRESH_FLOWS)
    }

    fn version(&self, user: &str) -> u64 {
        self.versions.lock().unwrap().get(user).copied().unwrap_or(0)
    }

    fn access_token(&self, user: &'static str) -> String {
        let iat = now();
        let claims = json!({"sub": user, "tokenVersion": self.version(user), "iat": iat, "exp": iat + 900});
        let header = json!({"alg": "HS256", "typ": "JWT"});
        forge::sign_hmac(
            HmacAlg::Hs256,
            header.as_object().expect("an object"),
            claims.as_object().expect("an object"),
            self.key.as_bytes(),
        )
    }

    fn error(status: u16, message: &str) -> ScriptedAnswer {
        ScriptedAnswer::json(status, json!({"error": {"message": message}}))
    }

    /// The account of a valid Bearer access token.
    fn user(&self, req: &RecordedRequest) -> Result<&'static str, ScriptedAnswer> {
        let token = bearer(req).ok_or_else(|| ExpressRefreshApi::error(401, "No authorization token was found"))?;
        let invalid = || ExpressRefreshApi::error(401, "invalid token");
        let jwt = Jwt::parse(&token).map_err(|_| invalid())?;
        let input = format!("{}.{}", jwt.raw_header, jwt.raw_claims);
        let expected = forge::with_signature(
            &jwt.header,
            &jwt.claims,
            &forge::hmac_bytes(HmacAlg::Hs256, self.key.as_bytes(), input.as_bytes()),
        );
        if jwt.alg() != Some("HS256") || format!("{input}.{}", jwt.raw_signature) != expected {
            return Err(invalid());
        }
        if jwt.numeric_claim("exp").is_none_or(|exp| exp <= now()) {
            return Err(ExpressRefreshApi::error(401, "jwt expired"));
        }
        let user = jwt.string_claim("sub").and_then(|s| account(&s)).ok_or_else(invalid)?;
        if jwt.numeric_claim("tokenVersion") != Some(self.version(user) as i64) {
            return Err(invalid());
        }
        Ok(user)
    }

    fn answer(&self, req: &RecordedRequest) -> ScriptedAnswer {
        let p = path(req);
        let f = fields(req);
        match (req.method.as_str(), p.as_str()) {
            ("OPTIONS", "/api/auth/login" | "/api/auth/refresh" | "/api/auth/logout" | "/api/auth/change-password") => {
                express_options_post()
            }
            ("POST", "/api/auth/login") => {
                let user = match (f.get("username"), f.get("password")) {
                    (Some(u), Some(p)) if self.accounts.check(u, p) => account(u),
                    (Some(_), Some(_)) => None,
                    _ => return ExpressRefreshApi::error(400, "username and password are required"),
                };
                let Some(user) = user else {
                    return ExpressRefreshApi::error(401, "Invalid username or password");
                };
                let refresh = random_string(64, HEX);
                self.refresh.lock().unwrap().insert(refresh.clone(), user);
                ScriptedAnswer::json(
                    200,
                    json!({"accessToken": self.access_token(user), "refreshToken": refresh}),
                )
            }
            ("POST", "/api/auth/refresh") => {
                let owner = f
                    .get("refreshToken")
                    .and_then(|r| self.refresh.lock().unwrap().get(r).copied());
                match owner {
                    Some(user) => ScriptedAnswer::json(200, json!({"accessToken": self.access_token(user)})),
                    None => ExpressRefreshApi::error(401, "Invalid refresh token"),
                }
            }
            ("POST", "/api/auth/logout") => {
                if let Err(refused) = self.user(req) {
                    return refused;
                }
                if self.logout_revokes {
                    if let Some(r) = f.get("refreshToken") {
                        self.refresh.lock().unwrap().remove(r);
                    }
                }
                ScriptedAnswer::json(200, json!({"message": "Logged out"}))
            }
            ("POST", "/api/auth/change-password") => {
                let user = match self.user(req) {
                    Ok(user) => user,
                    Err(refused) => return refused,
                };
                let (Some(current), Some(new)) = (f.get("currentPassword"), f.get("newPassword")) else {
                    return ExpressRefreshApi::error(400, "currentPassword and newPassword are required");
                };
                if !self.accounts.check(user, current) {
                    return ExpressRefreshApi::error(400, "Current password is incorrect");
                }
                self.accounts.set(user, new);
                if self.password_change_revokes {
                    self.refresh.lock().unwrap().retain(|_, owner| *owner != user);
                    *self.versions.lock().unwrap().entry(user).or_default() += 1;
                }
                ScriptedAnswer::json(200, json!({"message": "Password updated"}))
            }
            ("GET", "/api/auth/me") => match self.user(req) {
                Ok(user) => ScriptedAnswer::json(200, json!({"user": {"id": Accounts::id(user), "username": user}})),
                Err(refused) => refused,
            },
            _ => express_not_found(req),
        }
    }
}

// --- An OAuth 2 server (node-oauth2-server on Express) ------------------------------------------

#[derive(Default)]
struct OAuthServer {
    /// `model.revokeToken` really deletes the rotated-out refresh token (a no-op otherwise).
    revokes_rotated: bool,
    accounts: Accounts,
    access: Mutex<HashMap<String, &'static str>>,
    refresh: Mutex<HashMap<String, &'static str>>,
}

impl OAuthServer {
    fn fixture(self) -> Fixture {
        let app = Arc::new(self);
        Fixture::new(move |req: &RecordedRequest| app.answer(req))
    }

    fn invalid_grant(what: &str) -> ScriptedAnswer {
        ScriptedAnswer::json(
            400,
            json!({"error": "invalid_grant", "error_description": format!("Invalid grant: {what}")}),
        )
    }

    fn issue(&self, user: &'static str) -> ScriptedAnswer {
        let access = random_string(40, HEX);
        let refresh = random_string(40, HEX);
        self.access.lock().unwrap().insert(access.clone(), user);
        self.refresh.lock().unwrap().insert(refresh.clone(), user);
        ScriptedAnswer::json(
            200,
            json!({"access_token": access, "token_type": "Bearer", "expires_in": 3599, "refresh_token": refresh, "scope": "profile"}),
        )
        .header("Cache-Control", "no-store")
    }

    fn answer(&self, req: &RecordedRequest) -> ScriptedAnswer {
        let p = path(req);
        match (req.method.as_str(), p.as_str()) {
            ("OPTIONS", "/oauth/token") => express_options_post(),
            ("POST", "/oauth/token") => {
                let f = fields(req);
                match f.get("grant_type").map(String::as_str) {
                    Some("password") => {
                        let user = match (f.get("username"), f.get("password")) {
                            (Some(u), Some(p)) if self.accounts.check(u, p) => account(u),
                            _ => None,
                        };
                        match user {
                            Some(user) => self.issue(user),
                            None => OAuthServer::invalid_grant("user credentials are invalid"),
                        }
                    }
                    Some("refresh_token") => {
                        let given = f.get("refresh_token").cloned().unwrap_or_default();
                        let owner = self.refresh.lock().unwrap().get(&given).copied();
                        let Some(user) = owner else {
                            return OAuthServer::invalid_grant("refresh token is invalid");
                        };
                        // alwaysIssueNewRefreshToken: the grant rotates, then revokes the old one.
                        if self.revokes_rotated {
                            self.refresh.lock().unwrap().remove(&given);
                        }
                        self.issue(user)
                    }
                    _ => ScriptedAnswer::json(
                        400,
                        json!({"error": "unsupported_grant_type", "error_description": "Unsupported grant type: `grant_type` is invalid"}),
                    ),
                }
            }
            ("GET", "/userinfo") => {
                let Some(token) = bearer(req) else {
                    return ScriptedAnswer::json(
                        401,
                        json!({"error": "unauthorized_request", "error_description": "Unauthorized request: no authentication given"}),
                    )
                    .header("WWW-Authenticate", "Bearer realm=\"Service\"");
                };
                match self.access.lock().unwrap().get(&token) {
                    Some(user) => ScriptedAnswer::json(200, json!({"sub": user, "preferred_username": user})),
                    None => ScriptedAnswer::json(
                        401,
                        json!({"error": "invalid_token", "error_description": "Invalid token: access token is invalid"}),
                    )
                    .header("WWW-Authenticate", "Bearer realm=\"Service\", error=\"invalid_token\""),
                }
            }
            _ => express_not_found(req),
        }
    }
}

// --- Laravel token logins ------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum LaravelTokens {
    /// The `api_token` column (the `token` guard): made once, returned on every login.
    ApiTokenColumn,
    /// A new `Str::random(60)` row in a tokens table on every login.
    PerLogin,
    /// Sanctum's `createToken()->plainTextToken`: `"<id>|<40 random>"`, new on every login.
    Sanctum,
}

struct LaravelApi {
    tokens: LaravelTokens,
    accounts: Accounts,
    issued: Mutex<HashMap<String, &'static str>>,
    columns: Mutex<HashMap<&'static str, String>>,
}

impl LaravelApi {
    fn fixture(tokens: LaravelTokens) -> Fixture {
        let app = Arc::new(LaravelApi {
            tokens,
            accounts: Accounts::default(),
            issued: Mutex::default(),
            columns: Mutex::default(),
        });
        Fixture::new(move |req: &RecordedRequest| app.answer(req))
    }

    fn answer(&self, req: &RecordedRequest) -> ScriptedAnswer {
        let p = path(req);
        match (req.method.as_str(), p.as_str()) {
            ("GET", "/api/login") => ScriptedAnswer::json(
                405,
                json!({"message": "The GET method is not supported for route api/login. Supported methods: POST."}),
            ),
            ("POST", "/api/login") => {
                let f = fields(req);
                let (Some(u), Some(pw)) = (f.get("username"), f.get("password")) else {
                    return ScriptedAnswer::json(
                        422,
                        json!({"message": "The username field is required. (and 1 more error)", "errors": {"username": ["The username field is required."], "password": ["The password field is required."]}}),
                    );
                };
                let Some(user) = account(u).filter(|_| self.accounts.check(u, pw)) else {
                    return ScriptedAnswer::json(
                        422,
                        json!({"message": "These credentials do not match our records.", "errors": {"username": ["These credentials do not match our records."]}}),
                    );
                };
                let token = match self.tokens {
                    LaravelTokens::ApiTokenColumn => self
                        .columns
                        .lock()
                        .unwrap()
                        .entry(user)
                        .or_insert_with(|| random_string(60, ALNUM))
                        .clone(),
                    LaravelTokens::PerLogin => random_string(60, ALNUM),
                    LaravelTokens::Sanctum => {
                        let id = self.issued.lock().unwrap().len() + 1;
                        format!("{id}|{}", random_string(40, ALNUM))
                    }
                };
                self.issued.lock().unwrap().insert(token.clone(), user);
                ScriptedAnswer::json(200, json!({"token": token}))
            }
            ("GET", "/api/user") => {
                let user = bearer(req).and_then(|t| self.issued.lock().unwrap().get(&t).copied());
                match user {
                    Some(user) => ScriptedAnswer::json(
                        200,
                        json!({"id": Accounts::id(user), "name": format!("{user} example"), "username": user, "email_verified_at": null}),
                    ),
                    None => ScriptedAnswer::json(401, json!({"message": "Unauthenticated."})),
                }
            }
            _ => ScriptedAnswer::json(404, json!({"message": "Not Found"})),
        }
    }
}

// --- Session ids handed to header-token clients -----------------------------------------------

/// An Express API whose login returns its own session id as `sessionToken` for mobile
/// clients and sets it as the `sid` cookie for the web app: the same value.
#[derive(Default)]
struct SessionTokenApi {
    accounts: Accounts,
    sessions: Mutex<HashMap<String, &'static str>>,
}

impl SessionTokenApi {
    fn fixture(self) -> Fixture {
        let app = Arc::new(self);
        Fixture::new(move |req: &RecordedRequest| app.answer(req))
    }

    fn answer(&self, req: &RecordedRequest) -> ScriptedAnswer {
        let p = path(req);
        match (req.method.as_str(), p.as_str()) {
            ("OPTIONS", "/api/login") => express_options_post(),
            ("POST", "/api/login") => {
                let f = fields(req);
                let user = match (f.get("username"), f.get("password")) {
                    (Some(u), Some(pw)) if self.accounts.check(u, pw) => account(u),
                    (Some(_), Some(_)) => None,
                    _ => {
                        return ScriptedAnswer::json(
                            400,
                            json!({"error": {"message": "username and password are required"}}),
                        )
                    }
                };
                let Some(user) = user else {
                    return ScriptedAnswer::json(401, json!({"error": {"message": "Invalid username or password"}}));
                };
                let sid = random_string(40, ALNUM);
                self.sessions.lock().unwrap().insert(sid.clone(), user);
                ScriptedAnswer::json(200, json!({"sessionToken": sid, "user": {"username": user}}))
                    .header("Set-Cookie", &format!("sid={sid}; Path=/; HttpOnly; SameSite=Lax"))
            }
            ("GET", "/api/me") => {
                let sid = bearer(req).or_else(|| cookie(req, "sid"));
                match sid.and_then(|s| self.sessions.lock().unwrap().get(&s).copied()) {
                    Some(user) => ScriptedAnswer::json(200, json!({"user": {"username": user}})),
                    None => ScriptedAnswer::json(401, json!({"error": {"message": "Not signed in"}})),
                }
            }
            _ => express_not_found(req),
        }
    }
}

/// A Spring Boot API (Bearer tokens from `/api/v1/auth/login`) with a token-to-session
/// bridge for its server-rendered pages: `POST /api/v1/auth/session` turns the Bearer token
/// into a `JSESSIONID`.
#[derive(Default)]
struct SpringBridgeApi {
    /// The bridge also returns the new session id in its body.
    echoes_session_id: bool,
    accounts: Accounts,
    tokens: Mutex<HashMap<String, &'static str>>,
    sessions: Mutex<HashMap<String, &'static str>>,
}

impl SpringBridgeApi {
    fn fixture(self) -> Fixture {
        let app = Arc::new(self);
        Fixture::new(move |req: &RecordedRequest| app.answer(req)).with_writes()
    }

    fn spring_error(status: u16, error: &str, p: &str) -> ScriptedAnswer {
        ScriptedAnswer::json(
            status,
            json!({"timestamp": "2026-12-07T18:00:00.000+00:00", "status": status, "error": error, "path": p}),
        )
    }

    fn answer(&self, req: &RecordedRequest) -> ScriptedAnswer {
        let p = path(req);
        // Spring Security runs before dispatch: a protected path refuses anonymous callers
        // whatever the method.
        let user = bearer(req)
            .and_then(|t| self.tokens.lock().unwrap().get(&t).copied())
            .or_else(|| cookie(req, "JSESSIONID").and_then(|s| self.sessions.lock().unwrap().get(&s).copied()));
        let protected: HashSet<&str> = ["/api/v1/users/me", "/api/v1/auth/session"].into();
        match (req.method.as_str(), p.as_str()) {
            ("GET", "/api/v1/auth/login") => SpringBridgeApi::spring_error(405, "Method Not Allowed", &p),
            ("POST", "/api/v1/auth/login") => {
                let f = fields(req);
                let (Some(u), Some(pw)) = (f.get("username"), f.get("password")) else {
                    return ScriptedAnswer::json(
                        400,
                        json!({"title": "Method argument not valid", "status": 400, "fieldErrors": [{"field": "username", "message": "must not be blank"}, {"field": "password", "message": "must not be blank"}]}),
                    );
                };
                let Some(user) = account(u).filter(|_| self.accounts.check(u, pw)) else {
                    return ScriptedAnswer::json(
                        401,
                        json!({"title": "Unauthorized", "status": 401, "detail": "Bad credentials"}),
                    );
                };
                let token = random_string(48, ALNUM);
                self.tokens.lock().unwrap().insert(token.clone(), user);
                ScriptedAnswer::json(200, json!({"accessToken": token, "tokenType": "Bearer"}))
            }
            (_, path) if protected.contains(path) && user.is_none() => {
                ScriptedAnswer::new(401).header("WWW-Authenticate", "Bearer")
            }
            ("GET", "/api/v1/users/me") => ScriptedAnswer::json(
                200,
                json!({"login": user, "authorities": ["ROLE_USER"], "_links": {"session": {"href": "/api/v1/auth/session"}}}),
            ),
            ("POST", "/api/v1/auth/session") => {
                let sid = random_string(32, HEX).to_ascii_uppercase();
                self.sessions
                    .lock()
                    .unwrap()
                    .insert(sid.clone(), user.expect("checked above"));
                let body: Value = if self.echoes_session_id {
                    json!({"authenticated": true, "sessionId": sid})
                } else {
                    json!({"authenticated": true})
                };
                ScriptedAnswer::json(200, body).header(
                    "Set-Cookie",
                    &format!("JSESSIONID={sid}; Path=/; HttpOnly; SameSite=Lax"),
                )
            }
            ("GET", "/api/v1/auth/session") => SpringBridgeApi::spring_error(405, "Method Not Allowed", &p),
            _ => SpringBridgeApi::spring_error(404, "Not Found", &p),
        }
    }
}

pub fn rows() -> Vec<Row> {
    vec![
        Row {
            code: "SESS001",
            fixture: "Express/Passport 0.5 form login keeping the connect.sid it issued before login",
            found: true,
            build: || {
                ExpressSessionApp {
                    keeps_session_id: true,
                    ..ExpressSessionApp::default()
                }
                .fixture()
            },
        },
        Row {
            code: "SESS001",
            fixture: "Express/Passport 0.6 form login regenerating the session",
            found: false,
            build: || ExpressSessionApp::default().fixture(),
        },
        Row {
            code: "SESS002",
            fixture: "Express session also taken from ?sid= (deep-link middleware)",
            found: true,
            build: || {
                ExpressSessionApp {
                    sid_from_query: true,
                    ..ExpressSessionApp::default()
                }
                .fixture()
            },
        },
        Row {
            code: "SESS002",
            fixture: "Express session from the connect.sid cookie only",
            found: false,
            build: || ExpressSessionApp::default().fixture(),
        },
        Row {
            code: "SESS003",
            fixture: "Express session logout clearing the browser's connect.sid but not destroying the session",
            found: true,
            build: || {
                ExpressSessionApp {
                    logout_only_clears_cookie: true,
                    ..ExpressSessionApp::default()
                }
                .fixture()
            },
        },
        Row {
            code: "SESS003",
            fixture: "Express session logout destroying the session (req.session.destroy)",
            found: false,
            build: || ExpressSessionApp::default().fixture(),
        },
        Row {
            code: "SESS003",
            fixture: "Express JWT + refreshToken, logout leaving the refresh token alive",
            found: true,
            build: || ExpressRefreshApi::default().fixture(),
        },
        Row {
            code: "SESS003",
            fixture: "Express JWT + refreshToken, logout deleting the refresh token (15-minute access token lives out its exp)",
            found: false,
            build: || {
                ExpressRefreshApi {
                    logout_revokes: true,
                    ..ExpressRefreshApi::default()
                }
                .fixture()
            },
        },
        Row {
            code: "SESS004",
            fixture: "OAuth 2 server /oauth/token rotating refresh tokens with a no-op revokeToken",
            found: true,
            build: || OAuthServer::default().fixture(),
        },
        Row {
            code: "SESS004",
            fixture: "OAuth 2 server /oauth/token rotating and revoking refresh tokens (invalid_grant on reuse)",
            found: false,
            build: || {
                OAuthServer {
                    revokes_rotated: true,
                    ..OAuthServer::default()
                }
                .fixture()
            },
        },
        Row {
            code: "SESS005",
            fixture: "Express JWT + refreshToken, password change keeping the refresh tokens",
            found: true,
            build: || ExpressRefreshApi::default().fixture().with_password_change(),
        },
        Row {
            code: "SESS005",
            fixture: "Express JWT + refreshToken, password change deleting refresh tokens and bumping tokenVersion",
            found: false,
            build: || {
                ExpressRefreshApi {
                    password_change_revokes: true,
                    ..ExpressRefreshApi::default()
                }
                .fixture()
                .with_password_change()
            },
        },
        Row {
            code: "SESS006",
            fixture: "Laravel token guard returning the static api_token column",
            found: true,
            build: || LaravelApi::fixture(LaravelTokens::ApiTokenColumn),
        },
        Row {
            code: "SESS006",
            fixture: "Laravel login minting a new Str::random(60) token per login",
            found: false,
            build: || LaravelApi::fixture(LaravelTokens::PerLogin),
        },
        Row {
            code: "SESS006",
            fixture: "Laravel Sanctum login returning a new createToken()->plainTextToken (id|token)",
            found: false,
            build: || LaravelApi::fixture(LaravelTokens::Sanctum),
        },
        // express-session's `cookie.maxAge` is sent as `Expires` only (no `Max-Age`).
        Row {
            code: "SESS006",
            fixture: "Express session cookie with maxAge 30 days (sent as Expires)",
            found: true,
            build: || {
                ExpressSessionApp {
                    max_age_days: Some(30),
                    ..ExpressSessionApp::default()
                }
                .fixture()
            },
        },
        Row {
            code: "SESS006",
            fixture: "Express session cookie with maxAge 7 days (sent as Expires)",
            found: false,
            build: || {
                ExpressSessionApp {
                    max_age_days: Some(7),
                    ..ExpressSessionApp::default()
                }
                .fixture()
            },
        },
        Row {
            code: "SESS007",
            fixture: "Express login returning its sid cookie's value as sessionToken",
            found: true,
            build: || SessionTokenApi::default().fixture(),
        },
        Row {
            code: "SESS007",
            fixture: "Spring Boot token-to-session bridge echoing the JSESSIONID as sessionId",
            found: true,
            build: || {
                SpringBridgeApi {
                    echoes_session_id: true,
                    ..SpringBridgeApi::default()
                }
                .fixture()
            },
        },
        Row {
            code: "SESS007",
            fixture: "Spring Boot token-to-session bridge setting only the HttpOnly JSESSIONID",
            found: false,
            build: || SpringBridgeApi::default().fixture(),
        },
        Row {
            code: "SESS008",
            fixture: "Express/Passport form login and logout without csurf (login CSRF)",
            found: true,
            build: || ExpressSessionApp::default().fixture(),
        },
        Row {
            code: "SESS008",
            fixture: "Express/Passport form login and logout behind csurf",
            found: false,
            build: || {
                ExpressSessionApp {
                    csurf: true,
                    ..ExpressSessionApp::default()
                }
                .fixture()
            },
        },
    ]
}

/// Laravel's static `api_token` column, for the wording of SESS006's finding.
pub fn laravel_static_api_token() -> Fixture {
    LaravelApi::fixture(LaravelTokens::ApiTokenColumn)
}

/// An express-session cookie of 30 days (sent as `Expires`), for the finding's wording.
pub fn express_month_long_session() -> Fixture {
    ExpressSessionApp {
        max_age_days: Some(30),
        ..ExpressSessionApp::default()
    }
    .fixture()
}
