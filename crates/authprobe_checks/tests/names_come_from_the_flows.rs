//! No check outside the Django family names a login path, a credential field or an auth
//! cookie: those come from the flows (`authprobe_core::auth`), so a check works on a stack
//! whose login is not Django's. This test reads every check's source and fails on a name
//! that belongs in the flows.

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

#[test]
fn no_check_outside_the_django_family_names_a_login_path_field_or_cookie() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut found = Vec::new();
    let mut read = 0;
    for path in &files {
        let rel = path.strip_prefix(&src).unwrap().to_string_lossy().replace('\\', "/");
        if rel.starts_with("django/") {
            continue;
        }
        let source = std::fs::read_to_string(path).expect("read a check's source");
        found.extend(violations(&rel, &source));
        read += 1;
    }
    assert!(read > 40, "only {read} check sources were read: is the folder right?");
    assert!(
        found.is_empty(),
        "these names belong in authprobe_core::auth (vocab, or a flow method), not in a check:\n{}",
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
