//! Command-line definitions. `--help` is the user's first manual: every flag says what it
//! does and why one would use it.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// `--version`: the package version and the commit it was built from (see build.rs).
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (", env!("AUTHPROBE_COMMIT"), ")");

#[derive(Debug, Parser)]
#[command(
    name = "authprobe",
    version = VERSION,
    about = "Black-box scanner for the authentication of Django/DRF APIs (Bearer tokens, JWTs, session cookies).",
    long_about = "authprobe finds broken authentication in HTTP APIs: unverified or forgeable tokens, tokens in URLs, \
missing authentication, DEBUG pages, weak transport security, insecure cookies and CORS. It proves each finding \
with recorded evidence and a curl command, scores the API 0-100 (grade A-F) and gates CI with its exit code.",
    after_help = "Examples:\n  authprobe scan http://127.0.0.1:8000/ --user alice:alice-pass-1\n  authprobe scan https://api.example.com/ --config authprobe.toml --format json --output report.json --fail-on high\n  authprobe scan http://127.0.0.1:8000/ --format sarif,markdown,junit --output-dir reports/\n  authprobe diff old.json new.json --format markdown\n  authprobe checks\n  authprobe explain JWT005\n  authprobe history\n  authprobe serve --config authprobe.toml\n  authprobe completions bash > ~/.local/share/bash-completion/completions/authprobe\n  authprobe man | man -l -\n\nConfiguration: flags, then AUTHPROBE_* environment variables (see `authprobe scan --help`), then --config FILE or ./authprobe.toml, then defaults. HTTP_PROXY, HTTPS_PROXY, ALL_PROXY and NO_PROXY are honoured unless --proxy is given.\n\nExit codes: 0 the gate passed, 1 the gate failed (--fail-on / --min-score), 2 usage or scan error, or a scan interrupted by Ctrl-C/SIGTERM (its partial report is still written, marked incomplete)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan an API and report its authentication weaknesses.
    Scan(Box<ScanArgs>),
    /// List every check in the catalog (a table, or JSON with --format json).
    Checks(ChecksArgs),
    /// Print a check's documentation: what it does, why it matters, the Django fix.
    Explain {
        /// A check code (e.g. JWT005) or slug (e.g. jwt-lifetime).
        code: String,
    },
    /// Recover the HMAC secret of a JWT (HS256/384/512) or a Django-signed value, offline.
    Crack(Box<crate::crack_cmd::CrackArgs>),
    /// Compare two JSON reports: new, resolved and unchanged findings and the score change.
    Diff(DiffArgs),
    /// Analyse token samples offline (entropy, predictability, identity derivation).
    Tokens(crate::tokens_cmd::TokensArgs),
    /// List stored scans (all targets, or one) with a score sparkline.
    History(crate::history_cmd::HistoryArgs),
    /// Print a stored scan's report in any format.
    Show(crate::history_cmd::ShowArgs),
    /// Serve the dashboard and JSON API over the scan history; rescan `[[monitor]]` targets.
    Serve(crate::serve_cmd::ServeArgs),
    /// Run due `[[monitor]]` rescans from a store shared with other workers and dashboards
    /// (no pages): any number of workers on any machines, each rescan run once.
    Worker(crate::serve_cmd::WorkerArgs),
    /// Show the shared rescan schedule of `serve` and `worker` (each `[[monitor]]` target,
    /// its next rescan, the worker holding it, its last scan); `--remove URL` takes a target
    /// off it.
    Monitors(crate::monitors_cmd::MonitorsArgs),
    /// Send JSON reports to a dashboard (e.g. ones a failed `scan --upload` kept on disk).
    Upload(crate::upload_cmd::UploadArgs),
    /// Print a shell completion script to standard output, e.g.
    /// `authprobe completions bash > ~/.local/share/bash-completion/completions/authprobe`.
    Completions {
        /// The shell: bash, zsh, fish, powershell or elvish.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) to standard output, e.g. `authprobe man | man -l -`;
    /// `authprobe man scan` prints the page of one subcommand.
    Man {
        /// A subcommand (scan, checks, ...): its own page instead of authprobe(1).
        command: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct ChecksArgs {
    /// Output format: a table, or a JSON array of the catalog (code, slug, title,
    /// severity, severities, cwe, owasp, requires, family).
    #[arg(long, short = 'f', value_enum, default_value_t = ChecksFormat::Table)]
    pub format: ChecksFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ChecksFormat {
    Table,
    Json,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The earlier report (`--format json`).
    pub old: PathBuf,
    /// The later report (`--format json`).
    pub new: PathBuf,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = DiffFormat::Pretty)]
    pub format: DiffFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    Pretty,
    Markdown,
    Json,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Base URL of the API, e.g. https://api.example.com/ (may come from the config file).
    #[arg(env = "AUTHPROBE_URL")]
    pub url: Option<String>,

    /// Configuration file (TOML) for what flags cannot express: login and identity
    /// endpoints, protected paths, the plain-HTTP origin of an HTTPS target. Without it,
    /// ./authprobe.toml is used when it exists (see --no-config).
    #[arg(long, short = 'c', value_name = "FILE", env = "AUTHPROBE_CONFIG")]
    pub config: Option<PathBuf>,

    /// Do not read ./authprobe.toml (flags, AUTHPROBE_* variables and defaults only).
    #[arg(long, conflicts_with = "config")]
    pub no_config: bool,

    /// Warn no more: an [[ignore]] entry that matched no finding of a check that ran is
    /// an error (exit 2, after the reports are written).
    #[arg(long, env = "AUTHPROBE_STRICT_CONFIG", value_parser = clap::builder::BoolishValueParser::new())]
    pub strict_config: bool,

    /// Log in as this account (repeatable; the first is the primary identity). The
    /// password is never written to any output. Use a test account.
    #[arg(
        long = "user",
        short = 'u',
        value_name = "NAME:PASSWORD",
        env = "AUTHPROBE_USER",
        hide_env_values = true
    )]
    pub users: Vec<String>,

    /// Use this Bearer token as an identity (a JWT or an opaque token). Repeatable: two
    /// tokens of two accounts are two identities, so the cross-identity checks run
    /// without a login flow.
    #[arg(
        long = "bearer",
        value_name = "TOKEN",
        env = "AUTHPROBE_BEARER",
        hide_env_values = true
    )]
    pub bearers: Vec<String>,

    /// Use a credential header as an identity, e.g. `--header 'X-API-Key: KEY'`,
    /// `--header 'Authorization: JWT TOKEN'`, `--header 'Cookie: sessionid=VALUE'`
    /// (repeatable; each is one identity). The value is never written to any output.
    #[arg(
        long = "header",
        short = 'H',
        value_name = "NAME: VALUE",
        env = "AUTHPROBE_HEADER",
        hide_env_values = true
    )]
    pub headers: Vec<String>,

    /// OpenAPI 3.0/3.1 or Swagger 2.0 spec (JSON or YAML, file or URL) that drives the scan:
    /// its operations are the inventory (no path guessing), and operations it declares
    /// secured are checked for missing authentication. Without it, a spec the target serves
    /// at /api/schema/, /openapi.json or /swagger.json is used alongside discovery.
    #[arg(long, value_name = "FILE|URL", env = "AUTHPROBE_SPEC")]
    pub spec: Option<String>,

    /// How much to send: safe (300 requests), standard (1500) or thorough (5000).
    #[arg(long, value_enum, default_value_t = Profile::Standard, env = "AUTHPROBE_PROFILE")]
    pub profile: Profile,

    /// Run only these checks: codes (JWT003), slugs (jwt-weak-secret) or categories
    /// (jwt, session, ...), comma-separated or repeated. The others are listed as skipped.
    #[arg(long, value_name = "CHECK,...", value_delimiter = ',', env = "AUTHPROBE_CHECKS")]
    pub checks: Vec<String>,

    /// Leave these checks out (codes, slugs or categories); they are listed as skipped.
    #[arg(
        long,
        value_name = "CHECK,...",
        value_delimiter = ',',
        env = "AUTHPROBE_EXCLUDE_CHECKS"
    )]
    pub exclude_checks: Vec<String>,

    /// Output format (repeatable or comma-separated: `--format json --format sarif`).
    /// Several formats need --output-dir. Default: pretty.
    #[arg(
        long = "format",
        short = 'f',
        value_enum,
        value_delimiter = ',',
        value_name = "FORMAT",
        env = "AUTHPROBE_FORMAT"
    )]
    pub formats: Vec<OutputFormat>,

    /// Write the report to FILE instead of standard output (one format only).
    #[arg(long, short = 'o', value_name = "FILE", conflicts_with = "output_dir")]
    pub output: Option<PathBuf>,

    /// Write one file per format into DIR (created if missing): report.txt, report.json,
    /// report.sarif, report.md, report.junit.xml, report.html.
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,

    /// Where the full report will be (an http(s) URL, e.g. the CI run's HTML report): the
    /// Markdown report links it at the top and where it left findings out to fit a
    /// pull-request comment.
    #[arg(
        long,
        value_name = "URL",
        value_parser = crate::settings::parse_report_url,
        env = "AUTHPROBE_REPORT_URL"
    )]
    pub report_url: Option<String>,

    /// Fail (exit 1) when a finding of this severity or worse is reported. Suppressed
    /// findings (`[[ignore]]`) never count; with --baseline only new findings do.
    #[arg(
        long,
        value_name = "SEVERITY",
        value_parser = ["critical", "high", "medium", "low", "info"],
        env = "AUTHPROBE_FAIL_ON"
    )]
    pub fail_on: Option<String>,

    /// Fail (exit 1) when the score is below N (0-100). The score leaves suppressed
    /// findings out.
    #[arg(
        long,
        value_name = "N",
        value_parser = clap::value_parser!(u8).range(0..=100),
        env = "AUTHPROBE_MIN_SCORE"
    )]
    pub min_score: Option<u8>,

    /// A JSON report of an earlier scan: the gate then counts only findings that are new
    /// since it (--min-score fails only on a score below N and below the baseline's).
    #[arg(long, value_name = "FILE", env = "AUTHPROBE_BASELINE")]
    pub baseline: Option<PathBuf>,

    /// Hard cap on the number of requests sent (overrides the profile).
    #[arg(long, value_name = "N", env = "AUTHPROBE_MAX_REQUESTS")]
    pub max_requests: Option<usize>,

    /// Requests per second at most (0 = unlimited).
    #[arg(long, value_name = "N", env = "AUTHPROBE_RATE")]
    pub rate: Option<u32>,

    /// Requests in flight at once, 1-64 (default 8).
    #[arg(
        long,
        value_name = "N",
        value_parser = clap::value_parser!(u16).range(1..=64),
        env = "AUTHPROBE_CONCURRENCY"
    )]
    pub concurrency: Option<u16>,

    /// Send every request through this HTTP(S) proxy, e.g. http://127.0.0.1:8080 for
    /// Burp or ZAP (add --insecure, or trust its CA, when it intercepts HTTPS). Without
    /// it, HTTP_PROXY, HTTPS_PROXY, ALL_PROXY and NO_PROXY are honoured.
    #[arg(long, value_name = "URL", env = "AUTHPROBE_PROXY", hide_env_values = true)]
    pub proxy: Option<String>,

    /// Per-request timeout in seconds: connecting, the headers and the whole body
    /// (default 10). A request that times out is not retried.
    #[arg(long, value_name = "SECS", env = "AUTHPROBE_TIMEOUT")]
    pub timeout: Option<u64>,

    /// Seconds to wait for a connection (default 5).
    #[arg(long, value_name = "SECS", env = "AUTHPROBE_CONNECT_TIMEOUT")]
    pub connect_timeout: Option<u64>,

    /// Retries of a GET/HEAD/OPTIONS whose connection failed or was lost before the answer
    /// (default 1; POST is never retried). Each retry counts against --max-requests and
    /// waits 250 ms, doubled for every further retry.
    #[arg(
        long,
        value_name = "N",
        value_parser = clap::value_parser!(u32).range(0..=5),
        env = "AUTHPROBE_RETRIES"
    )]
    pub retries: Option<u32>,

    /// Seconds of offline cracking of the signed values (JWTs, Django-signed cookies) found
    /// during the scan: that much CPU time on every core, shared by the values, which crack
    /// in one pass (each candidate tried against every value) alongside the probing and at a
    /// lower CPU priority. A busy machine gives the same candidates more wall time, up to 4x
    /// SECS.
    #[arg(long, value_name = "SECS", default_value_t = 3.0, env = "AUTHPROBE_CRACK_TIME")]
    pub crack_time: f64,

    /// Extra wordlist for secret cracking during the scan (repeatable; one candidate per line).
    #[arg(long = "wordlist", value_name = "FILE", env = "AUTHPROBE_WORDLIST")]
    pub wordlists: Vec<PathBuf>,

    /// Let the password checks set the first --user's password: SESS005 changes it to test
    /// that tokens and sessions are revoked, PASS001 tries weak passwords, PASS002 uses a
    /// mailed reset link with the account's own password. Each change is undone at once,
    /// even on Ctrl-C. Test accounts only.
    #[arg(long)]
    pub allow_password_change: bool,

    /// Where to read what the target e-mails (password-reset links): PASS002 follows a
    /// reset end to end (reset poisoning, reusable or long-lived links).
    ///
    /// smtp://127.0.0.1:2525 — authprobe runs an SMTP sink on that loopback address for the
    /// scan; point the staging app's outgoing mail at it (Django: EMAIL_HOST=127.0.0.1,
    /// EMAIL_PORT=2525).
    ///
    /// mailpit+http://HOST:8025 or mailhog+http://HOST:8025 — read the messages of a Mailpit
    /// or MailHog the team already runs, through its HTTP API (read only).
    #[arg(long, value_name = "URL", env = "AUTHPROBE_MAILBOX", value_parser = clap::value_parser!(authprobe_core::mailbox::MailboxUrl))]
    pub mailbox: Option<authprobe_core::mailbox::MailboxUrl>,

    /// Turn on write probes (BOLA003 cross-identity writes, AUTHZ002 mass assignment): they
    /// create their own objects and accounts, write only to those, and remove them after.
    /// Refused unless --environment declares the target non-production.
    #[arg(long)]
    pub allow_writes: bool,

    /// The deployment the target is (staging, test, dev, ...); --allow-writes needs one
    /// that is not production. Stated in the report when write probes are on.
    #[arg(long, value_name = "NAME", env = "AUTHPROBE_ENVIRONMENT")]
    pub environment: Option<String>,

    /// Print recovered secrets in full (by default only a prefix and the length).
    #[arg(long)]
    pub show_secrets: bool,

    /// Accept invalid TLS certificates (self-signed test servers).
    #[arg(
        long,
        short = 'k',
        env = "AUTHPROBE_INSECURE",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub insecure: bool,

    /// No progress on standard error (bars on a terminal, else a heartbeat line every
    /// AUTHPROBE_HEARTBEAT_SECS, default 5). The summary and the gate's reason still print.
    #[arg(long, short = 'q', conflicts_with = "verbose")]
    pub quiet: bool,

    /// More progress detail on standard error: the configuration used, each phase and
    /// each check as it finishes, one line each (no progress bar).
    #[arg(long, short = 'v', action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Print the request log on standard error, one line per request:
    /// `METHOD URL -> STATUS (ms)`. Passwords, tokens and credential-like query values are
    /// redacted; headers and bodies are never shown.
    #[arg(
        long,
        env = "AUTHPROBE_DEBUG",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub debug: bool,

    /// Scan history: a SQLite file or postgres://USER@HOST/DB (default: AUTHPROBE_DB,
    /// then [store] url or path, then ~/.local/share/authprobe/history.db). Every scan is
    /// saved there. A file's directory must exist, unless --create.
    #[arg(long, value_name = "PATH|URL")]
    pub db: Option<PathBuf>,

    /// Create the missing directories of --db, AUTHPROBE_DB or [store] path (the default
    /// location is always created).
    #[arg(long)]
    pub create: bool,

    /// Do not save this scan in the history.
    #[arg(long, conflicts_with = "db")]
    pub no_store: bool,

    /// Send the finished report to a dashboard (`authprobe serve` with
    /// AUTHPROBE_UPLOAD_TOKEN set), authenticated by AUTHPROBE_UPLOAD_TOKEN. Retried with
    /// backoff; stored once however often it arrives. A report that cannot be delivered is
    /// kept on disk (see --upload-keep) and named, and the exit code is 2.
    #[arg(long, value_name = "URL", env = "AUTHPROBE_UPLOAD_URL")]
    pub upload: Option<String>,

    /// Where a report that could not be uploaded is kept (default: the working directory).
    #[arg(long, value_name = "DIR", requires = "upload")]
    pub upload_keep: Option<PathBuf>,

    /// Upload tries after the first one (pauses of 1 s, 2 s, 4 s, … between them).
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub upload_retries: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Profile {
    Safe,
    Standard,
    Thorough,
}

impl Profile {
    pub fn max_requests(self) -> usize {
        match self {
            Profile::Safe => 300,
            Profile::Standard => 1500,
            Profile::Thorough => 5000,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// The terminal report.
    Pretty,
    /// The `authprobe.report/v1` JSON document.
    Json,
    /// SARIF 2.1.0, for code-scanning dashboards.
    Sarif,
    /// Markdown that fits a pull-request comment.
    Markdown,
    /// JUnit XML, one test case per check.
    Junit,
    /// One self-contained HTML page (no scripts, nothing fetched).
    Html,
}

impl OutputFormat {
    pub fn emitter(self) -> authprobe_report::Format {
        match self {
            OutputFormat::Pretty => authprobe_report::Format::Pretty,
            OutputFormat::Json => authprobe_report::Format::Json,
            OutputFormat::Sarif => authprobe_report::Format::Sarif,
            OutputFormat::Markdown => authprobe_report::Format::Markdown,
            OutputFormat::Junit => authprobe_report::Format::Junit,
            OutputFormat::Html => authprobe_report::Format::Html,
        }
    }
}
