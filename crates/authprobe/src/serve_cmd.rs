//! `authprobe serve`: the dashboard over the scan history, with the scans it may start
//! (the configured targets only) and the `[[monitor]]` schedule; `authprobe worker`: the
//! schedule alone, for as many machines as share a Postgres store.

use anyhow::{anyhow, Context, Result};
use authprobe_core::config::Target;
use authprobe_server::{Monitor, Scanner, ServerConfig};
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Scan history: a SQLite file, or postgres://USER@HOST/DB for a store shared by many
    /// dashboards and workers (default: AUTHPROBE_DB, then [store] url or path, then
    /// ~/.local/share/authprobe/history.db). A file's directory must exist, unless --create.
    #[arg(long, value_name = "PATH|URL")]
    pub db: Option<PathBuf>,

    /// Create the missing directories of --db, AUTHPROBE_DB or [store] path (the default
    /// location is always created).
    #[arg(long)]
    pub create: bool,

    /// Address to listen on. Anything but loopback requires AUTHPROBE_TOKEN.
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8700")]
    pub bind: String,

    /// Configuration file: its [target] url and [[monitor]] targets are the only ones the
    /// dashboard may scan (with the config's identities and settings). Never picked up
    /// from the working directory: serving starts its monitors.
    #[arg(long, short = 'c', value_name = "FILE", env = "AUTHPROBE_CONFIG")]
    pub config: Option<PathBuf>,

    #[command(flatten)]
    pub worker: WorkerFlags,
}

/// `authprobe worker`: runs due `[[monitor]]` rescans from the shared store, no pages.
#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// Scan history shared with the other workers and dashboards: postgres://USER@HOST/DB
    /// (or a SQLite file, for workers on one machine). Default: AUTHPROBE_DB, then
    /// [store] url or path of --config.
    #[arg(long, value_name = "PATH|URL")]
    pub db: Option<PathBuf>,

    /// Create the missing directories of a SQLite --db.
    #[arg(long)]
    pub create: bool,

    /// Configuration file: its [[monitor]] targets join the shared schedule, and every
    /// rescan this worker runs uses its identities and settings.
    #[arg(long, short = 'c', value_name = "FILE", env = "AUTHPROBE_CONFIG")]
    pub config: PathBuf,

    #[command(flatten)]
    pub worker: WorkerFlags,
}

/// How a process takes part in the shared monitor schedule.
#[derive(Debug, Args)]
pub struct WorkerFlags {
    /// This worker's name in leases and in the run log (default: HOST:PID:RANDOM).
    #[arg(long, value_name = "NAME")]
    pub worker_id: Option<String>,

    /// How long a claimed rescan stays this worker's without renewal (renewed every third
    /// of it): a worker killed mid-scan delays that rescan by at most this long.
    #[arg(long, value_name = "DURATION", default_value = "2m", value_parser = parse_duration)]
    pub lease: Duration,

    /// How often an idle worker looks for due rescans and queued alerts.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    pub poll: Duration,

    /// Rescans run at once by this process.
    #[arg(long, value_name = "N", default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub parallel: u16,
}

impl WorkerFlags {
    fn options(&self) -> authprobe_server::WorkerOptions {
        authprobe_server::WorkerOptions {
            id: self
                .worker_id
                .clone()
                .unwrap_or_else(authprobe_server::default_worker_id),
            lease: self.lease,
            poll: self.poll,
            parallel: usize::from(self.parallel),
        }
    }
}

/// `500ms`, `90s`, `2m`, `1h`, or plain seconds; at least 100 ms.
fn parse_duration(raw: &str) -> Result<Duration, String> {
    authprobe_server::parse_duration(raw, Duration::from_millis(100))
}

fn normalize(raw: &str) -> Result<String> {
    Ok(Target::parse(raw)?.url.to_string())
}

pub fn run(args: ServeArgs) -> Result<()> {
    let bind: SocketAddr = args
        .bind
        .parse()
        .map_err(|_| anyhow!("--bind `{}` is not ADDR:PORT (e.g. 127.0.0.1:8700)", args.bind))?;
    let config = server_config(
        args.db.as_deref(),
        args.create,
        args.config.as_deref(),
        &args.worker,
        bind,
    )?;
    let scanner = args.config.clone().map(scanner_for);
    runtime()?.block_on(authprobe_server::serve(config, scanner))?;
    Ok(())
}

pub fn worker(args: WorkerArgs) -> Result<()> {
    let bind = SocketAddr::from(([127, 0, 0, 1], 0));
    let config = server_config(args.db.as_deref(), args.create, Some(&args.config), &args.worker, bind)?;
    let scanner = scanner_for(args.config.clone());
    runtime()?.block_on(authprobe_server::work(config, scanner))?;
    Ok(())
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Scans a URL with the configuration file's identities and settings.
fn scanner_for(config: PathBuf) -> Scanner {
    Arc::new(move |url: String| {
        let config = config.clone();
        Box::pin(async move { scan(&url, &config).await.map_err(|e| format!("{e:#}")) })
    })
}

/// The store, the targets the UI may scan and the monitors, from the flags and the
/// configuration file.
fn server_config(
    db: Option<&std::path::Path>,
    create: bool,
    config: Option<&std::path::Path>,
    worker: &WorkerFlags,
    bind: SocketAddr,
) -> Result<ServerConfig> {
    let loaded = match config {
        Some(path) => Some(crate::config_file::ConfigFile::load(path, false)?),
        None => None,
    };
    let (config_file, file) = match loaded {
        Some((f, c)) => (Some(f), Some(c)),
        None => (None, None),
    };
    let store = crate::settings::store_settings(db, file.as_ref().and_then(|f| f.store.as_ref()), create);
    crate::history_cmd::check_directory(&store)?;
    // Errors about a [[monitor]] entry name where it is.
    let at = |index: usize, key: Option<&str>, message: anyhow::Error| match &config_file {
        Some(f) => f.error(crate::config_file::Place::entry("monitor", index, key), message),
        None => message,
    };
    let mut scan_targets = Vec::new();
    let mut monitors = Vec::new();
    if let Some(file) = &file {
        if let Some(url) = file.target.as_ref().and_then(|t| t.url.as_deref()) {
            let target = normalize(url).map_err(|e| match &config_file {
                Some(f) => f.error(
                    crate::config_file::Place::key("target", "url"),
                    format!("invalid url: {e}"),
                ),
                None => e,
            })?;
            scan_targets.push(target);
        }
        for (index, m) in file.monitors.iter().enumerate() {
            let target = normalize(&m.target).map_err(|e| {
                at(
                    index,
                    Some("target"),
                    anyhow!("invalid [[monitor]] target `{}`: {e}", m.target),
                )
            })?;
            let interval = authprobe_server::parse_interval(&m.interval)
                .map_err(|e| at(index, Some("interval"), anyhow!("[[monitor]] {target}: {e}")))?;
            let webhook = m
                .webhook
                .as_deref()
                .map(|w| {
                    let url = url::Url::parse(w).map_err(|e| {
                        at(
                            index,
                            Some("webhook"),
                            anyhow!("[[monitor]] {target}: webhook `{w}`: {e}"),
                        )
                    })?;
                    if !matches!(url.scheme(), "http" | "https") {
                        return Err(at(
                            index,
                            Some("webhook"),
                            anyhow!("[[monitor]] {target}: the webhook must be an http(s) URL"),
                        ));
                    }
                    Ok(url)
                })
                .transpose()?;
            let secret = match &m.webhook_secret_env {
                Some(var) => Some(
                    std::env::var(var)
                        .ok()
                        .filter(|s| !s.is_empty())
                        .ok_or_else(|| {
                            at(
                                index,
                                Some("webhook_secret_env"),
                                anyhow!("[[monitor]] {target}: webhook_secret_env {var} is not set"),
                            )
                        })?
                        .into_bytes(),
                ),
                None => None,
            };
            if webhook.is_some() && secret.is_none() {
                return Err(at(
                    index,
                    Some("webhook"),
                    anyhow!("[[monitor]] {target}: a webhook needs webhook_secret_env (alerts are signed)"),
                ));
            }
            if !scan_targets.contains(&target) {
                scan_targets.push(target.clone());
            }
            monitors.push(Monitor {
                target,
                interval,
                webhook,
                secret,
            });
        }
    }
    let token = std::env::var("AUTHPROBE_TOKEN").ok().filter(|t| !t.is_empty());
    let upload_token = std::env::var("AUTHPROBE_UPLOAD_TOKEN").ok().filter(|t| !t.is_empty());
    Ok(ServerConfig {
        db: store.location,
        bind,
        token,
        scan_targets,
        monitors,
        retention: store.retention,
        upload_token,
        worker: worker.options(),
    })
}

/// One scan of `url` exactly as `authprobe scan URL --config FILE -q --no-store` would run it.
async fn scan(url: &str, config: &std::path::Path) -> Result<authprobe_core::Report> {
    let (scan_config, _) = crate::settings::for_server(url, config)?;
    let progress = crate::progress::Progress::new(true);
    Ok(authprobe_core::engine::scan(scan_config, authprobe_checks::all(), &progress).await?)
}
