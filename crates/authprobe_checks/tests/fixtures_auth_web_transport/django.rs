//! Django × fixtures: DEBUG, the default admin, verbose errors and a recovered SECRET_KEY
//! on a DRF API; the other stacks' pages, errors and weak JWT keys are the hardened side
//! of the Django-specific checks, and flawed for DJ003, which reads any stack's internals.

use crate::api::{self, Flaws, Stack};
use crate::{drf, verify_table};

#[tokio::test]
async fn django_checks_find_djangos_own_flaws_and_not_other_frameworks_pages() {
    let rows = vec![
        (
            "DJ001",
            drf::fixture("DEBUG = True", drf::flawed(|f| f.debug = true)),
            true,
        ),
        ("DJ001", drf::fixture("DEBUG = False", drf::DrfFlaws::default()), false),
        // A Werkzeug debugger traceback is not Django's technical page.
        (
            "DJ001",
            api::fixture(
                "Werkzeug debugger on a crashing route",
                Stack::Flask,
                api::flawed(|f| f.werkzeug_debugger = true),
            ),
            false,
        ),
        (
            "DJ001",
            api::fixture("`Cannot GET` 404 pages", Stack::Express, Flaws::default()),
            false,
        ),
        (
            "DJ002",
            drf::fixture("admin at /admin/", drf::flawed(|f| f.admin_exposed = true)),
            true,
        ),
        (
            "DJ002",
            drf::fixture("admin at a secret prefix", drf::DrfFlaws::default()),
            false,
        ),
        (
            "DJ002",
            api::fixture_with(
                "the app's own admin sign-in at /admin/login/",
                Stack::Express,
                Flaws::default(),
                |api| api.admin_login = Some(EXPRESS_ADMIN_LOGIN),
                |_| {},
            ),
            false,
        ),
        // The same page with `<form id="login-form">` (a common id in hand-written and
        // Bootstrap sign-in templates): not Django's admin without Django's own markers.
        (
            "DJ002",
            api::fixture_with(
                "the app's own admin sign-in, <form id=\"login-form\">",
                Stack::Express,
                Flaws::default(),
                |api| api.admin_login = Some(EXPRESS_ADMIN_LOGIN_FORM_ID),
                |_| {},
            ),
            false,
        ),
        (
            "DJ003",
            drf::fixture(
                "exception handler returns the traceback",
                drf::flawed(|f| f.verbose_errors = true),
            ),
            true,
        ),
        (
            "DJ003",
            drf::fixture("DRF's `Invalid page.`", drf::DrfFlaws::default()),
            false,
        ),
        (
            "DJ003",
            api::fixture(
                "development error handler prints err.stack",
                Stack::Express,
                api::flawed(|f| f.stack_traces = true),
            ),
            true,
        ),
        (
            "DJ003",
            api::fixture("error handler answers JSON", Stack::Express, Flaws::default()),
            false,
        ),
        (
            "DJ003",
            api::fixture(
                "Werkzeug debugger on a crashing route",
                Stack::Flask,
                api::flawed(|f| f.werkzeug_debugger = true),
            ),
            true,
        ),
        (
            "DJ004",
            drf::fixture(
                "simplejwt signs with the django-insecure key",
                drf::flawed(|f| f.default_key = true),
            ),
            true,
        ),
        (
            "DJ004",
            drf::fixture("simplejwt signs with a random key", drf::DrfFlaws::default()),
            false,
        ),
        // A weak key of another stack is JWT003's finding, not a Django SECRET_KEY.
        (
            "DJ004",
            api::fixture_with(
                "jsonwebtoken signs with `secret`",
                Stack::Express,
                Flaws::default(),
                |api| api.jwt_key = Some(b"secret"),
                |_| {},
            ),
            false,
        ),
    ];
    verify_table("django", rows).await;
}

/// An admin sign-in page an Express app renders itself (EJS), at the path Django's uses.
const EXPRESS_ADMIN_LOGIN: &str = "<!DOCTYPE html><html><head><title>Shop admin · Sign in</title></head><body><main class=\"signin\"><h1>Shop admin</h1><form action=\"/admin/login/\" method=\"post\" class=\"signin-form\"><input type=\"hidden\" name=\"_csrf\" value=\"xT9kLm2QpR7vW4zB\"><input name=\"email\" type=\"email\"><input name=\"password\" type=\"password\"><button>Sign in</button></form></main></body></html>";

/// The same page with the form id hand-written templates often use.
const EXPRESS_ADMIN_LOGIN_FORM_ID: &str = "<!DOCTYPE html><html><head><title>Shop admin · Sign in</title></head><body><main class=\"signin\"><h1>Shop admin</h1><form id=\"login-form\" action=\"/admin/login/\" method=\"post\"><input type=\"hidden\" name=\"_csrf\" value=\"xT9kLm2QpR7vW4zB\"><input name=\"email\" type=\"email\"><input name=\"password\" type=\"password\"><button>Sign in</button></form></main></body></html>";
