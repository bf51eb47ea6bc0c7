//! Issue 27, class 4, seen by the checks: the flows read from a Rails + Devise site's HTML
//! pages (the sign-in form with `authenticity_token`, the signed-in layout's `button_to
//! "Sign out"` with `_method=delete`, the "Forgot your password?" form) are the ones the
//! stateful checks drive.
//! Logout revocation (SESS003) and reset flooding (RATE002) are decided on them: found on
//! a site whose sign-out only deletes the cookie and whose reset form has no limit, not
//! found on one that ends the session server-side and throttles resets.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use authprobe_core::config::{ScanConfig, Target, UserCredential};
use authprobe_core::exchange::RecordedRequest;
use authprobe_core::probe::{ScriptedAnswer, Transport};
use authprobe_core::{CheckOutcome, ScanContext};
use serde_json::json;

const ORIGIN: &str = "http://127.0.0.1:9";

fn html(status: u16, body: &str) -> ScriptedAnswer {
    ScriptedAnswer::new(status)
        .header("Content-Type", "text/html; charset=utf-8")
        .body(body)
}

fn redirect(to: &str) -> ScriptedAnswer {
    ScriptedAnswer::new(302)
        .header("Location", &format!("{ORIGIN}{to}"))
        .header("Content-Type", "text/html; charset=utf-8")
}

fn cookie(req: &RecordedRequest, name: &str) -> Option<String> {
    let header = &req.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("cookie"))?.1;
    header.split(';').find_map(|pair| {
        let (k, v) = pair.trim().split_once('=')?;
        (k == name).then(|| v.to_string())
    })
}

/// A Rails app with Devise and Rails' default cookie store: the session (the signed-in
/// user and the CSRF token) lives in the `_shop_session` cookie itself. Flawed: as
/// shipped, a cookie issued before sign-out still signs its holder in afterwards (the
/// server keeps nothing to revoke), and no throttle guards `Devise::PasswordsController`.
/// Hardened: a server-side session store (sign-out ends it) and Rack::Attack on resets.
#[derive(Default)]
struct Site {
    next: u32,
    /// `_shop_session` value → (CSRF token, signed-in account); what a cookie carries.
    cookies: HashMap<String, (String, Option<String>)>,
    resets: u32,
}

impl Site {
    fn issue(&mut self, user: Option<String>) -> String {
        self.next += 1;
        let value = format!("c{:04}Tz8Lq3Wm6Xv1Bn9Kd4Rf7Hj2--a9f3c1", self.next);
        let csrf = format!("ct{:04}Hd5Rf9Gt2Yk7Mn4Qw8", self.next);
        self.cookies.insert(value.clone(), (csrf, user));
        value
    }
}

fn set_session(value: &str) -> String {
    format!("_shop_session={value}; path=/; httponly; samesite=lax")
}

fn devise(hardened: bool) -> Arc<dyn Transport> {
    let site = Arc::new(Mutex::new(Site::default()));
    Arc::new(move |req: &RecordedRequest| {
        let mut s = site.lock().unwrap();
        let (current, set) = match cookie(req, "_shop_session").filter(|c| s.cookies.contains_key(c)) {
            Some(c) => (c, None),
            None => {
                let c = s.issue(None);
                let set = set_session(&c);
                (c, Some(set))
            }
        };
        let (token, user) = s.cookies[&current].clone();
        let form: HashMap<String, String> = url::form_urlencoded::parse(req.body.as_deref().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
        let page = |body: String| {
            let answer = html(200, &format!("<!DOCTYPE html><html><head><meta name=\"csrf-token\" content=\"{token}\" /></head><body>{body}</body></html>"));
            match &set {
                Some(c) => answer.header("Set-Cookie", c),
                None => answer,
            }
        };
        let path = url::Url::parse(&req.url).unwrap().path().to_string();
        match (req.method.as_str(), path.as_str()) {
            ("GET", "/") => match &user {
                Some(name) => page(format!("<header>{name} <form class=\"button_to\" method=\"post\" action=\"/users/sign_out\"><input type=\"hidden\" name=\"_method\" value=\"delete\" autocomplete=\"off\" /><button type=\"submit\">Sign out</button><input type=\"hidden\" name=\"authenticity_token\" value=\"{token}\" autocomplete=\"off\" /></form></header>")),
                None => redirect("/users/sign_in"),
            },
            ("GET", "/users/sign_in") => page(format!("<h2>Log in</h2><form class=\"new_user\" id=\"new_user\" action=\"/users/sign_in\" accept-charset=\"UTF-8\" method=\"post\"><input type=\"hidden\" name=\"authenticity_token\" value=\"{token}\" autocomplete=\"off\" /><input autofocus=\"autofocus\" autocomplete=\"email\" type=\"email\" value=\"\" name=\"user[email]\" id=\"user_email\" /><input autocomplete=\"current-password\" type=\"password\" name=\"user[password]\" id=\"user_password\" /><input name=\"user[remember_me]\" type=\"hidden\" value=\"0\" autocomplete=\"off\" /><input type=\"checkbox\" value=\"1\" name=\"user[remember_me]\" id=\"user_remember_me\" /><input type=\"submit\" name=\"commit\" value=\"Log in\" data-disable-with=\"Log in\" /></form><a href=\"/users/password/new\">Forgot your password?</a>")),
            ("GET", "/users/password/new") => page(format!("<h2>Forgot your password?</h2><form class=\"new_user\" id=\"new_user\" action=\"/users/password\" accept-charset=\"UTF-8\" method=\"post\"><input type=\"hidden\" name=\"authenticity_token\" value=\"{token}\" autocomplete=\"off\" /><input autofocus=\"autofocus\" autocomplete=\"email\" type=\"email\" value=\"\" name=\"user[email]\" id=\"user_email\" /><input type=\"submit\" name=\"commit\" value=\"Send me reset password instructions\" /></form>")),
            ("GET", "/api/me") => match &user {
                Some(name) => ScriptedAnswer::json(200, json!({"id": 1, "email": name})),
                None => ScriptedAnswer::json(401, json!({"error": "You need to sign in or sign up before continuing."})),
            },
            ("POST", _) if form.get("authenticity_token") != Some(&token) => {
                html(422, "<h1>ActionController::InvalidAuthenticityToken</h1>")
            }
            ("POST", "/users/sign_out") if form.get("_method").map(String::as_str) == Some("delete") => {
                if hardened {
                    s.cookies.remove(&current);
                }
                let fresh = s.issue(None);
                redirect("/").header("Set-Cookie", &set_session(&fresh))
            }
            ("POST", "/users/sign_in") => {
                let known = [("alice@example.com", "alice-pass-1"), ("bob@example.com", "bob-pass-2")];
                let who = known.iter().find(|(u, p)| {
                    form.get("user[email]").map(String::as_str) == Some(*u)
                        && form.get("user[password]").map(String::as_str) == Some(*p)
                });
                let Some((name, _)) = who else {
                    return page("<div class=\"alert\">Invalid Email or password.</div><form method=\"post\" action=\"/users/sign_in\"><input type=\"password\" name=\"user[password]\"></form>".into());
                };
                let signed_in = s.issue(Some(name.to_string()));
                redirect("/").header("Set-Cookie", &set_session(&signed_in))
            }
            ("POST", "/users/password") => {
                s.resets += 1;
                if hardened && s.resets > 10 {
                    return html(429, "Retry later\n").header("Retry-After", "60");
                }
                redirect("/users/sign_in")
            }
            _ => html(404, "<!DOCTYPE html><html><head><title>The page you were looking for doesn't exist (404)</title></head></html>"),
        }
    })
}

async fn context(hardened: bool) -> ScanContext {
    let config = ScanConfig {
        users: [("alice@example.com", "alice-pass-1"), ("bob@example.com", "bob-pass-2")]
            .iter()
            .map(|(u, p)| UserCredential {
                username: u.to_string(),
                password: p.to_string(),
            })
            .collect(),
        ..ScanConfig::fixture(Target::parse(ORIGIN).unwrap())
    };
    ScanContext::for_fixture_with(devise(hardened), config).await.unwrap()
}

async fn found(code: &str, hardened: bool) -> Result<bool, String> {
    let cx = context(hardened).await;
    assert!(cx.login_failures.is_empty(), "{:?}", cx.login_failures);
    let flows: Vec<(&str, String, String)> = cx
        .flows
        .info()
        .into_iter()
        .map(|f| (f.role, f.endpoint, format!("{:?}", f.source)))
        .collect();
    assert_eq!(
        flows,
        [
            ("login", "/users/sign_in", "Path"),
            ("logout", "/users/sign_out", "Html"),
            ("password_reset", "/users/password", "Html"),
        ]
        .map(|(r, e, s)| (r, e.to_string(), s.to_string()))
    );
    let check = authprobe_checks::registry::all()
        .iter()
        .find(|c| c.meta().code == code)
        .unwrap();
    match check.run(&cx).await {
        CheckOutcome::Ran(findings) => Ok(!findings.is_empty()),
        other => Err(format!("{code} did not decide: {other:?}")),
    }
}

#[tokio::test]
async fn a_sign_out_form_that_leaves_the_session_alive_is_sess003() {
    assert_eq!(found("SESS003", false).await, Ok(true));
    assert_eq!(found("SESS003", true).await, Ok(false));
}

#[tokio::test]
async fn an_unthrottled_reset_form_is_rate002() {
    assert_eq!(found("RATE002", false).await, Ok(true));
    assert_eq!(found("RATE002", true).await, Ok(false));
}
