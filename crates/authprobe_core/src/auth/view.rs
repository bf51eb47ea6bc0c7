//! The auth layer as a check sees it (`cx.auth()`): which login issues tokens and which
//! holds a session, a fresh login for an account, a refresh, the session cookie's name, a
//! planted session id, token-to-session bridges and token-minting endpoints. Checks ask
//! here instead of deciding from path words, field names or cookie names themselves, so a
//! stack the layer learns is learned for every check at once.

use std::sync::Arc;
use url::Url;

use super::identity::Identity;
use super::vocab::{is_session_cookie, DEFAULT_SESSION_COOKIE};
use super::{extract, family, AttemptOptions, BodyEncoding, Flows, LoginFlow, RefreshFlow, Refreshed};
use crate::cookies::CookieJar;
use crate::discovery::Inventory;
use crate::probe::{Probe, ProbeError, ProbeRequest, ProbeResponse, WriteGrant};
use crate::target::UserCredential;

/// Path words of logout endpoints: a route named so is never taken for a bridge.
const LOGOUT_WORDS: &[&str] = &["logout", "log-out", "log_out", "signout", "sign-out", "sign_out"];

/// Most token-to-session bridges tried.
const MAX_BRIDGES: usize = 2;
/// Most token-minting endpoints tried.
const MAX_MINTERS: usize = 4;

/// A borrowed view of the scan's auth state: the flows, the identities and the accounts,
/// with the probe they are used through.
#[derive(Clone, Copy)]
pub struct AuthView<'a> {
    pub probe: &'a Probe,
    pub flows: &'a Flows,
    pub inventory: &'a Inventory,
    pub identities: &'a [Identity],
    pub accounts: &'a [UserCredential],
}

/// One token a minting endpoint issued.
#[derive(Debug, Clone)]
pub struct Minted {
    pub token: String,
    pub response: ProbeResponse,
}

impl<'a> AuthView<'a> {
    /// The primary identity (the first).
    pub fn primary(&self) -> Option<&'a Identity> {
        self.identities.first()
    }

    /// The account behind the primary identity (fresh logins use it, so the oracle's
    /// identity marker is the same user).
    pub fn primary_account(&self) -> Option<&'a UserCredential> {
        let name = self.primary()?.username.as_deref()?;
        self.accounts.iter().find(|c| c.username == name)
    }

    /// The login flows an ordinary account logs in through: every one but the admin
    /// login (staff accounts only).
    pub fn account_logins(&self) -> impl Iterator<Item = &'a LoginFlow> {
        self.flows.login.iter().filter(|f| f.family != family::DJANGO_ADMIN)
    }

    /// The account logins that post a form (and answer with a session and a redirect).
    pub fn form_logins(&self) -> impl Iterator<Item = &'a LoginFlow> {
        self.account_logins().filter(|f| f.takes_form())
    }

    /// The account logins that answer with a token or key (not a form).
    pub fn token_logins(&self) -> impl Iterator<Item = &'a LoginFlow> {
        self.account_logins().filter(|f| !f.takes_form())
    }

    /// The logins that may issue JWTs: every login that is not a form, but DRF authtoken's
    /// (its keys are opaque).
    pub fn jwt_issuers(&self) -> impl Iterator<Item = &'a LoginFlow> {
        self.flows
            .login
            .iter()
            .filter(|f| f.spec.body != BodyEncoding::Form)
            .filter(|f| f.family_label() != family::AUTHTOKEN)
    }

    /// The account logins that may issue a refresh token (DRF authtoken and knox issue one
    /// key only).
    pub fn refresh_token_issuers(&self) -> impl Iterator<Item = &'a LoginFlow> {
        self.token_logins()
            .filter(|f| !matches!(f.family_label(), family::AUTHTOKEN | family::KNOX))
    }

    /// Whether `flow` issues opaque keys: its package says so (DRF authtoken, knox), or an
    /// identity logged in through it holds one.
    pub fn issues_opaque_keys(&self, flow: &LoginFlow) -> bool {
        if matches!(flow.family_label(), family::AUTHTOKEN | family::KNOX) {
            return true;
        }
        self.identities
            .iter()
            .any(|i| i.login_url.as_ref() == Some(&flow.url) && i.access_jwt.is_none() && i.token().is_some())
    }

    /// The logout flow that ends a session (one a form login's session goes with, or one
    /// the API links to or the user configured), if any.
    pub fn session_logout(&self) -> Option<&'a super::LogoutFlow> {
        self.flows.logout.iter().find(|f| {
            matches!(
                f.family,
                family::LINKED | family::DECLARED | family::DJANGO_FORM | family::FORM | family::CONFIGURED
            )
        })
    }

    /// The form login flow: a configured form login, else a detected one (the admin login
    /// only takes staff accounts, so it is left out).
    pub fn form_login(&self) -> Option<&'a LoginFlow> {
        self.form_logins().next()
    }

    /// The login flow that issues tokens (a JWT pair, or an opaque API token): the one the
    /// primary identity logged in through when it holds tokens, else the first JSON login
    /// (configured first, then simplejwt, dj-rest-auth, knox).
    pub fn token_login(&self) -> Option<&'a LoginFlow> {
        let primary_flow = self
            .primary()
            .filter(|p| p.access_jwt.is_some() || p.scheme().is_some())
            .and_then(|p| p.login_exchange)
            .and_then(|id| self.probe.exchange(id))
            .and_then(|x| Url::parse(&x.request.url).ok())
            .and_then(|url| self.flows.login_at(&url).cloned());
        if let Some(flow) = primary_flow {
            return self.flows.login.iter().find(|f| Arc::ptr_eq(f, &flow));
        }
        self.flows
            .login
            .iter()
            .find(|f| f.spec.body == BodyEncoding::Json && f.family != family::AUTHTOKEN)
    }

    /// Logs `user` in afresh through `flow` (every credential it issued is registered with
    /// the redactor by the flow).
    pub async fn fresh_login(&self, flow: &LoginFlow, user: &UserCredential) -> Option<Identity> {
        flow.log_in(self.probe, user).await.ok()
    }

    /// A fresh session of `user` through the form login `flow`, with the same-origin page
    /// the login redirected to (a session's home: `/session/me`, `/accounts/profile/`). The
    /// error completes "the form login …" (`failed: …`, `did not log `alice` in`).
    pub async fn form_session(
        &self,
        flow: &LoginFlow,
        user: &UserCredential,
    ) -> Result<(Identity, Option<Url>), String> {
        let answer = flow
            .attempt_with(self.probe, &user.username, &user.password, AttemptOptions::new())
            .await
            .map_err(|e| format!("failed: {e}"))?;
        let home = answer
            .response
            .location()
            .filter(|l| l.origin() == flow.url.origin() && l.path() != flow.url.path());
        let identity = flow
            .identity_from(user, answer)
            .map_err(|_| format!("did not log `{}` in", user.username))?;
        for secret in identity.secrets() {
            self.probe.redactor().add_secret(&secret);
        }
        Ok((identity, home))
    }

    /// Posts `flow`'s login for `user` with `jar`. With `same_site`, the form's CSRF token
    /// and a same-origin `Referer` are sent (as a browser on the site would); without,
    /// neither (as a form on another site would).
    pub async fn post_login(
        &self,
        flow: &LoginFlow,
        jar: Arc<CookieJar>,
        user: &UserCredential,
        same_site: bool,
    ) -> Result<ProbeResponse, ProbeError> {
        let mut options = AttemptOptions::new().with_jar(jar);
        if !same_site {
            options = options.cross_site();
        }
        let answer = flow
            .attempt_with(self.probe, &user.username, &user.password, options)
            .await?;
        Ok(answer.response)
    }

    /// Presents `identity`'s refresh token `refresh` at `flow`, the way its login handed it
    /// over (a body field, or its cookie): the new access token, the rotated refresh token
    /// and the answer (registered as secrets by the flow).
    pub async fn refresh(&self, flow: &RefreshFlow, identity: &Identity, refresh: &str) -> Option<Refreshed> {
        flow.refresh_held(self.probe, refresh, identity.refresh_cookie.as_deref())
            .await
            .ok()
    }

    /// The name of the target's session cookie: the one a session login received, else
    /// one its pages set, else Django's default.
    pub fn session_cookie(&self) -> String {
        let from_identities = self
            .identities
            .iter()
            .filter_map(|i| i.session.as_ref())
            .flat_map(|jar| jar.names())
            .find(|n| is_session_cookie(n));
        // A session the target hands anonymous visitors (a login page's `connect.sid`).
        let from_pages = || {
            self.inventory
                .endpoints
                .iter()
                .filter_map(|e| e.anonymous_ok())
                .flat_map(|r| r.set_cookies())
                .find(|c| !c.deletes && is_session_cookie(&c.name))
                .map(|c| c.name)
        };
        from_identities
            .or_else(from_pages)
            .unwrap_or_else(|| DEFAULT_SESSION_COOKIE.to_string())
    }

    /// Whether a cookie's name says it holds a session.
    pub fn is_session_cookie(&self, name: &str) -> bool {
        is_session_cookie(name)
    }

    /// The session cookie an answer set (not deleted), as (name, value), if any.
    pub fn new_session(&self, resp: &ProbeResponse) -> Option<(String, String)> {
        resp.set_cookies()
            .into_iter()
            .find(|c| !c.deletes && is_session_cookie(&c.name) && !c.value.is_empty())
            .map(|c| (c.name, c.value))
    }

    /// The query parameters a token may be accepted in, most likely first: the ones the
    /// API's spec declares for its keys (`apiKey` `in: query`), the field the primary
    /// identity's login carried its token in, then the common names.
    pub fn query_token_parameters(&self) -> Vec<String> {
        let field = self.primary().and_then(|p| p.token_field.as_deref());
        super::present::query_parameters(self.flows.declared_query_parameters(), field)
    }

    /// Whether the API's spec declares `name` as a query parameter its keys go in.
    pub fn declares_query_parameter(&self, name: &str) -> bool {
        self.flows
            .declared_query_parameters()
            .iter()
            .any(|p| p.eq_ignore_ascii_case(name))
    }

    /// Token-to-session bridges: first the operations the API's spec declares as one
    /// (flows, sent zero-config), then guesses: endpoints that refuse anonymous requests,
    /// answer the identity's GET with `405` (POST only), and whose path says login or
    /// session (e.g. `/api/token-login/`). A guess is not a flow (a POST-only
    /// `/session/transfer/` may revoke the very token it is sent), so it is granted only
    /// with write probes on.
    pub fn session_bridges(&self) -> Vec<Url> {
        let mut out: Vec<Url> = self.flows.bridge.iter().map(|f| f.url.clone()).collect();
        let guesses = self
            .inventory
            .endpoints
            .iter()
            .filter(|e| !e.kind.takes_credentials() && !e.kind.is_token_endpoint())
            .filter(|e| {
                let p = e.path().to_ascii_lowercase();
                (p.contains("login") || p.contains("session")) && !LOGOUT_WORDS.iter().any(|w| p.contains(w))
            })
            .filter(|e| e.anonymously_refused() && e.authenticated.as_ref().is_some_and(|r| r.status == 405))
            .map(|e| e.url.clone())
            .filter(|url| !out.contains(url))
            .take(MAX_BRIDGES.saturating_sub(out.len()))
            .filter(|url| self.probe.allow_write(url, WriteGrant::AnyIdentity))
            .collect::<Vec<Url>>();
        out.extend(guesses);
        out
    }

    /// Trades `identity`'s token for a session at the bridge `url` (a POST carrying the
    /// token, with `jar` holding any session the browser had): the answer, when it is a
    /// success. The session it issues (a cookie set into `jar`, or a session-id field of
    /// its body) is registered with the redactor.
    pub async fn bridge(&self, url: &Url, identity: &Identity, jar: Arc<CookieJar>) -> Option<ProbeResponse> {
        if let Some(flow) = self.flows.bridge_at(url) {
            flow.note_used();
        }
        let req =
            identity.authorize(ProbeRequest::post_json(url.clone(), &serde_json::json!({})).with_jar(jar.clone()));
        let resp = self.probe.send(req).await.ok().filter(ProbeResponse::is_success)?;
        let redactor = self.probe.redactor();
        for name in jar.names().into_iter().filter(|n| is_session_cookie(n)) {
            if let Some(value) = jar.get(&name) {
                redactor.add_secret(&value);
            }
        }
        for (_, value) in self.session_fields(&resp) {
            redactor.add_secret(&value);
        }
        Some(resp)
    }

    /// The fields of an answer's body named like a session id, as (field, value).
    pub fn session_fields(&self, resp: &ProbeResponse) -> Vec<(String, String)> {
        let Some(serde_json::Value::Object(map)) = resp.json() else {
            return Vec::new();
        };
        map.iter()
            .filter(|(k, _)| super::vocab::is_session_field(k))
            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
            .collect()
    }

    /// Tokens from authenticated minting endpoints: refused anonymously, `405` to the
    /// identity's GET, whose path says token, and a JWT in the answer to the primary
    /// identity's POST (e.g. one-shot download tokens). They are guesses from a path word,
    /// so they are POSTed to only with write probes on.
    pub async fn minted_tokens(&self) -> Vec<Minted> {
        let Some(identity) = self.primary() else {
            return Vec::new();
        };
        let minters: Vec<Url> = self
            .inventory
            .endpoints
            .iter()
            .filter(|e| e.path().to_ascii_lowercase().contains("token") && e.anonymously_refused())
            .filter(|e| e.authenticated.as_ref().is_some_and(|r| r.status == 405))
            .map(|e| e.url.clone())
            .take(MAX_MINTERS)
            .collect();
        let mut out = Vec::new();
        for url in minters {
            if !self.probe.allow_write(&url, WriteGrant::AnyIdentity) {
                continue;
            }
            let req = identity.authorize(ProbeRequest::post_json(url.clone(), &serde_json::json!({})));
            let Ok(response) = self.probe.send(req).await else {
                continue;
            };
            let Some(json) = response.json().filter(|_| response.is_success()) else {
                continue;
            };
            let Some(token) = extract::from_body(&json).access_jwt else {
                continue;
            };
            self.probe.redactor().add_secret(&token);
            out.push(Minted { token, response });
        }
        out
    }
}

/// A random value shaped like a Django session key (32 lowercase letters and digits): a
/// session id the scanner plants, recognisable as nobody's.
pub fn planted_session_id() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..32)
        .map(|_| ALPHABET[rand::random::<u32>() as usize % ALPHABET.len()] as char)
        .collect()
}

/// Whether a JWT says by its `token_type` claim (simplejwt's `access`/`refresh`) that it
/// is a refresh token; `None` when it does not say.
pub fn typed_as_refresh(jwt: &authprobe_jwt::Jwt) -> Option<bool> {
    jwt.claims
        .get("token_type")
        .and_then(|t| t.as_str())
        .map(|t| t == "refresh")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_planted_id_looks_like_a_django_session_key() {
        let id = planted_session_id();
        assert_eq!(id.len(), 32);
        assert!(id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
        assert_ne!(id, planted_session_id());
    }
}
