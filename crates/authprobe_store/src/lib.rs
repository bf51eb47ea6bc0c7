//! Scan history: every `authprobe.report/v1` report kept in a database, either an
//! embedded SQLite file (the default) or a PostgreSQL server shared by dashboards, workers
//! and CI runners on many machines.
//!
//! Both run the same versioned migrations ([`migrations::MIGRATIONS`]) and the same
//! queries (`backend`). A scan is saved in one transaction together with its per-category
//! scores and the retention pruning, so a process killed at any moment leaves either the
//! whole scan or none of it. Reports reach the store already redacted by the engine; the
//! store adds no credential of its own, and a Postgres URL's password is never shown.

mod backend;
mod diff;
pub mod fixtures;
mod location;
pub mod migrations;
mod monitors;
mod pg_tls;

pub use backend::DbError;
pub use diff::{diff, fingerprint, Diff};
pub use location::Location;
pub use migrations::MIGRATIONS;
pub use monitors::{
    span_text, Lease, MonitorRun, MonitorSpec, MonitorState, PendingAlert, RunOutcome, MAX_ALERT_ATTEMPTS,
};

use authprobe_core::{Report, Severity};
use backend::{Conn, Param, Row, Tx};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Why the store cannot do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create the history directory {path}: {source}")]
    CreateDir { path: PathBuf, source: std::io::Error },
    #[error("cannot open the history database {location}: {source}")]
    Open { location: String, source: DbError },
    #[error(
        "the history database {location} was written by a newer authprobe (schema {found}, this one knows {known})"
    )]
    TooNew { location: String, found: i64, known: i64 },
    #[error("history database error: {0}")]
    Db(#[from] DbError),
    #[error("stored report {id} is unreadable: {source}")]
    Corrupt { id: i64, source: serde_json::Error },
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Db(e.into())
    }
}

impl From<postgres::Error> for StoreError {
    fn from(e: postgres::Error) -> Self {
        StoreError::Db(e.into())
    }
}

/// How much history to keep per target. Both limits apply when both are set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Retention {
    /// Keep at most this many scans per target (the newest).
    pub keep: Option<usize>,
    /// Drop scans saved more than this many days ago.
    pub days: Option<u32>,
}

/// One stored scan without its report: what lists and charts need.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScanSummary {
    pub id: i64,
    pub target: String,
    pub started_at: String,
    pub finished_at: String,
    pub profile: String,
    pub score: u8,
    pub grade: String,
    pub requests: i64,
    pub findings: i64,
    /// Findings per severity: critical, high, medium, low, info.
    pub critical: i64,
    pub high: i64,
    pub medium: i64,
    pub low: i64,
    pub info: i64,
}

/// A stored scan with its full report.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredScan {
    pub summary: ScanSummary,
    pub report: Report,
}

/// A scanned target: its newest scan and the score before it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetSummary {
    pub target: String,
    pub scans: i64,
    pub latest: ScanSummary,
    /// The score of the scan before the newest one.
    pub previous_score: Option<u8>,
}

/// One category's score in one scan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CategoryPoint {
    pub scan_id: i64,
    pub name: String,
    pub score: u8,
}

/// What saving an identified (uploaded) scan did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Saved {
    pub id: i64,
    /// False when a scan with the same UUID was already stored (nothing was written).
    pub created: bool,
}

/// The scan history database.
pub struct Store {
    conn: Conn,
    location: Location,
}

/// Where the history lives when neither `--db` nor `AUTHPROBE_DB` says:
/// `$XDG_DATA_HOME/authprobe/history.db`, else `~/.local/share/authprobe/history.db`,
/// else `authprobe-history.db` in the working directory.
pub fn default_path() -> PathBuf {
    let from_env = |var: &str| std::env::var_os(var).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(data) = from_env("XDG_DATA_HOME") {
        return data.join("authprobe/history.db");
    }
    if let Some(home) = from_env("HOME") {
        return home.join(".local/share/authprobe/history.db");
    }
    PathBuf::from("authprobe-history.db")
}

const SUMMARY_COLUMNS: &str =
    "id, target, started_at, finished_at, profile, score, grade, requests, findings, critical, high, medium, low, info";

fn summary_from_row(row: &Row) -> Result<ScanSummary, DbError> {
    Ok(ScanSummary {
        id: row.int(0)?,
        target: row.text(1)?,
        started_at: row.text(2)?,
        finished_at: row.text(3)?,
        profile: row.text(4)?,
        score: row.int(5)?.clamp(0, 100) as u8,
        grade: row.text(6)?,
        requests: row.int(7)?,
        findings: row.int(8)?,
        critical: row.int(9)?,
        high: row.int(10)?,
        medium: row.int(11)?,
        low: row.int(12)?,
        info: row.int(13)?,
    })
}

fn summaries(rows: Vec<Row>) -> Result<Vec<ScanSummary>, StoreError> {
    Ok(rows.iter().map(summary_from_row).collect::<Result<Vec<_>, _>>()?)
}

fn now_unix() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn clamp_limit(limit: usize) -> i64 {
    limit.min(i64::MAX as usize) as i64
}

impl Store {
    /// Opens the SQLite database at `path`, creating it (and its directory) and migrating
    /// its schema to the newest version.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Store::connect(&Location::Sqlite(path.to_path_buf()))
    }

    /// Opens the database at `location` (a SQLite file or a Postgres server) and migrates
    /// its schema to the newest version.
    pub fn connect(location: &Location) -> Result<Store, StoreError> {
        let open_err = |source: DbError| StoreError::Open {
            location: location.to_string(),
            source,
        };
        let mut conn = match location {
            Location::Sqlite(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
                        path: dir.to_path_buf(),
                        source,
                    })?;
                }
                let conn = open_sqlite(path).map_err(|e| open_err(e.into()))?;
                Conn::Sqlite(conn)
            }
            Location::Postgres(url) => Conn::Postgres(
                Box::new(location::connect_postgres(url).map_err(open_err)?),
                url.clone(),
            ),
        };
        let found = migrations::migrate(&mut conn).map_err(open_err)?;
        if found > migrations::known() {
            return Err(StoreError::TooNew {
                location: location.to_string(),
                found,
                known: migrations::known(),
            });
        }
        Ok(Store {
            conn,
            location: location.clone(),
        })
    }

    /// Where the database is (a Postgres URL's password never shows in its `Display`).
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// The schema version of the open database.
    pub fn schema_version(&mut self) -> Result<i64, StoreError> {
        let mut tx = self.conn.transaction()?;
        Ok(migrations::version(&mut tx)?)
    }

    /// Saves a finished scan and applies `retention` to its target, all in one
    /// transaction. Returns the new scan's id.
    pub fn save(&mut self, report: &Report, retention: Retention) -> Result<i64, StoreError> {
        let mut tx = self.conn.transaction()?;
        let id = insert_scan(&mut tx, report, None, retention)?;
        tx.commit()?;
        Ok(id)
    }

    /// Saves a scan that carries its own UUID (an upload, a monitor run) once: a second
    /// save of the same UUID writes nothing and returns the stored scan's id.
    pub fn save_identified(
        &mut self,
        report: &Report,
        scan_uuid: &str,
        retention: Retention,
    ) -> Result<Saved, StoreError> {
        let mut tx = self.conn.transaction()?;
        if let Some(row) = tx.query_opt("SELECT id FROM scans WHERE scan_uuid = ?1", &[scan_uuid.into()])? {
            return Ok(Saved {
                id: row.int(0)?,
                created: false,
            });
        }
        let id = match insert_scan(&mut tx, report, Some(scan_uuid), retention) {
            Ok(id) => id,
            // Two uploads of one scan at once on Postgres: the unique index stops the
            // second, which then finds the first.
            Err(StoreError::Db(DbError::Postgres(e))) if is_unique_violation(&e) => {
                drop(tx);
                return match self.scan_by_uuid(scan_uuid)? {
                    Some(id) => Ok(Saved { id, created: false }),
                    None => Err(StoreError::Db(DbError::Postgres(e))),
                };
            }
            Err(e) => return Err(e),
        };
        tx.commit()?;
        Ok(Saved { id, created: true })
    }

    /// The id of the scan stored under `scan_uuid`, if any.
    pub fn scan_by_uuid(&mut self, scan_uuid: &str) -> Result<Option<i64>, StoreError> {
        let rows = self
            .conn
            .query("SELECT id FROM scans WHERE scan_uuid = ?1", &[scan_uuid.into()])?;
        Ok(rows.first().map(|r| r.int(0)).transpose()?)
    }

    /// Scans of one target (or all), newest first, at most `limit`.
    pub fn scans(&mut self, target: Option<&str>, limit: usize) -> Result<Vec<ScanSummary>, StoreError> {
        let limit = clamp_limit(limit);
        let rows = match target {
            Some(t) => self.conn.query(
                &format!("SELECT {SUMMARY_COLUMNS} FROM scans WHERE target = ?1 ORDER BY id DESC LIMIT ?2"),
                &[t.into(), limit.into()],
            )?,
            None => self.conn.query(
                &format!("SELECT {SUMMARY_COLUMNS} FROM scans ORDER BY id DESC LIMIT ?1"),
                &[limit.into()],
            )?,
        };
        summaries(rows)
    }

    /// One scan with its report, or `None` when there is no such id.
    pub fn scan(&mut self, id: i64) -> Result<Option<StoredScan>, StoreError> {
        let rows = self.conn.query(
            &format!("SELECT {SUMMARY_COLUMNS}, report FROM scans WHERE id = ?1"),
            &[id.into()],
        )?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        let summary = summary_from_row(row)?;
        let json = row.text(14)?;
        let report = serde_json::from_str(&json).map_err(|source| StoreError::Corrupt { id, source })?;
        Ok(Some(StoredScan { summary, report }))
    }

    /// The scan saved just before `id` for the same target.
    pub fn previous(&mut self, id: i64) -> Result<Option<ScanSummary>, StoreError> {
        let rows = self.conn.query(
            &format!(
                "SELECT {SUMMARY_COLUMNS} FROM scans WHERE target = (SELECT target FROM scans WHERE id = ?1)
                   AND id < ?1 ORDER BY id DESC LIMIT 1"
            ),
            &[id.into()],
        )?;
        Ok(summaries(rows)?.into_iter().next())
    }

    /// Every target with its newest scan, most recently scanned first. One query, however
    /// many targets: a shared store of thousands of APIs answers in one round trip.
    pub fn targets(&mut self) -> Result<Vec<TargetSummary>, StoreError> {
        let columns: Vec<String> = SUMMARY_COLUMNS.split(", ").map(|c| format!("s.{c}")).collect();
        let rows = self.conn.query(
            &format!(
                "SELECT {}, h.n,
                   (SELECT p.score FROM scans p WHERE p.target = s.target AND p.id < s.id ORDER BY p.id DESC LIMIT 1)
                 FROM (SELECT target, COUNT(*) AS n, MAX(id) AS last FROM scans GROUP BY target) h
                 JOIN scans s ON s.id = h.last
                 ORDER BY s.id DESC",
                columns.join(", ")
            ),
            &[],
        )?;
        rows.iter()
            .map(|row| {
                let latest = summary_from_row(row)?;
                Ok(TargetSummary {
                    target: latest.target.clone(),
                    scans: row.int(14)?,
                    previous_score: row.opt_int(15)?.map(|s| s.clamp(0, 100) as u8),
                    latest,
                })
            })
            .collect()
    }

    /// Per-category scores of a target's newest `limit` scans, oldest first.
    pub fn category_history(&mut self, target: &str, limit: usize) -> Result<Vec<CategoryPoint>, StoreError> {
        let rows = self.conn.query(
            "SELECT c.scan_id, c.name, c.score FROM category_scores c
               JOIN (SELECT id FROM scans WHERE target = ?1 ORDER BY id DESC LIMIT ?2) s ON s.id = c.scan_id
             ORDER BY c.scan_id, c.name",
            &[target.into(), clamp_limit(limit).into()],
        )?;
        rows.iter()
            .map(|r| {
                Ok(CategoryPoint {
                    scan_id: r.int(0)?,
                    name: r.text(1)?,
                    score: r.int(2)?.clamp(0, 100) as u8,
                })
            })
            .collect()
    }

    /// Number of stored scans.
    pub fn count(&mut self) -> Result<i64, StoreError> {
        Ok(self.conn.query("SELECT COUNT(*) FROM scans", &[])?[0].int(0)?)
    }

    /// The database's own consistency check: `ok` when a SQLite file is sound; Postgres
    /// keeps its own, so there it answers `ok` once a query succeeds.
    pub fn integrity_check(&mut self) -> Result<String, StoreError> {
        match &self.conn {
            Conn::Sqlite(c) => Ok(c.query_row("PRAGMA integrity_check", [], |r| r.get(0))?),
            Conn::Postgres(..) => {
                self.conn.query("SELECT 1", &[])?;
                Ok("ok".into())
            }
        }
    }
}

fn open_sqlite(path: &Path) -> Result<rusqlite::Connection, rusqlite::Error> {
    let conn = rusqlite::Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(30))?;
    // WAL: readers (the dashboard) never block the writer (a scan being saved). Turning it
    // on takes an exclusive lock that SQLite does not wait for: two scans opening a new
    // history at the same instant would see "database is locked", so it is retried.
    let started = std::time::Instant::now();
    loop {
        match conn.pragma_update(None, "journal_mode", "WAL") {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if matches!(
                    e.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                ) && started.elapsed() < Duration::from_secs(30) =>
            {
                std::thread::sleep(Duration::from_millis(20));
            }
            other => break other?,
        }
    }
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    Ok(conn)
}

fn is_unique_violation(e: &postgres::Error) -> bool {
    e.code() == Some(&postgres::error::SqlState::UNIQUE_VIOLATION)
}

/// Inserts a scan with its category scores and applies `retention` to its target, inside
/// the caller's transaction.
fn insert_scan(
    tx: &mut Tx<'_>,
    report: &Report,
    scan_uuid: Option<&str>,
    retention: Retention,
) -> Result<i64, StoreError> {
    let json = serde_json::to_string(report).map_err(|source| StoreError::Corrupt { id: 0, source })?;
    let count = |s: Severity| report.findings.iter().filter(|f| f.severity == s).count() as i64;
    let target = &report.target.url;
    let row = tx.query_opt(
        "INSERT INTO scans (target, started_at, finished_at, saved_unix, profile, score, grade, requests,
            findings, critical, high, medium, low, info, report, scan_uuid)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
         RETURNING id",
        &[
            target.into(),
            (&report.started_at).into(),
            (&report.finished_at).into(),
            now_unix().into(),
            (&report.profile).into(),
            i64::from(report.score).into(),
            (&report.grade).into(),
            (report.stats.requests as i64).into(),
            (report.findings.len() as i64).into(),
            count(Severity::Critical).into(),
            count(Severity::High).into(),
            count(Severity::Medium).into(),
            count(Severity::Low).into(),
            count(Severity::Info).into(),
            Param::Text(&json),
            scan_uuid.into(),
        ],
    )?;
    let id = row.expect("INSERT … RETURNING gives a row").int(0)?;
    // Untested categories have no score to chart.
    for category in &report.categories {
        if let Some(score) = category.score {
            tx.execute(
                "INSERT INTO category_scores (scan_id, name, score) VALUES (?1, ?2, ?3)
                 ON CONFLICT (scan_id, name) DO UPDATE SET score = excluded.score",
                &[id.into(), (&category.name).into(), i64::from(score).into()],
            )?;
        }
    }
    if let Some(keep) = retention.keep {
        tx.execute(
            "DELETE FROM scans WHERE target = ?1 AND id NOT IN
               (SELECT id FROM scans WHERE target = ?1 ORDER BY id DESC LIMIT ?2)",
            &[target.into(), (keep.max(1) as i64).into()],
        )?;
    }
    if let Some(days) = retention.days {
        // The scan just saved always stays.
        tx.execute(
            "DELETE FROM scans WHERE target = ?1 AND saved_unix <= ?2 AND id != ?3",
            &[target.into(), (now_unix() - i64::from(days) * 86_400).into(), id.into()],
        )?;
    }
    Ok(id)
}

/// A one-line sparkline of scores (0–100), oldest first: `▁▃▅█`.
pub fn sparkline(scores: &[u8]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    scores
        .iter()
        .map(|s| BARS[(usize::from((*s).min(100)) * 7 + 50) / 100])
        .collect()
}

#[cfg(test)]
mod tests;
