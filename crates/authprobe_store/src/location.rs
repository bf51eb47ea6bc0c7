//! Where the history lives: a SQLite file, or a Postgres server named by a URL.

use crate::backend::DbError;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

/// A history database: `postgres://…` / `postgresql://…` is a Postgres server, anything
/// else a SQLite file.
#[derive(Clone, PartialEq, Eq)]
pub enum Location {
    Sqlite(PathBuf),
    /// The connection URL, password included: shown only through [`Location`]'s
    /// `Display`, which hides it.
    Postgres(String),
}

impl Location {
    /// Reads `--db`, `AUTHPROBE_DB` or `[store] url`/`path`.
    pub fn parse(raw: &str) -> Location {
        if is_postgres_url(raw) {
            Location::Postgres(raw.to_string())
        } else {
            Location::Sqlite(PathBuf::from(raw))
        }
    }

    /// The SQLite file, if this is one.
    pub fn sqlite_path(&self) -> Option<&std::path::Path> {
        match self {
            Location::Sqlite(path) => Some(path),
            Location::Postgres(_) => None,
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Location::Postgres(_))
    }
}

/// Whether `raw` names a Postgres server.
pub fn is_postgres_url(raw: &str) -> bool {
    let lower = raw.trim_start().to_ascii_lowercase();
    lower.starts_with("postgres://") || lower.starts_with("postgresql://")
}

/// The URL with its password replaced by `***`.
fn redacted(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("***"));
            }
            // `?password=` is also accepted by libpq-style URLs.
            let query: Vec<(String, String)> = parsed
                .query_pairs()
                .map(|(k, v)| {
                    let v = if k.eq_ignore_ascii_case("password") {
                        "***".to_string()
                    } else {
                        v.into_owned()
                    };
                    (k.into_owned(), v)
                })
                .collect();
            if !query.is_empty() {
                parsed.query_pairs_mut().clear().extend_pairs(query);
            }
            parsed.to_string()
        }
        Err(_) => "postgres://[unparsable URL]".to_string(),
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Sqlite(path) => write!(f, "{}", path.display()),
            Location::Postgres(url) => f.write_str(&redacted(url)),
        }
    }
}

impl std::fmt::Debug for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Location({self})")
    }
}

/// Connects to a Postgres server, over TLS as the URL's `sslmode` asks (see
/// [`crate::pg_tls`]; by default encrypted whenever the server takes TLS, as libpq does).
pub fn connect_postgres(url: &str) -> Result<postgres::Client, DbError> {
    let (tls, url) = crate::pg_tls::TlsPolicy::from_url(url)?;
    let mut config = postgres::Config::from_str(&url)?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(10));
    }
    if config.get_application_name().is_none() {
        config.application_name("authprobe");
    }
    match tls.client_config()? {
        Some(client) => Ok(config.connect(tokio_postgres_rustls::MakeRustlsConnect::new(client))?),
        None => Ok(config.connect(postgres::NoTls)?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_choose_postgres_and_never_show_the_password() {
        let pg = Location::parse("postgres://scanner:s3cret-pw@db.internal:5432/authprobe");
        assert!(pg.is_postgres());
        assert_eq!(pg.to_string(), "postgres://scanner:***@db.internal:5432/authprobe");
        assert!(!format!("{pg:?}").contains("s3cret"));
        let query = Location::parse("postgresql://db/authprobe?user=a&password=hunter22");
        assert!(!query.to_string().contains("hunter22"), "{query}");
        let file = Location::parse("/var/lib/authprobe/history.db");
        assert_eq!(
            file.sqlite_path(),
            Some(std::path::Path::new("/var/lib/authprobe/history.db"))
        );
        assert!(Location::parse("postgres.db").sqlite_path().is_some());
    }
}
