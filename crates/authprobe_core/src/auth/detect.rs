//! Recognising how the target logs in from what it serves. Today: the logins its API spec
//! declares, beyond the OAuth 2 password flows the spec module reads itself: a POST whose
//! request body takes a password and whose path or `operationId` says it logs in.

use super::vocab::{PASSWORD_FIELDS, USERNAME_FIELDS};
use crate::spec::{ApiSpec, Operation, SpecLogin};

/// Words of a login operation's path or `operationId`.
const LOGIN_WORDS: &[&str] = &[
    "login", "signin", "sign_in", "sign-in", "logon", "token", "auth", "session",
];
/// Words of operations that also take a password but create or change an account.
const NOT_LOGIN_WORDS: &[&str] = &[
    "regist", "signup", "sign_up", "sign-up", "join", "reset", "change", "password",
];

/// Every login the spec declares: its OAuth 2 password flows first, then the POST
/// operations whose body logs in ([`body_login`]), in the spec's order.
pub fn spec_logins(api: &ApiSpec) -> Vec<SpecLogin> {
    let mut out = api.logins.clone();
    for op in api.operations.iter().filter(|o| o.method == "POST") {
        if let Some(login) = body_login(op) {
            if !out.iter().any(|l| l.path == login.path) {
                out.push(login);
            }
        }
    }
    out
}

/// A POST whose request body has a password-like property and whose path or `operationId`
/// says it logs in: a login, unless the body also asks for a new or repeated password (a
/// sign-up or a password change). POSTing to a sign-up would create an account, so an
/// operation that does not say "login" (or token, auth, session) is never taken for one.
fn body_login(op: &Operation) -> Option<SpecLogin> {
    let words = format!(
        "{} {}",
        op.path.to_ascii_lowercase(),
        op.operation_id.as_deref().unwrap_or("").to_ascii_lowercase()
    );
    if !LOGIN_WORDS.iter().any(|w| words.contains(w)) || NOT_LOGIN_WORDS.iter().any(|w| words.contains(w)) {
        return None;
    }
    let body = op.body.as_ref()?;
    let names: Vec<&str> = body.fields.iter().map(|f| f.name.as_str()).collect();
    let lower: Vec<String> = names.iter().map(|n| n.to_ascii_lowercase()).collect();
    let password = PASSWORD_FIELDS.iter().find_map(|f| lower.iter().position(|n| n == f))?;
    // A second password field means a sign-up or a change, not a login.
    let passwordish = lower.iter().filter(|n| n.contains("pass")).count();
    if passwordish > 1 || lower.iter().any(|n| n.contains("new_") || n.contains("confirm")) {
        return None;
    }
    let username = USERNAME_FIELDS.iter().find_map(|f| lower.iter().position(|n| n == f))?;
    Some(SpecLogin {
        path: op.path.clone(),
        form: body.form,
        password_grant: body.form && lower.iter().any(|n| n == "grant_type"),
        username_field: names[username].to_string(),
        password_field: names[password].to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logins_come_from_password_flows_and_password_bodies() {
        let text = r##"
openapi: 3.1.0
info: {title: Shop}
components:
  securitySchemes:
    oauth: {type: oauth2, flows: {password: {tokenUrl: auth/token, scopes: {}}}}
  schemas:
    Credentials:
      type: object
      properties: {email: {type: string}, secret: {type: string}}
paths:
  /v1/sessions:
    post:
      operationId: createSession
      requestBody:
        content:
          application/json: {schema: {$ref: "#/components/schemas/Credentials"}}
  /v1/register:
    post:
      requestBody:
        content:
          application/json: {schema: {$ref: "#/components/schemas/Credentials"}}
  /v1/auth/password:
    post:
      requestBody:
        content:
          application/json:
            schema: {properties: {old_password: {type: string}, new_password: {type: string}}}
"##;
        let spec = ApiSpec::from_text(text, "s").unwrap();
        assert_eq!(
            spec_logins(&spec),
            vec![
                SpecLogin {
                    path: "/auth/token".into(),
                    form: true,
                    password_grant: true,
                    username_field: "username".into(),
                    password_field: "password".into(),
                },
                SpecLogin {
                    path: "/v1/sessions".into(),
                    form: false,
                    password_grant: false,
                    username_field: "email".into(),
                    password_field: "secret".into(),
                },
            ]
        );
    }

    #[test]
    fn a_swagger_form_login_is_read_from_form_data() {
        let text = r##"
swagger: "2.0"
basePath: /api
paths:
  /login:
    post:
      parameters:
        - {name: user, in: formData, type: string}
        - {name: pass, in: formData, type: string}
"##;
        let spec = ApiSpec::from_text(text, "s").unwrap();
        let logins = spec_logins(&spec);
        assert_eq!(logins.len(), 1);
        let login = &logins[0];
        assert_eq!((login.path.as_str(), login.form), ("/api/login", true));
        assert_eq!(
            (login.username_field.as_str(), login.password_field.as_str()),
            ("user", "pass")
        );
    }
}
