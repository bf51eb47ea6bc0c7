//! The scan settings as layers: one [`ScanLayer`] per source (the defaults, the config
//! file, the environment, the command line), every setting optional, merged with
//! [`ScanLayer::or`] so that a later layer's setting wins.
//!
//! Two kinds of settings add up instead of replacing each other, and keep separate fields
//! for it: the identities of the file (`[[identity]]`) join those of `--user`, `--bearer`
//! and `--header` (flags first: the first `--user` is the primary identity), while
//! `--bearer` replaces `[auth] bearer_env`, and `--checks`/`--exclude-checks` replace both
//! lists of the file.

use anyhow::{anyhow, Result};
use authprobe_core::auth::FlowSpecs;
use authprobe_core::config::{FileConfig, FileIdentity, FileIgnore, FileStore, LoginKind};
use authprobe_core::mailbox::MailboxUrl;
use authprobe_core::probe::ProbeSettings;
use std::path::PathBuf;

use crate::cli::{Profile, ScanArgs};

/// Where a setting was set, so that an invalid value names its flag or its place in the
/// config file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Default,
    /// A flag, or the `AUTHPROBE_*` variable standing for it (errors name the flag).
    Flag(&'static str),
    /// A key of a table of the config file: `("scan", "timeout_secs")`.
    File(&'static str, &'static str),
}

/// A setting's value and where it was set.
#[derive(Debug, Clone, PartialEq)]
pub struct Sourced<T> {
    pub value: T,
    pub origin: Origin,
}

impl<T> Sourced<T> {
    pub fn new(value: T, origin: Origin) -> Self {
        Sourced { value, origin }
    }
}

/// `--checks`/`--exclude-checks` or `[scan] checks`/`exclude_checks`: the two lists are
/// one setting (either flag replaces both lists of the file).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Selection {
    pub include: Vec<String>,
    pub exclude: Vec<String>,
}

/// The Bearer tokens: given (`--bearer`), or read from the variable `[auth] bearer_env`
/// names when none is given.
#[derive(Debug, Clone, PartialEq)]
pub enum Bearers {
    Tokens(Vec<String>),
    Variable(String),
}

/// Declares the layer struct with every field an `Option`, and its merge, from one list.
macro_rules! layer {
    ($(#[$meta:meta])* pub struct $name:ident { $($(#[$doc:meta])* $field:ident: $ty:ty,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Default)]
        pub struct $name {
            $($(#[$doc])* pub $field: Option<$ty>,)*
        }

        impl $name {
            /// This layer under `later`: every setting `later` has wins.
            pub fn or(self, later: $name) -> $name {
                $name { $($field: later.$field.or(self.$field),)* }
            }
        }
    };
}

layer! {
    /// Every scan setting the command line, the environment or the config file can set.
    pub struct ScanLayer {
        /// The target (`URL`, `AUTHPROBE_URL`, `[target] url`).
        url: Sourced<String>,
        /// `[target] http_url`: the plain-HTTP origin of an HTTPS target.
        http_url: String,
        environment: String,
        spec: String,
        profile: Profile,
        max_requests: Sourced<usize>,
        rate: u32,
        concurrency: Sourced<usize>,
        timeout_secs: Sourced<u64>,
        connect_timeout_secs: Sourced<u64>,
        retries: Sourced<u32>,
        retry_backoff_ms: u64,
        proxy: Sourced<String>,
        insecure: bool,
        debug: bool,
        checks: Sourced<Selection>,
        /// `--user NAME:PASSWORD`, unparsed.
        users: Vec<String>,
        bearers: Bearers,
        /// `--header 'NAME: VALUE'`, unparsed.
        headers: Vec<String>,
        /// `[[identity]]`: they join the identities of the flags.
        identities: Vec<FileIdentity>,
        login_path: String,
        login_kind: LoginKind,
        identity_path: String,
        flows: FlowSpecs,
        protected_paths: Vec<String>,
        extra_paths: Vec<String>,
        crack_time: f64,
        wordlists: Vec<PathBuf>,
        show_secrets: bool,
        allow_password_change: bool,
        /// `--mailbox URL` (`AUTHPROBE_MAILBOX`), already checked by its parser.
        mailbox: MailboxUrl,
        allow_writes: bool,
        fail_on: Sourced<String>,
        min_score: Sourced<u8>,
        baseline: PathBuf,
        ignores: Vec<FileIgnore>,
        /// The history database: `--db` or `AUTHPROBE_DB` (the file's is in `store`).
        db: String,
        store: FileStore,
        create: bool,
        no_store: bool,
        /// Hidden `AUTHPROBE_SCHEDULE`: the schedule before issue 17, for side-by-side timing.
        schedule: authprobe_core::config::Schedule,
    }
}

/// `Some(true)` for a switch that is on: a switch turns a setting on, never off.
fn switch(on: bool) -> Option<bool> {
    on.then_some(true)
}

/// `Some` for a list with entries: an empty list leaves the setting to the layers below.
fn list<T: Clone>(items: &[T]) -> Option<Vec<T>> {
    (!items.is_empty()).then(|| items.to_vec())
}

impl ScanLayer {
    /// The defaults: the standard profile, 3 s of cracking and the probe's limits.
    pub fn defaults() -> ScanLayer {
        let probe = ProbeSettings::default();
        ScanLayer {
            profile: Some(Profile::Standard),
            crack_time: Some(authprobe_core::config::DEFAULT_CRACK_TIME.as_secs_f64()),
            rate: Some(probe.rate_per_sec),
            concurrency: Some(Sourced::new(probe.concurrency, Origin::Default)),
            timeout_secs: Some(Sourced::new(probe.timeout.as_secs(), Origin::Default)),
            connect_timeout_secs: Some(Sourced::new(probe.connect_timeout.as_secs(), Origin::Default)),
            retries: Some(Sourced::new(probe.retries, Origin::Default)),
            retry_backoff_ms: Some(probe.retry_backoff.as_millis() as u64),
            ..ScanLayer::default()
        }
    }

    /// The settings of `authprobe.toml`, each with its place in the file (checked when the
    /// scan uses it: a value the flags override is not looked at).
    pub fn from_file(file: FileConfig) -> ScanLayer {
        let target = file.target.unwrap_or_default();
        let scan = file.scan.unwrap_or_default();
        let auth = file.auth.unwrap_or_default();
        let endpoints = file.endpoints.unwrap_or_default();
        let at = |key| Origin::File("scan", key);
        let checks = (scan.checks.is_some() || scan.exclude_checks.is_some()).then(|| {
            let key = if scan.checks.is_some() {
                "checks"
            } else {
                "exclude_checks"
            };
            let selection = Selection {
                include: scan.checks.unwrap_or_default(),
                exclude: scan.exclude_checks.unwrap_or_default(),
            };
            Sourced::new(selection, at(key))
        });
        ScanLayer {
            url: target.url.map(|u| Sourced::new(u, Origin::File("target", "url"))),
            http_url: target.http_url,
            environment: target.environment,
            spec: target.spec,
            insecure: switch(target.insecure.unwrap_or(false)),
            max_requests: scan.max_requests.map(|n| Sourced::new(n, at("max_requests"))),
            rate: scan.rate,
            concurrency: scan.concurrency.map(|n| Sourced::new(n, at("concurrency"))),
            timeout_secs: scan.timeout_secs.map(|s| Sourced::new(s, at("timeout_secs"))),
            connect_timeout_secs: scan
                .connect_timeout_secs
                .map(|s| Sourced::new(s, at("connect_timeout_secs"))),
            retries: scan.retries.map(|n| Sourced::new(n, at("retries"))),
            retry_backoff_ms: scan.retry_backoff_ms,
            proxy: scan.proxy.map(|p| Sourced::new(p, at("proxy"))),
            checks,
            allow_writes: switch(scan.allow_writes.unwrap_or(false)),
            fail_on: scan.fail_on.map(|s| Sourced::new(s, at("fail_on"))),
            min_score: scan.min_score.map(|n| Sourced::new(n, at("min_score"))),
            identities: Some(file.identities),
            bearers: auth.bearer_env.map(Bearers::Variable),
            login_path: auth.login_path,
            login_kind: auth.login_kind,
            identity_path: auth.identity_path,
            allow_password_change: switch(auth.allow_password_change.unwrap_or(false)),
            flows: file.flows,
            protected_paths: Some(endpoints.protected),
            extra_paths: Some(endpoints.extra),
            ignores: Some(file.ignores),
            store: file.store,
            ..ScanLayer::default()
        }
    }

    /// The command line. Clap fills a flag that is not given from its `AUTHPROBE_*`
    /// variable (so `--help` lists the variables, and a bad value is a usage error): for a
    /// flag, this layer already is the environment with the command line on top.
    pub fn from_flags(args: &ScanArgs) -> ScanLayer {
        let flag = |name| Origin::Flag(name);
        let checks = (!args.checks.is_empty() || !args.exclude_checks.is_empty()).then(|| {
            let selection = Selection {
                include: args.checks.clone(),
                exclude: args.exclude_checks.clone(),
            };
            Sourced::new(selection, flag("--checks/--exclude-checks"))
        });
        ScanLayer {
            url: args.url.clone().map(|u| Sourced::new(u, flag("URL"))),
            environment: args.environment.clone(),
            spec: args.spec.clone(),
            profile: Some(args.profile),
            max_requests: args.max_requests.map(|n| Sourced::new(n, flag("--max-requests"))),
            rate: args.rate,
            concurrency: args
                .concurrency
                .map(|n| Sourced::new(usize::from(n), flag("--concurrency"))),
            timeout_secs: args.timeout.map(|s| Sourced::new(s, flag("--timeout"))),
            connect_timeout_secs: args.connect_timeout.map(|s| Sourced::new(s, flag("--connect-timeout"))),
            retries: args.retries.map(|n| Sourced::new(n, flag("--retries"))),
            proxy: args.proxy.clone().map(|p| Sourced::new(p, flag("--proxy"))),
            insecure: switch(args.insecure),
            debug: switch(args.debug),
            checks,
            users: list(&args.users),
            bearers: list(&args.bearers).map(Bearers::Tokens),
            headers: list(&args.headers),
            crack_time: Some(args.crack_time),
            wordlists: list(&args.wordlists),
            show_secrets: switch(args.show_secrets),
            allow_password_change: switch(args.allow_password_change),
            mailbox: args.mailbox.clone(),
            allow_writes: switch(args.allow_writes),
            fail_on: args.fail_on.clone().map(|s| Sourced::new(s, flag("--fail-on"))),
            min_score: args.min_score.map(|n| Sourced::new(n, flag("--min-score"))),
            baseline: args.baseline.clone(),
            db: args.db.as_ref().map(|p| p.to_string_lossy().into_owned()),
            create: switch(args.create),
            no_store: switch(args.no_store),
            ..ScanLayer::default()
        }
    }

    /// The `AUTHPROBE_*` variables `lookup` gives (`std::env::var`, or fewer: see
    /// [`variables_clap_reads`]), each parsed as its flag's value would be.
    pub fn from_env(lookup: impl Fn(&str) -> Option<String>) -> Result<ScanLayer> {
        let var = |name: &str| lookup(name);
        let flag = |name| Origin::Flag(name);
        let include = var("AUTHPROBE_CHECKS").map(|v| split_list(&v));
        let exclude = var("AUTHPROBE_EXCLUDE_CHECKS").map(|v| split_list(&v));
        let checks = (include.is_some() || exclude.is_some()).then(|| {
            let selection = Selection {
                include: include.unwrap_or_default(),
                exclude: exclude.unwrap_or_default(),
            };
            Sourced::new(selection, flag("--checks/--exclude-checks"))
        });
        let number = |name: &str, low: u64, high: u64| parse_number(name, var(name), low, high);
        Ok(ScanLayer {
            url: var("AUTHPROBE_URL").map(|u| Sourced::new(u, flag("URL"))),
            environment: var("AUTHPROBE_ENVIRONMENT"),
            spec: var("AUTHPROBE_SPEC"),
            profile: parse("AUTHPROBE_PROFILE", var("AUTHPROBE_PROFILE"), |v| {
                <Profile as clap::ValueEnum>::from_str(v, false)
            })?,
            max_requests: number("AUTHPROBE_MAX_REQUESTS", 0, usize::MAX as u64)?
                .map(|n| Sourced::new(n as usize, flag("--max-requests"))),
            rate: number("AUTHPROBE_RATE", 0, u64::from(u32::MAX))?.map(|n| n as u32),
            concurrency: number("AUTHPROBE_CONCURRENCY", 1, 64)?
                .map(|n| Sourced::new(n as usize, flag("--concurrency"))),
            timeout_secs: number("AUTHPROBE_TIMEOUT", 0, u64::MAX)?.map(|s| Sourced::new(s, flag("--timeout"))),
            connect_timeout_secs: number("AUTHPROBE_CONNECT_TIMEOUT", 0, u64::MAX)?
                .map(|s| Sourced::new(s, flag("--connect-timeout"))),
            retries: number("AUTHPROBE_RETRIES", 0, 5)?.map(|n| Sourced::new(n as u32, flag("--retries"))),
            proxy: var("AUTHPROBE_PROXY").map(|p| Sourced::new(p, flag("--proxy"))),
            insecure: parse("AUTHPROBE_INSECURE", var("AUTHPROBE_INSECURE"), boolish)?.and_then(switch),
            debug: parse("AUTHPROBE_DEBUG", var("AUTHPROBE_DEBUG"), boolish)?.and_then(switch),
            checks,
            users: var("AUTHPROBE_USER").map(|v| vec![v]),
            bearers: var("AUTHPROBE_BEARER").map(|v| Bearers::Tokens(vec![v])),
            headers: var("AUTHPROBE_HEADER").map(|v| vec![v]),
            crack_time: parse("AUTHPROBE_CRACK_TIME", var("AUTHPROBE_CRACK_TIME"), |v| {
                v.parse::<f64>().map_err(|e| e.to_string())
            })?,
            wordlists: var("AUTHPROBE_WORDLIST").map(|v| vec![PathBuf::from(v)]),
            mailbox: parse("AUTHPROBE_MAILBOX", var("AUTHPROBE_MAILBOX"), |v| {
                MailboxUrl::parse(v).map_err(|e| e.to_string())
            })?,
            fail_on: parse("AUTHPROBE_FAIL_ON", var("AUTHPROBE_FAIL_ON"), severity_name)?
                .map(|s| Sourced::new(s, flag("--fail-on"))),
            min_score: number("AUTHPROBE_MIN_SCORE", 0, 100)?.map(|n| Sourced::new(n as u8, flag("--min-score"))),
            baseline: var("AUTHPROBE_BASELINE").map(PathBuf::from),
            db: var("AUTHPROBE_DB").filter(|v| !v.is_empty()),
            schedule: var("AUTHPROBE_SCHEDULE").and_then(|v| authprobe_core::config::Schedule::parse(&v)),
            ..ScanLayer::default()
        })
    }
}

/// The `AUTHPROBE_*` variables clap reads for the flags of `authprobe scan`.
pub fn variables_clap_reads() -> Vec<String> {
    use clap::CommandFactory;
    let cli = crate::cli::Cli::command();
    let Some(scan) = cli.find_subcommand("scan") else {
        return Vec::new();
    };
    scan.get_arguments()
        .filter_map(|arg| arg.get_env())
        .map(|name| name.to_string_lossy().into_owned())
        .collect()
}

/// A comma-separated list, as clap splits `AUTHPROBE_CHECKS`.
fn split_list(raw: &str) -> Vec<String> {
    raw.split(',').map(str::to_string).collect()
}

/// The value of variable `name`, parsed; an invalid one names the variable.
fn parse<T>(name: &str, raw: Option<String>, parse: impl Fn(&str) -> Result<T, String>) -> Result<Option<T>> {
    raw.map(|raw| parse(&raw).map_err(|e| anyhow!("{name}: invalid value `{raw}`: {e}")))
        .transpose()
}

/// A whole number between `low` and `high`.
fn parse_number(name: &str, raw: Option<String>, low: u64, high: u64) -> Result<Option<u64>> {
    parse(name, raw, |v| {
        let n = v.parse::<u64>().map_err(|e| e.to_string())?;
        if (low..=high).contains(&n) {
            Ok(n)
        } else {
            Err(format!("{n} is not in {low}..={high}"))
        }
    })
}

/// A switch's value as clap reads it (`1`, `true`, `yes`, `on`; `0`, `false`, `no`, `off`).
fn boolish(raw: &str) -> Result<bool, String> {
    match raw.to_ascii_lowercase().as_str() {
        "y" | "yes" | "t" | "true" | "on" | "1" => Ok(true),
        "n" | "no" | "f" | "false" | "off" | "0" => Ok(false),
        _ => Err("give 1, true, yes or on; 0, false, no or off".into()),
    }
}

/// A severity `--fail-on` accepts.
fn severity_name(raw: &str) -> Result<String, String> {
    match raw {
        "critical" | "high" | "medium" | "low" | "info" => Ok(raw.to_string()),
        _ => Err("give critical, high, medium, low or info".into()),
    }
}
