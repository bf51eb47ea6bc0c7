//! Authentication × fixtures: each check on a flawed and a hardened API of another stack
//! than Django (Express/Passport, FastAPI, Flask-JWT-Extended).

use crate::api::{fixture, fixture_with, flawed, Flaws, Stack};
use crate::verify_table;

#[tokio::test]
async fn authentication_checks_find_each_flaw_and_pass_the_hardened_apis() {
    let rows = vec![
        // The orders list is behind passport, an order's detail route forgot it.
        (
            "AUTH001",
            fixture(
                "order detail route without its auth middleware",
                Stack::Express,
                flawed(|f| f.open_detail = true),
            ),
            true,
        ),
        (
            "AUTH001",
            fixture("every route behind passport", Stack::Express, Flaws::default()),
            false,
        ),
        // Left out, a miss: FastAPI's `[{"id": …}]` and Laravel's `{"data": [{"id": …}]}`
        // list ids without URLs, and discovery builds object URLs from listed ids only with
        // a spec: `/api/items/{id}` is never in the inventory, so an open detail route
        // there is not found (BOLA001 builds the same URLs itself and finds its rows).
        // (
        //     "AUTH001",
        //     fixture("item detail route without its dependency", Stack::FastApi,
        //         flawed(|f| f.open_detail = true)),
        //     true,
        // ),
        // `get_current_user` catches JWTError and returns the demo account.
        (
            "AUTH002",
            fixture(
                "a token that does not decode falls back to the demo user",
                Stack::FastApi,
                flawed(|f| f.garbage_accepted = true),
            ),
            true,
        ),
        (
            "AUTH002",
            fixture(
                "OAuth2PasswordBearer, 401 on a bad token",
                Stack::FastApi,
                Flaws::default(),
            ),
            false,
        ),
        // An API key in `X-API-Key`: the garbage is presented there.
        (
            "AUTH002",
            fixture_with(
                "an unknown X-API-Key falls back to the demo user",
                Stack::Express,
                flawed(|f| f.garbage_accepted = true),
                |api| api.api_key = true,
                |_| {},
            ),
            true,
        ),
        (
            "AUTH002",
            fixture_with(
                "an unknown X-API-Key is refused",
                Stack::Express,
                Flaws::default(),
                |api| api.api_key = true,
                |_| {},
            ),
            false,
        ),
        // passport-jwt with `ExtractJwt.fromUrlQueryParameter("token")` beside the header.
        (
            "AUTH003",
            fixture(
                "the JWT is also read from ?token=",
                Stack::Express,
                flawed(|f| f.query_token = true),
            ),
            true,
        ),
        (
            "AUTH003",
            fixture(
                "the JWT is read from the Authorization header only",
                Stack::Express,
                Flaws::default(),
            ),
            false,
        ),
        // An API key in `X-API-Key`, also read from `?token=`.
        (
            "AUTH003",
            fixture_with(
                "the X-API-Key key is also read from ?token=",
                Stack::Express,
                flawed(|f| f.query_token = true),
                |api| api.api_key = true,
                |_| {},
            ),
            true,
        ),
        (
            "AUTH003",
            fixture_with(
                "the key is read from X-API-Key only",
                Stack::Express,
                Flaws::default(),
                |api| api.api_key = true,
                |_| {},
            ),
            false,
        ),
        // An API key also read from `?api_key=` (the usual name for a key in the query).
        (
            "AUTH003",
            fixture_with(
                "the X-API-Key key is also read from ?api_key=",
                Stack::Express,
                flawed(|f| f.query_token = true),
                |api| {
                    api.api_key = true;
                    api.query_params = &["api_key"];
                },
                |_| {},
            ),
            true,
        ),
        // A key read from a query parameter of no common name, which the served spec
        // declares (`apiKey` `in: query`).
        (
            "AUTH003",
            fixture_with(
                "the key is also read from ?shop_key=, as the spec declares",
                Stack::Express,
                flawed(|f| f.query_token = true),
                |api| {
                    api.api_key = true;
                    api.spec = true;
                    api.spec_query_key = Some("shop_key");
                    api.query_params = &["shop_key"];
                },
                |_| {},
            ),
            true,
        ),
        // `@app.before_request` that authenticates GET and POST only.
        (
            "AUTH004",
            fixture(
                "the auth hook skips HEAD",
                Stack::Flask,
                flawed(|f| f.head_bypass = true),
            ),
            true,
        ),
        (
            "AUTH004",
            fixture("@jwt_required on every method", Stack::Flask, Flaws::default()),
            false,
        ),
        (
            "AUTH005",
            fixture(
                "login says `User not found` vs `Incorrect password`",
                Stack::Express,
                flawed(|f| f.enumeration = true),
            ),
            true,
        ),
        (
            "AUTH005",
            fixture(
                "one `Invalid username or password` for both",
                Stack::Express,
                Flaws::default(),
            ),
            false,
        ),
        (
            "AUTH005",
            fixture(
                "`Incorrect username or password` for both",
                Stack::FastApi,
                Flaws::default(),
            ),
            false,
        ),
        // A refresh JWT (`"type": "refresh"`, no `token_type`) at the API as a Bearer token.
        (
            "AUTH006",
            fixture(
                "a decorator that verifies the signature, not the type",
                Stack::Flask,
                flawed(|f| f.refresh_as_access = true),
            ),
            true,
        ),
        (
            "AUTH006",
            fixture(
                "@jwt_required() refuses refresh tokens (422)",
                Stack::Flask,
                Flaws::default(),
            ),
            false,
        ),
        (
            "AUTH007",
            fixture(
                "passport-jwt 401s without a challenge",
                Stack::Express,
                flawed(|f| f.no_challenge = true),
            ),
            true,
        ),
        (
            "AUTH007",
            fixture(
                "OAuth2PasswordBearer 401s with `WWW-Authenticate: Bearer`",
                Stack::FastApi,
                Flaws::default(),
            ),
            false,
        ),
        (
            "AUTH007",
            fixture(
                "passport-http-bearer 401s with a Bearer challenge",
                Stack::Express,
                Flaws::default(),
            ),
            false,
        ),
        // swagger-jsdoc documents `bearerAuth`; the middleware reads `x-access-token`.
        (
            "SPEC001",
            fixture_with(
                "spec documents bearerAuth, server reads x-access-token",
                Stack::Express,
                flawed(|f| f.x_access_token_only = true),
                |api| api.spec = true,
                |_| {},
            ),
            true,
        ),
        (
            "SPEC001",
            fixture_with(
                "spec documents bearerAuth, server reads Bearer",
                Stack::Express,
                Flaws::default(),
                |api| api.spec = true,
                |_| {},
            ),
            false,
        ),
    ];
    verify_table("authentication", rows).await;
}
