//! The two databases behind one small interface: SQLite (embedded, one file) and
//! PostgreSQL (shared by dashboards and workers on many machines).
//!
//! The store writes its SQL once, with `?1`-style placeholders and the `{now}` marker for
//! the database's clock; [`Dialect::sql`] turns it into what each database accepts. Values
//! cross as [`Param`] and come back as [`Value`], so the queries and the row mapping are
//! shared and only connecting, transactions and row locking differ.

use std::borrow::Cow;

/// Why a database call failed, from either driver.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("{0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("{}", postgres_message(.0))]
    Postgres(#[from] postgres::Error),
    /// A connection setting that cannot be used (an `sslmode`, a root certificate file).
    #[error("{0}")]
    Config(String),
    #[error("column {index} holds {found}, expected {expected}")]
    Type {
        index: usize,
        found: &'static str,
        expected: &'static str,
    },
}

/// Postgres errors print as "db error" alone; the server's message is what helps.
fn postgres_message(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {}", db.severity(), db.message()),
        // "error connecting to server" says little without its cause (refused, timed out).
        None => match std::error::Error::source(e) {
            Some(cause) => format!("{e}: {cause}"),
            None => e.to_string(),
        },
    }
}

/// A query parameter.
#[derive(Debug, Clone)]
pub enum Param<'a> {
    Int(i64),
    Text(&'a str),
    /// NULL in an integer column (Postgres checks a parameter's type even when it is NULL).
    NullInt,
    /// NULL in a text column.
    NullText,
}

impl<'a> From<i64> for Param<'a> {
    fn from(v: i64) -> Self {
        Param::Int(v)
    }
}

impl<'a> From<&'a str> for Param<'a> {
    fn from(v: &'a str) -> Self {
        Param::Text(v)
    }
}

impl<'a> From<&'a String> for Param<'a> {
    fn from(v: &'a String) -> Self {
        Param::Text(v)
    }
}

impl<'a> From<Option<i64>> for Param<'a> {
    fn from(v: Option<i64>) -> Self {
        v.map_or(Param::NullInt, Param::Int)
    }
}

impl<'a> From<Option<&'a str>> for Param<'a> {
    fn from(v: Option<&'a str>) -> Self {
        v.map_or(Param::NullText, Param::Text)
    }
}

/// One column of a result row.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Int(i64),
    Text(String),
    Null,
}

/// A result row.
#[derive(Debug, Clone)]
pub struct Row(pub Vec<Value>);

impl Row {
    pub fn int(&self, index: usize) -> Result<i64, DbError> {
        match self.0.get(index) {
            Some(Value::Int(v)) => Ok(*v),
            other => Err(type_error(index, other, "an integer")),
        }
    }

    pub fn opt_int(&self, index: usize) -> Result<Option<i64>, DbError> {
        match self.0.get(index) {
            Some(Value::Null) => Ok(None),
            _ => self.int(index).map(Some),
        }
    }

    pub fn text(&self, index: usize) -> Result<String, DbError> {
        match self.0.get(index) {
            Some(Value::Text(v)) => Ok(v.clone()),
            other => Err(type_error(index, other, "text")),
        }
    }

    pub fn opt_text(&self, index: usize) -> Result<Option<String>, DbError> {
        match self.0.get(index) {
            Some(Value::Null) => Ok(None),
            _ => self.text(index).map(Some),
        }
    }
}

fn type_error(index: usize, found: Option<&Value>, expected: &'static str) -> DbError {
    let found = match found {
        None => "nothing",
        Some(Value::Int(_)) => "an integer",
        Some(Value::Text(_)) => "text",
        Some(Value::Null) => "NULL",
    };
    DbError::Type { index, found, expected }
}

/// Which SQL the database speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// `sql` for this database: `?N` placeholders become `$N` on Postgres, and `{now}`
    /// becomes the database's clock in Unix seconds (one clock for every worker, whatever
    /// their machines' clocks say).
    pub fn sql<'s>(self, sql: &'s str) -> Cow<'s, str> {
        let now = match self {
            Dialect::Sqlite => "CAST(strftime('%s','now') AS INTEGER)",
            Dialect::Postgres => "CAST(EXTRACT(EPOCH FROM clock_timestamp()) AS BIGINT)",
        };
        let sql: Cow<'s, str> = if sql.contains("{now}") {
            Cow::Owned(sql.replace("{now}", now))
        } else {
            Cow::Borrowed(sql)
        };
        match self {
            Dialect::Sqlite => sql,
            Dialect::Postgres if !sql.contains('?') => sql,
            Dialect::Postgres => {
                let mut out = String::with_capacity(sql.len());
                let mut chars = sql.chars().peekable();
                while let Some(c) = chars.next() {
                    if c == '?' && chars.peek().is_some_and(char::is_ascii_digit) {
                        out.push('$');
                    } else {
                        out.push(c);
                    }
                }
                Cow::Owned(out)
            }
        }
    }

    /// ` FOR UPDATE SKIP LOCKED` where the database locks rows; SQLite's write
    /// transactions already exclude one another, so it needs nothing.
    pub fn skip_locked(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
        }
    }

    /// ` FOR UPDATE` where the database locks rows.
    pub fn for_update(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE",
        }
    }
}

/// An open connection.
pub enum Conn {
    Sqlite(rusqlite::Connection),
    /// The client, and its URL to connect again after the server closed the connection
    /// (a restart, a failover): a long-running dashboard or worker heals by itself.
    Postgres(Box<postgres::Client>, String),
}

/// A transaction; dropped without [`Tx::commit`], it rolls back.
pub enum Tx<'c> {
    Sqlite(rusqlite::Transaction<'c>),
    Postgres(postgres::Transaction<'c>),
}

fn sqlite_params<'p>(params: &'p [Param<'p>]) -> Vec<rusqlite::types::Value> {
    params
        .iter()
        .map(|p| match p {
            Param::Int(v) => rusqlite::types::Value::Integer(*v),
            Param::Text(v) => rusqlite::types::Value::Text((*v).to_string()),
            Param::NullInt | Param::NullText => rusqlite::types::Value::Null,
        })
        .collect()
}

/// The parameters as the Postgres driver takes them: references into `params`, typed
/// NULLs for the NULL cases.
fn postgres_params<'p>(params: &'p [Param<'p>]) -> Vec<&'p (dyn postgres::types::ToSql + Sync)> {
    const NULL_INT: Option<i64> = None;
    const NULL_TEXT: Option<&str> = None;
    params
        .iter()
        .map(|p| -> &'p (dyn postgres::types::ToSql + Sync) {
            match p {
                Param::Int(v) => v,
                Param::Text(v) => v,
                Param::NullInt => &NULL_INT,
                Param::NullText => &NULL_TEXT,
            }
        })
        .collect()
}

fn sqlite_rows(stmt: &mut rusqlite::Statement<'_>, params: &[Param<'_>]) -> Result<Vec<Row>, DbError> {
    let values = sqlite_params(params);
    let width = stmt.column_count();
    let mut rows = stmt.query(rusqlite::params_from_iter(values))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let mut columns = Vec::with_capacity(width);
        for i in 0..width {
            columns.push(match row.get_ref(i)? {
                rusqlite::types::ValueRef::Integer(v) => Value::Int(v),
                rusqlite::types::ValueRef::Text(v) => Value::Text(String::from_utf8_lossy(v).into_owned()),
                rusqlite::types::ValueRef::Null => Value::Null,
                rusqlite::types::ValueRef::Real(v) => Value::Int(v as i64),
                rusqlite::types::ValueRef::Blob(v) => Value::Text(String::from_utf8_lossy(v).into_owned()),
            });
        }
        out.push(Row(columns));
    }
    Ok(out)
}

fn postgres_rows(rows: Vec<postgres::Row>) -> Result<Vec<Row>, DbError> {
    use postgres::types::Type;
    rows.into_iter()
        .map(|row| {
            let mut columns = Vec::with_capacity(row.len());
            for (i, column) in row.columns().iter().enumerate() {
                let ty = column.type_();
                let value = if *ty == Type::INT8 {
                    row.try_get::<_, Option<i64>>(i)?.map(Value::Int)
                } else if *ty == Type::INT4 {
                    row.try_get::<_, Option<i32>>(i)?.map(|v| Value::Int(v.into()))
                } else if *ty == Type::INT2 {
                    row.try_get::<_, Option<i16>>(i)?.map(|v| Value::Int(v.into()))
                } else if *ty == Type::BOOL {
                    row.try_get::<_, Option<bool>>(i)?.map(|v| Value::Int(v.into()))
                } else {
                    row.try_get::<_, Option<String>>(i)?.map(Value::Text)
                };
                columns.push(value.unwrap_or(Value::Null));
            }
            Ok(Row(columns))
        })
        .collect()
}

impl Conn {
    pub fn dialect(&self) -> Dialect {
        match self {
            Conn::Sqlite(_) => Dialect::Sqlite,
            Conn::Postgres(..) => Dialect::Postgres,
        }
    }

    /// Connects again when the server has closed the connection.
    fn heal(&mut self) -> Result<(), DbError> {
        if let Conn::Postgres(client, url) = self {
            if client.is_closed() {
                **client = crate::location::connect_postgres(url)?;
            }
        }
        Ok(())
    }

    /// Rows of a read outside any transaction.
    pub fn query(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Row>, DbError> {
        self.heal()?;
        let sql = self.dialect().sql(sql);
        match self {
            Conn::Sqlite(c) => sqlite_rows(&mut *c.prepare_cached(&sql)?, params),
            Conn::Postgres(c, _) => {
                let refs = postgres_params(params);
                postgres_rows(c.query(sql.as_ref(), &refs)?)
            }
        }
    }

    /// A write transaction. On SQLite it takes the write lock at once (`IMMEDIATE`), so two
    /// processes never both read and then both write; on Postgres rows are locked by the
    /// statements that need it.
    pub fn transaction(&mut self) -> Result<Tx<'_>, DbError> {
        self.heal()?;
        Ok(match self {
            Conn::Sqlite(c) => Tx::Sqlite(c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?),
            Conn::Postgres(c, _) => Tx::Postgres(c.transaction()?),
        })
    }
}

impl Tx<'_> {
    pub fn dialect(&self) -> Dialect {
        match self {
            Tx::Sqlite(_) => Dialect::Sqlite,
            Tx::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Runs a statement; returns the rows it changed.
    pub fn execute(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64, DbError> {
        let sql = self.dialect().sql(sql);
        match self {
            Tx::Sqlite(t) => {
                let values = sqlite_params(params);
                Ok(t.prepare_cached(&sql)?.execute(rusqlite::params_from_iter(values))? as u64)
            }
            Tx::Postgres(t) => {
                let refs = postgres_params(params);
                Ok(t.execute(sql.as_ref(), &refs)?)
            }
        }
    }

    /// Runs several statements without parameters (migrations).
    pub fn batch(&mut self, sql: &str) -> Result<(), DbError> {
        match self {
            Tx::Sqlite(t) => Ok(t.execute_batch(sql)?),
            Tx::Postgres(t) => Ok(t.batch_execute(sql)?),
        }
    }

    pub fn query(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Row>, DbError> {
        let sql = self.dialect().sql(sql);
        match self {
            Tx::Sqlite(t) => sqlite_rows(&mut *t.prepare_cached(&sql)?, params),
            Tx::Postgres(t) => {
                let refs = postgres_params(params);
                postgres_rows(t.query(sql.as_ref(), &refs)?)
            }
        }
    }

    /// The first row of a read, if any.
    pub fn query_opt(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Option<Row>, DbError> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    pub fn commit(self) -> Result<(), DbError> {
        match self {
            Tx::Sqlite(t) => Ok(t.commit()?),
            Tx::Postgres(t) => Ok(t.commit()?),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_and_the_clock_are_translated_for_postgres() {
        let sql = "SELECT a FROM t WHERE b = ?1 AND c < {now} AND d = '?' AND e = ?12";
        assert_eq!(
            Dialect::Postgres.sql(sql),
            "SELECT a FROM t WHERE b = $1 AND c < CAST(EXTRACT(EPOCH FROM clock_timestamp()) AS BIGINT) AND d = '?' AND e = $12"
        );
        assert_eq!(
            Dialect::Sqlite.sql("SELECT ?1, {now}"),
            "SELECT ?1, CAST(strftime('%s','now') AS INTEGER)"
        );
        assert!(matches!(Dialect::Sqlite.sql("SELECT ?1"), Cow::Borrowed(_)));
    }
}
