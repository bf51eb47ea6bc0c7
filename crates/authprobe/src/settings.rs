//! Builds a [`ScanConfig`] from layers of settings (defaults < `authprobe.toml` <
//! environment < flags, see [`layer`]), and validates every user-supplied value.

mod layer;

use anyhow::{anyhow, bail, Context, Result};
use authprobe_core::auth::identity::Presentation;
use authprobe_core::config::{FileConfig, FileIdentity, LoginKind, SuppliedToken, Target, UserCredential};
use authprobe_core::probe::ProbeSettings;
use authprobe_core::{ScanConfig, Severity};
use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use crate::cli::{Profile, ScanArgs};
use crate::config_file::{ConfigFile, Place};
pub use layer::{Bearers, Origin, ScanLayer, Selection, Sourced};

/// What the CLI needs besides the scan configuration: the CI gate.
#[derive(Debug, Clone, Default)]
pub struct Gate {
    /// The config file used, if any (`--config`, or `./authprobe.toml`).
    pub config_file: Option<ConfigFile>,
    pub fail_on: Option<Severity>,
    pub min_score: Option<u8>,
    /// `[[ignore]]` entries (validated: none expired).
    pub ignores: Vec<crate::triage::Ignore>,
    /// The `--baseline` report.
    pub baseline: Option<authprobe_core::Report>,
    /// Where the scan is saved (`None` with `--no-store`) and how much history to keep.
    pub store: Option<StoreSettings>,
}

/// The history database and its retention.
#[derive(Debug, Clone)]
pub struct StoreSettings {
    /// A SQLite file or a Postgres server.
    pub location: authprobe_store::Location,
    pub retention: authprobe_store::Retention,
    /// Whether missing directories of a SQLite file may be created: always for the per-user
    /// default, for a path the user chose only with `--create`.
    pub create_dirs: bool,
}

/// The history database: `--db` < `AUTHPROBE_DB` < `[store] url` < `[store] path` < the per-user default
/// (flags win), with the `[store]` retention. `create` (`--create`) lets a chosen path's
/// missing directories be created.
pub fn store_settings(
    flag: Option<&Path>,
    file: Option<&authprobe_core::config::FileStore>,
    create: bool,
) -> StoreSettings {
    let env = std::env::var("AUTHPROBE_DB").ok().filter(|v| !v.is_empty());
    let chosen = flag.map(|p| p.to_string_lossy().into_owned()).or(env);
    chosen_store(chosen, file, create)
}

/// The history database `chosen` (`--db` or `AUTHPROBE_DB`), else the file's, else the
/// per-user default.
fn chosen_store(
    chosen: Option<String>,
    file: Option<&authprobe_core::config::FileStore>,
    create: bool,
) -> StoreSettings {
    let chosen = chosen
        .or_else(|| file.and_then(|f| f.url.clone()))
        .or_else(|| file.and_then(|f| f.path.as_ref().map(|p| p.to_string_lossy().into_owned())));
    StoreSettings {
        create_dirs: create || chosen.is_none(),
        location: match chosen {
            Some(raw) => authprobe_store::Location::parse(&raw),
            None => authprobe_store::Location::Sqlite(authprobe_store::default_path()),
        },
        retention: authprobe_store::Retention {
            keep: file.and_then(|f| f.keep),
            days: file.and_then(|f| f.days),
        },
    }
}

/// Reads the config file a command was given, or `./authprobe.toml` when it exists and
/// `no_config` is off.
pub fn load_config(explicit: Option<&Path>, no_config: bool) -> Result<Option<(ConfigFile, FileConfig)>> {
    crate::config_file::choose(explicit, no_config)
        .map(|(path, found)| ConfigFile::load(&path, found))
        .transpose()
}

/// `authprobe scan`: the defaults, the config file, the environment and the flags.
pub fn build(args: &ScanArgs) -> Result<(ScanConfig, Gate)> {
    let (config_file, file) = match load_config(args.config.as_deref(), args.no_config)? {
        Some((f, c)) => (Some(f), c),
        None => (None, FileConfig::default()),
    };
    // Clap reads the variables of the flags (into `args`); the others are read here.
    let clap_reads = layer::variables_clap_reads();
    let env = ScanLayer::from_env(|name| {
        (!clap_reads.iter().any(|v| v == name))
            .then(|| std::env::var(name).ok())
            .flatten()
    })?;
    let settings = ScanLayer::defaults()
        .or(ScanLayer::from_file(file))
        .or(env)
        .or(ScanLayer::from_flags(args));
    resolve(settings, config_file)
}

/// The scans `serve` and `worker` run on `url`: the defaults, the config file and the
/// environment, as `authprobe scan URL --config FILE -q --no-store` would run them.
pub fn for_server(url: &str, config: &Path) -> Result<(ScanConfig, Gate)> {
    let (config_file, file) = ConfigFile::load(config, false)?;
    let request = ScanLayer {
        url: Some(Sourced::new(url.to_string(), Origin::Flag("URL"))),
        no_store: Some(true),
        ..ScanLayer::default()
    };
    let settings = ScanLayer::defaults()
        .or(ScanLayer::from_file(file))
        .or(ScanLayer::from_env(|name| std::env::var(name).ok())?)
        .or(request);
    resolve(settings, Some(config_file))
}

/// Errors about a setting name its flag, or its place in the config file.
struct Locator {
    config_file: Option<ConfigFile>,
}

impl Locator {
    /// An error about a value of the file, prefixed with where it is.
    fn at(&self, place: Place, message: impl std::fmt::Display) -> anyhow::Error {
        match &self.config_file {
            Some(f) => f.error(place, message),
            None => anyhow!("{message}"),
        }
    }

    /// `--flag: message`, or `FILE:LINE:COL: key: message`.
    fn invalid<T>(&self, setting: &Sourced<T>, message: impl std::fmt::Display) -> anyhow::Error {
        match setting.origin {
            Origin::Flag(flag) => anyhow!("{flag}: {message}"),
            Origin::File(table, key) => self.at(Place::key(table, key), format!("{key}: {message}")),
            Origin::Default => anyhow!("{message}"),
        }
    }
}

/// The merged settings as a scan configuration and a gate, every value checked (in the
/// order the errors have always come in).
fn resolve(mut s: ScanLayer, config_file: Option<ConfigFile>) -> Result<(ScanConfig, Gate)> {
    let at = Locator { config_file };
    let target = target(&mut s, &at)?;
    let profile = s.profile.unwrap_or(Profile::Standard);
    let mut probe = probe(&mut s, profile, &at)?;
    let unselected_checks = unselected_checks(s.checks.take(), &at)?;
    let (file_users, file_tokens) = file_identities(s.identities.take().unwrap_or_default(), &at)?;
    let users = users(s.users.take(), file_users, profile)?;
    let wordlists = s.wordlists.take().unwrap_or_default();
    for path in &wordlists {
        std::fs::File::open(path).with_context(|| format!("cannot read wordlist {}", path.display()))?;
    }
    let tokens = tokens(&mut s, file_tokens, &at)?;
    let login = match (s.login_path.take(), s.login_kind) {
        (Some(path), kind) => Some((kind.unwrap_or(LoginKind::Simplejwt), path)),
        (None, Some(_)) => return Err(at.at(Place::key("auth", "login_kind"), "[auth] login_kind needs login_path")),
        (None, None) => None,
    };
    let writes = if s.allow_writes.unwrap_or(false) {
        if profile == Profile::Safe {
            bail!("--allow-writes cannot be combined with --profile safe, which sends GET and HEAD only");
        }
        Some(authprobe_core::writes::WriteMode::new(s.environment.as_deref())?)
    } else {
        None
    };
    probe.allow_writes = writes.is_some();
    let flows = s.flows.take().unwrap_or_default();
    if flows.login.is_some() && login.is_some() {
        return Err(at.at(
            Place::key("auth", "login_path"),
            "[flows.login] and [auth] login_path both declare the login endpoint: keep one (prefer [flows.login])",
        ));
    }
    let gate = gate(&mut s, at)?;
    let config = ScanConfig {
        target,
        users,
        tokens,
        probe,
        login,
        identity_path: s.identity_path,
        protected_paths: s.protected_paths.unwrap_or_default(),
        extra_paths: s.extra_paths.unwrap_or_default(),
        crack_time: crack_time(s.crack_time.unwrap_or(3.0))?,
        wordlists,
        show_secrets: s.show_secrets.unwrap_or(false),
        profile: format!("{profile:?}").to_lowercase(),
        allow_password_change: s.allow_password_change.unwrap_or(false),
        mailbox: s.mailbox,
        flows,
        spec: s.spec,
        writes,
        unselected_checks,
        schedule: s.schedule.unwrap_or_default(),
    };
    Ok((config, gate))
}

/// The target URL (required) and `[target] http_url`.
fn target(s: &mut ScanLayer, at: &Locator) -> Result<Target> {
    let url = s.url.take().ok_or_else(|| {
        anyhow!("no target: give a URL (authprobe scan https://api.example.com/) or [target] url in the config")
    })?;
    let mut target = match url.origin {
        Origin::File(table, key) => {
            Target::parse(&url.value).map_err(|e| at.at(Place::key(table, key), e.to_string()))?
        }
        _ => Target::parse(&url.value)?,
    };
    if let Some(http) = &s.http_url {
        let http = Target::parse(http)
            .map_err(|e| at.at(Place::key("target", "http_url"), format!("invalid http_url: {e}")))?;
        target.http_url = Some(http.url);
    }
    Ok(target)
}

/// The probe's limits: requests, rate, concurrency, timeouts, retries, proxy.
fn probe(s: &mut ScanLayer, profile: Profile, at: &Locator) -> Result<ProbeSettings> {
    let mut probe = ProbeSettings {
        rate_per_sec: s.rate.unwrap_or(0),
        insecure: s.insecure.unwrap_or(false),
        read_only: profile == Profile::Safe,
        ..ProbeSettings::default()
    };
    if let Some(n) = &s.concurrency {
        if !(1..=64).contains(&n.value) {
            return Err(at.invalid(n, "must be between 1 and 64"));
        }
        probe.concurrency = n.value;
    }
    if let Some(secs) = &s.timeout_secs {
        if secs.value == 0 {
            return Err(at.invalid(secs, "the timeout must be at least 1 second"));
        }
        probe.timeout = Duration::from_secs(secs.value);
    }
    if let Some(secs) = &s.connect_timeout_secs {
        if secs.value == 0 {
            return Err(at.invalid(secs, "the connect timeout must be at least 1 second"));
        }
        probe.connect_timeout = Duration::from_secs(secs.value);
    }
    if let Some(retries) = &s.retries {
        if retries.value > 5 {
            return Err(at.invalid(retries, "must be between 0 and 5"));
        }
        probe.retries = retries.value;
    }
    if let Some(ms) = s.retry_backoff_ms {
        probe.retry_backoff = Duration::from_millis(ms.min(60_000));
    }
    let max_requests = s
        .max_requests
        .take()
        .unwrap_or_else(|| Sourced::new(profile.max_requests(), Origin::Default));
    if max_requests.value == 0 {
        return Err(at.invalid(&max_requests, "must be at least 1"));
    }
    probe.max_requests = max_requests.value;
    if let Some(raw) = &s.proxy {
        probe.proxy = Some(parse_proxy(&raw.value).map_err(|e| at.invalid(raw, e))?);
    }
    if s.debug.unwrap_or(false) {
        probe.request_log = Some(authprobe_core::probe::RequestLog::new(|line| eprintln!("{line}")));
    }
    Ok(probe)
}

/// The checks `--checks`/`--exclude-checks` (or the file's lists) leave out.
fn unselected_checks(selection: Option<Sourced<Selection>>, at: &Locator) -> Result<BTreeSet<String>> {
    let Some(selection) = selection else {
        return Ok(BTreeSet::new());
    };
    let Selection { include, exclude } = &selection.value;
    match selection.origin {
        Origin::File(table, key) => crate::selection::unselected(include, exclude, "[scan] checks/exclude_checks")
            .map_err(|e| at.at(Place::key(table, key), e.to_string())),
        _ => crate::selection::unselected(include, exclude, "--checks/--exclude-checks"),
    }
}

/// The accounts to log in as: the flags' first (the first `--user` is the primary
/// identity), then the file's `[[identity]]` logins.
fn users(flags: Option<Vec<String>>, file: Vec<UserCredential>, profile: Profile) -> Result<Vec<UserCredential>> {
    let mut users = flags
        .iter()
        .flatten()
        .map(|u| parse_user(u))
        .collect::<Result<Vec<_>>>()?;
    users.extend(file);
    if profile == Profile::Safe && !users.is_empty() {
        bail!("--profile safe sends GET and HEAD only and cannot log in: drop --user (a --bearer token is fine) or use --profile standard");
    }
    Ok(users)
}

/// The `[[identity]]` entries: logins, and credential headers (`header`, `header_env`).
fn file_identities(identities: Vec<FileIdentity>, at: &Locator) -> Result<(Vec<UserCredential>, Vec<SuppliedToken>)> {
    let mut users = Vec::new();
    let mut tokens = Vec::new();
    for (index, identity) in identities.into_iter().enumerate() {
        let key = |key: &'static str| Place::entry("identity", index, Some(key));
        let entry = Place::entry("identity", index, None);
        let name = identity.username.clone();
        let variable = |var: &str, key_name: &'static str| {
            std::env::var(var).map_err(|_| {
                at.at(
                    key(key_name),
                    format!("identity `{name}`: environment variable {var} is not set"),
                )
            })
        };
        let header = match (&identity.header, &identity.header_env) {
            (Some(h), _) => Some(h.clone()),
            (None, Some(var)) => Some(variable(var, "header_env")?),
            (None, None) => None,
        };
        if let Some(header) = header {
            if identity.password.is_some() || identity.password_env.is_some() {
                return Err(at.at(
                    key("header"),
                    format!("identity `{name}` has both a header and a password: keep one"),
                ));
            }
            let mut token =
                parse_header(&header).map_err(|e| at.at(key("header"), format!("identity `{name}`: {e}")))?;
            if !name.is_empty() {
                token.label = name.clone();
            }
            tokens.push(token);
            continue;
        }
        if name.trim().is_empty() {
            return Err(at.at(entry, "an [[identity]] has neither username nor header"));
        }
        let password = match (identity.password, &identity.password_env) {
            (Some(p), _) => p,
            (None, Some(var)) => variable(var, "password_env")?,
            (None, None) => {
                return Err(at.at(
                    entry,
                    format!("identity `{name}` has neither password nor password_env"),
                ))
            }
        };
        users.push(UserCredential {
            username: identity.username,
            password,
        });
    }
    Ok((users, tokens))
}

/// The supplied credentials: the Bearer tokens (the first is the primary identity when
/// no `--user` is given), the `--header`s, then the file's header identities.
fn tokens(s: &mut ScanLayer, file_tokens: Vec<SuppliedToken>, at: &Locator) -> Result<Vec<SuppliedToken>> {
    let bearers: Vec<String> = match s.bearers.take() {
        Some(Bearers::Tokens(raw)) => raw.iter().map(|b| parse_bearer(b)).collect::<Result<_>>()?,
        Some(Bearers::Variable(var)) => {
            let place = Place::key("auth", "bearer_env");
            let value = std::env::var(&var).map_err(|_| at.at(place, format!("bearer_env: {var} is not set")))?;
            vec![parse_bearer(&value).map_err(|e| at.at(place, e.to_string()))?]
        }
        None => Vec::new(),
    };
    let mut supplied: Vec<SuppliedToken> = bearers
        .into_iter()
        .enumerate()
        .map(|(i, value)| SuppliedToken {
            label: if i == 0 {
                "bearer".into()
            } else {
                format!("bearer-{}", i + 1)
            },
            value,
            presentation: Presentation::bearer(),
        })
        .collect();
    for raw in s.headers.iter().flatten() {
        supplied.push(parse_header(raw)?);
    }
    supplied.extend(file_tokens);
    Ok(number_labels(supplied))
}

/// The CI gate and the history: `[store]`, `--fail-on`, `--min-score`, `[[ignore]]`,
/// `--baseline`.
fn gate(s: &mut ScanLayer, at: Locator) -> Result<Gate> {
    if s.store.as_ref().is_some_and(|f| f.keep == Some(0)) {
        return Err(at.at(
            Place::key("store", "keep"),
            "[store] keep must be at least 1 (use --no-store to keep no history)",
        ));
    }
    let store =
        (!s.no_store.unwrap_or(false)).then(|| chosen_store(s.db.take(), s.store.as_ref(), s.create.unwrap_or(false)));
    let fail_on = match &s.fail_on {
        Some(value) => Some(value.value.parse::<Severity>().map_err(|e| at.invalid(value, e))?),
        None => None,
    };
    if let Some(score) = s.min_score.as_ref().filter(|n| n.value > 100) {
        if let Origin::File(table, key) = score.origin {
            return Err(at.at(Place::key(table, key), "min_score must be between 0 and 100"));
        }
    }
    let config_file = at.config_file;
    Ok(Gate {
        store,
        fail_on,
        min_score: s.min_score.as_ref().map(|n| n.value),
        ignores: crate::triage::ignores(
            s.ignores.take().unwrap_or_default(),
            crate::triage::today(),
            config_file.as_ref(),
        )?,
        baseline: s.baseline.as_deref().map(crate::triage::load_report).transpose()?,
        config_file,
    })
}

/// A scan error caused by the config file's content (a `[flows.*]` path the scan found
/// unusable) gets the file, line and column in front; others pass unchanged.
pub fn locate_scan_error(err: authprobe_core::engine::ScanError, gate: &Gate) -> anyhow::Error {
    let at = match (&err, &gate.config_file) {
        (authprobe_core::engine::ScanError::Flow(flow), Some(file)) => {
            let table = format!("flows.{}", flow.role);
            Some(file.at(Place::key(&table, "path")))
        }
        _ => None,
    };
    match at {
        Some(at) => {
            let message = format!("{at}: {err}");
            anyhow::Error::new(err).context(message)
        }
        None => err.into(),
    }
}

/// Validates a proxy URL: http:// or https:// with a host (`http://127.0.0.1:8080`).
pub fn parse_proxy(raw: &str) -> Result<url::Url> {
    let url =
        url::Url::parse(raw.trim()).map_err(|e| anyhow!("`{raw}` is not a URL ({e}); e.g. http://127.0.0.1:8080"))?;
    if !matches!(url.scheme(), "http" | "https") {
        bail!(
            "only http:// and https:// proxies are supported, not {}://",
            url.scheme()
        );
    }
    if url.host_str().is_none_or(str::is_empty) {
        bail!("`{raw}` has no host; e.g. http://127.0.0.1:8080");
    }
    Ok(url)
}

/// What the scan will do, for `--verbose`: the config file, the limits and the checks.
pub fn describe(config: &ScanConfig, gate: &Gate) -> Vec<String> {
    let mut lines = Vec::new();
    lines.push(match &gate.config_file {
        Some(f) if f.found => format!(
            "config: {} (found in the working directory; --no-config to ignore it)",
            f.path.display()
        ),
        Some(f) => format!("config: {}", f.path.display()),
        None => "config: none (flags, AUTHPROBE_* variables and defaults)".into(),
    });
    let p = &config.probe;
    let rate = match p.rate_per_sec {
        0 => "unlimited".to_string(),
        n => format!("{n}/s"),
    };
    lines.push(format!(
        "target: {} (profile {}, at most {} requests, rate {rate}, concurrency {}, timeout {} s)",
        authprobe_core::redact::strip_userinfo(config.target.url.as_str()),
        config.profile,
        p.max_requests,
        p.concurrency,
        p.timeout.as_secs()
    ));
    let proxy = match &p.proxy {
        Some(url) => authprobe_core::redact::strip_userinfo(url.as_str()),
        None => [
            "HTTPS_PROXY",
            "https_proxy",
            "HTTP_PROXY",
            "http_proxy",
            "ALL_PROXY",
            "all_proxy",
        ]
        .iter()
        .find(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()))
        .map(|v| format!("from {v} (NO_PROXY applies)"))
        .unwrap_or_else(|| "none".into()),
    };
    lines.push(format!("proxy: {proxy}"));
    let total = authprobe_checks::all().len();
    let left_out = &config.unselected_checks;
    lines.push(if left_out.is_empty() {
        format!("checks: all {total}")
    } else {
        format!(
            "checks: {} of {total} (left out: {})",
            total - left_out.len(),
            left_out.iter().cloned().collect::<Vec<_>>().join(", ")
        )
    });
    lines.push(format!(
        "identities: {} login(s), {} supplied credential(s)",
        config.users.len(),
        config.tokens.len()
    ));
    if let Some(store) = &gate.store {
        lines.push(format!("history: {}", store.location));
    }
    lines
}

fn crack_time(secs: f64) -> Result<Duration> {
    if !(0.0..=3600.0).contains(&secs) || secs.is_nan() {
        bail!("--crack-time must be between 0 and 3600 seconds");
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Parses `NAME:PASSWORD`.
pub fn parse_user(raw: &str) -> Result<UserCredential> {
    let (name, password) = raw
        .split_once(':')
        .ok_or_else(|| anyhow!("--user must be NAME:PASSWORD (got no `:`)"))?;
    if name.trim().is_empty() {
        bail!("--user must be NAME:PASSWORD (the name is empty)");
    }
    if password.is_empty() {
        bail!("--user {name}: the password is empty");
    }
    Ok(UserCredential {
        username: name.to_string(),
        password: password.to_string(),
    })
}

/// Parses `--header 'NAME: VALUE'`: `Authorization: <scheme> <token>` (or a bare
/// `Authorization: <token>`), `Cookie: name=value`, or a header of its own (`X-API-Key: …`).
pub fn parse_header(raw: &str) -> Result<SuppliedToken> {
    let (name, value) = raw
        .split_once(':')
        .ok_or_else(|| anyhow!("--header must be 'NAME: VALUE' (got no `:`)"))?;
    let (name, value) = (name.trim(), value.trim());
    let valid_name = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !valid_name {
        bail!("--header: `{}` is not a header name", name.escape_default());
    }
    if value.is_empty() {
        bail!("--header {name}: the value is empty");
    }
    if value.chars().any(|c| c.is_control()) {
        bail!("--header {name}: the value has a control character");
    }
    let (presentation, value) = if name.eq_ignore_ascii_case("authorization") {
        match value.split_once(' ') {
            Some((scheme, token)) if !token.trim().is_empty() => {
                (Presentation::Scheme(scheme.to_string()), token.trim())
            }
            _ => (Presentation::RawAuthorization, value),
        }
    } else if name.eq_ignore_ascii_case("cookie") {
        let (cookie, token) = value
            .split_once('=')
            .filter(|(c, t)| !c.trim().is_empty() && !t.is_empty() && !t.contains(';'))
            .ok_or_else(|| anyhow!("--header Cookie: give one cookie, `Cookie: name=value`"))?;
        (Presentation::Cookie(cookie.trim().to_string()), token)
    } else {
        (Presentation::Header(name.to_string()), value)
    };
    Ok(SuppliedToken {
        label: match &presentation {
            Presentation::Scheme(s) => s.to_ascii_lowercase(),
            Presentation::RawAuthorization => "authorization".into(),
            Presentation::Header(h) | Presentation::Cookie(h) => h.clone(),
        },
        value: value.to_string(),
        presentation,
    })
}

/// Makes supplied identities' labels unique (`X-API-Key`, `X-API-Key-2`).
fn number_labels(mut tokens: Vec<SuppliedToken>) -> Vec<SuppliedToken> {
    let mut seen: Vec<String> = Vec::new();
    for t in &mut tokens {
        let base = t.label.clone();
        let mut n = 1;
        while seen.contains(&t.label) {
            n += 1;
            t.label = format!("{base}-{n}");
        }
        seen.push(t.label.clone());
    }
    tokens
}

/// Validates `--report-url`: an absolute http(s) URL with a host, as the Markdown report
/// will link it. (The error is clap's: a usage error, exit 2.)
pub fn parse_report_url(raw: &str) -> std::result::Result<String, String> {
    const MAX: usize = 2000;
    if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("give an http(s) URL without spaces, e.g. https://ci.example/run/1/report.html".into());
    }
    if raw.len() > MAX {
        return Err(format!("the URL is longer than {MAX} characters"));
    }
    let url = url::Url::parse(raw)
        .map_err(|e| format!("not a URL ({e}): give an http(s) URL, e.g. https://ci.example/run/1/report.html"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(|h| h.is_empty()) {
        return Err("give an http(s) URL with a host, e.g. https://ci.example/run/1/report.html".into());
    }
    Ok(url.to_string())
}

/// Validates a Bearer token: RFC 6750 `b64token` characters; a JWT-shaped value must parse.
pub fn parse_bearer(raw: &str) -> Result<String> {
    let token = raw.trim();
    let token = token
        .strip_prefix("Bearer ")
        .or_else(|| token.strip_prefix("bearer "))
        .unwrap_or(token)
        .trim();
    if token.is_empty() {
        bail!("malformed --bearer: the token is empty");
    }
    let valid_char = |c: char| c.is_ascii_alphanumeric() || "-._~+/".contains(c);
    let body = token.trim_end_matches('=');
    if let Some(bad) = body.chars().find(|c| !valid_char(*c)) {
        bail!(
            "malformed --bearer: `{}` is not allowed in a Bearer token (RFC 6750)",
            bad.escape_default()
        );
    }
    if token.starts_with("eyJ") && token.matches('.').count() == 2 {
        authprobe_jwt::Jwt::parse(token).map_err(|e| anyhow!("malformed --bearer: it looks like a JWT but {e}"))?;
    }
    Ok(token.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_split_at_the_first_colon() {
        let u = parse_user("alice:pa:ss").unwrap();
        assert_eq!((u.username.as_str(), u.password.as_str()), ("alice", "pa:ss"));
        assert!(parse_user("alice").is_err());
        assert!(parse_user(":pw").is_err());
        assert!(parse_user("alice:").is_err());
    }

    fn args(argv: &[&str]) -> ScanArgs {
        use clap::Parser;
        let argv = ["authprobe", "scan", "http://127.0.0.1:9/"].iter().chain(argv);
        match crate::cli::Cli::try_parse_from(argv).expect("flags parse").command {
            crate::cli::Command::Scan(args) => *args,
            _ => unreachable!(),
        }
    }

    #[test]
    fn a_mailbox_is_checked_by_its_flag_and_carried_into_the_scan_config() {
        use authprobe_core::mailbox::MailboxUrl;
        let (config, _) = build(&args(&[])).unwrap();
        assert_eq!(config.mailbox, None);
        let (config, _) = build(&args(&["--mailbox", "smtp://127.0.0.1:2525"])).unwrap();
        assert_eq!(
            config.mailbox,
            Some(MailboxUrl::Smtp("127.0.0.1:2525".parse().unwrap()))
        );
        let (config, _) = build(&args(&["--mailbox", "mailpit+http://mail.internal:8025"])).unwrap();
        assert_eq!(
            config.mailbox.map(|m| m.to_string()).as_deref(),
            Some("mailpit+http://mail.internal:8025/")
        );
        use clap::Parser;
        for (bad, reason) in [
            ("smtp://10.0.0.5:2525", "loopback"),
            ("smtp://127.0.0.1", "no port"),
            ("imap://127.0.0.1:143", "unknown mailbox scheme"),
        ] {
            let argv = ["authprobe", "scan", "http://127.0.0.1:9/", "--mailbox", bad];
            let error = crate::cli::Cli::try_parse_from(argv).expect_err(bad);
            assert_eq!(error.kind(), clap::error::ErrorKind::ValueValidation, "{bad}");
            assert_eq!(error.exit_code(), 2, "{bad}");
            assert!(error.to_string().contains(reason), "{bad}: {error}");
        }
        let env = ScanLayer::from_env(|n| (n == "AUTHPROBE_MAILBOX").then(|| "smtp://0.0.0.0:25".into()));
        assert!(env.unwrap_err().to_string().contains("AUTHPROBE_MAILBOX"));
    }

    #[test]
    fn timeouts_and_retries_come_from_the_file_and_flags_override_them() {
        let (config, _) = build(&args(&[])).unwrap();
        assert_eq!(config.probe.retries, 1);
        assert_eq!(config.probe.timeout, Duration::from_secs(10));
        let file = std::env::temp_dir().join(format!("authprobe-retries-{}.toml", std::process::id()));
        std::fs::write(
            &file,
            "[scan]\ntimeout_secs = 4\nconnect_timeout_secs = 2\nretries = 3\nretry_backoff_ms = 50\n",
        )
        .unwrap();
        let path = file.to_str().unwrap();
        let (config, _) = build(&args(&["--config", path])).unwrap();
        assert_eq!(config.probe.timeout, Duration::from_secs(4));
        assert_eq!(config.probe.connect_timeout, Duration::from_secs(2));
        assert_eq!(
            (config.probe.retries, config.probe.retry_backoff),
            (3, Duration::from_millis(50))
        );
        let (config, _) = build(&args(&["--config", path, "--retries", "0", "--connect-timeout", "7"])).unwrap();
        assert_eq!(
            (config.probe.retries, config.probe.connect_timeout),
            (0, Duration::from_secs(7))
        );
        assert!(build(&args(&["--connect-timeout", "0"])).is_err());
        std::fs::remove_file(&file).unwrap();
    }

    #[test]
    fn concurrency_proxy_and_checks_reach_the_scan_config() {
        let file = std::env::temp_dir().join(format!("authprobe-knobs-{}.toml", std::process::id()));
        std::fs::write(
            &file,
            "[scan]\nconcurrency = 3\nproxy = 'http://127.0.0.1:8080'\nexclude_checks = ['jwt']\n",
        )
        .unwrap();
        let path = file.to_str().unwrap();
        let (config, gate) = build(&args(&["--config", path])).unwrap();
        assert_eq!(config.probe.concurrency, 3);
        assert_eq!(
            config.probe.proxy.as_ref().map(|u| u.as_str()),
            Some("http://127.0.0.1:8080/")
        );
        assert!(config.unselected_checks.contains("JWT003") && !config.unselected_checks.contains("DJ001"));
        assert!(gate.config_file.is_some_and(|f| !f.found));
        let (config, _) = build(&args(&["--config", path, "--concurrency", "9", "--checks", "DJ001"])).unwrap();
        assert_eq!(config.probe.concurrency, 9);
        assert!(config.unselected_checks.contains("JWT001") && !config.unselected_checks.contains("DJ001"));
        assert!(build(&args(&["--proxy", "ftp://x/"])).is_err());
        std::fs::remove_file(&file).unwrap();
    }

    fn file(text: &str) -> ScanLayer {
        ScanLayer::from_file(toml::from_str::<FileConfig>(text).expect("valid config"))
    }

    fn env(vars: &[(&str, &str)]) -> ScanLayer {
        let vars: Vec<(String, String)> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        ScanLayer::from_env(|name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())).unwrap()
    }

    fn layered(file_text: &str, vars: &[(&str, &str)], flags: &[&str]) -> Result<(ScanConfig, Gate)> {
        let settings = ScanLayer::defaults()
            .or(file(file_text))
            .or(env(vars))
            .or(ScanLayer::from_flags(&args(flags)));
        resolve(settings, None)
    }

    #[test]
    fn flags_win_over_the_environment_which_wins_over_the_file() {
        let text = "[scan]\ntimeout_secs = 4\nconcurrency = 3\nmax_requests = 40\nfail_on = 'low'\n";
        let (config, gate) = layered(text, &[], &[]).unwrap();
        assert_eq!(config.probe.timeout, Duration::from_secs(4));
        assert_eq!((config.probe.concurrency, config.probe.max_requests), (3, 40));
        assert_eq!(gate.fail_on, Some(Severity::Low));
        let vars = [
            ("AUTHPROBE_TIMEOUT", "6"),
            ("AUTHPROBE_CONCURRENCY", "5"),
            ("AUTHPROBE_FAIL_ON", "high"),
        ];
        let (config, gate) = layered(text, &vars, &[]).unwrap();
        assert_eq!(config.probe.timeout, Duration::from_secs(6));
        assert_eq!((config.probe.concurrency, config.probe.max_requests), (5, 40));
        assert_eq!(gate.fail_on, Some(Severity::High));
        let (config, gate) = layered(text, &vars, &["--timeout", "7", "--fail-on", "critical"]).unwrap();
        assert_eq!(config.probe.timeout, Duration::from_secs(7));
        assert_eq!((config.probe.concurrency, config.probe.max_requests), (5, 40));
        assert_eq!(gate.fail_on, Some(Severity::Critical));
        // Nothing set: the defaults.
        let (config, _) = layered("", &[], &[]).unwrap();
        assert_eq!((config.probe.concurrency, config.probe.max_requests), (8, 1500));
        assert_eq!(config.crack_time, Duration::from_secs(3));
    }

    #[test]
    fn an_overridden_file_value_is_not_checked_and_a_used_one_names_its_key() {
        let text = "[scan]\nconcurrency = 100\nproxy = 'ftp://x/'\n";
        let err = layered(text, &[], &[]).unwrap_err().to_string();
        assert_eq!(err, "concurrency: must be between 1 and 64");
        let err = layered(text, &[], &["--concurrency", "2"]).unwrap_err().to_string();
        assert!(err.starts_with("proxy: only http:// and https://"), "{err}");
        assert!(layered(text, &[], &["--concurrency", "2", "--proxy", "http://127.0.0.1:8080"]).is_ok());
        let err = layered("", &[], &["--timeout", "0"]).unwrap_err().to_string();
        assert_eq!(err, "--timeout: the timeout must be at least 1 second");
    }

    #[test]
    fn identities_of_the_flags_come_first_and_the_file_adds_its_own() {
        let text = "[[identity]]\nusername = 'bob'\npassword = 'bob-pass'\n\n\
                    [[identity]]\nusername = 'svc'\nheader = 'X-API-Key: k3y'\n\n\
                    [auth]\nbearer_env = 'AUTHPROBE_TEST_UNSET_VARIABLE'\n";
        let names = |config: &ScanConfig| config.users.iter().map(|u| u.username.clone()).collect::<Vec<_>>();
        let labels = |config: &ScanConfig| config.tokens.iter().map(|t| t.label.clone()).collect::<Vec<_>>();
        let flags = [
            "--user",
            "alice:a",
            "--user",
            "al:b",
            "--bearer",
            "tok",
            "-H",
            "X-API-Key: k",
        ];
        let (config, _) = layered(text, &[], &flags).unwrap();
        assert_eq!(names(&config), ["alice", "al", "bob"]);
        // --bearer replaces [auth] bearer_env (whose variable is not even read).
        assert_eq!(labels(&config), ["bearer", "X-API-Key", "svc"]);
        // The environment's identity is replaced by the flags', and joins the file's.
        let vars = [("AUTHPROBE_USER", "carol:c"), ("AUTHPROBE_BEARER", "envtok")];
        let (config, _) = layered(text, &vars, &[]).unwrap();
        assert_eq!(names(&config), ["carol", "bob"]);
        assert_eq!(labels(&config), ["bearer", "svc"]);
        let (config, _) = layered(text, &vars, &["--user", "alice:a"]).unwrap();
        assert_eq!(names(&config), ["alice", "bob"]);
        let err = layered(text, &[], &[]).unwrap_err().to_string();
        assert_eq!(err, "bearer_env: AUTHPROBE_TEST_UNSET_VARIABLE is not set");
    }

    #[test]
    fn the_environment_layer_reads_the_variables_of_the_scan_flags_and_the_database() {
        let asked = std::cell::RefCell::new(Vec::new());
        ScanLayer::from_env(|name| {
            asked.borrow_mut().push(name.to_string());
            None
        })
        .unwrap();
        let asked = asked.into_inner();
        let clap_reads = layer::variables_clap_reads();
        let not_settings = [
            "AUTHPROBE_CONFIG",
            "AUTHPROBE_STRICT_CONFIG",
            "AUTHPROBE_FORMAT",
            "AUTHPROBE_REPORT_URL",
            "AUTHPROBE_UPLOAD_URL",
        ];
        for name in &clap_reads {
            assert!(asked.contains(name) || not_settings.contains(&name.as_str()), "{name}");
        }
        let others: Vec<&String> = asked.iter().filter(|n| !clap_reads.contains(n)).collect();
        assert_eq!(others, ["AUTHPROBE_DB", "AUTHPROBE_SCHEDULE"]);
        assert!(ScanLayer::from_env(|n| (n == "AUTHPROBE_RETRIES").then(|| "9".into())).is_err());
    }

    #[test]
    fn the_server_scans_with_the_settings_the_scan_command_builds_for_the_same_file() {
        let file = std::env::temp_dir().join(format!("authprobe-server-{}.toml", std::process::id()));
        std::fs::write(
            &file,
            "[target]\nurl = 'http://127.0.0.1:8/'\ninsecure = true\n\n\
             [scan]\nmax_requests = 70\ntimeout_secs = 3\nexclude_checks = ['jwt']\nfail_on = 'high'\n\n\
             [[identity]]\nusername = 'bob'\npassword = 'bob-pass'\n\n\
             [endpoints]\nextra = ['/api/x/']\n",
        )
        .unwrap();
        let path = file.to_str().unwrap();
        let (from_scan, scan_gate) = build(&args(&["--config", path, "-q", "--no-store"])).unwrap();
        let (from_server, server_gate) = for_server("http://127.0.0.1:9/", &file).unwrap();
        assert_eq!(format!("{from_scan:?}"), format!("{from_server:?}"));
        assert_eq!(format!("{scan_gate:?}"), format!("{server_gate:?}"));
        assert_eq!(from_server.target.url.as_str(), "http://127.0.0.1:9/");
        assert_eq!((from_server.probe.max_requests, from_server.users.len()), (70, 1));
        assert!(server_gate.store.is_none());
        std::fs::remove_file(&file).unwrap();
    }

    #[test]
    fn credential_headers_parse_into_presentations() {
        let jwt = parse_header("Authorization: JWT abc.def.ghi").unwrap();
        assert_eq!(jwt.presentation, Presentation::Scheme("JWT".into()));
        assert_eq!(jwt.value, "abc.def.ghi");
        assert_eq!(
            parse_header("Authorization: rawtoken").unwrap().presentation,
            Presentation::RawAuthorization
        );
        let key = parse_header("X-API-Key:  k3y ").unwrap();
        assert_eq!(
            (key.presentation, key.value.as_str()),
            (Presentation::Header("X-API-Key".into()), "k3y")
        );
        assert_eq!(
            parse_header("Cookie: sid=abc").unwrap().presentation,
            Presentation::Cookie("sid".into())
        );
        assert!(parse_header("no colon").is_err());
        assert!(parse_header("Bad Name: x").is_err());
        assert!(parse_header("X-Key:").is_err());
        assert!(parse_header("Cookie: a=1; b=2").is_err());
        let labels: Vec<String> = number_labels(vec![
            parse_header("X-API-Key: a").unwrap(),
            parse_header("X-API-Key: b").unwrap(),
        ])
        .into_iter()
        .map(|t| t.label)
        .collect();
        assert_eq!(labels, ["X-API-Key", "X-API-Key-2"]);
    }

    #[test]
    fn bearer_tokens_are_validated() {
        assert_eq!(parse_bearer("Bearer abc.def").unwrap(), "abc.def");
        assert!(parse_bearer("has space").is_err());
        assert!(parse_bearer("").is_err());
        assert!(parse_bearer("eyJnotjson.eyJ.x").is_err());
        assert!(parse_bearer("9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b").is_ok());
    }
}
