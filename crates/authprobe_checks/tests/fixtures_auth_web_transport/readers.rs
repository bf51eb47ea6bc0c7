//! Issue 27, class 8 × fixtures: checks that read what the target serves rather than a
//! narrow list. An Express shop written the way tutorials write it (`express.json()`,
//! a `POST /api/auth/login` route only, `res.json({success: false, message})` for a
//! failed login, Mongoose documents serialised whole), once flawed and once hardened.

use std::sync::Arc;

use authprobe_core::exchange::RecordedRequest;
use authprobe_core::probe::ScriptedAnswer;
use serde_json::{json, Value};

use crate::{header, html, json_body, str_field, verify_table, Fixture};

/// The shop's flaws (all off: the hardened shop).
#[derive(Clone, Copy, Default)]
pub struct ShopFlaws {
    /// The login says "User not found" vs "Incorrect password", both with HTTP 200 (AUTH005).
    pub enumeration_200: bool,
    /// `GET /api/users` is open and returns `User.find()` whole, plaintext passwords
    /// included (AUTH001 on the content).
    pub users_with_passwords: bool,
}

struct Shop {
    flaws: ShopFlaws,
}

const ACCOUNTS: &[(&str, &str, &str)] = &[
    ("alice", "pw-1", "4f1c2e7a9b3d5f60a1b2c3d4e5f60718293a4b5c"),
    ("bob", "pw-2", "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a291807"),
];

fn express_not_found(req: &RecordedRequest) -> ScriptedAnswer {
    let path = url::Url::parse(&req.url)
        .map(|u| u.path().to_string())
        .unwrap_or_default();
    html(
        404,
        &format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Error</title>\n</head>\n<body>\n<pre>Cannot {} {path}</pre>\n</body>\n</html>\n",
            req.method
        ),
    )
}

impl Shop {
    fn caller(&self, req: &RecordedRequest) -> Option<&'static str> {
        let token = header(req, "authorization")?.strip_prefix("Bearer ")?;
        ACCOUNTS.iter().find(|(_, _, t)| *t == token).map(|(u, _, _)| *u)
    }

    fn answer(&self, req: &RecordedRequest) -> ScriptedAnswer {
        let path = url::Url::parse(&req.url)
            .map(|u| u.path().to_string())
            .unwrap_or_default();
        match (req.method.as_str(), path.as_str()) {
            ("GET", "/") => ScriptedAnswer::json(200, json!({"name": "shop-api", "version": "1.4.2"})),
            ("OPTIONS", "/api/auth/login") => ScriptedAnswer::new(200)
                .header("Allow", "POST")
                .header("Content-Type", "text/html; charset=utf-8")
                .body("POST"),
            ("POST", "/api/auth/login") => self.login(req),
            ("GET", "/api/auth/me") => match self.caller(req) {
                Some(user) => ScriptedAnswer::json(200, json!({"success": true, "user": {"_id": id_of(user), "username": user}})),
                None => ScriptedAnswer::json(401, json!({"success": false, "message": "Unauthorized"})),
            },
            ("GET", "/api/users") if self.flaws.users_with_passwords => ScriptedAnswer::json(
                200,
                Value::Array(
                    ACCOUNTS
                        .iter()
                        .map(|(u, p, _)| json!({"_id": id_of(u), "username": u, "password": p, "role": "customer", "__v": 0}))
                        .collect(),
                ),
            ),
            ("GET", "/api/users") => match self.caller(req) {
                Some(_) => ScriptedAnswer::json(
                    200,
                    Value::Array(ACCOUNTS.iter().map(|(u, _, _)| json!({"_id": id_of(u), "username": u})).collect()),
                ),
                None => ScriptedAnswer::json(401, json!({"success": false, "message": "Unauthorized"})),
            },
            _ => express_not_found(req),
        }
    }

    fn login(&self, req: &RecordedRequest) -> ScriptedAnswer {
        let Some(body) = json_body(req) else {
            return ScriptedAnswer::json(
                400,
                json!({"success": false, "message": "Username and password are required"}),
            );
        };
        let (Some(user), Some(password)) = (str_field(&body, "username"), str_field(&body, "password")) else {
            return ScriptedAnswer::json(
                400,
                json!({"success": false, "message": "Username and password are required"}),
            );
        };
        match ACCOUNTS.iter().find(|(u, _, _)| *u == user) {
            Some((_, p, token)) if *p == password => ScriptedAnswer::json(
                200,
                json!({"success": true, "token": token, "user": {"_id": id_of(&user), "username": user}}),
            ),
            Some(_) if self.flaws.enumeration_200 => {
                ScriptedAnswer::json(200, json!({"success": false, "message": "Incorrect password"}))
            }
            None if self.flaws.enumeration_200 => {
                ScriptedAnswer::json(200, json!({"success": false, "message": "User not found"}))
            }
            _ => ScriptedAnswer::json(
                200,
                json!({"success": false, "message": "Invalid username or password"}),
            ),
        }
    }
}

fn id_of(user: &str) -> &'static str {
    match user {
        "alice" => "65a1f0c2e4b0a1b2c3d4e5f6",
        _ => "65a1f0c2e4b0a1b2c3d4e5f7",
    }
}

fn shop(name: &str, flaws: ShopFlaws) -> Fixture {
    Fixture::new(format!("Express shop: {name}"), move || async move {
        let shop = Arc::new(Shop { flaws });
        let mut config = crate::config(authprobe_core::engine::FIXTURE_BASE);
        config.extra_paths = vec!["/api/users".into()];
        crate::context_with(move |req: &RecordedRequest| shop.answer(req), config).await
    })
}

#[tokio::test]
async fn checks_read_failed_logins_and_own_passwords_whatever_their_shape() {
    let rows = vec![
        (
            "AUTH005",
            shop(
                "HTTP 200 `User not found` vs `Incorrect password`",
                ShopFlaws {
                    enumeration_200: true,
                    ..ShopFlaws::default()
                },
            ),
            true,
        ),
        (
            "AUTH005",
            shop("HTTP 200 `Invalid username or password` for both", ShopFlaws::default()),
            false,
        ),
        (
            "AUTH001",
            shop(
                "User.find() served to anyone with the seed's 4-character passwords",
                ShopFlaws {
                    users_with_passwords: true,
                    ..ShopFlaws::default()
                },
            ),
            true,
        ),
        (
            "AUTH001",
            shop("/api/users behind the JWT middleware", ShopFlaws::default()),
            false,
        ),
    ];
    verify_table("readers", rows).await;
}
