//! The shared monitor schedule: which target is due for a rescan, who is running it, and
//! the webhook alerts waiting to be sent.
//!
//! Any number of workers, on any machines, share one database. A worker claims a due
//! rescan with a lease (`SELECT … FOR UPDATE SKIP LOCKED` on Postgres; SQLite's write lock
//! does the same for processes on one machine), renews it while the scan runs, and
//! completes it in one transaction that saves the scan, records the run, moves the
//! schedule on and queues the alert. A worker that dies stops renewing; once its lease has
//! run out another worker claims the same rescan. A worker that lost its lease cannot
//! complete: the run is recorded once, by `(target, due time)`, and the alert with it.
//! Times are the database's clock (`{now}`), so workers' own clocks do not matter.

use crate::backend::{Param, Tx};
use crate::{insert_scan, Report, Retention, StoreError};
use std::time::Duration;

/// A monitored target as a worker's configuration gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonitorSpec {
    pub target: String,
    pub interval: Duration,
    /// Where alerts go (the signing secret stays in the worker's environment).
    pub webhook: Option<String>,
}

/// A rescan claimed by one worker until its lease runs out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub target: String,
    /// The scheduled time of this rescan (Unix seconds): with the target, it names the run.
    pub due_unix: i64,
    pub interval_secs: i64,
    pub webhook: Option<String>,
    /// The worker holding it.
    pub owner: String,
}

/// A monitor's row, as the schedule stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonitorState {
    pub target: String,
    pub interval_secs: i64,
    pub next_due_unix: i64,
    /// The worker that last claimed it (its lease may have run out: see `lease_until_unix`).
    pub lease_owner: Option<String>,
    pub lease_until_unix: Option<i64>,
    pub last_scan_id: Option<i64>,
}

impl MonitorState {
    /// The worker holding the monitor's lease at `now` (database time), unless it ran out.
    pub fn live_lease(&self, now: i64) -> Option<&str> {
        match self.lease_until_unix {
            Some(until) if until >= now => self.lease_owner.as_deref(),
            _ => None,
        }
    }

    /// When the next rescan is due, from `now`: `in 2h 5m`, `due now`, `overdue 3m`.
    pub fn due_text(&self, now: i64) -> String {
        match self.next_due_unix - now {
            0 => "due now".to_string(),
            s if s > 0 => format!("in {}", span_text(s)),
            s => format!("overdue {}", span_text(-s)),
        }
    }
}

/// A duration in seconds in its two largest units: `1d 2h`, `5m 10s`, `45s`.
pub fn span_text(secs: i64) -> String {
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

/// One completed rescan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonitorRun {
    pub target: String,
    pub due_unix: i64,
    pub worker: String,
    pub scan_id: i64,
}

/// What completing a lease did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunOutcome {
    /// The scan was saved; `alert` is set when an alert was queued for it.
    Saved { scan_id: i64, alert: bool },
    /// The lease had passed to another worker: nothing was saved.
    LeaseLost,
}

/// An alert claimed for sending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingAlert {
    pub scan_id: i64,
    pub target: String,
    pub webhook: String,
    /// The JSON body, exactly as it is to be signed and sent.
    pub body: String,
    /// Tries so far, this one included.
    pub attempts: i64,
}

/// An alert is given up after this many failed tries.
pub const MAX_ALERT_ATTEMPTS: i64 = 8;

fn secs(d: Duration) -> i64 {
    d.as_secs().clamp(1, i64::MAX as u64) as i64
}

fn lease_from_row(row: &crate::backend::Row, owner: &str) -> Result<Lease, StoreError> {
    Ok(Lease {
        target: row.text(0)?,
        due_unix: row.int(1)?,
        interval_secs: row.int(2)?,
        webhook: row.opt_text(3)?,
        owner: owner.to_string(),
    })
}

impl crate::Store {
    /// Adds the configured monitors to the shared schedule (due now when new); a monitor
    /// already there keeps its schedule and takes the interval and webhook given here.
    pub fn register_monitors(&mut self, monitors: &[MonitorSpec]) -> Result<(), StoreError> {
        let mut tx = self.conn.transaction()?;
        for m in monitors {
            tx.execute(
                "INSERT INTO monitors (target, interval_secs, webhook, next_due_unix) VALUES (?1, ?2, ?3, {now})
                 ON CONFLICT (target) DO UPDATE SET interval_secs = excluded.interval_secs, webhook = excluded.webhook",
                &[(&m.target).into(), secs(m.interval).into(), m.webhook.as_deref().into()],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Claims the most overdue rescan that no live lease holds, for `lease`; `None` when
    /// nothing is due. Workers claiming at once get different rescans (Postgres skips the
    /// rows others have locked; SQLite lets one writer in at a time).
    pub fn claim_due_monitor(&mut self, owner: &str, lease: Duration) -> Result<Option<Lease>, StoreError> {
        let mut tx = self.conn.transaction()?;
        let sql = format!(
            "SELECT target, next_due_unix, interval_secs, webhook FROM monitors
             WHERE next_due_unix <= {{now}} AND (lease_until_unix IS NULL OR lease_until_unix < {{now}})
             ORDER BY next_due_unix, target LIMIT 1{}",
            tx.dialect().skip_locked()
        );
        let Some(row) = tx.query_opt(&sql, &[])? else {
            return Ok(None);
        };
        let claimed = lease_from_row(&row, owner)?;
        tx.execute(
            "UPDATE monitors SET lease_owner = ?2, lease_until_unix = {now} + ?3 WHERE target = ?1",
            &[(&claimed.target).into(), owner.into(), secs(lease).into()],
        )?;
        tx.commit()?;
        Ok(Some(claimed))
    }

    /// Extends a lease still held; `false` when it was lost (another worker took it over).
    pub fn renew_lease(&mut self, lease: &Lease, duration: Duration) -> Result<bool, StoreError> {
        let mut tx = self.conn.transaction()?;
        let changed = tx.execute(
            "UPDATE monitors SET lease_until_unix = {now} + ?4
             WHERE target = ?1 AND lease_owner = ?2 AND next_due_unix = ?3",
            &[
                (&lease.target).into(),
                (&lease.owner).into(),
                lease.due_unix.into(),
                secs(duration).into(),
            ],
        )?;
        tx.commit()?;
        Ok(changed == 1)
    }

    /// Gives a lease back after a failed scan: the same rescan is due again in `retry_in`.
    pub fn release_lease(&mut self, lease: &Lease, retry_in: Duration) -> Result<(), StoreError> {
        let mut tx = self.conn.transaction()?;
        tx.execute(
            "UPDATE monitors SET lease_owner = NULL, lease_until_unix = {now} + ?4 - 1
             WHERE target = ?1 AND lease_owner = ?2 AND next_due_unix = ?3",
            &[
                (&lease.target).into(),
                (&lease.owner).into(),
                lease.due_unix.into(),
                secs(retry_in).into(),
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Completes a claimed rescan in one transaction: saves `report` under `scan_uuid`,
    /// records the run, schedules the next one an interval after this one was due (or an
    /// interval from now when the schedule fell behind), and, when the monitor has a
    /// webhook and `alert` finds a regression against the previous scan, queues the alert.
    /// `alert` gets the previous scan's id and report and the new scan's id.
    pub fn complete_monitor_run(
        &mut self,
        lease: &Lease,
        report: &Report,
        scan_uuid: &str,
        retention: Retention,
        alert: impl FnOnce(i64, &Report, i64) -> Option<String>,
    ) -> Result<RunOutcome, StoreError> {
        let mut tx = self.conn.transaction()?;
        let held = format!(
            "SELECT webhook FROM monitors WHERE target = ?1 AND lease_owner = ?2 AND next_due_unix = ?3{}",
            tx.dialect().for_update()
        );
        let Some(held) = tx.query_opt(
            &held,
            &[(&lease.target).into(), (&lease.owner).into(), lease.due_unix.into()],
        )?
        else {
            return Ok(RunOutcome::LeaseLost);
        };
        let webhook = held.opt_text(0)?;
        let previous = previous_scan(&mut tx, &lease.target)?;
        let scan_id = insert_scan(&mut tx, report, Some(scan_uuid), retention)?;
        tx.execute(
            "INSERT INTO monitor_runs (target, due_unix, worker, scan_id, finished_unix) VALUES (?1, ?2, ?3, ?4, {now})",
            &[
                (&lease.target).into(),
                lease.due_unix.into(),
                (&lease.owner).into(),
                scan_id.into(),
            ],
        )?;
        tx.execute(
            "UPDATE monitors SET
               next_due_unix = CASE WHEN ?2 + interval_secs > {now} THEN ?2 + interval_secs
                                    ELSE {now} + interval_secs END,
               lease_owner = NULL, lease_until_unix = NULL, last_scan_id = ?3
             WHERE target = ?1",
            &[(&lease.target).into(), lease.due_unix.into(), scan_id.into()],
        )?;
        let mut queued = false;
        if let (Some(webhook), Some((previous_id, previous_report))) = (webhook, previous) {
            if let Some(body) = alert(previous_id, &previous_report, scan_id) {
                tx.execute(
                    "INSERT INTO alerts (scan_id, target, webhook, body, created_unix, next_try_unix)
                     VALUES (?1, ?2, ?3, ?4, {now}, {now})",
                    &[
                        scan_id.into(),
                        (&lease.target).into(),
                        (&webhook).into(),
                        Param::Text(&body),
                    ],
                )?;
                queued = true;
            }
        }
        tx.commit()?;
        Ok(RunOutcome::Saved { scan_id, alert: queued })
    }

    /// Claims one alert to send for one of `targets` (the monitors whose signing secret
    /// this worker holds), leased for `lease` so that no other worker sends it meanwhile.
    pub fn claim_alert(&mut self, targets: &[String], lease: Duration) -> Result<Option<PendingAlert>, StoreError> {
        if targets.is_empty() {
            return Ok(None);
        }
        let mut tx = self.conn.transaction()?;
        let slots: Vec<String> = (0..targets.len()).map(|i| format!("?{}", i + 2)).collect();
        let sql = format!(
            "SELECT scan_id, target, webhook, body, attempts FROM alerts
             WHERE sent_unix IS NULL AND next_try_unix <= {{now}} AND attempts < ?1 AND target IN ({})
             ORDER BY scan_id LIMIT 1{}",
            slots.join(", "),
            tx.dialect().skip_locked()
        );
        let mut params: Vec<Param<'_>> = vec![MAX_ALERT_ATTEMPTS.into()];
        params.extend(targets.iter().map(Param::from));
        let Some(row) = tx.query_opt(&sql, &params)? else {
            return Ok(None);
        };
        let alert = PendingAlert {
            scan_id: row.int(0)?,
            target: row.text(1)?,
            webhook: row.text(2)?,
            body: row.text(3)?,
            attempts: row.int(4)? + 1,
        };
        tx.execute(
            "UPDATE alerts SET attempts = attempts + 1, next_try_unix = {now} + ?2 WHERE scan_id = ?1",
            &[alert.scan_id.into(), secs(lease).into()],
        )?;
        tx.commit()?;
        Ok(Some(alert))
    }

    /// Records an alert as delivered.
    pub fn alert_sent(&mut self, scan_id: i64) -> Result<(), StoreError> {
        let mut tx = self.conn.transaction()?;
        tx.execute(
            "UPDATE alerts SET sent_unix = {now}, last_error = NULL WHERE scan_id = ?1",
            &[scan_id.into()],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Records a failed delivery; the alert is tried again after `retry_in`.
    pub fn alert_failed(&mut self, scan_id: i64, error: &str, retry_in: Duration) -> Result<(), StoreError> {
        let mut tx = self.conn.transaction()?;
        tx.execute(
            "UPDATE alerts SET last_error = ?2, next_try_unix = {now} + ?3 WHERE scan_id = ?1",
            &[scan_id.into(), error.into(), secs(retry_in).into()],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The schedule, by target.
    pub fn monitors(&mut self) -> Result<Vec<MonitorState>, StoreError> {
        let rows = self.conn.query(
            "SELECT target, interval_secs, next_due_unix, lease_owner, lease_until_unix, last_scan_id FROM monitors
             ORDER BY target",
            &[],
        )?;
        rows.iter()
            .map(|r| {
                Ok(MonitorState {
                    target: r.text(0)?,
                    interval_secs: r.int(1)?,
                    next_due_unix: r.int(2)?,
                    lease_owner: r.opt_text(3)?,
                    lease_until_unix: r.opt_int(4)?,
                    last_scan_id: r.opt_int(5)?,
                })
            })
            .collect()
    }

    /// Takes `targets` off the schedule; returns those that were on it. Their scans, runs
    /// and queued alerts stay. A worker whose configuration still lists one adds it back
    /// when it starts.
    pub fn remove_monitors(&mut self, targets: &[String]) -> Result<Vec<String>, StoreError> {
        let mut tx = self.conn.transaction()?;
        let mut removed = Vec::new();
        for target in targets {
            if tx.execute("DELETE FROM monitors WHERE target = ?1", &[target.into()])? > 0 {
                removed.push(target.clone());
            }
        }
        tx.commit()?;
        Ok(removed)
    }

    /// The database's clock (Unix seconds), which every schedule time is read against.
    pub fn database_time(&mut self) -> Result<i64, StoreError> {
        let rows = self.conn.query("SELECT {now}", &[])?;
        match rows.first() {
            Some(row) => Ok(row.int(0)?),
            // Every SELECT without FROM returns one row; this is never reached.
            None => Ok(std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64)),
        }
    }

    /// Every completed rescan, by target and due time.
    pub fn monitor_runs(&mut self) -> Result<Vec<MonitorRun>, StoreError> {
        let rows = self.conn.query(
            "SELECT target, due_unix, worker, scan_id FROM monitor_runs ORDER BY target, due_unix",
            &[],
        )?;
        rows.iter()
            .map(|r| {
                Ok(MonitorRun {
                    target: r.text(0)?,
                    due_unix: r.int(1)?,
                    worker: r.text(2)?,
                    scan_id: r.int(3)?,
                })
            })
            .collect()
    }

    /// Alerts not yet delivered, and delivered, as `(scan_id, sent)`.
    pub fn alerts(&mut self) -> Result<Vec<(i64, bool)>, StoreError> {
        let rows = self
            .conn
            .query("SELECT scan_id, sent_unix FROM alerts ORDER BY scan_id", &[])?;
        rows.iter().map(|r| Ok((r.int(0)?, r.opt_int(1)?.is_some()))).collect()
    }
}

/// The newest scan of `target` with its report.
fn previous_scan(tx: &mut Tx<'_>, target: &str) -> Result<Option<(i64, Report)>, StoreError> {
    let Some(row) = tx.query_opt(
        "SELECT id, report FROM scans WHERE target = ?1 ORDER BY id DESC LIMIT 1",
        &[target.into()],
    )?
    else {
        return Ok(None);
    };
    let id = row.int(0)?;
    let report = serde_json::from_str(&row.text(1)?).map_err(|source| StoreError::Corrupt { id, source })?;
    Ok(Some((id, report)))
}
