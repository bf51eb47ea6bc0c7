//! `authprobe serve`: the dashboard over the scan history, with the scans it may start
//! (the configured targets only) and the `[[monitor]]` schedule.

use anyhow::{anyhow, bail, Context, Result};
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
    /// ~/.local/share/authprobe/history.db).
    #[arg(long, value_name = "PATH")]
    pub db: Option<PathBuf>,

    /// Address to listen on. Anything but loopback requires AUTHPROBE_TOKEN.
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8700")]
    pub bind: String,

    /// Configuration file: its [target] url and [[monitor]] targets are the only ones the
    /// dashboard may scan (with the config's identities and settings).
    #[arg(long, short = 'c', value_name = "FILE")]
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
    let file = match &args.config {
        Some(path) => Some(crate::settings::load_file(path)?),
        None => None,
    };
    let store = crate::settings::store_settings(args.db.as_deref(), file.as_ref().and_then(|f| f.store.as_ref()));
    let mut scan_targets = Vec::new();
    let mut monitors = Vec::new();
    if let Some(file) = &file {
        if let Some(url) = file.target.as_ref().and_then(|t| t.url.as_deref()) {
            scan_targets.push(normalize(url).context("invalid [target] url")?);
        }
        for m in &file.monitors {
            let target = normalize(&m.target).with_context(|| format!("invalid [[monitor]] target `{}`", m.target))?;
            let interval =
                authprobe_server::parse_interval(&m.interval).map_err(|e| anyhow!("[[monitor]] {target}: {e}"))?;
            let webhook = m
                .webhook
                .as_deref()
                .map(|w| {
                    let url = url::Url::parse(w).map_err(|e| anyhow!("[[monitor]] {target}: webhook `{w}`: {e}"))?;
                    if !matches!(url.scheme(), "http" | "https") {
                        bail!("[[monitor]] {target}: the webhook must be an http(s) URL");
                    }
                    Ok(url)
                })
                .transpose()?;
            let secret = match &m.webhook_secret_env {
                Some(var) => Some(
                    std::env::var(var)
                        .ok()
                        .filter(|s| !s.is_empty())
                        .ok_or_else(|| anyhow!("[[monitor]] {target}: webhook_secret_env {var} is not set"))?
                        .into_bytes(),
                ),
                None => None,
            };
            if webhook.is_some() && secret.is_none() {
                bail!("[[monitor]] {target}: a webhook needs webhook_secret_env (alerts are signed)");
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
