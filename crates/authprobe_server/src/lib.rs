//! The authprobe dashboard: an axum application over the scan history.
//!
//! Pages (server-rendered HTML, no script): the targets with their grade and trend, a
//! target's score-over-time chart (SVG) and per-category trend, a scan's findings with
//! evidence and remediation, and the diff between two scans. `/api/…` serves the same data
//! as JSON. A scan can be started from the UI only for a target the configuration lists,
//! and `[[monitor]]` targets are rescanned on a schedule with signed webhook alerts. CI
//! runners upload their reports to `POST /api/scans` with the upload token.
//!
//! Any number of dashboards and workers may share one Postgres store: each rescan is
//! claimed under a lease by one of them (see `monitor`), and pages read the shared history.
//!
//! Security of the dashboard itself: it binds 127.0.0.1 unless told otherwise, and any
//! other address requires an access token (compared in constant time); every
//! state-changing form carries a CSRF token; every response has a strict
//! Content-Security-Policy; every string is escaped by the templates (maud).

mod api;
mod chart;
mod monitor;
mod pages;
mod security;
mod upload;

pub use monitor::{
    alert_for, default_worker_id, parse_duration, parse_interval, run_worker, sign, Alert, Monitor, WorkerOptions,
};
pub use upload::MAX_UPLOAD_BYTES;

use authprobe_core::Report;
use authprobe_store::{Location, Retention, Store};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use std::collections::HashSet;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

/// Runs one scan of a target URL, as the CLI would with the served configuration.
pub type Scanner = Arc<dyn Fn(String) -> Pin<Box<dyn Future<Output = Result<Report, String>> + Send>> + Send + Sync>;

/// What `authprobe serve` was told.
#[derive(Clone)]
pub struct ServerConfig {
    /// The history database: a SQLite file, or a Postgres server shared with other
    /// dashboards and workers.
    pub db: Location,
    pub bind: SocketAddr,
    /// `AUTHPROBE_TOKEN`: required for any non-loopback bind, enforced whenever set.
    pub token: Option<String>,
    /// The only targets a scan may be started for from the UI.
    pub scan_targets: Vec<String>,
    pub monitors: Vec<Monitor>,
    pub retention: Retention,
    /// `AUTHPROBE_UPLOAD_TOKEN`: the bearer token `POST /api/scans` requires; uploads are
    /// refused without one.
    pub upload_token: Option<String>,
    /// How this process takes part in the shared monitor schedule.
    pub worker: WorkerOptions,
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("db", &self.db)
            .field("bind", &self.bind)
            .field("token", &self.token.as_ref().map(|_| "***"))
            .field("upload_token", &self.upload_token.as_ref().map(|_| "***"))
            .field("scan_targets", &self.scan_targets)
            .field("monitors", &self.monitors)
            .finish()
    }
}

/// Why the dashboard cannot start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("refusing to listen on {0} without an access token: set AUTHPROBE_TOKEN (at least 16 characters), or bind 127.0.0.1")]
    TokenRequired(SocketAddr),
    #[error("AUTHPROBE_TOKEN is too short: use at least 16 random characters")]
    WeakToken,
    #[error("AUTHPROBE_UPLOAD_TOKEN is too short: use at least 16 random characters")]
    WeakUploadToken,
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error(transparent)]
    Store(#[from] authprobe_store::StoreError),
    #[error("the server stopped: {0}")]
    Serve(std::io::Error),
}

/// Shared by every handler.
pub struct AppState {
    store: Mutex<Store>,
    config: ServerConfig,
    scanner: Option<Scanner>,
    /// Random per process: the value every state-changing form must send back.
    csrf: String,
    /// Random per process: the session cookie a correct access token buys.
    session: String,
    /// Targets being scanned now (one scan per target at a time).
    running: Mutex<HashSet<String>>,
}

impl AppState {
    /// Opens the store; `scanner` runs the scans the UI and the monitors start.
    pub fn new(config: ServerConfig, scanner: Option<Scanner>) -> Result<Arc<AppState>, ServerError> {
        // On a thread of its own: the Postgres driver blocks on a runtime of its own, which
        // must not start on one of the async workers that may be calling this.
        let store = std::thread::scope(|s| s.spawn(|| Store::connect(&config.db)).join())
            .map_err(|_| ServerError::Serve(std::io::Error::other("opening the store panicked")))??;
        Ok(Arc::new(AppState {
            store: Mutex::new(store),
            config,
            scanner,
            csrf: security::random_hex(32),
            session: security::random_hex(32),
            running: Mutex::new(HashSet::new()),
        }))
    }

    /// Runs `f` on the store off the async workers.
    async fn with_store<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&mut Store) -> Result<T, authprobe_store::StoreError> + Send + 'static,
    ) -> Result<T, AppError> {
        let state = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut store = state.store.lock().unwrap_or_else(|e| e.into_inner());
            f(&mut store).map_err(AppError::from)
        })
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
    }

    /// Scans `target` with the scanner, one scan per target at a time in this process.
    async fn scan(self: &Arc<Self>, target: String) -> Result<Report, String> {
        let scanner = self.scanner.clone().ok_or("this server cannot run scans")?;
        {
            let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
            if !running.insert(target.clone()) {
                return Err(format!("a scan of {target} is already running"));
            }
        }
        let result = scanner(target.clone()).await;
        self.running.lock().unwrap_or_else(|e| e.into_inner()).remove(&target);
        result
    }

    /// Scans `target` and saves the report; returns its id.
    async fn scan_and_save(self: &Arc<Self>, target: String) -> Result<i64, String> {
        let report = self.scan(target).await?;
        let retention = self.config.retention;
        self.with_store(move |store| store.save(&report, retention))
            .await
            .map_err(|e| e.to_string())
    }
}

/// A handler's failure, as a plain-text page with the right status.
#[derive(Debug)]
pub enum AppError {
    NotFound(String),
    BadRequest(String),
    Forbidden(String),
    Internal(String),
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AppError::NotFound(m) | AppError::BadRequest(m) | AppError::Forbidden(m) | AppError::Internal(m) => {
                f.write_str(m)
            }
        }
    }
}

impl From<authprobe_store::StoreError> for AppError {
    fn from(e: authprobe_store::StoreError) -> Self {
        AppError::Internal(e.to_string())
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            AppError::NotFound(m) => (StatusCode::NOT_FOUND, m),
            AppError::BadRequest(m) => (StatusCode::BAD_REQUEST, m),
            AppError::Forbidden(m) => (StatusCode::FORBIDDEN, m),
            AppError::Internal(m) => (StatusCode::INTERNAL_SERVER_ERROR, m),
        };
        (status, [("content-type", "text/plain; charset=utf-8")], message).into_response()
    }
}

/// Parses a scan id from a path or query value.
fn parse_id(raw: &str) -> Result<i64, AppError> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| AppError::BadRequest(format!("`{raw}` is not a scan number")))
}

/// The application: every page, the JSON API and the security layers.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/", get(pages::targets))
        .route("/target", get(pages::target))
        .route("/scan/{id}", get(pages::scan))
        .route("/diff", get(pages::diff))
        .route("/scans", post(pages::start_scan))
        .route("/login", get(pages::login_form).post(pages::login))
        .route("/static/style.css", get(pages::stylesheet))
        .route("/api/targets", get(api::targets))
        .route("/api/target", get(api::target))
        .route("/api/scans/{id}", get(api::scan))
        .route(
            "/api/scans",
            post(upload::upload).layer(axum::extract::DefaultBodyLimit::max(upload::MAX_UPLOAD_BYTES)),
        )
        .route("/api/diff", get(api::diff))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security::require_token,
        ))
        .layer(axum::middleware::map_response(security::headers))
        .with_state(state)
}

/// Checks the configuration, binds, prints `listening on http://ADDR/` and serves until
/// the process ends, running the monitors alongside.
pub async fn serve(config: ServerConfig, scanner: Option<Scanner>) -> Result<(), ServerError> {
    match &config.token {
        Some(t) if t.len() < 16 => return Err(ServerError::WeakToken),
        None if !config.bind.ip().is_loopback() => return Err(ServerError::TokenRequired(config.bind)),
        _ => {}
    }
    if config.upload_token.as_ref().is_some_and(|t| t.len() < 16) {
        return Err(ServerError::WeakUploadToken);
    }
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .map_err(|source| ServerError::Bind {
            addr: config.bind,
            source,
        })?;
    let addr = listener.local_addr().map_err(ServerError::Serve)?;
    let state = AppState::new(config, scanner)?;
    if state.scanner.is_some() {
        tokio::spawn(monitor::run_worker(
            state.clone(),
            state.config.monitors.clone(),
            state.config.worker.clone(),
        ));
    }
    println!("listening on http://{addr}/");
    serve_on(listener, state).await
}

/// Serves the application on a bound listener (no monitors started).
pub async fn serve_on(listener: tokio::net::TcpListener, state: Arc<AppState>) -> Result<(), ServerError> {
    axum::serve(listener, router(state)).await.map_err(ServerError::Serve)
}

/// Runs only the monitor schedule (no pages): claims due rescans from the shared store,
/// runs them with `scanner`, and delivers alerts, until the process ends.
pub async fn work(config: ServerConfig, scanner: Scanner) -> Result<(), ServerError> {
    let state = AppState::new(config, Some(scanner))?;
    let (monitors, options) = (state.config.monitors.clone(), state.config.worker.clone());
    println!("worker {} on {}", options.id, state.config.db);
    monitor::run_worker(state, monitors, options).await;
    Ok(())
}
