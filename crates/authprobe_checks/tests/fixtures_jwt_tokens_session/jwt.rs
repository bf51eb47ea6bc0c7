//! JWT001–JWT010 × fixtures: JWT APIs of five stacks (FastAPI's OAuth2 `/token` form login,
//! Flask-JWT-Extended, Express with jsonwebtoken, Laravel with tymon/jwt-auth, a Spring Boot
//! resource server), each answering logins, refusals and errors as that stack does, and
//! verifying its tokens for real: HS256 with an HMAC under its key, RS256 and ES256 by the
//! signatures it issued (no one else can produce them), each flaw a verifier option those
//! stacks are known to get wrong.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use authprobe_core::exchange::RecordedRequest;
use authprobe_core::probe::ScriptedAnswer;
use authprobe_jwt::forge::{self, HmacAlg};
use authprobe_jwt::Jwt;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Map, Value};

use super::support::{
    bearer, express_not_found, express_options_post, fields, html, is_form, now, path, random_string, uuid4, Accounts,
    Fixture, Row, ALNUM,
};

/// The stack a JWT API is written in: its routes, its answers, its error bodies.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Stack {
    /// FastAPI's OAuth2 tutorial: form login at `/token`, `{"access_token", "token_type"}`,
    /// `{"detail": …}` errors with `WWW-Authenticate: Bearer`.
    FastApi,
    /// Flask-JWT-Extended: `{"access_token"}` from `/api/login`, `{"msg": …}` errors, 422 for
    /// a token that does not verify.
    Flask,
    /// Express with jsonwebtoken and express-jwt: `{"token", "user"}`, `{"error": {"message"}}`,
    /// 404 to a GET of a POST-only route (its `OPTIONS` says `Allow: POST`).
    Express,
    /// Laravel with tymon/jwt-auth: `{"access_token", "token_type", "expires_in"}`, the user
    /// id as `sub`, `{"message": "Unauthenticated."}`.
    Laravel,
    /// A Spring Boot resource server: `{"accessToken", "tokenType"}`, empty 401 bodies with a
    /// `WWW-Authenticate: Bearer error="invalid_token"` challenge.
    Spring,
}

impl Stack {
    fn login_path(self) -> &'static str {
        match self {
            Stack::FastApi => "/token",
            Stack::Flask => "/api/login",
            Stack::Express | Stack::Laravel => "/api/auth/login",
            Stack::Spring => "/api/v1/auth/login",
        }
    }

    fn me_path(self) -> &'static str {
        match self {
            Stack::FastApi => "/users/me/",
            Stack::Flask => "/api/me",
            Stack::Express | Stack::Laravel => "/api/auth/me",
            Stack::Spring => "/api/v1/users/me",
        }
    }

    fn not_found(self, req: &RecordedRequest) -> ScriptedAnswer {
        let p = path(req);
        match self {
            Stack::FastApi => ScriptedAnswer::json(404, json!({"detail": "Not Found"})),
            Stack::Flask => html(404, "<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.</p>\n"),
            Stack::Express => express_not_found(req),
            Stack::Laravel => ScriptedAnswer::json(404, json!({"message": "Not Found"})),
            Stack::Spring => ScriptedAnswer::json(
                404,
                json!({"timestamp": "2026-12-07T18:00:00.000+00:00", "status": 404, "error": "Not Found", "path": p}),
            ),
        }
    }

    /// What a GET of the POST-only login route answers.
    fn login_get(self, req: &RecordedRequest) -> ScriptedAnswer {
        let p = path(req);
        match self {
            Stack::FastApi => {
                ScriptedAnswer::json(405, json!({"detail": "Method Not Allowed"})).header("Allow", "POST")
            }
            Stack::Flask => html(405, "<!doctype html>\n<html lang=en>\n<title>405 Method Not Allowed</title>\n<h1>Method Not Allowed</h1>\n<p>The method is not allowed for the requested URL.</p>\n").header("Allow", "OPTIONS, POST"),
            Stack::Express => express_not_found(req),
            Stack::Laravel => ScriptedAnswer::json(
                405,
                json!({"message": format!("The GET method is not supported for route {}. Supported methods: POST.", p.trim_start_matches('/'))}),
            ),
            Stack::Spring => ScriptedAnswer::json(
                405,
                json!({"timestamp": "2026-12-07T18:00:00.000+00:00", "status": 405, "error": "Method Not Allowed", "path": p}),
            ),
        }
    }

    /// The answer to a login without its fields (what field learning reads).
    fn login_fields_missing(self) -> ScriptedAnswer {
        match self {
            Stack::FastApi => ScriptedAnswer::json(
                422,
                json!({"detail": [
                    {"type": "missing", "loc": ["body", "username"], "msg": "Field required", "input": null},
                    {"type": "missing", "loc": ["body", "password"], "msg": "Field required", "input": null}
                ]}),
            ),
            Stack::Flask => ScriptedAnswer::json(400, json!({"msg": "Missing username or password"})),
            Stack::Express => {
                ScriptedAnswer::json(400, json!({"error": {"message": "username and password are required"}}))
            }
            Stack::Laravel => ScriptedAnswer::json(
                422,
                json!({"message": "The username field is required. (and 1 more error)", "errors": {"username": ["The username field is required."], "password": ["The password field is required."]}}),
            ),
            Stack::Spring => ScriptedAnswer::json(
                400,
                json!({"title": "Method argument not valid", "status": 400, "fieldErrors": [{"field": "username", "message": "must not be blank"}, {"field": "password", "message": "must not be blank"}]}),
            ),
        }
    }

    fn bad_credentials(self) -> ScriptedAnswer {
        match self {
            Stack::FastApi => ScriptedAnswer::json(401, json!({"detail": "Incorrect username or password"}))
                .header("WWW-Authenticate", "Bearer"),
            Stack::Flask => ScriptedAnswer::json(401, json!({"msg": "Bad username or password"})),
            Stack::Express => ScriptedAnswer::json(401, json!({"error": {"message": "Invalid username or password"}})),
            Stack::Laravel => ScriptedAnswer::json(401, json!({"error": "Unauthorized"})),
            Stack::Spring => ScriptedAnswer::json(
                401,
                json!({"title": "Unauthorized", "status": 401, "detail": "Bad credentials"}),
            ),
        }
    }

    fn token_answer(self, access: &str, user: &str, lifetime: Option<i64>) -> Value {
        match self {
            Stack::FastApi => json!({"access_token": access, "token_type": "bearer"}),
            Stack::Flask => json!({"access_token": access}),
            Stack::Express => json!({"token": access, "user": {"id": Accounts::id(user), "username": user}}),
            Stack::Laravel => json!({"access_token": access, "token_type": "bearer", "expires_in": lifetime}),
            Stack::Spring => json!({"accessToken": access, "tokenType": "Bearer"}),
        }
    }

    fn me(self, user: &str) -> Value {
        let id = Accounts::id(user);
        match self {
            Stack::FastApi => json!({"username": user, "full_name": format!("{user} example"), "disabled": false}),
            Stack::Flask => json!({"logged_in_as": user}),
            Stack::Express => json!({"user": {"id": id, "username": user}}),
            Stack::Laravel => json!({"id": id, "name": format!("{user} example"), "username": user}),
            Stack::Spring => json!({"login": user, "authorities": ["ROLE_USER"]}),
        }
    }

    /// No credential at all.
    fn missing(self) -> ScriptedAnswer {
        match self {
            Stack::FastApi => {
                ScriptedAnswer::json(401, json!({"detail": "Not authenticated"})).header("WWW-Authenticate", "Bearer")
            }
            Stack::Flask => ScriptedAnswer::json(401, json!({"msg": "Missing Authorization Header"})),
            Stack::Express => {
                ScriptedAnswer::json(401, json!({"error": {"message": "No authorization token was found"}}))
            }
            Stack::Laravel => ScriptedAnswer::json(401, json!({"message": "Unauthenticated."})),
            Stack::Spring => ScriptedAnswer::new(401).header("WWW-Authenticate", "Bearer"),
        }
    }

    /// A token that does not verify, and why.
    fn rejected(self, why: &str) -> ScriptedAnswer {
        match self {
            Stack::FastApi => ScriptedAnswer::json(401, json!({"detail": "Could not validate credentials"}))
                .header("WWW-Authenticate", "Bearer"),
            Stack::Flask if why == "jwt expired" => ScriptedAnswer::json(401, json!({"msg": "Token has expired"})),
            Stack::Flask => ScriptedAnswer::json(422, json!({"msg": why})),
            Stack::Express => ScriptedAnswer::json(401, json!({"error": {"message": why}})),
            Stack::Laravel => ScriptedAnswer::json(401, json!({"message": "Unauthenticated."})),
            Stack::Spring => ScriptedAnswer::new(401).header(
                "WWW-Authenticate",
                &format!("Bearer error=\"invalid_token\", error_description=\"An error occurred while attempting to decode the Jwt: {why}\""),
            ),
        }
    }
}

/// How the API signs: an HMAC key, or RSA/ECDSA keys only it holds.
enum Key {
    Hmac(Vec<u8>),
    /// RS256; the public key is published in the JWKS (`n`, `e`) and, as a PEM, is what a
    /// verifier that trusts the header's `alg` takes for an HMAC secret.
    Rsa {
        n: String,
        pem: String,
    },
    Es256,
}

/// Verifier options a stack gets wrong.
#[derive(Clone, Copy, Default)]
pub struct Flaws {
    /// `alg: none` (any spelling) accepted without a signature.
    alg_none: bool,
    /// python-jose's `options={"verify_signature": False}`.
    no_signature_check: bool,
    /// `verify_exp: False` / jsonwebtoken's `ignoreExpiration: true`.
    no_exp_check: bool,
    /// The HMAC key is read from `keys/<kid>` (a path the header chooses).
    kid_is_a_path: bool,
    /// jsonwebtoken < 9 without `algorithms`: an HS256 header makes the RSA public PEM the
    /// HMAC secret.
    alg_from_header: bool,
    /// Java 15–18's ECDSA (CVE-2022-21449): r = s = 0 verifies anything.
    zero_ecdsa: bool,
}

/// What the tokens carry beyond the stack's own claims.
#[derive(Clone, Copy, Default)]
struct Extra {
    /// `iss` and `aud` (Flask-JWT-Extended's `JWT_ENCODE_ISSUER`/`JWT_ENCODE_AUDIENCE`).
    audience: bool,
    /// The whole user row: email and bcrypt password hash (`jwt.sign(user.toJSON())`).
    user_row: bool,
}

pub struct JwtApi {
    stack: Stack,
    key: Key,
    /// The `kid` of the one signing key, when the API names it.
    kid: Option<&'static str>,
    flaws: Flaws,
    extra: Extra,
    /// Access-token lifetime in seconds; `None` for no `exp` at all.
    lifetime: Option<i64>,
    accounts: Accounts,
    /// RS256/ES256 tokens issued (their signatures verify; nothing else's does).
    issued: Mutex<HashSet<String>>,
}

/// A 2048-bit RSA modulus for the published key (the API never signs with it: its RS256
/// signatures are checked against the ones it issued).
fn rsa_modulus() -> Vec<u8> {
    let mut n: Vec<u8> = (0..256u32)
        .map(|i| (i.wrapping_mul(97).wrapping_add(13) % 256) as u8)
        .collect();
    n[0] = 0xc5;
    n[255] |= 1;
    n
}

impl JwtApi {
    fn new(stack: Stack, key: Key) -> JwtApi {
        JwtApi {
            stack,
            key,
            kid: None,
            flaws: Flaws::default(),
            extra: Extra::default(),
            lifetime: Some(900),
            accounts: Accounts::default(),
            issued: Mutex::default(),
        }
    }

    /// HS256 under a 64-character random key no list holds.
    fn hs256(stack: Stack) -> JwtApi {
        JwtApi::new(stack, Key::Hmac(random_string(64, ALNUM).into_bytes()))
    }

    fn hs256_with(stack: Stack, key: &str) -> JwtApi {
        JwtApi::new(stack, Key::Hmac(key.as_bytes().to_vec()))
    }

    fn rs256(stack: Stack) -> JwtApi {
        let n = URL_SAFE_NO_PAD.encode(rsa_modulus());
        let pem = forge::rsa_jwk_as_pem_variants(&n, "AQAB").expect("the modulus makes an RSA public key")[0].clone();
        JwtApi::new(stack, Key::Rsa { n, pem })
    }

    fn es256(stack: Stack) -> JwtApi {
        JwtApi::new(stack, Key::Es256)
    }

    fn flaws(self, flaws: Flaws) -> JwtApi {
        JwtApi { flaws, ..self }
    }

    fn kid(self, kid: &'static str) -> JwtApi {
        JwtApi { kid: Some(kid), ..self }
    }

    fn lifetime(self, lifetime: Option<i64>) -> JwtApi {
        JwtApi { lifetime, ..self }
    }

    fn extra(self, extra: Extra) -> JwtApi {
        JwtApi { extra, ..self }
    }

    fn fixture(self) -> Fixture {
        let api = Arc::new(self);
        Fixture::new(move |req: &RecordedRequest| api.answer(req))
    }

    fn alg(&self) -> &'static str {
        match self.key {
            Key::Hmac(_) => "HS256",
            Key::Rsa { .. } => "RS256",
            Key::Es256 => "ES256",
        }
    }

    /// The claims the stack puts in `user`'s access token.
    fn claims(&self, user: &str) -> Map<String, Value> {
        let iat = now();
        let id = Accounts::id(user).unwrap_or(0);
        let mut claims = match self.stack {
            Stack::FastApi => json!({"sub": user}),
            Stack::Flask => {
                json!({"fresh": false, "iat": iat, "jti": uuid4(), "type": "access", "sub": user, "nbf": iat})
            }
            Stack::Express => json!({"id": id, "username": user, "iat": iat}),
            Stack::Laravel => json!({
                "iss": "http://127.0.0.1:9/api/auth/login", "iat": iat, "nbf": iat, "jti": random_string(16, ALNUM),
                "sub": id.to_string(), "prv": "23bd5c8949f600adb39e701c400872db7a5976f7"
            }),
            Stack::Spring => json!({"sub": user, "auth": "ROLE_USER", "iat": iat}),
        };
        let map = claims.as_object_mut().expect("claims are an object");
        if let Some(lifetime) = self.lifetime {
            map.insert("exp".into(), (iat + lifetime).into());
        }
        if self.extra.audience {
            map.insert("iss".into(), "https://api.acme.example".into());
            map.insert("aud".into(), "acme-mobile".into());
        }
        if self.extra.user_row {
            map.insert("email".into(), format!("{user}@acme.example").into());
            map.insert(
                "password".into(),
                "$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy".into(),
            );
        }
        claims.as_object().cloned().unwrap_or_default()
    }

    fn mint(&self, user: &str) -> String {
        let mut header = json!({"alg": self.alg(), "typ": "JWT"});
        if let Some(kid) = self.kid {
            header["kid"] = kid.into();
        }
        let header = header.as_object().cloned().unwrap_or_default();
        let claims = self.claims(user);
        match &self.key {
            Key::Hmac(key) => forge::sign_hmac(HmacAlg::Hs256, &header, &claims, key),
            Key::Rsa { .. } | Key::Es256 => {
                let len = if matches!(self.key, Key::Es256) { 64 } else { 256 };
                let signature: Vec<u8> = (0..len).map(|_| rand::random::<u8>()).collect();
                let token = forge::with_signature(&header, &claims, &signature);
                self.issued.lock().unwrap().insert(token.clone());
                token
            }
        }
    }

    /// The HMAC key for a token's header: the one key, or with key rotation the file its
    /// `kid` names.
    fn hmac_key(&self, header: &Map<String, Value>, key: &[u8]) -> Option<Vec<u8>> {
        let Some(kid) = self.kid else {
            return Some(key.to_vec());
        };
        let given = header.get("kid").and_then(Value::as_str)?;
        if given == kid {
            return Some(key.to_vec());
        }
        if !self.flaws.kid_is_a_path {
            return None;
        }
        // fs.readFileSync(path.join(__dirname, "keys", kid)): the path is normalised.
        let mut parts: Vec<&str> = "srv/app/keys".split('/').collect();
        for segment in given.split('/') {
            match segment {
                ".." => {
                    parts.pop();
                }
                "" | "." => {}
                s => parts.push(s),
            }
        }
        (parts.join("/") == "dev/null").then(Vec::new)
    }

    /// The verified claims of a token, or why it is refused.
    fn verify(&self, token: &str) -> Result<Map<String, Value>, &'static str> {
        let jwt = Jwt::parse(token).map_err(|_| "jwt malformed")?;
        let alg = jwt.alg().unwrap_or("");
        let input = format!("{}.{}", jwt.raw_header, jwt.raw_claims);
        let signature = URL_SAFE_NO_PAD
            .decode(jwt.raw_signature.trim_end_matches('='))
            .unwrap_or_default();
        let hmac_ok = |key: &[u8]| forge::hmac_bytes(HmacAlg::Hs256, key, input.as_bytes()) == signature;
        let issued = || self.issued.lock().unwrap().contains(token);
        let verified = if alg.eq_ignore_ascii_case("none") {
            if !self.flaws.alg_none {
                return Err("invalid algorithm");
            }
            true
        } else if self.flaws.no_signature_check {
            true
        } else {
            match &self.key {
                Key::Hmac(key) => alg == "HS256" && self.hmac_key(&jwt.header, key).is_some_and(|k| hmac_ok(&k)),
                Key::Rsa { pem, .. } => match alg {
                    "RS256" => issued(),
                    "HS256" if self.flaws.alg_from_header => hmac_ok(pem.as_bytes()),
                    _ => return Err("invalid algorithm"),
                },
                Key::Es256 => {
                    alg == "ES256"
                        && (issued()
                            || (self.flaws.zero_ecdsa && signature.len() == 64 && signature.iter().all(|b| *b == 0)))
                }
            }
        };
        if !verified {
            return Err("invalid signature");
        }
        if !self.flaws.no_exp_check && jwt.numeric_claim("exp").is_some_and(|exp| exp <= now()) {
            return Err("jwt expired");
        }
        Ok(jwt.claims)
    }

    /// The account a token's claims name (`sub` as a username or an id, or `username`).
    fn user_of(claims: &Map<String, Value>) -> Option<&'static str> {
        let named = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
        let sub = named(claims.get("sub")).or_else(|| named(claims.get("username")))?;
        super::support::USERS
            .iter()
            .map(|(u, _)| *u)
            .find(|u| *u == sub)
            .or_else(|| Accounts::by_id(&sub))
    }

    fn answer(&self, req: &RecordedRequest) -> ScriptedAnswer {
        let p = path(req);
        let login = self.stack.login_path();
        match req.method.as_str() {
            "OPTIONS" if p == login && self.stack == Stack::Express => express_options_post(),
            "GET" if p == login => self.stack.login_get(req),
            "POST" if p == login => self.login(req),
            "GET" if p == self.stack.me_path() => {
                let Some(token) = bearer(req) else {
                    return self.stack.missing();
                };
                match self.verify(&token) {
                    Ok(claims) => match JwtApi::user_of(&claims) {
                        Some(user) => ScriptedAnswer::json(200, self.stack.me(user)),
                        None => self.stack.rejected("user not found"),
                    },
                    Err(why) => self.stack.rejected(why),
                }
            }
            "GET" if p == "/.well-known/jwks.json" => match &self.key {
                Key::Rsa { n, .. } => ScriptedAnswer::json(
                    200,
                    json!({"keys": [{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": "rsa-2026", "n": n, "e": "AQAB"}]}),
                ),
                _ => self.stack.not_found(req),
            },
            _ => self.stack.not_found(req),
        }
    }

    fn login(&self, req: &RecordedRequest) -> ScriptedAnswer {
        // FastAPI's OAuth2PasswordRequestForm reads a form and nothing else.
        if self.stack == Stack::FastApi && !is_form(req) {
            return self.stack.login_fields_missing();
        }
        let f = fields(req);
        let (Some(user), Some(password)) = (f.get("username"), f.get("password")) else {
            return self.stack.login_fields_missing();
        };
        if !self.accounts.check(user, password) {
            return self.stack.bad_credentials();
        }
        let token = self.mint(user);
        ScriptedAnswer::json(200, self.stack.token_answer(&token, user, self.lifetime))
    }
}

pub fn rows() -> Vec<Row> {
    vec![
        Row {
            code: "JWT001",
            fixture: "Express, jsonwebtoken verifying alg none tokens without a signature",
            found: true,
            build: || {
                JwtApi::hs256(Stack::Express)
                    .flaws(Flaws {
                        alg_none: true,
                        ..Flaws::default()
                    })
                    .fixture()
            },
        },
        Row {
            code: "JWT001",
            fixture: "Express, jsonwebtoken with algorithms: [HS256]",
            found: false,
            build: || JwtApi::hs256(Stack::Express).fixture(),
        },
        Row {
            code: "JWT002",
            fixture: "FastAPI /token, python-jose decode with verify_signature False",
            found: true,
            build: || {
                JwtApi::hs256(Stack::FastApi)
                    .flaws(Flaws {
                        no_signature_check: true,
                        ..Flaws::default()
                    })
                    .fixture()
            },
        },
        Row {
            code: "JWT002",
            fixture: "FastAPI /token, python-jose decode verifying HS256",
            found: false,
            build: || JwtApi::hs256(Stack::FastApi).fixture(),
        },
        Row {
            code: "JWT003",
            fixture: "Flask-JWT-Extended with the docs' JWT_SECRET_KEY super-secret",
            found: true,
            build: || JwtApi::hs256_with(Stack::Flask, "super-secret").fixture(),
        },
        // The docs' own example secrets, tried before any keyspace (issue 27, class 8): a
        // CamelCase word and a long sentence no mutation or dictionary pass reaches.
        Row {
            code: "JWT003",
            fixture: "golang-jwt signing with its README example's AllYourBase",
            found: true,
            build: || JwtApi::hs256_with(Stack::Express, "AllYourBase").fixture(),
        },
        Row {
            code: "JWT003",
            fixture: "NestJS JwtModule with the auth recipe's jwtConstants.secret",
            found: true,
            build: || {
                JwtApi::hs256_with(
                    Stack::Express,
                    "DO NOT USE THIS VALUE. INSTEAD, CREATE A COMPLEX SECRET AND KEEP IT SAFE OUTSIDE OF THE SOURCE CODE.",
                )
                .fixture()
            },
        },
        Row {
            code: "JWT003",
            fixture: "Flask-JWT-Extended with a 64-character random JWT_SECRET_KEY",
            found: false,
            build: || JwtApi::hs256(Stack::Flask).fixture(),
        },
        Row {
            code: "JWT004",
            fixture: "FastAPI /token, 3-second tokens, python-jose verify_exp False",
            found: true,
            build: || {
                JwtApi::hs256(Stack::FastApi)
                    .lifetime(Some(3))
                    .flaws(Flaws {
                        no_exp_check: true,
                        ..Flaws::default()
                    })
                    .fixture()
            },
        },
        Row {
            code: "JWT004",
            fixture: "FastAPI /token, 3-second tokens, exp verified",
            found: false,
            build: || JwtApi::hs256(Stack::FastApi).lifetime(Some(3)).fixture(),
        },
        Row {
            code: "JWT004",
            fixture: "Express, key `secret`, jsonwebtoken ignoreExpiration (15-minute tokens)",
            found: true,
            build: || {
                JwtApi::hs256_with(Stack::Express, "secret")
                    .flaws(Flaws {
                        no_exp_check: true,
                        ..Flaws::default()
                    })
                    .fixture()
            },
        },
        Row {
            code: "JWT004",
            fixture: "Express, key `secret`, exp verified (15-minute tokens)",
            found: false,
            build: || JwtApi::hs256_with(Stack::Express, "secret").fixture(),
        },
        Row {
            code: "JWT005",
            fixture: "Laravel tymon/jwt-auth with JWT_TTL null (no exp)",
            found: true,
            build: || JwtApi::hs256(Stack::Laravel).lifetime(None).fixture(),
        },
        Row {
            code: "JWT005",
            fixture: "Laravel tymon/jwt-auth with JWT_TTL 60",
            found: false,
            build: || JwtApi::hs256(Stack::Laravel).lifetime(Some(3600)).fixture(),
        },
        Row {
            code: "JWT006",
            fixture: "Flask-JWT-Extended defaults (no iss, no aud)",
            found: true,
            build: || JwtApi::hs256(Stack::Flask).fixture(),
        },
        Row {
            code: "JWT006",
            fixture: "Flask-JWT-Extended with JWT_ENCODE_ISSUER and JWT_ENCODE_AUDIENCE",
            found: false,
            build: || {
                JwtApi::hs256(Stack::Flask)
                    .extra(Extra {
                        audience: true,
                        ..Extra::default()
                    })
                    .fixture()
            },
        },
        Row {
            code: "JWT007",
            fixture: "Express signing the user row (email, bcrypt password hash) into the token",
            found: true,
            build: || {
                JwtApi::hs256(Stack::Express)
                    .extra(Extra {
                        user_row: true,
                        ..Extra::default()
                    })
                    .fixture()
            },
        },
        Row {
            code: "JWT007",
            fixture: "Express signing {id, username}",
            found: false,
            build: || JwtApi::hs256(Stack::Express).fixture(),
        },
        Row {
            code: "JWT008",
            fixture: "Express RS256 with a JWKS, jsonwebtoken 8 without algorithms",
            found: true,
            build: || {
                JwtApi::rs256(Stack::Express)
                    .flaws(Flaws {
                        alg_from_header: true,
                        ..Flaws::default()
                    })
                    .fixture()
            },
        },
        Row {
            code: "JWT008",
            fixture: "Express RS256 with a JWKS, algorithms: [RS256]",
            found: false,
            build: || JwtApi::rs256(Stack::Express).fixture(),
        },
        Row {
            code: "JWT009",
            fixture: "Express HS256 reading the key from keys/<kid>",
            found: true,
            build: || {
                JwtApi::hs256(Stack::Express)
                    .kid("2026-06")
                    .flaws(Flaws {
                        kid_is_a_path: true,
                        ..Flaws::default()
                    })
                    .fixture()
            },
        },
        Row {
            code: "JWT009",
            fixture: "Express HS256 looking the kid up in a key map",
            found: false,
            build: || JwtApi::hs256(Stack::Express).kid("2026-06").fixture(),
        },
        Row {
            code: "JWT010",
            fixture: "Spring Boot resource server, ES256 on Java 17.0.2 (CVE-2022-21449)",
            found: true,
            build: || {
                JwtApi::es256(Stack::Spring)
                    .flaws(Flaws {
                        zero_ecdsa: true,
                        ..Flaws::default()
                    })
                    .fixture()
            },
        },
        Row {
            code: "JWT010",
            fixture: "Spring Boot resource server, ES256 on a patched JDK",
            found: false,
            build: || JwtApi::es256(Stack::Spring).fixture(),
        },
    ]
}

/// express-jwt's README secret (`shhhhhhared-secret`), the docs' value kept in production.
pub fn express_jwt_readme_secret() -> Fixture {
    JwtApi::hs256_with(Stack::Express, "shhhhhhared-secret").fixture()
}
