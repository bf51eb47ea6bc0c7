//! What every table of this binary shares: a fixture (a scripted target and how the scan
//! is configured for it), the run of one check on it, the table runner that reports every
//! mismatching row at once, and the small HTTP helpers the scripted APIs are written with.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use authprobe_core::config::{ScanConfig, Target, UserCredential};
use authprobe_core::engine::FIXTURE_BASE;
use authprobe_core::exchange::RecordedRequest;
use authprobe_core::probe::{ScriptedAnswer, Transport};
use authprobe_core::writes::WriteMode;
use authprobe_core::{CheckOutcome, ScanContext};
use url::Url;

/// The scan's accounts: `alice` (the primary identity) and `bob` (the second identity,
/// whose claims forged tokens carry).
pub const USERS: &[(&str, &str)] = &[("alice", "pw-1"), ("bob", "pw-2")];

/// A scripted target and the configuration a scan of it is given.
pub struct Fixture {
    pub transport: Arc<dyn Transport>,
    /// `[flows.*]` TOML; empty for zero-config detection.
    pub flows: &'static str,
    /// `--allow-writes --environment staging`.
    pub writes: bool,
    /// `--allow-password-change`.
    pub password_change: bool,
}

impl Fixture {
    pub fn new(api: impl Fn(&RecordedRequest) -> ScriptedAnswer + Send + Sync + 'static) -> Fixture {
        Fixture {
            transport: Arc::new(api),
            flows: "",
            writes: false,
            password_change: false,
        }
    }

    pub fn flows(self, flows: &'static str) -> Fixture {
        Fixture { flows, ..self }
    }

    pub fn with_writes(self) -> Fixture {
        Fixture { writes: true, ..self }
    }

    pub fn with_password_change(self) -> Fixture {
        Fixture {
            password_change: true,
            ..self
        }
    }
}

/// One row of a table: a check, a fixture, and whether the check must find its flaw there.
pub struct Row {
    pub code: &'static str,
    pub fixture: &'static str,
    pub found: bool,
    pub build: fn() -> Fixture,
}

/// The scan context of a fixture, prepared as a scan prepares its own.
async fn context(fixture: Fixture) -> ScanContext {
    let target = Target::parse(FIXTURE_BASE).expect("the fixture origin parses");
    let mut config = ScanConfig {
        users: USERS
            .iter()
            .map(|(username, password)| UserCredential {
                username: username.to_string(),
                password: password.to_string(),
            })
            .collect(),
        flows: toml::from_str(fixture.flows).expect("the fixture's flows parse"),
        allow_password_change: fixture.password_change,
        ..ScanConfig::fixture(target)
    };
    if fixture.writes {
        config.probe.allow_writes = true;
        config.writes = Some(WriteMode::new(Some("staging")).expect("staging is not production"));
    }
    ScanContext::for_fixture_with(fixture.transport, config)
        .await
        .expect("the fixture scan prepares")
}

/// The exchange log of a context, one line per request, for failure messages.
fn exchange_log(cx: &ScanContext) -> String {
    cx.probe
        .exchanges()
        .iter()
        .filter(|x| x.response.as_ref().is_none_or(|r| r.status != 404))
        .map(|x| {
            format!(
                "  {} {} -> {:?}{}",
                x.request.method,
                x.request.url,
                x.response.as_ref().map(|r| r.status),
                x.error.as_ref().map(|e| format!(" {e:?}")).unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs the row's check on its fixture: the codes it found, or why the row failed.
async fn run(row: &Row) -> Result<(), String> {
    let cx = context((row.build)()).await;
    let check = authprobe_checks::registry::all()
        .iter()
        .find(|c| c.meta().code == row.code)
        .unwrap_or_else(|| panic!("{} is a registered check", row.code));
    let expected: Vec<&str> = if row.found { vec![row.code] } else { Vec::new() };
    match check.run(&cx).await {
        CheckOutcome::Ran(findings) => {
            let mut found: Vec<&str> = findings.iter().map(|_| row.code).collect();
            found.dedup();
            if found == expected {
                Ok(())
            } else {
                let messages: Vec<&str> = findings.iter().map(|f| f.message.as_str()).collect();
                Err(format!(
                    "{} on `{}`: expected {expected:?}, found {found:?} {messages:#?}\n{}",
                    row.code,
                    row.fixture,
                    exchange_log(&cx)
                ))
            }
        }
        CheckOutcome::Skipped(why) => Err(format!(
            "{} on `{}` was skipped: {why}\n{}",
            row.code,
            row.fixture,
            exchange_log(&cx)
        )),
    }
}

/// The messages of the findings check `code` reports on `fixture` (a skip is a failure).
pub async fn messages(code: &str, fixture: Fixture) -> Vec<String> {
    let cx = context(fixture).await;
    let check = authprobe_checks::registry::all()
        .iter()
        .find(|c| c.meta().code == code)
        .unwrap_or_else(|| panic!("{code} is a registered check"));
    match check.run(&cx).await {
        CheckOutcome::Ran(findings) => findings.into_iter().map(|f| f.message).collect(),
        CheckOutcome::Skipped(why) => panic!("{code} was skipped: {why}\n{}", exchange_log(&cx)),
    }
}

/// Runs every row (side by side: the checks that wait out short-lived tokens wait
/// together) and fails with every mismatch at once.
pub async fn assert_table(family: &str, rows: &[Row]) {
    let outcomes = futures::future::join_all(rows.iter().map(run)).await;
    let failures: Vec<String> = outcomes.into_iter().filter_map(Result::err).collect();
    assert!(
        failures.is_empty(),
        "{} of the {} {family} rows failed:\n\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n\n")
    );
}

/// Every table covers each of its family's checks with a flawed and a hardened row.
pub fn assert_covers(rows: &[Row], codes: &[&str]) {
    for code in codes {
        for found in [true, false] {
            assert!(
                rows.iter().any(|r| r.code == *code && r.found == found),
                "{code} has no {} fixture",
                if found { "flawed" } else { "hardened" }
            );
        }
    }
}

// --- HTTP helpers for the scripted APIs --------------------------------------------------

pub fn url(req: &RecordedRequest) -> Url {
    Url::parse(&req.url).expect("the probe sends absolute URLs")
}

pub fn path(req: &RecordedRequest) -> String {
    url(req).path().to_string()
}

pub fn query(req: &RecordedRequest, name: &str) -> Option<String> {
    url(req)
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

pub fn header<'a>(req: &'a RecordedRequest, name: &str) -> Option<&'a str> {
    req.headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The token of an `Authorization: Bearer …` header (the scheme in any case).
pub fn bearer(req: &RecordedRequest) -> Option<String> {
    let value = header(req, "authorization")?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_string())
}

pub fn cookie(req: &RecordedRequest, name: &str) -> Option<String> {
    header(req, "cookie")?
        .split(';')
        .filter_map(|p| p.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// Whether the body is a form (`application/x-www-form-urlencoded`), not JSON.
pub fn is_form(req: &RecordedRequest) -> bool {
    header(req, "content-type").is_some_and(|c| c.contains("x-www-form-urlencoded"))
}

/// The string fields of a JSON object body or a form body.
pub fn fields(req: &RecordedRequest) -> HashMap<String, String> {
    let body = req.body.clone().unwrap_or_default();
    if is_form(req) {
        return url::form_urlencoded::parse(body.as_bytes()).into_owned().collect();
    }
    match serde_json::from_str::<serde_json::Value>(&body) {
        Ok(serde_json::Value::Object(map)) => map
            .into_iter()
            .filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_string())))
            .collect(),
        _ => HashMap::new(),
    }
}

pub fn html(status: u16, body: &str) -> ScriptedAnswer {
    ScriptedAnswer::new(status)
        .header("Content-Type", "text/html; charset=utf-8")
        .body(body)
}

/// Express's answer to a method no route takes at a path.
pub fn express_not_found(req: &RecordedRequest) -> ScriptedAnswer {
    html(
        404,
        &format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Error</title>\n</head>\n<body>\n<pre>Cannot {} {}</pre>\n</body>\n</html>\n",
            req.method,
            path(req)
        ),
    )
}

/// Express's automatic `OPTIONS` answer for a route that takes only POST.
pub fn express_options_post() -> ScriptedAnswer {
    ScriptedAnswer::new(200)
        .header("Allow", "POST")
        .header("Content-Type", "text/html; charset=utf-8")
        .body("POST")
}

pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// `len` random characters of `alphabet`.
pub fn random_string(len: usize, alphabet: &[u8]) -> String {
    (0..len)
        .map(|_| alphabet[rand::random::<u32>() as usize % alphabet.len()] as char)
        .collect()
}

pub const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
pub const HEX: &[u8] = b"0123456789abcdef";

/// A random UUID v4, as `crypto.randomUUID()` and `uuid.uuid4()` make them.
pub fn uuid4() -> String {
    let hex = random_string(32, HEX);
    let variant = ["8", "9", "a", "b"][rand::random::<u32>() as usize % 4];
    format!(
        "{}-{}-4{}-{variant}{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

/// The accounts of a scripted API, with passwords that a password change can change.
pub struct Accounts(Mutex<HashMap<String, String>>);

impl Default for Accounts {
    fn default() -> Self {
        Accounts(Mutex::new(
            USERS.iter().map(|(u, p)| (u.to_string(), p.to_string())).collect(),
        ))
    }
}

impl Accounts {
    pub fn check(&self, username: &str, password: &str) -> bool {
        self.0.lock().unwrap().get(username).is_some_and(|p| p == password)
    }

    pub fn set(&self, username: &str, password: &str) {
        self.0
            .lock()
            .unwrap()
            .insert(username.to_string(), password.to_string());
    }

    /// The account's id (1 for alice, 2 for bob).
    pub fn id(username: &str) -> Option<u32> {
        USERS.iter().position(|(u, _)| *u == username).map(|i| i as u32 + 1)
    }

    pub fn by_id(id: &str) -> Option<&'static str> {
        let id: usize = id.parse().ok()?;
        USERS.get(id.checked_sub(1)?).map(|(u, _)| *u)
    }
}
