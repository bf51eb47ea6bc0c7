//! Transport × fixtures: an Express API served at `https://api.example.test/`, its
//! plain-HTTP origin redirecting (hardened) or serving the app (flawed).

use crate::api::{fixture_with, flawed, https, Flaws, Stack};
use crate::verify_table;

#[tokio::test]
async fn transport_checks_find_plain_http_and_weak_https_and_pass_the_hardened_origin() {
    let rows = vec![
        (
            "TLS001",
            fixture_with(
                "plain HTTP serves the app",
                Stack::Express,
                flawed(|f| f.plain_http = true),
                https,
                |_| {},
            ),
            true,
        ),
        (
            "TLS001",
            fixture_with(
                "plain HTTP answers 301 to https://",
                Stack::Express,
                Flaws::default(),
                https,
                |_| {},
            ),
            false,
        ),
        (
            "TLS002",
            fixture_with(
                "POST /api/auth/login processed over plain HTTP",
                Stack::Express,
                flawed(|f| f.plain_http = true),
                https,
                |_| {},
            ),
            true,
        ),
        (
            "TLS002",
            fixture_with(
                "POST over plain HTTP answers 301",
                Stack::Express,
                Flaws::default(),
                https,
                |_| {},
            ),
            false,
        ),
        (
            "TLS003",
            fixture_with(
                "no Strict-Transport-Security",
                Stack::Express,
                flawed(|f| f.no_hsts = true),
                https,
                |_| {},
            ),
            true,
        ),
        (
            "TLS003",
            fixture_with(
                "helmet's HSTS: a year, includeSubDomains",
                Stack::Express,
                Flaws::default(),
                https,
                |_| {},
            ),
            false,
        ),
        // The login's `refreshToken` cookie (a Token cookie by name).
        (
            "TLS004",
            fixture_with(
                "refreshToken cookie without Secure and SameSite",
                Stack::Express,
                flawed(|f| f.insecure_cookie = true),
                https,
                |_| {},
            ),
            true,
        ),
        (
            "TLS004",
            fixture_with(
                "refreshToken cookie HttpOnly; Secure; SameSite=Strict",
                Stack::Express,
                Flaws::default(),
                https,
                |_| {},
            ),
            false,
        ),
    ];
    verify_table("transport", rows).await;
}
