//! Identities the scan acts as, and the login flows that obtain them.

use regex::Regex;
use serde::Deserialize;
use std::sync::{Arc, LazyLock};
use url::Url;

use crate::cookies::CookieJar;
use crate::exchange::ExchangeId;
use crate::probe::{ProbeError, ProbeRequest, ProbeResponse};
use crate::target::UserCredential;

/// Login flows authprobe knows how to drive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LoginKind {
    /// djangorestframework-simplejwt `TokenObtainPairView`: JSON in, `{access, refresh}` out.
    Simplejwt,
    /// DRF `obtain_auth_token`: JSON in, `{token}` out, used as `Authorization: Token KEY`.
    Authtoken,
    /// A Django `LoginView` form with a CSRF cookie and field; yields a session cookie.
    Form,
}

impl LoginKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LoginKind::Simplejwt => "simplejwt",
            LoginKind::Authtoken => "authtoken",
            LoginKind::Form => "form",
        }
    }
}

/// A credential the user supplied (`--bearer`, `--header`, `[[identity]] header`): an
/// identity without a login. The value never leaves memory unredacted.
#[derive(Clone)]
pub struct SuppliedToken {
    /// Shown in reports: `bearer`, `bearer-2`, `X-API-Key`.
    pub label: String,
    pub value: String,
    pub presentation: Presentation,
}

impl std::fmt::Debug for SuppliedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SuppliedToken({}: {}: ***)",
            self.label,
            self.presentation.describe()
        )
    }
}

/// How a token is sent: the auth model's presentation, learned from config, the spec,
/// `WWW-Authenticate`, or by trying it against the identity endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presentation {
    /// `Authorization: <scheme> <token>` (`Bearer`, `Token`, `JWT`, …).
    Scheme(String),
    /// `Authorization: <token>`, with no scheme.
    RawAuthorization,
    /// A header of its own: `X-API-Key: <token>`.
    Header(String),
    /// A cookie: `Cookie: <name>=<token>`.
    Cookie(String),
}

impl Presentation {
    pub fn bearer() -> Presentation {
        Presentation::Scheme("Bearer".into())
    }

    /// The header this presentation sends `token` in, as (name, value).
    pub fn header(&self, token: &str) -> (String, String) {
        match self {
            Presentation::Scheme(scheme) => ("Authorization".into(), format!("{scheme} {token}")),
            Presentation::RawAuthorization => ("Authorization".into(), token.to_string()),
            Presentation::Header(name) => (name.clone(), token.to_string()),
            Presentation::Cookie(name) => ("Cookie".into(), format!("{name}={token}")),
        }
    }

    /// Adds `token` to a request, presented this way.
    pub fn apply(&self, req: ProbeRequest, token: &str) -> ProbeRequest {
        let (name, value) = self.header(token);
        req.header(&name, value)
    }

    /// How reports describe it: `Authorization: Bearer`, `X-API-Key header`, `cookie sid`.
    pub fn describe(&self) -> String {
        match self {
            Presentation::Scheme(scheme) => format!("Authorization: {scheme}"),
            Presentation::RawAuthorization => "Authorization (no scheme)".into(),
            Presentation::Header(name) => format!("{name} header"),
            Presentation::Cookie(name) => format!("cookie {name}"),
        }
    }
}

/// How an identity authenticates its requests.
#[derive(Debug, Clone)]
pub enum Credential {
    /// A token (a JWT or an opaque key), sent as its presentation says.
    Token { value: String, presentation: Presentation },
    /// A session cookie jar (a form login, or a login that answers with cookies).
    Session(Arc<CookieJar>),
}

impl Credential {
    pub fn bearer(token: &str) -> Credential {
        Credential::Token {
            value: token.to_string(),
            presentation: Presentation::bearer(),
        }
    }
}

/// One account (or supplied token) the scan acts as.
#[derive(Debug, Clone)]
pub struct Identity {
    /// Shown in reports: the username, or `bearer` for a supplied token.
    pub label: String,
    pub username: Option<String>,
    /// The credential used for ordinary authenticated requests.
    pub credential: Credential,
    /// The access JWT and the refresh token, when the login issued them.
    pub access_jwt: Option<String>,
    pub refresh_jwt: Option<String>,
    /// A logged-in session (cookies), when a login set one.
    pub session: Option<Arc<CookieJar>>,
    /// The kind of credential the login produced; `None` for a supplied token.
    pub login: Option<LoginKind>,
    /// The family of the login flow that produced it (`simplejwt`, `knox`, …); `None` for a
    /// supplied token.
    pub flow: Option<&'static str>,
    /// Text that identifies this identity in responses (its username).
    pub marker: Option<String>,
    /// The exchange that logged it in.
    pub login_exchange: Option<ExchangeId>,
    /// The login flow's URL it came from; `None` for a supplied token.
    pub login_url: Option<Url>,
    /// The cookie the refresh token is held in, when the login set it as one
    /// (Flask-JWT-Extended's `refresh_token_cookie`): a refresh presents it the same way.
    pub refresh_cookie: Option<String>,
    /// The body field the login's token came from (`session_token`, `api_key`), when it
    /// came from one: the API may want it in a header or a cookie of that name.
    pub token_field: Option<String>,
    /// How the API's spec says keys are presented (its `apiKey` schemes): tried first
    /// when the token's presentation is settled.
    pub declared_presentations: Vec<Presentation>,
}

impl Identity {
    /// An identity from a supplied token (`--bearer`, `--header`), presented as given.
    pub fn from_token(label: &str, token: &str, presentation: Presentation) -> Identity {
        let is_jwt = authprobe_jwt::Jwt::looks_like(token);
        Identity {
            label: label.into(),
            username: None,
            credential: Credential::Token {
                value: token.to_string(),
                presentation,
            },
            access_jwt: is_jwt.then(|| token.to_string()),
            refresh_jwt: None,
            session: None,
            login: None,
            flow: None,
            marker: None,
            login_exchange: None,
            login_url: None,
            refresh_cookie: None,
            token_field: None,
            declared_presentations: Vec::new(),
        }
    }

    /// Adds this identity's credential to a request.
    pub fn authorize(&self, req: ProbeRequest) -> ProbeRequest {
        match &self.credential {
            Credential::Session(jar) => req.with_jar(jar.clone()),
            Credential::Token { value, presentation } => presentation.apply(req, value),
        }
    }

    /// Sends `token` (a forged, replayed or garbage value) the way this identity sends its
    /// own credential; a session identity's tokens go as `Authorization: Bearer`.
    pub fn present(&self, req: ProbeRequest, token: &str) -> ProbeRequest {
        self.presentation().unwrap_or(&Presentation::bearer()).apply(req, token)
    }

    /// How this identity's token is sent, if token-based.
    pub fn presentation(&self) -> Option<&Presentation> {
        match &self.credential {
            Credential::Token { presentation, .. } => Some(presentation),
            Credential::Session(_) => None,
        }
    }

    /// The header [`Identity::authorize`] sends, as (name, value), if token-based; write
    /// grants for this identity alone compare against it.
    pub fn credential_header(&self) -> Option<(String, String)> {
        match &self.credential {
            Credential::Token { value, presentation } => Some(presentation.header(value)),
            Credential::Session(_) => None,
        }
    }

    /// The `Authorization` header value [`Identity::authorize`] sends (`Bearer …`,
    /// `Token …`), if the token goes in `Authorization`.
    pub fn authorization(&self) -> Option<String> {
        self.credential_header()
            .filter(|(name, _)| name.eq_ignore_ascii_case("authorization"))
            .map(|(_, value)| value)
    }

    /// The `Authorization` scheme this identity uses, if it sends one.
    pub fn scheme(&self) -> Option<&str> {
        match self.presentation()? {
            Presentation::Scheme(s) => Some(s),
            _ => None,
        }
    }

    /// The raw token, if token-based.
    pub fn token(&self) -> Option<&str> {
        match &self.credential {
            Credential::Token { value, .. } => Some(value),
            Credential::Session(_) => None,
        }
    }

    /// Every secret this identity holds, for the redactor.
    pub fn secrets(&self) -> Vec<String> {
        let mut out: Vec<String> = [self.token(), self.access_jwt.as_deref(), self.refresh_jwt.as_deref()]
            .into_iter()
            .flatten()
            .map(str::to_string)
            .collect();
        if let Some(jar) = &self.session {
            for name in jar.names() {
                if let Some(v) = jar.get(&name) {
                    out.push(v);
                }
            }
        }
        out
    }
}

/// Why a login did not produce a credential.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LoginError {
    #[error("{0}")]
    Probe(#[from] ProbeError),
    #[error("login as `{user}` at {url} was refused (HTTP {status}): {detail}")]
    Refused {
        user: String,
        url: String,
        status: u16,
        detail: String,
        /// The answer asked for an OAuth 2 `grant_type`.
        grant_type: bool,
    },
    #[error("login as `{user}` at {url} answered HTTP {status} without a {what}")]
    NoCredential {
        user: String,
        url: String,
        status: u16,
        what: &'static str,
    },
}

static CSRF_FIELD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"name=["']csrfmiddlewaretoken["']\s+value=["']([^"']+)["']|value=["']([^"']+)["']\s+name=["']csrfmiddlewaretoken["']"#)
        .expect("valid regex")
});

/// The `csrfmiddlewaretoken` value of a Django form, if the page has one.
pub fn csrf_field(html: &str) -> Option<String> {
    CSRF_FIELD
        .captures(html)
        .and_then(|c| c.get(1).or_else(|| c.get(2)))
        .map(|m| m.as_str().to_string())
}

pub(crate) fn refused(user: &UserCredential, url: &Url, resp: &ProbeResponse) -> LoginError {
    LoginError::Refused {
        user: user.username.clone(),
        url: url.to_string(),
        status: resp.status,
        detail: safe_detail(resp),
        grant_type: resp.text().contains("grant_type"),
    }
}

/// Keys whose string value is an error message meant for people.
const MESSAGE_KEYS: &[&str] = &[
    "detail",
    "error_description",
    "error",
    "message",
    "msg",
    "non_field_errors",
    "errors",
];

/// Longest piece of a target's message an error repeats.
const MAX_DETAIL: usize = 160;

static TOKEN_LIKE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"[A-Za-z0-9_\-+/=.~]{20,}").expect("valid regex"));

/// What a refused login's answer says, safe to print: only a message field of a JSON
/// body, cut short, with anything token-shaped replaced; never the raw body, which may
/// carry a live token or a session id.
pub fn safe_detail(resp: &ProbeResponse) -> String {
    let message = resp.json().and_then(|json| {
        MESSAGE_KEYS.iter().find_map(|k| match json.get(*k)? {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Array(items) => items.iter().find_map(|v| v.as_str().map(str::to_string)),
            serde_json::Value::Object(map) => map.values().find_map(|v| v.as_str().map(str::to_string)),
            _ => None,
        })
    });
    match message {
        Some(m) => {
            let scrubbed = TOKEN_LIKE.replace_all(&m, "[redacted]");
            let cut: String = scrubbed.chars().take(MAX_DETAIL).collect();
            cut.replace(['\n', '\r'], " ")
        }
        None if resp.is_html() => "the login form was shown again".to_string(),
        None => format!("a {} byte {} answer", resp.body.len(), content_kind(resp)),
    }
}

fn content_kind(resp: &ProbeResponse) -> &'static str {
    let ct = resp.content_type();
    if ct.contains("json") {
        "JSON"
    } else if ct.is_empty() {
        "untyped"
    } else {
        "non-JSON"
    }
}

impl crate::discovery::Authorize for Identity {
    fn authorize(&self, req: ProbeRequest) -> ProbeRequest {
        Identity::authorize(self, req)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_csrf_field_is_found_in_a_django_form() {
        let html = r#"<form method="post"><input type="hidden" name="csrfmiddlewaretoken" value="abc123XYZ"></form>"#;
        let caps = CSRF_FIELD.captures(html).unwrap();
        assert_eq!(caps.get(1).unwrap().as_str(), "abc123XYZ");
    }

    #[test]
    fn a_refused_login_never_repeats_a_token_from_its_answer() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlc2lnbmF0dXJl";
        let leaky = crate::oracle::tests::response(
            403,
            &format!(r#"{{"detail":"account locked, token {jwt}","access":"{jwt}"}}"#),
        );
        let detail = safe_detail(&leaky);
        assert!(!detail.contains("eyJ"), "{detail}");
        assert!(detail.contains("account locked"), "{detail}");
        let raw = crate::oracle::tests::response(500, &format!("session=abcdefghijklmnopqrstuvwxyz123 {jwt}"));
        let detail = safe_detail(&raw);
        assert!(
            !detail.contains("abcdefghijklmnop") && !detail.contains("eyJ"),
            "{detail}"
        );
    }

    #[test]
    fn presentations_build_their_headers() {
        assert_eq!(
            Presentation::Scheme("JWT".into()).header("t"),
            ("Authorization".to_string(), "JWT t".to_string())
        );
        assert_eq!(Presentation::RawAuthorization.header("t").1, "t");
        assert_eq!(Presentation::Header("X-API-Key".into()).header("t").0, "X-API-Key");
        assert_eq!(Presentation::Cookie("sid".into()).header("t").1, "sid=t");
        let id = Identity::from_token("key", "t", Presentation::Header("X-API-Key".into()));
        assert_eq!(id.authorization(), None);
        assert_eq!(id.credential_header(), Some(("X-API-Key".into(), "t".into())));
    }

    #[test]
    fn a_bearer_identity_knows_whether_it_holds_a_jwt() {
        let id = Identity::from_token("bearer", "opaque-token-value", Presentation::bearer());
        assert!(id.access_jwt.is_none());
        assert_eq!(id.scheme(), Some("Bearer"));
    }
}
