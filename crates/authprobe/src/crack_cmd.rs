//! `authprobe crack`: recovers the HMAC secret of a JWT (HS256/384/512) or of a
//! `django.core.signing` value, offline, from the built-in candidates, wordlists and masks.
//! Exit codes: 0 found, 1 not found (or interrupted), 2 error.

use anyhow::{Context, Result};
use authprobe_jwt::crack::bench::{candidates_per_second, SIMPLEJWT_ACCESS_TOKEN};
use authprobe_jwt::crack::{crack_sources, CrackControl, CrackOptions, CrackOutcome, CrackTarget, Mask, Source};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

const MESSAGES_SALT: &str = "django.contrib.messages";

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  authprobe crack eyJhbGciOiJIUzI1NiIs...\n  authprobe crack TOKEN --wordlist rockyou.txt --mask '?l?l?l?l?d?d'\n  \
authprobe crack 'eyJhIjoxfQ:1xVSb9:G6tP...' --django-salt django.core.signing\n  \
authprobe crack 'x:1xVSb9:vtW7...' --django-salt django.contrib.messages\n  authprobe crack --benchmark\n\n\
Candidates: the built-in list (empty key, common secrets with case/digit mutations, published keys), then each \
--wordlist, then each --mask.\nExit codes: 0 secret found, 1 not found or interrupted, 2 error."
)]
pub struct CrackArgs {
    /// The signed value: a compact JWT (HS256/HS384/HS512), or with --django-salt a
    /// django.core.signing value (`payload:sig` or `payload:timestamp:sig`). `-` reads it
    /// from standard input (keeps it out of the shell history).
    #[arg(value_name = "TOKEN", required_unless_present = "benchmark")]
    pub token: Option<String>,

    /// A wordlist, one candidate per line (repeatable; streamed, any size).
    #[arg(long = "wordlist", short = 'w', value_name = "FILE")]
    pub wordlists: Vec<PathBuf>,

    /// A hashcat-style mask (repeatable): ?l a-z, ?u A-Z, ?d 0-9, ?s symbols, ?a all of
    /// them, ?? a literal `?`, any other character itself. `?l?l?d?d` tries aa00 … zz99.
    #[arg(long = "mask", short = 'm', value_name = "MASK")]
    pub masks: Vec<String>,

    /// Worker threads (0 = one per core).
    #[arg(long, short = 'j', value_name = "N", default_value_t = 0)]
    pub threads: usize,

    /// TOKEN is a django.core.signing value signed with this salt, e.g.
    /// `django.core.signing` (signing.dumps), `django.contrib.messages` (messages cookie),
    /// `django.contrib.sessions.backends.signed_cookies` (signed-cookie sessions), or the
    /// cookie name + salt of `set_signed_cookie`.
    #[arg(long, value_name = "SALT")]
    pub django_salt: Option<String>,

    /// The Django value was signed by `get_cookie_signer` (messages cookie,
    /// `set_signed_cookie`): the key is "django.http.cookies" + SECRET_KEY. Implied by
    /// `--django-salt django.contrib.messages`.
    #[arg(long, requires = "django_salt")]
    pub cookie_signer: bool,

    /// Stop after this many seconds.
    #[arg(long, value_name = "SECS")]
    pub max_time: Option<f64>,

    /// Skip the built-in candidates.
    #[arg(long)]
    pub no_builtin: bool,

    /// Measure candidates per second on this machine (for TOKEN if given, else for a
    /// simplejwt access token) and exit.
    #[arg(long)]
    pub benchmark: bool,

    /// No progress bar or statistics on standard error.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// Runs the command; Ctrl-C stops the workers and reports what was tried.
pub fn run(args: CrackArgs) -> Result<ExitCode> {
    let control = Arc::new(CrackControl::default());
    stop_on_ctrl_c(control.clone());
    let progress = !args.quiet && !ProgressDrawTarget::stderr().is_hidden();
    let found = execute(
        &args,
        &mut std::io::stdout().lock(),
        &mut std::io::stderr(),
        &control,
        progress,
    )?;
    Ok(if found { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// Reads the target, builds the sources and cracks; true when the secret was found.
fn execute(
    args: &CrackArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
    control: &Arc<CrackControl>,
    progress: bool,
) -> Result<bool> {
    let threads = args.threads;
    if args.benchmark {
        let target = match &args.token {
            Some(token) => target(args, &read_token(token)?)?,
            None => CrackTarget::from_jwt(SIMPLEJWT_ACCESS_TOKEN).expect("a valid token"),
        };
        benchmark(&target, threads, Duration::from_secs(2), out)?;
        return Ok(true);
    }
    let token = read_token(args.token.as_deref().context("a TOKEN is required")?)?;
    let target = target(args, &token)?;

    let mut sources = Vec::new();
    if !args.no_builtin {
        sources.push(Source::Builtin);
    }
    sources.extend(args.wordlists.iter().cloned().map(Source::Wordlist));
    for mask in &args.masks {
        sources.push(Source::Mask(Mask::parse(mask)?));
    }
    if sources.is_empty() {
        anyhow::bail!("no candidates: --no-builtin needs a --wordlist or a --mask");
    }
    let budget = match args.max_time {
        Some(secs) if secs.is_finite() && secs > 0.0 => Some(Duration::from_secs_f64(secs)),
        Some(secs) => anyhow::bail!("--max-time must be a positive number of seconds, not {secs}"),
        None => None,
    };
    let options = CrackOptions {
        budget,
        threads,
        background: None,
    };

    let bar = progress.then(|| progress_bar(control.clone()));
    let outcome = crack_sources(&target, &sources, &options, control);
    if let Some((bar, updater)) = bar {
        bar.finish_and_clear();
        let _ = updater.join();
    }
    let outcome = outcome?;
    report(&outcome, control.is_stopped(), args.quiet, out, err)?;
    Ok(outcome.found.is_some())
}

fn read_token(token: &str) -> Result<String> {
    if token != "-" {
        return Ok(token.to_string());
    }
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .context("cannot read the token from standard input")?;
    Ok(text.trim().to_string())
}

fn target(args: &CrackArgs, token: &str) -> Result<CrackTarget> {
    let target = match &args.django_salt {
        Some(salt) => {
            let cookie = args.cookie_signer || salt == MESSAGES_SALT;
            CrackTarget::from_django_signed(token, salt, cookie)?
        }
        None => CrackTarget::from_jwt(token).map_err(|e| match e {
            authprobe_jwt::crack::CrackError::NotJwt(why) => {
                anyhow::anyhow!("not a JWT: {why} (for a django.core.signing value, pass --django-salt)")
            }
            other => other.into(),
        })?,
    };
    Ok(target)
}

/// A bar on standard error fed from the run's counters, and the thread that updates it.
fn progress_bar(control: Arc<CrackControl>) -> (ProgressBar, std::thread::JoinHandle<()>) {
    let bar = ProgressBar::new(control.estimated_total().max(1)).with_style(
        ProgressStyle::with_template("{spinner} cracking [{bar:30}] {human_pos}/{human_len} {msg} ETA {eta}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    let updater = {
        let bar = bar.clone();
        std::thread::spawn(move || {
            let started = std::time::Instant::now();
            while !bar.is_finished() {
                let tried = control.tried();
                bar.set_length(control.estimated_total().max(tried).max(1));
                bar.set_position(tried);
                let rate = tried as f64 / started.elapsed().as_secs_f64().max(1e-3) / 1e6;
                bar.set_message(if control.is_stopped() {
                    "stopping…".to_string()
                } else {
                    format!("{rate:.2} M/s")
                });
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    };
    (bar, updater)
}

/// Stops the run on Ctrl-C (a signal listener on its own thread, for the process lifetime).
fn stop_on_ctrl_c(control: Arc<CrackControl>) {
    std::thread::spawn(move || {
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
            return;
        };
        runtime.block_on(async {
            if tokio::signal::ctrl_c().await.is_ok() {
                control.stop();
            }
        });
    });
}

/// How a secret is shown: as text when printable, else as hex.
fn display_secret(secret: &[u8]) -> String {
    match std::str::from_utf8(secret) {
        Ok("") => "\"\" (the empty key)".to_string(),
        Ok(s) if !s.chars().any(char::is_control) => s.to_string(),
        _ => format!("hex:{}", secret.iter().map(|b| format!("{b:02x}")).collect::<String>()),
    }
}

fn rate(outcome: &CrackOutcome) -> String {
    let secs = outcome.elapsed.as_secs_f64();
    let per_sec = if secs > 0.0 { outcome.tried as f64 / secs } else { 0.0 };
    format!(
        "{} candidates in {:.2} s ({:.2} M/s)",
        outcome.tried,
        secs,
        per_sec / 1e6
    )
}

fn report(
    outcome: &CrackOutcome,
    interrupted: bool,
    quiet: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<()> {
    match &outcome.found {
        Some(secret) => {
            writeln!(out, "secret found: {}", display_secret(secret))?;
            if !quiet {
                writeln!(err, "{}", rate(outcome))?;
            }
        }
        None => {
            let why = if interrupted {
                " (interrupted)"
            } else if !outcome.exhausted {
                " (time limit reached)"
            } else {
                ""
            };
            writeln!(out, "not found after {} candidates{why}", outcome.tried)?;
            if !quiet {
                writeln!(err, "{}", rate(outcome))?;
            }
        }
    }
    Ok(())
}

/// Prints candidates/s on one thread and on `threads` (0 = every core), `duration` each.
fn benchmark(target: &CrackTarget, threads: usize, duration: Duration, out: &mut dyn Write) -> Result<()> {
    let cores = match threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let one = candidates_per_second(target, 1, duration);
    let all = if cores > 1 {
        candidates_per_second(target, cores, duration)
    } else {
        one
    };
    writeln!(
        out,
        "{}, {}-byte signing input: {:.2} M candidates/s on {cores} thread(s), {:.2} M/s on 1",
        target.alg.jws_name(),
        target.message.len(),
        all / 1e6,
        one / 1e6
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    /// PyJWT, HS256, key `secret`.
    const HS256_SECRET: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoxNzAwMDAwMzAwLCJpYXQiOjE3MDAwMDAwMDAsImp0aSI6IjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmIiwidXNlcl9pZCI6MX0.E87VDTPlJRlPupR8-X24Gl3x83FZ_ryogH_4ON7vvRA";
    /// PyJWT, HS256, key `k3y-n0t-in-any-list`.
    const HS256_UNLISTED: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoxNzAwMDAwMzAwLCJpYXQiOjE3MDAwMDAwMDAsImp0aSI6IjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmIiwidXNlcl9pZCI6MX0.NDo-fVwJvCnCUQcF1HU79pi5zxOtG-37eUYa9dm-6e8";
    /// PyJWT, HS256, key `ab12` (in the mask `?l?l?d?d`).
    const HS256_AB12: &str =
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIn0.e1AQapNGk1ZWfK4Htd1j6O5Ln4ltWw-TNX81A8SiJnA";
    /// Django 5.1: `get_cookie_signer(salt="django.contrib.messages").sign("x")`, SECRET_KEY `weak-django-key`.
    const DJ_MESSAGES_WEAK: &str = "x:1xVSb9:vtW7_1FeKdzVgmfdk4Ibp3gB_7kWUXlubSrjKEEjV2s";

    fn args(argv: &[&str]) -> CrackArgs {
        let argv = std::iter::once("authprobe")
            .chain(std::iter::once("crack"))
            .chain(argv.iter().copied());
        match Cli::try_parse_from(argv).expect("valid flags").command {
            Command::Crack(args) => *args,
            other => panic!("parsed as {other:?}"),
        }
    }

    /// Runs `authprobe crack ARGV` in-process: (found, stdout, stderr) or the error.
    fn crack(argv: &[&str]) -> Result<(bool, String, String)> {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let control = Arc::new(CrackControl::default());
        let found = execute(&args(argv), &mut out, &mut err, &control, false)?;
        Ok((found, String::from_utf8(out)?, String::from_utf8(err)?))
    }

    #[test]
    fn a_builtin_secret_is_printed() {
        let (found, out, err) = crack(&[HS256_SECRET]).unwrap();
        assert!(found);
        assert_eq!(out, "secret found: secret\n");
        assert!(err.contains("candidates in"), "{err}");
    }

    #[test]
    fn an_unlisted_secret_is_reported_not_found_with_the_count() {
        let (found, out, _) = crack(&[HS256_UNLISTED, "-q"]).unwrap();
        assert!(!found);
        let n = authprobe_jwt::crack::builtin_candidates().len();
        assert_eq!(out, format!("not found after {n} candidates\n"));
    }

    #[test]
    fn masks_and_wordlists_extend_the_builtins() {
        let (found, out, _) = crack(&[HS256_AB12, "--mask", "?l?l?d?d", "--no-builtin", "-j", "2"]).unwrap();
        assert!(found);
        assert_eq!(out, "secret found: ab12\n");

        let dir = std::env::temp_dir().join(format!("authprobe-crack-cmd-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let list = dir.join("words.txt");
        std::fs::write(&list, "a\nb\nk3y-n0t-in-any-list\n").unwrap();
        let (found, out, _) = crack(&[HS256_UNLISTED, "--wordlist", list.to_str().unwrap()]).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(found);
        assert_eq!(out, "secret found: k3y-n0t-in-any-list\n");
    }

    #[test]
    fn django_signed_values_need_the_salt() {
        let dir = std::env::temp_dir().join(format!("authprobe-crack-dj-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let list = dir.join("words.txt");
        std::fs::write(&list, "weak-django-key\n").unwrap();
        let list = list.to_str().unwrap();
        let (found, out, _) = crack(&[DJ_MESSAGES_WEAK, "--django-salt", MESSAGES_SALT, "-w", list]).unwrap();
        assert!(found);
        assert_eq!(out, "secret found: weak-django-key\n");
        let err = crack(&[DJ_MESSAGES_WEAK, "-w", list]).unwrap_err().to_string();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(err.contains("pass --django-salt"), "{err}");
    }

    #[test]
    fn bad_inputs_are_one_line_errors() {
        let rs256 = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln";
        for (argv, needle) in [
            (vec![rs256], "alg RS256 is not HMAC"),
            (vec!["garbage"], "not a JWT"),
            (vec![HS256_SECRET, "--mask", "?x"], "unknown charset"),
            (
                vec![HS256_SECRET, "--wordlist", "/nonexistent/list.txt"],
                "/nonexistent/list.txt",
            ),
            (vec![HS256_SECRET, "--no-builtin"], "no candidates"),
            (vec![HS256_SECRET, "--max-time=-1"], "--max-time"),
        ] {
            let err = crack(&argv).unwrap_err().to_string();
            assert!(err.contains(needle), "{argv:?}: {err}");
            assert!(!err.contains('\n'), "{err}");
        }
    }

    #[test]
    fn a_time_limit_ends_the_run_as_not_found() {
        let (found, out, _) = crack(&[HS256_UNLISTED, "--mask", "?a?a?a?a?a?a?a", "--max-time", "0.2"]).unwrap();
        assert!(!found);
        assert!(out.ends_with("(time limit reached)\n"), "{out}");
    }

    #[test]
    fn a_stop_request_reports_what_was_tried() {
        let control = Arc::new(CrackControl::default());
        let stopper = {
            let control = control.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(150));
                control.stop();
            })
        };
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let a = args(&[HS256_UNLISTED, "--mask", "?a?a?a?a?a?a?a"]);
        let found = execute(&a, &mut out, &mut err, &control, false).unwrap();
        stopper.join().unwrap();
        assert!(!found);
        let out = String::from_utf8(out).unwrap();
        assert!(
            out.starts_with("not found after ") && out.ends_with("(interrupted)\n"),
            "{out}"
        );
    }

    #[test]
    fn the_benchmark_prints_candidates_per_second() {
        assert!(args(&["--benchmark"]).benchmark);
        let target = CrackTarget::from_jwt(SIMPLEJWT_ACCESS_TOKEN).unwrap();
        let mut out = Vec::new();
        benchmark(&target, 2, Duration::from_millis(50), &mut out).unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(out.starts_with("HS256, 185-byte signing input: "), "{out}");
        assert!(out.contains(" M candidates/s on 2 thread(s), "), "{out}");
    }

    #[test]
    fn secrets_are_displayed_readably() {
        assert_eq!(display_secret(b"secret"), "secret");
        assert_eq!(display_secret(b""), "\"\" (the empty key)");
        assert_eq!(display_secret(&[0, 255]), "hex:00ff");
    }
}
