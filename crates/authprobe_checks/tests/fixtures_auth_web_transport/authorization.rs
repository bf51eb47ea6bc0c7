//! Authorization × fixtures: object-level access across two accounts, id enumeration,
//! function-level access and mass assignment, on Express (`{"orders": [...]}`) and
//! Laravel (`{"data": [...]}`); BOLA003 on DRF, the only shape its object creation reads.

use authprobe_core::config::ScanConfig;
use authprobe_core::writes::WriteMode;

use crate::api::{fixture, fixture_with, flawed, Flaws, Stack};
use crate::{drf, verify_table};

/// Write probes on, against a declared staging deployment.
fn writes(config: &mut ScanConfig) {
    config.writes = Some(WriteMode::new(Some("staging")).expect("staging allows writes"));
    config.probe.allow_writes = true;
}

/// Write probes on, and Laravel's `POST /api/register` declared (`[endpoints] extra`).
fn writes_and_registration(config: &mut ScanConfig) {
    writes(config);
    config.extra_paths = vec!["/api/register".into()];
}

#[tokio::test]
async fn authorization_checks_find_cross_account_access_and_pass_the_scoped_apis() {
    let rows = vec![
        (
            "BOLA001",
            fixture(
                "Order.findById without an owner filter",
                Stack::Express,
                flawed(|f| f.bola = true),
            ),
            true,
        ),
        (
            "BOLA001",
            fixture("orders scoped to req.user", Stack::Express, Flaws::default()),
            false,
        ),
        // Ids without URLs, under other envelopes: the objects are built from the ids.
        (
            "BOLA001",
            fixture(
                "items read by id without an owner check",
                Stack::FastApi,
                flawed(|f| f.bola = true),
            ),
            true,
        ),
        (
            "BOLA001",
            fixture("items filtered by the current user", Stack::FastApi, Flaws::default()),
            false,
        ),
        (
            "BOLA001",
            fixture(
                "notes under {\"notes\"} read by id",
                Stack::Flask,
                flawed(|f| f.bola = true),
            ),
            true,
        ),
        (
            "BOLA001",
            fixture(
                "orders under {\"data\"} read by id",
                Stack::Laravel,
                flawed(|f| f.bola = true),
            ),
            true,
        ),
        (
            "BOLA001",
            fixture("orders behind a policy", Stack::Laravel, Flaws::default()),
            false,
        ),
        // Eloquent auto-increment ids under `{"data": [...]}`, without URLs, routed by id.
        (
            "BOLA002",
            fixture(
                "auto-increment order ids",
                Stack::Laravel,
                flawed(|f| f.sequential_ids = true),
            ),
            true,
        ),
        (
            "BOLA002",
            fixture(
                "auto-increment item ids in a plain array",
                Stack::FastApi,
                flawed(|f| f.sequential_ids = true),
            ),
            true,
        ),
        (
            "BOLA002",
            fixture("UUID order ids with their URLs", Stack::Express, Flaws::default()),
            false,
        ),
        // Counter ids listed under the collection's noun without URLs, routed by id: read
        // as BOLA001 reads listings (core's `listed_items`).
        (
            "BOLA002",
            fixture_with(
                "auto-increment ids under {\"orders\"}, no URLs",
                Stack::Express,
                flawed(|f| f.sequential_ids = true),
                |api| api.urls = false,
                |_| {},
            ),
            true,
        ),
        (
            "BOLA002",
            fixture_with(
                "auto-increment ids under {\"notes\"}, no URLs",
                Stack::Flask,
                flawed(|f| f.sequential_ids = true),
                |api| api.urls = false,
                |_| {},
            ),
            true,
        ),
        (
            "BOLA003",
            drf::fixture_with(
                "NoteDetail over Note.objects.all()",
                drf::flawed(|f| f.bola_write = true),
                writes,
            ),
            true,
        ),
        (
            "BOLA003",
            drf::fixture_with("NoteDetail over the caller's notes", drf::DrfFlaws::default(), writes),
            false,
        ),
        (
            "AUTHZ001",
            fixture(
                "/api/admin/users checks the login, not the role",
                Stack::Express,
                flawed(|f| f.bfla = true),
            ),
            true,
        ),
        (
            "AUTHZ001",
            fixture(
                "/api/admin/users requires the admin role",
                Stack::Express,
                Flaws::default(),
            ),
            false,
        ),
        // Sanctum as its tutorials write it: `{"access_token", "token_type": "Bearer"}`.
        (
            "AUTHZ002",
            fixture_with(
                "User::create($request->all()) with $guarded = []",
                Stack::Laravel,
                flawed(|f| f.mass_assignment = true),
                |api| api.token_type = true,
                writes_and_registration,
            ),
            true,
        ),
        (
            "AUTHZ002",
            fixture_with(
                "$fillable without is_admin",
                Stack::Laravel,
                Flaws::default(),
                |api| api.token_type = true,
                writes_and_registration,
            ),
            false,
        ),
        // Sanctum's bare `{"token": "1|…"}`: the scan settles on `Bearer` for alice and bob,
        // and the registered account's fresh login presents its token the same way.
        (
            "AUTHZ002",
            fixture_with(
                "User::create($request->all()), login answers {\"token\"}",
                Stack::Laravel,
                flawed(|f| f.mass_assignment = true),
                |_| {},
                writes_and_registration,
            ),
            true,
        ),
    ];
    verify_table("authorization", rows).await;
}
