//! The versioned schema, one entry per version for both databases.
//!
//! Entry `n` moves a database from version `n` to `n + 1`. Each entry is written twice, once
//! per dialect, with the same tables, columns and meaning; only the types differ
//! (`INTEGER PRIMARY KEY AUTOINCREMENT` against `BIGSERIAL`). SQLite keeps its version in
//! `PRAGMA user_version`; Postgres in the one-row table `authprobe_schema`, migrated under a
//! transaction-scoped advisory lock so that workers starting together migrate once.

use crate::backend::{Conn, DbError, Dialect, Tx};

/// One schema version, in both dialects.
pub struct Migration {
    pub sqlite: &'static str,
    pub postgres: &'static str,
}

impl Migration {
    fn sql(&self, dialect: Dialect) -> &'static str {
        match dialect {
            Dialect::Sqlite => self.sqlite,
            Dialect::Postgres => self.postgres,
        }
    }
}

/// Every version, oldest first.
pub const MIGRATIONS: &[Migration] = &[
    // 1: scans with their summary columns, per-category scores.
    Migration {
        sqlite: "CREATE TABLE scans (
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
        postgres: "CREATE TABLE scans (
            id BIGSERIAL PRIMARY KEY,
            target TEXT NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT NOT NULL,
            saved_unix BIGINT NOT NULL,
            profile TEXT NOT NULL,
            score BIGINT NOT NULL,
            grade TEXT NOT NULL,
            requests BIGINT NOT NULL,
            findings BIGINT NOT NULL,
            critical BIGINT NOT NULL,
            high BIGINT NOT NULL,
            medium BIGINT NOT NULL,
            low BIGINT NOT NULL,
            info BIGINT NOT NULL,
            report TEXT NOT NULL
         );
         CREATE INDEX scans_by_target ON scans(target, id);
         CREATE TABLE category_scores (
            scan_id BIGINT NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            score BIGINT NOT NULL,
            PRIMARY KEY (scan_id, name)
         );",
    },
    // 2: a scan's UUID (uploads are idempotent by it); the shared monitor schedule with its
    // leases, one row per rescan run, and the webhook alerts waiting to be sent.
    Migration {
        sqlite: "ALTER TABLE scans ADD COLUMN scan_uuid TEXT;
         CREATE UNIQUE INDEX scans_by_uuid ON scans(scan_uuid);
         CREATE TABLE monitors (
            target TEXT PRIMARY KEY,
            interval_secs INTEGER NOT NULL,
            webhook TEXT,
            next_due_unix INTEGER NOT NULL,
            lease_owner TEXT,
            lease_until_unix INTEGER,
            last_scan_id INTEGER
         );
         CREATE TABLE monitor_runs (
            target TEXT NOT NULL,
            due_unix INTEGER NOT NULL,
            worker TEXT NOT NULL,
            scan_id INTEGER NOT NULL,
            finished_unix INTEGER NOT NULL,
            PRIMARY KEY (target, due_unix)
         );
         CREATE TABLE alerts (
            scan_id INTEGER PRIMARY KEY,
            target TEXT NOT NULL,
            webhook TEXT NOT NULL,
            body TEXT NOT NULL,
            created_unix INTEGER NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_try_unix INTEGER NOT NULL,
            sent_unix INTEGER,
            last_error TEXT
         );",
        postgres: "ALTER TABLE scans ADD COLUMN scan_uuid TEXT;
         CREATE UNIQUE INDEX scans_by_uuid ON scans(scan_uuid);
         CREATE TABLE monitors (
            target TEXT PRIMARY KEY,
            interval_secs BIGINT NOT NULL,
            webhook TEXT,
            next_due_unix BIGINT NOT NULL,
            lease_owner TEXT,
            lease_until_unix BIGINT,
            last_scan_id BIGINT
         );
         CREATE TABLE monitor_runs (
            target TEXT NOT NULL,
            due_unix BIGINT NOT NULL,
            worker TEXT NOT NULL,
            scan_id BIGINT NOT NULL,
            finished_unix BIGINT NOT NULL,
            PRIMARY KEY (target, due_unix)
         );
         CREATE TABLE alerts (
            scan_id BIGINT PRIMARY KEY,
            target TEXT NOT NULL,
            webhook TEXT NOT NULL,
            body TEXT NOT NULL,
            created_unix BIGINT NOT NULL,
            attempts BIGINT NOT NULL DEFAULT 0,
            next_try_unix BIGINT NOT NULL,
            sent_unix BIGINT,
            last_error TEXT
         );",
    },
];

/// The schema version this build knows.
pub fn known() -> i64 {
    MIGRATIONS.len() as i64
}

/// The version a database is at.
pub fn version(tx: &mut Tx<'_>) -> Result<i64, DbError> {
    match tx {
        Tx::Sqlite(t) => Ok(t.pragma_query_value(None, "user_version", |r| r.get(0))?),
        Tx::Postgres(_) => {
            tx.batch("CREATE TABLE IF NOT EXISTS authprobe_schema (version BIGINT NOT NULL)")?;
            Ok(tx
                .query_opt("SELECT version FROM authprobe_schema", &[])?
                .map(|r| r.int(0))
                .transpose()?
                .unwrap_or(0))
        }
    }
}

/// Brings the database to the newest version; returns the version found, which is newer
/// than [`known`] when a newer authprobe wrote it (then nothing is changed).
pub fn migrate(conn: &mut Conn) -> Result<i64, DbError> {
    let mut tx = conn.transaction()?;
    let dialect = tx.dialect();
    if dialect == Dialect::Postgres {
        // Workers that start together: the first migrates, the others wait and find it done.
        tx.batch("SELECT pg_advisory_xact_lock(7362911507)")?;
    }
    let found = version(&mut tx)?;
    if found > known() {
        return Ok(found);
    }
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        tx.batch(migration.sql(dialect))?;
        let next = index as i64 + 1;
        match &mut tx {
            Tx::Sqlite(t) => t.pragma_update(None, "user_version", next)?,
            Tx::Postgres(_) => {
                tx.execute("DELETE FROM authprobe_schema", &[])?;
                tx.execute("INSERT INTO authprobe_schema (version) VALUES (?1)", &[next.into()])?;
            }
        }
    }
    tx.commit()?;
    Ok(found)
}
