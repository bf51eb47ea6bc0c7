//! `authprobe history` and `authprobe show`: the scan history in the terminal.

use anyhow::{bail, Result};
use authprobe_store::{sparkline, Store};
use clap::Args;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::cli::OutputFormat;
use crate::settings::{self, StoreSettings};

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Only this target's scans (its URL as scanned).
    pub target: Option<String>,

    /// Scan history database (default: AUTHPROBE_DB, then ~/.local/share/authprobe/history.db).
    #[arg(long, value_name = "PATH")]
    pub db: Option<PathBuf>,

    /// Configuration file whose `[store] path` names the database (default:
    /// ./authprobe.toml when it exists).
    #[arg(long, short = 'c', value_name = "FILE", env = "AUTHPROBE_CONFIG")]
    pub config: Option<PathBuf>,

    /// Do not read ./authprobe.toml.
    #[arg(long, conflicts_with = "config")]
    pub no_config: bool,

    /// Show at most N scans (newest first).
    #[arg(long, value_name = "N", default_value_t = 50)]
    pub limit: usize,

    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The scan's number, as `authprobe history` lists it.
    pub id: String,

    /// Scan history database (default: AUTHPROBE_DB, then ~/.local/share/authprobe/history.db).
    #[arg(long, value_name = "PATH")]
    pub db: Option<PathBuf>,

    /// Configuration file whose `[store] path` names the database (default:
    /// ./authprobe.toml when it exists).
    #[arg(long, short = 'c', value_name = "FILE", env = "AUTHPROBE_CONFIG")]
    pub config: Option<PathBuf>,

    /// Do not read ./authprobe.toml.
    #[arg(long, conflicts_with = "config")]
    pub no_config: bool,

    /// Output format of the stored report. Default: pretty.
    #[arg(long, short = 'f', value_enum, default_value = "pretty")]
    pub format: OutputFormat,
}

/// The history settings for a command that reads the store: `--db`, the environment,
/// then the config's `[store]` (`--config`, or ./authprobe.toml unless `no_config`).
pub fn store_for(db: Option<&Path>, config: Option<&Path>, no_config: bool) -> Result<StoreSettings> {
    let file = settings::load_config(config, no_config)?.map(|(_, file)| file);
    Ok(settings::store_settings(
        db,
        file.as_ref().and_then(|f| f.store.as_ref()),
        false,
    ))
}

/// Refuses a chosen database path whose directory does not exist, unless `--create`
/// (a typo in `--db` must not leave a stray directory tree behind).
pub fn check_directory(settings: &StoreSettings) -> Result<()> {
    let Some(path) = settings.location.sqlite_path() else {
        return Ok(()); // a Postgres server
    };
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => return Ok(()),
    };
    if !settings.create_dirs && !parent.is_dir() {
        bail!(
            "cannot use the scan history at {}: the directory {} does not exist; create it, pass --create to have it created, or choose another path with --db PATH or AUTHPROBE_DB",
            path.display(),
            parent.display()
        );
    }
    Ok(())
}

/// Opens the history database, with the hint a user needs when it fails (`also`: a way out
/// that only some commands have).
fn open(settings: &StoreSettings, also: &str) -> Result<Store> {
    if let Err(e) = check_directory(settings) {
        bail!("{e}{also}");
    }
    Store::connect(&settings.location).map_err(|e| {
        anyhow::anyhow!(
            "cannot use the scan history: {e} (choose another with --db PATH|postgres://… or AUTHPROBE_DB{also})"
        )
    })
}

/// The store a scan saves into, unless `--no-store`.
pub fn open_for_scan(settings: Option<&StoreSettings>) -> Result<Option<Store>> {
    settings
        .map(|s| open(s, ", or skip saving with --no-store"))
        .transpose()
}

/// For reading commands: a database that does not exist yet is not created.
pub fn open_existing(settings: &StoreSettings) -> Result<Option<Store>> {
    if settings.location.sqlite_path().is_some_and(|p| !p.exists()) {
        return Ok(None);
    }
    open(settings, "").map(Some)
}

pub fn history(args: HistoryArgs) -> Result<()> {
    let settings = store_for(args.db.as_deref(), args.config.as_deref(), args.no_config)?;
    // Targets are stored as the scan normalised them (`http://host` → `http://host/`).
    let target = args.target.as_deref().map(|t| {
        authprobe_core::config::Target::parse(t)
            .map(|t| t.url.to_string())
            .unwrap_or_else(|_| t.to_string())
    });
    let scans = match open_existing(&settings)? {
        Some(mut store) => store.scans(target.as_deref(), args.limit)?,
        None => Vec::new(),
    };
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &scans)?;
        writeln!(out)?;
        return Ok(());
    }
    if scans.is_empty() {
        match &args.target {
            Some(t) => eprintln!("no stored scans of {t} in {}", settings.location),
            None => eprintln!("no stored scans in {}", settings.location),
        }
        return Ok(());
    }
    // Per target, the scores oldest first, so each row's sparkline ends at that scan.
    let mut trend: std::collections::HashMap<&str, Vec<u8>> = Default::default();
    for scan in scans.iter().rev() {
        trend.entry(&scan.target).or_default().push(scan.score);
    }
    let mut seen: std::collections::HashMap<&str, usize> = Default::default();
    writeln!(
        out,
        "{:>5}  {:<20}  {:>5} {:<5}  {:>4} {:>4} {:>4} {:>4} {:>4}  {:<12}  TARGET",
        "ID", "FINISHED", "SCORE", "GRADE", "CRIT", "HIGH", "MED", "LOW", "INFO", "TREND"
    )?;
    for scan in &scans {
        let scores = &trend[scan.target.as_str()];
        // Rows come newest first: the n-th row of a target ends its sparkline n scans early.
        let n = seen.entry(&scan.target).or_default();
        let end = scores.len() - *n;
        *n += 1;
        let line = sparkline(&scores[end.saturating_sub(12)..end]);
        writeln!(
            out,
            "{:>5}  {:<20}  {:>5} {:<5}  {:>4} {:>4} {:>4} {:>4} {:>4}  {:<12}  {}",
            scan.id,
            scan.finished_at.chars().take(19).collect::<String>().replace('T', " "),
            scan.score,
            scan.grade,
            scan.critical,
            scan.high,
            scan.medium,
            scan.low,
            scan.info,
            line,
            scan.target
        )?;
    }
    Ok(())
}

pub fn show(args: ShowArgs) -> Result<()> {
    let id: i64 = match args.id.trim_start_matches('#').parse() {
        Ok(id) if id > 0 => id,
        _ => bail!("`{}` is not a scan number; `authprobe history` lists them", args.id),
    };
    let settings = store_for(args.db.as_deref(), args.config.as_deref(), args.no_config)?;
    let scan = match open_existing(&settings)? {
        Some(mut store) => store.scan(id)?,
        None => None,
    };
    let Some(scan) = scan else {
        bail!(
            "no scan #{id} in {}; `authprobe history` lists the stored scans",
            settings.location
        );
    };
    let color = args.format == OutputFormat::Pretty
        && std::io::IsTerminal::is_terminal(&std::io::stdout())
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let rendered = args.format.emitter().render(&scan.report, &crate::catalog(), color);
    std::io::stdout().write_all(rendered.as_bytes())?;
    Ok(())
}
