//! Builds a [`ScanConfig`] from `authprobe.toml` with the flags layered on top
//! (defaults < file < environment < flags), and validates every user-supplied value.

use anyhow::{anyhow, bail, Context, Result};
use authprobe_core::config::{FileConfig, LoginKind, SuppliedToken, Target, UserCredential};
use authprobe_core::identity::Presentation;
use authprobe_core::probe::ProbeSettings;
use authprobe_core::{ScanConfig, Severity};
use std::path::Path;
use std::time::Duration;

use crate::cli::{Profile, ScanArgs};

/// What the CLI needs besides the scan configuration: the CI gate.
#[derive(Debug, Clone, Default)]
pub struct Gate {
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
#[derive(Debug, Clone, Default)]
pub struct StoreSettings {
    pub path: std::path::PathBuf,
    pub retention: authprobe_store::Retention,
}

/// The history database: `--db` < `AUTHPROBE_DB` < `[store] path` < the per-user default
/// (flags win), with the `[store]` retention.
pub fn store_settings(flag: Option<&Path>, file: Option<&authprobe_core::config::FileStore>) -> StoreSettings {
    let env = std::env::var_os("AUTHPROBE_DB")
        .filter(|v| !v.is_empty())
        .map(std::path::PathBuf::from);
    let path = flag
        .map(Path::to_path_buf)
        .or(env)
        .or_else(|| file.and_then(|f| f.path.clone()))
        .unwrap_or_else(authprobe_store::default_path);
    StoreSettings {
        path,
        retention: authprobe_store::Retention {
            keep: file.and_then(|f| f.keep),
            days: file.and_then(|f| f.days),
        },
    }
}

pub fn load_file(path: &Path) -> Result<FileConfig> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read config file {}", path.display()))?;
    toml::from_str(&text)
        .map_err(|e| anyhow!("invalid config file {}: {}", path.display(), e.message().trim()).context(e))
}

pub fn build(args: &ScanArgs) -> Result<(ScanConfig, Gate)> {
    let file = match &args.config {
        Some(path) => load_file(path)?,
        None => FileConfig::default(),
    };
    let file_target = file.target.unwrap_or_default();
    let spec_from_file = file_target.spec.clone();
    let raw_url = args.url.clone().or(file_target.url).ok_or_else(|| {
        anyhow!("no target: give a URL (authprobe scan https://api.example.com/) or [target] url in the config")
    })?;
    let mut target = Target::parse(&raw_url)?;
    if let Some(http) = &file_target.http_url {
        target.http_url = Some(Target::parse(http).context("invalid [target] http_url")?.url);
    }

    let scan = file.scan.unwrap_or_default();
    let mut probe = ProbeSettings {
        max_requests: args
            .max_requests
            .or(scan.max_requests)
            .unwrap_or(args.profile.max_requests()),
        rate_per_sec: args.rate.or(scan.rate).unwrap_or(0),
        insecure: args.insecure || file_target.insecure.unwrap_or(false),
        read_only: args.profile == Profile::Safe,
        ..ProbeSettings::default()
    };
    if let Some(c) = scan.concurrency {
        probe.concurrency = c.clamp(1, 64);
    }
    if let Some(secs) = args.timeout.or(scan.timeout_secs) {
        if secs == 0 {
            bail!("the timeout must be at least 1 second");
        }
        probe.timeout = Duration::from_secs(secs);
    }
    if let Some(secs) = args.connect_timeout.or(scan.connect_timeout_secs) {
        if secs == 0 {
            bail!("the connect timeout must be at least 1 second");
        }
        probe.connect_timeout = Duration::from_secs(secs);
    }
    if let Some(retries) = args.retries.or(scan.retries) {
        if retries > 5 {
            bail!("[scan] retries must be between 0 and 5");
        }
        probe.retries = retries;
    }
    if let Some(ms) = scan.retry_backoff_ms {
        probe.retry_backoff = Duration::from_millis(ms.min(60_000));
    }
    if probe.max_requests == 0 {
        bail!("--max-requests must be at least 1");
    }

    let mut users = Vec::new();
    let mut tokens: Vec<SuppliedToken> = Vec::new();
    for identity in file.identities {
        let header = match (&identity.header, &identity.header_env) {
            (Some(h), _) => Some(h.clone()),
            (None, Some(var)) => Some(std::env::var(var).with_context(|| {
                format!(
                    "identity `{}`: environment variable {var} is not set",
                    identity.username
                )
            })?),
            (None, None) => None,
        };
        if let Some(header) = header {
            if identity.password.is_some() || identity.password_env.is_some() {
                bail!(
                    "identity `{}` in the config has both a header and a password: keep one",
                    identity.username
                );
            }
            let mut token = parse_header(&header).with_context(|| format!("identity `{}`", identity.username))?;
            if !identity.username.is_empty() {
                token.label = identity.username.clone();
            }
            tokens.push(token);
            continue;
        }
        if identity.username.trim().is_empty() {
            bail!("an [[identity]] in the config has neither username nor header");
        }
        let password = match (identity.password, identity.password_env) {
            (Some(p), _) => p,
            (None, Some(var)) => std::env::var(&var).with_context(|| {
                format!(
                    "identity `{}`: environment variable {var} is not set",
                    identity.username
                )
            })?,
            (None, None) => bail!(
                "identity `{}` in the config has neither password nor password_env",
                identity.username
            ),
        };
        users.push(UserCredential {
            username: identity.username,
            password,
        });
    }
    // Flags come first: the first --user is the primary identity.
    let mut flag_users = args.users.iter().map(|u| parse_user(u)).collect::<Result<Vec<_>>>()?;
    flag_users.extend(users);
    let users = flag_users;
    if args.profile == Profile::Safe && !users.is_empty() {
        bail!("--profile safe sends GET and HEAD only and cannot log in: drop --user (a --bearer token is fine) or use --profile standard");
    }

    for path in &args.wordlists {
        std::fs::File::open(path).with_context(|| format!("cannot read wordlist {}", path.display()))?;
    }
    let auth = file.auth.unwrap_or_default();
    // Flags first (the first is the primary identity when no --user is given), then the file.
    let mut bearers: Vec<String> = args.bearers.iter().map(|b| parse_bearer(b)).collect::<Result<_>>()?;
    if bearers.is_empty() {
        if let Some(var) = &auth.bearer_env {
            bearers.push(parse_bearer(
                &std::env::var(var).with_context(|| format!("[auth] bearer_env: {var} is not set"))?,
            )?);
        }
    }
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
    for raw in &args.headers {
        supplied.push(parse_header(raw)?);
    }
    supplied.extend(tokens);
    let tokens = number_labels(supplied);
    let login = match (auth.login_path, auth.login_kind) {
        (Some(path), kind) => Some((kind.unwrap_or(LoginKind::Simplejwt), path)),
        (None, Some(_)) => bail!("[auth] login_kind needs login_path"),
        (None, None) => None,
    };
    let allow_password_change = args.allow_password_change || auth.allow_password_change.unwrap_or(false);
    let environment = args.environment.clone().or(file_target.environment.clone());
    let writes = if args.allow_writes || scan.allow_writes.unwrap_or(false) {
        if args.profile == Profile::Safe {
            bail!("--allow-writes cannot be combined with --profile safe, which sends GET and HEAD only");
        }
        Some(authprobe_core::writes::WriteMode::new(environment.as_deref())?)
    } else {
        None
    };
    probe.allow_writes = writes.is_some();
    let flows = file.flows.unwrap_or_default();
    let spec = args.spec.clone().or(spec_from_file);
    if flows.login.is_some() && login.is_some() {
        bail!("[flows.login] and [auth] login_path both declare the login endpoint: keep one (prefer [flows.login])");
    }
    let endpoints = file.endpoints.unwrap_or_default();
    if file.store.as_ref().is_some_and(|s| s.keep == Some(0)) {
        bail!("[store] keep must be at least 1 (use --no-store to keep no history)");
    }
    let store = (!args.no_store).then(|| store_settings(args.db.as_deref(), file.store.as_ref()));
    let gate = Gate {
        store,
        fail_on: args
            .fail_on
            .clone()
            .or(scan.fail_on)
            .map(|s| s.parse::<Severity>().map_err(|e| anyhow!(e)))
            .transpose()?,
        min_score: args.min_score.or(scan.min_score),
        ignores: crate::triage::ignores(file.ignores, crate::triage::today())?,
        baseline: args.baseline.as_deref().map(crate::triage::load_report).transpose()?,
    };
    if gate.min_score.is_some_and(|s| s > 100) {
        bail!("min_score must be between 0 and 100");
    }
    Ok((
        ScanConfig {
            target,
            users,
            tokens,
            probe,
            login,
            identity_path: auth.identity_path,
            protected_paths: endpoints.protected,
            extra_paths: endpoints.extra,
            crack_time: crack_time(args.crack_time)?,
            wordlists: args.wordlists.clone(),
            show_secrets: args.show_secrets,
            profile: format!("{:?}", args.profile).to_lowercase(),
            allow_password_change,
            flows,
            spec,
            writes,
        },
        gate,
    ))
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
