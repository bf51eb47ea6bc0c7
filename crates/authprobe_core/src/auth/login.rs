//! Logging the scan's accounts in: through the first login flow that accepts an account and
//! whose credential the API then accepts, learning how the credential is presented, and
//! finding the endpoint that says who the identity is. Every credential obtained here is
//! registered with the redactor as soon as it exists.

use url::Url;

use super::identity::{Identity, LoginKind, SuppliedToken};
use super::{Flows, LoginFlow};
use crate::discovery::{EndpointKind, Inventory};
use crate::probe::{Probe, ProbeRequest};
use crate::redact::Redactor;
use crate::target::UserCredential;

/// A login (or supplied credential) that produced no identity: the scan goes on without it.
#[derive(Debug, Clone)]
pub struct LoginFailure {
    pub label: String,
    /// Why, redacted.
    pub error: String,
}

/// Why an account could not be logged in.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("{0}")]
    Failed(String),
    #[error("no login endpoint found for `{0}`: no spec, docs page, HTML form, script or redirect named one, and none of the usual login paths answered as a login (a GET, OPTIONS or one credential POST); declare it in [flows.login] in the config")]
    NoLoginEndpoint(String),
}

/// The identities a scan acts as, and the accounts (or supplied credentials) that gave none.
#[derive(Debug, Default)]
pub struct Accounts {
    pub identities: Vec<Identity>,
    pub failures: Vec<LoginFailure>,
}

/// Turns the supplied credentials and the accounts into identities: each supplied
/// credential once it is accepted, each account through [`log_in`]. `step` is told each
/// label as it is done. A stop mid-login keeps the identities logged in so far.
pub async fn log_in_all(
    probe: &Probe,
    flows: &Flows,
    inventory: &Inventory,
    tokens: &[SuppliedToken],
    users: &[UserCredential],
    redactor: &Redactor,
    step: impl Fn(&str),
) -> Accounts {
    let mut accounts = Accounts::default();
    for token in tokens {
        let mut identity = Identity::from_token(&token.label, &token.value, token.presentation.clone());
        match verify_identity(probe, inventory, flows, &mut identity, true).await {
            Ok(()) => accounts.identities.push(identity),
            Err(reason) => accounts.failures.push(LoginFailure {
                label: token.label.clone(),
                error: redactor.text(&format!(
                    "the supplied credential ({}) was not accepted: {reason}",
                    token.presentation.describe()
                )),
            }),
        }
        step(&token.label);
    }
    for user in users {
        match log_in(probe, flows, inventory, user).await {
            Ok(identity) => accounts.identities.push(identity),
            // Stopped mid-login: the report goes on with the identities logged in so far.
            Err(_) if probe.interrupted() => break,
            Err(e) => accounts.failures.push(LoginFailure {
                label: user.username.clone(),
                error: redactor.text(&e.to_string()),
            }),
        }
        step(&user.username);
    }
    accounts
}

/// Logs a user in through the first login flow that accepts the account and whose
/// credential the API then accepts (configured first, then the detected ones in order); a
/// Django form login that also succeeds adds its session alongside the token credential.
/// A refused flow falls through to the next. The flow registers the credentials with the
/// probe's redactor as soon as they exist.
pub async fn log_in(
    probe: &Probe,
    flows: &Flows,
    inventory: &Inventory,
    user: &UserCredential,
) -> Result<Identity, AccountError> {
    if flows.login.is_empty() {
        return Err(AccountError::NoLoginEndpoint(user.username.clone()));
    }
    let mut identity: Option<Identity> = None;
    // Every flow tried and why it logged nobody in, in the order tried.
    let mut refusals: Vec<(&LoginFlow, String)> = Vec::new();
    // A declared login is the one identities use; detected ones serve the checks.
    let declared = flows
        .login
        .iter()
        .any(|f| f.source == crate::auth::FlowSource::Configured);
    let mut candidates: Vec<&LoginFlow> = flows
        .login
        .iter()
        .filter(|f| !declared || f.source == crate::auth::FlowSource::Configured)
        .collect();
    // The admin login serves staff accounts: it is tried after every login of the API
    // itself (a stable sort keeps their order).
    candidates.sort_by_key(|f| is_admin(f));
    for flow in candidates {
        let is_form = flow.spec.body == crate::auth::BodyEncoding::Form;
        // One token login is enough; form logins still add their session, unless the
        // identity holds a session cookie already (tokens kept in cookies are not one).
        let holds_session = identity.as_ref().is_some_and(|i| {
            i.session
                .as_ref()
                .is_some_and(|jar| jar.names().iter().any(|n| crate::auth::vocab::is_session_cookie(n)))
        });
        if identity.is_some() && !is_form || holds_session {
            continue;
        }
        // The admin login serves staff accounts only; it is not a fallback for the others.
        if identity.is_some() && is_admin(flow) {
            continue;
        }
        let attempt = match flow.log_in(probe, user).await {
            Ok(mut id) => {
                let learn = !flow.presentation_configured();
                match verify_identity(probe, inventory, flows, &mut id, learn).await {
                    Ok(()) => {
                        if let (true, Some(presentation)) = (learn, id.presentation()) {
                            flow.settle_presentation(presentation);
                        }
                        Ok(id)
                    }
                    Err(reason) => Err(format!(
                        "login as `{}` at {} answered, but {reason}",
                        user.username, flow.url
                    )),
                }
            }
            Err(e) => Err(e.to_string()),
        };
        match attempt {
            Ok(id) => match &mut identity {
                Some(primary) => primary.session = id.session,
                None => identity = Some(id),
            },
            Err(e) => refusals.push((flow, e)),
        }
        if probe.interrupted() {
            break;
        }
    }
    match identity {
        // Another login logged the account in: a refusal elsewhere (the admin login's
        // above all) is no failure.
        Some(id) => Ok(id),
        None if refusals.is_empty() => Err(AccountError::NoLoginEndpoint(user.username.clone())),
        None => Err(AccountError::Failed(refusal_message(&user.username, &refusals))),
    }
}

/// Whether a login flow is the Django admin's (staff accounts only).
fn is_admin(flow: &LoginFlow) -> bool {
    flow.family == crate::auth::family::DJANGO_ADMIN
}

/// Why no login flow logged `username` in: every flow tried, each with its own refusal
/// (so a refused OAuth 2 client at one token endpoint is not taken for the whole story).
/// When only the admin login was there to try, the message says that it logs staff in
/// and that no login of the API itself was found.
fn refusal_message(username: &str, refusals: &[(&LoginFlow, String)]) -> String {
    let only_admin = refusals.iter().all(|(f, _)| is_admin(f));
    let admin_note =
        "the Django admin login serves staff accounts only, so its refusal says nothing about the API's own login";
    if only_admin {
        let (_, why) = &refusals[0];
        return format!(
            "{why}; {admin_note}, and no login of the API itself was found: declare one in [flows.login] in the config"
        );
    }
    if refusals.len() == 1 {
        return refusals[0].1.clone();
    }
    let tried: Vec<String> = refusals
        .iter()
        .enumerate()
        .map(|(i, (flow, why))| format!("{}. {} ({}): {why}", i + 1, flow.path(), flow.family_label()))
        .collect();
    let mut message = format!(
        "none of the {} login flows tried logged `{username}` in: {}",
        refusals.len(),
        tried.join("; ")
    );
    if refusals.iter().any(|(f, _)| is_admin(f)) {
        message.push_str(&format!(" ({admin_note})"));
    }
    message
}

/// Checks that `identity`'s credential is accepted where anonymous callers are refused,
/// learning how a token is presented when `learn` is set. Nothing to try it on is no
/// proof either way, and passes.
pub async fn verify_identity(
    probe: &Probe,
    inventory: &Inventory,
    flows: &Flows,
    identity: &mut Identity,
    learn: bool,
) -> Result<(), String> {
    let identity_urls: Vec<Url> = flows.identity.iter().map(|f| f.url.clone()).collect();
    let urls = crate::auth::present::verification_urls(inventory, &identity_urls);
    let Some(url) = urls.first().cloned() else {
        return Ok(());
    };
    if learn && identity.token().is_some() {
        return match crate::auth::present::settle(probe, inventory, &urls, identity).await {
            Some(false) => Err(format!(
                "its token was refused at {} however it was presented (Authorization schemes, a bare Authorization, key headers; declare `scheme` or `header` in [flows.login] if the API takes it another way)",
                url.path()
            )),
            _ => Ok(()),
        };
    }
    // A form login's session is judged by the form's own answer (its redirect).
    if identity.login == Some(LoginKind::Form) && identity.token().is_none() {
        return Ok(());
    }
    match probe.send(identity.authorize(ProbeRequest::get(url.clone()))).await {
        Ok(resp) if matches!(resp.status, 401 | 403) => Err(format!(
            "its credential was refused at {} (HTTP {})",
            url.path(),
            resp.status
        )),
        _ => Ok(()),
    }
}

/// Finds the endpoint that returns the identity's own record (the identity flows first,
/// then identity-like endpoints), and learns its marker (for a supplied bearer token, the
/// username the endpoint reports).
pub async fn find_identity_endpoint(
    probe: &Probe,
    inventory: &Inventory,
    flows: &Flows,
    identity: &mut Identity,
) -> Option<Url> {
    let mut candidates: Vec<(Url, Option<&crate::auth::JsonPathExpr>)> = flows
        .identity
        .iter()
        .map(|f| (f.url.clone(), Some(&f.spec.username)))
        .collect();
    for e in inventory.of_kind(EndpointKind::IdentityCandidate) {
        if !candidates.iter().any(|(u, _)| u == &e.url) {
            candidates.push((e.url.clone(), None));
        }
    }
    for (url, username_path) in candidates {
        let Ok(resp) = probe.send(identity.authorize(ProbeRequest::get(url.clone()))).await else {
            continue;
        };
        if !resp.is_success() {
            continue;
        }
        let Some(json) = resp.json() else { continue };
        match &identity.marker {
            Some(marker) if resp.text().contains(marker.as_str()) => return Some(url),
            Some(_) => continue,
            None => {
                let name = match username_path {
                    Some(path) => path.first_str(&json),
                    None => ["username", "email", "user", "name"]
                        .iter()
                        .find_map(|k| json.get(k).and_then(|v| v.as_str()).filter(|s| !s.is_empty()))
                        .map(str::to_string),
                };
                if let Some(name) = name {
                    identity.marker = Some(name.clone());
                    identity.username = Some(name);
                    return Some(url);
                }
            }
        }
    }
    None
}
