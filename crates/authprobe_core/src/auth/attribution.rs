//! Whose credential a recorded request carried: the label of each piece of evidence
//! (`as alice (own token)`, `bob's refresh token`, `login as alice with a wrong password`,
//! `forged token`). It reads the request as the auth layer knows credentials: the
//! identities' own tokens, sessions and presentations, the accounts' passwords, and the
//! fields, headers, cookies and parameters that carry credentials.

use base64::Engine as _;

use super::identity::{Credential, Identity, Presentation};
use crate::exchange::{Exchange, RecordedRequest};
use crate::target::UserCredential;

/// Names what this request was from whose credential it carried, for the label of its
/// evidence. `identities` and `accounts` are the scan's own; `first_with` gives the
/// first recorded exchange whose response carried a value (asked for only when a
/// credential must be traced to the response that issued it; see [`issuer`]).
///
/// In order: a login (a body with a `password` field) as a known account, with a wrong
/// password, or for an unknown account; no credential at all (`anonymous request`); an
/// identity's own credential or refresh token, or its password sent as HTTP Basic; a
/// credential an earlier response issued, named after that response (a login as an
/// account, or its request line); anything else the scanner made: `forged credential`.
pub fn role(
    x: &Exchange,
    identities: &[Identity],
    accounts: &[UserCredential],
    first_with: impl FnOnce(&str) -> Option<Exchange>,
) -> String {
    if let Some(login) = login(x, identities, accounts) {
        return login.to_string();
    }
    let carried = carried_credentials(&x.request, identities);
    let Some(credential) = carried.first() else {
        return "anonymous request".to_string();
    };
    let (value, kind) = (credential.value.as_str(), credential.kind);
    let in_url = if credential.place == Place::Url {
        ", in the URL"
    } else {
        ""
    };
    for identity in identities {
        let jars = identity.session.iter().chain(match &identity.credential {
            Credential::Session(jar) => Some(jar),
            _ => None,
        });
        let own = identity.token() == Some(value)
            || identity.access_jwt.as_deref() == Some(value)
            || jars
                .into_iter()
                .any(|jar| jar.names().iter().any(|n| jar.get(n).as_deref() == Some(value)));
        if own {
            return format!("as {} (own {kind}{in_url})", identity.label);
        }
        if identity.refresh_jwt.as_deref() == Some(value) {
            return format!("{}'s refresh token{}", identity.label, in_url.replace(',', ""));
        }
    }
    if credential.place == Place::Basic {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(value)
            .ok()
            .and_then(|b| String::from_utf8(b).ok());
        if let Some(a) = decoded
            .as_deref()
            .and_then(|d| d.split_once(':'))
            .and_then(|(u, p)| accounts.iter().find(|a| a.username == u && a.password == p))
        {
            return format!("{}'s password as HTTP Basic", a.username);
        }
    } else if let Some(issuer) = (value.len() >= 8)
        .then(|| first_with(value))
        .flatten()
        .filter(|issuer| issuer.id < x.id)
    {
        return match login(&issuer, identities, accounts) {
            Some(Login::As(who)) => format!("as {who} ({kind} from a fresh login{in_url})"),
            _ => format!(
                "{kind} issued by {} {}{in_url}",
                issuer.request.method,
                path_of(&issuer.request.url)
            ),
        };
    }
    format!("forged {kind}")
}

/// The login this request was, if it sent a password.
fn login(x: &Exchange, identities: &[Identity], accounts: &[UserCredential]) -> Option<Login> {
    let fields = x.request.body.as_deref().map(body_fields).unwrap_or_default();
    let field = |names: &[&str]| {
        fields
            .iter()
            .find(|(k, _)| names.iter().any(|n| k.eq_ignore_ascii_case(n)))
            .map(|(_, v)| v.as_str())
    };
    let password = field(&["password"])?;
    if let Some(identity) = identities.iter().find(|i| i.login_exchange == Some(x.id)) {
        return Some(Login::As(identity.label.clone()));
    }
    let username = field(&["username", "email", "login", "user"]);
    Some(match accounts.iter().find(|a| Some(a.username.as_str()) == username) {
        Some(a) if a.password == password => Login::As(a.username.clone()),
        Some(a) => Login::WrongPassword(a.username.clone()),
        None => Login::UnknownAccount,
    })
}

/// The path and query of a URL (`/api/token/refresh/`), or the text as it is.
fn path_of(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_string(),
        },
        Err(_) => url.to_string(),
    }
}

/// A credential a request carried.
struct Carried {
    place: Place,
    /// What it is called in a role: `credential`, `token`, `refresh token`.
    kind: &'static str,
    value: String,
}

/// A request that sent a password.
enum Login {
    /// As this account, with its password.
    As(String),
    /// As this account, with another password.
    WrongPassword(String),
    /// As an account the scan does not know.
    UnknownAccount,
}

impl std::fmt::Display for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Login::As(who) => write!(f, "login as {who}"),
            Login::WrongPassword(who) => write!(f, "login as {who} with a wrong password"),
            Login::UnknownAccount => f.write_str("login attempt for an unknown account"),
        }
    }
}

/// Where a request carried a credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Header,
    Basic,
    Cookie,
    Url,
    Body,
}

/// Query parameters that carry credentials.
const CREDENTIAL_PARAMS: &[&str] = &[
    "access_token",
    "token",
    "auth_token",
    "api_key",
    "apikey",
    "key",
    "jwt",
    "sessionid",
    "session_id",
];

/// Headers other than `Authorization` and `Cookie` that carry credentials.
const CREDENTIAL_HEADERS: &[&str] = &[
    "x-api-key",
    "api-key",
    "x-auth-token",
    "x-access-token",
    "proxy-authorization",
];

/// JSON or form fields of a body that carry a credential, and what it is called.
const CREDENTIAL_FIELDS: &[(&str, &str)] = &[
    ("refresh", "refresh token"),
    ("refresh_token", "refresh token"),
    ("token", "token"),
    ("access", "token"),
    ("access_token", "token"),
];

/// The credentials a request carried, most telling first: headers, cookies, the URL, the body.
fn carried_credentials(req: &RecordedRequest, identities: &[Identity]) -> Vec<Carried> {
    let carried = |place, kind, value: &str| Carried {
        place,
        kind,
        value: value.trim().to_string(),
    };
    let own_header = |name: &str| {
        identities
            .iter()
            .any(|i| matches!(i.presentation(), Some(Presentation::Header(h)) if h.eq_ignore_ascii_case(name)))
    };
    let own_cookie = |name: &str| {
        identities.iter().any(|i| {
            matches!(i.presentation(), Some(Presentation::Cookie(c)) if c == name)
                || i.session
                    .as_ref()
                    .is_some_and(|jar| jar.names().iter().any(|n| n == name))
        })
    };
    let (mut out, mut cookies) = (Vec::new(), Vec::new());
    for (name, value) in &req.headers {
        let lower = name.to_ascii_lowercase();
        if lower == "authorization" {
            out.push(match value.split_once(' ') {
                Some((scheme, v)) if scheme.eq_ignore_ascii_case("basic") => carried(Place::Basic, "credential", v),
                Some((_, v)) => carried(Place::Header, "credential", v),
                None => carried(Place::Header, "credential", value),
            });
        } else if CREDENTIAL_HEADERS.contains(&lower.as_str()) || own_header(name) {
            out.push(carried(Place::Header, "credential", value));
        } else if lower == "cookie" {
            for pair in value.split(';') {
                let Some((k, v)) = pair.trim().split_once('=') else {
                    continue;
                };
                let key = k.to_ascii_lowercase();
                let credential_like = !key.contains("csrf")
                    && ["session", "sid", "token", "auth", "jwt", "key"]
                        .iter()
                        .any(|w| key.contains(w));
                if credential_like || own_cookie(k) {
                    cookies.push(carried(Place::Cookie, "credential", v));
                }
            }
        }
    }
    out.extend(cookies);
    if let Ok(url) = url::Url::parse(&req.url) {
        for (k, v) in url.query_pairs() {
            if CREDENTIAL_PARAMS.iter().any(|p| k.eq_ignore_ascii_case(p)) && !v.is_empty() {
                out.push(carried(Place::Url, "credential", &v));
            }
        }
    }
    for (k, v) in req.body.as_deref().map(body_fields).unwrap_or_default() {
        if let Some((_, kind)) = CREDENTIAL_FIELDS.iter().find(|(f, _)| k.eq_ignore_ascii_case(f)) {
            if !v.is_empty() {
                out.push(carried(Place::Body, kind, &v));
            }
        }
    }
    out.retain(|c| !c.value.is_empty());
    out
}

/// The top-level string fields of a JSON object or form body.
fn body_fields(body: &str) -> Vec<(String, String)> {
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(body) {
        return map
            .into_iter()
            .filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_string())))
            .collect();
    }
    url::form_urlencoded::parse(body.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::{ExchangeId, RecordedResponse};

    fn with_set_cookie(mut x: Exchange, cookie: &str) -> Exchange {
        if let Some(r) = &mut x.response {
            r.headers.push(("set-cookie".into(), cookie.into()));
        }
        x
    }

    fn request(
        id: usize,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
        answer: &str,
    ) -> Exchange {
        Exchange {
            id: ExchangeId(id),
            request: RecordedRequest {
                method: method.into(),
                url: url.into(),
                headers: headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
                body: body.map(str::to_string),
            },
            response: Some(RecordedResponse {
                status: 200,
                headers: vec![],
                body: answer.into(),
                body_truncated: false,
            }),
            error: None,
            elapsed_ms: 1,
            insecure: false,
        }
    }

    #[test]
    fn evidence_roles_say_whose_credential_a_request_carried() {
        use crate::auth::identity::{Identity, Presentation};
        let mut alice = Identity::from_token("alice", "alice-token-123", Presentation::bearer());
        alice.refresh_jwt = Some("alice-refresh-456".into());
        let identities = vec![alice];
        let accounts = vec![
            UserCredential {
                username: "alice".into(),
                password: "alice-pass-1".into(),
            },
            UserCredential {
                username: "bob".into(),
                password: "bob-pass-2".into(),
            },
        ];
        let record = [
            request(
                0,
                "POST",
                "http://t/api/token/",
                &[],
                Some(r#"{"username":"bob","password":"bob-pass-2"}"#),
                r#"{"access":"bob-token-789"}"#,
            ),
            with_set_cookie(
                request(1, "GET", "http://t/accounts/login/", &[], None, ""),
                "sessionid=visitor-session-1; Path=/",
            ),
        ];
        let first_with = |value: &str| record.iter().find(|x| crate::exchange::issuer(x, value)).cloned();
        let role_of = |x: Exchange| role(&x, &identities, &accounts, first_with);
        let get = |headers: &[(&str, &str)], url: &str| request(9, "GET", url, headers, None, "");
        assert_eq!(
            role_of(get(&[("Accept", "*/*")], "http://t/api/me/")),
            "anonymous request"
        );
        assert_eq!(
            role_of(get(&[("Cookie", "csrftoken=abcdefgh")], "http://t/api/me/")),
            "anonymous request",
            "a CSRF cookie is no credential"
        );
        assert_eq!(
            role_of(get(&[("Authorization", "Bearer alice-token-123")], "http://t/api/me/")),
            "as alice (own credential)"
        );
        assert_eq!(
            role_of(get(&[], "http://t/api/me/?access_token=alice-token-123")),
            "as alice (own credential, in the URL)"
        );
        assert_eq!(
            role_of(get(
                &[("Authorization", "Bearer alice-refresh-456")],
                "http://t/api/me/"
            )),
            "alice's refresh token"
        );
        assert_eq!(
            role_of(get(&[("Authorization", "Bearer bob-token-789")], "http://t/api/me/")),
            "as bob (credential from a fresh login)"
        );
        assert_eq!(
            role_of(get(&[("Cookie", "sessionid=visitor-session-1")], "http://t/api/me/")),
            "credential issued by GET /accounts/login/"
        );
        assert_eq!(
            role_of(get(
                &[("Authorization", "Bearer eyJhbGciOiJub25lIn0.e30.")],
                "http://t/api/me/"
            )),
            "forged credential"
        );
        assert_eq!(
            role_of(request(
                9,
                "POST",
                "http://t/api/token/refresh/",
                &[],
                Some(r#"{"refresh":"made-up-refresh"}"#),
                ""
            )),
            "forged refresh token"
        );
        let basic = base64::engine::general_purpose::STANDARD.encode("alice:alice-pass-1");
        assert_eq!(
            role_of(get(&[("Authorization", &format!("Basic {basic}"))], "http://t/api/me/")),
            "alice's password as HTTP Basic"
        );
        let login = |body: &str| role_of(request(9, "POST", "http://t/api/token/", &[], Some(body), ""));
        assert_eq!(
            login(r#"{"username":"alice","password":"alice-pass-1"}"#),
            "login as alice"
        );
        assert_eq!(
            login("username=bob&password=nope"),
            "login as bob with a wrong password"
        );
        assert_eq!(
            login(r#"{"username":"mallory","password":"x"}"#),
            "login attempt for an unknown account"
        );
        // Only a credential the target gave out before the request counts as issued.
        let early = request(
            0,
            "GET",
            "http://t/api/me/",
            &[("Authorization", "Bearer bob-token-789")],
            None,
            "",
        );
        assert_eq!(role(&early, &identities, &accounts, first_with), "forged credential");
    }
}
