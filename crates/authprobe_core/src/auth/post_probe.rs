//! Login routes that nothing but a POST reveals. Many Node routers (Koa's router without
//! `allowedMethods()`, Fastify, an Express router behind a blanket CORS answer) register a
//! login for POST only and answer every other method 404, so neither the GET discovery
//! sends nor the `OPTIONS` asked after it tells the route from a missing one. Such a
//! candidate — a login path whose GET answered 404 and whose `OPTIONS` answered 404, 405
//! or a blanket success without `Allow` — gets one credential POST with the scan's own
//! first account, JSON first, then a form when the JSON was not understood. A candidate
//! whose answer carries a credential, or refuses the account as a login does, joins the
//! inventory as a token endpoint found by this probe (`source: probe` in `flows[]`), and
//! the login flow then logs in through it as through any other.
//!
//! A candidate that is not kept was sent one POST (two when its JSON answer said it did
//! not understand the body) to a path that is no flow. So the probe runs only as a last
//! resort: with accounts, no login configured, no login found anywhere else (the admin
//! login, for staff only, does not count), and a router that never told a refused method
//! from a missing route (no GET answered 405, no `OPTIONS` answered with `Allow`: where it
//! does, a 404 is a missing route); it stops at the first candidate kept and asks at most
//! [`MAX_PROBED_LOGINS`] in all, in the order most likely first.

use url::Url;

use super::run::AttemptOptions;
use super::spec::{BodyEncoding, LoginSpec};
use super::vocab::{PASSWORD_FIELDS, USERNAME_FIELDS};
use super::{family, Flow, FlowSource};
use crate::discovery::{kept, Endpoint, EndpointKind, FoundBy, Inventory, MAX_ENDPOINTS};
use crate::probe::{Probe, ProbeResponse};
use crate::spec::ApiSpec;
use crate::target::UserCredential;

/// Most candidates sent a credential POST on one scan.
pub const MAX_PROBED_LOGINS: usize = 8;

/// Requests the budget must still hold for a candidate to be asked (the scan's own logins
/// and checks come after).
const BUDGET_RESERVE: usize = 50;

/// A login path that answered GET with 404, and its answer to `OPTIONS`.
#[derive(Debug, Clone)]
pub struct Unanswered {
    pub url: Url,
    pub get: ProbeResponse,
    pub options: ProbeResponse,
    /// How the candidate was named: a guessed path, or a route a script calls.
    pub found_by: FoundBy,
}

impl Unanswered {
    /// Whether neither answer tells the route from a missing one: GET 404, and `OPTIONS`
    /// 404, 405, or a success that names no method (a CORS layer answering every path).
    fn may_take_post_only(&self) -> bool {
        let options = &self.options;
        let blanket = options.is_success() && options.header_all("allow").is_empty();
        self.get.status == 404 && (matches!(options.status, 404 | 405) || blanket)
    }
}

/// Sends each candidate that may take POST only one credential POST as `account` (the
/// scan's first account; `None` — no accounts, or a configured login — sends nothing) and
/// adds the ones that answer as a login does to the inventory (see the module's doc).
pub(crate) async fn add_probed_logins(
    probe: &Probe,
    inventory: &mut Inventory,
    all: Vec<Unanswered>,
    account: Option<&UserCredential>,
) {
    let Some(account) = account else { return };
    if login_found(inventory) || tells_methods_apart(inventory, &all) {
        return;
    }
    let mut all: Vec<Unanswered> = all
        .into_iter()
        .filter(|c| c.may_take_post_only() && !inventory.contains(&c.url))
        .collect();
    // Routes a page or script named first; then paths under a prefix the API answers on
    // (`/api/auth/me` → `/api/auth/login`), logins named so before token endpoints (an
    // OAuth 2 server answers GET with 405: it is rarely one that only a POST reveals), and
    // the guessed paths in their order (most used first). The order is the same on every
    // scan, whatever order the answers came back in.
    all.sort_by_key(|c| {
        let guessed = super::detect::LOGIN_PATHS.iter().position(|p| *p == c.url.path());
        (
            c.found_by == FoundBy::Guess,
            std::cmp::Reverse(shared_prefix(inventory, &c.url)),
            names_a_token(&c.url),
            guessed.unwrap_or(usize::MAX),
            c.url.path().to_string(),
        )
    });
    let mut candidates: Vec<Unanswered> = Vec::new();
    for c in all {
        // A router that ignores a trailing slash routes `/login/` as `/login`: one is asked.
        if !candidates.iter().any(|o| super::same_route(&o.url, &c.url)) {
            candidates.push(c);
        }
    }
    for candidate in candidates.into_iter().take(MAX_PROBED_LOGINS) {
        if probe.remaining_budget() < BUDGET_RESERVE
            || probe.interrupted()
            || inventory.endpoints.len() >= MAX_ENDPOINTS
        {
            return;
        }
        if answers_as_a_login(probe, &candidate.url, account).await {
            inventory.endpoints.push(Endpoint {
                url: candidate.url,
                kind: EndpointKind::TokenObtain,
                anonymous: Ok(kept(candidate.get)),
                authenticated: None,
                declared: false,
                // A guessed path is known by the probe; a route a page or script named
                // keeps that source.
                found_by: match candidate.found_by {
                    FoundBy::Guess => FoundBy::Probe,
                    named => named,
                },
            });
            return;
        }
        inventory.refused_login_candidates.push(candidate.url);
    }
}

/// Whether the inventory already holds a login of the API: a token endpoint, a login form,
/// or a login in a spec it holds. The admin login is for staff, and does not count.
fn login_found(inventory: &Inventory) -> bool {
    let known = inventory
        .endpoints
        .iter()
        .any(|e| matches!(e.kind, EndpointKind::TokenObtain | EndpointKind::FormLogin));
    known
        || super::page::serves_a_login(inventory)
        || inventory.of_kind(EndpointKind::Schema).any(|e| {
            e.anonymous_ok()
                .filter(|r| r.is_success())
                .and_then(|r| ApiSpec::from_text(&r.text(), e.url.as_str()).ok())
                .is_some_and(|spec| !super::detect::spec_logins(&spec).is_empty())
        })
}

/// Whether the target's router tells a route that refuses a method from a missing one: a
/// GET it answered 405 (Django, FastAPI, Flask, Spring do for a POST-only route), or an
/// `OPTIONS` answered with `Allow` (Express, Koa's `allowedMethods()`). Its 404s are then
/// missing routes, and no POST can reveal a login there.
fn tells_methods_apart(inventory: &Inventory, candidates: &[Unanswered]) -> bool {
    inventory
        .endpoints
        .iter()
        .any(|e| e.anonymous_ok().is_some_and(|r| r.status == 405))
        || candidates.iter().any(|c| !c.options.header_all("allow").is_empty())
}

/// Whether a path's last segment names a token (`/oauth/token`), not a login.
fn names_a_token(url: &Url) -> bool {
    let path = url.path().trim_end_matches('/');
    path.rsplit('/')
        .next()
        .is_some_and(|last| last.eq_ignore_ascii_case("token"))
}

/// How many leading path segments `url`'s parent shares with the deepest endpoint the API
/// answered on (its root left out).
fn shared_prefix(inventory: &Inventory, url: &Url) -> usize {
    let segments = |u: &Url| -> Vec<String> {
        u.path()
            .split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_ascii_lowercase)
            .collect()
    };
    let mine = segments(url);
    let parent = &mine[..mine.len().saturating_sub(1)];
    inventory
        .endpoints
        .iter()
        .filter(|e| e.anonymous_ok().is_some_and(|r| r.status != 404))
        .map(|e| segments(&e.url).iter().zip(parent).take_while(|(a, b)| a == b).count())
        .max()
        .unwrap_or(0)
}

/// Sends `account` to `url` as a JSON login (then as a form, when the JSON was not
/// understood) and says whether the answer is a login's: it carries a credential (a token
/// at any depth, a session cookie: read as every login's answer is read), or it is JSON
/// that accepts or refuses the account (2xx, 400, 401, 403; 422 to the form). A 404 or a
/// 405 is no route that takes POST. Every credential the answer carries is registered with
/// the redactor.
async fn answers_as_a_login(probe: &Probe, url: &Url, account: &UserCredential) -> bool {
    probe.allow_post(url);
    let json = LoginSpec {
        username_field: account_field(&account.username).to_string(),
        password_field: PASSWORD_FIELDS[0].to_string(),
        ..LoginSpec::json_preset(url.path())
    };
    match attempt(probe, url, json.clone(), account).await {
        Verdict::Login => true,
        Verdict::NotUnderstood => {
            let form = LoginSpec {
                body: BodyEncoding::Form,
                ..json
            };
            matches!(attempt(probe, url, form, account).await, Verdict::Login)
        }
        Verdict::NoLogin => false,
    }
}

/// What one probe POST's answer says.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    /// A credential, or a login's answer to the account.
    Login,
    /// The route exists but did not take the body (415, or a 400/422 that is not JSON,
    /// or a 422 to JSON): worth one form-encoded try.
    NotUnderstood,
    NoLogin,
}

async fn attempt(probe: &Probe, url: &Url, spec: LoginSpec, account: &UserCredential) -> Verdict {
    let form = spec.body == BodyEncoding::Form;
    let flow = Flow::new(family::JSON_LOGIN, url.clone(), spec, FlowSource::Probe);
    let Ok(answer) = flow
        .attempt_with(probe, &account.username, &account.password, AttemptOptions::new())
        .await
    else {
        return Verdict::NoLogin;
    };
    let status = answer.response.status;
    let json = answer.response.json().is_some();
    match flow.identity_from(account, answer) {
        Ok(identity) => {
            for secret in identity.secrets() {
                probe.redactor().add_secret(&secret);
            }
            Verdict::Login
        }
        Err(_) => verdict(status, json, form),
    }
}

/// The verdict on an answer that carried no credential.
fn verdict(status: u16, json: bool, form: bool) -> Verdict {
    match status {
        200..=299 | 400 | 401 | 403 if json => Verdict::Login,
        422 if json && form => Verdict::Login,
        415 | 400 | 422 if !form => Verdict::NotUnderstood,
        _ => Verdict::NoLogin,
    }
}

/// The field an account goes by: `email` for an address, else `username`.
fn account_field(username: &str) -> &'static str {
    if username.contains('@') {
        "email"
    } else {
        USERNAME_FIELDS[0]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_404_or_405_is_no_login_and_a_refusal_in_json_is_one() {
        assert_eq!(verdict(401, true, false), Verdict::Login);
        assert_eq!(verdict(400, true, false), Verdict::Login);
        assert_eq!(verdict(200, true, false), Verdict::Login);
        assert_eq!(verdict(404, true, false), Verdict::NoLogin);
        assert_eq!(verdict(405, true, false), Verdict::NoLogin);
        assert_eq!(verdict(401, false, false), Verdict::NoLogin);
        assert_eq!(verdict(415, false, false), Verdict::NotUnderstood);
        assert_eq!(verdict(422, true, false), Verdict::NotUnderstood);
        assert_eq!(verdict(422, true, true), Verdict::Login);
        assert_eq!(verdict(415, false, true), Verdict::NoLogin);
    }

    #[test]
    fn an_address_goes_by_email() {
        assert_eq!(account_field("alice@example.org"), "email");
        assert_eq!(account_field("alice"), "username");
    }
}
