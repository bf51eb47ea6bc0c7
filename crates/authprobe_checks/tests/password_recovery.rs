//! PASS002 through the transport seam, with an in-memory mailbox the scripted target
//! "mails": an Express-style JSON API whose reset e-mail links to a server-rendered
//! set-password page. Each weakness alone is found with exactly its finding; the hardened
//! API passes; without a mailbox only the answer is read, and the rest is skipped.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use authprobe_core::config::{ScanConfig, UserCredential};
use authprobe_core::engine::FIXTURE_BASE;
use authprobe_core::exchange::RecordedRequest;
use authprobe_core::mailbox::{MailDrop, Mailbox, Message};
use authprobe_core::probe::{ScriptedAnswer, Transport};
use authprobe_core::redact::Redactor;
use authprobe_core::target::Target;
use authprobe_core::{CheckOutcome, ScanContext, Severity};
use serde_json::{json, Value};
use url::Url;

#[derive(Default, Clone, Copy)]
struct Flaws {
    /// The link is built from `X-Forwarded-Host` (and `Host`) as sent.
    host_poisoning: bool,
    /// A used token stays valid.
    reuse: bool,
    /// The e-mail says the link lasts 2 days (hardened: 30 minutes).
    long_lifetime: bool,
    /// The reset answer echoes the token (`{"resetToken": …}`).
    token_in_answer: bool,
    /// The link points at the single-page front end on another origin (not a flaw).
    front_end_link: bool,
    /// The mail carries a one-time code to type instead of a link (not a flaw).
    code_not_link: bool,
}

struct ResetApi {
    flaws: Flaws,
    mail: MailDrop,
    /// Reset tokens: whether each is still valid.
    tokens: Mutex<HashMap<String, bool>>,
    sessions: Mutex<Vec<String>>,
    password_sets: Mutex<usize>,
}

fn header<'a>(req: &'a RecordedRequest, name: &str) -> Option<&'a str> {
    req.headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn body(req: &RecordedRequest) -> Value {
    req.body
        .as_deref()
        .and_then(|b| serde_json::from_str(b).ok())
        .unwrap_or_default()
}

fn form(req: &RecordedRequest) -> HashMap<String, String> {
    url::form_urlencoded::parse(req.body.as_deref().unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

const PAGE_HEADERS: (&str, &str) = ("Content-Type", "text/html; charset=utf-8");

impl ResetApi {
    fn answer(&self, req: &RecordedRequest) -> ScriptedAnswer {
        let url = Url::parse(&req.url).unwrap();
        assert_eq!(
            url.host_str(),
            Some("127.0.0.1"),
            "a request left the target: {}",
            req.url
        );
        match (req.method.as_str(), url.path()) {
            ("GET", "/") => ScriptedAnswer::json(
                200,
                json!({"login": "/api/auth/login", "me": "/api/me", "reset": "/api/auth/password/reset"}),
            ),
            ("POST", "/api/auth/login") => {
                let b = body(req);
                let who = if b["email"].is_null() {
                    &b["username"]
                } else {
                    &b["email"]
                };
                if who != "alice@example.test" || b["password"] != "alice-pass-1" {
                    return ScriptedAnswer::json(401, json!({"error": "invalid credentials"}));
                }
                let mut sessions = self.sessions.lock().unwrap();
                let token = format!("{:064x}", 0xa11ce_u128 * 104_729 + sessions.len() as u128);
                sessions.push(token.clone());
                ScriptedAnswer::json(200, json!({"token": token}))
            }
            (_, "/api/auth/login") | (_, "/api/auth/password/reset") if req.method != "POST" => {
                ScriptedAnswer::json(405, json!({"error": "method not allowed"}))
            }
            ("GET", "/api/me") => {
                let bearer = header(req, "authorization").and_then(|h| h.strip_prefix("Bearer "));
                if bearer.is_some_and(|t| self.sessions.lock().unwrap().iter().any(|s| s == t)) {
                    ScriptedAnswer::json(200, json!({"id": 1, "email": "alice@example.test", "name": "Alice"}))
                } else {
                    ScriptedAnswer::json(401, json!({"error": "unauthorized"}))
                }
            }
            ("POST", "/api/auth/password/reset") => self.reset(req),
            ("GET", "/reset-password") => {
                let token = url
                    .query_pairs()
                    .find(|(k, _)| k == "token")
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default();
                if self.tokens.lock().unwrap().get(&token) == Some(&true) {
                    ScriptedAnswer::new(200)
                        .header(PAGE_HEADERS.0, PAGE_HEADERS.1)
                        .body(&format!(
                            "<html><body><h1>Choose a new password</h1>\
                         <form method=\"post\" action=\"/reset-password\">\
                         <input type=\"hidden\" name=\"token\" value=\"{token}\">\
                         <input type=\"password\" name=\"password\">\
                         <input type=\"password\" name=\"password_confirmation\">\
                         <button type=\"submit\">Save</button></form></body></html>"
                        ))
                } else {
                    ScriptedAnswer::new(200)
                        .header(PAGE_HEADERS.0, PAGE_HEADERS.1)
                        .body("<html><body><p>This reset link is invalid or has expired.</p></body></html>")
                }
            }
            ("POST", "/reset-password") => {
                let f = form(req);
                let token = f.get("token").cloned().unwrap_or_default();
                let mut tokens = self.tokens.lock().unwrap();
                if tokens.get(&token) != Some(&true) || f.get("password") != f.get("password_confirmation") {
                    return ScriptedAnswer::new(400)
                        .header(PAGE_HEADERS.0, PAGE_HEADERS.1)
                        .body("invalid");
                }
                assert_eq!(
                    f["password"], "alice-pass-1",
                    "the scan must set the account's own password"
                );
                *self.password_sets.lock().unwrap() += 1;
                if !self.flaws.reuse {
                    tokens.insert(token, false);
                }
                ScriptedAnswer::new(302).header("Location", "/login?reset=done")
            }
            _ => ScriptedAnswer::json(404, json!({"error": "not found"})),
        }
    }

    fn reset(&self, req: &RecordedRequest) -> ScriptedAnswer {
        let b = body(req);
        let ok = json!({"message": "If that address has an account, a reset link is on its way."});
        if b["email"] != "alice@example.test" {
            return ScriptedAnswer::json(200, ok);
        }
        let n = self.tokens.lock().unwrap().len();
        let token = format!("Rt{:018}x{n:03}", 7_777_777_u64 * (n as u64 + 3));
        self.tokens.lock().unwrap().insert(token.clone(), true);
        let host = if self.flaws.front_end_link {
            "app.example.test".to_string()
        } else if self.flaws.host_poisoning {
            header(req, "x-forwarded-host")
                .or_else(|| header(req, "host"))
                .unwrap_or("127.0.0.1:9")
                .to_string()
        } else {
            "127.0.0.1:9".to_string()
        };
        let lifetime = if self.flaws.long_lifetime {
            "2 days"
        } else {
            "30 minutes"
        };
        if self.flaws.code_not_link {
            self.mail.deliver(Message::new(
                vec!["alice@example.test".into()],
                "Your reset code".into(),
                "Hi Alice,\n\nType 481516 in the app to choose a new password.\n".into(),
                None,
                SystemTime::now(),
            ));
            return ScriptedAnswer::json(200, ok);
        }
        self.mail.deliver(Message::new(
            vec!["alice@example.test".into()],
            "Reset your password".into(),
            format!(
                "Hi Alice,\n\nSomeone asked to reset your password. Follow this link:\n\n\
                 http://{host}/reset-password?token={token}\n\nThe link expires in {lifetime}.\n"
            ),
            None,
            SystemTime::now(),
        ));
        if self.flaws.token_in_answer {
            return ScriptedAnswer::json(200, json!({"message": "sent", "resetToken": token}));
        }
        ScriptedAnswer::json(200, ok)
    }
}

async fn context(flaws: Flaws, mailbox: bool, allow_password_change: bool) -> (ScanContext, Arc<ResetApi>) {
    let (inbox, drop) = Mailbox::in_memory(Arc::new(Redactor::default()));
    let api = Arc::new(ResetApi {
        flaws,
        mail: drop,
        tokens: Mutex::default(),
        sessions: Mutex::default(),
        password_sets: Mutex::default(),
    });
    let served = api.clone();
    let transport: Arc<dyn Transport> = Arc::new(move |req: &RecordedRequest| served.answer(req));
    let config = ScanConfig {
        users: vec![UserCredential {
            username: "alice@example.test".into(),
            password: "alice-pass-1".into(),
        }],
        allow_password_change,
        ..ScanConfig::fixture(Target::parse(FIXTURE_BASE).unwrap())
    };
    let mut cx = ScanContext::for_fixture_with(transport, config).await.unwrap();
    if mailbox {
        cx.mailbox = Some(Arc::new(inbox));
    }
    (cx, api)
}

/// PASS002's findings (severity, message), or the reason it skipped.
async fn pass002(cx: &ScanContext) -> Result<Vec<(Severity, String)>, String> {
    let check = authprobe_checks::registry::all()
        .iter()
        .find(|c| c.meta().code == "PASS002")
        .expect("PASS002 is registered");
    match check.run(cx).await {
        CheckOutcome::Ran(findings) => Ok(findings
            .into_iter()
            .map(|f| (f.severity.unwrap_or(Severity::High), f.message))
            .collect()),
        CheckOutcome::Skipped(why) => Err(why),
    }
}

#[tokio::test]
async fn the_hardened_reset_flow_passes_and_keeps_the_password() {
    let (cx, api) = context(Flaws::default(), true, true).await;
    assert_eq!(pass002(&cx).await, Ok(vec![]));
    assert_eq!(
        *api.password_sets.lock().unwrap(),
        1,
        "the link was used once, with the own password"
    );
    let flows = cx.flows.info();
    assert!(
        flows
            .iter()
            .any(|f| f.role == "password_reset_confirm" && f.endpoint == "/reset-password"),
        "the mailed form is a flow: {flows:?}"
    );
}

#[tokio::test]
async fn each_weakness_alone_is_found() {
    let cases: [(Flaws, Severity, &str); 4] = [
        (
            Flaws {
                host_poisoning: true,
                ..Flaws::default()
            },
            Severity::High,
            "e-mailed a link to http(s)://authprobe-",
        ),
        (
            Flaws {
                reuse: true,
                ..Flaws::default()
            },
            Severity::High,
            "still opened the set-password form",
        ),
        (
            Flaws {
                long_lifetime: true,
                ..Flaws::default()
            },
            Severity::Low,
            "valid for 2 days",
        ),
        (
            Flaws {
                token_in_answer: true,
                ..Flaws::default()
            },
            Severity::High,
            "carries the reset token it e-mails",
        ),
    ];
    for (flaws, severity, says) in cases {
        let (cx, _) = context(flaws, true, true).await;
        let found = pass002(&cx).await.unwrap();
        // Host poisoning shows twice (both headers are honoured); the others once.
        assert!(!found.is_empty(), "{says}: nothing found");
        assert!(
            found.iter().all(|(s, m)| *s == severity && m.contains(says)),
            "{says}: {found:?}"
        );
    }
}

#[tokio::test]
async fn reuse_is_tested_only_with_allow_password_change() {
    let (cx, api) = context(
        Flaws {
            reuse: true,
            ..Flaws::default()
        },
        true,
        false,
    )
    .await;
    assert_eq!(pass002(&cx).await, Ok(vec![]));
    assert_eq!(*api.password_sets.lock().unwrap(), 0, "no password was set");
}

#[tokio::test]
async fn without_a_mailbox_only_the_answer_is_read() {
    let (cx, _) = context(
        Flaws {
            host_poisoning: true,
            ..Flaws::default()
        },
        false,
        true,
    )
    .await;
    let why = pass002(&cx).await.unwrap_err();
    assert!(why.contains("--mailbox smtp://"), "{why}");
    let (cx, _) = context(
        Flaws {
            token_in_answer: true,
            ..Flaws::default()
        },
        false,
        false,
    )
    .await;
    let found = pass002(&cx).await.unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].1.contains("`resetToken`"), "{found:?}");
}

#[tokio::test]
async fn a_link_to_another_origin_is_not_followed() {
    let (cx, api) = context(
        Flaws {
            front_end_link: true,
            ..Flaws::default()
        },
        true,
        true,
    )
    .await;
    let why = pass002(&cx).await.unwrap_err();
    assert!(
        why.contains("app.example.test") && why.contains("not at the scanned origin"),
        "{why}"
    );
    assert_eq!(*api.password_sets.lock().unwrap(), 0);
}

#[tokio::test]
async fn a_mail_without_a_link_is_a_skip_that_says_so() {
    let (cx, _) = context(
        Flaws {
            code_not_link: true,
            ..Flaws::default()
        },
        true,
        true,
    )
    .await;
    let why = pass002(&cx).await.unwrap_err();
    assert!(why.contains("holds no link with a token"), "{why}");
}
