//! Driving a flow: the requests each role sends and how its answer is read.

use std::sync::Arc;

use super::form::{self, LoginForm};
use super::identity::LoginKind;
use super::spec::BodyEncoding;
use super::vocab::{CSRF_COOKIE, CSRF_FORM_FIELD, CSRF_HEADER, DOUBLE_SUBMIT_HEADER, PASSWORD_FIELDS, USERNAME_FIELDS};
use super::{extract, present};
use super::{FieldSpec, Flow, LoginSpec, LogoutSpec, PasswordChangeSpec, RefreshSpec};
use crate::auth::identity::{csrf_field, refused, Credential, Identity, LoginError, Presentation};
use crate::cookies::CookieJar;
use crate::probe::{Probe, ProbeError, ProbeRequest, ProbeResponse};
use crate::target::UserCredential;

/// How a check's own login attempt is sent (bursts, fixation, login CSRF, open-redirect
/// tests). Built with [`AttemptOptions::new`] and the `with_…` methods.
#[derive(Debug, Clone)]
pub struct AttemptOptions {
    /// The cookies the attempt sends and keeps (a pre-login session id, say).
    jar: Arc<CookieJar>,
    /// For a form login: fetch the form first and send its CSRF token and a same-origin
    /// `Referer`, as the site's own page would. `false` sends neither, as a form on
    /// another site would.
    same_site: bool,
    /// Query parameters added to the login URL (a form posts them as fields too): `next`.
    query: Vec<(String, String)>,
    /// Extra request headers (a spoofed `X-Forwarded-For`).
    headers: Vec<(String, String)>,
    /// A form page read once by [`Flow::prepare_attempts`] (its hidden fields: the CSRF
    /// token), so a burst does not load the page before every attempt.
    page_form: Option<LoginForm>,
    /// The attempt measures the login's limits: a throttled answer is its result.
    measures_throttle: bool,
}

/// What a browser adds to a form POST that a page on another site sends.
pub const CROSS_SITE_HEADERS: &[(&str, &str)] = &[
    ("Origin", "https://evil.authprobe.invalid"),
    ("Sec-Fetch-Site", "cross-site"),
];

impl Default for AttemptOptions {
    fn default() -> Self {
        AttemptOptions {
            jar: Arc::new(CookieJar::new()),
            same_site: true,
            query: Vec::new(),
            headers: Vec::new(),
            page_form: None,
            measures_throttle: false,
        }
    }
}

impl AttemptOptions {
    pub fn new() -> AttemptOptions {
        AttemptOptions::default()
    }

    /// Sends and keeps cookies in `jar`.
    pub fn with_jar(mut self, jar: Arc<CookieJar>) -> AttemptOptions {
        self.jar = jar;
        self
    }

    /// Sends the attempt as a form on another site would: no CSRF token, no `Referer`,
    /// and the foreign `Origin` and `Sec-Fetch-Site` a browser adds to a cross-site POST.
    pub fn cross_site(mut self) -> AttemptOptions {
        self.same_site = false;
        self.page_form = None;
        self.headers
            .extend(CROSS_SITE_HEADERS.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        self
    }

    /// Adds a query parameter to the login URL (posted as a form field too).
    pub fn with_query(mut self, name: &str, value: &str) -> AttemptOptions {
        self.query.push((name.to_string(), value.to_string()));
        self
    }

    /// Adds a request header.
    pub fn with_header(mut self, name: &str, value: &str) -> AttemptOptions {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Marks the attempt as one that measures the login's limits: a throttled answer is
    /// its result, never waited out (see [`crate::throttle`]).
    pub fn measuring_throttle(mut self) -> AttemptOptions {
        self.measures_throttle = true;
        self
    }

    /// The cookie jar the attempt uses.
    pub fn jar(&self) -> &Arc<CookieJar> {
        &self.jar
    }
}

/// One login attempt's answer, with the form page fetched before it (form logins).
#[derive(Debug)]
pub struct AttemptAnswer {
    pub response: ProbeResponse,
    pub page: Option<ProbeResponse>,
    pub jar: Arc<CookieJar>,
    /// The cookie names the jar held before the login request.
    before: Vec<String>,
}

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

    /// A POST of a JSON body that does not parse, for a login that takes JSON: what a
    /// framework without an error handler answers with its parser's stack trace. It names
    /// no account, so no throttle counts it against one.
    pub fn malformed_request(&self) -> Option<ProbeRequest> {
        if self.current_shape().body != BodyEncoding::Json {
            return None;
        }
        self.mark_used();
        let mut req = ProbeRequest::post_json(self.url.clone(), &serde_json::json!({}));
        req.body = Some("{\"authprobe\": ".into());
        Some(req)
    }

    /// [`Flow::attempt_request`] sent to `url`, the same endpoint on another scheme or port
    /// (the plain-HTTP twin of an HTTPS login): POST is allowed there because it is this
    /// flow's path; any other path gets `None`.
    pub fn attempt_request_over(
        &self,
        probe: &Probe,
        url: &url::Url,
        username: &str,
        password: &str,
    ) -> Option<ProbeRequest> {
        if url.path() != self.url.path() || url.host_str() != self.url.host_str() {
            return None;
        }
        let mut req = self.attempt_request(username, password)?;
        probe.allow_post(url);
        req.url = url.clone();
        Some(req)
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
        if matches!(self.source, super::FlowSource::Configured | super::FlowSource::Spec) || !self.learns_fields() {
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
        let answer = self
            .send_attempt(probe, shape, &user.username, &user.password, AttemptOptions::default())
            .await?;
        let identity = self.identity_from(user, answer)?;
        // Every credential of the identity, cookie values too short for the answer's own
        // registration included.
        for secret in identity.secrets() {
            probe.redactor().add_secret(&secret);
        }
        Ok(identity)
    }

    /// Sends one login attempt in the shape logins use, as `options` say: the request a
    /// check needs when the way the login is sent is what it tests. POST goes only to this
    /// flow's URL (with `options.query`).
    pub async fn attempt_with(
        &self,
        probe: &Probe,
        username: &str,
        password: &str,
        options: AttemptOptions,
    ) -> Result<AttemptAnswer, ProbeError> {
        self.mark_used();
        let shape = self.current_shape();
        self.send_attempt(probe, &shape, username, password, options).await
    }

    async fn send_attempt(
        &self,
        probe: &Probe,
        shape: &LoginShape,
        username: &str,
        password: &str,
        options: AttemptOptions,
    ) -> Result<AttemptAnswer, ProbeError> {
        let AttemptOptions {
            jar,
            same_site,
            query,
            headers,
            page_form,
            measures_throttle,
        } = options;
        let mut url = self.url.clone();
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query.iter());
        }
        let mut page = None;
        let req = match shape.body {
            BodyEncoding::Json | BodyEncoding::OAuth2 => {
                let mut req = self.body_request(shape, username, password);
                req.url = url.clone();
                req
            }
            BodyEncoding::Form => {
                // The page as a browser on the site sees it (its cookies, its hidden fields,
                // the CSRF token among them); a cross-site form reads it only for the names.
                let form = match (same_site, page_form) {
                    (true, Some(form)) => form,
                    (true, None) => {
                        let (form, got) = self.read_page(probe, &self.page_url(&url), &jar).await?;
                        page = Some(got);
                        form
                    }
                    (false, _) if self.names_known() => LoginForm::default(),
                    (false, _) => {
                        let page_url = self.page_url(&url);
                        let (form, _) = self.read_page(probe, &page_url, &Arc::new(CookieJar::new())).await?;
                        LoginForm {
                            hidden: Vec::new(),
                            ..form
                        }
                    }
                };
                let shape = self.shape_for_form(shape, &form);
                let mut fields = form.hidden.clone();
                fields.retain(|(k, _)| !query.iter().any(|(q, _)| q == k));
                fields.extend(self.fields(&shape, username, password));
                fields.extend(query.iter().cloned());
                let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                let req = ProbeRequest::post_form(url.clone(), &pairs);
                // Django checks the Referer of HTTPS form posts against the host.
                if same_site {
                    req.header("Referer", self.page_url(&url).as_str())
                } else {
                    req
                }
            }
        };
        let before = jar.names();
        let mut req = req.with_jar(jar.clone());
        for (name, value) in &headers {
            req = req.header(name, value.as_str());
        }
        req.measures_throttle = measures_throttle;
        let response = probe.send(req).await?;
        register_credentials(probe, &response);
        Ok(AttemptAnswer {
            response,
            page,
            jar,
            before,
        })
    }

    /// Options for a run of attempts: a form login's page is loaded once, here, and its
    /// cookies and hidden fields (the CSRF token) serve every attempt sent with the
    /// options returned.
    pub async fn prepare_attempts(&self, probe: &Probe) -> Result<AttemptOptions, ProbeError> {
        let options = AttemptOptions::new();
        if !self.takes_form() {
            return Ok(options);
        }
        let (form, _) = self.read_page(probe, &self.page_url(&self.url), &options.jar).await?;
        Ok(AttemptOptions {
            page_form: Some(form),
            ..options
        })
    }

    /// The page a form login's form is read from: the spec's `page` (a form served on
    /// another page than the one it posts to), else `url` itself.
    fn page_url(&self, url: &url::Url) -> url::Url {
        self.spec
            .page
            .as_deref()
            .and_then(|p| self.url.join(p).ok())
            .filter(|p| p.origin() == self.url.origin())
            .unwrap_or_else(|| url.clone())
    }

    /// Loads the form page with `jar` and reads its form. Django's CSRF token comes from
    /// its cookie when the page carries no field for it.
    async fn read_page(
        &self,
        probe: &Probe,
        url: &url::Url,
        jar: &Arc<CookieJar>,
    ) -> Result<(LoginForm, ProbeResponse), ProbeError> {
        let page = probe.send(ProbeRequest::get(url.clone()).with_jar(jar.clone())).await?;
        let mut form = form::read(&page.text());
        if !form.hidden.iter().any(|(k, _)| k == CSRF_FORM_FIELD) {
            if let Some(token) = csrf_field(&page.text()).or_else(|| jar.get(CSRF_COOKIE)) {
                form.hidden.insert(0, (CSRF_FORM_FIELD.into(), token));
            }
        }
        Ok((form, page))
    }

    /// Whether the form's field names are settled: configured, or learned already.
    fn names_known(&self) -> bool {
        self.source == super::FlowSource::Configured || self.learned.lock().expect("shape lock").is_some()
    }

    /// The shape with the field names the page's form uses (a detected form only; a
    /// configured one keeps its own), remembered for later attempts.
    fn shape_for_form(&self, shape: &LoginShape, form: &LoginForm) -> LoginShape {
        if self.source == super::FlowSource::Configured {
            return shape.clone();
        }
        let mut learned = shape.clone();
        if let Some(name) = &form.username_field {
            learned.username_field = name.clone();
        }
        if let Some(name) = &form.password_field {
            learned.password_field = name.clone();
        }
        if form.password_field.is_some() {
            self.set_shape(learned.clone());
        }
        learned
    }

    /// Whether this login posts an HTML form (with Django's CSRF token), not JSON.
    pub fn takes_form(&self) -> bool {
        self.current_shape().body == BodyEncoding::Form
    }

    /// The identity an attempt's answer logs in, or why it logs nobody in.
    pub fn identity_from(&self, user: &UserCredential, answer: AttemptAnswer) -> Result<Identity, LoginError> {
        self.read_login_answer(user, answer.response, answer.jar, &answer.before)
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
        let from_body = read(&spec.refresh).or_else(|| body.refresh.clone());
        let (refresh, refresh_cookie) = match (from_body, cookie(&spec.refresh_cookie), &cookies.refresh) {
            (Some(r), _, _) => (Some(r), None),
            (None, Some(r), _) => (Some(r), spec.refresh_cookie.clone()),
            (None, None, Some((name, value))) => (Some(value.clone()), Some(name.clone())),
            (None, None, None) => (None, None),
        };
        // A JWT kept in a cookie is presented as that cookie.
        let cookie_jwt = match (&spec.access_cookie, &access) {
            (Some(name), Some(value)) if read(&spec.access).is_none() => Some((name.clone(), value.clone())),
            _ if access.is_none() && token.is_none() => cookies.access_jwt.clone(),
            _ => None,
        };
        // A form login that redirects away from itself, holding a session cookie the page
        // issued before (express-session keeps the id and sends no new cookie), succeeded.
        let page = self.page_url(&self.url);
        let redirected_away = resp.is_redirect()
            && resp.location().is_some_and(|l| {
                let to = l.path().trim_end_matches('/');
                to != self.url.path().trim_end_matches('/') && to != page.path().trim_end_matches('/')
            });
        let session = match &spec.session_cookie {
            Some(name) => jar.get(name).is_some(),
            None => {
                cookies.session
                    || (spec.body == BodyEncoding::Form
                        && redirected_away
                        && jar.names().iter().any(|n| super::vocab::is_session_cookie(n)))
            }
        };
        // A form login that lands back on its own form (a 200 showing it again, or a
        // redirect to it) failed, whatever cookies it set.
        if spec.body == BodyEncoding::Form
            && ((resp.is_success() && shows_password_form(&resp)) || (resp.is_redirect() && !redirected_away))
        {
            return Err(refused(user, &self.url, &resp));
        }
        if json.get("expiry").is_some() && token.is_some() {
            let _ = self.seen_as.set(super::family::KNOX);
        }
        let configured = configured_presentation(spec).or_else(|| self.settled_presentation());
        // The body field the token came from (`session_token` → `X-Session-Token`), and
        // the spec's key schemes: where settling looks first, unless it is settled already.
        let token_field = match (&access, &token) {
            (Some(a), _) if body.access_jwt.as_ref() == Some(a) => body.access_key.clone(),
            (None, Some(t)) if body.opaque.as_ref() == Some(t) => body.opaque_key.clone(),
            _ => None,
        };
        let declared_presentations = if configured.is_none() {
            self.declared_presentations()
        } else {
            Vec::new()
        };
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
            refresh_cookie,
            token_field,
            declared_presentations,
        })
    }

    /// Whether `[flows.login]` says how the token is presented (else the scan learns it).
    /// Remembers how the API took a token this flow issued (settled against the API by
    /// the first login): every later login through the flow presents its token so.
    pub fn settle_presentation(&self, presentation: &Presentation) {
        *self.settled.lock().expect("presentation lock") = Some(presentation.clone());
    }

    fn settled_presentation(&self) -> Option<Presentation> {
        self.settled.lock().expect("presentation lock").clone()
    }

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
        self.refresh_held(probe, refresh_token, None).await
    }

    /// Presents `refresh_token` in its body field, or, when the login set it as the
    /// cookie `cookie`, as that cookie; reads the new tokens from the body or the cookies
    /// the answer sets.
    pub async fn refresh_held(
        &self,
        probe: &Probe,
        refresh_token: &str,
        cookie: Option<&str>,
    ) -> Result<Refreshed, ProbeError> {
        let req = self.refresh_request_held(refresh_token, cookie);
        let response = probe.send(req).await?;
        register_credentials(probe, &response);
        let json = response.json().filter(|_| response.is_success()).unwrap_or_default();
        let set = extract::from_cookies(&response.set_cookies(), &[]);
        let ok = response.is_success();
        Ok(Refreshed {
            access: self
                .spec
                .access
                .first_str(&json)
                .or_else(|| set.access_jwt.clone().filter(|_| ok).map(|(_, v)| v)),
            refresh: self
                .spec
                .refresh
                .first_str(&json)
                .or_else(|| set.refresh.clone().filter(|_| ok).map(|(_, v)| v)),
            response,
        })
    }

    /// The refresh request for `refresh_token`, in the body or as the cookie `cookie`.
    pub fn refresh_request_held(&self, refresh_token: &str, cookie: Option<&str>) -> ProbeRequest {
        match cookie {
            Some(name) => {
                self.mark_used();
                let jar = Arc::new(CookieJar::new());
                jar.set(name, refresh_token);
                ProbeRequest::post_json(self.url.clone(), &serde_json::json!({})).with_jar(jar)
            }
            None => self.refresh_request(refresh_token),
        }
    }
}

impl Flow<RefreshSpec> {
    /// The refresh request for `refresh_token` in the body field, for checks that send
    /// invalid ones (bursts); [`Flow::refresh`] sends and reads a real one.
    pub fn refresh_request(&self, refresh_token: &str) -> ProbeRequest {
        self.mark_used();
        let mut fields: Vec<(String, String)> = Vec::new();
        if self.spec.body == BodyEncoding::OAuth2 {
            fields.push(("grant_type".into(), "refresh_token".into()));
        }
        fields.push((self.spec.field.clone(), refresh_token.to_string()));
        fields.extend(self.spec.extra.iter().map(|(k, v)| (k.clone(), v.clone())));
        match self.spec.body {
            BodyEncoding::Json => {
                let map: serde_json::Map<String, serde_json::Value> =
                    fields.into_iter().map(|(k, v)| (k, v.into())).collect();
                ProbeRequest::post_json(self.url.clone(), &map.into())
            }
            BodyEncoding::Form | BodyEncoding::OAuth2 => {
                let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                ProbeRequest::post_form(self.url.clone(), &pairs).header("Accept", "application/json")
            }
        }
    }
}

impl Flow<FieldSpec> {
    /// The request that sends `value` in the flow's field (no credential).
    pub fn request(&self, value: &str) -> ProbeRequest {
        self.mark_used();
        let mut fields = serde_json::Map::new();
        fields.insert(self.spec.field.clone(), value.into());
        for (name, extra) in &self.spec.extra {
            fields.insert(name.clone(), extra.clone());
        }
        if self.spec.form {
            let text = |v: &serde_json::Value| match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let pairs: Vec<(String, String)> = fields.iter().map(|(k, v)| (k.clone(), text(v))).collect();
            let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let req = ProbeRequest::post_form(self.url.clone(), &pairs);
            return match &self.spec.session {
                Some(jar) => req.with_jar(jar.clone()).header("Referer", self.url.as_str()),
                None => req,
            };
        }
        ProbeRequest::post_json(self.url.clone(), &serde_json::Value::Object(fields))
    }

    /// Sends `value` as a browser would: the request (with `headers`), and for a form
    /// driven with the page's session, the same-origin page its redirect leads to, fetched
    /// with that session. Server-rendered forms answer every request with the same
    /// redirect and show what happened on the next page (Laravel's and Rails' flash
    /// messages); that page is the answer.
    pub async fn send(
        &self,
        probe: &Probe,
        value: &str,
        headers: &[(&str, &str)],
    ) -> Result<ProbeResponse, ProbeError> {
        let mut req = self.request(value).measuring_throttle();
        for (name, v) in headers {
            req = req.header(name, *v);
        }
        let resp = probe.send(req).await?;
        let (Some(jar), true) = (&self.spec.session, resp.is_redirect()) else {
            return Ok(resp);
        };
        match resp.location() {
            Some(next) if next.origin() == self.url.origin() && !crate::discovery::changes_state(next.path()) => {
                let shown = probe.send(ProbeRequest::get(next).with_jar(jar.clone())).await?;
                Ok(if shown.is_success() { shown } else { resp })
            }
            _ => Ok(resp),
        }
    }
}

impl Flow<LogoutSpec> {
    /// Whether the logout takes a refresh token in its body (simplejwt's blacklist,
    /// dj-rest-auth's logout).
    pub fn takes_refresh(&self) -> bool {
        self.spec.refresh_field.is_some()
    }

    /// The logout request for `refresh_token` alone, without any credential: what a
    /// burst of invalid tokens against a blacklist endpoint sends.
    pub fn refresh_only_request(&self, refresh_token: &str) -> ProbeRequest {
        self.mark_used();
        let field = self.spec.refresh_field.clone().unwrap_or_default();
        ProbeRequest::post_json(self.url.clone(), &serde_json::json!({ field: refresh_token }))
    }

    /// Logs `identity` out: its credential, and its refresh token in the body when the
    /// endpoint takes one. Success is a 2xx or a redirect.
    pub async fn log_out(&self, probe: &Probe, identity: &Identity) -> Result<ProbeResponse, ProbeError> {
        self.mark_used();
        let mut fields: Vec<(String, String)> = Vec::new();
        // A sign-out form is driven as a browser drives it, with a copy of the identity's
        // cookies: the page it reads first and the sign-out's answer set cookies of their
        // own, and the identity keeps what its login issued (what a revocation check
        // replays afterwards).
        let browsed;
        let identity = match (&self.spec.page, &identity.credential) {
            (Some(_), Credential::Session(jar)) => {
                let copy = Arc::new(CookieJar::new());
                for name in jar.names() {
                    if let Some(value) = jar.get(&name) {
                        copy.set(&name, &value);
                    }
                }
                browsed = Identity {
                    credential: Credential::Session(copy.clone()),
                    session: Some(copy),
                    ..identity.clone()
                };
                &browsed
            }
            _ => identity,
        };
        if let Some(page) = self.spec.page.as_deref().and_then(|p| self.url.join(p).ok()) {
            fields = self.sign_out_fields(probe, page, identity).await?;
        }
        if let (Some(field), Some(refresh)) = (&self.spec.refresh_field, &identity.refresh_jwt) {
            fields.push((field.clone(), refresh.clone()));
        }
        let req = body_request(&self.url, self.spec.body, fields, identity);
        let req = match &self.spec.page {
            Some(page) => req.header(
                "Referer",
                self.url.join(page).map(|u| u.to_string()).unwrap_or_default(),
            ),
            None => req,
        };
        probe.send(req).await
    }

    /// The hidden fields of the sign-out form on `page` as `identity` sees it now (its
    /// per-session CSRF token, a `_method=delete` override): the form whose target is
    /// this flow's URL. A page that no longer shows it gives none.
    async fn sign_out_fields(
        &self,
        probe: &Probe,
        page: url::Url,
        identity: &Identity,
    ) -> Result<Vec<(String, String)>, ProbeError> {
        if page.origin() != self.url.origin() {
            return Ok(Vec::new());
        }
        let resp = probe.send(identity.authorize(ProbeRequest::get(page.clone()))).await?;
        let forms = crate::html::forms(&resp.text());
        Ok(forms
            .iter()
            .find(|f| f.posts() && f.target(&page).is_some_and(|t| t.path() == self.url.path()))
            .map(|f| f.hidden())
            .unwrap_or_default())
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

/// Registers with the probe's redactor every credential an answer of a flow carries: the
/// tokens in its body (at any depth, as a login's are read) and the cookies it sets. Every
/// login attempt and refresh goes through here, so no credential a flow obtains reaches a
/// report, a log or the history unredacted, whichever check asked for it.
fn register_credentials(probe: &Probe, response: &ProbeResponse) {
    let redactor = probe.redactor();
    for cookie in response.set_cookies() {
        // A cleared cookie, a flag or a counter is no credential (and would shred text).
        if cookie.value.len() >= MIN_COOKIE_SECRET {
            redactor.add_secret(&cookie.value);
        }
    }
    if let Some(json) = response.json() {
        let found = extract::from_body(&json);
        for token in [found.access_jwt, found.opaque, found.refresh].into_iter().flatten() {
            redactor.add_secret(&token);
        }
    }
}

/// Shortest cookie value taken for a credential when redacting (session ids and tokens are
/// far longer; CSRF and flag cookies may be shorter and are not secrets of the account).
const MIN_COOKIE_SECRET: usize = 8;

/// A POST carrying `fields` and the identity's credential. Credentials held in cookies also
/// carry the CSRF token the site's own pages would send: Django's `csrftoken` (header and,
/// for forms, field) or another stack's double-submit cookie (Flask-JWT-Extended's
/// `csrf_access_token` as `X-CSRF-TOKEN`), with a same-origin `Referer`.
fn body_request(
    url: &url::Url,
    body: BodyEncoding,
    mut fields: Vec<(String, String)>,
    identity: &Identity,
) -> ProbeRequest {
    let jar = match &identity.credential {
        Credential::Session(jar) => Some(jar),
        _ => identity.session.as_ref(),
    };
    let csrf = jar.and_then(|j| j.get(CSRF_COOKIE));
    // Another stack's double-submit cookie: the access token's own first.
    let double_submit = jar.filter(|_| csrf.is_none()).and_then(|j| {
        let mut names: Vec<String> = j
            .names()
            .into_iter()
            .filter(|n| n.to_ascii_lowercase().contains("csrf"))
            .collect();
        names.sort_by_key(|n| !n.to_ascii_lowercase().contains("access"));
        names.first().and_then(|n| j.get(n))
    });
    let mut req = match body {
        BodyEncoding::Json | BodyEncoding::OAuth2 => {
            let map: serde_json::Map<String, serde_json::Value> =
                fields.into_iter().map(|(k, v)| (k, v.into())).collect();
            ProbeRequest::post_json(url.clone(), &map.into())
        }
        BodyEncoding::Form => {
            if let Some(token) = &csrf {
                fields.insert(0, (CSRF_FORM_FIELD.into(), token.clone()));
            }
            let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            ProbeRequest::post_form(url.clone(), &pairs)
        }
    };
    if let Some(token) = csrf {
        req = req.header(CSRF_HEADER, token).header("Referer", url.as_str());
    } else if let Some(token) = double_submit {
        req = req.header(DOUBLE_SUBMIT_HEADER, token).header("Referer", url.as_str());
    }
    identity.authorize(req)
}
