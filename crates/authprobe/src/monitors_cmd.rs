//! `authprobe monitors`: the shared rescan schedule that `serve` and `worker` processes keep
//! in the store, in the terminal, and taking targets off it.

use anyhow::Result;
use authprobe_store::MonitorState;
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
                    "leased_by": live_lease(m, now),
                    "lease_until_unix": live_lease(m, now).and(m.lease_until_unix),
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
            span(m.interval_secs),
            due(m.next_due_unix - now),
            live_lease(m, now).unwrap_or("-"),
            last,
            m.target
        )?;
    }
    Ok(())
}

/// The worker holding the monitor's lease, unless the lease ran out.
fn live_lease(m: &MonitorState, now: i64) -> Option<&str> {
    match m.lease_until_unix {
        Some(until) if until >= now => m.lease_owner.as_deref(),
        _ => None,
    }
}

/// `in 2h 5m`, `due now`, `overdue 3m`.
fn due(secs: i64) -> String {
    match secs {
        0 => "due now".to_string(),
        s if s > 0 => format!("in {}", span(s)),
        s => format!("overdue {}", span(-s)),
    }
}

/// A duration in its two largest units: `1d 2h`, `5m 10s`, `45s`.
fn span(secs: i64) -> String {
    let units = [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)];
    let mut left = secs.max(0);
    let mut parts = Vec::new();
    for (name, size) in units {
        if left >= size && parts.len() < 2 {
            parts.push(format!("{}{name}", left / size));
            left %= size;
        } else if !parts.is_empty() {
            break;
        }
    }
    if parts.is_empty() {
        "0s".to_string()
    } else {
        parts.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_show_their_two_largest_units() {
        assert_eq!(span(86_400), "1d");
        assert_eq!(span(90_061), "1d 1h");
        assert_eq!(span(3_599), "59m 59s");
        assert_eq!(span(3_601), "1h");
        assert_eq!(span(45), "45s");
        assert_eq!(span(0), "0s");
        assert_eq!(due(0), "due now");
        assert_eq!(due(120), "in 2m");
        assert_eq!(due(-7_260), "overdue 2h 1m");
    }

    #[test]
    fn a_lease_that_ran_out_is_held_by_nobody() {
        let m = MonitorState {
            target: "http://a/".into(),
            interval_secs: 60,
            next_due_unix: 100,
            lease_owner: Some("w1".into()),
            lease_until_unix: Some(150),
            last_scan_id: None,
        };
        assert_eq!(live_lease(&m, 150), Some("w1"));
        assert_eq!(live_lease(&m, 151), None);
    }
}
