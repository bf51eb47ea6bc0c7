//! `authprobe.toml` as a file: which one is used (`--config`, else `./authprobe.toml`
//! unless `--no-config`), and where in it a value sits, so every config error names the
//! file, line and column (`authprobe.toml:3:7: unknown field ...`).

use anyhow::{anyhow, Context, Result};
use authprobe_core::config::FileConfig;
use std::path::{Path, PathBuf};

/// The file picked up from the working directory when `--config` is not given.
pub const DEFAULT_NAME: &str = "authprobe.toml";

/// A config file that was read, with its text for locating values.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    /// As the user gave it (or `authprobe.toml` when found in the working directory).
    pub path: PathBuf,
    /// Found in the working directory rather than given with `--config`.
    pub found: bool,
    text: String,
}

/// A place in a config file: a table (`scan`, `flows.login`, or `ignore` for the
/// `index`-th `[[ignore]]`), and optionally a key in it.
#[derive(Debug, Clone, Copy)]
pub struct Place<'a> {
    pub table: &'a str,
    pub index: usize,
    pub key: Option<&'a str>,
}

impl<'a> Place<'a> {
    /// A key of a plain table (`[scan] timeout_secs`).
    pub fn key(table: &'a str, key: &'a str) -> Self {
        Place {
            table,
            index: 0,
            key: Some(key),
        }
    }

    /// The `index`-th entry of an array of tables (`[[identity]]`), or a key in it.
    pub fn entry(table: &'a str, index: usize, key: Option<&'a str>) -> Self {
        Place { table, index, key }
    }
}

/// The config file to use: `--config FILE`, else `./authprobe.toml` when it exists and
/// `--no-config` is not given. The flag is `true` for a file found, not given.
pub fn choose(explicit: Option<&Path>, no_config: bool) -> Option<(PathBuf, bool)> {
    if let Some(path) = explicit {
        return Some((path.to_path_buf(), false));
    }
    let here = Path::new(DEFAULT_NAME);
    (!no_config && here.is_file()).then(|| (here.to_path_buf(), true))
}

impl ConfigFile {
    /// Reads and parses a config file; a syntax or schema error names its line and column.
    pub fn load(path: &Path, found: bool) -> Result<(ConfigFile, FileConfig)> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("cannot read config file {}", path.display()))?;
        let file = ConfigFile {
            path: path.to_path_buf(),
            found,
            text,
        };
        let config = toml::from_str::<FileConfig>(&file.text).map_err(|e| {
            let at = match e.span() {
                Some(span) => file.position(span.start),
                None => file.path.display().to_string(),
            };
            anyhow!("{at}: {}", e.message().trim())
        })?;
        Ok((file, config))
    }

    /// `FILE:LINE:COL` of a byte offset (both 1-based; the column counts characters).
    fn position(&self, offset: usize) -> String {
        let offset = offset.min(self.text.len());
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = before[line_start..].chars().count() + 1;
        format!("{}:{line}:{col}", self.path.display())
    }

    /// `FILE:LINE:COL` of a table or a key in it, or `FILE` when it cannot be found (a
    /// dotted key or an inline table, say).
    pub fn at(&self, place: Place) -> String {
        match self.offset_of(place) {
            Some(offset) => self.position(offset),
            None => self.path.display().to_string(),
        }
    }

    /// An error about a value of the file, prefixed with where it is.
    pub fn error(&self, place: Place, message: impl std::fmt::Display) -> anyhow::Error {
        anyhow!("{}: {message}", self.at(place))
    }

    /// The byte offset of the key (or of the table's header when the key is absent or
    /// not given) in the text. The root table is `""`.
    fn offset_of(&self, place: Place) -> Option<usize> {
        let mut offset = 0;
        let mut current: Option<(String, usize)> = Some((String::new(), 0));
        let mut seen: std::collections::HashMap<String, usize> = Default::default();
        let mut header: Option<usize> = None;
        for line in self.text.split_inclusive('\n') {
            let trimmed = line.trim_start();
            let indent = line.len() - trimmed.len();
            if let Some(name) = table_header(trimmed) {
                if header.is_some() {
                    // Left the wanted table without finding the key: point at its header.
                    return header;
                }
                let n = seen.entry(name.clone()).or_default();
                current = Some((name, *n));
                *n += 1;
                if current
                    .as_ref()
                    .is_some_and(|(t, i)| t == place.table && *i == place.index)
                {
                    header = Some(offset + indent);
                    if place.key.is_none() {
                        return header;
                    }
                }
            } else if let (Some(key), Some((table, index))) = (place.key, &current) {
                if table == place.table && *index == place.index && key_of(trimmed) == Some(key) {
                    return Some(offset + indent);
                }
            }
            offset += line.len();
        }
        header
    }
}

/// The name of a `[table]` or `[[array]]` header line, unquoted and without spaces.
fn table_header(line: &str) -> Option<String> {
    let line = line.split('#').next().unwrap_or("").trim();
    let inner = line
        .strip_prefix("[[")
        .and_then(|l| l.strip_suffix("]]"))
        .or_else(|| line.strip_prefix('[').and_then(|l| l.strip_suffix(']')))?;
    Some(
        inner
            .split('.')
            .map(|part| part.trim().trim_matches('"').trim_matches('\''))
            .collect::<Vec<_>>()
            .join("."),
    )
}

/// The key a `key = value` line sets.
fn key_of(line: &str) -> Option<&str> {
    let (key, _) = line.split_once('=')?;
    let key = key.trim().trim_matches('"').trim_matches('\'');
    (!key.is_empty() && !key.starts_with('#')).then_some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> ConfigFile {
        ConfigFile {
            path: PathBuf::from("authprobe.toml"),
            found: false,
            text: text.to_string(),
        }
    }

    const TEXT: &str = "[target]\nurl = \"http://x/\"\n\n[scan]\n  timeout_secs = 0\n\n[[ignore]]\ncheck = \"DJ001\"\nreason = \"x\"\n\n[[ignore]]\ncheck = \"NOPE\"\nreason = \"y\"\n[flows.login]\npath = \"/login/\"\n";

    #[test]
    fn keys_and_tables_are_found_by_line_and_column() {
        let f = file(TEXT);
        assert_eq!(f.at(Place::key("scan", "timeout_secs")), "authprobe.toml:5:3");
        assert_eq!(f.at(Place::key("target", "url")), "authprobe.toml:2:1");
        assert_eq!(f.at(Place::entry("ignore", 1, Some("check"))), "authprobe.toml:12:1");
        assert_eq!(f.at(Place::entry("ignore", 1, None)), "authprobe.toml:11:1");
        // A key the table does not have: its header.
        assert_eq!(f.at(Place::entry("ignore", 0, Some("expires"))), "authprobe.toml:7:1");
        assert_eq!(f.at(Place::key("flows.login", "path")), "authprobe.toml:15:1");
        assert_eq!(f.at(Place::key("store", "path")), "authprobe.toml");
    }

    #[test]
    fn syntax_errors_name_the_line_and_column() {
        let dir = std::env::temp_dir().join(format!("authprobe-config-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("authprobe.toml");
        std::fs::write(&path, "[target]\nurl = 'http://x/'\n\n[scan]\nmax_requests = 'many'\n").unwrap();
        let err = ConfigFile::load(&path, false).unwrap_err().to_string();
        assert!(err.starts_with(&format!("{}:5:16: ", path.display())), "{err}");
        assert!(err.contains("invalid type"), "{err}");
        std::fs::write(&path, "[target]\nurll = 'x'\n").unwrap();
        let err = ConfigFile::load(&path, false).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("{}:2:1: unknown field `urll`", path.display())),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
