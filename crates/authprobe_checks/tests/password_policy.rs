//! PASS001 through the transport seam: a Fastify-style JSON API with a bearer login, a
//! password change and (optionally) an OpenAPI spec. The spec's short `minLength` is found
//! passively; weak passwords the change accepts are found under `--allow-password-change`,
//! each changed back at once; the hardened API passes; without the opt-in and a stated
//! length the check says what it did not test.

use std::sync::{Arc, Mutex};

use authprobe_core::config::{ScanConfig, UserCredential};
use authprobe_core::engine::FIXTURE_BASE;
use authprobe_core::exchange::RecordedRequest;
use authprobe_core::probe::{ScriptedAnswer, Transport};
use authprobe_core::target::Target;
use authprobe_core::{CheckOutcome, ScanContext, Severity};
use serde_json::{json, Value};
use url::Url;

const ORIGINAL: &str = "alice-pass-1";

struct PolicyApi {
    /// The change takes any password (no policy).
    accepts_weak: bool,
    /// The spec states `minLength` for the sign-up's password (`None`: no spec served).
    spec_min_length: Option<u64>,
    password: Mutex<String>,
    tokens: Mutex<Vec<String>>,
    changes: Mutex<Vec<String>>,
}

fn body(req: &RecordedRequest) -> Value {
    req.body
        .as_deref()
        .and_then(|b| serde_json::from_str(b).ok())
        .unwrap_or_default()
}

impl PolicyApi {
    fn authorized(&self, req: &RecordedRequest) -> bool {
        let bearer = req
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
            .and_then(|(_, v)| v.strip_prefix("Bearer "));
        bearer.is_some_and(|t| self.tokens.lock().unwrap().iter().any(|s| s == t))
    }

    fn answer(&self, req: &RecordedRequest) -> ScriptedAnswer {
        let url = Url::parse(&req.url).unwrap();
        match (req.method.as_str(), url.path()) {
            ("GET", "/openapi.json") if self.spec_min_length.is_some() => ScriptedAnswer::json(
                200,
                json!({"openapi": "3.0.3", "info": {"title": "shop", "version": "1"}, "paths": {
                    "/api/auth/login": {"post": {"summary": "Log in", "requestBody": {"content": {"application/json": {"schema": {
                        "type": "object", "properties": {"username": {"type": "string"}, "password": {"type": "string"}}}}}}}},
                    "/api/auth/register": {"post": {"summary": "Sign up", "requestBody": {"content": {"application/json": {"schema": {
                        "type": "object", "properties": {"username": {"type": "string"},
                        "password": {"type": "string", "minLength": self.spec_min_length}}}}}}}},
                    "/api/me": {"get": {"summary": "Me"}}
                }}),
            ),
            ("POST", "/api/auth/login") => {
                let b = body(req);
                if b["username"] != "alice" || b["password"] != *self.password.lock().unwrap() {
                    return ScriptedAnswer::json(401, json!({"message": "Invalid credentials"}));
                }
                let mut tokens = self.tokens.lock().unwrap();
                let token = format!("{:048x}", 0xfa57_u128 * 65_537 + tokens.len() as u128);
                tokens.push(token.clone());
                ScriptedAnswer::json(200, json!({"token": token}))
            }
            ("GET", "/api/me") if self.authorized(req) => ScriptedAnswer::json(
                200,
                json!({"id": 1, "username": "alice", "email": "alice@example.test"}),
            ),
            ("GET", "/api/me") => ScriptedAnswer::json(401, json!({"message": "Unauthorized"})),
            ("POST", "/api/auth/password") if self.authorized(req) => {
                let b = body(req);
                let mut password = self.password.lock().unwrap();
                if b["current_password"] != *password {
                    return ScriptedAnswer::json(400, json!({"message": "current password is wrong"}));
                }
                let new = b["new_password"].as_str().unwrap_or_default().to_string();
                let strong = new.len() >= 8 && new != "password" && new != "12345678" && !new.contains("alice");
                if !strong && !self.accepts_weak {
                    return ScriptedAnswer::json(400, json!({"message": "password too weak"}));
                }
                self.changes.lock().unwrap().push(new.clone());
                *password = new;
                ScriptedAnswer::json(200, json!({"message": "password changed"}))
            }
            ("POST", "/api/auth/password") => ScriptedAnswer::json(401, json!({"message": "Unauthorized"})),
            _ => ScriptedAnswer::json(404, json!({"message": "Not Found"})),
        }
    }
}

const FLOWS: &str = r#"
[login]
path = "/api/auth/login"
[identity]
path = "/api/me"
[password_change]
path = "/api/auth/password"
old_field = "current_password"
new_fields = ["new_password"]
"#;

async fn run(
    accepts_weak: bool,
    spec_min_length: Option<u64>,
    opt_in: bool,
) -> (Result<Vec<(Severity, String)>, String>, Arc<PolicyApi>) {
    let api = Arc::new(PolicyApi {
        accepts_weak,
        spec_min_length,
        password: Mutex::new(ORIGINAL.into()),
        tokens: Mutex::default(),
        changes: Mutex::default(),
    });
    let served = api.clone();
    let transport: Arc<dyn Transport> = Arc::new(move |req: &RecordedRequest| served.answer(req));
    let config = ScanConfig {
        users: vec![UserCredential {
            username: "alice".into(),
            password: ORIGINAL.into(),
        }],
        flows: toml::from_str(FLOWS).unwrap(),
        allow_password_change: opt_in,
        ..ScanConfig::fixture(Target::parse(FIXTURE_BASE).unwrap())
    };
    let cx: ScanContext = ScanContext::for_fixture_with(transport, config).await.unwrap();
    let check = authprobe_checks::registry::all()
        .iter()
        .find(|c| c.meta().code == "PASS001")
        .expect("PASS001 is registered");
    let outcome = match check.run(&cx).await {
        CheckOutcome::Ran(findings) => Ok(findings
            .into_iter()
            .map(|f| (f.severity.unwrap_or(Severity::Medium), f.message))
            .collect()),
        CheckOutcome::Skipped(why) => Err(why),
    };
    (outcome, api)
}

#[tokio::test]
async fn weak_passwords_the_change_accepts_are_found_and_each_changed_back() {
    let (found, api) = run(true, None, true).await;
    let found = found.unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    let (severity, message) = &found[0];
    assert_eq!(*severity, Severity::Medium);
    for weak in ["`x`", "`password`", "`12345678`", "`alice`", "`alice@example.test`"] {
        assert!(message.contains(weak), "{weak} missing: {message}");
    }
    assert_eq!(*api.password.lock().unwrap(), ORIGINAL, "the password was not restored");
    let changes = api.changes.lock().unwrap();
    assert_eq!(changes.len(), 10, "each weak change and its undoing: {changes:?}");
}

#[tokio::test]
async fn a_change_that_refuses_weak_passwords_passes() {
    let (found, api) = run(false, None, true).await;
    assert_eq!(found, Ok(vec![]));
    assert!(api.changes.lock().unwrap().is_empty());
    assert_eq!(*api.password.lock().unwrap(), ORIGINAL);
}

#[tokio::test]
async fn a_short_min_length_in_the_spec_is_found_without_the_opt_in() {
    let (found, api) = run(false, Some(4), false).await;
    let found = found.unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, Severity::Low);
    assert!(
        found[0].1.contains("POST /api/auth/register") && found[0].1.contains("minLength 4"),
        "{found:?}"
    );
    assert!(
        api.changes.lock().unwrap().is_empty(),
        "no password was changed without the opt-in"
    );
    // A stated floor of 8 or more passes; stating nothing and no opt-in is a skip that says why.
    assert_eq!(run(false, Some(12), false).await.0, Ok(vec![]));
    let why = run(true, None, false).await.0.unwrap_err();
    assert!(
        why.contains("--allow-password-change") && why.contains("no password length"),
        "{why}"
    );
}
