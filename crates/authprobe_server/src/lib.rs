//! The authprobe dashboard: an axum application over the scan history.
//!
//! Pages (server-rendered HTML, no script): the targets with their grade and trend, a
//! target's score-over-time chart (SVG) and per-category trend, a scan's findings with
//! evidence and remediation, and the diff between two scans. `/api/…` serves the same data
//! as JSON. A scan can be started from the UI only for a target the configuration lists,
//! and `[[monitor]]` targets are rescanned on a schedule with signed webhook alerts.
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

pub use monitor::{parse_interval, sign, Alert, Monitor};

use authprobe_core::Report;
use authprobe_store::{Retention, Store};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use std::collections::HashSet;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

/// Runs one scan of a target URL, as the CLI would with the served configuration.
pub type Scanner = Arc<dyn Fn(String) -> Pin<Box<dyn Future<Output = Result<Report, String>> + Send>> + Send + Sync>;

/// What `authprobe serve` was told.
#[derive(Clone)]
pub struct ServerConfig {
    /// The history database.
    pub db: PathBuf,
    pub bind: SocketAddr,
    /// `AUTHPROBE_TOKEN`: required for any non-loopback bind, enforced whenever set.
    pub token: Option<String>,
    /// The only targets a scan may be started for from the UI.
    pub scan_targets: Vec<String>,
    pub monitors: Vec<Monitor>,
    pub retention: Retention,
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("db", &self.db)
            .field("bind", &self.bind)
            .field("token", &self.token.as_ref().map(|_| "***"))
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
        let store = Store::open(&config.db)?;
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

    /// Scans `target` with the scanner, saves the report, and returns its id with the
    /// previous scan of the target (for alerts).
    async fn scan_and_save(self: &Arc<Self>, target: String) -> Result<(i64, Option<i64>), String> {
        let scanner = self.scanner.clone().ok_or("this server cannot run scans")?;
        {
            let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
            if !running.insert(target.clone()) {
                return Err(format!("a scan of {target} is already running"));
            }
        }
        let result = scanner(target.clone()).await;
        self.running.lock().unwrap_or_else(|e| e.into_inner()).remove(&target);
        let report = result?;
        let retention = self.config.retention;
        self.with_store(move |store| {
            let previous = store.scans(Some(&report.target.url), 1)?.first().map(|s| s.id);
            let id = store.save(&report, retention)?;
            Ok((id, previous))
        })
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
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .map_err(|source| ServerError::Bind {
            addr: config.bind,
            source,
        })?;
    let addr = listener.local_addr().map_err(ServerError::Serve)?;
    let state = AppState::new(config, scanner)?;
    for monitor in state.config.monitors.clone() {
        tokio::spawn(monitor::run(state.clone(), monitor));
    }
    println!("listening on http://{addr}/");
    serve_on(listener, state).await
}

/// Serves the application on a bound listener (no monitors started).
pub async fn serve_on(listener: tokio::net::TcpListener, state: Arc<AppState>) -> Result<(), ServerError> {
    axum::serve(listener, router(state)).await.map_err(ServerError::Serve)
}
