//! The auth layer: everything about how the target authenticates, in one place. It finds
//! and runs the login, refresh, logout, password-change and identity flows (configured in
//! `[flows.*]`, declared by the API's spec, or detected from what the target serves), logs
//! the scan's accounts in ([`login`]), decides how a credential is presented
//! ([`Presentation`]), names whose credential a recorded request carried ([`attribution`]),
//! and registers every credential it obtains with the probe's redactor. Checks never find
//! logins, field names, header schemes or auth cookies on their own: they ask this layer
//! through the scan context. The stateful checks (fixation, revocation, rotation, password
//! change) work through these flows only, and the report lists every flow and whether it
//! was used.
//!
//! Each role comes from `[flows.*]` in `authprobe.toml` when the user wrote one, else from
//! detection, which recognises the common stacks from the endpoint inventory: simplejwt,
//! DRF authtoken, dj-rest-auth, knox, the `LoginView` form and the admin login, OAuth 2
//! token endpoints, and the JSON and HTML logins of other frameworks.

pub mod attribution;
pub mod declared;
pub mod detect;
pub mod extract;
#[cfg(test)]
mod fixtures;
pub mod form;
pub mod identity;
pub mod login;
pub mod ownership;
pub mod page;
pub mod policy;
mod post_probe;
pub mod present;
pub mod recovery;
mod run;
pub mod script;
pub mod spec;
pub mod view;
pub mod vocab;

pub use declared::{BridgeFlow, BridgeSpec};
pub use identity::{Credential, Identity, LoginError, LoginKind, Presentation, SuppliedToken};
pub use login::LoginFailure;
pub use run::{AttemptAnswer, AttemptOptions, LoginShape, Refreshed, CROSS_SITE_HEADERS};
pub use spec::{
    AuthScheme, BodyEncoding, FieldSpec, FlowSpecs, IdentitySpec, JsonPathExpr, LoginSpec, LogoutScope, LogoutSpec,
    PasswordChangeSpec, RefreshSpec,
};
pub use view::{AuthView, Minted};

use serde::Serialize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use url::Url;

use crate::discovery::{EndpointKind, FoundBy, Inventory};
use crate::spec::{ApiSpec, SpecLogin};
use crate::target::Target;

/// Where a flow came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FlowSource {
    /// Written in `[flows.*]` (or `[auth] login_path`) by the user.
    Configured,
    /// An operation of the API's spec (given, or served at a usual place).
    Spec,
    /// A path discovery asked for (the common paths of the auth packages and frameworks,
    /// a sibling of a detected login), recognised by its answers.
    Path,
    /// A URL the API's own answers link to (or redirect to).
    Link,
    /// A URL an API docs page names (the spec a Swagger UI, ReDoc or Scalar page loads).
    Docs,
    /// A form or a link on one of the target's HTML pages.
    Html,
    /// A route named in a JavaScript bundle the target's pages load.
    Script,
    /// A login candidate that answered GET and OPTIONS with 404 and took one credential POST.
    Probe,
    /// A link the target e-mailed (a password-reset link read from `--mailbox`).
    Mail,
}

/// The Django stack a flow belongs to; flows of one family are used together (a simplejwt
/// login with the simplejwt refresh and blacklist endpoints).
pub mod family {
    pub const CONFIGURED: &str = "configured";
    pub const SIMPLEJWT: &str = "simplejwt";
    pub const AUTHTOKEN: &str = "authtoken";
    pub const DJ_REST_AUTH: &str = "dj-rest-auth";
    pub const KNOX: &str = "knox";
    /// A JSON login of no recognised package (refined to `knox` when its answer says so).
    pub const JSON_LOGIN: &str = "custom";
    pub const DJANGO_FORM: &str = "django-form";
    /// An HTML login form of another stack (Express, Rails, Flask-Login, …).
    pub const FORM: &str = "form";
    pub const DJANGO_ADMIN: &str = "django-admin";
    /// An OAuth 2 token endpoint (password grant): django-oauth-toolkit, FastAPI, OAuth servers.
    pub const OAUTH2: &str = "oauth2";
    /// A logout endpoint the API links to from its own responses.
    pub const LINKED: &str = "linked";
    /// A flow the API's spec declares by what its operation says it does (a sign-out, a
    /// token-to-session bridge), whichever login it goes with.
    pub const DECLARED: &str = "declared";

    /// Whether `family` is Django's or one of its packages' (DRF authtoken, simplejwt,
    /// dj-rest-auth, knox, Django's login form and admin): what lets a check word a finding
    /// in Django's terms. Configured, custom, OAuth 2 and other stacks' forms are not.
    pub fn is_django(family: &str) -> bool {
        matches!(
            family,
            SIMPLEJWT | AUTHTOKEN | DJ_REST_AUTH | KNOX | DJANGO_FORM | DJANGO_ADMIN
        )
    }
}

/// One flow: a role's spec bound to a URL on the target.
#[derive(Debug)]
pub struct Flow<S> {
    pub family: &'static str,
    pub url: Url,
    pub spec: S,
    pub source: FlowSource,
    used: AtomicBool,
    /// The package a login's answer revealed (knox's `{"token", "expiry"}`), when its path
    /// did not.
    seen_as: OnceLock<&'static str>,
    /// A detected login's request shape, once learned (field names, JSON or form).
    learned: std::sync::Mutex<Option<run::LoginShape>>,
    /// How the API took the tokens this login issued, once a login settled it (the scheme
    /// or header it accepted): later logins through the flow present theirs the same way.
    settled: std::sync::Mutex<Option<Presentation>>,
    /// How the API's spec says keys are presented (its `apiKey` schemes' headers and
    /// cookies): a login's token is tried so first.
    declared_presentations: OnceLock<Vec<Presentation>>,
}

impl<S> Flow<S> {
    fn new(family: &'static str, url: Url, spec: S, source: FlowSource) -> Arc<Flow<S>> {
        Arc::new(Flow {
            family,
            url,
            spec,
            source,
            used: AtomicBool::new(false),
            seen_as: OnceLock::new(),
            learned: std::sync::Mutex::new(None),
            settled: std::sync::Mutex::new(None),
            declared_presentations: OnceLock::new(),
        })
    }

    /// The family for reports: what the flow's answers revealed, else what its path said.
    pub fn family_label(&self) -> &'static str {
        self.seen_as.get().copied().unwrap_or(self.family)
    }

    /// Whether the scan sent at least one request through this flow.
    pub fn was_used(&self) -> bool {
        self.used.load(Ordering::Relaxed)
    }

    fn mark_used(&self) {
        self.used.store(true, Ordering::Relaxed);
    }

    pub fn path(&self) -> &str {
        self.url.path()
    }
}

pub type LoginFlow = Arc<Flow<LoginSpec>>;
pub type RefreshFlow = Arc<Flow<RefreshSpec>>;
pub type LogoutFlow = Arc<Flow<LogoutSpec>>;
pub type PasswordChangeFlow = Arc<Flow<PasswordChangeSpec>>;
pub type IdentityFlow = Arc<Flow<IdentitySpec>>;
pub type FieldFlow = Arc<Flow<FieldSpec>>;

/// Every flow the scan knows, per role, configured ones first.
#[derive(Debug, Default)]
pub struct Flows {
    pub login: Vec<LoginFlow>,
    pub refresh: Vec<RefreshFlow>,
    pub logout: Vec<LogoutFlow>,
    pub password_change: Vec<PasswordChangeFlow>,
    pub identity: Vec<IdentityFlow>,
    /// Token verify endpoints (simplejwt `TokenVerifyView`: `{"token"}`).
    pub verify: Vec<FieldFlow>,
    /// Password-reset requests (`{"email"}`): they mail the account, so only bursts of
    /// scanner-made addresses go there.
    pub password_reset: Vec<FieldFlow>,
    /// Operations the spec declares that trade a token for a session cookie.
    pub bridge: Vec<BridgeFlow>,
    /// How the spec's `apiKey` schemes take a key in a header or a cookie.
    declared_presentations: Vec<Presentation>,
    /// The query parameters the spec's `apiKey` schemes take a key in.
    declared_query_parameters: Vec<String>,
    /// Paths the API's spec declares: detected flows there are `spec` flows.
    spec_paths: std::collections::HashSet<String>,
    /// The request bodies the spec declares for POSTs, by path.
    spec_bodies: std::collections::HashMap<String, crate::spec::BodySchema>,
    /// How discovery came to know each endpoint: the `source` of a flow found there.
    found_by: std::collections::HashMap<Url, FoundBy>,
    /// Login candidates sent one credential POST that did not answer as a login.
    refused_login_candidates: Vec<Url>,
    /// Forms reached through a link the target e-mailed (the set-password form of a reset
    /// link), found while checks run, by role, their paths with the mailed token replaced
    /// by `{token}` (the report lists them; the token is a secret).
    mailed: std::sync::Mutex<Vec<(&'static str, String)>>,
}

/// A configured flow that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("[flows.{role}] path `{path}` is not a path or URL on the target's origin")]
pub struct FlowError {
    pub role: &'static str,
    pub path: String,
}

/// One line of the report's flow list.
#[derive(Debug, Clone, Serialize)]
pub struct FlowInfo {
    pub role: &'static str,
    pub family: &'static str,
    pub endpoint: String,
    pub source: FlowSource,
    pub used: bool,
}

/// Whether two URLs are one route: routers that ignore a trailing slash (Laravel, Express,
/// Koa, Go's) answer `/api/login` and `/api/login/` alike, and one flow is enough. (Django
/// redirects the other one, which is then no endpoint of its kind.)
fn same_route(a: &Url, b: &Url) -> bool {
    a.origin() == b.origin() && a.path().trim_end_matches('/') == b.path().trim_end_matches('/')
}

/// Most logout flows detection keeps (each costs a fresh login when tested).
const MAX_LOGOUTS: usize = 5;

impl Flows {
    /// Builds the flows: the configured roles first, then what detection recognises in the
    /// inventory. `legacy_login` and `legacy_identity` are `[auth] login_path`/`identity_path`.
    pub fn resolve(
        specs: &FlowSpecs,
        legacy_login: Option<&(LoginKind, String)>,
        legacy_identity: Option<&str>,
        target: &Target,
        inventory: &Inventory,
        api: Option<&ApiSpec>,
    ) -> Result<Flows, FlowError> {
        let mut flows = Flows {
            refused_login_candidates: inventory.refused_login_candidates.clone(),
            found_by: inventory
                .endpoints
                .iter()
                .map(|e| (e.url.clone(), e.found_by))
                .collect(),
            spec_paths: api
                .map(|a| {
                    let operations = a.operations.iter().map(|o| o.path.clone());
                    operations
                        .chain(detect::spec_logins(a).into_iter().map(|l| l.path))
                        .collect()
                })
                .unwrap_or_default(),
            spec_bodies: api
                .map(|a| {
                    a.operations
                        .iter()
                        .filter(|o| o.method == "POST")
                        .filter_map(|o| Some((o.path.clone(), o.body.clone()?)))
                        .collect()
                })
                .unwrap_or_default(),
            ..Flows::default()
        };
        let join = |role: &'static str, path: &str| -> Result<Url, FlowError> {
            target
                .join(path)
                .filter(|u| target.same_origin(u))
                .ok_or_else(|| FlowError {
                    role,
                    path: path.to_string(),
                })
        };
        let configured = FlowSource::Configured;
        if let Some(s) = &specs.login {
            let url = join("login", &s.path)?;
            flows
                .login
                .push(Flow::new(family::CONFIGURED, url, s.clone(), configured));
        } else if let Some((kind, path)) = legacy_login {
            let url = join("login", path)?;
            let (fam, spec) = match kind {
                LoginKind::Form => (family::DJANGO_FORM, LoginSpec::form_preset(path)),
                LoginKind::Authtoken => (family::AUTHTOKEN, LoginSpec::json_preset(path)),
                LoginKind::Simplejwt => (family::SIMPLEJWT, LoginSpec::json_preset(path)),
            };
            flows.login.push(Flow::new(fam, url, spec, configured));
        }
        if let Some(s) = &specs.refresh {
            let url = join("refresh", &s.path)?;
            flows
                .refresh
                .push(Flow::new(family::CONFIGURED, url, s.clone(), configured));
        }
        // A configured password grant's endpoint takes the refresh grant too.
        let configured_grant = specs.login.as_ref().filter(|l| l.body == BodyEncoding::OAuth2);
        if let (Some(login), None) = (configured_grant, &specs.refresh) {
            let url = join("login", &login.path)?;
            let refresh = RefreshSpec::oauth2_preset(url.path(), login);
            let source = flows.found(&url);
            flows.refresh.push(Flow::new(family::OAUTH2, url, refresh, source));
        }
        if let Some(s) = &specs.logout {
            let url = join("logout", &s.path)?;
            flows
                .logout
                .push(Flow::new(family::CONFIGURED, url, s.clone(), configured));
        }
        if let Some(s) = &specs.password_change {
            let url = join("password_change", &s.path)?;
            flows
                .password_change
                .push(Flow::new(family::CONFIGURED, url, s.clone(), configured));
        }
        if let Some(s) = &specs.password_reset {
            let url = join("password_reset", &s.path)?;
            let mut spec = FieldSpec::preset(url.path(), &s.field);
            spec.form = s.body == BodyEncoding::Form;
            flows
                .password_reset
                .push(Flow::new(family::CONFIGURED, url, spec, configured));
        }
        if let Some(s) = &specs.identity {
            let url = join("identity", &s.path)?;
            flows
                .identity
                .push(Flow::new(family::CONFIGURED, url, s.clone(), configured));
        } else if let Some(path) = legacy_identity {
            let url = join("identity", path)?;
            flows.identity.push(Flow::new(
                family::CONFIGURED,
                url,
                IdentitySpec::preset(path),
                configured,
            ));
        }
        let spec_logins = api.map(detect::spec_logins).unwrap_or_default();
        flows.detect(target, inventory, &spec_logins);
        // After detection: a logout a stack's package names keeps its family.
        if let Some(api) = api {
            flows.add_declared(target, api);
        }
        for login in &flows.login {
            let _ = login.declared_presentations.set(flows.declared_presentations.clone());
        }
        Ok(flows)
    }

    /// Adds the flows detection recognises, skipping URLs a configured flow already has.
    fn detect(&mut self, target: &Target, inventory: &Inventory, spec_logins: &[SpecLogin]) {
        // Logouts the API itself advertises come first.
        for url in linked_logouts(target, inventory) {
            self.add_logout(family::LINKED, Some(url), Some(DEFAULT_REFRESH_FIELD));
        }
        let mut logins: Vec<(&'static str, Url, Option<&SpecLogin>)> = inventory
            .of_kind(EndpointKind::TokenObtain)
            .map(|e| (login_family(e.path()), e.url.clone(), None))
            .collect();
        // The spec's logins: its OAuth 2 password flows and the operations whose body
        // takes a password, with the field names the spec gives.
        for login in spec_logins {
            let url = if login.path.contains("://") {
                Url::parse(&login.path).ok().filter(|u| target.same_origin(u))
            } else {
                target.join(&login.path)
            };
            let Some(url) = url else { continue };
            let fam = if login.password_grant {
                family::OAUTH2
            } else {
                login_family(url.path())
            };
            match logins.iter_mut().find(|(_, u, _)| *u == url) {
                Some(known) => {
                    if login.password_grant {
                        known.0 = family::OAUTH2;
                    }
                    known.2 = Some(login);
                }
                None => logins.push((fam, url, Some(login))),
            }
        }
        // simplejwt first: its tokens are what most checks examine; within a family the
        // shallowest path (`/api/token/` before `/api/es/token/`) is the main one.
        logins.sort_by_key(|(fam, url, _)| (login_rank(fam), url.path().matches('/').count(), url.path().len()));
        for (fam, url, declared) in logins {
            let prefix = parent(url.path());
            match fam {
                family::SIMPLEJWT => {
                    for e in inventory.of_kind(EndpointKind::TokenBlacklist) {
                        if self.logout.len() < MAX_LOGOUTS && !self.logout.iter().any(|f| f.url == e.url) {
                            let spec = LogoutSpec::blacklist_preset(e.path());
                            let source = self.found(&e.url);
                            self.logout.push(Flow::new(fam, e.url.clone(), spec, source));
                        }
                    }
                }
                family::DJ_REST_AUTH => {
                    self.add_logout(fam, sibling(target, &prefix, "logout/"), Some(DEFAULT_REFRESH_FIELD));
                    self.add_refresh(fam, sibling(target, &prefix, "token/refresh/"));
                    self.add_password_change(fam, sibling(target, &prefix, "password/change/"));
                    self.add_identity(fam, sibling(target, &prefix, "user/"));
                }
                family::KNOX => {
                    self.add_logout(fam, sibling(target, &prefix, "logout/"), None);
                }
                // Other stacks' logouts are the ones discovery found beside the login; a
                // guessed path is never POSTed to.
                family::JSON_LOGIN | family::OAUTH2 => {
                    for u in logouts_beside(inventory, &prefix) {
                        self.add_logout(fam, Some(u), Some(DEFAULT_REFRESH_FIELD));
                    }
                }
                _ => {}
            }
            if !self.login.iter().any(|f| same_route(&f.url, &url)) {
                let mut spec = if fam == family::OAUTH2 {
                    LoginSpec::oauth2_preset(url.path())
                } else {
                    LoginSpec::json_preset(url.path())
                };
                if let Some(d) = declared {
                    spec.username_field = d.username_field.clone();
                    spec.password_field = d.password_field.clone();
                    if d.form && !d.password_grant {
                        spec.body = BodyEncoding::Form;
                    }
                }
                if fam == family::OAUTH2 {
                    // The same endpoint takes the refresh grant (used only when the login
                    // issues a refresh token).
                    let refresh = RefreshSpec::oauth2_preset(url.path(), &spec);
                    let source = self.found(&url);
                    self.refresh.push(Flow::new(fam, url.clone(), refresh, source));
                }
                let source = self.found(&url);
                self.login.push(Flow::new(fam, url, spec, source));
            }
        }
        let simplejwt_login = self.login.iter().any(|l| l.family == family::SIMPLEJWT);
        for e in inventory.of_kind(EndpointKind::TokenRefresh) {
            let fam = match login_family(e.path()) {
                family::JSON_LOGIN | family::SIMPLEJWT => {
                    // A refresh beside a login of no known package is that login's (Flask's
                    // `/api/token/refresh` beside `/api/login`), unless simplejwt is there.
                    let beside_custom = self
                        .login
                        .iter()
                        .any(|l| l.family == family::JSON_LOGIN && e.path().starts_with(&parent(l.path())));
                    if beside_custom && !simplejwt_login {
                        family::JSON_LOGIN
                    } else {
                        family::SIMPLEJWT
                    }
                }
                other => other,
            };
            self.add_refresh(fam, Some(e.url.clone()));
        }
        for (kind, fam) in [
            (EndpointKind::FormLogin, family::DJANGO_FORM),
            (EndpointKind::AdminLogin, family::DJANGO_ADMIN),
        ] {
            for e in inventory.of_kind(kind) {
                let django = e
                    .anonymous_ok()
                    .is_some_and(|r| r.text().contains(vocab::CSRF_FORM_FIELD));
                let fam = if fam == family::DJANGO_FORM && !django {
                    family::FORM
                } else {
                    fam
                };
                if fam != family::DJANGO_ADMIN && page::reads_login_form(e) {
                    // Its form's action, fields and page are read by `add_page_flows`.
                    continue;
                }
                if fam == family::FORM {
                    // The session's logout beside the form (`/session/logout`), found by asking.
                    for u in logouts_beside(inventory, &parent(e.path())) {
                        self.add_logout(fam, Some(u), None);
                    }
                }
                if !self.login.iter().any(|f| same_route(&f.url, &e.url)) {
                    let spec = LoginSpec::form_preset(e.path());
                    let source = self.found(&e.url);
                    self.login.push(Flow::new(fam, e.url.clone(), spec, source));
                }
            }
        }
        for e in &inventory.endpoints {
            let p = e.path().to_ascii_lowercase().replace(['-', '_'], "/");
            if (p.contains("password/change") || p.contains("change/password")) && e.anonymously_refused() {
                self.add_password_change(login_family(e.path()), Some(e.url.clone()));
            }
        }
        for e in inventory.of_kind(EndpointKind::TokenVerify) {
            let spec = FieldSpec::preset(e.path(), VERIFY_FIELD);
            let source = self.found(&e.url);
            self.verify
                .push(Flow::new(login_family(e.path()), e.url.clone(), spec, source));
        }
        self.add_page_flows(inventory);
        for e in inventory.endpoints.iter().filter(|e| is_password_reset(e)) {
            if self.password_reset.iter().any(|f| same_route(&f.url, &e.url)) {
                continue;
            }
            // The spec's body when it declares one: its field names, required fields, formats.
            let names: Vec<&str> = vocab::EMAIL_FIELDS
                .iter()
                .chain(vocab::USERNAME_FIELDS)
                .copied()
                .collect();
            let spec = self
                .spec_bodies
                .get(e.path())
                .and_then(|body| FieldSpec::from_schema(e.path(), body, &names))
                .unwrap_or_else(|| FieldSpec::preset(e.path(), vocab::EMAIL_FIELDS[0]));
            let source = self.found(&e.url);
            self.password_reset
                .push(Flow::new(login_family(e.path()), e.url.clone(), spec, source));
        }
    }

    /// How a detected flow at `url` was found: the spec, else a link the API gave, else
    /// a path discovery asked for.
    fn found(&self, url: &Url) -> FlowSource {
        if self.spec_paths.contains(url.path()) {
            return FlowSource::Spec;
        }
        match self.found_by.get(url) {
            Some(FoundBy::Link | FoundBy::Redirect) => FlowSource::Link,
            Some(FoundBy::Html) => FlowSource::Html,
            Some(FoundBy::Script) => FlowSource::Script,
            Some(FoundBy::Docs) => FlowSource::Docs,
            Some(FoundBy::Probe) => FlowSource::Probe,
            Some(FoundBy::Spec) => FlowSource::Spec,
            Some(FoundBy::Guess) | None => FlowSource::Path,
        }
    }

    fn add_logout(&mut self, fam: &'static str, url: Option<Url>, refresh_field: Option<&str>) {
        let Some(url) = url else { return };
        if self.logout.len() < MAX_LOGOUTS && !self.logout.iter().any(|f| same_route(&f.url, &url)) {
            let spec = LogoutSpec::preset(url.path(), refresh_field);
            let source = if fam == family::LINKED && !self.spec_paths.contains(url.path()) {
                FlowSource::Link
            } else {
                self.found(&url)
            };
            self.logout.push(Flow::new(fam, url, spec, source));
        }
    }

    fn add_refresh(&mut self, fam: &'static str, url: Option<Url>) {
        let Some(url) = url else { return };
        if !self.refresh.iter().any(|f| f.url == url) {
            let spec = RefreshSpec::preset(url.path());
            let source = self.found(&url);
            self.refresh.push(Flow::new(fam, url, spec, source));
        }
    }

    fn add_password_change(&mut self, fam: &'static str, url: Option<Url>) {
        let Some(url) = url else { return };
        if !self.password_change.iter().any(|f| f.url == url) {
            let spec = PasswordChangeSpec::preset(url.path());
            let source = self.found(&url);
            self.password_change.push(Flow::new(fam, url, spec, source));
        }
    }

    fn add_identity(&mut self, fam: &'static str, url: Option<Url>) {
        let Some(url) = url else { return };
        if !self.identity.iter().any(|f| f.url == url) {
            let spec = IdentitySpec::preset(url.path());
            let source = self.found(&url);
            self.identity.push(Flow::new(fam, url, spec, source));
        }
    }

    /// Lets the probe POST to every flow's URL: the flows are the only routes a scan
    /// without write probes sends POST to.
    pub fn grant_posts(&self, probe: &crate::probe::Probe) {
        for url in self.post_urls() {
            probe.allow_post(&url);
        }
    }

    /// Lets the probe POST to `url`, a form a link the target e-mailed leads to (`role`
    /// names it in the report's flow list, source `mail`).
    pub fn admit_mailed_form(&self, probe: &crate::probe::Probe, role: &'static str, url: &Url) {
        let path = recovery::templated_path(url);
        let mut mailed = self.mailed.lock().expect("mailed flows lock");
        if !mailed.iter().any(|(r, p)| *r == role && *p == path) {
            mailed.push((role, path));
        }
        probe.allow_post(url);
    }

    /// Every URL a flow POSTs to (the method policy allows POST there and nowhere else).
    pub fn post_urls(&self) -> Vec<Url> {
        let mut urls: Vec<Url> = Vec::new();
        urls.extend(self.login.iter().map(|f| f.url.clone()));
        urls.extend(self.refresh.iter().map(|f| f.url.clone()));
        urls.extend(self.logout.iter().map(|f| f.url.clone()));
        urls.extend(self.password_change.iter().map(|f| f.url.clone()));
        urls.extend(self.verify.iter().map(|f| f.url.clone()));
        urls.extend(self.password_reset.iter().map(|f| f.url.clone()));
        urls.extend(self.bridge.iter().map(|f| f.url.clone()));
        urls
    }

    /// The first login flow of `family`.
    pub fn login_of(&self, fam: &str) -> Option<&LoginFlow> {
        self.login.iter().find(|f| f.family == fam)
    }

    /// The login flow an identity came from, by URL.
    pub fn login_at(&self, url: &Url) -> Option<&LoginFlow> {
        self.login.iter().find(|f| &f.url == url)
    }

    /// The refresh flow that goes with `login`: a configured one, else the same family's
    /// (closest path first), else any.
    pub fn refresh_for(&self, login: &Flow<LoginSpec>) -> Option<&RefreshFlow> {
        let mut candidates: Vec<&RefreshFlow> = self.refresh.iter().collect();
        let prefix = parent(login.url.path());
        candidates.sort_by_key(|f| {
            (
                f.source != FlowSource::Configured,
                // A token endpoint's own refresh grant belongs to its password grant.
                !(f.spec.body == BodyEncoding::OAuth2 && f.url == login.url),
                f.family != login.family,
                !f.url.path().starts_with(&prefix),
            )
        });
        candidates.into_iter().next()
    }

    /// Logout flows that can end a credential `login` issued: configured ones, the same
    /// family's, and logouts the API links to. Session logins also take form-family ones.
    pub fn logouts_for(&self, login: &Flow<LoginSpec>) -> Vec<&LogoutFlow> {
        let session = login.spec.body == BodyEncoding::Form;
        self.logout
            .iter()
            .filter(|f| {
                f.source == FlowSource::Configured
                    || f.family == login.family
                    || matches!(f.family, family::LINKED | family::DECLARED)
                    || (session && matches!(f.family, family::DJANGO_FORM | family::FORM))
            })
            .collect()
    }

    /// Password-change flows to try for a credential `login` issued: configured, then the
    /// same family's, then the rest.
    pub fn password_changes_for(&self, login: &Flow<LoginSpec>) -> Vec<&PasswordChangeFlow> {
        let mut out: Vec<&PasswordChangeFlow> = self.password_change.iter().collect();
        out.sort_by_key(|f| (f.source != FlowSource::Configured, f.family != login.family));
        out
    }

    /// The report's list of flows.
    pub fn info(&self) -> Vec<FlowInfo> {
        fn line<S>(role: &'static str, f: &Flow<S>) -> FlowInfo {
            FlowInfo {
                role,
                family: f.family_label(),
                endpoint: f.url.path().to_string(),
                source: f.source,
                used: f.was_used(),
            }
        }
        let mut out = Vec::new();
        out.extend(self.login.iter().map(|f| line("login", f)));
        out.extend(self.refresh.iter().map(|f| line("refresh", f)));
        out.extend(self.logout.iter().map(|f| line("logout", f)));
        out.extend(self.password_change.iter().map(|f| line("password_change", f)));
        out.extend(self.identity.iter().map(|f| line("identity", f)));
        out.extend(self.verify.iter().map(|f| line("verify", f)));
        out.extend(self.password_reset.iter().map(|f| line("password_reset", f)));
        out.extend(self.bridge.iter().map(|f| line("bridge", f)));
        // Not flows: where the last-resort probe sent its one credential POST in vain.
        out.extend(self.refused_login_candidates.iter().map(|url| FlowInfo {
            role: "login_candidate",
            family: family::JSON_LOGIN,
            endpoint: url.path().to_string(),
            source: FlowSource::Probe,
            used: true,
        }));
        let mailed = self.mailed.lock().expect("mailed flows lock");
        out.extend(mailed.iter().map(|(role, path)| FlowInfo {
            role,
            family: family::FORM,
            endpoint: path.clone(),
            source: FlowSource::Mail,
            used: true,
        }));
        out
    }
}

/// The Django package a token endpoint's path points to.
fn login_family(path: &str) -> &'static str {
    let p = path.to_ascii_lowercase();
    let last = p.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    if p.contains("/o/token")
        || p.contains("oauth")
        || p.contains("connect/token")
        || p == "/token"
        || (last == "token" && !p.ends_with('/'))
    {
        family::OAUTH2
    } else if p.contains("rest-auth") || p.contains("rest_auth") {
        family::DJ_REST_AUTH
    } else if p.contains("knox") {
        family::KNOX
    } else if p.contains("token-auth") || p.contains("authtoken") || p.contains("token_auth") {
        family::AUTHTOKEN
    } else if p.contains("jwt") || p.contains("/token/") {
        family::SIMPLEJWT
    } else {
        family::JSON_LOGIN
    }
}

fn login_rank(fam: &str) -> u8 {
    match fam {
        family::SIMPLEJWT => 0,
        family::DJ_REST_AUTH => 1,
        family::KNOX => 2,
        family::OAUTH2 => 3,
        family::JSON_LOGIN => 4,
        _ => 5,
    }
}

/// The logouts discovery found under `prefix` (beside a login there).
fn logouts_beside(inventory: &Inventory, prefix: &str) -> Vec<Url> {
    inventory
        .of_kind(EndpointKind::Logout)
        .filter(|e| e.path().starts_with(prefix))
        .map(|e| e.url.clone())
        .collect()
}

/// `/a/b/login/` → `/a/b/`.
fn parent(path: &str) -> String {
    match path.trim_end_matches('/').rsplit_once('/') {
        Some((p, _)) => format!("{p}/"),
        None => "/".into(),
    }
}

fn sibling(target: &Target, prefix: &str, rest: &str) -> Option<Url> {
    target.join(&format!("{prefix}{rest}"))
}

/// The body field simplejwt's refresh, blacklist and dj-rest-auth's logout take.
const DEFAULT_REFRESH_FIELD: &str = "refresh";

/// The body field simplejwt's (and djoser's) verify endpoint takes.
const VERIFY_FIELD: &str = "token";

/// Whether an endpoint is a JSON password-reset request (POST only: `405` to GET), not
/// its confirm or done page.
fn is_password_reset(e: &crate::discovery::Endpoint) -> bool {
    let path = e.path().to_ascii_lowercase().replace(['-', '_'], "/");
    let named = path.contains("password/reset") || path.contains("reset/password");
    named
        && !path.contains("confirm")
        && !path.contains("complete")
        && !path.contains("done")
        && e.anonymous_ok().is_some_and(|r| r.status == 405 && !r.is_html())
}

/// Path fragments of logout endpoints.
const LOGOUT_WORDS: &[&str] = &["logout", "log-out", "log_out", "signout", "sign-out", "sign_out"];

/// Logout endpoints linked from the API's JSON bodies (discovery never requests them),
/// API paths first.
fn linked_logouts(target: &Target, inventory: &Inventory) -> Vec<Url> {
    let mut found: Vec<Url> = Vec::new();
    for e in &inventory.endpoints {
        for resp in e.anonymous_ok().into_iter().chain(e.authenticated.as_ref()) {
            if let Some(json) = resp.json() {
                collect_logout_links(&json, target, &mut found, 0);
            }
        }
    }
    found.sort_by_key(|u| !u.path().starts_with("/api"));
    found
}

fn collect_logout_links(value: &serde_json::Value, target: &Target, out: &mut Vec<Url>, depth: usize) {
    if depth > 8 {
        return;
    }
    match value {
        serde_json::Value::String(s) => {
            let url = if s.starts_with('/') && !s.starts_with("//") {
                target.join(s)
            } else if s.starts_with("http://") || s.starts_with("https://") {
                Url::parse(s).ok().filter(|u| target.same_origin(u))
            } else {
                None
            };
            if let Some(mut url) = url {
                url.set_fragment(None);
                url.set_query(None);
                let path = url.path().to_ascii_lowercase();
                if LOGOUT_WORDS.iter().any(|w| path.contains(w)) && !out.contains(&url) {
                    out.push(url);
                }
            }
        }
        serde_json::Value::Array(items) => items
            .iter()
            .for_each(|v| collect_logout_links(v, target, out, depth + 1)),
        serde_json::Value::Object(map) => map
            .values()
            .for_each(|v| collect_logout_links(v, target, out, depth + 1)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_endpoints_are_told_apart_by_package() {
        assert_eq!(login_family("/api/token/"), family::SIMPLEJWT);
        assert_eq!(login_family("/auth/jwt/create/"), family::SIMPLEJWT);
        assert_eq!(login_family("/dj-rest-auth/login/"), family::DJ_REST_AUTH);
        assert_eq!(login_family("/api/knox/login/"), family::KNOX);
        assert_eq!(login_family("/api-token-auth/"), family::AUTHTOKEN);
        assert_eq!(login_family("/api/auth/login/"), family::JSON_LOGIN);
    }

    #[test]
    fn only_djangos_families_are_django() {
        for f in [
            family::SIMPLEJWT,
            family::AUTHTOKEN,
            family::KNOX,
            family::DJANGO_FORM,
            family::DJANGO_ADMIN,
        ] {
            assert!(family::is_django(f), "{f}");
        }
        for f in [
            family::CONFIGURED,
            family::JSON_LOGIN,
            family::FORM,
            family::OAUTH2,
            family::LINKED,
        ] {
            assert!(!family::is_django(f), "{f}");
        }
    }

    #[test]
    fn the_parent_of_a_login_path_keeps_its_slash() {
        assert_eq!(parent("/dj-rest-auth/login/"), "/dj-rest-auth/");
        assert_eq!(parent("/login/"), "/");
    }

    #[test]
    fn configured_flows_must_stay_on_the_target() {
        let target = Target::parse("http://127.0.0.1:8000/").unwrap();
        let specs: FlowSpecs = toml::from_str("[logout]\npath = \"https://evil.example/logout/\"").unwrap();
        let err = Flows::resolve(&specs, None, None, &target, &Inventory::default(), None).unwrap_err();
        assert_eq!(err.role, "logout");
        let specs: FlowSpecs = toml::from_str("[logout]\npath = \"/api/logout/\"").unwrap();
        let flows = Flows::resolve(&specs, None, None, &target, &Inventory::default(), None).unwrap();
        assert_eq!(flows.logout[0].source, FlowSource::Configured);
        assert_eq!(flows.post_urls()[0].path(), "/api/logout/");
    }

    #[test]
    fn the_specs_logins_become_spec_flows_with_its_field_names() {
        let text = r#"
openapi: 3.0.3
components:
  securitySchemes:
    oauth: {type: oauth2, flows: {password: {tokenUrl: /token, scopes: {}}}}
paths:
  /v1/auth/signin:
    post:
      requestBody:
        content:
          application/json:
            schema: {properties: {login: {type: string}, pass: {type: string}}}
"#;
        let api = ApiSpec::from_text(text, "s").unwrap();
        let target = Target::parse("http://127.0.0.1:8000/").unwrap();
        let flows = Flows::resolve(
            &FlowSpecs::default(),
            None,
            None,
            &target,
            &Inventory::default(),
            Some(&api),
        )
        .unwrap();
        let oauth = flows
            .login
            .iter()
            .find(|f| f.path() == "/token")
            .expect("the tokenUrl login");
        assert_eq!(
            (oauth.family, oauth.source, oauth.spec.body),
            (family::OAUTH2, FlowSource::Spec, BodyEncoding::OAuth2)
        );
        let custom = flows
            .login
            .iter()
            .find(|f| f.path() == "/v1/auth/signin")
            .expect("the body login");
        assert_eq!((custom.family, custom.source), (family::JSON_LOGIN, FlowSource::Spec));
        assert_eq!(custom.current_shape().username_field, "login");
        assert_eq!(custom.current_shape().password_field, "pass");
        assert!(flows.post_urls().iter().any(|u| u.path() == "/v1/auth/signin"));
    }

    #[tokio::test]
    async fn a_configured_password_reset_comes_first_with_its_field_and_encoding() {
        let specs: FlowSpecs =
            toml::from_str("[password_reset]\npath = \"/auth/forgot\"\nfield = \"mail\"\nbody = \"form\"\n").unwrap();
        let target = Target::parse("http://127.0.0.1:9/").unwrap();
        let flows = Flows::resolve(&specs, None, None, &target, &Inventory::default(), None).unwrap();
        let reset = &flows.password_reset[0];
        assert_eq!(
            (reset.path(), reset.spec.field.as_str(), reset.spec.form),
            ("/auth/forgot", "mail", true)
        );
        assert_eq!(reset.source, FlowSource::Configured);
        assert!(toml::from_str::<FlowSpecs>("[password_reset]\npath = \"/x\"\nemail = \"e\"\n").is_err());
    }

    #[tokio::test]
    async fn a_password_reset_takes_the_field_and_the_required_fields_its_spec_declares() {
        use crate::discovery::Endpoint;
        use crate::probe::{Probe, ProbeRequest, ProbeSettings, ScriptedAnswer};
        let text = r#"
openapi: 3.0.3
paths:
  /api/password/reset/:
    post:
      requestBody:
        content:
          application/json:
            schema:
              required: [username, channel]
              properties: {username: {type: string}, channel: {type: string, enum: [mail, sms]}}
"#;
        let api = ApiSpec::from_text(text, "s").unwrap();
        let target = Target::parse("http://127.0.0.1:8000/").unwrap();
        let probe = Probe::new(ProbeSettings::default())
            .unwrap()
            .with_transport(std::sync::Arc::new(|_: &_| {
                ScriptedAnswer::json(405, serde_json::json!({"detail": "Method \"GET\" not allowed."}))
            }));
        let url = target.join("/api/password/reset/").unwrap();
        let answer = probe.send(ProbeRequest::get(url.clone())).await;
        let inventory = Inventory {
            endpoints: vec![Endpoint {
                kind: crate::discovery::classify(&url, answer.as_ref().ok(), &detect::AuthRecognizer),
                url,
                anonymous: answer,
                authenticated: None,
                declared: false,
                found_by: crate::discovery::FoundBy::Guess,
            }],
            ..Inventory::default()
        };
        let flows = Flows::resolve(&FlowSpecs::default(), None, None, &target, &inventory, Some(&api)).unwrap();
        let reset = flows.password_reset.first().expect("the reset flow");
        assert_eq!(reset.spec.field, "username");
        assert!(!reset.spec.takes_email());
        let req = reset.request("authprobe-rl-1");
        let body: serde_json::Value = serde_json::from_str(req.body.as_deref().unwrap()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"username": "authprobe-rl-1", "channel": "mail"})
        );
    }
}
