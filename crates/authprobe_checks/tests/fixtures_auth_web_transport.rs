//! Checks × fixtures for the authentication, authorization, rate-limit, transport, web and
//! Django families: each check's real `run` against a scripted target (answers through the
//! probe's `Transport` seam, no network), once flawed and once hardened, asserting the exact
//! codes found. One table per family (check × fixture × found?), every mismatch reported
//! at once with the fixture named and, for a skipped check, the exchange log.
//!
//! Most fixtures are APIs of other frameworks than Django ([`api::Api`]: Express/Passport,
//! FastAPI's OAuth2 `/token`, Flask-JWT-Extended, Laravel Sanctum), with their login
//! answers, header schemes, list envelopes and error bodies; [`drf::Drf`] is a Django REST
//! framework + simplejwt API for the checks that are about Django itself (and BOLA003,
//! whose object creation reads DRF's `OPTIONS` metadata).

#[path = "fixtures_auth_web_transport/api.rs"]
mod api;
#[path = "fixtures_auth_web_transport/authentication.rs"]
mod authentication;
#[path = "fixtures_auth_web_transport/authorization.rs"]
mod authorization;
#[path = "fixtures_auth_web_transport/django.rs"]
mod django;
#[path = "fixtures_auth_web_transport/drf.rs"]
mod drf;
#[path = "fixtures_auth_web_transport/ratelimit.rs"]
mod ratelimit;
#[path = "fixtures_auth_web_transport/readers.rs"]
mod readers;
#[path = "fixtures_auth_web_transport/transport.rs"]
mod transport;
#[path = "fixtures_auth_web_transport/web.rs"]
mod web;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use authprobe_core::config::{ScanConfig, Target};
use authprobe_core::exchange::RecordedRequest;
use authprobe_core::probe::{ScriptedAnswer, Transport};
use authprobe_core::{CheckOutcome, ScanContext};

/// A fixture as a table row holds it: a name, and how to build a scan context on it.
pub struct Fixture {
    pub name: String,
    pub build: Box<dyn Fn() -> Pin<Box<dyn Future<Output = ScanContext>>>>,
}

impl Fixture {
    pub fn new<F, Fut>(name: impl Into<String>, build: F) -> Fixture
    where
        F: Fn() -> Fut + 'static,
        Fut: Future<Output = ScanContext> + 'static,
    {
        Fixture {
            name: name.into(),
            build: Box::new(move || Box::pin(build())),
        }
    }
}

/// A scan context on `answer`, as a scan builds it from `config` (start from
/// [`ScanConfig::fixture`]): discovery, flows, logins, identity endpoint.
pub async fn context_with(
    answer: impl Fn(&RecordedRequest) -> ScriptedAnswer + Send + Sync + 'static,
    config: ScanConfig,
) -> ScanContext {
    let transport: Arc<dyn Transport> = Arc::new(answer);
    ScanContext::for_fixture_with(transport, config)
        .await
        .expect("the fixture scan prepares")
}

/// The fixture configuration of `origin` with alice and bob as the scan's accounts.
pub fn config(origin: &str) -> ScanConfig {
    ScanConfig {
        users: ["alice:pw-1", "bob:pw-2"]
            .iter()
            .map(|pair| {
                let (username, password) = pair.split_once(':').unwrap();
                authprobe_core::config::UserCredential {
                    username: username.into(),
                    password: password.into(),
                }
            })
            .collect(),
        ..ScanConfig::fixture(Target::parse(origin).expect("a valid fixture origin"))
    }
}

/// The scan's exchanges, one line each (how a skipped or wrong row is debugged).
pub fn exchange_log(cx: &ScanContext) -> String {
    cx.probe
        .exchanges()
        .iter()
        .map(|x| {
            // How the request authenticated: the credential header's name and scheme.
            let credential = x
                .request
                .headers
                .iter()
                .find(|(k, _)| {
                    let k = k.to_ascii_lowercase();
                    k == "authorization" || k.starts_with("x-") && (k.contains("token") || k.contains("key"))
                })
                .map(|(k, v)| {
                    format!(
                        " [{k}: {}]",
                        v.split_whitespace()
                            .next()
                            .unwrap_or("")
                            .chars()
                            .take(12)
                            .collect::<String>()
                    )
                })
                .unwrap_or_default();
            format!(
                "  {} {}{credential} -> {:?} {}",
                x.request.method,
                x.request.url,
                x.response.as_ref().map(|r| r.status),
                x.error.as_deref().unwrap_or("")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs check `code` on a context built from `fixture`: the findings' messages, or why
/// the check skipped (with the exchange log).
pub async fn run(code: &str, fixture: &Fixture) -> Result<Vec<String>, String> {
    let cx = (fixture.build)().await;
    let check = authprobe_checks::registry::all()
        .iter()
        .find(|c| c.meta().code == code)
        .unwrap_or_else(|| panic!("{code} is registered"));
    let outcome = check.run(&cx).await;
    if std::env::var_os("FIXTURE_LOG").is_some() {
        println!("== {code} on `{}`: {outcome:?}\n{}", fixture.name, exchange_log(&cx));
    }
    match outcome {
        CheckOutcome::Ran(findings) => Ok(findings
            .iter()
            .map(|f| format!("{} {}", f.endpoint, f.message))
            .collect()),
        CheckOutcome::Skipped(why) => Err(format!("skipped: {why}\n{}", exchange_log(&cx))),
    }
}

/// Runs every row (check, fixture, whether the check's code must be found) and fails
/// once with every mismatch: a flawed fixture whose flaw was missed, a hardened one with
/// a finding, or a check that skipped instead of deciding.
pub async fn verify_table(family: &str, rows: Vec<(&'static str, Fixture, bool)>) {
    let mut failures = Vec::new();
    for (code, fixture, flawed) in &rows {
        let side = if *flawed { "flawed" } else { "hardened" };
        match run(code, fixture).await {
            Ok(findings) if findings.is_empty() != *flawed => {}
            Ok(_) if *flawed => failures.push(format!("{code} on the {side} fixture `{}` found nothing", fixture.name)),
            Ok(findings) => failures.push(format!(
                "{code} on the {side} fixture `{}` reported {}:\n  {}",
                fixture.name,
                findings.len(),
                findings.join("\n  ")
            )),
            Err(why) => failures.push(format!("{code} on the {side} fixture `{}` {why}", fixture.name)),
        }
    }
    assert!(
        failures.is_empty(),
        "{family}: {} of {} rows failed:\n\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n\n")
    );
}

/// A request header's value.
pub fn header<'a>(req: &'a RecordedRequest, name: &str) -> Option<&'a str> {
    req.headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The request's JSON body, if it parses as an object.
pub fn json_body(req: &RecordedRequest) -> Option<serde_json::Map<String, serde_json::Value>> {
    serde_json::from_str::<serde_json::Value>(req.body.as_deref()?)
        .ok()?
        .as_object()
        .cloned()
}

/// A field of the request's urlencoded form body.
pub fn form_field(req: &RecordedRequest, name: &str) -> Option<String> {
    url::form_urlencoded::parse(req.body.as_deref()?.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// A string field of a JSON body.
pub fn str_field(body: &serde_json::Map<String, serde_json::Value>, name: &str) -> Option<String> {
    body.get(name).and_then(|v| v.as_str()).map(str::to_string)
}

/// An HTML answer.
pub fn html(status: u16, body: &str) -> ScriptedAnswer {
    ScriptedAnswer::new(status)
        .header("Content-Type", "text/html; charset=utf-8")
        .body(body)
}

/// A JWT for `claims`, HS256-signed with `key`, or with a signature no key makes.
pub fn jwt(claims: serde_json::Value, key: Option<&[u8]>) -> String {
    use authprobe_jwt::forge::{sign_hmac, with_signature, HmacAlg};
    let header = serde_json::json!({"alg": "HS256", "typ": "JWT"});
    let (header, claims) = (header.as_object().unwrap(), claims.as_object().unwrap());
    match key {
        Some(key) => sign_hmac(HmacAlg::Hs256, header, claims, key),
        None => with_signature(header, claims, b"signature-of-a-key-nobody-knows-0123456789"),
    }
}

/// Seconds since the epoch (JWT `iat`/`exp`).
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
