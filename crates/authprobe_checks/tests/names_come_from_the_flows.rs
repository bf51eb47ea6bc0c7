//! No check outside the Django family, and no module of core outside the auth layer, names
//! a login path, a credential field or an auth cookie, or decides a route's or a name's
//! role (login, logout, session, refresh, CSRF, sign-up) from a word: those come from the
//! auth layer (`authprobe_core::auth`), so the scanner works on a stack whose login is not
//! Django's and learns a new one in one place. This test reads the checks' and core's
//! sources and fails on a name that belongs in the auth layer.

use std::path::{Path, PathBuf};

/// Names that belong to the flows, matched case-insensitively in code (not comments or tests).
const FORBIDDEN: &[&str] = &[
    // Credential fields and auth cookies, as string literals.
    "\"username\"",
    "\"password\"",
    "\"sessionid\"",
    "\"csrftoken\"",
    "\"csrfmiddlewaretoken\"",
    "\"x-csrftoken\"",
    // Login paths of the Django packages.
    "/api/token",
    "/accounts/login",
    "/admin/login",
    "api-token-auth",
    "token-auth",
    "/authtoken",
    // Going around the flows: logging in by hand, widening the POST policy.
    "login_json(",
    "login_form(",
    "allow_post(",
    "loginkind",
    // Role words, as string literals: a route, field or cookie named so is a login, a
    // logout, a session, a refresh, a CSRF token or a sign-up; the auth layer decides that.
    "\"login\"",
    "\"logout\"",
    "\"signin\"",
    "\"signout\"",
    "\"sign_in\"",
    "\"sign_out\"",
    "\"session\"",
    "\"sessions\"",
    "\"refresh\"",
    "\"csrf\"",
    "\"xsrf\"",
    "\"register\"",
    "\"registration\"",
    "\"signup\"",
];

/// Exceptions, each with why the name is not a login's.
const ALLOWED: &[(&str, &str, &str)] = &[
    (
        "jwt/sensitive_claims.rs",
        "\"username\"",
        "a claim name inside a JWT payload, listed as ordinary",
    ),
    (
        "jwt/sensitive_claims.rs",
        "\"password\"",
        "a claim name inside a JWT payload, listed as sensitive",
    ),
    (
        "authentication/exposed_secrets.rs",
        "\"password\"",
        "a field or variable name in a served answer whose value is a secret (the content oracle), not a login's field",
    ),
    (
        "ratelimit/mod.rs",
        "\"login\"",
        "a word of a finding's message (the surface that was burst), not a decision",
    ),
    (
        "jwt/lifetime.rs",
        "\"refresh\"",
        "a word of a finding's message (which token's lifetime), not a decision",
    ),
    (
        "authorization/cross_identity_write.rs",
        "\"login\"",
        "a field of an object that names its owner (GitHub's `login`), for ownership, not a login",
    ),
    (
        "authorization/mass_assignment.rs",
        "\"registration\"",
        "a word of a finding's message (where the field stuck), not a decision",
    ),
    // Core, outside the auth layer.
    (
        "core:probe.rs",
        "allow_post(",
        "the probe's method policy itself (the auth layer's flows grant their POSTs through it)",
    ),
    (
        "core:probe.rs",
        "\"session\"",
        "the request log redacts credential-like query values: redaction must know them below the auth layer",
    ),
    (
        "core:config.rs",
        "loginkind",
        "`[auth] login_kind` of the config file, handed to the auth layer as it is",
    ),
    (
        "core:discovery.rs",
        "\"session\"",
        "the method policy: a route named `logout`/`deletesession` acts on GET and is never requested",
    ),
    (
        "core:discovery.rs",
        "\"sessions\"",
        "the method policy: a route named `logout`/`deletesessions` acts on GET and is never requested",
    ),
    (
        "core:discovery.rs",
        "\"logout\"",
        "the method policy: a route named `logout` acts on GET and is never requested",
    ),
    (
        "core:discovery.rs",
        "\"signout\"",
        "the method policy: a route named `signout` acts on GET and is never requested",
    ),
    (
        "core:discovery.rs",
        "\"password\"",
        "the method policy: a password-reset page is not an action on GET, whatever its `reset`",
    ),
    (
        "core:html.rs",
        "\"password\"",
        "HTML's own `<input type=password>`, read for whoever asks (the auth layer's form reader)",
    ),
    (
        "core:spec/mod.rs",
        "\"username\"",
        "RFC 6749's password grant names its fields: an OAuth 2 password flow of a spec takes exactly these",
    ),
    (
        "core:spec/mod.rs",
        "\"password\"",
        "RFC 6749's password grant names its fields: an OAuth 2 password flow of a spec takes exactly these",
    ),
    (
        "core:engine.rs",
        "\"login\"",
        "the name of a progress phase shown to the user, not a decision",
    ),
    ("core:check.rs", "\"session\"", "the session family's name in reports"),
];

/// The code of a source file: whole-line comments and everything from the first
/// `#[cfg(test)]` on (the tests, which sit at the end of each file) left out.
fn code_lines(source: &str) -> Vec<(usize, &str)> {
    source
        .lines()
        .enumerate()
        .take_while(|(_, l)| l.trim() != "#[cfg(test)]")
        .filter(|(_, l)| !l.trim_start().starts_with("//"))
        .map(|(i, l)| (i + 1, l))
        .collect()
}

/// `file:line: name` for every forbidden name in `source`.
fn violations(file: &str, source: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (n, line) in code_lines(source) {
        let lower = line.to_ascii_lowercase();
        for name in FORBIDDEN {
            let allowed = ALLOWED.iter().any(|(f, a, _)| *f == file && a == name);
            if lower.contains(name) && !allowed {
                out.push(format!("{file}:{n}: {name}  →  {}", line.trim()));
            }
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read the checks' source folder") {
        let path = entry.expect("a folder entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every Rust source under `dir`, as (path relative to `dir`, source).
fn sources(dir: &Path) -> Vec<(String, String)> {
    let mut files = Vec::new();
    rust_files(dir, &mut files);
    files.sort();
    files
        .iter()
        .map(|path| {
            let rel = path.strip_prefix(dir).unwrap().to_string_lossy().replace('\\', "/");
            (rel, std::fs::read_to_string(path).expect("read a source file"))
        })
        .collect()
}

#[test]
fn no_check_outside_the_django_family_names_a_login_path_field_or_cookie() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    let mut read = 0;
    for (rel, source) in sources(&src) {
        if rel.starts_with("django/") {
            continue;
        }
        found.extend(violations(&rel, &source));
        read += 1;
    }
    assert!(read > 40, "only {read} check sources were read: is the folder right?");
    assert!(
        found.is_empty(),
        "these names belong in authprobe_core::auth (vocab, or a method of cx.auth()), not in a check:\n{}",
        found.join("\n")
    );
}

#[test]
fn no_module_of_core_outside_the_auth_layer_names_a_login_path_field_or_cookie() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../authprobe_core/src");
    let mut found = Vec::new();
    let mut read = 0;
    for (rel, source) in sources(&src) {
        if rel.starts_with("auth/") {
            continue;
        }
        found.extend(violations(&format!("core:{rel}"), &source));
        read += 1;
    }
    assert!(read > 20, "only {read} core sources were read: is the folder right?");
    assert!(
        found.is_empty(),
        "these names belong in authprobe_core::auth, not in another module of core:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_scan_finds_names_in_code_and_not_in_comments_or_tests() {
    let source = r#"
/// Logs in at /api/token/ with "username".
fn f() {
    let body = json!({"username": user});
    // cx.probe.allow_post(&url);
    cx.probe.allow_post(&url);
}
#[cfg(test)]
mod tests { const X: &str = "sessionid"; }
"#;
    let found = violations("session/x.rs", source);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0].starts_with("session/x.rs:4: \"username\""), "{found:?}");
    assert!(found[1].starts_with("session/x.rs:6: allow_post("), "{found:?}");
}

#[test]
fn an_exception_holds_only_in_its_own_file() {
    let line = "const ORDINARY: &[&str] = &[\"username\"];\n";
    assert!(violations("jwt/sensitive_claims.rs", line).is_empty());
    assert_eq!(violations("jwt/other.rs", line).len(), 1);
}

#[test]
fn a_role_decided_from_a_path_word_is_caught() {
    let line = "    let bridge = path.contains(\"session\") && !path.contains(\"logout\");\n";
    let found = violations("session/x.rs", line);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(violations("core:discovery.rs", "const W: &[&str] = &[\"logout\"];\n").is_empty());
    assert_eq!(
        violations("core:other.rs", "const W: &[&str] = &[\"logout\"];\n").len(),
        1
    );
}
