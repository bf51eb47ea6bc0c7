//! Every credential the auth layer obtains (a login's token, refresh token and session
//! cookie, a refresh's new pair) is registered with the redactor where it is obtained, so
//! none reaches any report format, the request log, the stored scan or an error, whichever
//! checks run and whatever they do with it. The target here is a scripted Express-style API
//! whose every answer that carries a credential carries one the test can recognise, and
//! that echoes the caller's token back in its identity answer (a leak the report shows).

use std::sync::{Arc, Mutex};

use authprobe_core::engine::{scan_fixture, FIXTURE_BASE};
use authprobe_core::exchange::RecordedRequest;
use authprobe_core::probe::{RequestLog, ScriptedAnswer, Transport};
use authprobe_core::target::Target;
use authprobe_core::ScanConfig;
use authprobe_report::Format;
use serde_json::json;

/// The API's state: every credential it issued, in order.
#[derive(Default)]
struct TokenApi {
    issued: Mutex<Vec<String>>,
}

impl TokenApi {
    /// A fresh credential: unguessable, and unlike any text the scanner writes itself.
    fn mint(&self, kind: &str) -> String {
        let mut issued = self.issued.lock().unwrap();
        let value = format!(
            "{kind}{:04}{:016x}{:016x}",
            issued.len(),
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        );
        issued.push(value.clone());
        value
    }

    fn issued(&self) -> Vec<String> {
        self.issued.lock().unwrap().clone()
    }

    /// The account a request's `Authorization: Bearer` token was issued to.
    fn caller(&self, req: &RecordedRequest) -> Option<String> {
        let token = req
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))?
            .1
            .strip_prefix("Bearer ")?
            .to_string();
        let issued = self.issued.lock().unwrap();
        issued.contains(&token).then(|| token.clone())
    }

    fn answer(&self, req: &RecordedRequest) -> ScriptedAnswer {
        let url = url::Url::parse(&req.url).unwrap();
        let body: serde_json::Value = req
            .body
            .as_deref()
            .and_then(|b| serde_json::from_str(b).ok())
            .unwrap_or_default();
        let denied = || ScriptedAnswer::json(401, json!({"error": {"message": "Unauthorized"}}));
        match (req.method.as_str(), url.path()) {
            ("POST", "/api/auth/login") => {
                let known = [("alice", "alice-pw-1"), ("bob", "bob-pw-2")];
                let user = body.get("username").and_then(|v| v.as_str()).unwrap_or_default();
                let password = body.get("password").and_then(|v| v.as_str()).unwrap_or_default();
                if !known.contains(&(user, password)) {
                    return ScriptedAnswer::json(401, json!({"error": {"message": "Invalid credentials"}}));
                }
                let (token, refresh, sid) = (self.mint("acc"), self.mint("ref"), self.mint("sid"));
                ScriptedAnswer::json(
                    200,
                    json!({"user": {"username": user}, "token": token, "refreshToken": refresh}),
                )
                .header("Set-Cookie", &format!("connect.sid={sid}; Path=/; HttpOnly"))
            }
            ("POST", "/api/auth/refresh") => {
                let presented = body.get("refreshToken").and_then(|v| v.as_str()).unwrap_or_default();
                if !self.issued().iter().any(|t| t == presented) {
                    return denied();
                }
                let (token, refresh) = (self.mint("acc"), self.mint("ref"));
                ScriptedAnswer::json(200, json!({"token": token, "refreshToken": refresh}))
            }
            ("POST", "/api/auth/logout") => ScriptedAnswer::json(200, json!({"ok": true})),
            ("GET", "/api/me") => match self.caller(req) {
                // The caller's own token echoed back: evidence of a leak that must be redacted.
                Some(token) => ScriptedAnswer::json(200, json!({"username": "alice", "token": token})),
                None => denied(),
            },
            ("GET", "/api/notes") => match self.caller(req) {
                Some(_) => ScriptedAnswer::json(200, json!({"notes": [{"id": 1, "owner": "alice", "title": "n"}]})),
                None => denied(),
            },
            _ => ScriptedAnswer::json(404, json!({"error": {"message": "Not Found"}})),
        }
    }
}

const FLOWS: &str = r#"
[login]
path = "/api/auth/login"
token = "$.token"
refresh = "$.refreshToken"
scheme = "Bearer"
[refresh]
path = "/api/auth/refresh"
field = "refreshToken"
access = "$.token"
refresh = "$.refreshToken"
[logout]
path = "/api/auth/logout"
[identity]
path = "/api/me"
"#;

#[tokio::test]
async fn no_credential_a_flow_obtained_reaches_a_report_the_request_log_or_the_history() {
    let api = Arc::new(TokenApi::default());
    let served = api.clone();
    let transport: Arc<dyn Transport> = Arc::new(move |req: &RecordedRequest| served.answer(req));
    let log: Arc<Mutex<Vec<String>>> = Arc::default();
    let lines = log.clone();
    let mut config = ScanConfig::fixture(Target::parse(FIXTURE_BASE).unwrap());
    config.users = vec![
        authprobe_core::target::UserCredential {
            username: "alice".into(),
            password: "alice-pw-1".into(),
        },
        authprobe_core::target::UserCredential {
            username: "bob".into(),
            password: "bob-pw-2".into(),
        },
    ];
    config.flows = toml::from_str(FLOWS).unwrap();
    config.probe.request_log = Some(RequestLog::new(move |line| {
        lines.lock().unwrap().push(line.to_string())
    }));
    let report = scan_fixture(transport, config, authprobe_checks::registry::all())
        .await
        .expect("the fixture scan runs");

    let issued = api.issued();
    assert!(
        report.identities.iter().filter(|i| i.logged_in).count() == 2,
        "both accounts log in: {:?}",
        report.identities
    );
    assert!(issued.len() > 6, "the checks logged in and refreshed again: {issued:?}");
    let mut outputs: Vec<(String, String)> = Vec::new();
    for format in [
        Format::Pretty,
        Format::Json,
        Format::Sarif,
        Format::Markdown,
        Format::Junit,
        Format::Html,
    ] {
        outputs.push((format!("{format:?} report"), format.render(&report, &[], false)));
    }
    outputs.push(("request log".into(), log.lock().unwrap().join("\n")));
    let errors: Vec<String> = report
        .identities
        .iter()
        .filter_map(|i| i.login_error.clone())
        .chain(report.checks_skipped.iter().map(|s| s.reason.clone()))
        .collect();
    outputs.push(("errors and skip reasons".into(), errors.join("\n")));

    let dir = std::env::temp_dir().join(format!("authprobe-obtained-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("history.db");
    {
        let mut store = authprobe_store::Store::open(&db).expect("open a throwaway history");
        store
            .save(&report, authprobe_store::Retention::default())
            .expect("store the scan");
    }
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        outputs.push((path.display().to_string(), String::from_utf8_lossy(&bytes).into_owned()));
    }
    let _ = std::fs::remove_dir_all(&dir);

    let mut leaks = Vec::new();
    for (place, text) in &outputs {
        for credential in &issued {
            if text.contains(credential.as_str()) {
                leaks.push(format!("{credential} in the {place}"));
            }
        }
    }
    assert!(
        leaks.is_empty(),
        "obtained credentials written out:\n{}",
        leaks.join("\n")
    );
    // The test can fail: the leak it plants is in the evidence, redacted, not absent.
    let json = Format::Json.render(&report, &[], false);
    assert!(json.contains("[redacted:"), "the evidence shows redacted credentials");
}
