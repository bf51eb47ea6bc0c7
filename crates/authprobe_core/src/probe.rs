//! The single HTTP gateway. Every request of a scan goes through [`Probe::send`], which
//! enforces the request budget, the rate limit, timeouts, the body-size cap and the method
//! policy, keeps explicit per-session cookie jars, never follows redirects, and records
//! each request/response as an [`Exchange`].

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use std::collections::{HashMap, HashSet};
use std::error::Error as _;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use url::Url;

use crate::cookies::{CookieJar, SetCookie};
use crate::exchange::{Exchange, ExchangeId, RecordedRequest, RecordedResponse, RECORDED_BODY_LIMIT};
use crate::exchange_log::{ExchangeLog, ExchangeLogSettings, ExchangeLogStats, Recorded};
use crate::in_flight::{InFlightGauge, InFlightStats};
use crate::interrupt::Interrupt;
use crate::redact::Redactor;
use crate::throttle::{self, Throttle};

/// Which requests get a free concurrency slot first, when several wait for one. A scan
/// lasts as long as its longest chain of requests that each wait on the answer before
/// (48 token samples, logins that the offline cracking waits for), so those go first, and
/// a per-endpoint loop's hundreds of independent requests go last: they fill the slots
/// nobody else wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// A long chain the scan's length depends on.
    Chain,
    /// Everything else (the default).
    Ordinary,
    /// One independent request per endpoint, many at once.
    Bulk,
}

tokio::task_local! {
    /// The lane of the running future's requests ([`in_lane`]).
    static LANE: Lane;
}

tokio::task_local! {
    /// Set while a check undoes what it changed on a test account ([`restoring`]).
    static RESTORING: ();
}

/// Runs `work`, a check's undoing of what it changed on a test account (its password set
/// back): its requests are sent even after the scan was interrupted, so a Ctrl-C in the
/// middle of a password test never leaves the account changed. The budget still applies.
pub fn restoring<F: std::future::Future>(work: F) -> tokio::task::futures::TaskLocalFuture<(), F> {
    RESTORING.scope((), work)
}

fn is_restoring() -> bool {
    RESTORING.try_with(|_| ()).is_ok()
}

/// Runs `work` with its requests in `lane`.
pub fn in_lane<F: std::future::Future>(lane: Lane, work: F) -> tokio::task::futures::TaskLocalFuture<Lane, F> {
    LANE.scope(lane, work)
}

/// Limits and behaviour of the probe.
#[derive(Debug, Clone)]
pub struct ProbeSettings {
    /// Hard cap on requests sent in the whole scan.
    pub max_requests: usize,
    /// Requests per second; `0` means unlimited.
    pub rate_per_sec: u32,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Whole-request timeout (connect, headers and body); a timeout is not retried.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Retries of a GET/HEAD/OPTIONS that failed to connect or lost its connection before
    /// the answer (POST never is); each retry counts against `max_requests`.
    pub retries: u32,
    /// Wait before the first retry, doubled for each further one.
    pub retry_backoff: Duration,
    /// Response bytes read at most; the rest is discarded and the body marked truncated.
    pub max_body_bytes: usize,
    /// Skip TLS certificate verification (`--insecure`).
    pub insecure: bool,
    /// Send GET and HEAD only (the `safe` profile): no OPTIONS, no POST at all.
    pub read_only: bool,
    /// Write probes are on (`--allow-writes` against a target declared non-production):
    /// PUT, PATCH, DELETE and POST outside the auth flows may be sent, but only to the
    /// URLs granted with [`Probe::allow_write`]. Off, no grant is ever recorded.
    pub allow_writes: bool,
    pub user_agent: String,
    /// The longest single wait a throttled answer (429, or 503 with `Retry-After`) may
    /// ask for; a longer one is not waited out and the throttled answer stands.
    pub throttle_max_wait: Duration,
    /// The most the whole scan waits on throttles; spent, throttled answers stand.
    pub throttle_total_wait: Duration,
    /// Send every request through this HTTP(S) proxy (`--proxy`, e.g. Burp or ZAP). Without
    /// one, `HTTP_PROXY`/`HTTPS_PROXY`/`ALL_PROXY` (and `NO_PROXY`) are honoured.
    pub proxy: Option<Url>,
    /// Told of every request sent, redacted (`--debug`).
    pub request_log: Option<RequestLog>,
    /// How many exchanges stay in memory before the rest spill to a temporary file.
    pub exchange_log: ExchangeLogSettings,
}

impl Default for ProbeSettings {
    fn default() -> Self {
        ProbeSettings {
            max_requests: 1500,
            rate_per_sec: 0,
            concurrency: 8,
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            retries: 1,
            retry_backoff: Duration::from_millis(250),
            max_body_bytes: 2 * 1024 * 1024,
            insecure: false,
            read_only: false,
            allow_writes: false,
            user_agent: concat!("authprobe/", env!("CARGO_PKG_VERSION")).to_string(),
            throttle_max_wait: Duration::from_secs(10),
            throttle_total_wait: Duration::from_secs(90),
            proxy: None,
            request_log: None,
            exchange_log: ExchangeLogSettings::default(),
        }
    }
}

/// One request as the request log shows it: redacted, never a body or a header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestLine {
    pub method: String,
    /// The URL with known secrets, credential parameters and long query values redacted.
    pub url: String,
    /// The answer's status, when one came.
    pub status: Option<u16>,
    /// Why there was no (complete) answer, or what was done about it (retried, throttled).
    pub note: Option<String>,
    pub elapsed_ms: u64,
}

impl std::fmt::Display for RequestLine {
    /// `GET http://host/path -> 200 (12 ms)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} -> ", self.method, self.url)?;
        match self.status {
            Some(status) => write!(f, "{status}")?,
            None => write!(f, "no answer")?,
        }
        write!(f, " ({} ms)", self.elapsed_ms)?;
        if let Some(note) = &self.note {
            write!(f, " [{note}]")?;
        }
        Ok(())
    }
}

/// Where the probe reports each request it sends (the CLI's `--debug` prints them).
#[derive(Clone)]
pub struct RequestLog(Arc<dyn Fn(&RequestLine) + Send + Sync>);

impl RequestLog {
    pub fn new(log: impl Fn(&RequestLine) + Send + Sync + 'static) -> RequestLog {
        RequestLog(Arc::new(log))
    }
}

impl std::fmt::Debug for RequestLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RequestLog")
    }
}

/// HTTP methods the probe may send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    Get,
    Head,
    Options,
    /// Only to endpoints registered with [`Probe::allow_post`] (login/token endpoints), or,
    /// with write probes on, to URLs granted with [`Probe::allow_write`].
    Post,
    /// Write probes only: to URLs granted with [`Probe::allow_write`].
    Put,
    /// Write probes only, like [`Method::Put`].
    Patch,
    /// Write probes only, like [`Method::Put`].
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Options => "OPTIONS",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }

    /// GET, HEAD and OPTIONS: the methods that read and may be retried.
    pub fn is_read(self) -> bool {
        matches!(self, Method::Get | Method::Head | Method::Options)
    }

    fn to_reqwest(self) -> reqwest::Method {
        match self {
            Method::Get => reqwest::Method::GET,
            Method::Head => reqwest::Method::HEAD,
            Method::Options => reqwest::Method::OPTIONS,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Patch => reqwest::Method::PATCH,
            Method::Delete => reqwest::Method::DELETE,
        }
    }
}

/// A request to send.
#[derive(Debug, Clone)]
pub struct ProbeRequest {
    pub method: Method,
    pub url: Url,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    /// The session whose cookies are sent and updated.
    pub jar: Option<Arc<CookieJar>>,
    /// The request measures the target's limits (a burst of failed logins): a throttled
    /// answer is its result, so it is never waited out and retried, and it does not pause
    /// the requests that follow.
    pub measures_throttle: bool,
}

impl ProbeRequest {
    pub fn get(url: Url) -> Self {
        ProbeRequest {
            method: Method::Get,
            url,
            headers: Vec::new(),
            body: None,
            jar: None,
            measures_throttle: false,
        }
    }

    pub fn method(method: Method, url: Url) -> Self {
        ProbeRequest {
            method,
            ..ProbeRequest::get(url)
        }
    }

    /// A POST with a JSON body.
    pub fn post_json(url: Url, body: &serde_json::Value) -> Self {
        ProbeRequest {
            method: Method::Post,
            body: Some(body.to_string()),
            ..ProbeRequest::get(url)
        }
        .header("Content-Type", "application/json")
    }

    /// A request of `method` with a JSON body (write probes: POST, PUT, PATCH).
    pub fn json(method: Method, url: Url, body: &serde_json::Value) -> Self {
        ProbeRequest {
            method,
            body: Some(body.to_string()),
            ..ProbeRequest::get(url)
        }
        .header("Content-Type", "application/json")
    }

    /// A POST with an `application/x-www-form-urlencoded` body.
    pub fn post_form(url: Url, fields: &[(&str, &str)]) -> Self {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        ProbeRequest {
            method: Method::Post,
            body: Some(body),
            ..ProbeRequest::get(url)
        }
        .header("Content-Type", "application/x-www-form-urlencoded")
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    pub fn bearer(self, token: &str) -> Self {
        self.header("Authorization", format!("Bearer {token}"))
    }

    pub fn with_jar(mut self, jar: Arc<CookieJar>) -> Self {
        self.jar = Some(jar);
        self
    }

    /// Marks the request as one that measures the target's limits ([`Self::measures_throttle`]).
    pub fn measuring_throttle(mut self) -> Self {
        self.measures_throttle = true;
        self
    }
}

/// What came back.
#[derive(Debug, Clone)]
pub struct ProbeResponse {
    pub exchange: ExchangeId,
    pub url: Url,
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub body_truncated: bool,
    pub elapsed: Duration,
}

impl ProbeResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    pub fn content_type(&self) -> &str {
        self.header("content-type").unwrap_or("")
    }

    pub fn is_html(&self) -> bool {
        self.content_type().to_ascii_lowercase().contains("text/html")
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub fn is_redirect(&self) -> bool {
        matches!(self.status, 301 | 302 | 303 | 307 | 308)
    }

    /// The redirect target, resolved against the request URL.
    pub fn location(&self) -> Option<Url> {
        self.header("location").and_then(|l| self.url.join(l).ok())
    }

    pub fn set_cookies(&self) -> Vec<SetCookie> {
        self.header_all("set-cookie")
            .into_iter()
            .filter_map(SetCookie::parse)
            .collect()
    }
}

/// Why a request was not answered.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ProbeError {
    #[error("request budget of {0} requests exhausted")]
    BudgetExhausted(usize),
    #[error("method policy forbids {method} {url}")]
    MethodForbidden { method: &'static str, url: String },
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    #[error("could not resolve host {0}")]
    Dns(String),
    #[error("connection refused by {0}")]
    ConnectionRefused(String),
    #[error("TLS handshake with {host} failed: {detail}")]
    Tls { host: String, detail: String },
    #[error("could not connect to {host}: {detail}")]
    Connect { host: String, detail: String },
    /// The proxy (`--proxy`, `HTTP_PROXY`, ...) failed, not the target.
    #[error("the proxy {proxy} {detail}")]
    Proxy { proxy: String, detail: String },
    /// The scan was stopped (Ctrl-C, SIGTERM): nothing more is sent.
    #[error("not sent: the scan was {0}")]
    Interrupted(String),
    #[error("{0}")]
    Other(String),
}

impl ProbeError {
    /// Whether the request never got an answer because the connection failed: refused,
    /// not established, or closed before the response was complete. Timeouts are not.
    pub fn is_connection_error(&self) -> bool {
        match self {
            ProbeError::ConnectionRefused(_) | ProbeError::Connect { .. } | ProbeError::Proxy { .. } => true,
            ProbeError::Other(detail) => {
                let detail = detail.to_ascii_lowercase();
                [
                    "connection closed",
                    "connection reset",
                    "broken pipe",
                    "incomplete message",
                ]
                .iter()
                .any(|w| detail.contains(w))
            }
            _ => false,
        }
    }
}

/// Answers in place of the network: the seam that lets flows and checks run against
/// recorded or scripted exchanges in a unit test. Everything else the probe does (the
/// method policy, the budget, the cookie jars, the exchange log) still happens.
pub trait Transport: Send + Sync {
    fn answer(&self, request: &RecordedRequest) -> ScriptedAnswer;
}

/// One scripted answer.
#[derive(Debug, Clone, Default)]
pub struct ScriptedAnswer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl ScriptedAnswer {
    pub fn new(status: u16) -> ScriptedAnswer {
        ScriptedAnswer {
            status,
            ..ScriptedAnswer::default()
        }
    }

    /// A JSON body (with its `Content-Type`).
    pub fn json(status: u16, body: serde_json::Value) -> ScriptedAnswer {
        ScriptedAnswer::new(status)
            .header("Content-Type", "application/json")
            .body(&body.to_string())
    }

    pub fn header(mut self, name: &str, value: &str) -> ScriptedAnswer {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn body(mut self, body: &str) -> ScriptedAnswer {
        self.body = body.to_string();
        self
    }
}

impl<F: Fn(&RecordedRequest) -> ScriptedAnswer + Send + Sync> Transport for F {
    fn answer(&self, request: &RecordedRequest) -> ScriptedAnswer {
        self(request)
    }
}

/// The gateway itself. Cheap to share by reference across concurrent checks.
pub struct Probe {
    client: reqwest::Client,
    /// Scripted answers instead of the network (unit tests).
    transport: Option<Arc<dyn Transport>>,
    settings: ProbeSettings,
    /// Shared with [`RequestMeter`]s, so a progress display can read it while the scan runs.
    sent: Arc<AtomicUsize>,
    /// Requests refused because the budget was spent.
    refused: AtomicUsize,
    next_slot: tokio::sync::Mutex<Instant>,
    in_flight: tokio::sync::Semaphore,
    /// Held by the one ordinary (or bulk) request queued for an `in_flight` slot: see [`Lane`].
    ordinary_turn: tokio::sync::Semaphore,
    /// Held by the one bulk request queued for the ordinary turn.
    bulk_turn: tokio::sync::Semaphore,
    exchanges: ExchangeLog,
    post_allowed: RwLock<HashSet<String>>,
    /// Write grants: URL (policy key) → who may write there.
    write_allowed: RwLock<HashMap<String, WriteGrant>>,
    interrupt: Arc<Interrupt>,
    throttle: Throttle,
    /// How many requests are on the wire, over the scan's wall time.
    gauge: InFlightGauge,
    /// Redacts what the request log shows.
    redactor: Arc<Redactor>,
}

/// Reads a probe's request count while the scan runs (see [`Probe::meter`]).
#[derive(Debug, Clone)]
pub struct RequestMeter {
    sent: Arc<AtomicUsize>,
    budget: usize,
}

impl RequestMeter {
    /// Requests sent so far.
    pub fn sent(&self) -> usize {
        self.sent.load(Ordering::SeqCst).min(self.budget)
    }

    /// The scan's request budget (`max_requests`).
    pub fn budget(&self) -> usize {
        self.budget
    }
}

/// Who may send a write probe to a granted URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteGrant {
    /// Any identity: an object the scan created itself (other identities' writes to it are
    /// what the cross-identity checks test), or a registration endpoint.
    AnyIdentity,
    /// Only requests carrying exactly this `Authorization` header: a URL like `/api/me/`
    /// that names no object, granted for the account the scan created, and so never
    /// writable with the user's own test credentials.
    Authorization(String),
}

impl Probe {
    pub fn new(settings: ProbeSettings) -> Result<Probe, ProbeError> {
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(settings.timeout)
            .connect_timeout(settings.connect_timeout)
            .danger_accept_invalid_certs(settings.insecure)
            .user_agent(settings.user_agent.clone())
            .pool_max_idle_per_host(settings.concurrency);
        if let Some(proxy) = &settings.proxy {
            // A proxy given explicitly replaces the environment's (HTTP_PROXY, NO_PROXY).
            let proxy = reqwest::Proxy::all(proxy.as_str()).map_err(|e| ProbeError::Proxy {
                proxy: crate::redact::strip_userinfo(proxy.as_str()),
                detail: format!("is not a usable proxy URL: {e}"),
            })?;
            builder = builder.proxy(proxy);
        }
        let client = builder
            .build()
            .map_err(|e| ProbeError::Other(format!("cannot build HTTP client: {e}")))?;
        let throttle = Throttle::new(settings.throttle_max_wait, settings.throttle_total_wait);
        let exchange_log = settings.exchange_log;
        Ok(Probe {
            client,
            transport: None,
            in_flight: tokio::sync::Semaphore::new(settings.concurrency.max(1)),
            ordinary_turn: tokio::sync::Semaphore::new(1),
            bulk_turn: tokio::sync::Semaphore::new(1),
            settings,
            sent: Arc::new(AtomicUsize::new(0)),
            refused: AtomicUsize::new(0),
            next_slot: tokio::sync::Mutex::new(Instant::now()),
            exchanges: ExchangeLog::new(exchange_log),
            post_allowed: RwLock::new(HashSet::new()),
            write_allowed: RwLock::new(HashMap::new()),
            interrupt: Interrupt::new(),
            throttle,
            gauge: InFlightGauge::new(),
            redactor: Arc::new(Redactor::default()),
        })
    }

    /// Redacts the request log with this redactor (the scan's, which knows its secrets).
    pub fn with_redactor(mut self, redactor: Arc<Redactor>) -> Self {
        self.redactor = redactor;
        self
    }

    /// The scan's redactor: the auth layer registers every credential it obtains here,
    /// so a check never has to remember to.
    pub fn redactor(&self) -> &Arc<Redactor> {
        &self.redactor
    }

    /// Answers every request from `transport` instead of the network.
    pub fn with_transport(mut self, transport: Arc<dyn Transport>) -> Self {
        self.transport = Some(transport);
        self
    }

    /// Obeys this stop switch: once pulled, requests are refused and those in flight
    /// abandoned with [`ProbeError::Interrupted`].
    pub fn with_interrupt(mut self, interrupt: Arc<Interrupt>) -> Self {
        self.interrupt = interrupt;
        self
    }

    /// Whether the scan was stopped.
    pub fn interrupted(&self) -> bool {
        self.interrupt.is_triggered()
    }

    fn interrupted_error(&self) -> ProbeError {
        ProbeError::Interrupted(self.interrupt.reason().unwrap_or_else(|| "interrupted".into()))
    }

    pub fn settings(&self) -> &ProbeSettings {
        &self.settings
    }

    /// Requests sent so far.
    pub fn requests_sent(&self) -> usize {
        self.sent.load(Ordering::SeqCst).min(self.settings.max_requests)
    }

    /// A live count of the requests sent, for a progress display.
    pub fn meter(&self) -> RequestMeter {
        RequestMeter {
            sent: self.sent.clone(),
            budget: self.settings.max_requests,
        }
    }

    /// Requests refused so far because the budget was spent.
    pub fn budget_refusals(&self) -> usize {
        self.refused.load(Ordering::SeqCst)
    }

    /// Requests the budget still allows.
    pub fn remaining_budget(&self) -> usize {
        self.settings.max_requests.saturating_sub(self.requests_sent())
    }

    /// Allows POST to this URL (its query is ignored). Only login/token endpoints are
    /// registered, by discovery or configuration.
    pub fn allow_post(&self, url: &Url) {
        self.post_allowed.write().expect("policy lock").insert(policy_key(url));
    }

    pub fn post_allowed(&self, url: &Url) -> bool {
        self.post_allowed
            .read()
            .expect("policy lock")
            .contains(&policy_key(url))
    }

    /// Grants write probes (POST, PUT, PATCH, DELETE) to this URL (its query is ignored),
    /// to `grant`. Returns false, and grants nothing, unless write probes are on.
    /// Callers grant only objects the scan created (or the user listed), never others.
    pub fn allow_write(&self, url: &Url, grant: WriteGrant) -> bool {
        if !self.settings.allow_writes || self.settings.read_only {
            return false;
        }
        self.write_allowed
            .write()
            .expect("policy lock")
            .insert(policy_key(url), grant);
        true
    }

    /// Whether `req` is a write the grants allow.
    fn write_granted(&self, req: &ProbeRequest) -> bool {
        if !self.settings.allow_writes {
            return false;
        }
        let grants = self.write_allowed.read().expect("policy lock");
        match grants.get(&policy_key(&req.url)) {
            Some(WriteGrant::AnyIdentity) => true,
            Some(WriteGrant::Authorization(wanted)) => req
                .headers
                .iter()
                .any(|(name, value)| name.eq_ignore_ascii_case("authorization") && value == wanted),
            None => false,
        }
    }

    /// A snapshot of one recorded exchange (read back from the spill file if it was
    /// spilled); `None` if it was dropped (see [`crate::exchange_log`]).
    pub fn exchange(&self, id: ExchangeId) -> Option<Exchange> {
        self.exchanges.get(id)
    }

    /// Every recorded exchange, read back whole: for tests and small scans. A check walks
    /// the record with [`Probe::visit_exchanges`], which never holds it all.
    pub fn exchanges(&self) -> Vec<Exchange> {
        let mut out = Vec::new();
        self.exchanges.visit(Recorded::All, |x| {
            out.push(x.clone());
            ControlFlow::Continue(())
        });
        out
    }

    /// Calls `visit` with each recorded exchange `which` selects, in the order they were
    /// recorded, until it breaks (see [`ExchangeLog::visit`]).
    pub fn visit_exchanges(&self, which: Recorded, visit: impl FnMut(&Exchange) -> ControlFlow<()>) {
        self.exchanges.visit(which, visit);
    }

    /// The first recorded exchange `matches` accepts.
    pub fn find_exchange(&self, which: Recorded, mut matches: impl FnMut(&Exchange) -> bool) -> Option<Exchange> {
        let mut found = None;
        self.exchanges.visit(which, |x| {
            if matches(x) {
                found = Some(x.clone());
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
        found
    }

    /// What the exchange log kept, spilled and dropped so far.
    pub fn exchange_stats(&self) -> ExchangeLogStats {
        self.exchanges.stats()
    }

    /// Requests recorded per method.
    pub fn methods_used(&self) -> std::collections::BTreeMap<String, usize> {
        self.exchanges.methods()
    }

    /// Every cookie the target set so far (deletions left out), in the order it set them,
    /// with the exchange that set it.
    pub fn set_cookies(&self) -> Vec<(SetCookie, ExchangeId)> {
        let mut out = Vec::new();
        self.exchanges.visit(Recorded::SettingCookies, |exchange| {
            let Some(resp) = &exchange.response else {
                return ControlFlow::Continue(());
            };
            for (name, value) in &resp.headers {
                if name.eq_ignore_ascii_case("set-cookie") {
                    if let Some(cookie) = SetCookie::parse(value).filter(|c| !c.deletes) {
                        out.push((cookie, exchange.id));
                    }
                }
            }
            ControlFlow::Continue(())
        });
        out
    }

    /// Sends one request under every policy of the probe, and records it.
    pub async fn send(&self, mut req: ProbeRequest) -> Result<ProbeResponse, ProbeError> {
        if self.settings.read_only && !matches!(req.method, Method::Get | Method::Head) {
            return Err(ProbeError::MethodForbidden {
                method: req.method.as_str(),
                url: req.url.to_string(),
            });
        }
        let allowed = match req.method {
            Method::Get | Method::Head | Method::Options => true,
            Method::Post => self.post_allowed(&req.url) || self.write_granted(&req),
            Method::Put | Method::Patch | Method::Delete => self.write_granted(&req),
        };
        if !allowed {
            return Err(ProbeError::MethodForbidden {
                method: req.method.as_str(),
                url: req.url.to_string(),
            });
        }
        if !matches!(req.url.scheme(), "http" | "https") {
            return Err(ProbeError::Other(format!("unsupported URL scheme in {}", req.url)));
        }
        if self.interrupted() && !is_restoring() {
            return Err(self.interrupted_error());
        }
        let mut headers = std::mem::take(&mut req.headers);
        if let Some(cookie) = req.jar.as_ref().and_then(|jar| jar.header()) {
            headers.push(("Cookie".to_string(), cookie));
        }
        // The first attempt sends the request as built; a later one (a retry of a read, a
        // throttled answer waited out) builds it again: most requests are sent once.
        let mut first_attempt = Some(self.build_request(&req, &headers)?);
        let recorded_request = RecordedRequest {
            method: req.method.as_str().to_string(),
            url: req.url.to_string(),
            headers,
            body: req.body.clone(),
        };

        // Connection errors are retried with backoff, GET/HEAD/OPTIONS only (never POST or
        // a write), each attempt a request of its own: it takes a budget slot and a rate slot.
        let retries = if req.method.is_read() { self.settings.retries } else { 0 };
        let mut attempt = 0;
        // Throttled answers waited out for this request (see [`crate::throttle`]).
        let mut throttle_retries = 0;
        let (outcome, started) = loop {
            if attempt > 0 {
                let backoff = self.settings.retry_backoff * 2u32.saturating_pow(attempt - 1);
                self.sleep(backoff).await?;
            }
            if !req.measures_throttle {
                if let Some(pause) = self.throttle.pause_left(req.url.path()) {
                    self.sleep(pause).await?;
                }
            }
            // Take a budget slot before waiting, so concurrent senders can never overshoot.
            if self.sent.fetch_add(1, Ordering::SeqCst) >= self.settings.max_requests {
                self.refused.fetch_add(1, Ordering::SeqCst);
                return Err(ProbeError::BudgetExhausted(self.settings.max_requests));
            }
            let ready = async {
                let permit = self.take_slot().await;
                self.wait_for_rate_slot().await;
                permit
            };
            let permit = tokio::select! {
                permit = ready => permit,
                _ = self.stopped() => {
                    // Never sent: the slot goes back, so the count stays what the target saw.
                    self.sent.fetch_sub(1, Ordering::SeqCst);
                    return Err(self.interrupted_error());
                }
            };
            let this_attempt = match first_attempt.take() {
                Some(request) => request,
                None => self.build_request(&req, &recorded_request.headers)?,
            };
            let started = Instant::now();
            let in_flight = self.gauge.enter();
            let outcome = match &self.transport {
                Some(transport) => Ok(scripted(transport.answer(&recorded_request))),
                None => tokio::select! {
                    outcome = self.fetch(this_attempt, &req.url) => outcome,
                    _ = self.stopped() => Err(self.interrupted_error()),
                },
            };
            drop(in_flight);
            // The answer is in: a throttle's pause or a retry's backoff below must not keep
            // a concurrency slot from the other senders.
            drop(permit);
            match outcome {
                Err(err) if attempt < retries && err.is_connection_error() => {
                    self.record(
                        recorded_request.clone(),
                        None,
                        Some(format!("{err} (retried)")),
                        started.elapsed(),
                    );
                    attempt += 1;
                }
                Ok((status, ref headers, ref body, _)) if !req.measures_throttle => {
                    let wait = throttle::throttled(status, headers)
                        .and_then(|asked| self.throttle.on_throttled(req.url.path(), asked, throttle_retries));
                    let Some(wait) = wait else { break (outcome, started) };
                    let response = recorded_response(status, headers, body, false);
                    let note = format!("throttled: waited {:.1} s and sent it again", wait.as_secs_f64());
                    self.record(recorded_request.clone(), Some(response), Some(note), started.elapsed());
                    self.sleep(wait).await?;
                    throttle_retries += 1;
                }
                outcome => break (outcome, started),
            }
        };
        let elapsed = started.elapsed();
        match outcome {
            Ok((status, resp_headers, body, cut)) => {
                let truncated = cut.is_some();
                let response = recorded_response(status, &resp_headers, &body, truncated);
                // A body cut short is an error recorded beside the response.
                let id = self.record(recorded_request, Some(response), cut, elapsed);
                let resp = ProbeResponse {
                    exchange: id,
                    url: req.url,
                    status,
                    headers: resp_headers,
                    body,
                    body_truncated: truncated,
                    elapsed,
                };
                if let Some(jar) = &req.jar {
                    for cookie in resp.set_cookies() {
                        jar.store(&cookie);
                    }
                }
                Ok(resp)
            }
            Err(err) => {
                self.record(recorded_request, None, Some(err.to_string()), elapsed);
                Err(err)
            }
        }
    }

    /// A concurrency slot, in the running future's [`Lane`]'s turn. Each lane queues behind
    /// a turn that admits one of its requests at a time to the queue of the lane above:
    /// a chain request waits behind at most one ordinary request, an ordinary one behind at
    /// most one bulk request; a slot nobody above wants goes to the lane below at once.
    async fn take_slot(&self) -> tokio::sync::SemaphorePermit<'_> {
        let lane = LANE.try_with(|lane| *lane).unwrap_or(Lane::Ordinary);
        let bulk_turn = match lane {
            Lane::Bulk => Some(self.bulk_turn.acquire().await.expect("semaphore never closed")),
            _ => None,
        };
        let ordinary_turn = match lane {
            Lane::Bulk | Lane::Ordinary => Some(self.ordinary_turn.acquire().await.expect("semaphore never closed")),
            Lane::Chain => None,
        };
        drop(bulk_turn);
        let permit = self.in_flight.acquire().await.expect("semaphore never closed");
        drop(ordinary_turn);
        permit
    }

    /// The HTTP request for `req` with `headers` (its own and the jar's cookie).
    fn build_request(&self, req: &ProbeRequest, headers: &[(String, String)]) -> Result<reqwest::Request, ProbeError> {
        let mut header_map = HeaderMap::with_capacity(headers.len());
        for (name, value) in headers {
            let (Ok(name), Ok(value)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value)) else {
                return Err(ProbeError::Other(format!("invalid request header {name}")));
            };
            header_map.append(name, value);
        }
        let mut builder = self
            .client
            .request(req.method.to_reqwest(), req.url.clone())
            .headers(header_map);
        if let Some(body) = &req.body {
            builder = builder.body(body.clone());
        }
        builder
            .build()
            .map_err(|e| ProbeError::Other(format!("cannot build the request: {e}")))
    }

    /// Sleeps, unless the scan is stopped first.
    async fn sleep(&self, wait: Duration) -> Result<(), ProbeError> {
        tokio::select! {
            _ = tokio::time::sleep(wait) => Ok(()),
            _ = self.stopped() => Err(self.interrupted_error()),
        }
    }

    /// Resolves when the scan is interrupted, unless the caller is [`restoring`] (then never).
    async fn stopped(&self) {
        if is_restoring() {
            std::future::pending::<()>().await;
        }
        self.interrupt.triggered().await;
    }

    /// How busy the probe has kept the target since it was created (see [`crate::in_flight`]).
    pub fn in_flight(&self) -> InFlightStats {
        self.gauge.stats()
    }

    /// What the scan met of the target's throttle, or `None` when it was never throttled.
    pub fn throttle_report(&self) -> Option<throttle::ThrottleReport> {
        self.throttle.report()
    }

    async fn wait_for_rate_slot(&self) {
        if self.settings.rate_per_sec == 0 {
            return;
        }
        let interval = Duration::from_secs_f64(1.0 / f64::from(self.settings.rate_per_sec));
        // The lock is held through the wait and the next slot counted from the moment this
        // request really goes: a sender woken late must not let the next ones catch up in
        // a burst (the target would see more than the rate in some second).
        let mut next = self.next_slot.lock().await;
        tokio::time::sleep_until((*next).into()).await;
        *next = Instant::now() + interval;
    }

    async fn fetch(
        &self,
        request: reqwest::Request,
        url: &Url,
    ) -> Result<(u16, HeaderMap, Bytes, Option<String>), ProbeError> {
        let mut resp = self.client.execute(request).await.map_err(|e| self.classify(e, url))?;
        let status = resp.status().as_u16();
        let headers = owned_headers(resp.headers());
        let mut body = Vec::new();
        let cap = self.settings.max_body_bytes;
        let cut = loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    let room = cap - body.len();
                    if chunk.len() > room {
                        body.extend_from_slice(&chunk[..room]);
                        break Some(format!(
                            "response body larger than the {cap}-byte limit: read {cap} bytes and dropped the rest"
                        ));
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break None,
                // A body cut short still yields what arrived; the status was real.
                Err(e) => {
                    let why = if e.is_timeout() {
                        format!("timed out after {:?}", self.settings.timeout)
                    } else {
                        last_cause(&e)
                    };
                    break Some(format!("response body cut short after {} bytes: {why}", body.len()));
                }
            }
        };
        Ok((status, headers, Bytes::from(body), cut))
    }

    fn classify(&self, err: reqwest::Error, url: &Url) -> ProbeError {
        let host = url.host_str().unwrap_or("?").to_string();
        let host_port = match url.port_or_known_default() {
            Some(port) => format!("{host}:{port}"),
            None => host.clone(),
        };
        if err.is_timeout() {
            return ProbeError::Timeout(self.settings.timeout);
        }
        let chain = error_chain(&err);
        let lower = chain.to_ascii_lowercase();
        // Through a proxy every connection is to the proxy: a failure to connect is its
        // failure, and a refused tunnel is the proxy saying it could not reach the target.
        if let Some(proxy) = self.proxy_for(url) {
            if lower.contains("tunnel") {
                return ProbeError::Proxy {
                    proxy,
                    detail: format!("could not open a tunnel to {host_port}: {}", last_cause(&err)),
                };
            }
            let tls = lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake");
            if err.is_connect() && !tls {
                return ProbeError::Proxy {
                    proxy,
                    detail: format!("cannot be reached: {}", last_cause(&err)),
                };
            }
        }
        if lower.contains("dns error")
            || lower.contains("failed to lookup address")
            || lower.contains("name or service not known")
        {
            ProbeError::Dns(host)
        } else if lower.contains("connection refused") {
            ProbeError::ConnectionRefused(host_port)
        } else if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake") {
            ProbeError::Tls {
                host: host_port,
                detail: last_cause(&err),
            }
        } else if err.is_connect() {
            ProbeError::Connect {
                host: host_port,
                detail: last_cause(&err),
            }
        } else {
            ProbeError::Other(last_cause(&err))
        }
    }

    /// The proxy requests to `url` go through, as an error names it (no credentials):
    /// `--proxy`, or the environment's `HTTP_PROXY`/`HTTPS_PROXY`/`ALL_PROXY` unless
    /// `NO_PROXY` exempts the host.
    fn proxy_for(&self, url: &Url) -> Option<String> {
        if let Some(proxy) = &self.settings.proxy {
            return Some(crate::redact::strip_userinfo(proxy.as_str()));
        }
        let var = |name: &str| {
            [name.to_string(), name.to_ascii_lowercase()]
                .into_iter()
                .find_map(|n| std::env::var(&n).ok().filter(|v| !v.trim().is_empty()).map(|v| (n, v)))
        };
        let scheme_var = if url.scheme() == "https" {
            "HTTPS_PROXY"
        } else {
            "HTTP_PROXY"
        };
        let (name, value) = var(scheme_var).or_else(|| var("ALL_PROXY"))?;
        let host = url
            .host_str()
            .unwrap_or("")
            .trim_matches(['[', ']'])
            .to_ascii_lowercase();
        if let Some((_, no_proxy)) = var("NO_PROXY") {
            let exempt = no_proxy.split(',').map(|e| e.trim().to_ascii_lowercase()).any(|entry| {
                let entry = entry.trim_start_matches("*.").trim_start_matches('.');
                entry == "*" || entry == host || host.ends_with(&format!(".{entry}"))
            });
            if exempt {
                return None;
            }
        }
        Some(format!("{} (from {name})", crate::redact::strip_userinfo(value.trim())))
    }

    /// Tells the request log (if any) of one recorded request, redacted.
    fn log_request(&self, request: &RecordedRequest, status: Option<u16>, note: Option<&str>, elapsed: Duration) {
        let Some(log) = &self.settings.request_log else { return };
        (log.0)(&RequestLine {
            method: request.method.clone(),
            url: redacted_url(&self.redactor, &request.url),
            status,
            note: note.map(|n| self.redactor.text(n)),
            elapsed_ms: elapsed.as_millis() as u64,
        });
    }

    fn record(
        &self,
        request: RecordedRequest,
        response: Option<RecordedResponse>,
        error: Option<String>,
        elapsed: Duration,
    ) -> ExchangeId {
        self.log_request(&request, response.as_ref().map(|r| r.status), error.as_deref(), elapsed);
        self.exchanges.push(
            request,
            response,
            error,
            elapsed.as_millis() as u64,
            self.settings.insecure,
        )
    }
}

/// A URL as the request log shows it: no userinfo, the scan's secrets fingerprinted, and
/// every query value that could be a credential (a credential-named parameter, or 16
/// characters or more) replaced by its fingerprint.
fn redacted_url(redactor: &Redactor, raw: &str) -> String {
    let Ok(mut url) = Url::parse(raw) else {
        return redactor.text(raw);
    };
    let _ = url.set_username("");
    let _ = url.set_password(None);
    if url.query().is_some() {
        let credential_name = |name: &str| {
            let name = name.to_ascii_lowercase();
            [
                "token", "key", "pass", "secret", "session", "sid", "jwt", "auth", "code", "sig",
            ]
            .iter()
            .any(|w| name.contains(w))
        };
        let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let query: Vec<String> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if !v.is_empty() && (credential_name(&k) || v.chars().count() >= 16) {
                    crate::redact::fingerprint(&v)
                } else {
                    encode(&v)
                };
                format!("{}={v}", encode(&k))
            })
            .collect();
        url.set_query(Some(&query.join("&")));
    }
    redactor.text(url.as_str())
}

/// A copy of `headers` that owns its values. The HTTP client's header values are slices of
/// its connection read buffer: a response kept for the whole scan (an inventory baseline)
/// would keep that whole buffer, kilobytes shared with other answers, alive with it.
fn owned_headers(headers: &HeaderMap) -> HeaderMap {
    let mut owned = HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        // Every value the client parsed is valid; the fallback only keeps it as it was.
        let mut copy = HeaderValue::from_bytes(value.as_bytes()).unwrap_or_else(|_| value.clone());
        copy.set_sensitive(value.is_sensitive());
        owned.append(name.clone(), copy);
    }
    owned
}

/// A scripted answer in the shape [`Probe::fetch`] returns.
fn scripted(answer: ScriptedAnswer) -> (u16, HeaderMap, Bytes, Option<String>) {
    let mut headers = HeaderMap::new();
    for (name, value) in &answer.headers {
        if let (Ok(name), Ok(value)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value)) {
            headers.append(name, value);
        }
    }
    (answer.status, headers, Bytes::from(answer.body), None)
}

fn policy_key(url: &Url) -> String {
    format!(
        "{}://{}:{}{}",
        url.scheme(),
        url.host_str().unwrap_or(""),
        url.port_or_known_default().unwrap_or(0),
        url.path()
    )
}

fn error_chain(err: &reqwest::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

fn last_cause(err: &reqwest::Error) -> String {
    let mut last = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        last = s.to_string();
        source = s.source();
    }
    last
}

/// An answer as the exchange log keeps it (the body cut to [`RECORDED_BODY_LIMIT`]).
fn recorded_response(status: u16, headers: &HeaderMap, body: &[u8], truncated: bool) -> RecordedResponse {
    RecordedResponse {
        status,
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect(),
        body: String::from_utf8_lossy(&body[..body.len().min(RECORDED_BODY_LIMIT)]).into_owned(),
        body_truncated: truncated || body.len() > RECORDED_BODY_LIMIT,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    #[test]
    fn the_request_log_redacts_secrets_and_credential_like_query_values() {
        let redactor = Redactor::default();
        redactor.add_secret("alice-pass-1");
        let url = redacted_url(
            &redactor,
            "http://u:p@h/api/alice-pass-1/?page=2&access_token=abc&q=0123456789abcdefXYZ&x=",
        );
        assert!(!url.contains("alice-pass-1") && !url.contains("u:p@"), "{url}");
        assert!(url.contains("page=2&access_token=[redacted:"), "{url}");
        assert!(!url.contains("0123456789abcdefXYZ") && url.ends_with("&x="), "{url}");
        let line = RequestLine {
            method: "GET".into(),
            url: "http://h/".into(),
            status: Some(200),
            note: None,
            elapsed_ms: 12,
        };
        assert_eq!(line.to_string(), "GET http://h/ -> 200 (12 ms)");
    }

    /// A loopback server that counts requests and answers each with a fixed response.
    async fn counting_server(response: &'static str) -> (Url, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let count = Arc::new(AtomicUsize::new(0));
        let counter = count.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else {
                    return;
                };
                let counter = counter.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 8192];
                    let mut seen = Vec::new();
                    loop {
                        let n = sock.read(&mut buf).await.unwrap_or(0);
                        if n == 0 {
                            return;
                        }
                        seen.extend_from_slice(&buf[..n]);
                        while let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
                            seen.drain(..end + 4);
                            counter.fetch_add(1, Ordering::SeqCst);
                            if sock.write_all(response.as_bytes()).await.is_err() {
                                return;
                            }
                        }
                    }
                });
            }
        });
        (Url::parse(&format!("http://{addr}/")).unwrap(), count)
    }

    #[tokio::test]
    async fn chains_get_free_slots_first_and_bulk_requests_last() {
        let probe = Arc::new(
            Probe::new(ProbeSettings {
                concurrency: 1,
                ..ProbeSettings::default()
            })
            .unwrap(),
        );
        let order = Arc::new(Mutex::new(Vec::new()));
        let held = probe.take_slot().await;
        let mut waiting = Vec::new();
        for (name, lane) in [
            ("bulk 1", Lane::Bulk),
            ("bulk 2", Lane::Bulk),
            ("bulk 3", Lane::Bulk),
            ("ordinary 1", Lane::Ordinary),
            ("ordinary 2", Lane::Ordinary),
            ("chain", Lane::Chain),
        ] {
            let (probe, order) = (probe.clone(), order.clone());
            waiting.push(tokio::spawn(in_lane(lane, async move {
                let _slot = probe.take_slot().await;
                order.lock().unwrap().push(name);
            })));
            // Let it reach its place in the queues before the next one comes.
            tokio::task::yield_now().await;
        }
        drop(held);
        for task in waiting {
            task.await.unwrap();
        }
        // First come, first served would give the order they came in. The first bulk
        // request was already queued for the slot, and the second for the ordinary turn,
        // when the others came: each lane waits behind at most one of the lane below.
        assert_eq!(
            *order.lock().unwrap(),
            ["bulk 1", "chain", "bulk 2", "ordinary 1", "ordinary 2", "bulk 3"]
        );
    }

    const OK: &str = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nSet-Cookie: sid=abc; HttpOnly\r\n\r\nok";

    /// A target that throttles the first `throttled` requests to each path.
    fn throttling_probe(throttled: usize, retry_after: &'static str) -> Probe {
        let seen = Arc::new(Mutex::new(HashMap::<String, usize>::new()));
        let transport = move |req: &RecordedRequest| {
            let mut seen = seen.lock().unwrap();
            let n = seen.entry(req.url.clone()).or_default();
            *n += 1;
            if *n <= throttled {
                ScriptedAnswer::new(429).header("Retry-After", retry_after)
            } else {
                ScriptedAnswer::new(200).body("data")
            }
        };
        Probe::new(ProbeSettings::default())
            .unwrap()
            .with_transport(Arc::new(transport))
    }

    #[tokio::test]
    async fn a_throttled_answer_is_waited_out_and_the_request_sent_again() {
        let probe = throttling_probe(2, "0");
        let url = Url::parse("http://t/api/notes/").unwrap();
        let resp = probe.send(ProbeRequest::get(url)).await.unwrap();
        assert_eq!(resp.status, 200);
        assert_eq!(probe.requests_sent(), 3, "each retry is a request of the budget");
        let log = probe.exchanges();
        assert_eq!(log.len(), 3);
        assert!(log[0].error.as_deref().unwrap().starts_with("throttled: waited"));
        let report = probe.throttle_report().unwrap();
        assert_eq!((report.responses, report.gave_up), (2, 0));
        assert_eq!(report.paths, vec!["/api/notes/".to_string()]);
    }

    #[tokio::test]
    async fn a_request_that_measures_limits_keeps_its_throttled_answer() {
        let probe = throttling_probe(5, "0");
        let url = Url::parse("http://t/api/token/").unwrap();
        let resp = probe.send(ProbeRequest::get(url).measuring_throttle()).await.unwrap();
        assert_eq!(resp.status, 429);
        assert_eq!(probe.requests_sent(), 1);
        assert_eq!(
            probe.throttle_report(),
            None,
            "a burst's own 429s are its result, not pacing"
        );
    }

    #[tokio::test]
    async fn a_throttle_that_asks_too_long_a_wait_is_left_standing() {
        let probe = throttling_probe(5, "3600");
        let url = Url::parse("http://t/api/token/").unwrap();
        let resp = probe.send(ProbeRequest::get(url)).await.unwrap();
        assert_eq!(resp.status, 429);
        assert_eq!(probe.requests_sent(), 1);
        assert_eq!(probe.throttle_report().unwrap().gave_up, 1);
    }

    #[tokio::test]
    async fn the_budget_is_never_exceeded_even_under_concurrency() {
        let (url, count) = counting_server(OK).await;
        let probe = Arc::new(
            Probe::new(ProbeSettings {
                max_requests: 7,
                ..Default::default()
            })
            .unwrap(),
        );
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let probe = probe.clone();
                let url = url.clone();
                tokio::spawn(async move { probe.send(ProbeRequest::get(url)).await })
            })
            .collect();
        let mut refused = 0;
        for t in tasks {
            if let Err(ProbeError::BudgetExhausted(7)) = t.await.unwrap() {
                refused += 1;
            }
        }
        assert_eq!(refused, 13);
        assert_eq!(probe.budget_refusals(), 13);
        assert_eq!(count.load(Ordering::SeqCst), 7);
        assert_eq!(probe.requests_sent(), 7);
    }

    #[tokio::test]
    async fn post_is_refused_unless_the_endpoint_is_an_allowed_auth_endpoint() {
        let (url, count) = counting_server(OK).await;
        let probe = Probe::new(ProbeSettings::default()).unwrap();
        let login = url.join("/api/token/").unwrap();
        let err = probe
            .send(ProbeRequest::post_json(login.clone(), &serde_json::json!({})))
            .await;
        assert!(matches!(err, Err(ProbeError::MethodForbidden { .. })));
        assert_eq!(count.load(Ordering::SeqCst), 0);
        probe.allow_post(&login);
        let ok = probe
            .send(ProbeRequest::post_json(login, &serde_json::json!({})))
            .await
            .unwrap();
        assert_eq!(ok.status, 200);
    }

    #[tokio::test]
    async fn writes_are_refused_without_write_probes_even_when_granted() {
        let (url, count) = counting_server(OK).await;
        let probe = Probe::new(ProbeSettings::default()).unwrap();
        let note = url.join("/api/notes/1/").unwrap();
        assert!(!probe.allow_write(&note, WriteGrant::AnyIdentity));
        probe.allow_post(&note);
        for method in [Method::Put, Method::Patch, Method::Delete] {
            let err = probe
                .send(ProbeRequest::json(method, note.clone(), &serde_json::json!({})))
                .await;
            assert!(matches!(err, Err(ProbeError::MethodForbidden { .. })), "{method:?}");
        }
        assert_eq!(count.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn write_probes_reach_only_granted_urls_with_the_granted_credential() {
        let (url, count) = counting_server(OK).await;
        let probe = Probe::new(ProbeSettings {
            allow_writes: true,
            ..Default::default()
        })
        .unwrap();
        let created = url.join("/api/notes/9/").unwrap();
        let other = url.join("/api/notes/1/").unwrap();
        let me = url.join("/api/me/").unwrap();
        assert!(probe.allow_write(&created, WriteGrant::AnyIdentity));
        assert!(probe.allow_write(&me, WriteGrant::Authorization("Bearer created".into())));
        let patch = |u: &Url| ProbeRequest::json(Method::Patch, u.clone(), &serde_json::json!({"title": "x"}));
        assert_eq!(probe.send(patch(&created).bearer("anyone")).await.unwrap().status, 200);
        assert!(matches!(
            probe.send(patch(&other)).await,
            Err(ProbeError::MethodForbidden { .. })
        ));
        assert!(matches!(
            probe
                .send(ProbeRequest::method(Method::Delete, me.clone()).bearer("alice"))
                .await,
            Err(ProbeError::MethodForbidden { .. })
        ));
        assert!(matches!(
            probe
                .send(ProbeRequest::post_json(other.clone(), &serde_json::json!({})))
                .await,
            Err(ProbeError::MethodForbidden { .. })
        ));
        let closed = probe
            .send(ProbeRequest::method(Method::Delete, me).bearer("created"))
            .await
            .unwrap();
        assert_eq!(closed.status, 200);
        assert_eq!(count.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn the_read_only_policy_refuses_everything_but_get_and_head() {
        let (url, count) = counting_server(OK).await;
        let probe = Probe::new(ProbeSettings {
            read_only: true,
            ..Default::default()
        })
        .unwrap();
        probe.allow_post(&url);
        let post = probe
            .send(ProbeRequest::post_json(url.clone(), &serde_json::json!({})))
            .await;
        assert!(matches!(post, Err(ProbeError::MethodForbidden { .. })));
        let options = probe.send(ProbeRequest::method(Method::Options, url.clone())).await;
        assert!(matches!(options, Err(ProbeError::MethodForbidden { .. })));
        probe
            .send(ProbeRequest::method(Method::Head, url.clone()))
            .await
            .unwrap();
        probe.send(ProbeRequest::get(url)).await.unwrap();
        assert_eq!(count.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn the_rate_limit_spaces_requests() {
        let (url, _) = counting_server(OK).await;
        let probe = Probe::new(ProbeSettings {
            rate_per_sec: 50,
            ..Default::default()
        })
        .unwrap();
        let started = Instant::now();
        for _ in 0..6 {
            probe.send(ProbeRequest::get(url.clone())).await.unwrap();
        }
        // 6 requests at 50/s need at least 5 intervals of 20 ms.
        assert!(
            started.elapsed() >= Duration::from_millis(100),
            "{:?}",
            started.elapsed()
        );
    }

    #[tokio::test]
    async fn after_an_interrupt_only_restoring_requests_are_sent() {
        let (url, hits) = counting_server(OK).await;
        let stop = Interrupt::new();
        let probe = Probe::new(ProbeSettings::default())
            .unwrap()
            .with_interrupt(stop.clone());
        stop.trigger("interrupted by SIGINT");
        let refused = probe.send(ProbeRequest::get(url.clone())).await;
        assert!(matches!(refused, Err(ProbeError::Interrupted(_))), "{refused:?}");
        let restored = restoring(probe.send(ProbeRequest::get(url.clone()))).await;
        assert_eq!(restored.unwrap().status, 200);
        assert_eq!(
            hits.load(Ordering::SeqCst),
            1,
            "only the restoring request reached the server"
        );
        // Outside the scope the stop holds again.
        assert!(probe.send(ProbeRequest::get(url)).await.is_err());
    }

    #[tokio::test]
    async fn cookies_go_to_the_jar_of_the_request_only() {
        let (url, _) = counting_server(OK).await;
        let probe = Probe::new(ProbeSettings::default()).unwrap();
        let jar = Arc::new(CookieJar::new());
        probe
            .send(ProbeRequest::get(url.clone()).with_jar(jar.clone()))
            .await
            .unwrap();
        assert_eq!(jar.get("sid").as_deref(), Some("abc"));
        let resp = probe.send(ProbeRequest::get(url)).await.unwrap();
        assert_eq!(resp.set_cookies()[0].name, "sid");
        assert_eq!(probe.exchanges().len(), 2);
    }

    #[tokio::test]
    async fn bodies_are_capped_at_the_configured_size() {
        const BIG: &str = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789";
        let (url, _) = counting_server(BIG).await;
        let probe = Probe::new(ProbeSettings {
            max_body_bytes: 10,
            ..Default::default()
        })
        .unwrap();
        let resp = probe.send(ProbeRequest::get(url)).await.unwrap();
        assert_eq!(resp.body.len(), 10);
        assert!(resp.body_truncated);
    }

    #[tokio::test]
    async fn connection_refused_is_named_as_such() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let probe = Probe::new(ProbeSettings::default()).unwrap();
        let url = Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap();
        let err = probe.send(ProbeRequest::get(url)).await.unwrap_err();
        assert!(matches!(err, ProbeError::ConnectionRefused(_)), "{err:?}");
        let exchanges = probe.exchanges();
        assert_eq!(exchanges.len(), 2, "one retry by default");
        assert_eq!(exchanges[1].error.as_deref(), Some(err.to_string().as_str()));
    }

    /// A server that closes the first `drops` connections as soon as a request arrives,
    /// then answers OK; counts requests.
    async fn flaky_server(drops: usize) -> (Url, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let count = Arc::new(AtomicUsize::new(0));
        let counter = count.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else {
                    return;
                };
                let n = counter.fetch_add(1, Ordering::SeqCst);
                let mut buf = vec![0u8; 8192];
                let _ = sock.read(&mut buf).await;
                if n >= drops {
                    let _ = sock
                        .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
                        .await;
                }
            }
        });
        (Url::parse(&format!("http://{addr}/")).unwrap(), count)
    }

    #[tokio::test]
    async fn lost_connections_are_retried_with_backoff_for_get_only() {
        let (url, count) = flaky_server(2).await;
        let probe = Probe::new(ProbeSettings {
            retries: 2,
            retry_backoff: Duration::from_millis(100),
            ..Default::default()
        })
        .unwrap();
        let started = Instant::now();
        let resp = probe.send(ProbeRequest::get(url.clone())).await.unwrap();
        assert_eq!(resp.status, 200);
        assert_eq!(count.load(Ordering::SeqCst), 3);
        assert_eq!(probe.requests_sent(), 3, "retries count against the budget");
        assert_eq!(probe.exchanges().len(), 3);
        assert!(started.elapsed() >= Duration::from_millis(300), "backoff 100 + 200 ms");

        let (url, count) = flaky_server(1).await;
        let probe = Probe::new(ProbeSettings {
            retries: 2,
            retry_backoff: Duration::from_millis(10),
            ..Default::default()
        })
        .unwrap();
        probe.allow_post(&url);
        let err = probe
            .send(ProbeRequest::post_json(url, &serde_json::json!({})))
            .await
            .unwrap_err();
        assert!(err.is_connection_error(), "{err:?}");
        assert_eq!(count.load(Ordering::SeqCst), 1, "POST is never retried");
    }

    #[tokio::test]
    async fn retries_stop_at_the_budget() {
        let (url, count) = flaky_server(10).await;
        let probe = Probe::new(ProbeSettings {
            max_requests: 2,
            retries: 5,
            retry_backoff: Duration::from_millis(1),
            ..Default::default()
        })
        .unwrap();
        let err = probe.send(ProbeRequest::get(url)).await.unwrap_err();
        assert_eq!(err, ProbeError::BudgetExhausted(2));
        assert_eq!(count.load(Ordering::SeqCst), 2);
        assert_eq!(probe.requests_sent(), 2);
    }
}
