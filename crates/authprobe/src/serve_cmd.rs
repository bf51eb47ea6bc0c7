//! `authprobe serve`: the dashboard over the scan history, with the scans it may start
//! (the configured targets only) and the `[[monitor]]` schedule.

use anyhow::{anyhow, Context, Result};
use authprobe_core::config::Target;
use authprobe_server::{Monitor, Scanner, ServerConfig};
use clap::{Args, Parser};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use crate::cli::{Cli, Command};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Scan history database (default: AUTHPROBE_DB, then [store] path, then
    /// ~/.local/share/authprobe/history.db). Its directory must exist, unless --create.
    #[arg(long, value_name = "PATH")]
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
}

fn normalize(raw: &str) -> Result<String> {
    Ok(Target::parse(raw)?.url.to_string())
}

pub fn run(args: ServeArgs) -> Result<()> {
    let bind: SocketAddr = args
        .bind
        .parse()
        .map_err(|_| anyhow!("--bind `{}` is not ADDR:PORT (e.g. 127.0.0.1:8700)", args.bind))?;
    let loaded = match &args.config {
        Some(path) => Some(crate::config_file::ConfigFile::load(path, false)?),
        None => None,
    };
    let (config_file, file) = match loaded {
        Some((f, c)) => (Some(f), Some(c)),
        None => (None, None),
    };
    let store = crate::settings::store_settings(
        args.db.as_deref(),
        file.as_ref().and_then(|f| f.store.as_ref()),
        args.create,
    );
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
    let scanner: Option<Scanner> = args.config.clone().map(|config| {
        let scanner: Scanner = Arc::new(move |url: String| {
            let config = config.clone();
            Box::pin(async move { scan(&url, &config).await.map_err(|e| format!("{e:#}")) })
        });
        scanner
    });
    let config = ServerConfig {
        db: store.path,
        bind,
        token,
        scan_targets,
        monitors,
        retention: store.retention,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(authprobe_server::serve(config, scanner))?;
    Ok(())
}

/// One scan of `url` exactly as `authprobe scan URL --config FILE -q --no-store` would run it.
async fn scan(url: &str, config: &std::path::Path) -> Result<authprobe_core::Report> {
    let argv = [
        "authprobe",
        "scan",
        url,
        "--config",
        &config.to_string_lossy(),
        "-q",
        "--no-store",
    ];
    let Command::Scan(args) = Cli::try_parse_from(argv)?.command else {
        unreachable!("the argv above is a scan");
    };
    let (scan_config, _) = crate::settings::build(&args)?;
    let progress = crate::progress::Progress::new(true);
    Ok(authprobe_core::engine::scan(scan_config, authprobe_checks::all(), &progress).await?)
}
