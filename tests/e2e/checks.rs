//! One test per implemented check: it fires on its own testbed flaw, alone, with exactly
//! the codes `testbed/flaws.toml` lists for that flaw.

use crate::util::{assert_flaw_yields, flaws_table, implemented_codes};
use std::collections::BTreeSet;

macro_rules! fires_on_its_flaw {
    ($($name:ident: $code:literal on $flaw:literal $(with $($arg:literal)+)?;)*) => {
        $(
            #[test]
            fn $name() {
                assert_flaw_yields($flaw, $code, &[$($($arg),+)?]);
            }
        )*

        /// Every implemented check has a test above.
        #[test]
        fn every_implemented_check_has_a_flaw_test() {
            let tested: BTreeSet<String> = [$($code),*].iter().map(|s| s.to_string()).collect();
            let missing: Vec<_> = implemented_codes().difference(&tested).cloned().collect();
            assert!(missing.is_empty(), "checks without an end-to-end flaw test: {missing:?}");
        }
    };
}

fires_on_its_flaw! {
    auth001_fires_on_missing_auth: "AUTH001" on "missing_auth";
    auth001_fires_on_debug_route: "AUTH001" on "debug_route";
    jwt003_fires_on_numeric_secret: "JWT003" on "numeric_secret";
    jwt003_fires_on_word_secret: "JWT003" on "word_secret";
    jwt004_fires_on_expired_weak_key: "JWT004" on "expired_weak_key";
    jwt003_fires_on_expired_weak_key: "JWT003" on "expired_weak_key";
    auth002_fires_on_invalid_token_accepted: "AUTH002" on "invalid_token_accepted";
    auth003_fires_on_query_token: "AUTH003" on "query_token";
    auth007_fires_on_no_www_authenticate: "AUTH007" on "no_www_authenticate";
    spec001_fires_on_spec_drift: "SPEC001" on "spec_drift";
    auth005_fires_on_user_enum: "AUTH005" on "user_enum";
    auth006_fires_on_token_type_confusion: "AUTH006" on "token_type_confusion";
    rate001_fires_on_no_login_throttle: "RATE001" on "no_login_throttle";
    rate002_fires_on_no_token_throttle: "RATE002" on "no_token_throttle";
    rate003_fires_on_xff_throttle_bypass: "RATE003" on "xff_throttle_bypass";
    auth004_fires_on_method_bypass: "AUTH004" on "method_bypass";
    token004_fires_on_token_in_error: "TOKEN004" on "token_in_error";
    token001_fires_on_low_entropy_tokens: "TOKEN001" on "low_entropy_tokens";
    token001_fires_on_predictable_tokens: "TOKEN001" on "predictable_tokens";
    token002_fires_on_predictable_tokens: "TOKEN002" on "predictable_tokens";
    token003_fires_on_identity_tokens: "TOKEN003" on "identity_tokens";
    web003_fires_on_open_redirect: "WEB003" on "open_redirect";
    bola001_fires_on_bola: "BOLA001" on "bola";
    bola001_fires_on_ids_without_urls: "BOLA001" on "ids_without_urls";
    bola001_fires_on_enveloped_list: "BOLA001" on "enveloped_list";
    bola001_fires_on_spec_bad_examples: "BOLA001" on "spec_bad_examples";
    bola001_fires_on_directory_secrets: "BOLA001" on "directory_secrets";
    bola002_fires_on_enumerable_ids: "BOLA002" on "enumerable_ids";
    bola001_fires_on_missing_auth: "BOLA001" on "missing_auth";
    jwt001_fires_on_alg_none: "JWT001" on "alg_none";
    sess001_fires_on_session_fixation: "SESS001" on "session_fixation";
    sess002_fires_on_session_in_url: "SESS002" on "session_in_url";
    sess003_fires_on_logout_no_revoke: "SESS003" on "logout_no_revoke";
    sess004_fires_on_refresh_reuse: "SESS004" on "refresh_reuse";
    pass001_fires_on_no_password_validators: "PASS001" on "no_password_validators" with "--allow-password-change";
    pass002_fires_on_reset_host_poisoning: "PASS002" on "reset_host_poisoning";
    pass002_fires_on_reset_token_reuse: "PASS002" on "reset_token_reuse" with "--allow-password-change";
    pass002_fires_on_long_reset_timeout: "PASS002" on "long_reset_timeout";
    sess005_fires_on_password_change_no_revoke: "SESS005" on "password_change_no_revoke" with "--allow-password-change";
    sess006_fires_on_static_token: "SESS006" on "static_token";
    sess007_fires_on_session_id_in_body: "SESS007" on "session_id_in_body" with "--allow-writes" "--environment" "staging";
    sess008_fires_on_csrf_exempt: "SESS008" on "csrf_exempt";
    sess008_fires_on_cookie_jwt_csrf: "SESS008" on "cookie_jwt_csrf";
    jwt001_fires_on_no_sig_verify: "JWT001" on "no_sig_verify";
    jwt002_fires_on_no_sig_verify: "JWT002" on "no_sig_verify";
    jwt008_fires_on_key_confusion: "JWT008" on "key_confusion";
    jwt009_fires_on_kid_injection: "JWT009" on "kid_injection";
    jwt009_fires_on_embedded_jwk: "JWT009" on "embedded_jwk";
    jwt009_fires_on_jku_trusted: "JWT009" on "jku_trusted";
    jwt010_fires_on_psychic_signature: "JWT010" on "psychic_signature";
    jwt003_fires_on_weak_secret: "JWT003" on "weak_secret";
    jwt003_fires_on_default_django_key: "JWT003" on "default_django_key";
    dj004_fires_on_default_django_key: "DJ004" on "default_django_key";
    jwt004_fires_on_expired_accepted: "JWT004" on "expired_accepted" with "--allow-writes" "--environment" "staging";
    jwt005_fires_on_long_lifetime: "JWT005" on "long_lifetime";
    jwt005_fires_on_no_exp: "JWT005" on "no_exp";
    jwt006_fires_on_missing_aud_iss: "JWT006" on "missing_aud_iss";
    jwt007_fires_on_sensitive_claims: "JWT007" on "sensitive_claims";
    tls001_fires_on_no_https_redirect: "TLS001" on "no_https_redirect";
    tls002_fires_on_no_https_redirect: "TLS002" on "no_https_redirect";
    tls003_fires_on_no_hsts: "TLS003" on "no_hsts";
    tls004_fires_on_insecure_cookies: "TLS004" on "insecure_cookies";
    web001_fires_on_cors_reflect: "WEB001" on "cors_reflect";
    web002_fires_on_no_csp: "WEB002" on "no_csp";
    web004_fires_on_no_security_headers: "WEB004" on "no_security_headers";
    dj001_fires_on_debug: "DJ001" on "debug";
    dj002_fires_on_admin_exposed: "DJ002" on "admin_exposed";
    dj003_fires_on_verbose_errors: "DJ003" on "verbose_errors";
    authz001_fires_on_bfla: "AUTHZ001" on "bfla";
    authz002_fires_on_mass_assignment: "AUTHZ002" on "mass_assignment" with "--allow-writes" "--environment" "staging";
    bola003_fires_on_bola_write: "BOLA003" on "bola_write" with "--allow-writes" "--environment" "staging";
    bola003_fires_on_password_change_by_url: "BOLA003" on "password_change_by_url" with "--allow-writes" "--environment" "staging";
}

#[test]
fn flaws_toml_names_every_flaw_of_the_design_and_only_catalog_codes() {
    let flaws = flaws_table();
    for name in [
        "debug",
        "no_hsts",
        "insecure_cookies",
        "no_https_redirect",
        "query_token",
        "invalid_token_accepted",
        "alg_none",
        "no_sig_verify",
        "weak_secret",
        "default_django_key",
        "long_lifetime",
        "no_exp",
        "expired_accepted",
        "sensitive_claims",
        "key_confusion",
        "session_fixation",
        "logout_no_revoke",
        "refresh_reuse",
        "password_change_no_revoke",
        "static_token",
        "session_id_in_body",
        "csrf_exempt",
        "predictable_tokens",
        "identity_tokens",
        "low_entropy_tokens",
        "token_in_error",
        "no_login_throttle",
        "xff_throttle_bypass",
        "user_enum",
        "cors_reflect",
        "open_redirect",
        "missing_auth",
        "method_bypass",
        "bola",
        "verbose_errors",
        "bfla",
        "mass_assignment",
        "bola_write",
        "password_change_by_url",
    ] {
        assert!(flaws.contains_key(name), "testbed/flaws.toml lacks flaw `{name}`");
    }
    let code = regex_lite_code();
    for (name, entry) in &flaws {
        for c in entry["codes"].as_array().unwrap() {
            let c = c.as_str().unwrap();
            assert!(code(c), "flaw `{name}` maps to `{c}`, which is not a catalog code");
        }
    }
}

fn regex_lite_code() -> impl Fn(&str) -> bool {
    |c: &str| {
        let prefix: String = c.chars().take_while(|ch| ch.is_ascii_uppercase()).collect();
        let digits = &c[prefix.len()..];
        [
            "AUTH", "JWT", "SESS", "TOKEN", "RATE", "TLS", "WEB", "DJ", "BOLA", "AUTHZ", "SPEC", "PASS", "MFA",
        ]
        .contains(&prefix.as_str())
            && digits.len() == 3
            && digits.chars().all(|d| d.is_ascii_digit())
    }
}

#[test]
fn jwt006_proves_unverified_audience_with_a_recovered_key() {
    let bed = crate::util::Testbed::shared("weak_secret,missing_aud_iss", false);
    let report = crate::util::scan(&bed, &[]).report();
    let findings = report["findings"].as_array().unwrap();
    let active = findings
        .iter()
        .find(|f| f["check"] == "JWT006" && f["severity"] == "high")
        .unwrap_or_else(|| panic!("no active JWT006 finding: {}", report["findings"]));
    assert_eq!(active["confidence"], "confirmed");
    assert!(active["message"].as_str().unwrap().contains("`bob`"));
    // With the audience verified (weak key alone), the forged audience is refused.
    let bed = crate::util::Testbed::shared("weak_secret", false);
    let report = crate::util::scan(&bed, &[]).report();
    assert!(
        !crate::util::found_codes(&report).contains("JWT006"),
        "{}",
        report["findings"]
    );
}

#[test]
fn sess005_passes_on_the_hardened_testbed_and_restores_the_password() {
    // Its own testbed: the password of alice changes during the scan.
    let bed = crate::util::Testbed::start_with("none", false, &[]);
    let run = crate::util::scan(&bed, &["--allow-password-change"]);
    let report = run.report();
    assert!(
        !crate::util::found_codes(&report).contains("SESS005"),
        "{}",
        report["findings"]
    );
    let skipped = report["checks_skipped"].to_string();
    assert!(!skipped.contains("SESS005"), "SESS005 did not run: {skipped}");
    // The original password works again.
    let again = crate::util::scan(&bed, &[]);
    assert_eq!(again.code, 0, "alice's password was not restored: {}", again.stderr);
}

#[test]
fn sess005_is_opt_in() {
    let bed = crate::util::Testbed::shared("password_change_no_revoke", false);
    let report = crate::util::scan(&bed, &[]).report();
    let skipped = report["checks_skipped"].to_string();
    assert!(skipped.contains("--allow-password-change"), "{skipped}");
}
