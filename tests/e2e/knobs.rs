//! The knobs peers have and honest configuration: --verbose and --debug, --proxy (and
//! HTTP_PROXY), --checks/--exclude-checks, --concurrency, ./authprobe.toml, AUTHPROBE_*
//! variables, completions and the man page, `checks --format json`, stale `[[ignore]]`
//! entries, endpoint patterns, config errors with line and column, and database paths.

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::util::{alice_access_token, authprobe, implemented_codes, tempfile, test_db, Run, Testbed, ALICE};

/// A port nothing listens on.
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `authprobe ARGS` with extra environment variables, in `dir` (default: the test's).
fn authprobe_in(args: &[&str], envs: &[(&str, &str)], dir: Option<&Path>) -> Run {
    let started = Instant::now();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_authprobe"));
    cmd.args(args)
        .env("NO_COLOR", "1")
        .env("AUTHPROBE_DB", test_db())
        .stdin(Stdio::null());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    if let Some(dir) = dir {
        cmd.current_dir(dir);
    }
    let out = cmd.output().expect("run authprobe");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: started.elapsed(),
    }
}

/// A fresh directory of this test process.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("authprobe-knobs-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The lines of a request log: `METHOD URL -> STATUS (N ms)`.
fn request_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| {
            let Some((request, answer)) = l.split_once(" -> ") else {
                return false;
            };
            let method_ok = ["GET ", "HEAD ", "OPTIONS ", "POST "]
                .iter()
                .any(|m| request.starts_with(m) && request[m.len()..].starts_with("http://"));
            method_ok && answer.contains(" ms)")
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// --verbose and --debug

#[test]
fn debug_logs_every_request_redacted_and_verbose_narrates_the_scan() {
    let bed = Testbed::shared("none", false);
    let token = alice_access_token(&bed);
    // The supplied token is the primary identity: AUTH003 puts it in URLs.
    let run = authprobe(&[
        "scan",
        &bed.url,
        "--user",
        ALICE,
        "--bearer",
        &token,
        "--checks",
        "AUTH003",
        "--crack-time",
        "0.2",
        "--no-store",
        "-f",
        "json",
        "-v",
        "--debug",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.report();
    let lines = request_lines(&run.stderr);
    assert_eq!(
        lines.len() as u64,
        report["stats"]["requests"].as_u64().unwrap(),
        "one line per request:\n{}",
        run.stderr
    );
    assert!(
        lines[0].starts_with(&format!("GET {} -> 200 (", bed.url)),
        "{}",
        lines[0]
    );
    assert!(lines.iter().any(|l| l.starts_with("POST ")), "the login is logged too");
    assert!(
        run.stderr.contains("?access_token=[redacted:"),
        "the token AUTH003 put in the URL is shown redacted:\n{}",
        run.stderr
    );
    assert!(!run.stderr.contains("alice-pass-1"), "the password leaked");
    assert!(!run.stderr.contains(&token), "the token leaked");
    // Verbose: the configuration, then every phase and check.
    assert!(run.stderr.contains("config: none"), "{}", run.stderr);
    assert!(run.stderr.contains("checks: 1 of "), "{}", run.stderr);
    assert!(run.stderr.contains("concurrency 8"), "{}", run.stderr);
    assert!(run.stderr.contains("] discovery"), "{}", run.stderr);
    assert!(run.stderr.contains("  checks: AUTH003 ("), "{}", run.stderr);
}

// ---------------------------------------------------------------------------------------
// --proxy

/// A plain-HTTP forward proxy that records the request line of every request it relays
/// (one request per connection; it asks both sides to close).
struct RecordingProxy {
    url: String,
    seen: Arc<Mutex<Vec<String>>>,
}

fn recording_proxy() -> RecordingProxy {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for client in listener.incoming().map_while(Result::ok) {
            let log = log.clone();
            std::thread::spawn(move || {
                let _ = relay(client, &log);
            });
        }
    });
    RecordingProxy { url, seen }
}

fn relay(mut client: TcpStream, log: &Mutex<Vec<String>>) -> std::io::Result<()> {
    client.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut from_client = BufReader::new(client.try_clone()?);
    let mut request_line = String::new();
    from_client.read_line(&mut request_line)?;
    let mut parts = request_line.trim_end().splitn(3, ' ');
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next()) else {
        return Ok(());
    };
    log.lock().unwrap().push(format!("{method} {target}"));
    // Absolute form: http://host:port/path?query.
    let rest = target.strip_prefix("http://").expect("absolute-form request target");
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let mut head = format!("{method} {path} {version}\r\n");
    let mut length = 0;
    loop {
        let mut header = String::new();
        if from_client.read_line(&mut header)? == 0 || header == "\r\n" {
            break;
        }
        let lower = header.to_ascii_lowercase();
        if let Some(n) = lower.strip_prefix("content-length:") {
            length = n.trim().parse().unwrap_or(0);
        }
        if !lower.starts_with("connection:") && !lower.starts_with("proxy-connection:") {
            head.push_str(&header);
        }
    }
    head.push_str("Connection: close\r\n\r\n");
    let mut body = vec![0; length];
    from_client.read_exact(&mut body)?;
    let mut upstream = TcpStream::connect(authority)?;
    upstream.set_read_timeout(Some(Duration::from_secs(30)))?;
    upstream.write_all(head.as_bytes())?;
    upstream.write_all(&body)?;
    let mut from_upstream = BufReader::new(upstream);
    let mut response_head = String::new();
    loop {
        let mut header = String::new();
        if from_upstream.read_line(&mut header)? == 0 || header == "\r\n" {
            break;
        }
        if !header.to_ascii_lowercase().starts_with("connection:") {
            response_head.push_str(&header);
        }
    }
    response_head.push_str("Connection: close\r\n\r\n");
    client.write_all(response_head.as_bytes())?;
    std::io::copy(&mut from_upstream, &mut client)?;
    Ok(())
}

#[test]
fn a_scan_through_a_proxy_sends_every_request_through_it() {
    let bed = Testbed::shared("none", false);
    let proxy = recording_proxy();
    let run = authprobe(&[
        "scan",
        &bed.url,
        "--proxy",
        &proxy.url,
        "--profile",
        "safe",
        "--checks",
        "AUTH001,DJ001",
        "--crack-time",
        "0.2",
        "--no-store",
        "-f",
        "json",
        "-q",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.report();
    let seen = proxy.seen.lock().unwrap().clone();
    assert_eq!(
        seen.len() as u64,
        report["stats"]["requests"].as_u64().unwrap(),
        "every request went through the proxy: {seen:?}"
    );
    assert_eq!(seen[0], format!("GET {}", bed.url), "the preflight");
    assert!(seen.iter().all(|l| l.contains(&bed.url)), "{seen:?}");
}

#[test]
fn a_proxy_that_is_down_is_blamed_not_the_target() {
    let target = format!("http://127.0.0.1:{}/", closed_port());
    let proxy = format!("http://127.0.0.1:{}", closed_port());
    let run = authprobe(&["scan", &target, "--proxy", &proxy, "-q", "--no-store"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!("the proxy {proxy}/ cannot be reached")),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("connection refused by"), "{}", run.stderr);
    assert!(run.stderr.contains("hint: is the proxy running"), "{}", run.stderr);

    // HTTP_PROXY works without --proxy, and is named when it fails.
    let run = authprobe_in(&["scan", &target, "-q", "--no-store"], &[("HTTP_PROXY", &proxy)], None);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("(from HTTP_PROXY) cannot be reached"),
        "{}",
        run.stderr
    );

    let run = authprobe(&["scan", &target, "--proxy", "socks5://127.0.0.1:1080", "-q"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("--proxy: only http:// and https://"),
        "{}",
        run.stderr
    );
}

// ---------------------------------------------------------------------------------------
// --checks and --exclude-checks

#[test]
fn checks_left_out_are_reported_as_not_selected() {
    let bed = Testbed::shared("none", false);
    // The exclusion comes from the environment, the selection from the flag.
    let run = authprobe_in(
        &[
            "scan",
            &bed.url,
            "--profile",
            "safe",
            "--checks",
            "AUTH001,django-debug,tokens",
            "--crack-time",
            "0.2",
            "--no-store",
            "-f",
            "json",
            "-q",
        ],
        &[("AUTHPROBE_EXCLUDE_CHECKS", "TOKEN002,TOKEN003")],
        None,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.report();
    let all = implemented_codes();
    assert_eq!(report["stats"]["checks_total"].as_u64().unwrap() as usize, all.len());
    let reasons: std::collections::BTreeMap<String, String> = report["checks_skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["check"].as_str().unwrap().into(),
                s["reason"].as_str().unwrap().into(),
            )
        })
        .collect();
    let selected = ["AUTH001", "DJ001", "TOKEN001", "TOKEN004"];
    for code in &all {
        let not_selected = reasons.get(code).map(String::as_str) == Some("not selected (--checks/--exclude-checks)");
        assert_eq!(
            not_selected,
            !selected.contains(&code.as_str()),
            "{code}: {:?}",
            reasons.get(code)
        );
    }
}

#[test]
fn an_unknown_check_name_is_a_usage_error_naming_the_closest() {
    let target = format!("http://127.0.0.1:{}/", closed_port());
    let run = authprobe(&["scan", &target, "--checks", "JWT03", "-q"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .starts_with("error: --checks/--exclude-checks: no check or category `JWT03`; the closest is `JWT003`"),
        "{}",
        run.stderr
    );
    let run = authprobe(&["scan", &target, "--exclude-checks", "jwt-weak-secrt", "-q"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("the closest is `jwt-weak-secret`"),
        "{}",
        run.stderr
    );
    let config = tempfile("[scan]\nmax_requests = 100\nchecks = [\"DJ01\"]\n");
    let run = authprobe(&["scan", &target, "-c", config.to_str().unwrap(), "-q"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.starts_with(&format!("error: {}:3:1: ", config.display())),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("the closest is `DJ001`"), "{}", run.stderr);
}

// ---------------------------------------------------------------------------------------
// --concurrency, ./authprobe.toml, AUTHPROBE_* and their precedence

#[test]
fn flags_beat_the_environment_which_beats_the_config_file_found_in_the_working_directory() {
    let dir = scratch("precedence");
    let target = format!("http://127.0.0.1:{}/", closed_port());
    std::fs::write(
        dir.join("authprobe.toml"),
        format!("[target]\nurl = \"{target}\"\n\n[scan]\nconcurrency = 7\n"),
    )
    .unwrap();
    let scan = |args: &[&str], envs: &[(&str, &str)]| {
        let mut argv = vec!["scan", "-v", "--no-store"];
        argv.extend(args);
        let run = authprobe_in(&argv, envs, Some(&dir));
        assert_eq!(run.code, 2, "nothing listens there: {}", run.stderr);
        run.stderr
    };
    let found = scan(&[], &[]);
    assert!(
        found.contains("config: authprobe.toml (found in the working directory; --no-config to ignore it)"),
        "{found}"
    );
    assert!(found.contains("concurrency 7"), "the file's: {found}");
    assert!(
        found.contains(&format!("cannot reach {target}")),
        "the file's URL: {found}"
    );
    let env = scan(&[], &[("AUTHPROBE_CONCURRENCY", "5")]);
    assert!(env.contains("concurrency 5"), "the environment's: {env}");
    let flag = scan(&["--concurrency", "2"], &[("AUTHPROBE_CONCURRENCY", "5")]);
    assert!(flag.contains("concurrency 2"), "the flag's: {flag}");
    let defaults = scan(&["--no-config", &target], &[]);
    assert!(defaults.contains("config: none"), "{defaults}");
    assert!(defaults.contains("concurrency 8"), "the default: {defaults}");

    let run = authprobe_in(&["scan", "--no-config", "-q"], &[], Some(&dir));
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("no target"), "{}", run.stderr);
    let run = authprobe(&["scan", &target, "--concurrency", "0"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    std::fs::write(dir.join("authprobe.toml"), "[scan]\nconcurrency = 100\n").unwrap();
    let run = authprobe_in(&["scan", &target, "-q"], &[], Some(&dir));
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .starts_with("error: authprobe.toml:2:1: concurrency: must be between 1 and 64"),
        "{}",
        run.stderr
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn help_names_the_environment_variables_but_never_shows_secret_values() {
    let run = authprobe_in(
        &["scan", "--help"],
        &[
            ("AUTHPROBE_USER", "alice:hunter2-in-env"),
            ("AUTHPROBE_BEARER", "token-in-env-123"),
            ("AUTHPROBE_PROXY", "http://me:proxy-pass-in-env@127.0.0.1:8080"),
            ("AUTHPROBE_MAX_REQUESTS", "321"),
        ],
        None,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    for name in [
        "AUTHPROBE_USER",
        "AUTHPROBE_BEARER",
        "AUTHPROBE_PROXY",
        "AUTHPROBE_CHECKS",
        "AUTHPROBE_CONCURRENCY",
    ] {
        assert!(run.stdout.contains(name), "{name} is documented");
    }
    assert!(run.stdout.contains("AUTHPROBE_MAX_REQUESTS=321"), "{}", run.stdout);
    for secret in ["hunter2-in-env", "token-in-env-123", "proxy-pass-in-env"] {
        assert!(!run.stdout.contains(secret), "--help shows {secret}");
    }
    for flag in [
        "--verbose",
        "--debug",
        "--proxy",
        "--checks",
        "--exclude-checks",
        "--concurrency",
        "--no-config",
        "--strict-config",
        "--create",
    ] {
        assert!(run.stdout.contains(flag), "{flag} is documented");
    }
}

// ---------------------------------------------------------------------------------------
// Completions, the man page, the catalog as JSON

#[test]
fn completions_and_man_pages_print_to_stdout() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let run = authprobe(&["completions", shell]);
        assert_eq!(run.code, 0, "{shell}: {}", run.stderr);
        assert!(run.stdout.contains("authprobe"), "{shell}");
        assert!(run.stdout.contains("exclude-checks"), "{shell} completes scan's flags");
    }
    assert_eq!(authprobe(&["completions", "tcsh"]).code, 2);
    let man = authprobe(&["man"]);
    assert_eq!(man.code, 0, "{}", man.stderr);
    assert!(man.stdout.contains(".TH authprobe 1"), "{}", man.stdout);
    assert!(man.stdout.contains("completions"), "the page lists the commands");
    let scan = authprobe(&["man", "scan"]);
    assert_eq!(scan.code, 0, "{}", scan.stderr);
    assert!(scan.stdout.contains(".TH authprobe-scan 1"), "{}", scan.stdout);
    assert!(scan.stdout.contains(r"\-\-proxy"), "{}", scan.stdout);
    let nope = authprobe(&["man", "nope"]);
    assert_eq!(nope.code, 2);
    assert!(nope.stderr.contains("no command `nope`"), "{}", nope.stderr);
}

#[test]
fn the_catalog_is_available_as_json() {
    let run = authprobe(&["checks", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let checks: Vec<Value> = serde_json::from_str(&run.stdout).expect("a JSON array");
    let codes: std::collections::BTreeSet<String> =
        checks.iter().map(|c| c["code"].as_str().unwrap().to_string()).collect();
    assert_eq!(codes, implemented_codes());
    for check in &checks {
        for field in ["slug", "title", "severity", "requires", "family"] {
            assert!(check[field].as_str().is_some_and(|s| !s.is_empty()), "{field}: {check}");
        }
        let severities = check["severities"].as_array().unwrap();
        assert!(severities.contains(&check["severity"]), "{check}");
        let cwe = check["cwe"].as_array().unwrap();
        assert!(!cwe.is_empty() && cwe.iter().all(|c| c.as_str().unwrap().starts_with("CWE-")));
        assert!(check["owasp"].is_array(), "{check}");
    }
}

// ---------------------------------------------------------------------------------------
// Honest configuration

#[test]
fn stale_suppressions_are_warned_about_and_fail_with_strict_config() {
    let bed = Testbed::shared("none", false);
    let token = alice_access_token(&bed);
    // `/api/posts/` is public: declared protected, it is AUTH001; the pattern ending in
    // `/*` matches the collection itself, in `[endpoints]` and in `[[ignore]]` alike.
    let config = tempfile(
        "[endpoints]\nprotected = [\"/api/posts/*\"]\n\n\
         [[ignore]]\ncheck = \"AUTH001\"\nendpoint = \"/api/posts/*\"\nreason = \"public by design\"\n\n\
         [[ignore]]\ncheck = \"DJ001\"\nreason = \"stale: DEBUG was turned off\"\n\n\
         [[ignore]]\ncheck = \"JWT003\"\nreason = \"not run in this scan\"\n",
    );
    let path = config.to_str().unwrap();
    let scan = |strict: bool| {
        let mut args = vec![
            "scan",
            &bed.url,
            "--profile",
            "safe",
            "--bearer",
            &token,
            "--checks",
            "AUTH001,DJ001",
            "-c",
            path,
            "--crack-time",
            "0.2",
            "--no-store",
            "-f",
            "json",
            "-q",
        ];
        if strict {
            args.push("--strict-config");
        }
        authprobe(&args)
    };
    let run = scan(false);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.report();
    let auth001: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == "AUTH001")
        .collect();
    assert!(
        auth001.iter().any(|f| f["endpoint"] == "/api/posts/"),
        "`/api/posts/*` declares the collection protected: {auth001:?}"
    );
    assert!(auth001.iter().all(|f| f["suppressed"] == true), "{auth001:?}");
    assert!(
        run.stderr.contains(&format!(
            "warning: {path}:9:1: [[ignore]] DJ001 matched no finding; remove the entry"
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&format!(
            "warning: {path}:13:1: [[ignore]] JWT003 matched no finding: JWT003 did not run (not selected"
        )),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("AUTH001 at /api/posts/* matched no finding"),
        "{}",
        run.stderr
    );

    let strict = scan(true);
    assert_eq!(strict.code, 2, "{}", strict.stderr);
    assert!(
        strict.stderr.contains(&format!(
            "error: --strict-config: {path}:9:1: [[ignore]] DJ001 matched no finding although the check ran"
        )),
        "{}",
        strict.stderr
    );
    assert!(
        !strict.stderr.contains("JWT003 matched no finding although"),
        "{}",
        strict.stderr
    );
    strict.report(); // the report was still written
}

#[test]
fn config_errors_name_the_file_line_and_column() {
    let target = format!("http://127.0.0.1:{}/", closed_port());
    let cases = [
        (
            "[target]\nurl = 'http://x/'\n\n[scan]\n  urll = 'x'\n",
            "5:3: unknown field `urll`",
        ),
        ("[scan]\nmax_requests = 'many'\n", "2:16: invalid type"),
        (
            "[scan]\nrate = 5\ntimeout_secs = 0\n",
            "3:1: timeout_secs: the timeout must be at least 1 second",
        ),
        (
            "[[ignore]]\ncheck = 'DJ001'\nreason = 'x'\n\n[[ignore]]\ncheck = 'DJ01'\nreason = 'y'\n",
            "6:1: [[ignore]]: no check `DJ01`; the closest is `DJ001`",
        ),
        (
            "[[ignore]]\ncheck = 'DJ001'\nreason = 'legacy'\nexpires = '2020-01-31'\n",
            "4:1: [[ignore]] DJ001 expired on 2020-01-31",
        ),
        (
            "[[identity]]\nusername = 'alice'\npassword_env = 'AUTHPROBE_TEST_UNSET_VARIABLE'\n",
            "3:1: identity `alice`: environment variable AUTHPROBE_TEST_UNSET_VARIABLE is not set",
        ),
        (
            "[scan]\nproxy = 'socks5://h:1'\n",
            "2:1: proxy: only http:// and https://",
        ),
    ];
    for (text, expected) in cases {
        let config = tempfile(text);
        let run = authprobe(&["scan", &target, "-c", config.to_str().unwrap(), "-q", "--no-store"]);
        assert_eq!(run.code, 2, "{text}: {}", run.stderr);
        let wanted = format!("error: {}:{expected}", config.display());
        assert!(
            run.stderr.starts_with(&wanted),
            "{text}\nwanted: {wanted}\ngot: {}",
            run.stderr
        );
    }
    // A value the scan itself finds unusable (after discovery) is placed too.
    let bed = Testbed::shared("none", false);
    let config = tempfile("[flows.login]\npath = \"http://elsewhere.example/api/token/\"\n");
    let run = authprobe(&[
        "scan",
        &bed.url,
        "-c",
        config.to_str().unwrap(),
        "--profile",
        "safe",
        "-q",
        "--no-store",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .starts_with(&format!("error: {}:2:1: [flows.login] path", config.display())),
        "{}",
        run.stderr
    );
}

#[test]
fn a_database_path_whose_directory_is_missing_is_refused_unless_create() {
    let dir = scratch("db-dirs");
    let missing = dir.join("no/such");
    let db = missing.join("history.db");
    let db_arg = db.to_str().unwrap();
    let target = format!("http://127.0.0.1:{}/", closed_port());

    let run = authprobe(&["scan", &target, "-q", "--db", db_arg]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("does not exist"), "{}", run.stderr);
    assert!(run.stderr.contains("--create"), "{}", run.stderr);
    let run = authprobe_in(&["scan", &target, "-q"], &[("AUTHPROBE_DB", db_arg)], None);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("does not exist"),
        "AUTHPROBE_DB too: {}",
        run.stderr
    );
    let run = authprobe(&["serve", "--db", db_arg, "--bind", "127.0.0.1:0"]);
    assert_eq!(run.code, 2);
    assert!(run
        .stderr
        .contains(&format!("the directory {} does not exist", missing.display())));
    assert!(!missing.exists(), "nothing was created");

    // With --create the directories are made (the scan then fails: nothing listens).
    let run = authprobe(&["scan", &target, "-q", "--db", db_arg, "--create"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("cannot reach"), "{}", run.stderr);
    assert!(missing.is_dir(), "--create made {}", missing.display());
    std::fs::remove_dir_all(&dir).unwrap();
}
