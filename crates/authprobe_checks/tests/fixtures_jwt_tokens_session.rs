//! The JWT, token and session checks × fixtures: each check's real `run` against scripted
//! targets of several stacks (FastAPI, Flask, Express, Laravel, Spring Boot, an OAuth 2
//! server), one flawed and one hardened at least, asserting the exact codes found. A
//! table per family; every mismatching row is reported at once, with its exchange log.

#[path = "fixtures_jwt_tokens_session/jwt.rs"]
mod jwt;
#[path = "fixtures_jwt_tokens_session/readers.rs"]
mod readers;
#[path = "fixtures_jwt_tokens_session/session.rs"]
mod session;
#[path = "fixtures_jwt_tokens_session/support.rs"]
mod support;
#[path = "fixtures_jwt_tokens_session/tokens.rs"]
mod tokens;

use support::{assert_covers, assert_table, messages};

#[tokio::test]
async fn jwt_checks_find_each_flaw_and_pass_each_hardened_api() {
    let rows = jwt::rows();
    assert_covers(
        &rows,
        &[
            "JWT001", "JWT002", "JWT003", "JWT004", "JWT005", "JWT006", "JWT007", "JWT008", "JWT009", "JWT010",
        ],
    );
    assert_table("jwt", &rows).await;
}

#[tokio::test]
async fn token_checks_find_each_weak_token_and_pass_each_strong_one() {
    let rows = tokens::rows();
    assert_covers(&rows, &["TOKEN001", "TOKEN002", "TOKEN003", "TOKEN004"]);
    assert_table("tokens", &rows).await;
}

/// An endpoint anyone can read is labelled (and sampled) as an anonymous GET, though the
/// identity's GET of it answers the same field.
#[tokio::test]
async fn a_token_source_anyone_can_read_is_named_anonymous() {
    let found = messages("TOKEN001", tokens::anonymous_hex6_pairing_codes()).await;
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].starts_with("JSON field `code` of an anonymous GET /api/devices/pairing-code"),
        "{found:#?}"
    );
}

#[tokio::test]
async fn session_checks_find_each_lifecycle_flaw_and_pass_each_hardened_app() {
    let rows = session::rows();
    assert_covers(
        &rows,
        &[
            "SESS001", "SESS002", "SESS003", "SESS004", "SESS005", "SESS006", "SESS007", "SESS008",
        ],
    );
    assert_table("session", &rows).await;
}

/// SESS006 on stacks other than Django says what it saw, not what DRF would do.
#[tokio::test]
async fn session_lifetime_words_its_findings_by_what_it_observed() {
    let static_key = messages("SESS006", session::laravel_static_api_token()).await;
    assert_eq!(static_key.len(), 1, "{static_key:#?}");
    assert!(
        static_key[0].contains("the key is static")
            && !static_key[0].contains("DRF")
            && !static_key[0].contains("Django"),
        "{static_key:#?}"
    );
    let long_cookie = messages("SESS006", session::express_month_long_session()).await;
    assert_eq!(long_cookie.len(), 1, "{long_cookie:#?}");
    assert!(
        long_cookie[0].contains("`connect.sid` with Expires ")
            && long_cookie[0].contains(" days ahead, longer than two weeks: ")
            && !long_cookie[0].contains("Django"),
        "{long_cookie:#?}"
    );
}

/// A key found among the docs' example secrets is named after the docs that print it, and
/// the key itself stays out of the message.
#[tokio::test]
async fn a_key_the_docs_print_is_reported_with_its_source() {
    let found = messages("JWT003", jwt::express_jwt_readme_secret()).await;
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].contains("express-jwt's README"), "{found:#?}");
    assert!(
        !found[0].contains("shhhhhhared-secret"),
        "the key is redacted: {found:#?}"
    );
}

/// The keys and session ids the login flows issue are sampled, and signed client-side
/// session data is not taken for a session id (issue 27, classes 8 and 10).
#[tokio::test]
async fn token_checks_read_what_the_logins_issue_and_not_client_side_sessions() {
    assert_table("readers", &readers::rows()).await;
}
