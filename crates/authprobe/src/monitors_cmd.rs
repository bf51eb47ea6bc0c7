//! `authprobe monitors`: the shared rescan schedule that `serve` and `worker` processes keep
//! in the store, in the terminal, and taking targets off it.

use anyhow::Result;
use authprobe_store::{span_text, MonitorState};
use clap::Args;
use serde_json::json;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::history_cmd::{open_existing, store_for};

#[derive(Debug, Args)]
pub struct MonitorsArgs {
    /// Take this target off the schedule (its URL as listed; repeatable). Its stored scans
    /// stay. Remove it from every worker's `[[monitor]]` list too: a worker adds the
    /// monitors of its configuration back when it starts.
    #[arg(long, value_name = "URL")]
    pub remove: Vec<String>,

    /// The store (default: AUTHPROBE_DB, then the config's `[store]`, then
    /// ~/.local/share/authprobe/history.db): a SQLite file or postgres://USER@HOST/DB.
    #[arg(long, value_name = "PATH|URL")]
    pub db: Option<PathBuf>,

    /// Configuration file whose `[store]` names the store (default: ./authprobe.toml when
    /// it exists).
    #[arg(long, short = 'c', value_name = "FILE", env = "AUTHPROBE_CONFIG")]
    pub config: Option<PathBuf>,

    /// Do not read ./authprobe.toml.
    #[arg(long, conflicts_with = "config")]
    pub no_config: bool,

    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Lists the schedule, after taking the `--remove` targets off it. Exits 1 when one of them
/// was not on it.
pub fn run(args: MonitorsArgs) -> Result<ExitCode> {
    let settings = store_for(args.db.as_deref(), args.config.as_deref(), args.no_config)?;
    let Some(mut store) = open_existing(&settings)? else {
        if !args.remove.is_empty() {
            eprintln!("no schedule in {}: nothing to remove", settings.location);
            return Ok(ExitCode::from(1));
        }
        eprintln!("no monitors in {}", settings.location);
        return print(&args, 0, &[]).map(|_| ExitCode::SUCCESS);
    };
    let mut code = ExitCode::SUCCESS;
    if !args.remove.is_empty() {
        // Targets are stored as the scan normalised them (`http://host` → `http://host/`).
        let mut seen = std::collections::HashSet::new();
        let targets: Vec<String> = args
            .remove
            .iter()
            .map(|t| {
                authprobe_core::config::Target::parse(t)
                    .map(|t| t.url.to_string())
                    .unwrap_or_else(|_| t.clone())
            })
            .filter(|t| seen.insert(t.clone()))
            .collect();
        let removed = store.remove_monitors(&targets)?;
        for target in &targets {
            if removed.contains(target) {
                eprintln!("removed {target} from the schedule");
            } else {
                eprintln!("{target} is not on the schedule");
                code = ExitCode::from(1);
            }
        }
    }
    let now = store.database_time()?;
    let monitors = store.monitors()?;
    if monitors.is_empty() && !args.json {
        eprintln!("no monitors in {}", settings.location);
    }
    print(&args, now, &monitors)?;
    Ok(code)
}

fn print(args: &MonitorsArgs, now: i64, monitors: &[MonitorState]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    if args.json {
        let rows: Vec<_> = monitors
            .iter()
            .map(|m| {
                json!({
                    "target": m.target,
                    "interval_secs": m.interval_secs,
                    "next_due_unix": m.next_due_unix,
                    "due_in_secs": m.next_due_unix - now,
                    "leased_by": m.live_lease(now),
                    "lease_until_unix": m.live_lease(now).and(m.lease_until_unix),
                    "last_scan_id": m.last_scan_id,
                })
            })
            .collect();
        serde_json::to_writer_pretty(&mut out, &rows)?;
        writeln!(out)?;
        return Ok(());
    }
    if monitors.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "{:<8}  {:<14}  {:<24}  {:>9}  TARGET",
        "EVERY", "NEXT RESCAN", "LEASED BY", "LAST SCAN"
    )?;
    for m in monitors {
        let last = m.last_scan_id.map_or("-".to_string(), |id| format!("#{id}"));
        writeln!(
            out,
            "{:<8}  {:<14}  {:<24}  {:>9}  {}",
            span_text(m.interval_secs),
            m.due_text(now),
            m.live_lease(now).unwrap_or("-"),
            last,
            m.target
        )?;
    }
    Ok(())
}
