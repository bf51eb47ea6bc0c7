//! What a scan is told to do: the target, the identities, limits and hints.
//! The CLI builds this from flags layered over `authprobe.toml` ([`FileConfig`]).

use serde::Deserialize;
use url::Url;

use crate::probe::ProbeSettings;

pub use crate::auth::{LoginKind, SuppliedToken};
pub use crate::target::{Target, TargetError, UserCredential};

/// A scan's full configuration.
#[derive(Debug, Clone)]
pub struct ScanConfig {
    pub target: Target,
    pub users: Vec<UserCredential>,
    /// Credentials supplied as they are (`--bearer`, `--header`): identities without a login.
    pub tokens: Vec<SuppliedToken>,
    pub probe: ProbeSettings,
    /// Force a login endpoint (path or URL) instead of detecting one.
    pub login: Option<(LoginKind, String)>,
    /// Force the identity endpoint (returns the caller's own user record).
    pub identity_path: Option<String>,
    /// Paths the user declares protected: patterns as [`path_matches`] reads them.
    pub protected_paths: Vec<String>,
    /// Extra paths to include in the inventory.
    pub extra_paths: Vec<String>,
    /// Time offline secret cracking may take during the scan (per signed value).
    pub crack_time: std::time::Duration,
    /// Extra wordlists for secret cracking during the scan.
    pub wordlists: Vec<std::path::PathBuf>,
    /// Print recovered secrets in full instead of a prefix and length.
    pub show_secrets: bool,
    /// The profile name, stated in the report (`safe`, `standard`, `thorough`).
    pub profile: String,
    /// Opt-in for SESS005: change the first account's password (and change it back).
    pub allow_password_change: bool,
    /// `--mailbox URL`: where the target's e-mail is read (an SMTP sink authprobe runs, or
    /// a mail catcher's API), for the checks that follow a password reset (PASS002, next).
    /// Carried, not yet opened: no check reads it so far.
    pub mailbox: Option<crate::mailbox::MailboxUrl>,
    /// `[flows.*]`: the login, refresh, logout, password-change and identity flows the user
    /// declared; detection fills the roles left out.
    pub flows: crate::auth::FlowSpecs,
    /// `--spec FILE|URL`: an OpenAPI/Swagger spec that drives the inventory (no guessing).
    pub spec: Option<String>,
    /// `--allow-writes` against a declared non-production environment: write probes on.
    pub writes: Option<crate::writes::WriteMode>,
    /// Codes of the checks left out (`--checks`, `--exclude-checks`): listed as skipped
    /// with [`crate::engine::NOT_SELECTED`], never run.
    pub unselected_checks: std::collections::BTreeSet<String>,
    /// How checks are scheduled; [`Schedule::Tasks`] unless a comparison asks otherwise.
    pub schedule: Schedule,
}

/// How the engine schedules checks and how checks schedule their independent probes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Schedule {
    /// Every check a task of its own, independent probes within a check sent at the
    /// probe's concurrency (see [`crate::context::ScanContext::fan_out`]).
    #[default]
    Tasks,
    /// The schedule before issue 17, kept reachable as the bench's baseline (hidden
    /// `AUTHPROBE_SCHEDULE=sequential` in the CLI): checks in waves polled together in one
    /// task, each wave waiting for the previous one's slowest check, and a check's
    /// independent probes sent one at a time.
    Waves,
}

impl Schedule {
    /// `sequential` (or `waves`) for [`Schedule::Waves`], `tasks` for [`Schedule::Tasks`].
    pub fn parse(value: &str) -> Option<Schedule> {
        match value.trim().to_ascii_lowercase().as_str() {
            "tasks" | "concurrent" => Some(Schedule::Tasks),
            "sequential" | "waves" => Some(Schedule::Waves),
            _ => None,
        }
    }
}

impl ScanConfig {
    /// A scan of `target` with nothing supplied: no accounts or tokens, the probe's
    /// defaults, the `standard` profile, [`DEFAULT_CRACK_TIME`], every flow detected, every
    /// check selected, no writes. Callers set what they supply with struct update syntax.
    /// The configuration of a fixture scan (see `ScanContext::for_fixture`): room for a
    /// whole discovery in the request budget, offline cracking cut to a fraction of a
    /// second (the built-in candidates a fixture's weak secret is among).
    pub fn fixture(target: Target) -> ScanConfig {
        let mut config = ScanConfig::new(target);
        config.probe.max_requests = 5000;
        config.probe.retries = 0;
        config.crack_time = std::time::Duration::from_millis(300);
        config
    }

    pub fn new(target: Target) -> ScanConfig {
        ScanConfig {
            target,
            users: Vec::new(),
            tokens: Vec::new(),
            probe: ProbeSettings::default(),
            login: None,
            identity_path: None,
            protected_paths: Vec::new(),
            extra_paths: Vec::new(),
            crack_time: DEFAULT_CRACK_TIME,
            wordlists: Vec::new(),
            show_secrets: false,
            profile: "standard".into(),
            allow_password_change: false,
            mailbox: None,
            flows: crate::auth::FlowSpecs::default(),
            spec: None,
            writes: None,
            unselected_checks: Default::default(),
            schedule: Schedule::default(),
        }
    }
}

/// Default time budget for cracking one signed value during a scan.
pub const DEFAULT_CRACK_TIME: std::time::Duration = std::time::Duration::from_secs(3);

/// `authprobe.toml`, every field optional; flags override it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub target: Option<FileTarget>,
    pub scan: Option<FileScan>,
    #[serde(default, rename = "identity")]
    pub identities: Vec<FileIdentity>,
    pub auth: Option<FileAuth>,
    pub endpoints: Option<FileEndpoints>,
    pub flows: Option<crate::auth::FlowSpecs>,
    /// `[[ignore]]` entries: accepted findings (suppressions).
    #[serde(default, rename = "ignore")]
    pub ignores: Vec<FileIgnore>,
    /// `[store]`: where scan history goes and how much of it to keep.
    pub store: Option<FileStore>,
    /// `[[monitor]]`: targets `authprobe serve` rescans on a schedule.
    #[serde(default, rename = "monitor")]
    pub monitors: Vec<FileMonitor>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileStore {
    /// The history database file (`--db` and `AUTHPROBE_DB` override it).
    pub path: Option<std::path::PathBuf>,
    /// The history database as a URL: `postgres://user@host/db` for a shared Postgres
    /// server (or a file path). Wins over `path`.
    pub url: Option<String>,
    /// Keep at most this many scans per target.
    pub keep: Option<usize>,
    /// Drop scans older than this many days.
    pub days: Option<u32>,
}

/// A target `authprobe serve` rescans every `interval` (`90s`, `30m`, `6h`, `1d`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileMonitor {
    pub target: String,
    pub interval: String,
    /// Where to POST a signed alert on a grade drop or new high/critical findings.
    pub webhook: Option<String>,
    /// Environment variable holding the webhook's HMAC-SHA256 secret (kept out of the file).
    pub webhook_secret_env: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileTarget {
    pub url: Option<String>,
    /// The deployment this target is (`staging`, `test`, ...): `--allow-writes` needs a
    /// non-production one.
    pub environment: Option<String>,
    /// The plain-HTTP origin of an HTTPS target on a non-default port.
    pub http_url: Option<String>,
    /// An OpenAPI/Swagger spec (file path or URL), as `--spec`.
    pub spec: Option<String>,
    pub insecure: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileScan {
    pub max_requests: Option<usize>,
    pub rate: Option<u32>,
    /// Requests in flight at once (1-64), as `--concurrency`.
    pub concurrency: Option<usize>,
    pub timeout_secs: Option<u64>,
    pub connect_timeout_secs: Option<u64>,
    /// Retries of an idempotent probe after a connection error (0-5).
    pub retries: Option<u32>,
    pub retry_backoff_ms: Option<u64>,
    pub fail_on: Option<String>,
    pub min_score: Option<u8>,
    /// Write probes (BOLA003, AUTHZ002): needs `[target] environment` non-production.
    pub allow_writes: Option<bool>,
    /// An HTTP(S) proxy for every request, as `--proxy`.
    pub proxy: Option<String>,
    /// Run only these checks (codes, slugs or categories), as `--checks`.
    pub checks: Option<Vec<String>>,
    /// Leave these checks out, as `--exclude-checks`.
    pub exclude_checks: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileIdentity {
    /// The account name (with `password`/`password_env`), or a label for a `header` identity.
    #[serde(default)]
    pub username: String,
    pub password: Option<String>,
    /// Name of an environment variable holding the password (keeps it out of the file).
    pub password_env: Option<String>,
    /// A credential header instead of a login, `NAME: VALUE` (`X-API-Key: …`,
    /// `Authorization: JWT …`), or the name of an environment variable holding one.
    pub header: Option<String>,
    pub header_env: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileAuth {
    pub login_path: Option<String>,
    pub login_kind: Option<LoginKind>,
    pub identity_path: Option<String>,
    pub bearer_env: Option<String>,
    /// Opt-in for SESS005 (`--allow-password-change`).
    pub allow_password_change: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEndpoints {
    #[serde(default)]
    pub protected: Vec<String>,
    #[serde(default)]
    pub extra: Vec<String>,
}

/// One `[[ignore]]` entry: findings of `check` (at `endpoint`, if given) are accepted for
/// `reason` until `expires` (a `YYYY-MM-DD` date, inclusive).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileIgnore {
    /// A check code (`JWT003`) or slug (`jwt-weak-secret`).
    pub check: String,
    /// A path pattern as in `[endpoints]` (`*` for one segment or a suffix), or a full URL.
    pub endpoint: Option<String>,
    pub reason: String,
    pub expires: Option<String>,
}

/// Whether `path` matches a declared endpoint pattern (`[endpoints] protected`,
/// `[[ignore]] endpoint`). Patterns and paths are compared segment by segment; a query
/// string is ignored, and so are repeated and trailing slashes (`/api/me` is `/api/me/`):
///
/// - `*` as a whole segment matches exactly one segment (`/api/*/detail/`);
/// - `**` matches any number of segments, none included (`/api/**/export/`);
/// - `*` inside a segment matches any characters within it (`/api/v*/notes/`, `*.json`);
/// - a pattern that ends in `/*` matches the path before it and everything under it:
///   `/api/notes/*` matches `/api/notes`, `/api/notes/`, `/api/notes/1/` and
///   `/api/notes/1/edit/` (end it with `/*/` for exactly one segment: `/api/notes/*/`).
///
/// A pattern may also be a full URL; its path is used.
pub fn path_matches(pattern: &str, path: &str) -> bool {
    let pattern = match Url::parse(pattern) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => url.path().to_string(),
        _ => pattern.to_string(),
    };
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let mut pat: Vec<&str> = pattern.split('/').filter(|s| !s.is_empty()).collect();
    if pattern.ends_with("/*") || pattern == "*" {
        pat.pop();
        pat.push("**");
    }
    let got: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    segments_match(&pat, &got)
}

/// The key under which a pattern without wildcards matches a path: two match by
/// [`path_matches`] exactly when their keys are equal. `None` for a pattern with a `*`.
/// Lets a long list of exact patterns (every operation of a large spec) be a set.
pub fn exact_path_key(pattern: &str) -> Option<String> {
    if pattern.contains('*') {
        return None;
    }
    let path = match Url::parse(pattern) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => url.path().to_string(),
        _ => pattern.to_string(),
    };
    Some(path_key(&path))
}

/// The key of a request path for [`exact_path_key`]: its segments, without the query.
pub fn path_key(path: &str) -> String {
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let mut key = String::with_capacity(path.len());
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        key.push('/');
        key.push_str(segment);
    }
    key
}

fn segments_match(pat: &[&str], got: &[&str]) -> bool {
    match pat.split_first() {
        None => got.is_empty(),
        Some((&"**", rest)) => (0..=got.len()).any(|skip| segments_match(rest, &got[skip..])),
        Some((p, rest)) => match got.split_first() {
            Some((g, more)) => segment_matches(p, g) && segments_match(rest, more),
            None => false,
        },
    }
}

/// One segment against a glob where `*` stands for any run of characters.
fn segment_matches(pattern: &str, segment: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = segment.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_must_be_http_urls_with_a_host() {
        assert!(matches!(Target::parse("not a url"), Err(TargetError::Malformed(..))));
        assert!(matches!(Target::parse("ftp://x/"), Err(TargetError::Scheme(_))));
        let t = Target::parse("https://api.example.com/").unwrap();
        assert_eq!(t.http_url.unwrap().as_str(), "http://api.example.com/");
        assert!(Target::parse("https://api.example.com:8443/")
            .unwrap()
            .http_url
            .is_none());
    }

    #[test]
    fn loopback_targets_are_recognised() {
        assert!(Target::parse("http://127.0.0.1:8000/").unwrap().is_loopback());
        assert!(Target::parse("http://localhost/").unwrap().is_loopback());
        assert!(Target::parse("http://[::1]/").unwrap().is_loopback());
        assert!(!Target::parse("http://10.0.0.1/").unwrap().is_loopback());
    }

    #[test]
    fn declared_paths_match_with_wildcards() {
        assert!(path_matches("/api/notes/*", "/api/notes/1/"));
        assert!(path_matches("/api/*/detail/", "/api/7/detail/"));
        assert!(!path_matches("/api/*/detail/", "/api/detail/"));
        assert!(path_matches("/api/me/", "/api/me/"));
        assert!(path_matches("/api/me", "/api/me/?page=2"));
        assert!(!path_matches("/api/me/", "/api/me/x/"));
        for (pattern, path) in [
            ("/api/me/", "/api/me"),
            ("/api/me", "/api/me/?page=2"),
            ("/api/me/", "/api/me/x/"),
            ("http://h/api//me", "/api/me/#top"),
            ("/", "/"),
            ("/", "/x"),
        ] {
            let keys = exact_path_key(pattern).unwrap() == path_key(path);
            assert_eq!(keys, path_matches(pattern, path), "{pattern} {path}");
        }
        assert_eq!(exact_path_key("/api/*/"), None);
    }

    #[test]
    fn a_trailing_star_matches_the_collection_and_everything_under_it() {
        for path in ["/api/notes", "/api/notes/", "/api/notes/1/", "/api/notes/1/edit/"] {
            assert!(path_matches("/api/notes/*", path), "{path}");
            assert!(path_matches("/api/notes/**", path), "{path}");
        }
        assert!(!path_matches("/api/notes/*", "/api/notes-archive/"));
        assert!(!path_matches("/api/notes/*", "/api/"));
        // Ending in `/*/`: exactly one segment.
        assert!(path_matches("/api/notes/*/", "/api/notes/1"));
        assert!(!path_matches("/api/notes/*/", "/api/notes/"));
        assert!(!path_matches("/api/notes/*/", "/api/notes/1/edit/"));
    }

    #[test]
    fn double_stars_and_stars_inside_segments() {
        assert!(path_matches("/api/**/export/", "/api/export/"));
        assert!(path_matches("/api/**/export/", "/api/v1/notes/export/"));
        assert!(!path_matches("/api/**/export/", "/api/v1/notes/"));
        assert!(path_matches("/api/v*/notes/", "/api/v2/notes/"));
        assert!(!path_matches("/api/v*/notes/", "/api/beta/notes/"));
        assert!(path_matches("/files/*.json", "/files/a.json"));
        assert!(path_matches("/files/*.json", "/files/.json"));
        assert!(!path_matches("/files/*.json", "/files/a.jsonl"));
        assert!(path_matches("/a*b*c", "/abc"));
        assert!(!path_matches("/a*bc", "/ab"));
        assert!(path_matches("https://api.example.com/api/notes/*", "/api/notes/3/"));
        assert!(path_matches("*", "/anything/at/all/"));
    }

    #[test]
    fn the_file_config_rejects_unknown_keys() {
        assert!(toml::from_str::<FileConfig>("[target]\nurll = 'x'").is_err());
        let ok: FileConfig = toml::from_str("[[identity]]\nusername='alice'\npassword_env='P'").unwrap();
        assert_eq!(ok.identities[0].username, "alice");
    }

    #[test]
    fn ignore_entries_need_a_check_and_a_reason() {
        let ok: FileConfig =
            toml::from_str("[[ignore]]\ncheck='DJ002'\nreason='admin is VPN-only'\nexpires='2030-01-31'").unwrap();
        assert_eq!(ok.ignores[0].check, "DJ002");
        assert_eq!(ok.ignores[0].expires.as_deref(), Some("2030-01-31"));
        assert!(toml::from_str::<FileConfig>("[[ignore]]\ncheck='DJ002'").is_err());
        assert!(toml::from_str::<FileConfig>("[[ignore]]\ncheck='DJ002'\nreason='x'\nuntil='2030-01-01'").is_err());
    }
}
