//! Rate limiting × fixtures: bursts of failed logins and refreshes against
//! express-rate-limit and Flask-Limiter, absent, keyed on the socket, or keyed on a
//! client-supplied `X-Forwarded-For`.

use crate::api::{fixture, flawed, Flaws, Stack};
use crate::verify_table;

#[tokio::test]
async fn rate_limit_checks_find_unlimited_and_spoofable_limits_and_pass_real_ones() {
    let rows = vec![
        (
            "RATE001",
            fixture(
                "login without a limiter",
                Stack::Express,
                flawed(|f| f.no_rate_limit = true),
            ),
            true,
        ),
        (
            "RATE001",
            fixture(
                "express-rate-limit: 429 after 10 failures",
                Stack::Express,
                Flaws::default(),
            ),
            false,
        ),
        // FastAPI's OAuth2 password form at `/token`, slowapi in front of it.
        (
            "RATE001",
            fixture(
                "/token without a limiter",
                Stack::FastApi,
                flawed(|f| f.no_rate_limit = true),
            ),
            true,
        ),
        (
            "RATE001",
            fixture("slowapi: 429 after 10 failures", Stack::FastApi, Flaws::default()),
            false,
        ),
        // Flask-JWT-Extended's refresh route beside `/api/login`, found by discovery.
        (
            "RATE002",
            fixture(
                "/api/token/refresh without a limiter",
                Stack::Flask,
                flawed(|f| f.no_rate_limit = true),
            ),
            true,
        ),
        (
            "RATE002",
            fixture("Flask-Limiter on /api/token/refresh", Stack::Flask, Flaws::default()),
            false,
        ),
        (
            "RATE003",
            fixture(
                "`trust proxy` on: the limiter keys on X-Forwarded-For",
                Stack::Express,
                flawed(|f| f.xff_trusted = true),
            ),
            true,
        ),
        (
            "RATE003",
            fixture(
                "the limiter keys on the socket's address",
                Stack::Express,
                Flaws::default(),
            ),
            false,
        ),
        (
            "RATE003",
            fixture(
                "slowapi keyed on X-Forwarded-For",
                Stack::FastApi,
                flawed(|f| f.xff_trusted = true),
            ),
            true,
        ),
        (
            "RATE003",
            fixture(
                "slowapi keyed on the socket's address",
                Stack::FastApi,
                Flaws::default(),
            ),
            false,
        ),
    ];
    verify_table("ratelimit", rows).await;
}
