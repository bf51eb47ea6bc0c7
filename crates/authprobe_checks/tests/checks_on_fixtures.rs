//! Checks × fixtures: a check's `run` against a scripted target (the probe's `Transport`
//! seam), flawed and hardened, asserting the exact codes found. The fixture here is a
//! Flask-JWT-Extended API that keeps its JWTs in HttpOnly cookies: the stack whose logout,
//! refresh and CSRF behaviour a Django-shaped check would get wrong.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use authprobe_core::exchange::RecordedRequest;
use authprobe_core::probe::{ScriptedAnswer, Transport};
use authprobe_core::{CheckOutcome, ScanContext};
use base64::Engine;
use url::Url;

/// The hardened API's double-submit CSRF token (readable by its own pages' JavaScript).
const CSRF_VALUE: &str = "csrf-2f9c1e";

/// The API's state: tokens issued (value → kind, login number) and the logins revoked.
struct CookieJwtApi {
    hardened: bool,
    issued: Mutex<Vec<(String, &'static str, u32)>>,
    revoked: Mutex<HashSet<u32>>,
}

impl CookieJwtApi {
    fn new(hardened: bool) -> CookieJwtApi {
        CookieJwtApi {
            hardened,
            issued: Mutex::default(),
            revoked: Mutex::default(),
        }
    }

    fn mint(&self, kind: &'static str, login: u32) -> String {
        let mut issued = self.issued.lock().unwrap();
        let exp = time::OffsetDateTime::now_utc().unix_timestamp() + 900;
        let claims = serde_json::json!({"sub": "alice", "type": kind, "login": login, "n": issued.len(), "exp": exp});
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let token = format!(
            "{}.{}.c2lnbmF0dXJl",
            b64.encode(br#"{"alg":"HS256","typ":"JWT"}"#),
            b64.encode(claims.to_string())
        );
        issued.push((token.clone(), kind, login));
        token
    }

    /// The login a cookie's token belongs to, if it is a live token of `kind`.
    fn live(&self, req: &RecordedRequest, cookie: &str, kind: &str) -> Option<u32> {
        let header = req
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("cookie"))?
            .1
            .clone();
        let value = header
            .split(';')
            .filter_map(|p| p.trim().split_once('='))
            .find(|(k, _)| *k == cookie)?
            .1
            .to_string();
        let issued = self.issued.lock().unwrap();
        let (_, k, login) = issued.iter().find(|(t, _, _)| *t == value)?;
        (*k == kind && !self.revoked.lock().unwrap().contains(login)).then_some(*login)
    }

    fn csrf_ok(&self, req: &RecordedRequest) -> bool {
        // Hardened: JWT_COOKIE_CSRF_PROTECT, the double-submit header (the value of the
        // readable `csrf_access_token` cookie) a cross-site page cannot send.
        !self.hardened
            || req
                .headers
                .iter()
                .any(|(k, v)| k.eq_ignore_ascii_case("x-csrf-token") && v == CSRF_VALUE)
    }

    fn answer(&self, req: &RecordedRequest) -> ScriptedAnswer {
        let path = Url::parse(&req.url).unwrap().path().to_string();
        let denied = || {
            ScriptedAnswer::json(
                401,
                serde_json::json!({"msg": "Missing cookie \"access_token_cookie\""}),
            )
        };
        match (req.method.as_str(), path.as_str()) {
            ("POST", "/api/login") => {
                let body = req.body.clone().unwrap_or_default();
                if !(body.contains("\"username\":\"alice\"") && body.contains("\"password\":\"pw-1\"")) {
                    return ScriptedAnswer::json(401, serde_json::json!({"msg": "Bad username or password"}));
                }
                let login = self.issued.lock().unwrap().len() as u32;
                let access = self.mint("access", login);
                let refresh = self.mint("refresh", login);
                let answer = ScriptedAnswer::json(200, serde_json::json!({"msg": "login successful"}))
                    .header("Set-Cookie", &format!("access_token_cookie={access}; HttpOnly; Path=/"))
                    .header(
                        "Set-Cookie",
                        &format!("refresh_token_cookie={refresh}; HttpOnly; Path=/api/token/refresh"),
                    );
                if self.hardened {
                    answer.header("Set-Cookie", &format!("csrf_access_token={CSRF_VALUE}; Path=/"))
                } else {
                    answer
                }
            }
            ("GET", "/api/me") => match self.live(req, "access_token_cookie", "access") {
                Some(_) => ScriptedAnswer::json(
                    200,
                    serde_json::json!({"username": "alice", "email": "alice@example.com"}),
                ),
                None => denied(),
            },
            ("POST", "/api/logout") => {
                if self.hardened {
                    let Some(login) = self.live(req, "access_token_cookie", "access") else {
                        return denied();
                    };
                    if !self.csrf_ok(req) {
                        return ScriptedAnswer::json(401, serde_json::json!({"msg": "Missing CSRF token"}));
                    }
                    self.revoked.lock().unwrap().insert(login);
                }
                // Flawed: the docs' logout only clears the cookies in this browser.
                ScriptedAnswer::json(200, serde_json::json!({"msg": "logout successful"}))
                    .header("Set-Cookie", "access_token_cookie=; Max-Age=0; Path=/")
                    .header(
                        "Set-Cookie",
                        "refresh_token_cookie=; Max-Age=0; Path=/api/token/refresh",
                    )
            }
            ("POST", "/api/token/refresh") => {
                let Some(login) = self.live(req, "refresh_token_cookie", "refresh") else {
                    return ScriptedAnswer::json(
                        401,
                        serde_json::json!({"msg": "Missing cookie \"refresh_token_cookie\""}),
                    );
                };
                if !self.csrf_ok(req) {
                    return ScriptedAnswer::json(401, serde_json::json!({"msg": "Missing CSRF token"}));
                }
                let access = self.mint("access", login);
                ScriptedAnswer::json(200, serde_json::json!({"msg": "refresh successful"}))
                    .header("Set-Cookie", &format!("access_token_cookie={access}; HttpOnly; Path=/"))
            }
            _ => ScriptedAnswer::json(404, serde_json::json!({"msg": "Not Found"})),
        }
    }
}

const FLOWS: &str = r#"
[login]
path = "/api/login"
[logout]
path = "/api/logout"
[refresh]
path = "/api/token/refresh"
[identity]
path = "/api/me"
"#;

/// A scan context on the fixture, built as a scan builds it: the flows configured, alice
/// logged in through them.
async fn context(api: Arc<CookieJwtApi>) -> ScanContext {
    let transport: Arc<dyn Transport> = Arc::new(move |req: &RecordedRequest| api.answer(req));
    ScanContext::for_fixture(transport, FLOWS, &[("alice", "pw-1")]).await
}

/// The codes a check found on the fixture (it must have run, not skipped).
async fn found(code: &str, hardened: bool) -> Vec<String> {
    let cx = context(Arc::new(CookieJwtApi::new(hardened))).await;
    let check = authprobe_checks::registry::all()
        .iter()
        .find(|c| c.meta().code == code)
        .expect("a registered check");
    match check.run(&cx).await {
        CheckOutcome::Ran(findings) => findings.iter().map(|_| code.to_string()).collect(),
        CheckOutcome::Skipped(why) => {
            let log: Vec<String> = cx
                .probe
                .exchanges()
                .iter()
                .map(|x| {
                    format!(
                        "{} {} -> {:?} {:?}",
                        x.request.method,
                        x.request.url,
                        x.response.as_ref().map(|r| r.status),
                        x.error
                    )
                })
                .collect();
            panic!("{code} skipped on the fixture: {why}\n{}", log.join("\n"))
        }
    }
}

#[tokio::test]
async fn cookie_held_tokens_checks_find_the_flaws_and_pass_the_hardened_api() {
    // (check, found on the flawed API, found on the hardened one)
    let rows = [
        // Logout that only clears cookies: the refresh cookie still mints access tokens.
        ("SESS003", true, false),
        // No CSRF defence: a cross-site POST with only the cookies refreshes.
        ("SESS008", true, false),
    ];
    for (code, flawed, hardened) in rows {
        assert_eq!(!found(code, false).await.is_empty(), flawed, "{code} on the flawed API");
        assert_eq!(
            !found(code, true).await.is_empty(),
            hardened,
            "{code} on the hardened API"
        );
    }
}
