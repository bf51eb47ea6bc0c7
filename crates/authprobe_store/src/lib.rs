//! Scan history: every `authprobe.report/v1` report kept in an embedded SQLite database.
//!
//! The database is created on first use and migrated with the versioned migrations in
//! [`MIGRATIONS`] (tracked by SQLite's `user_version`). A scan is saved in one transaction
//! together with its per-category scores and the retention pruning, so a process killed at
//! any moment leaves either the whole scan or none of it. Reports reach the store already
//! redacted by the engine; the store adds no credential of its own.

mod diff;
pub mod fixtures;

pub use diff::{diff, fingerprint, Diff};

use authprobe_core::{Report, Severity};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Why the store cannot do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create the history directory {path}: {source}")]
    CreateDir { path: PathBuf, source: std::io::Error },
    #[error("cannot open the history database {path}: {source}")]
    Open { path: PathBuf, source: rusqlite::Error },
    #[error("the history database {path} was written by a newer authprobe (schema {found}, this one knows {known})")]
    TooNew { path: PathBuf, found: i64, known: i64 },
    #[error("history database error: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("stored report {id} is unreadable: {source}")]
    Corrupt { id: i64, source: serde_json::Error },
}

/// Versioned schema migrations; entry `n` moves the schema from version `n` to `n + 1`.
pub const MIGRATIONS: &[&str] = &[
    // 1: scans with their summary columns, per-category scores.
    "CREATE TABLE scans (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        target TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT NOT NULL,
        saved_unix INTEGER NOT NULL,
        profile TEXT NOT NULL,
        score INTEGER NOT NULL,
        grade TEXT NOT NULL,
        requests INTEGER NOT NULL,
        findings INTEGER NOT NULL,
        critical INTEGER NOT NULL,
        high INTEGER NOT NULL,
        medium INTEGER NOT NULL,
        low INTEGER NOT NULL,
        info INTEGER NOT NULL,
        report TEXT NOT NULL
     );
     CREATE INDEX scans_by_target ON scans(target, id);
     CREATE TABLE category_scores (
        scan_id INTEGER NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        score INTEGER NOT NULL,
        PRIMARY KEY (scan_id, name)
     );",
];

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

/// The scan history database.
pub struct Store {
    conn: Connection,
    path: PathBuf,
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

fn summary_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<ScanSummary> {
    Ok(ScanSummary {
        id: row.get(0)?,
        target: row.get(1)?,
        started_at: row.get(2)?,
        finished_at: row.get(3)?,
        profile: row.get(4)?,
        score: row.get::<_, i64>(5)?.clamp(0, 100) as u8,
        grade: row.get(6)?,
        requests: row.get(7)?,
        findings: row.get(8)?,
        critical: row.get(9)?,
        high: row.get(10)?,
        medium: row.get(11)?,
        low: row.get(12)?,
        info: row.get(13)?,
    })
}

fn now_unix() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

impl Store {
    /// Opens the database at `path`, creating it (and its directory) and migrating its
    /// schema to the newest version.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let open_err = |source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open(path).map_err(open_err)?;
        conn.busy_timeout(Duration::from_secs(30)).map_err(open_err)?;
        // WAL: readers (the dashboard) never block the writer (a scan being saved).
        conn.pragma_update(None, "journal_mode", "WAL").map_err(open_err)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(open_err)?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(open_err)?;
        let mut store = Store {
            conn,
            path: path.to_path_buf(),
        };
        store.migrate()?;
        Ok(store)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self.conn.pragma_query_value(None, "user_version", |r| r.get(0))?)
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let known = MIGRATIONS.len() as i64;
        // IMMEDIATE: two processes opening a fresh database at once migrate one after the other.
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let found: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if found > known {
            return Err(StoreError::TooNew {
                path: self.path.clone(),
                found,
                known,
            });
        }
        for (version, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", version as i64 + 1)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Saves a finished scan and applies `retention` to its target, all in one
    /// transaction. Returns the new scan's id.
    pub fn save(&mut self, report: &Report, retention: Retention) -> Result<i64, StoreError> {
        let json = serde_json::to_string(report).map_err(|source| StoreError::Corrupt { id: 0, source })?;
        let count = |s: Severity| report.findings.iter().filter(|f| f.severity == s).count() as i64;
        let target = &report.target.url;
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO scans (target, started_at, finished_at, saved_unix, profile, score, grade, requests,
                findings, critical, high, medium, low, info, report)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            params![
                target,
                report.started_at,
                report.finished_at,
                now_unix(),
                report.profile,
                report.score,
                report.grade,
                report.stats.requests as i64,
                report.findings.len() as i64,
                count(Severity::Critical),
                count(Severity::High),
                count(Severity::Medium),
                count(Severity::Low),
                count(Severity::Info),
                json,
            ],
        )?;
        let id = tx.last_insert_rowid();
        {
            let mut insert =
                tx.prepare("INSERT OR REPLACE INTO category_scores (scan_id, name, score) VALUES (?1, ?2, ?3)")?;
            // Untested categories have no score to chart.
            for category in &report.categories {
                if let Some(score) = category.score {
                    insert.execute(params![id, category.name, score])?;
                }
            }
        }
        if let Some(keep) = retention.keep {
            tx.execute(
                "DELETE FROM scans WHERE target = ?1 AND id NOT IN
                   (SELECT id FROM scans WHERE target = ?1 ORDER BY id DESC LIMIT ?2)",
                params![target, keep.max(1) as i64],
            )?;
        }
        if let Some(days) = retention.days {
            // The scan just saved always stays.
            tx.execute(
                "DELETE FROM scans WHERE target = ?1 AND saved_unix <= ?2 AND id != ?3",
                params![target, now_unix() - i64::from(days) * 86_400, id],
            )?;
        }
        tx.commit()?;
        Ok(id)
    }

    /// Scans of one target (or all), newest first, at most `limit`.
    pub fn scans(&self, target: Option<&str>, limit: usize) -> Result<Vec<ScanSummary>, StoreError> {
        let limit = limit.min(i64::MAX as usize) as i64;
        let rows = match target {
            Some(t) => {
                let mut stmt = self.conn.prepare_cached(&format!(
                    "SELECT {SUMMARY_COLUMNS} FROM scans WHERE target = ?1 ORDER BY id DESC LIMIT ?2"
                ))?;
                let rows = stmt.query_map(params![t, limit], summary_from_row)?;
                rows.collect::<Result<Vec<_>, _>>()?
            }
            None => {
                let mut stmt = self.conn.prepare_cached(&format!(
                    "SELECT {SUMMARY_COLUMNS} FROM scans ORDER BY id DESC LIMIT ?1"
                ))?;
                let rows = stmt.query_map(params![limit], summary_from_row)?;
                rows.collect::<Result<Vec<_>, _>>()?
            }
        };
        Ok(rows)
    }

    /// One scan with its report, or `None` when there is no such id.
    pub fn scan(&self, id: i64) -> Result<Option<StoredScan>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!("SELECT {SUMMARY_COLUMNS}, report FROM scans WHERE id = ?1"))?;
        let row = stmt
            .query_row(params![id], |row| {
                Ok((summary_from_row(row)?, row.get::<_, String>(14)?))
            })
            .optional()?;
        match row {
            None => Ok(None),
            Some((summary, json)) => {
                let report = serde_json::from_str(&json).map_err(|source| StoreError::Corrupt { id, source })?;
                Ok(Some(StoredScan { summary, report }))
            }
        }
    }

    /// The scan saved just before `id` for the same target.
    pub fn previous(&self, id: i64) -> Result<Option<ScanSummary>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {SUMMARY_COLUMNS} FROM scans WHERE target = (SELECT target FROM scans WHERE id = ?1)
               AND id < ?1 ORDER BY id DESC LIMIT 1"
        ))?;
        Ok(stmt.query_row(params![id], summary_from_row).optional()?)
    }

    /// Every target with its newest scan, most recently scanned first.
    pub fn targets(&self) -> Result<Vec<TargetSummary>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT target, COUNT(*), MAX(id) FROM scans GROUP BY target ORDER BY MAX(id) DESC")?;
        let heads = stmt
            .query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut by_id = self
            .conn
            .prepare_cached(&format!("SELECT {SUMMARY_COLUMNS} FROM scans WHERE id = ?1"))?;
        let mut previous = self
            .conn
            .prepare_cached("SELECT score FROM scans WHERE target = ?1 AND id < ?2 ORDER BY id DESC LIMIT 1")?;
        let mut out = Vec::with_capacity(heads.len());
        for (target, scans, last) in heads {
            let latest = by_id.query_row(params![last], summary_from_row)?;
            let previous_score = previous
                .query_row(params![target, last], |r| r.get::<_, i64>(0))
                .optional()?
                .map(|s| s.clamp(0, 100) as u8);
            out.push(TargetSummary {
                target,
                scans,
                latest,
                previous_score,
            });
        }
        Ok(out)
    }

    /// Per-category scores of a target's newest `limit` scans, oldest first.
    pub fn category_history(&self, target: &str, limit: usize) -> Result<Vec<CategoryPoint>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT c.scan_id, c.name, c.score FROM category_scores c
               JOIN (SELECT id FROM scans WHERE target = ?1 ORDER BY id DESC LIMIT ?2) s ON s.id = c.scan_id
             ORDER BY c.scan_id, c.name",
        )?;
        let rows = stmt.query_map(params![target, limit.min(i64::MAX as usize) as i64], |r| {
            Ok(CategoryPoint {
                scan_id: r.get(0)?,
                name: r.get(1)?,
                score: r.get::<_, i64>(2)?.clamp(0, 100) as u8,
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Number of stored scans.
    pub fn count(&self) -> Result<i64, StoreError> {
        Ok(self.conn.query_row("SELECT COUNT(*) FROM scans", [], |r| r.get(0))?)
    }

    /// SQLite's own consistency check (`ok` when the file is sound).
    pub fn integrity_check(&self) -> Result<String, StoreError> {
        Ok(self.conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
    }
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
