//! Test helpers: start the real Django testbed, run the real `authprobe` binary.

use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

pub const ALICE: &str = "alice:alice-pass-1";
pub const BOB: &str = "bob:bob-pass-2";

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repo root")
}

/// A testbed started at most once per test binary.
type BedCell = Arc<OnceLock<Arc<Testbed>>>;

/// A running testbed. It exits when this process does: its stdin is our lifeline.
pub struct Testbed {
    pub url: String,
    /// The plain-HTTP port of a `--tls` testbed.
    pub http_url: Option<String>,
    /// The loopback port the testbed mails (`serve --mail-to`); a scan of it runs its
    /// SMTP sink there (`--mailbox`). Such a testbed is never shared: one sink per port.
    pub mail_port: Option<u16>,
    _child: Mutex<Child>,
}

/// Starts `cmd` (a testbed or zoo `serve`, which prints `ready URL` once it listens) and
/// waits up to 90 s for that line: the child, and the URL with one trailing slash. `setup`
/// names the script that installs what `cmd` needs, `what` the server in the panic.
pub fn start_ready(cmd: &mut Command, setup: &str, what: &str) -> (Child, String) {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e} (run {setup} first)"));
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("ready ") {
                let _ = tx.send(url.trim().to_string());
            }
        }
    });
    let url = rx
        .recv_timeout(Duration::from_secs(90))
        .unwrap_or_else(|_| panic!("{what} did not print `ready URL` within 90 s"));
    (child, format!("{}/", url.trim_end_matches('/')))
}

impl Testbed {
    fn start(flaws: &str, tls: bool) -> Testbed {
        Testbed::start_with(flaws, tls, &[])
    }

    /// A testbed of its own (not shared), with extra `serve` arguments.
    pub fn start_with(flaws: &str, tls: bool, extra: &[&str]) -> Testbed {
        let serve = repo_root().join("testbed/serve");
        let mut cmd = Command::new(&serve);
        cmd.args(["--port", "0", "--flaws", flaws, "--exit-with-stdin"]);
        cmd.args(extra);
        if tls {
            cmd.arg("--tls");
        }
        let (child, url) = start_ready(&mut cmd, "testbed/setup", &format!("testbed --flaws {flaws}"));
        let http_url = tls.then(|| {
            let port: u16 = url.rsplit(':').next().unwrap().trim_end_matches('/').parse().unwrap();
            format!("http://127.0.0.1:{}/", port + 1)
        });
        let mail_port = extra
            .iter()
            .position(|a| *a == "--mail-to")
            .and_then(|i| extra.get(i + 1))
            .and_then(|addr| addr.rsplit(':').next()?.parse().ok());
        Testbed {
            url,
            http_url,
            mail_port,
            _child: Mutex::new(child),
        }
    }

    /// A testbed of its own that mails a free loopback port, which its scans read with
    /// `--mailbox smtp://…` (see [`scan`]).
    pub fn start_mailing(flaws: &str, tls: bool) -> Testbed {
        let port = free_port();
        let to = format!("127.0.0.1:{port}");
        Testbed::start_with(flaws, tls, &["--mail-to", &to])
    }

    /// One shared testbed per flaw set and mode for the whole test binary.
    pub fn shared(flaws: &str, tls: bool) -> Arc<Testbed> {
        static BEDS: OnceLock<Mutex<HashMap<(String, bool), BedCell>>> = OnceLock::new();
        let cell = {
            let mut beds = BEDS.get_or_init(Default::default).lock().unwrap();
            beds.entry((flaws.to_string(), tls)).or_default().clone()
        };
        cell.get_or_init(|| Arc::new(Testbed::start(flaws, tls))).clone()
    }
}

/// The result of one `authprobe` run.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    pub fn report(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not a JSON report ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

pub fn authprobe(args: &[&str]) -> Run {
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_authprobe"))
        .args(args)
        .env("NO_COLOR", "1")
        // Scans save their history: into a throwaway database, never the user's.
        .env("AUTHPROBE_DB", test_db())
        .stdin(Stdio::null())
        .output()
        .expect("run authprobe");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: started.elapsed(),
    }
}

/// The history database of this test process (tests pass `--db` for one of their own).
pub fn test_db() -> PathBuf {
    std::env::temp_dir().join(format!("authprobe-e2e-{}.db", std::process::id()))
}

/// Scans a testbed as alice and bob with a JSON report; TLS testbeds get a config that
/// names their plain-HTTP port.
pub fn scan(bed: &Testbed, extra: &[&str]) -> Run {
    let mut args: Vec<String> = vec![
        "scan".into(),
        bed.url.clone(),
        "--user".into(),
        ALICE.into(),
        "--user".into(),
        BOB.into(),
        "--format".into(),
        "json".into(),
        "-q".into(),
    ];
    let config;
    if let Some(http) = &bed.http_url {
        config = tempfile(&format!("[target]\nhttp_url = \"{http}\"\ninsecure = true\n"));
        args.push("--config".into());
        args.push(config.to_string_lossy().into_owned());
    }
    if let Some(port) = bed.mail_port {
        args.push("--mailbox".into());
        args.push(format!("smtp://127.0.0.1:{port}"));
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    authprobe(&refs)
}

/// A loopback port nothing listens on right now.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
    listener.local_addr().unwrap().port()
}

/// A fresh path for a testbed's `--access-log` (or `--db`) file.
pub fn access_log(name: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("authprobe-access-{}-{name}.log", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

/// The `METHOD PATH` lines of a testbed access log.
pub fn access_log_lines(path: &std::path::Path) -> Vec<(String, String)> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once(' ').map(|(m, p)| (m.to_string(), p.to_string())))
        .collect()
}

/// The endpoints of the flows a report lists.
pub fn flow_endpoints(report: &Value) -> Vec<String> {
    report["flows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["endpoint"].as_str().unwrap().to_string())
        .collect()
}

/// Whether a POST went to a flow the report lists (login, refresh, logout, password
/// change, verify, password reset): without write probes, the only POSTs a scan may send.
pub fn is_flow_endpoint(path: &str, flows: &[String]) -> bool {
    let path = path.split('?').next().unwrap_or(path);
    flows.iter().any(|f| path_matches_flow(path, f))
}

/// Whether `path` is the flow endpoint `flow`, whose `{…}` segments (a mailed token the
/// report leaves out) match any one segment.
pub fn path_matches_flow(path: &str, flow: &str) -> bool {
    let (p, f): (Vec<&str>, Vec<&str>) = (
        path.trim_end_matches('/').split('/').collect(),
        flow.trim_end_matches('/').split('/').collect(),
    );
    p.len() == f.len()
        && p.iter()
            .zip(&f)
            .all(|(a, b)| a == b || (b.starts_with('{') && b.ends_with('}')))
}

/// The business data of a testbed started with `--db FILE` (accounts, profiles, notes,
/// posts), as `testbed/dump_data.py` prints it.
pub fn testbed_data(db: &std::path::Path) -> Value {
    let out = Command::new(repo_root().join("testbed/.venv/bin/python"))
        .arg(repo_root().join("testbed/dump_data.py"))
        .arg(db)
        .output()
        .expect("run testbed/dump_data.py");
    assert!(
        out.status.success(),
        "dump_data.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("dump_data.py prints JSON")
}

/// The check codes a report found (every severity).
pub fn found_codes(report: &Value) -> BTreeSet<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["check"].as_str().unwrap().to_string())
        .collect()
}

/// The check codes a report lists as skipped.
pub fn skipped_codes(report: &Value) -> BTreeSet<String> {
    report["checks_skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["check"].as_str().unwrap().to_string())
        .collect()
}

/// Codes of every check authprobe implements.
pub fn implemented_codes() -> BTreeSet<String> {
    authprobe_checks::all()
        .iter()
        .map(|c| c.meta().code.to_string())
        .collect()
}

/// `testbed/flaws.toml`.
pub fn flaws_table() -> toml::Table {
    let text = std::fs::read_to_string(repo_root().join("testbed/flaws.toml")).expect("testbed/flaws.toml");
    let table: toml::Table = toml::from_str(&text).expect("flaws.toml parses");
    table["flaws"].as_table().expect("[flaws] table").clone()
}

/// The implemented codes a flaw must trigger, and whether it needs `--tls`.
pub fn expected_codes(flaw: &str) -> (BTreeSet<String>, bool) {
    let flaws = flaws_table();
    let entry = flaws
        .get(flaw)
        .unwrap_or_else(|| panic!("flaw `{flaw}` is not in testbed/flaws.toml"));
    let implemented = implemented_codes();
    let codes = entry["codes"]
        .as_array()
        .expect("codes list")
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .filter(|c| implemented.contains(c))
        .collect();
    (codes, entry.get("tls").and_then(|t| t.as_bool()).unwrap_or(false))
}

/// Writes a temporary file that lives until the process ends.
pub fn tempfile(contents: &str) -> PathBuf {
    static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let path = std::env::temp_dir().join(format!("authprobe-e2e-{}-{n}.toml", std::process::id()));
    std::fs::write(&path, contents).unwrap();
    path
}

/// Scans a testbed with exactly one flaw on and asserts the implemented codes found are
/// exactly the ones `flaws.toml` lists for it, `code` among them.
pub fn assert_flaw_yields(flaw: &str, code: &str, extra: &[&str]) {
    let (expected, tls) = expected_codes(flaw);
    assert!(
        expected.contains(code),
        "testbed/flaws.toml does not map `{flaw}` to {code}"
    );
    let mails = flaws_table()[flaw].get("mailbox").and_then(|m| m.as_bool()) == Some(true);
    let bed = if mails {
        Arc::new(Testbed::start_mailing(flaw, tls))
    } else {
        Testbed::shared(flaw, tls)
    };
    let run = scan(&bed, extra);
    assert_eq!(run.code, 0, "scan failed: {}", run.stderr);
    let report = run.report();
    let found: BTreeSet<String> = found_codes(&report)
        .intersection(&implemented_codes())
        .cloned()
        .collect();
    assert_eq!(
        found, expected,
        "flaw `{flaw}` alone: found {found:?}, expected {expected:?}\nskipped: {}",
        report["checks_skipped"]
    );
    // Every finding on the testbed is proven, not guessed, with a curl that reproduces it.
    for finding in report["findings"].as_array().unwrap() {
        assert_eq!(
            finding["confidence"], "confirmed",
            "flaw `{flaw}`: unconfirmed finding {finding}"
        );
        let evidence = finding["evidence"].as_array().unwrap();
        assert!(
            !evidence.is_empty()
                && evidence
                    .iter()
                    .all(|e| e["curl"].as_str().is_some_and(|c| c.starts_with("curl "))),
            "flaw `{flaw}`: finding without a reproducing curl {finding}"
        );
    }
}

/// Logs alice in through the testbed's simplejwt endpoint (with the testbed's own Python,
/// so the tests need no HTTP client) and returns her access token.
pub fn alice_access_token(bed: &Testbed) -> String {
    let script = r#"
import json, sys, urllib.request
req = urllib.request.Request(sys.argv[1] + "api/token/", data=json.dumps({"username": "alice", "password": "alice-pass-1"}).encode(), headers={"Content-Type": "application/json"})
print(json.load(urllib.request.urlopen(req))["access"])
"#;
    let python = repo_root().join("testbed/.venv/bin/python");
    let out = Command::new(python)
        .args(["-c", script, &bed.url])
        .output()
        .expect("run the testbed's python");
    assert!(
        out.status.success(),
        "token request failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// A running `authprobe serve`, killed when dropped.
pub struct Server {
    pub child: Child,
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `authprobe serve --db DB --bind 127.0.0.1:0` (plus `extra`) and waits for its
/// `listening on URL` line.
pub fn serve(db: &str, extra: &[&str], envs: &[(&str, &str)]) -> Server {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_authprobe"));
    cmd.args(["serve", "--db", db, "--bind", "127.0.0.1:0"])
        .args(extra)
        .env_remove("AUTHPROBE_TOKEN")
        .env_remove("AUTHPROBE_UPLOAD_TOKEN")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn authprobe serve");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("listening on ") {
                let _ = tx.send(url.trim_end_matches('/').to_string());
            }
        }
    });
    let base = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("serve prints `listening on URL`");
    Server { child, base }
}

/// Runs `authprobe` with extra environment variables.
pub fn authprobe_with_env(args: &[&str], envs: &[(&str, &str)]) -> Run {
    let started = Instant::now();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_authprobe"));
    cmd.args(args)
        .env("NO_COLOR", "1")
        .env("AUTHPROBE_DB", test_db())
        .env_remove("AUTHPROBE_UPLOAD_TOKEN")
        .stdin(Stdio::null());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run authprobe");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: started.elapsed(),
    }
}
