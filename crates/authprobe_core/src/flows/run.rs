//! Driving a flow: the requests each role sends and how its answer is read.

use std::sync::Arc;

use super::spec::BodyEncoding;
use super::{extract, present};
use super::{Flow, LoginSpec, LogoutSpec, PasswordChangeSpec, RefreshSpec};
use crate::config::{LoginKind, UserCredential};
use crate::cookies::CookieJar;
use crate::identity::{csrf_field, refused, Credential, Identity, LoginError, Presentation};
use crate::probe::{Probe, ProbeError, ProbeRequest, ProbeResponse};

/// Django's CSRF cookie.
const CSRF_COOKIE: &str = "csrftoken";

/// What a refresh returned.
#[derive(Debug)]
pub struct Refreshed {
    pub response: ProbeResponse,
    /// The new access token, when the refresh succeeded.
    pub access: Option<String>,
    /// The rotated refresh token, when the server rotates.
    pub refresh: Option<String>,
}

impl Flow<LoginSpec> {
    /// Logs `user` in through this flow and reads the credentials its answer carries.
    /// Success means the answer carries a credential (a token in the body, or a session or
    /// token cookie); a redirect is neither needed nor enough.
    pub async fn log_in(&self, probe: &Probe, user: &UserCredential) -> Result<Identity, LoginError> {
        self.mark_used();
        let shape = match self.shape() {
            Some(shape) => shape,
            None => {
                let learned = self.learn_shape(probe).await;
                self.set_shape(learned.clone());
                learned
            }
        };
        let result = self.attempt(probe, user, &shape).await;
        // A JSON body refused as the wrong kind of request (415, 422, or a 400 that asks for
        // `grant_type`) may be an OAuth 2 password grant, which takes a form.
        let wrong_kind = matches!(&result, Err(LoginError::Refused { status, grant_type, .. })
            if *status == 415 || *status == 422 || (*status == 400 && *grant_type));
        if shape.body == BodyEncoding::Json && wrong_kind && self.source != super::FlowSource::Configured {
            let form = LoginShape {
                body: BodyEncoding::OAuth2,
                ..shape
            };
            let retry = self.attempt(probe, user, &form).await;
            if retry.is_ok() {
                self.set_shape(form);
            }
            return retry;
        }
        result
    }

    /// The request shape logins use now: the spec's, or what a login learned.
    pub fn current_shape(&self) -> LoginShape {
        self.shape().unwrap_or_else(|| LoginShape::of(&self.spec))
    }

    /// A login request for `username` and `password` in the shape logins use, for checks
    /// that send failed attempts (bursts, enumeration); `None` for a form login, which
    /// needs its page's CSRF token first.
    pub fn attempt_request(&self, username: &str, password: &str) -> Option<ProbeRequest> {
        let shape = self.current_shape();
        (shape.body != BodyEncoding::Form).then(|| self.body_request(&shape, username, password))
    }

    /// The JSON or password-grant request of one login attempt.
    fn body_request(&self, shape: &LoginShape, username: &str, password: &str) -> ProbeRequest {
        let mut fields = self.fields(shape, username, password);
        if shape.body == BodyEncoding::Json {
            let body: serde_json::Map<String, serde_json::Value> = std::mem::take(&mut fields)
                .into_iter()
                .map(|(k, v)| (k, v.into()))
                .collect();
            return ProbeRequest::post_json(self.url.clone(), &body.into());
        }
        let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        ProbeRequest::post_form(self.url.clone(), &pairs).header("Accept", "application/json")
    }

    /// The fields of one login attempt, in `shape`.
    fn fields(&self, shape: &LoginShape, username: &str, password: &str) -> Vec<(String, String)> {
        let spec = &self.spec;
        let mut fields: Vec<(String, String)> = Vec::new();
        if shape.body == BodyEncoding::OAuth2 {
            fields.push(("grant_type".into(), "password".into()));
        }
        fields.push((shape.username_field.clone(), username.to_string()));
        fields.push((shape.password_field.clone(), password.to_string()));
        for (name, value) in [
            ("client_id", &spec.client_id),
            ("client_secret", &spec.client_secret),
            ("scope", &spec.scope),
        ] {
            if let Some(v) = value {
                fields.push((name.into(), v.clone()));
            }
        }
        fields.extend(spec.extra.iter().map(|(k, v)| (k.clone(), v.clone())));
        fields
    }

    /// The request shape in use: the spec's, or what an earlier login learned.
    fn shape(&self) -> Option<LoginShape> {
        if self.source == super::FlowSource::Configured || !self.learns_fields() {
            return Some(LoginShape::of(&self.spec));
        }
        self.learned.lock().expect("shape lock").clone()
    }

    fn set_shape(&self, shape: LoginShape) {
        *self.learned.lock().expect("shape lock") = Some(shape);
    }

    /// Detected logins of no known package learn their field names; the Django packages'
    /// are known (and their throttles count every request).
    fn learns_fields(&self) -> bool {
        self.family == super::family::JSON_LOGIN && self.spec.body == BodyEncoding::Json
    }

    /// Asks the endpoint what it wants: a POST of `{}` draws a validation answer that
    /// names the fields (DRF's `{"username": ["required"]}`, FastAPI's `loc`, or a
    /// message), from which the username and password fields are picked.
    async fn learn_shape(&self, probe: &Probe) -> LoginShape {
        let mut shape = LoginShape::of(&self.spec);
        let Ok(resp) = probe
            .send(ProbeRequest::post_json(self.url.clone(), &serde_json::json!({})))
            .await
        else {
            return shape;
        };
        let text = resp.text();
        if let Some(f) = mentioned_field(&text, USERNAME_FIELDS) {
            shape.username_field = f;
        }
        if let Some(f) = mentioned_field(&text, PASSWORD_FIELDS) {
            shape.password_field = f;
        }
        if resp.status == 415 || text.contains("grant_type") {
            shape.body = BodyEncoding::OAuth2;
        }
        shape
    }

    /// One login request in `shape`, and its answer read.
    async fn attempt(&self, probe: &Probe, user: &UserCredential, shape: &LoginShape) -> Result<Identity, LoginError> {
        let jar = Arc::new(CookieJar::new());
        let req = match shape.body {
            BodyEncoding::Json | BodyEncoding::OAuth2 => self.body_request(shape, &user.username, &user.password),
            BodyEncoding::Form => {
                let mut fields = self.fields(shape, &user.username, &user.password);
                // The form page sets the CSRF cookie and carries the field.
                let page = probe
                    .send(ProbeRequest::get(self.url.clone()).with_jar(jar.clone()))
                    .await?;
                let token = csrf_field(&page.text()).or_else(|| jar.get(CSRF_COOKIE));
                if let Some(token) = token {
                    fields.insert(0, ("csrfmiddlewaretoken".into(), token));
                }
                let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                // Django checks the Referer of HTTPS form posts against the host.
                ProbeRequest::post_form(self.url.clone(), &pairs).header("Referer", self.url.as_str())
            }
        };
        let before = jar.names();
        let resp = probe.send(req.with_jar(jar.clone())).await?;
        self.read_login_answer(user, resp, jar, &before)
    }

    /// Turns a login's answer into an identity, or says why it is not one.
    fn read_login_answer(
        &self,
        user: &UserCredential,
        resp: ProbeResponse,
        jar: Arc<CookieJar>,
        before: &[String],
    ) -> Result<Identity, LoginError> {
        let spec = &self.spec;
        if !(resp.is_success() || resp.is_redirect()) {
            return Err(refused(user, &self.url, &resp));
        }
        let json = resp.json().unwrap_or_default();
        let cookie = |name: &Option<String>| name.as_ref().and_then(|n| jar.get(n)).filter(|v| !v.is_empty());
        let read = |path: &Option<super::JsonPathExpr>| path.as_ref().and_then(|p| p.first_str(&json));
        let body = extract::from_body(&json);
        let cookies = extract::from_cookies(&resp.set_cookies(), before);

        // Configured paths first, then whatever the answer carries at any depth.
        let mut access = read(&spec.access).or_else(|| cookie(&spec.access_cookie));
        let mut token = read(&spec.token);
        if access.is_none() && token.as_deref().is_some_and(authprobe_jwt::Jwt::looks_like) {
            access = token.take();
        }
        if access.is_none() && token.is_none() {
            access = body.access_jwt.clone();
            token = body.opaque.clone();
        }
        let refresh = read(&spec.refresh)
            .or_else(|| cookie(&spec.refresh_cookie))
            .or_else(|| body.refresh.clone())
            .or_else(|| cookies.refresh.as_ref().map(|(_, v)| v.clone()));
        // A JWT kept in a cookie is presented as that cookie.
        let cookie_jwt = match (&spec.access_cookie, &access) {
            (Some(name), Some(value)) if read(&spec.access).is_none() => Some((name.clone(), value.clone())),
            _ if access.is_none() && token.is_none() => cookies.access_jwt.clone(),
            _ => None,
        };
        let session = match &spec.session_cookie {
            Some(name) => jar.get(name).is_some(),
            None => cookies.session,
        };
        // A form login that lands back on its own form with a 200 failed, whatever cookies it set.
        if spec.body == BodyEncoding::Form && resp.is_success() && shows_password_form(&resp) {
            return Err(refused(user, &self.url, &resp));
        }
        if json.get("expiry").is_some() && token.is_some() {
            let _ = self.seen_as.set(super::family::KNOX);
        }
        let configured = configured_presentation(spec);
        let hinted = body
            .token_type
            .as_deref()
            .and_then(present::scheme_from_token_type)
            .map(Presentation::Scheme);
        let (credential, kind, access_jwt) = if let Some((name, value)) = cookie_jwt {
            let presentation = configured.unwrap_or(Presentation::Cookie(name));
            (
                Credential::Token {
                    value: value.clone(),
                    presentation,
                },
                LoginKind::Simplejwt,
                Some(value),
            )
        } else if let Some(a) = access {
            let presentation = configured.or(hinted).unwrap_or_else(Presentation::bearer);
            let jwt = authprobe_jwt::Jwt::looks_like(&a).then(|| a.clone());
            (Credential::Token { value: a, presentation }, LoginKind::Simplejwt, jwt)
        } else if let Some(t) = token {
            // DRF authtoken and knox answer `{"token"}`/`{"key"}` and take `Token …`.
            let drf_key = body.opaque_key.as_deref().is_none_or(|k| k == "token" || k == "key");
            let default = if drf_key && hinted.is_none() {
                Presentation::Scheme("Token".into())
            } else {
                Presentation::bearer()
            };
            let presentation = configured.or(hinted).unwrap_or(default);
            (Credential::Token { value: t, presentation }, LoginKind::Authtoken, None)
        } else if session {
            (Credential::Session(jar.clone()), LoginKind::Form, None)
        } else {
            return Err(LoginError::NoCredential {
                user: user.username.clone(),
                url: self.url.to_string(),
                status: resp.status,
                what: "token or session cookie",
            });
        };
        Ok(Identity {
            label: user.username.clone(),
            username: Some(user.username.clone()),
            credential,
            access_jwt,
            refresh_jwt: refresh,
            session: session.then_some(jar),
            login: Some(kind),
            flow: Some(self.family_label()),
            marker: Some(user.username.clone()),
            login_exchange: Some(resp.exchange),
            login_url: Some(self.url.clone()),
        })
    }

    /// Whether `[flows.login]` says how the token is presented (else the scan learns it).
    pub fn presentation_configured(&self) -> bool {
        configured_presentation(&self.spec).is_some()
    }
}

/// The body encoding and field names a login request uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginShape {
    pub body: BodyEncoding,
    pub username_field: String,
    pub password_field: String,
}

impl LoginShape {
    fn of(spec: &LoginSpec) -> LoginShape {
        LoginShape {
            body: spec.body,
            username_field: spec.username_field.clone(),
            password_field: spec.password_field.clone(),
        }
    }
}

/// Names a login's account field goes by, most common first.
const USERNAME_FIELDS: &[&str] = &["username", "email", "login", "user", "user_name", "identifier", "name"];
/// Names a login's password field goes by.
const PASSWORD_FIELDS: &[&str] = &["password", "pass", "passwd", "pwd", "secret"];

/// The first of `names` that `text` mentions as a whole word (a JSON key, a `loc` entry,
/// a word of a message).
fn mentioned_field(text: &str, names: &[&str]) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    names.iter().find_map(|name| {
        let bytes = lower.as_bytes();
        lower.match_indices(name).find_map(|(i, _)| {
            let before = i.checked_sub(1).map(|j| bytes[j]);
            let after = bytes.get(i + name.len()).copied();
            (!before.is_some_and(is_word) && !after.is_some_and(is_word)).then(|| name.to_string())
        })
    })
}

/// Whether an HTML answer holds a password field: the login form, shown again.
fn shows_password_form(resp: &ProbeResponse) -> bool {
    let text = resp.text().to_ascii_lowercase();
    resp.is_html() && (text.contains("type=\"password\"") || text.contains("type='password'"))
}

/// The presentation `[flows.login]` declares: `header = "X-API-Key"`, or `scheme`
/// (`""` for a bare `Authorization`).
fn configured_presentation(spec: &LoginSpec) -> Option<Presentation> {
    if let Some(name) = &spec.header {
        return Some(Presentation::Header(name.clone()));
    }
    spec.scheme.as_ref().map(|s| {
        if s.trim().is_empty() {
            Presentation::RawAuthorization
        } else {
            Presentation::Scheme(s.trim().to_string())
        }
    })
}

impl Flow<RefreshSpec> {
    /// Presents `refresh_token` and reads the new access (and rotated refresh) token.
    pub async fn refresh(&self, probe: &Probe, refresh_token: &str) -> Result<Refreshed, ProbeError> {
        self.mark_used();
        let body = serde_json::json!({ self.spec.field.clone(): refresh_token });
        let response = probe.send(ProbeRequest::post_json(self.url.clone(), &body)).await?;
        let json = response.json().filter(|_| response.is_success()).unwrap_or_default();
        Ok(Refreshed {
            access: self.spec.access.first_str(&json),
            refresh: self.spec.refresh.first_str(&json),
            response,
        })
    }
}

impl Flow<LogoutSpec> {
    /// Logs `identity` out: its credential, and its refresh token in the body when the
    /// endpoint takes one. Success is a 2xx or a redirect.
    pub async fn log_out(&self, probe: &Probe, identity: &Identity) -> Result<ProbeResponse, ProbeError> {
        self.mark_used();
        let mut fields: Vec<(String, String)> = Vec::new();
        if let (Some(field), Some(refresh)) = (&self.spec.refresh_field, &identity.refresh_jwt) {
            fields.push((field.clone(), refresh.clone()));
        }
        let req = body_request(&self.url, self.spec.body, fields, identity);
        probe.send(req).await
    }
}

impl Flow<PasswordChangeSpec> {
    /// Changes `identity`'s password from `old` to `new`.
    pub async fn change(
        &self,
        probe: &Probe,
        identity: &Identity,
        old: &str,
        new: &str,
    ) -> Result<ProbeResponse, ProbeError> {
        self.mark_used();
        let mut fields: Vec<(String, String)> = Vec::new();
        if !self.spec.old_field.is_empty() {
            fields.push((self.spec.old_field.clone(), old.to_string()));
        }
        fields.extend(self.spec.new_fields.iter().map(|f| (f.clone(), new.to_string())));
        let req = body_request(&self.url, self.spec.body, fields, identity);
        probe.send(req).await
    }
}

/// A POST carrying `fields` and the identity's credential. Session credentials also carry
/// Django's CSRF token (header and, for forms, field) and a same-origin `Referer`, as the
/// site's own pages would send them.
fn body_request(
    url: &url::Url,
    body: BodyEncoding,
    mut fields: Vec<(String, String)>,
    identity: &Identity,
) -> ProbeRequest {
    let csrf = match &identity.credential {
        Credential::Session(jar) => jar.get(CSRF_COOKIE),
        _ => None,
    };
    let mut req = match body {
        BodyEncoding::Json | BodyEncoding::OAuth2 => {
            let map: serde_json::Map<String, serde_json::Value> =
                fields.into_iter().map(|(k, v)| (k, v.into())).collect();
            ProbeRequest::post_json(url.clone(), &map.into())
        }
        BodyEncoding::Form => {
            if let Some(token) = &csrf {
                fields.insert(0, ("csrfmiddlewaretoken".into(), token.clone()));
            }
            let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            ProbeRequest::post_form(url.clone(), &pairs)
        }
    };
    if let Some(token) = csrf {
        req = req.header("X-CSRFToken", token).header("Referer", url.as_str());
    }
    identity.authorize(req)
}
