//! Web × fixtures: CORS, CSP, security headers and the login's `next` redirect on
//! Express (cors, helmet), FastAPI's Swagger UI page and Flask-Login.

use crate::api::{fixture, flawed, Flaws, Stack};
use crate::verify_table;

#[tokio::test]
async fn web_checks_find_each_browser_facing_flaw_and_pass_the_hardened_apis() {
    let rows = vec![
        (
            "WEB001",
            fixture(
                "cors({origin: true, credentials: true})",
                Stack::Express,
                flawed(|f| f.cors_reflect = true),
            ),
            true,
        ),
        (
            "WEB001",
            fixture("cors with an allowlist of one origin", Stack::Express, Flaws::default()),
            false,
        ),
        (
            "WEB002",
            fixture(
                "/docs (Swagger UI) without a CSP",
                Stack::FastApi,
                flawed(|f| f.no_csp = true),
            ),
            true,
        ),
        (
            "WEB002",
            fixture("/docs with a CSP middleware", Stack::FastApi, Flaws::default()),
            false,
        ),
        (
            "WEB003",
            fixture(
                "redirect(request.args.get(\"next\"))",
                Stack::Flask,
                flawed(|f| f.open_redirect = true),
            ),
            true,
        ),
        (
            "WEB003",
            fixture("next must be a local path", Stack::Flask, Flaws::default()),
            false,
        ),
        (
            "WEB004",
            fixture("no helmet", Stack::Express, flawed(|f| f.no_security_headers = true)),
            true,
        ),
        (
            "WEB004",
            fixture("helmet's headers on every answer", Stack::Express, Flaws::default()),
            false,
        ),
    ];
    verify_table("web", rows).await;
}
