//! What the target's HTML pages say about how it authenticates: a server-rendered login
//! form at any path (posting to its `action`, with its hidden fields: a per-session CSRF
//! token is read again from a fresh GET of the page before each login), an OAuth 2 token
//! endpoint a page posts to or names with the `client_id` the page carries, a sign-out
//! form (a POST to a logout path, often with a `_method=delete` override), and a "Forgot
//! your password?" link to a reset form. Pages are those discovery fetched, plus a few a
//! page links to (a sign-in, a reset or a token link), fetched here; the scripts they load
//! are read by [`super::script`].

use regex::Regex;
use std::sync::{Arc, LazyLock};
use url::Url;

use super::detect::AuthRecognizer;
use super::identity::{Credential, Identity};
use super::spec::{BodyEncoding, FieldSpec, LoginSpec, LogoutSpec, RefreshSpec};
use super::{family, logouts_beside, parent, vocab, Flow, FlowSource, Flows, LOGOUT_WORDS, MAX_LOGOUTS};
use crate::cookies::CookieJar;
use crate::discovery::{
    changes_state, classify, fetch_all, kept, Discovered, Endpoint, EndpointKind, FoundBy, Inventory,
};
use crate::html::{self, Form};
use crate::probe::{Probe, ProbeRequest, ProbeResponse};

/// Most pages a page links to that are fetched (sign-in, reset and token links).
const MAX_LINKED_PAGES: usize = 6;
/// Most pages read for forms and links.
const MAX_PAGES: usize = 24;

/// The hook discovery's completion calls: fetches the few pages the target's HTML links
/// to that may hold a login, a reset form or a token endpoint (same origin, never a path
/// whose name says a GET there acts), then reads the scripts the pages load.
pub async fn read(probe: &Probe, discovered: &mut Discovered) {
    let mut fetched = 0;
    // Two rounds: the home page links the sign-in page, which links the reset form.
    for _ in 0..2 {
        let room = MAX_LINKED_PAGES - fetched;
        if room == 0 {
            break;
        }
        let mut wanted: Vec<Url> = Vec::new();
        for (page, text) in pages(&discovered.inventory) {
            for link in html::links(&text) {
                let Some(url) = same_origin(&page, &link.href) else {
                    continue;
                };
                let worth = is_sign_in_link(&url, &link.text)
                    || is_reset_link(&url, &link.text)
                    || names_a_token_endpoint(url.path());
                if worth && !changes_state(url.path()) && !discovered.inventory.contains(&url) && !wanted.contains(&url)
                {
                    wanted.push(url);
                }
            }
        }
        // A share of the budget: a GET per page.
        wanted.truncate(room.min(probe.remaining_budget() / 50));
        if wanted.is_empty() {
            break;
        }
        fetched += wanted.len();
        for (url, _, answer) in fetch_all(probe, wanted.into_iter().map(|u| (u, false)).collect(), None).await {
            let Ok(resp) = answer else { continue };
            if resp.status == 404 {
                continue;
            }
            discovered.inventory.endpoints.push(Endpoint {
                kind: classify(&url, Some(&resp), &AuthRecognizer),
                url,
                anonymous: Ok(kept(resp)),
                authenticated: None,
                declared: false,
                found_by: FoundBy::Html,
            });
        }
    }
    super::script::read(probe, discovered).await;
}

/// The HTML pages of the inventory that answered (URL, text), in order.
fn pages(inventory: &Inventory) -> Vec<(Url, String)> {
    inventory
        .endpoints
        .iter()
        .filter_map(|e| {
            let r = e.anonymous_ok()?;
            (r.is_success() && r.is_html()).then(|| (e.url.clone(), r.text()))
        })
        .take(MAX_PAGES)
        .collect()
}

/// Whether one of the inventory's pages serves a login: a same-origin login form, or a
/// token endpoint it names with the OAuth 2 client to use there. (The POST probe, the last
/// resort, is not sent then.)
pub(super) fn serves_a_login(inventory: &Inventory) -> bool {
    pages(inventory).iter().any(|(page, text)| {
        let form = login_form(text)
            .and_then(|f| f.target(page))
            .is_some_and(|a| a.origin() == page.origin());
        form || client_id(text).is_some() && !token_endpoints(page, text).is_empty()
    })
}

/// `href` resolved against `page`, when it stays on the page's origin (without fragment).
fn same_origin(page: &Url, href: &str) -> Option<Url> {
    let href = href.trim();
    if href.is_empty() || href.starts_with('#') || href.to_ascii_lowercase().starts_with("javascript:") {
        return None;
    }
    let mut url = page.join(href).ok()?;
    url.set_fragment(None);
    (url.origin() == page.origin()).then_some(url)
}

/// Path words of sign-in pages.
const SIGN_IN_WORDS: &[&str] = &["login", "log_in", "log-in", "signin", "sign_in", "sign-in", "logon"];

/// A link to a sign-in page: its path's last segment, or its text, says so.
fn is_sign_in_link(url: &Url, text: &str) -> bool {
    let path = url.path().to_ascii_lowercase();
    let last = path.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    let text = text.to_ascii_lowercase();
    SIGN_IN_WORDS
        .iter()
        .any(|w| last == *w || (last == "new" && path.contains("session")))
        || ["log in", "sign in", "login", "signin"]
            .iter()
            .any(|w| text.trim() == *w)
}

/// A "Forgot your password?" link: its text, or a path naming a password reset.
fn is_reset_link(url: &Url, text: &str) -> bool {
    let path = url.path().to_ascii_lowercase().replace(['-', '_'], "/");
    let text = text.to_ascii_lowercase();
    let path_says = path.contains("password")
        && ["reset", "forgot", "new", "recover", "lost", "email"]
            .iter()
            .any(|w| path.contains(w));
    let text_says = (text.contains("forgot") || text.contains("reset")) && text.contains("password");
    (path_says || text_says) && !path.contains("confirm") && !path.contains("change")
}

/// A path whose last segment names an OAuth 2 token endpoint (`/o/token/`, `/oauth/token`).
fn names_a_token_endpoint(path: &str) -> bool {
    let p = path.to_ascii_lowercase();
    let last = p.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    last == "token"
        && !["refresh", "revoke", "introspect", "verify"]
            .iter()
            .any(|w| p.contains(w))
}

/// Whether a hidden field holds a per-session anti-forgery token (Django's
/// `csrfmiddlewaretoken`, Rails' `authenticity_token`, Laravel's `_token`, csurf's
/// `_csrf`, ASP.NET's `__RequestVerificationToken`): re-read before each request.
fn is_csrf_field(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.contains("csrf")
        || n.contains("xsrf")
        || n.contains("authenticity")
        || n.contains("verificationtoken")
        || n == "_token"
        || n.contains("nonce")
}

/// A page's login form: the POST form with exactly one password input and an account
/// input (a sign-up or a password change asks for the password twice), not posting to a
/// registration.
fn login_form(text: &str) -> Option<Form> {
    html::forms(text).into_iter().find(|f| {
        f.posts()
            && f.password_inputs() == 1
            && f.typed().count() >= 1
            && !f.action.as_deref().is_some_and(vocab::names_a_registration)
    })
}

/// Whether [`Flows::add_page_flows`] makes the login of a login page `e` from its form:
/// a password grant (whatever the stack), or another stack's form (Django's own
/// `LoginView` form keeps its preset).
pub(super) fn reads_login_form(e: &Endpoint) -> bool {
    let Some(resp) = e.anonymous_ok().filter(|r| r.is_success() && r.is_html()) else {
        return false;
    };
    let text = resp.text();
    let Some(form) = login_form(&text) else { return false };
    let Some(action) = form.target(&e.url).filter(|a| a.origin() == e.url.origin()) else {
        return false;
    };
    is_password_grant(&form, &action) || !text.contains(vocab::CSRF_FORM_FIELD)
}

/// Whether a login form is an OAuth 2 password grant: it says `grant_type=password`, or
/// it posts to a token endpoint with a `client_id`.
fn is_password_grant(form: &Form, action: &Url) -> bool {
    let hidden = form.hidden();
    let value = |name: &str| hidden.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    value("grant_type") == Some("password") || (names_a_token_endpoint(action.path()) && value("client_id").is_some())
}

/// The OAuth 2 client a page names: a hidden `client_id` input, a `data-client-id`
/// attribute, or a `clientId`/`client_id` in an inline script's configuration.
fn client_id(text: &str) -> Option<String> {
    static CONFIG: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"(?i)["']?(?:data-)?client[_-]?id["']?\s*[:=]\s*["']([A-Za-z0-9._~-]{3,128})["']"#)
            .expect("valid regex")
    });
    let hidden = html::forms(text)
        .iter()
        .flat_map(|f| f.hidden())
        .find(|(k, v)| k.eq_ignore_ascii_case("client_id") && !v.is_empty())
        .map(|(_, v)| v);
    hidden.or_else(|| CONFIG.captures(text).map(|c| c[1].to_string()))
}

/// The token endpoints a page names: links, form actions, and same-origin paths in its
/// inline scripts whose last segment is `token`.
fn token_endpoints(page: &Url, text: &str) -> Vec<Url> {
    static QUOTED_PATH: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r#"["'](/[A-Za-z0-9_\-./]*token/?)["']"#).expect("valid regex"));
    let mut out: Vec<Url> = Vec::new();
    let hrefs = html::links(text).into_iter().map(|l| l.href);
    let actions = html::forms(text).into_iter().filter_map(|f| f.action);
    let scripted = html::inline_scripts(text).into_iter().flat_map(|code| {
        QUOTED_PATH
            .captures_iter(&code)
            .map(|c| c[1].to_string())
            .collect::<Vec<_>>()
    });
    for raw in hrefs.chain(actions).chain(scripted) {
        if let Some(mut url) = same_origin(page, &raw) {
            url.set_query(None);
            if names_a_token_endpoint(url.path()) && !out.contains(&url) {
                out.push(url);
            }
        }
    }
    out
}

/// Whether a form is a sign-out control: a POST to a logout path, or to a session with a
/// `DELETE` method override (Rails' `button_to … method: :delete`, Laravel's
/// `@method('DELETE')`).
fn is_sign_out_form(form: &Form, action: &Url) -> bool {
    let path = action.path().to_ascii_lowercase();
    let deletes = form
        .hidden()
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("_method") && v.eq_ignore_ascii_case("delete"));
    form.posts()
        && form.password_inputs() == 0
        && (LOGOUT_WORDS.iter().any(|w| path.contains(w)) || (deletes && path.contains("session")))
}

/// A password-reset request form: a POST with one e-mail input and no password input.
fn reset_form(form: &Form) -> Option<String> {
    if !form.posts() || form.password_inputs() > 0 {
        return None;
    }
    let typed: Vec<_> = form.typed().collect();
    let [input] = typed.as_slice() else { return None };
    let name = input.name.to_ascii_lowercase();
    (input.kind == "email" || vocab::EMAIL_FIELDS.iter().any(|f| name.contains(f))).then(|| input.name.clone())
}

/// The session the page's answer opened (its `Set-Cookie`s): a reset form's CSRF token is
/// only good with it.
fn page_session(resp: &ProbeResponse) -> Option<Arc<CookieJar>> {
    let cookies = resp.set_cookies();
    if cookies.is_empty() {
        return None;
    }
    let jar = CookieJar::new();
    for c in &cookies {
        jar.store(c);
    }
    Some(Arc::new(jar))
}

/// Most pages fetched as a signed-in identity to find its sign-out control.
const MAX_SIGNED_IN_PAGES: usize = 2;

/// Sign-out controls are shown to signed-in users only (a layout's `button_to "Sign out"`
/// behind `if authenticated?`): after a form login, the page the login sent the browser
/// to and the site's root are read as `identity` (GET only), and each sign-out form
/// there becomes a logout flow (POST allowed at its action). Token identities see no
/// signed-in page and are left alone.
pub async fn add_signed_in_sign_outs(probe: &Probe, flows: &mut Flows, identity: &Identity, root: &Url) {
    if !matches!(identity.credential, Credential::Session(_)) {
        return;
    }
    let landing = identity
        .login_exchange
        .and_then(|id| probe.exchange(id))
        .and_then(|x| x.response)
        .and_then(|r| {
            let location = r
                .headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("location"))?
                .1
                .clone();
            let login = identity.login_url.as_ref()?;
            same_origin(login, &location)
        });
    let mut pages: Vec<Url> = landing.into_iter().collect();
    if !pages.contains(root) {
        pages.push(root.clone());
    }
    pages.truncate(MAX_SIGNED_IN_PAGES);
    for page in pages {
        if changes_state(page.path()) {
            continue;
        }
        let Ok(resp) = probe.send(identity.authorize(ProbeRequest::get(page.clone()))).await else {
            continue;
        };
        if !(resp.is_success() && resp.is_html()) {
            continue;
        }
        for form in html::forms(&resp.text()) {
            let Some(action) = form.target(&page).filter(|a| a.origin() == page.origin()) else {
                continue;
            };
            if is_sign_out_form(&form, &action) {
                probe.allow_post(&action);
                flows.add_sign_out(action, &page, FlowSource::Html);
            }
        }
    }
}

impl Flows {
    /// Adds the flows the inventory's HTML pages show: login forms (a form family login
    /// at the form's action, or an OAuth 2 password grant carrying the page's client),
    /// sign-out forms and reset forms.
    pub(super) fn add_page_flows(&mut self, inventory: &Inventory) {
        for e in inventory.endpoints.iter().take(crate::discovery::MAX_ENDPOINTS) {
            let Some(resp) = e.anonymous_ok().filter(|r| r.is_success() && r.is_html()) else {
                continue;
            };
            if matches!(e.kind, EndpointKind::AdminLogin) {
                continue;
            }
            let text = resp.text();
            // A page recognised as a login by its path keeps the source of its path; a
            // form found by reading any other page is the page's.
            let source = match (e.kind, e.found_by) {
                (EndpointKind::FormLogin, _) | (_, FoundBy::Html) => self.found(&e.url),
                _ => FlowSource::Html,
            };
            let django = text.contains(vocab::CSRF_FORM_FIELD);
            if let Some(form) = login_form(&text) {
                if let Some(action) = form.target(&e.url).filter(|a| a.origin() == e.url.origin()) {
                    let mut action = action;
                    action.set_query(None);
                    if is_password_grant(&form, &action) {
                        self.add_password_grant(action, &form.hidden(), client_id(&text));
                    } else if !django {
                        self.add_form_login(e, action, &form, source, inventory);
                    }
                }
            } else if let Some(client) = client_id(&text) {
                for url in token_endpoints(&e.url, &text) {
                    self.add_password_grant(url, &[], Some(client.clone()));
                }
            }
            for form in html::forms(&text) {
                let Some(action) = form.target(&e.url).filter(|a| a.origin() == e.url.origin()) else {
                    continue;
                };
                if is_sign_out_form(&form, &action) {
                    self.add_sign_out(action, &e.url, FlowSource::Html);
                } else if let Some(field) = reset_form(&form) {
                    self.add_reset_form(e, action, &form, field, resp);
                }
            }
        }
        // Logouts a script names beside no login of theirs.
        let script_family = self
            .login
            .iter()
            .find(|f| f.source == FlowSource::Script)
            .map(|f| f.family);
        if let Some(fam) = script_family {
            for e in inventory
                .of_kind(EndpointKind::Logout)
                .filter(|e| e.found_by == FoundBy::Script)
            {
                self.add_logout(fam, Some(e.url.clone()), Some(super::DEFAULT_REFRESH_FIELD));
            }
        }
    }

    /// A form login of another stack posting to `action`, read from page `e`.
    fn add_form_login(&mut self, e: &Endpoint, action: Url, form: &Form, source: FlowSource, inventory: &Inventory) {
        if self.login.iter().any(|f| f.url == action) {
            return;
        }
        let mut spec = LoginSpec::form_preset(action.path());
        let mut source = source;
        if action.path() != e.url.path() {
            // The endpoint itself was learned from the form.
            spec.page = Some(e.url.path().to_string());
            source = FlowSource::Html;
        }
        let read = super::form::read_form(form);
        if let Some(name) = read.username_field {
            spec.username_field = name;
        }
        if let Some(name) = read.password_field {
            spec.password_field = name;
        }
        // The session's logout beside the form (`/session/logout`), found by asking.
        for u in logouts_beside(inventory, &parent(e.path())) {
            self.add_logout(family::FORM, Some(u), None);
        }
        self.login.push(Flow::new(family::FORM, action, spec, source));
    }

    /// An OAuth 2 password grant at `url` with the page's client: replaces a detected
    /// login there that lacked it (and its refresh grant), else joins the logins.
    fn add_password_grant(&mut self, url: Url, hidden: &[(String, String)], client: Option<String>) {
        let mut spec = LoginSpec::oauth2_preset(url.path());
        spec.client_id = client;
        for (name, value) in hidden {
            match name.as_str() {
                "client_id" => spec.client_id = Some(value.clone()),
                "client_secret" => spec.client_secret = Some(value.clone()),
                "scope" => spec.scope = Some(value.clone()),
                "grant_type" | "username" | "password" => {}
                other if is_csrf_field(other) => {}
                other => {
                    spec.extra.insert(other.to_string(), value.clone());
                }
            }
        }
        if spec.client_id.is_none() {
            return;
        }
        let existing = self.login.iter().position(|f| f.url == url);
        if existing
            .is_some_and(|i| self.login[i].source == FlowSource::Configured || self.login[i].spec.client_id.is_some())
        {
            return;
        }
        let refresh = RefreshSpec::oauth2_preset(url.path(), &spec);
        let login = Flow::new(family::OAUTH2, url.clone(), spec, FlowSource::Html);
        match existing {
            Some(i) => self.login[i] = login,
            None => self.login.push(login),
        }
        let grant = self
            .refresh
            .iter()
            .position(|f| f.url == url && f.spec.body == BodyEncoding::OAuth2);
        let refresh = Flow::new(family::OAUTH2, url, refresh, FlowSource::Html);
        match grant {
            Some(i) if self.refresh[i].source != FlowSource::Configured => self.refresh[i] = refresh,
            Some(_) => {}
            None => self.refresh.push(refresh),
        }
    }

    /// A sign-out form posting to `action` on `page`: its hidden fields (the CSRF token,
    /// the method override) are read from the page before each logout.
    fn add_sign_out(&mut self, action: Url, page: &Url, source: FlowSource) {
        if self.logout.len() >= MAX_LOGOUTS || self.logout.iter().any(|f| f.url == action) {
            return;
        }
        let spec = LogoutSpec {
            body: BodyEncoding::Form,
            page: Some(page.path().to_string()),
            ..LogoutSpec::preset(action.path(), None)
        };
        self.logout.push(Flow::new(family::FORM, action, spec, source));
    }

    /// A reset form posting to `action`: its e-mail field, its hidden fields and the
    /// session its CSRF token belongs to.
    fn add_reset_form(&mut self, e: &Endpoint, action: Url, form: &Form, field: String, page: &ProbeResponse) {
        if self.password_reset.iter().any(|f| f.url == action) {
            return;
        }
        let spec = FieldSpec {
            path: action.path().to_string(),
            field,
            extra: form
                .hidden()
                .into_iter()
                .map(|(k, v)| (k, serde_json::Value::String(v)))
                .collect(),
            form: true,
            session: page_session(page),
        };
        let source = match e.found_by {
            FoundBy::Guess => FlowSource::Html,
            _ => self.found(&e.url),
        };
        self.password_reset.push(Flow::new(family::FORM, action, spec, source));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reset_and_sign_in_links_are_told_by_path_or_text() {
        let u = |p: &str| Url::parse("http://t").unwrap().join(p).unwrap();
        assert!(is_reset_link(&u("/users/password/new"), "Forgot your password?"));
        assert!(is_reset_link(&u("/forgot-password"), ""));
        assert!(is_reset_link(&u("/help"), "Forgot password?"));
        assert!(!is_reset_link(&u("/password/change"), "Change password"));
        assert!(is_sign_in_link(&u("/account/sign-in"), "Enter"));
        assert!(is_sign_in_link(&u("/session/new"), ""));
        assert!(is_sign_in_link(&u("/enter"), "Log in"));
        assert!(!is_sign_in_link(&u("/about"), "About us"));
    }

    #[test]
    fn a_pages_client_comes_from_hidden_inputs_or_inline_config() {
        assert_eq!(
            client_id(r#"<form action="/o/token/" method="post"><input type="hidden" name="client_id" value="web-app"></form>"#).as_deref(),
            Some("web-app")
        );
        assert_eq!(
            client_id(r#"<script>window.AUTH = {"clientId": "spa-42", tokenUrl: "/oauth/token"}</script>"#).as_deref(),
            Some("spa-42")
        );
        assert_eq!(client_id("<p>no client here</p>"), None);
    }

    #[test]
    fn sign_out_forms_post_to_a_logout_or_delete_a_session() {
        let page = Url::parse("http://t/notes").unwrap();
        let check = |html: &str| {
            let form = html::forms(html).remove(0);
            let action = form.target(&page).unwrap();
            is_sign_out_form(&form, &action)
        };
        assert!(check(
            r#"<form class="button_to" method="post" action="/session"><input type="hidden" name="_method" value="delete"><button>Sign out</button></form>"#
        ));
        assert!(check(
            r#"<form method="POST" action="/logout"><input type="hidden" name="_token" value="x"></form>"#
        ));
        assert!(!check(
            r#"<form method="post" action="/notes/3"><input type="hidden" name="_method" value="delete"></form>"#
        ));
        assert!(!check(r#"<form method="get" action="/logout"></form>"#));
    }
}
