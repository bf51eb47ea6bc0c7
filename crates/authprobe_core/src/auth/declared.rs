//! What the API's spec declares about its own authentication beyond its logins
//! ([`super::detect::spec_logins`]): its logout operations, the operations that trade a
//! token for a session cookie (bridges), and how its `apiKey` schemes take a key (a header,
//! a cookie, a query parameter). A flow the spec declares is a flow, not a guess: it runs
//! zero-config, labelled with the source `spec`.

use std::sync::Arc;
use url::Url;

use super::identity::Presentation;
use super::{Flow, FlowSource, Flows, LogoutSpec};
use crate::spec::{ApiSpec, Operation, SchemeKind, Security};
use crate::target::Target;

/// Phrases (in an operation's path, `operationId` or summary, split into words) that say
/// it logs the caller out. ("Sign off" is left out: in a business API it approves.)
const LOGOUT_PHRASES: &[&str] = &["logout", "log out", "signout", "sign out", "log off", "logoff"];

/// Words that say an operation ends, refreshes or revokes rather than opens a session.
const NOT_BRIDGE_WORDS: &[&str] = &[
    "refresh",
    "revoke",
    "delete",
    "destroy",
    "end",
    "invalidate",
    "terminate",
    "expire",
    "kill",
];

/// Words that, beside "session", say the session is a browser's, made from a credential
/// (not a chat or a workout session).
const BRIDGE_WORDS: &[&str] = &[
    "cookie", "cookies", "browser", "web", "key", "token", "exchange", "bridge",
];

/// Most bridges the spec may declare that are kept (each is one POST per check using it).
const MAX_DECLARED_BRIDGES: usize = 2;

/// An operation that turns the caller's token or key into a session cookie (`POST
/// /api/v1/session`, "Create a browser session from the API key").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BridgeSpec {
    pub path: String,
}

pub type BridgeFlow = Arc<Flow<BridgeSpec>>;

/// The words of `text`, lower case, split at anything not alphanumeric and at camelCase
/// humps (`signOut` → `sign out`), joined by single spaces and padded with one.
fn words(text: &str) -> String {
    let mut out = String::from(" ");
    let mut prev_lower = false;
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            if c.is_ascii_uppercase() && prev_lower {
                out.push(' ');
            }
            out.push(c.to_ascii_lowercase());
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        } else {
            if !out.ends_with(' ') {
                out.push(' ');
            }
            prev_lower = false;
        }
    }
    if !out.ends_with(' ') {
        out.push(' ');
    }
    out
}

/// The words of an operation's path, `operationId` and summary.
fn said(op: &Operation) -> String {
    words(&format!(
        "{} {} {}",
        op.path,
        op.operation_id.as_deref().unwrap_or(""),
        op.summary.as_deref().unwrap_or("")
    ))
}

fn says_any(said: &str, phrases: &[&str]) -> bool {
    phrases.iter().any(|p| said.contains(&format!(" {p} ")))
}

/// Whether the operation's body asks for a password (a login, a sign-up, a change).
fn takes_password(op: &Operation) -> bool {
    op.body
        .as_ref()
        .is_some_and(|b| b.fields.iter().any(|f| super::vocab::names_a_password(&f.name)))
}

/// A POST of a fixed path (no parameter: not "log user {id} out") that says it logs out.
pub fn is_logout(op: &Operation) -> bool {
    op.method == "POST" && !op.path.contains('{') && !takes_password(op) && says_any(&said(op), LOGOUT_PHRASES)
}

/// A POST of a fixed path that needs a credential, asks for nothing in its body, and hands
/// out a session: it declares a `Set-Cookie` answer, or its path, `operationId` or summary
/// says session and browser, cookie, key or token ("Create a browser session from the API
/// key"); not a logout, a login, a refresh or a revocation. A "chat session" is none.
pub fn is_bridge(op: &Operation) -> bool {
    if op.method != "POST" || op.path.contains('{') || takes_password(op) || is_logout(op) {
        return false;
    }
    if op.body.as_ref().is_some_and(|b| b.fields.iter().any(|f| f.required)) {
        return false;
    }
    if !matches!(&op.security, Security::Required(names) if !names.is_empty()) {
        return false;
    }
    let said = said(op);
    if says_any(&said, NOT_BRIDGE_WORDS) {
        return false;
    }
    let session = said.contains(" session ") || said.contains(" sessions ");
    op.sets_cookie || (session && says_any(&said, BRIDGE_WORDS))
}

/// How the spec's `apiKey` schemes take a key: the headers (not `Authorization`, whose
/// schemes are tried anyway) first, then the cookies.
pub fn presentations(api: &ApiSpec) -> Vec<Presentation> {
    let mut headers = Vec::new();
    let mut cookies = Vec::new();
    for scheme in &api.schemes {
        match &scheme.kind {
            SchemeKind::Header(name) if !name.is_empty() && !name.eq_ignore_ascii_case("authorization") => {
                let p = Presentation::Header(name.clone());
                if !headers.contains(&p) {
                    headers.push(p);
                }
            }
            SchemeKind::Cookie(name) if !name.is_empty() => {
                let p = Presentation::Cookie(name.clone());
                if !cookies.contains(&p) {
                    cookies.push(p);
                }
            }
            _ => {}
        }
    }
    headers.extend(cookies);
    headers
}

/// The query parameters the spec's `apiKey` schemes take a key in (`in: query`).
pub fn query_parameters(api: &ApiSpec) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for scheme in &api.schemes {
        if let SchemeKind::Query(name) = &scheme.kind {
            if !name.is_empty() && !out.contains(name) {
                out.push(name.clone());
            }
        }
    }
    out
}

impl Flows {
    /// Adds what the spec declares: its logouts and bridges as `spec` flows, and how its
    /// keys are presented (tried first when a login's token is settled).
    pub(super) fn add_declared(&mut self, target: &Target, api: &ApiSpec) {
        self.declared_presentations = presentations(api);
        self.declared_query_parameters = query_parameters(api);
        for op in &api.operations {
            let Some(url) = target.join(&op.path).filter(|u| target.same_origin(u)) else {
                continue;
            };
            if is_logout(op) {
                self.add_declared_logout(url, op);
            } else if is_bridge(op)
                && self.bridge.len() < MAX_DECLARED_BRIDGES
                && !self.bridge.iter().any(|f| f.url == url)
            {
                let spec = BridgeSpec {
                    path: url.path().to_string(),
                };
                self.bridge
                    .push(Flow::new(super::family::DECLARED, url, spec, FlowSource::Spec));
            }
        }
    }

    /// A logout the spec declares; a refresh-token field its body declares is sent too.
    fn add_declared_logout(&mut self, url: Url, op: &Operation) {
        if self.logout.len() >= super::MAX_LOGOUTS || self.logout.iter().any(|f| f.url == url) {
            return;
        }
        let refresh_field = op
            .body
            .as_ref()
            .and_then(|b| {
                b.fields
                    .iter()
                    .find(|f| f.name.to_ascii_lowercase().contains("refresh"))
            })
            .map(|f| f.name.clone());
        let mut spec = LogoutSpec::preset(url.path(), refresh_field.as_deref());
        if op.body.as_ref().is_some_and(|b| b.form) {
            spec.body = super::BodyEncoding::Form;
        }
        self.logout
            .push(Flow::new(super::family::DECLARED, url, spec, FlowSource::Spec));
    }

    /// The query parameters the spec's `apiKey` schemes take a key in.
    pub fn declared_query_parameters(&self) -> &[String] {
        &self.declared_query_parameters
    }

    /// The bridge flow at `url`, if the spec declares one there.
    pub fn bridge_at(&self, url: &Url) -> Option<&BridgeFlow> {
        self.bridge.iter().find(|f| &f.url == url)
    }
}

impl Flow<BridgeSpec> {
    /// Marks the flow as used (the POST is sent by [`super::AuthView::bridge`]).
    pub(super) fn note_used(&self) {
        self.mark_used();
    }
}

impl Flow<super::LoginSpec> {
    /// How the API's spec says keys are presented: this login's token is tried so first.
    pub(super) fn declared_presentations(&self) -> Vec<Presentation> {
        self.declared_presentations.get().cloned().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api() -> ApiSpec {
        ApiSpec::from_text(
            r#"
openapi: 3.0.3
components:
  securitySchemes:
    key: {type: apiKey, in: header, name: X-Session-Token}
    q: {type: apiKey, in: query, name: api_key}
    c: {type: apiKey, in: cookie, name: sid}
    bearer: {type: http, scheme: bearer}
    raw: {type: apiKey, in: header, name: Authorization}
paths:
  /api/v1/auth/signout: {post: {summary: Sign out, security: [{key: []}]}}
  /api/v1/users/{id}/logout: {post: {summary: Log a user out, security: [{key: []}]}}
  /api/v1/endSession: {post: {operationId: logOff}}
  /api/v1/session:
    post:
      summary: Create a browser session from the API key
      security: [{key: []}]
  /api/v1/session/refresh: {post: {security: [{key: []}]}}
  /api/v1/cookie:
    post:
      security: [{bearer: []}]
      responses: {'204': {description: ok, headers: {Set-Cookie: {schema: {type: string}}}}}
  /api/v1/notes: {post: {summary: Create a note, security: [{key: []}]}}
  /api/v1/open-session: {post: {summary: Open a session}}
  /api/v1/sessions:
    post:
      summary: Start a chat session
      security: [{key: []}]
  /api/v1/web-session:
    post:
      summary: Open a web session for the key
      security: [{key: []}]
      requestBody:
        content:
          application/json:
            schema: {required: [device], properties: {device: {type: string}}}
"#,
            "s",
        )
        .unwrap()
    }

    fn op<'a>(api: &'a ApiSpec, path: &str) -> &'a Operation {
        api.operations.iter().find(|o| o.path == path).unwrap()
    }

    #[test]
    fn logouts_are_read_from_paths_ids_and_summaries() {
        let api = api();
        assert!(is_logout(op(&api, "/api/v1/auth/signout")));
        assert!(is_logout(op(&api, "/api/v1/endSession")), "operationId logOff");
        assert!(
            !is_logout(op(&api, "/api/v1/users/{id}/logout")),
            "someone else's logout"
        );
        assert!(!is_logout(op(&api, "/api/v1/session")));
    }

    #[test]
    fn bridges_need_a_credential_and_hand_out_a_session() {
        let api = api();
        assert!(is_bridge(op(&api, "/api/v1/session")));
        assert!(is_bridge(op(&api, "/api/v1/cookie")), "declares Set-Cookie");
        assert!(!is_bridge(op(&api, "/api/v1/session/refresh")));
        assert!(!is_bridge(op(&api, "/api/v1/notes")));
        assert!(!is_bridge(op(&api, "/api/v1/open-session")), "no credential needed");
        assert!(!is_bridge(op(&api, "/api/v1/sessions")), "a chat session");
        assert!(!is_bridge(op(&api, "/api/v1/web-session")), "asks for a field");
        assert!(!is_bridge(op(&api, "/api/v1/auth/signout")));
    }

    #[test]
    fn key_schemes_say_how_keys_are_presented() {
        let api = api();
        assert_eq!(
            presentations(&api),
            vec![
                Presentation::Header("X-Session-Token".into()),
                Presentation::Cookie("sid".into())
            ]
        );
        assert_eq!(query_parameters(&api), vec!["api_key".to_string()]);
    }

    #[test]
    fn words_split_camel_case_and_separators() {
        assert_eq!(words("signOut"), " sign out ");
        assert_eq!(words("/api/v1/sign_out"), " api v1 sign out ");
    }
}
