//! The names authentication goes by: the field names logins use, Django's CSRF and session
//! cookie names, the shape of a session cookie's name. They live here, in the flows
//! module, so that checks never name a credential field or cookie themselves: a check asks
//! the flows, and a stack the scanner has not seen needs a change in one place only.

/// Names a login's account field goes by, most common first.
pub const USERNAME_FIELDS: &[&str] = &["username", "email", "login", "user", "user_name", "identifier", "name"];

/// Names a login's password field goes by.
pub const PASSWORD_FIELDS: &[&str] = &["password", "pass", "passwd", "pwd", "secret"];

/// Names an e-mail field goes by (password reset, registration).
pub const EMAIL_FIELDS: &[&str] = &["email", "e-mail", "mail", "email_address"];

/// The e-mail field of a user record (the identity endpoint's answer), as written.
pub fn email_in_record(record: &serde_json::Value) -> Option<&str> {
    EMAIL_FIELDS
        .iter()
        .find_map(|k| record.get(*k).and_then(serde_json::Value::as_str))
}

/// Keys a user record names its account by (a listing of accounts, an identity record).
pub const ACCOUNT_KEYS: &[&str] = &["username", "email", "user", "login"];

/// Django's CSRF cookie.
pub const CSRF_COOKIE: &str = "csrftoken";

/// The hidden field Django's forms carry the CSRF token in.
pub const CSRF_FORM_FIELD: &str = "csrfmiddlewaretoken";

/// The header Django's JavaScript clients send the CSRF token in.
pub const CSRF_HEADER: &str = "X-CSRFToken";

/// The header double-submit CSRF schemes read (Flask-JWT-Extended, Rails' JavaScript,
/// Angular's `X-XSRF-TOKEN` convention aside).
pub const DOUBLE_SUBMIT_HEADER: &str = "X-CSRF-TOKEN";

/// Django's default session cookie name, for a target that never showed its own.
pub const DEFAULT_SESSION_COOKIE: &str = "sessionid";

/// Whether a cookie name looks like a session id (`sessionid`, `SESSION`, `connect.sid`,
/// `session`), not a CSRF token.
pub fn is_session_cookie(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    !lower.contains("csrf") && !lower.contains("xsrf") && (lower.contains("session") || lower.ends_with("sid"))
}

/// Whether a field of an answer's body is named like a session id (`session_id`,
/// `sessionid`, `sid`): a bridge that echoes the session id it set.
pub fn is_session_field(name: &str) -> bool {
    is_session_cookie(name) || name.to_ascii_lowercase().contains("session")
}

/// Query parameters a session id may be accepted from, after the session cookie's own name.
pub const SESSION_URL_PARAMS: &[&str] = &["session_id", "sid", "session"];

/// Cookie names that hold credentials or anti-forgery tokens (substrings, lower case);
/// analytics and preference cookies are not secrets.
pub const CREDENTIAL_COOKIE_WORDS: &[&str] = &[
    "sess", "sid", "csrf", "xsrf", "token", "auth", "key", "jwt", "remember", "login",
];

/// What a cookie holds, from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CookieRole {
    Session,
    Csrf,
    /// An access or refresh token kept in a cookie.
    Token,
}

impl CookieRole {
    /// How messages name it: `session`, `CSRF`, `token`.
    pub fn describe(self) -> &'static str {
        match self {
            CookieRole::Session => "session",
            CookieRole::Csrf => "CSRF",
            CookieRole::Token => "token",
        }
    }
}

/// What a cookie holds, from its name (`None`: nothing of the account's).
pub fn cookie_role(name: &str) -> Option<CookieRole> {
    let n = name.to_ascii_lowercase();
    if n.contains("csrf") || n.contains("xsrf") {
        Some(CookieRole::Csrf)
    } else if n.contains("sessid") || is_session_cookie(&n) {
        Some(CookieRole::Session)
    } else if ["refresh", "token", "jwt", "auth"].iter().any(|w| n.contains(w)) {
        Some(CookieRole::Token)
    } else {
        None
    }
}

/// Path words of sign-up (account registration) routes.
const REGISTRATION_WORDS: &[&str] = &["register", "registration", "signup", "sign-up", "sign_up"];

/// Whether a concrete path names a sign-up (`/api/auth/register/`, `/users/sign_up`).
pub fn names_a_registration(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    REGISTRATION_WORDS.iter().any(|w| lower.contains(w)) && !lower.contains('{')
}

/// Whether a path or field name speaks of a password (`/users/{id}/set_password/`).
pub fn names_a_password(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.contains("password") || lower.contains("passwd")
}

/// The body of a sign-up for a new account: the fields Django's registration packages
/// (dj-rest-auth and allauth's `password1`/`password2`, djoser's `re_password`) and
/// most hand-written sign-ups take; unknown fields are ignored by serializers.
pub fn registration_body(username: &str, email: &str, password: &str) -> serde_json::Map<String, serde_json::Value> {
    let mut body = serde_json::Map::new();
    body.insert("username".into(), username.into());
    body.insert("email".into(), email.into());
    for field in ["password", "password1", "password2", "re_password"] {
        body.insert(field.into(), password.into());
    }
    body
}

/// The body of a sign-up whose request schema the spec declares: each field it names
/// gets the value its name or format says (an email, the username, the password, under
/// any of the names above or a `*password*` name such as `confirm_password`); the other
/// required fields get a harmless value of their type, so the sign-up reaches the view
/// instead of its validator.
pub fn registration_body_for(
    schema: &crate::spec::BodySchema,
    username: &str,
    email: &str,
    password: &str,
) -> serde_json::Map<String, serde_json::Value> {
    let mut body = serde_json::Map::new();
    for field in &schema.fields {
        let lower = field.name.to_ascii_lowercase();
        let value: serde_json::Value =
            if field.format.as_deref() == Some("email") || EMAIL_FIELDS.contains(&lower.as_str()) {
                email.into()
            } else if names_a_password(&lower) || PASSWORD_FIELDS.contains(&lower.as_str()) {
                password.into()
            } else if USERNAME_FIELDS.contains(&lower.as_str()) || lower.contains("username") {
                username.into()
            } else if field.required {
                field.placeholder()
            } else {
                continue;
            };
        body.insert(field.name.clone(), value);
    }
    body
}

/// A body that sets a new password, under the names password endpoints use (Django's
/// `SetPasswordForm` asks twice; many DRF views take `new_password` or `password`).
pub fn new_password_body(password: &str) -> serde_json::Map<String, serde_json::Value> {
    ["new_password", "new_password1", "new_password2", "password"]
        .into_iter()
        .map(|field| (field.to_string(), password.into()))
        .collect()
}

/// Whether a field or claim name is one of the credential names above (case-insensitive).
pub fn is_credential_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    USERNAME_FIELDS.contains(&lower.as_str()) || PASSWORD_FIELDS.contains(&lower.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_cookies_are_told_from_csrf_cookies() {
        assert!(is_session_cookie("sessionid"));
        assert!(is_session_cookie("connect.sid"));
        assert!(is_session_cookie("SESSION"));
        assert!(!is_session_cookie("csrftoken"));
        assert!(!is_session_cookie("csrf_session"));
        assert!(!is_session_cookie("theme"));
    }

    #[test]
    fn a_specd_sign_up_gets_the_fields_its_schema_names() {
        let field = |name: &str, required: bool, kind: &str, format: Option<&str>| crate::spec::BodyField {
            name: name.into(),
            required,
            kind: kind.into(),
            format: format.map(str::to_string),
            example: None,
            min_length: None,
        };
        let schema = crate::spec::BodySchema {
            form: false,
            fields: vec![
                field("handle", false, "string", None),
                field("user_name", true, "string", None),
                field("contact", true, "string", Some("email")),
                field("password", true, "string", None),
                field("confirm_password", true, "string", None),
                field("age", true, "integer", None),
                field("newsletter", false, "boolean", None),
            ],
        };
        let body = registration_body_for(&schema, "u1", "u1@example.invalid", "pw");
        assert_eq!(
            serde_json::Value::Object(body),
            serde_json::json!({"user_name": "u1", "contact": "u1@example.invalid", "password": "pw", "confirm_password": "pw", "age": 1})
        );
    }
}
