//! Identities the scan acts as, and the login flows that obtain them.

use regex::Regex;
use std::sync::{Arc, LazyLock};
use url::Url;

use crate::config::{LoginKind, UserCredential};
use crate::cookies::CookieJar;
use crate::exchange::ExchangeId;
use crate::probe::{Probe, ProbeError, ProbeRequest, ProbeResponse};

/// How an identity authenticates its requests.
#[derive(Debug, Clone)]
pub enum Credential {
    /// `Authorization: Bearer …` (a JWT or an opaque token).
    Bearer(String),
    /// `Authorization: Token …` (DRF authtoken, knox).
    Token(String),
    /// A Django session cookie jar.
    Session(Arc<CookieJar>),
}

/// One account (or supplied token) the scan acts as.
#[derive(Debug, Clone)]
pub struct Identity {
    /// Shown in reports: the username, or `bearer` for a supplied token.
    pub label: String,
    pub username: Option<String>,
    /// The credential used for ordinary authenticated requests.
    pub credential: Credential,
    /// The simplejwt access and refresh tokens, when a JWT flow issued them.
    pub access_jwt: Option<String>,
    pub refresh_jwt: Option<String>,
    /// A logged-in Django session, when a form login succeeded.
    pub session: Option<Arc<CookieJar>>,
    /// The kind of credential the login produced; `None` for `--bearer`.
    pub login: Option<LoginKind>,
    /// The family of the login flow that produced it (`simplejwt`, `knox`, …); `None` for `--bearer`.
    pub flow: Option<&'static str>,
    /// Text that identifies this identity in responses (its username).
    pub marker: Option<String>,
    /// The exchange that logged it in.
    pub login_exchange: Option<ExchangeId>,
}

impl Identity {
    /// An identity from a supplied `--bearer` token.
    pub fn from_bearer(token: &str) -> Identity {
        let is_jwt = authprobe_jwt::Jwt::looks_like(token);
        Identity {
            label: "bearer".into(),
            username: None,
            credential: Credential::Bearer(token.to_string()),
            access_jwt: is_jwt.then(|| token.to_string()),
            refresh_jwt: None,
            session: None,
            login: None,
            flow: None,
            marker: None,
            login_exchange: None,
        }
    }

    /// Adds this identity's credential to a request.
    pub fn authorize(&self, req: ProbeRequest) -> ProbeRequest {
        match (&self.credential, self.authorization()) {
            (Credential::Session(jar), _) => req.with_jar(jar.clone()),
            (_, Some(header)) => req.header("Authorization", header),
            (_, None) => req,
        }
    }

    /// The `Authorization` header value [`Identity::authorize`] sends (`Bearer …`,
    /// `Token …`), if header-based; write grants for this identity alone compare against it.
    pub fn authorization(&self) -> Option<String> {
        Some(format!("{} {}", self.scheme()?, self.token()?))
    }

    /// The `Authorization` scheme this identity uses, if header-based.
    pub fn scheme(&self) -> Option<&'static str> {
        match self.credential {
            Credential::Bearer(_) => Some("Bearer"),
            Credential::Token(_) => Some("Token"),
            Credential::Session(_) => None,
        }
    }

    /// The raw header credential (token), if header-based.
    pub fn token(&self) -> Option<&str> {
        match &self.credential {
            Credential::Bearer(t) | Credential::Token(t) => Some(t),
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
    },
    #[error("login as `{user}` at {url} answered HTTP {status} without a {what}")]
    NoCredential {
        user: String,
        url: String,
        status: u16,
        what: &'static str,
    },
}

/// Logs in through a JSON token endpoint (simplejwt or DRF authtoken).
pub async fn login_json(
    probe: &Probe,
    kind: LoginKind,
    url: &Url,
    user: &UserCredential,
) -> Result<Identity, LoginError> {
    let body = serde_json::json!({"username": user.username, "password": user.password});
    let resp = probe.send(ProbeRequest::post_json(url.clone(), &body)).await?;
    let json = resp.json().unwrap_or_default();
    if !resp.is_success() {
        return Err(refused(user, url, &resp));
    }
    let field = |name: &str| json.get(name).and_then(|v| v.as_str()).map(str::to_string);
    let (credential, access, refresh, what) = match kind {
        LoginKind::Simplejwt => {
            let access = field("access").or_else(|| field("access_token"));
            let refresh = field("refresh").or_else(|| field("refresh_token"));
            (
                access.clone().map(Credential::Bearer),
                access,
                refresh,
                "`access` token",
            )
        }
        _ => {
            let token = field("token").or_else(|| field("key")).or_else(|| field("auth_token"));
            (token.map(Credential::Token), None, None, "`token`")
        }
    };
    let Some(credential) = credential else {
        return Err(LoginError::NoCredential {
            user: user.username.clone(),
            url: url.to_string(),
            status: resp.status,
            what,
        });
    };
    Ok(Identity {
        label: user.username.clone(),
        username: Some(user.username.clone()),
        credential,
        access_jwt: access,
        refresh_jwt: refresh,
        session: None,
        login: Some(kind),
        flow: Some(match kind {
            LoginKind::Simplejwt => crate::flows::family::SIMPLEJWT,
            LoginKind::Authtoken => crate::flows::family::AUTHTOKEN,
            LoginKind::Form => crate::flows::family::DJANGO_FORM,
        }),
        marker: Some(user.username.clone()),
        login_exchange: Some(resp.exchange),
    })
}

static CSRF_FIELD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"name=["']csrfmiddlewaretoken["']\s+value=["']([^"']+)["']|value=["']([^"']+)["']\s+name=["']csrfmiddlewaretoken["']"#)
        .expect("valid regex")
});

/// Logs in through a Django form (`LoginView`): fetch the form for its CSRF cookie and
/// field, post the credentials, and keep the session cookie it sets.
pub async fn login_form(
    probe: &Probe,
    url: &Url,
    user: &UserCredential,
) -> Result<(Arc<CookieJar>, ExchangeId), LoginError> {
    let jar = Arc::new(CookieJar::new());
    let page = probe.send(ProbeRequest::get(url.clone()).with_jar(jar.clone())).await?;
    let csrf = csrf_field(&page.text()).unwrap_or_default();
    let before = jar.names();
    let resp = probe
        .send(
            ProbeRequest::post_form(
                url.clone(),
                &[
                    ("csrfmiddlewaretoken", &csrf),
                    ("username", &user.username),
                    ("password", &user.password),
                ],
            )
            // Django checks the Referer of HTTPS form posts against the host.
            .header("Referer", url.as_str())
            .with_jar(jar.clone()),
        )
        .await?;
    let new_session = resp.set_cookies().iter().any(|c| {
        !c.deletes
            && !c.name.to_ascii_lowercase().contains("csrf")
            && (!before.contains(&c.name) || c.name.contains("session"))
    });
    if resp.is_redirect() && new_session {
        Ok((jar, resp.exchange))
    } else {
        Err(refused(user, url, &resp))
    }
}

/// The `csrfmiddlewaretoken` value of a Django form, if the page has one.
pub fn csrf_field(html: &str) -> Option<String> {
    CSRF_FIELD
        .captures(html)
        .and_then(|c| c.get(1).or_else(|| c.get(2)))
        .map(|m| m.as_str().to_string())
}

pub(crate) fn refused(user: &UserCredential, url: &Url, resp: &ProbeResponse) -> LoginError {
    let detail = resp
        .json()
        .and_then(|j| j.get("detail").and_then(|d| d.as_str()).map(str::to_string))
        .unwrap_or_else(|| {
            if resp.is_html() {
                "the login form was shown again".to_string()
            } else {
                resp.text().chars().take(120).collect()
            }
        });
    LoginError::Refused {
        user: user.username.clone(),
        url: url.to_string(),
        status: resp.status,
        detail,
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
    fn a_bearer_identity_knows_whether_it_holds_a_jwt() {
        let id = Identity::from_bearer("opaque-token-value");
        assert!(id.access_jwt.is_none());
        assert_eq!(id.scheme(), Some("Bearer"));
    }
}
