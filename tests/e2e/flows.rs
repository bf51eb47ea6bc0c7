//! Login flows: detection of the common Django stacks, and the declared `[flows.*]`
//! examples of the README (`examples/flows/*.toml`), each driven against the real
//! packages (the testbed mounts dj-rest-auth and knox with `--apps`).

use serde_json::Value;
use std::sync::{Arc, OnceLock};

use crate::util::{found_codes, repo_root, scan, skipped_codes, Testbed};

const APPS: &[&str] = &["--apps", "dj-rest-auth,knox"];

/// One hardened testbed with dj-rest-auth and knox mounted, shared by this module.
fn hardened_with_apps() -> Arc<Testbed> {
    static BED: OnceLock<Arc<Testbed>> = OnceLock::new();
    BED.get_or_init(|| Arc::new(Testbed::start_with("none", false, APPS)))
        .clone()
}

fn flow<'a>(report: &'a Value, role: &str, endpoint: &str) -> &'a Value {
    report["flows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["role"] == role && f["endpoint"] == endpoint)
        .unwrap_or_else(|| panic!("no {role} flow at {endpoint} in {:#}", report["flows"]))
}

fn example(name: &str) -> String {
    repo_root()
        .join("examples/flows")
        .join(format!("{name}.toml"))
        .to_string_lossy()
        .into_owned()
}

#[test]
fn detection_recognises_simplejwt_dj_rest_auth_knox_authtoken_and_form_logins() {
    let bed = hardened_with_apps();
    let run = scan(&bed, &["--allow-password-change"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.report();
    for (role, endpoint, family) in [
        ("login", "/api/token/", "simplejwt"),
        ("login", "/dj-rest-auth/login/", "dj-rest-auth"),
        ("login", "/api/auth/login/", "knox"),
        ("login", "/api-token-auth/", "authtoken"),
        ("login", "/accounts/login/", "django-form"),
        ("refresh", "/api/token/refresh/", "simplejwt"),
        ("refresh", "/dj-rest-auth/token/refresh/", "dj-rest-auth"),
        ("logout", "/dj-rest-auth/logout/", "dj-rest-auth"),
        ("logout", "/api/token/blacklist/", "simplejwt"),
        ("logout", "/api/logout/", "linked"),
        ("password_change", "/dj-rest-auth/password/change/", "dj-rest-auth"),
        ("verify", "/api/token/verify/", "simplejwt"),
    ] {
        let f = flow(&report, role, endpoint);
        assert_eq!(f["family"], family, "{f}");
        // The served schema lists every endpoint but the form login's, which discovery
        // found by asking for the path.
        let expected = if endpoint == "/accounts/login/" { "path" } else { "spec" };
        assert_eq!(f["source"], expected, "{f}");
    }
    // The lifecycle checks drove every stack through its own logout.
    for (role, endpoint) in [
        ("login", "/dj-rest-auth/login/"),
        ("login", "/api/auth/login/"),
        ("logout", "/dj-rest-auth/logout/"),
        ("logout", "/api/auth/logout/"),
    ] {
        assert_eq!(flow(&report, role, endpoint)["used"], true, "{role} {endpoint} unused");
    }
    assert_eq!(flow(&report, "logout", "/accounts/logout/")["source"], "link");
    assert_eq!(report["identities"][0]["flow"], "simplejwt");
    // Real packages, hardened the way their docs say: nothing to report.
    assert!(found_codes(&report).is_empty(), "{:#}", report["findings"]);
    assert_eq!(report["grade"], "A");
}

/// Scans the hardened stacks through one README example; returns the report.
fn scan_with_example(name: &str) -> Value {
    // dj-rest-auth's example drives every role, its fresh logins included: a testbed of its
    // own, so that the other examples' login bursts (which trip the hardened per-IP login
    // throttle) cannot refuse them.
    let own;
    let bed = if name == "dj-rest-auth" {
        own = Arc::new(Testbed::start_with("none", false, APPS));
        own
    } else {
        hardened_with_apps()
    };
    let config = example(name);
    let run = scan(&bed, &["--config", &config]);
    assert_eq!(run.code, 0, "{name}: {}", run.stderr);
    run.report()
}

/// The declared login was used, the identity came from it (labelled `configured`, or with
/// the package its answer revealed), and the hardened stack scans clean.
fn assert_declared_login_used(report: &Value, login: &str, identity_flow: &str) {
    let f = flow(report, "login", login);
    assert_eq!(f["source"], "configured", "{f}");
    assert_eq!(f["used"], true, "{f}");
    assert_eq!(report["identities"][0]["flow"], identity_flow);
    assert!(found_codes(report).is_empty(), "{:#}", report["findings"]);
    assert_eq!(report["grade"], "A");
}

#[test]
fn the_simplejwt_example_drives_login_refresh_and_blacklist() {
    let report = scan_with_example("simplejwt");
    assert_declared_login_used(&report, "/api/token/", "configured");
    assert_eq!(flow(&report, "refresh", "/api/token/refresh/")["used"], true);
    assert_eq!(flow(&report, "logout", "/api/token/blacklist/")["used"], true);
}

#[test]
fn the_authtoken_example_logs_in_with_a_token_scheme() {
    let report = scan_with_example("authtoken");
    assert_declared_login_used(&report, "/api-token-auth/", "configured");
    assert_eq!(flow(&report, "identity", "/api/me/")["source"], "configured");
}

#[test]
fn the_dj_rest_auth_example_drives_every_role() {
    let report = scan_with_example("dj-rest-auth");
    assert_declared_login_used(&report, "/dj-rest-auth/login/", "configured");
    assert_eq!(flow(&report, "refresh", "/dj-rest-auth/token/refresh/")["used"], true);
    assert_eq!(flow(&report, "logout", "/dj-rest-auth/logout/")["used"], true);
    assert_eq!(
        flow(&report, "password_change", "/dj-rest-auth/password/change/")["source"],
        "configured"
    );
}

#[test]
fn the_knox_example_logs_in_and_out_with_knox_tokens() {
    let report = scan_with_example("knox");
    assert_declared_login_used(&report, "/api/auth/login/", "knox");
    assert_eq!(flow(&report, "logout", "/api/auth/logout/")["used"], true);
    assert!(!skipped_codes(&report).contains("SESS003"));
}

#[test]
fn the_session_example_logs_in_through_the_form() {
    let report = scan_with_example("session");
    assert_declared_login_used(&report, "/accounts/login/", "configured");
    assert_eq!(report["identities"][0]["session"], true);
    assert_eq!(flow(&report, "logout", "/accounts/logout/")["used"], true);
}

#[test]
fn declared_flows_find_lifecycle_flaws_in_the_package_they_name() {
    let bed = Testbed::start_with("refresh_reuse,password_change_no_revoke", false, APPS);
    let config = example("dj-rest-auth");
    let run = scan(&bed, &["--config", &config, "--allow-password-change"]);
    let report = run.report();
    let endpoints: Vec<(String, String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["check"].as_str().unwrap().to_string(),
                f["endpoint"].as_str().unwrap().to_string(),
                f["confidence"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        endpoints.contains(&(
            "SESS004".into(),
            "/dj-rest-auth/token/refresh/".into(),
            "confirmed".into()
        )),
        "{endpoints:?}"
    );
    assert!(
        endpoints.contains(&(
            "SESS005".into(),
            "/dj-rest-auth/password/change/".into(),
            "confirmed".into()
        )),
        "{endpoints:?}"
    );
}

#[test]
fn a_declared_flow_off_the_target_is_refused() {
    let bed = hardened_with_apps();
    let config = crate::util::tempfile("[flows.logout]\npath = \"https://elsewhere.example/logout/\"\n");
    let run = scan(&bed, &["--config", &config.to_string_lossy()]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("[flows.logout]"), "{}", run.stderr);
}

#[test]
fn a_malformed_json_path_is_a_clear_config_error() {
    let bed = hardened_with_apps();
    let config = crate::util::tempfile("[flows.login]\npath = \"/api/token/\"\naccess = \"$[\"\n");
    let run = scan(&bed, &["--config", &config.to_string_lossy()]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("not a valid JSON path"), "{}", run.stderr);
}
