//! Driving a flow: the requests each role sends and how its answer is read.

use std::sync::Arc;

use super::spec::{AuthScheme, BodyEncoding};
use super::{Flow, LoginSpec, LogoutSpec, PasswordChangeSpec, RefreshSpec};
use crate::config::{LoginKind, UserCredential};
use crate::cookies::CookieJar;
use crate::identity::{csrf_field, refused, Credential, Identity, LoginError};
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
    pub async fn log_in(&self, probe: &Probe, user: &UserCredential) -> Result<Identity, LoginError> {
        self.mark_used();
        let spec = &self.spec;
        let jar = Arc::new(CookieJar::new());
        let mut fields: Vec<(String, String)> = vec![
            (spec.username_field.clone(), user.username.clone()),
            (spec.password_field.clone(), user.password.clone()),
        ];
        fields.extend(spec.extra.iter().map(|(k, v)| (k.clone(), v.clone())));
        let req = match spec.body {
            BodyEncoding::Json => {
                let body: serde_json::Map<String, serde_json::Value> =
                    fields.into_iter().map(|(k, v)| (k, v.into())).collect();
                ProbeRequest::post_json(self.url.clone(), &body.into())
            }
            BodyEncoding::Form => {
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
        let json = resp.json().unwrap_or_default();
        let cookie = |name: &Option<String>| name.as_ref().and_then(|n| jar.get(n)).filter(|v| !v.is_empty());
        let read = |path: &Option<super::JsonPathExpr>| path.as_ref().and_then(|p| p.first_str(&json));

        let mut access = read(&spec.access).or_else(|| cookie(&spec.access_cookie));
        let refresh = read(&spec.refresh).or_else(|| cookie(&spec.refresh_cookie));
        let mut token = read(&spec.token);
        // `{"token": "<a JWT>"}` is an access token, not an opaque key.
        if access.is_none() && token.as_deref().is_some_and(authprobe_jwt::Jwt::looks_like) {
            access = token.take();
        }
        let session = match &spec.session_cookie {
            Some(name) => jar.get(name).is_some(),
            None if spec.body == BodyEncoding::Form => resp.set_cookies().iter().any(|c| {
                !c.deletes
                    && !c.name.to_ascii_lowercase().contains("csrf")
                    && (!before.contains(&c.name) || c.name.contains("session"))
            }),
            None => false,
        };
        let ok = match spec.body {
            BodyEncoding::Form => resp.is_redirect() && session,
            BodyEncoding::Json => resp.is_success(),
        };
        if !ok {
            return Err(refused(user, &self.url, &resp));
        }
        if json.get("expiry").is_some() && token.is_some() {
            let _ = self.seen_as.set(super::family::KNOX);
        }
        let scheme = spec.scheme;
        let (credential, kind) = match (&access, &token) {
            (Some(a), _) if scheme != Some(AuthScheme::Token) => (Credential::Bearer(a.clone()), LoginKind::Simplejwt),
            (Some(a), _) => (Credential::Token(a.clone()), LoginKind::Authtoken),
            (None, Some(t)) if scheme == Some(AuthScheme::Bearer) => {
                (Credential::Bearer(t.clone()), LoginKind::Authtoken)
            }
            (None, Some(t)) => (Credential::Token(t.clone()), LoginKind::Authtoken),
            (None, None) if session => (Credential::Session(jar.clone()), LoginKind::Form),
            (None, None) => {
                return Err(LoginError::NoCredential {
                    user: user.username.clone(),
                    url: self.url.to_string(),
                    status: resp.status,
                    what: "token or session cookie",
                })
            }
        };
        Ok(Identity {
            label: user.username.clone(),
            username: Some(user.username.clone()),
            credential,
            access_jwt: access.filter(|a| authprobe_jwt::Jwt::looks_like(a)),
            refresh_jwt: refresh,
            session: session.then_some(jar),
            login: Some(kind),
            flow: Some(self.family_label()),
            marker: Some(user.username.clone()),
            login_exchange: Some(resp.exchange),
        })
    }
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
        BodyEncoding::Json => {
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
