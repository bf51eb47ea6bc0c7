//! `[flows.*]` in `authprobe.toml`: how to log in, refresh, log out, change a password and
//! ask "who am I", written down declaratively. Detection builds the same specs from presets.

use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;

/// A JSON path into a response body (RFC 9535): `$.access`, `$.data.tokens[0].key`,
/// `$['access','access_token']` (the first that exists wins). A bare `access` or
/// `data.key` is read as `$.access` / `$.data.key`.
#[derive(Clone)]
pub struct JsonPathExpr {
    raw: String,
    path: serde_json_path::JsonPath,
}

impl JsonPathExpr {
    pub fn parse(raw: &str) -> Result<JsonPathExpr, String> {
        let trimmed = raw.trim();
        let full = if trimmed.starts_with('$') {
            trimmed.to_string()
        } else {
            format!("$.{trimmed}")
        };
        // The parser backtracks exponentially on nested filters (a 180-character path took
        // 13 s, found by fuzzing); a login flow's path needs neither many filters nor length.
        if full.len() > MAX_PATH_LEN
            || full.matches('?').count() > MAX_FILTERS
            || full.matches('[').count() > MAX_BRACKETS
        {
            return Err(format!(
                "`{raw}` is too complex a JSON path: at most {MAX_PATH_LEN} characters, {MAX_FILTERS} filters (`?`) and {MAX_BRACKETS} brackets"
            ));
        }
        if ends_inside_unicode_escape(&full) {
            return Err(format!("`{raw}` is not a valid JSON path: it ends inside a \\u escape"));
        }
        // serde_json_path 0.7.2 panics ("we do not use streaming parsers") on a path that
        // ends inside a `\u` escape (found by fuzzing); the check above rejects those, and
        // this net turns any other parser panic into an error instead of a crash.
        match std::panic::catch_unwind(|| serde_json_path::JsonPath::parse(&full)) {
            Ok(Ok(path)) => Ok(JsonPathExpr { raw: full, path }),
            Ok(Err(e)) => Err(format!("`{raw}` is not a valid JSON path: {e}")),
            Err(_) => Err(format!("`{raw}` is not a valid JSON path")),
        }
    }

    /// The first non-empty string the path selects.
    pub fn first_str(&self, value: &serde_json::Value) -> Option<String> {
        self.path
            .query(value)
            .all()
            .into_iter()
            .find_map(|v| v.as_str().filter(|s| !s.is_empty()))
            .map(str::to_string)
    }

    pub fn as_str(&self) -> &str {
        &self.raw
    }
}

const MAX_PATH_LEN: usize = 256;
const MAX_FILTERS: usize = 3;
const MAX_BRACKETS: usize = 12;

/// Whether a `\u` escape (one preceded by an odd run of backslashes) lacks the characters
/// it needs: four hex digits, and for a high surrogate (`\uD800`-`\uDBFF`) a second
/// `\uXXXX` after it.
fn ends_inside_unicode_escape(path: &str) -> bool {
    let chars: Vec<char> = path.chars().collect();
    let mut backslashes = 0;
    for (i, c) in chars.iter().enumerate() {
        if *c == 'u' && backslashes % 2 == 1 {
            let rest = &chars[i + 1..];
            let high_surrogate = rest.len() >= 2
                && rest[0].eq_ignore_ascii_case(&'d')
                && matches!(rest[1], '8'..='9' | 'a'..='b' | 'A'..='B');
            let needed = if high_surrogate { 10 } else { 4 };
            if rest.len() < needed {
                return true;
            }
        }
        backslashes = if *c == '\\' { backslashes + 1 } else { 0 };
    }
    false
}

impl std::fmt::Debug for JsonPathExpr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.raw)
    }
}

impl<'de> Deserialize<'de> for JsonPathExpr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        JsonPathExpr::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// How a flow's request body is encoded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BodyEncoding {
    /// `application/json` (DRF APIs).
    #[default]
    Json,
    /// `application/x-www-form-urlencoded`, with Django's CSRF token (server-rendered forms).
    Form,
    /// An OAuth 2 resource-owner password grant (RFC 6749 §4.3): a form with
    /// `grant_type=password` (and `client_id`, `client_secret`, `scope` when configured),
    /// answered with JSON `{access_token, token_type, expires_in, refresh_token}`.
    #[serde(rename = "oauth2")]
    OAuth2,
}

/// How a login's token is sent, as `[flows.login]` declares it: `scheme = "JWT"` for
/// `Authorization: JWT …`, `scheme = ""` for a bare `Authorization: …`, `header =
/// "X-API-Key"` for a header of its own. Left out, the scan learns it.
pub type AuthScheme = String;

/// `[flows]`: every role optional; detection fills the roles left out.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowSpecs {
    pub login: Option<LoginSpec>,
    pub refresh: Option<RefreshSpec>,
    pub logout: Option<LogoutSpec>,
    pub password_change: Option<PasswordChangeSpec>,
    pub identity: Option<IdentitySpec>,
    pub password_reset: Option<PasswordResetConfig>,
}

/// `[flows.password_reset]`: the request that mails a reset link for an address
/// (`POST {"email": …}`), for PASS002 and the reset checks when detection misses it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetConfig {
    pub path: String,
    /// The field the address goes in.
    #[serde(default = "default_email_field")]
    pub field: String,
    /// `json` (default) or `form`.
    #[serde(default)]
    pub body: BodyEncoding,
}

/// `[flows.login]`: the request that trades a username and password for credentials, and
/// where in the answer those credentials are.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginSpec {
    /// Path (or same-origin URL) of the login endpoint.
    pub path: String,
    #[serde(default)]
    pub body: BodyEncoding,
    #[serde(default = "default_username_field")]
    pub username_field: String,
    #[serde(default = "default_password_field")]
    pub password_field: String,
    /// Constant fields sent with every login (`remember = "1"`).
    #[serde(default)]
    pub extra: BTreeMap<String, String>,
    /// JSON path of the access token (a JWT, sent as `Bearer`).
    pub access: Option<JsonPathExpr>,
    /// JSON path of the refresh token.
    pub refresh: Option<JsonPathExpr>,
    /// JSON path of an opaque API token (sent as `Token` unless `scheme` says otherwise).
    pub token: Option<JsonPathExpr>,
    /// The `Authorization` scheme for `access`/`token` (`Bearer`, `Token`, `JWT`; `""`
    /// for none). Left out, the scan learns it from the answer's `token_type`, the
    /// `WWW-Authenticate` challenges and by trying the token on the identity endpoint.
    pub scheme: Option<AuthScheme>,
    /// A header the token goes in instead of `Authorization` (`X-API-Key`).
    pub header: Option<String>,
    /// OAuth 2 password grant (`body = "oauth2"`): the client's id, secret and scope.
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub scope: Option<String>,
    /// Cookie the access token arrives in instead of the body (dj-rest-auth `JWT_AUTH_COOKIE`).
    pub access_cookie: Option<String>,
    /// Cookie the refresh token arrives in (dj-rest-auth `JWT_AUTH_REFRESH_COOKIE`).
    pub refresh_cookie: Option<String>,
    /// The session cookie a successful login sets (`sessionid`); for form logins any new
    /// session-like cookie counts when this is left out.
    pub session_cookie: Option<String>,
    /// A form login whose form is served on another page than the one it posts to (a
    /// Rails `/session/new` posting to `/session`): the page read before each login for
    /// the form's hidden fields (the per-session CSRF token). Left out, the login's own path.
    pub page: Option<String>,
}

/// `[flows.refresh]`: trades a refresh token for a new access token.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshSpec {
    pub path: String,
    /// Body field that carries the refresh token.
    #[serde(default = "default_refresh_field")]
    pub field: String,
    /// JSON path of the new access token.
    #[serde(default = "default_access_path")]
    pub access: JsonPathExpr,
    /// JSON path of the rotated refresh token, if the server rotates.
    #[serde(default = "default_refresh_path")]
    pub refresh: JsonPathExpr,
    /// `json`, `form`, or `oauth2`: an OAuth 2 refresh grant (RFC 6749 §6), a form with
    /// `grant_type=refresh_token` and the token in `field` (`refresh_token`).
    #[serde(default)]
    pub body: BodyEncoding,
    /// Constant fields sent with every refresh (an OAuth 2 client's `client_id`).
    #[serde(default)]
    pub extra: BTreeMap<String, String>,
}

/// `[flows.logout]`: ends a session, sent with the credential being logged out.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogoutSpec {
    pub path: String,
    #[serde(default)]
    pub body: BodyEncoding,
    /// Body field that carries the refresh token (simplejwt blacklist, dj-rest-auth), if any.
    pub refresh_field: Option<String>,
    /// What the endpoint promises to end: `everything` the login issued (a logout), or only
    /// the `refresh` token (simplejwt's `TokenBlacklistView`: access tokens live to `exp`).
    #[serde(default)]
    pub revokes: LogoutScope,
    /// A sign-out form's page (`body = "form"`): read as the identity before each logout
    /// for the form's hidden fields (the per-session CSRF token, a `_method=delete`
    /// override), which are posted with it.
    pub page: Option<String>,
}

/// What a logout promises to end.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogoutScope {
    #[default]
    Everything,
    Refresh,
}

/// `[flows.password_change]`: changes the logged-in account's password.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordChangeSpec {
    pub path: String,
    #[serde(default)]
    pub body: BodyEncoding,
    /// Field for the current password; `""` when the endpoint does not ask for it.
    #[serde(default = "default_old_password_field")]
    pub old_field: String,
    /// Fields that each carry the new password (Django's form and dj-rest-auth ask twice,
    /// as `new_password1`/`new_password2`; many DRF views take `new_password`).
    #[serde(default = "default_new_password_fields")]
    pub new_fields: Vec<String>,
}

/// `[flows.identity]`: the endpoint that returns the caller's own user record.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentitySpec {
    pub path: String,
    /// JSON path of the username in the record.
    #[serde(default = "default_username_path")]
    pub username: JsonPathExpr,
}

/// A detected endpoint that takes one value in a JSON field: a token to verify
/// (`{"token"}`), an address to send a password-reset mail to (`{"email"}`).
#[derive(Debug, Clone)]
pub struct FieldSpec {
    pub path: String,
    pub field: String,
    /// The other fields the API's spec requires, with values its schema allows.
    pub extra: Vec<(String, serde_json::Value)>,
    /// Sent as a form, as the spec declares, rather than JSON.
    pub form: bool,
    /// The session an HTML form's hidden CSRF token belongs to (the cookies its page set),
    /// sent with every request.
    pub session: Option<std::sync::Arc<crate::cookies::CookieJar>>,
}

impl FieldSpec {
    pub fn preset(path: &str, field: &str) -> FieldSpec {
        FieldSpec {
            path: path.to_string(),
            field: field.to_string(),
            extra: Vec::new(),
            form: false,
            session: None,
        }
    }

    /// The request the spec's body schema describes: the field named one of `names`
    /// (else its one required string field) carries the value, every other required
    /// field gets a value of its type. `None` when the schema names no such field.
    pub fn from_schema(path: &str, body: &crate::spec::BodySchema, names: &[&str]) -> Option<FieldSpec> {
        let field = body.field_named(names).or_else(|| body.lone_required_string())?;
        Some(FieldSpec {
            path: path.to_string(),
            field: field.name.clone(),
            extra: body.filler(&field.name),
            form: body.form,
            session: None,
        })
    }

    /// Whether the field takes an e-mail address rather than a username.
    pub fn takes_email(&self) -> bool {
        let lower = self.field.to_ascii_lowercase();
        lower.contains("mail")
    }
}

fn default_username_field() -> String {
    "username".into()
}
fn default_email_field() -> String {
    "email".into()
}
fn default_password_field() -> String {
    "password".into()
}
fn default_refresh_field() -> String {
    "refresh".into()
}
fn default_old_password_field() -> String {
    "old_password".into()
}
fn default_new_password_fields() -> Vec<String> {
    vec!["new_password".into(), "new_password1".into(), "new_password2".into()]
}
fn path(raw: &str) -> JsonPathExpr {
    JsonPathExpr::parse(raw).expect("preset JSON paths are valid")
}
fn default_access_path() -> JsonPathExpr {
    path("$['access','access_token','token']")
}
fn default_refresh_path() -> JsonPathExpr {
    path("$['refresh','refresh_token']")
}
fn default_username_path() -> JsonPathExpr {
    path("$['username','email','user','name']")
}

impl LoginSpec {
    /// A JSON login that finds whatever the common Django packages return: simplejwt and
    /// dj-rest-auth (`access`/`refresh`), DRF authtoken and dj-rest-auth (`token`/`key`),
    /// knox (`token` + `expiry`).
    pub fn json_preset(path_: &str) -> LoginSpec {
        LoginSpec {
            path: path_.into(),
            body: BodyEncoding::Json,
            username_field: default_username_field(),
            password_field: default_password_field(),
            extra: BTreeMap::new(),
            access: Some(path("$['access','access_token']")),
            refresh: Some(path("$['refresh','refresh_token']")),
            token: Some(path("$['token','key','auth_token']")),
            scheme: None,
            header: None,
            client_id: None,
            client_secret: None,
            scope: None,
            access_cookie: None,
            refresh_cookie: None,
            session_cookie: None,
            page: None,
        }
    }

    /// An OAuth 2 password grant: a form in, `{access_token, token_type, refresh_token}` out.
    pub fn oauth2_preset(path_: &str) -> LoginSpec {
        LoginSpec {
            body: BodyEncoding::OAuth2,
            ..LoginSpec::json_preset(path_)
        }
    }

    /// A Django `LoginView` form: CSRF cookie and field, session cookie on success.
    pub fn form_preset(path_: &str) -> LoginSpec {
        LoginSpec {
            body: BodyEncoding::Form,
            access: None,
            refresh: None,
            token: None,
            ..LoginSpec::json_preset(path_)
        }
    }
}

impl RefreshSpec {
    pub fn preset(path_: &str) -> RefreshSpec {
        RefreshSpec {
            path: path_.into(),
            field: default_refresh_field(),
            access: default_access_path(),
            refresh: default_refresh_path(),
            body: BodyEncoding::Json,
            extra: BTreeMap::new(),
        }
    }

    /// The refresh grant at an OAuth 2 token endpoint, for the client `login` uses.
    pub fn oauth2_preset(path_: &str, login: &LoginSpec) -> RefreshSpec {
        let mut extra = BTreeMap::new();
        for (name, value) in [("client_id", &login.client_id), ("client_secret", &login.client_secret)] {
            if let Some(v) = value {
                extra.insert(name.to_string(), v.clone());
            }
        }
        RefreshSpec {
            field: "refresh_token".into(),
            body: BodyEncoding::OAuth2,
            extra,
            ..RefreshSpec::preset(path_)
        }
    }
}

impl LogoutSpec {
    pub fn preset(path_: &str, refresh_field: Option<&str>) -> LogoutSpec {
        LogoutSpec {
            path: path_.into(),
            body: BodyEncoding::Json,
            refresh_field: refresh_field.map(str::to_string),
            revokes: LogoutScope::Everything,
            page: None,
        }
    }

    /// simplejwt's `TokenBlacklistView`: ends the refresh token only.
    pub fn blacklist_preset(path_: &str) -> LogoutSpec {
        LogoutSpec {
            revokes: LogoutScope::Refresh,
            ..LogoutSpec::preset(path_, Some("refresh"))
        }
    }
}

impl PasswordChangeSpec {
    pub fn preset(path_: &str) -> PasswordChangeSpec {
        PasswordChangeSpec {
            path: path_.into(),
            body: BodyEncoding::Json,
            old_field: default_old_password_field(),
            new_fields: default_new_password_fields(),
        }
    }
}

impl IdentitySpec {
    pub fn preset(path_: &str) -> IdentitySpec {
        IdentitySpec {
            path: path_.into(),
            username: default_username_path(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Fuzz regression (json_path, crash-05c5a83e: `$['\u`): serde_json_path panicked on
    /// a path ending inside a `\u` escape; a config file with one crashed the CLI.
    #[test]
    fn paths_ending_inside_a_unicode_escape_are_errors_not_panics() {
        for bad in [
            "$['\\u",
            "$[\"\\u12",
            "$['\\uD800",
            "$['\\uD800\\u",
            "$['\\uD800\\uDC",
            "a['\\ud83d\\",
        ] {
            assert!(JsonPathExpr::parse(bad).is_err(), "{bad}");
        }
        let escaped = JsonPathExpr::parse("$['\\u00e9t\\u00e9']").unwrap();
        assert_eq!(escaped.first_str(&json!({"été": "summer"})).as_deref(), Some("summer"));
        let pair = JsonPathExpr::parse("$['\\uD83D\\uDE00']").unwrap();
        assert_eq!(pair.first_str(&json!({"😀": "smile"})).as_deref(), Some("smile"));
        // An escaped backslash followed by `u` is no escape.
        assert!(JsonPathExpr::parse("$['a\\\\u']").is_ok());
    }

    /// Fuzz regression (json_path, timeout-d3b70c1a): nested filters made the parser
    /// backtrack for 30 s on 210 characters; such paths are refused at once.
    #[test]
    fn pathologically_nested_filters_are_refused_quickly() {
        let slow = "$..[?@.t.a[?@.ta[?@.t.a.aa .at.a[?@.a[?@.ta[?@.t.a.aa .a[?@.tt.a[?@.tt.a[?@.a[?@.ta[?@.t.a.aa .a[?@.tt.a[?@.t.a[?@.ta[?@.t.a.aa .at.a[?@.a[?@.ta[?@.t.a.aa .a[?@.tt.a[?@.tt.a[?@.a[?@.ta[?@?@.a[?aa .a[?}aa .a[?}]";
        let started = std::time::Instant::now();
        let err = JsonPathExpr::parse(slow).unwrap_err();
        assert!(err.contains("too complex"), "{err}");
        assert!(started.elapsed() < std::time::Duration::from_millis(100));
        let filter = JsonPathExpr::parse("$.tokens[?@.type == 'access'].value").unwrap();
        let body = json!({"tokens": [{"type": "refresh", "value": "r"}, {"type": "access", "value": "a"}]});
        assert_eq!(filter.first_str(&body).as_deref(), Some("a"));
    }

    #[test]
    fn bare_paths_read_as_members_of_the_root() {
        let p = JsonPathExpr::parse("data.tokens.access").unwrap();
        assert_eq!(p.as_str(), "$.data.tokens.access");
        let body = json!({"data": {"tokens": {"access": "abc"}}});
        assert_eq!(p.first_str(&body).as_deref(), Some("abc"));
    }

    #[test]
    fn a_union_takes_the_first_member_present() {
        let p = JsonPathExpr::parse("$['access','access_token']").unwrap();
        assert_eq!(p.first_str(&json!({"access_token": "x"})).as_deref(), Some("x"));
        assert_eq!(
            p.first_str(&json!({"access": "a", "access_token": "x"})).as_deref(),
            Some("a")
        );
        assert_eq!(p.first_str(&json!({"other": "x"})), None);
    }

    #[test]
    fn an_invalid_path_is_a_clear_error() {
        let err = JsonPathExpr::parse("$[").unwrap_err();
        assert!(err.contains("`$[` is not a valid JSON path"), "{err}");
    }

    #[test]
    fn flows_parse_from_toml_with_defaults() {
        let specs: FlowSpecs = toml::from_str(
            r#"
            [login]
            path = "/dj-rest-auth/login/"
            access = "$.access"
            refresh = "$.refresh"
            [refresh]
            path = "/dj-rest-auth/token/refresh/"
            [logout]
            path = "/dj-rest-auth/logout/"
            refresh_field = "refresh"
            [password_change]
            path = "/dj-rest-auth/password/change/"
            [identity]
            path = "/dj-rest-auth/user/"
            "#,
        )
        .unwrap();
        let login = specs.login.unwrap();
        assert_eq!(login.username_field, "username");
        assert_eq!(login.body, BodyEncoding::Json);
        assert_eq!(specs.refresh.unwrap().field, "refresh");
        assert_eq!(
            specs.password_change.unwrap().new_fields,
            ["new_password", "new_password1", "new_password2"]
        );
        assert_eq!(
            specs.identity.unwrap().username.as_str(),
            "$['username','email','user','name']"
        );
    }

    #[test]
    fn unknown_keys_and_bad_paths_are_refused() {
        assert!(toml::from_str::<FlowSpecs>("[login]\npath = \"/x/\"\nacess = \"$.a\"").is_err());
        let err = toml::from_str::<FlowSpecs>("[login]\npath = \"/x/\"\naccess = \"$[\"").unwrap_err();
        assert!(err.to_string().contains("not a valid JSON path"), "{err}");
    }
}
