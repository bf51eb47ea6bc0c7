//! The target's password policy as it declares it: the operations of its spec that take
//! a *new* password (a sign-up, a password change, a reset confirmation; not a login,
//! which takes the current one) and the `minLength` each declares. PASS001 reads this;
//! which field holds a password, and which operation is a login, is the auth layer's call.

use super::Flows;
use crate::spec::ApiSpec;

/// NIST SP 800-63B's floor for a memorised secret chosen by the user.
pub const MIN_PASSWORD_LEN: u64 = 8;

/// One password field of a spec'd operation that sets a password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredPassword {
    pub method: String,
    pub path: String,
    pub field: String,
    /// The `minLength` the schema declares, if any.
    pub min_length: Option<u64>,
}

/// Whether a body field holds a password (`password`, `new_password`, `password1`,
/// `password_confirmation`, `passwd`), by name or by `format: password`.
pub fn is_password_field(name: &str, format: Option<&str>) -> bool {
    let norm: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .flat_map(|c| c.to_lowercase())
        .collect();
    format == Some("password") || norm.contains("password") || norm.contains("passwd") || norm == "pwd"
}

/// The password fields of the spec's operations that set a password: every POST, PUT or
/// PATCH with a password field, but the logins the flows know and operations whose only
/// password is the current one (`current_password`, `old_password`: a confirmation).
pub fn declared_new_passwords(api: &ApiSpec, flows: &Flows) -> Vec<DeclaredPassword> {
    let login_paths: Vec<&str> = flows.login.iter().map(|f| f.path()).collect();
    let is_login = |path: &str| {
        login_paths
            .iter()
            .any(|l| l.trim_end_matches('/') == path.trim_end_matches('/'))
            || super::detect::spec_logins(api).iter().any(|l| l.path == path)
    };
    let mut out = Vec::new();
    for op in &api.operations {
        if !matches!(op.method.as_str(), "POST" | "PUT" | "PATCH") || is_login(&op.path) {
            continue;
        }
        let Some(body) = &op.body else { continue };
        for field in &body.fields {
            let norm = field.name.to_ascii_lowercase();
            let current = norm.contains("old") || norm.contains("current");
            if is_password_field(&field.name, field.format.as_deref()) && !current {
                out.push(DeclaredPassword {
                    method: op.method.clone(),
                    path: op.path.clone(),
                    field: field.name.clone(),
                    min_length: field.min_length,
                });
            }
        }
    }
    out
}

/// Weak passwords a careful policy refuses, each with what makes it weak, for an account
/// named `username` (and `email`, when known).
pub fn weak_candidates(username: &str, email: Option<&str>) -> Vec<(String, &'static str)> {
    let mut out = vec![
        ("x".to_string(), "one character"),
        ("password".to_string(), "the most common password"),
        ("12345678".to_string(), "a common all-digit password"),
        (username.to_string(), "the username"),
    ];
    if let Some(email) = email.filter(|e| *e != username) {
        out.push((email.to_string(), "the e-mail address"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_fields_are_told_by_name_or_format() {
        for name in [
            "password",
            "new_password",
            "password1",
            "password_confirmation",
            "newPassword",
            "passwd",
        ] {
            assert!(is_password_field(name, None), "{name}");
        }
        assert!(is_password_field("secret_phrase", Some("password")));
        assert!(!is_password_field("username", None));
        assert!(!is_password_field("email", Some("email")));
    }

    #[test]
    fn only_operations_that_set_a_password_are_read() {
        let api = ApiSpec::from_text(
            r#"{"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {
                "/api/login": {"post": {"summary": "Log in", "requestBody": {"content": {"application/json": {"schema": {
                    "type": "object", "properties": {"username": {"type": "string"}, "password": {"type": "string"}}}}}}}},
                "/api/register": {"post": {"requestBody": {"content": {"application/json": {"schema": {
                    "type": "object", "properties": {"username": {"type": "string"},
                    "password": {"type": "string", "minLength": 4}}}}}}}},
                "/api/password/change": {"post": {"requestBody": {"content": {"application/json": {"schema": {
                    "type": "object", "properties": {"old_password": {"type": "string"},
                    "new_password": {"type": "string", "format": "password", "minLength": 12}}}}}}}}
            }}"#,
            "t",
        )
        .unwrap();
        let found = declared_new_passwords(&api, &Flows::default());
        let named: Vec<(&str, &str, Option<u64>)> = found
            .iter()
            .map(|d| (d.path.as_str(), d.field.as_str(), d.min_length))
            .collect();
        assert_eq!(
            named,
            [
                ("/api/password/change", "new_password", Some(12)),
                ("/api/register", "password", Some(4))
            ]
        );
    }
}
