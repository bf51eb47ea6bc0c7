//! The GitHub Action's script (`scripts/action.sh`) in a fake GitHub: a step summary, an
//! outputs file, a pull-request event, and a REST API on 127.0.0.1 that records what the
//! script asks. Also what any CI log gets from the binary: the gate's reason and the
//! summary even with `--quiet`, and heartbeat lines instead of progress bars.

use crate::util::{authprobe, repo_root, test_db, Testbed};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

const MARKER: &str = "<!-- authprobe-report -->";
const REPO: &str = "acme/shop";
const PR: u64 = 7;
const TOKEN: &str = "fake-github-token";

/// One request the fake API received.
#[derive(Debug, Clone)]
struct Recorded {
    method: String,
    /// With the query.
    path: String,
    authorization: Option<String>,
    body: String,
}

#[derive(Default)]
struct ApiState {
    requests: Vec<Recorded>,
    /// The pull request's comments: id and body.
    comments: Vec<(u64, String)>,
    next_id: u64,
    /// Other paths served as files (release assets).
    files: HashMap<String, Vec<u8>>,
}

/// A tiny GitHub: the issue-comments endpoints of one pull request, and static files.
struct FakeGitHub {
    url: String,
    state: Arc<Mutex<ApiState>>,
}

impl FakeGitHub {
    fn start() -> FakeGitHub {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(ApiState {
            next_id: 1000,
            ..ApiState::default()
        }));
        let shared = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let _ = serve(stream, &shared);
            }
        });
        FakeGitHub { url, state }
    }

    fn requests(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().requests.clone()
    }

    fn comments(&self) -> Vec<(u64, String)> {
        self.state.lock().unwrap().comments.clone()
    }

    fn add_comment(&self, body: &str) -> u64 {
        let mut state = self.state.lock().unwrap();
        state.next_id += 1;
        let id = state.next_id;
        state.comments.push((id, body.to_string()));
        id
    }

    fn add_file(&self, path: &str, bytes: Vec<u8>) {
        self.state.lock().unwrap().files.insert(path.to_string(), bytes);
    }
}

fn comment_json(id: u64, body: &str) -> Value {
    json!({
        "id": id,
        "body": body,
        "html_url": format!("https://github.com/{REPO}/pull/{PR}#issuecomment-{id}"),
        "user": {"login": "github-actions[bot]"},
    })
}

/// Answers one request (HTTP/1.1, then closes the connection).
fn serve(stream: TcpStream, state: &Mutex<ApiState>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let path = parts.next().unwrap_or_default().to_string();
    let mut length = 0;
    let mut authorization = None;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header)?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().unwrap_or(0),
                "authorization" => authorization = Some(value.trim().to_string()),
                _ => {}
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let body = String::from_utf8_lossy(&body).into_owned();

    let mut state = state.lock().unwrap();
    state.requests.push(Recorded {
        method: method.clone(),
        path: path.clone(),
        authorization,
        body: body.clone(),
    });
    let route = path.split('?').next().unwrap_or_default();
    let comments = format!("/repos/{REPO}/issues/{PR}/comments");
    let one_comment = format!("/repos/{REPO}/issues/comments/");
    let (status, content): (&str, Vec<u8>) = match (method.as_str(), route) {
        ("GET", r) if r == comments => {
            let list: Vec<Value> = state.comments.iter().map(|(id, b)| comment_json(*id, b)).collect();
            ("200 OK", Value::Array(list).to_string().into_bytes())
        }
        ("POST", r) if r == comments => {
            let text = serde_json::from_str::<Value>(&body).unwrap()["body"]
                .as_str()
                .unwrap()
                .to_string();
            state.next_id += 1;
            let id = state.next_id;
            state.comments.push((id, text.clone()));
            ("201 Created", comment_json(id, &text).to_string().into_bytes())
        }
        ("PATCH", r) if r.starts_with(&one_comment) => {
            let id: u64 = r[one_comment.len()..].parse().unwrap_or(0);
            let text = serde_json::from_str::<Value>(&body).unwrap()["body"]
                .as_str()
                .unwrap()
                .to_string();
            match state.comments.iter_mut().find(|(c, _)| *c == id) {
                Some(comment) => {
                    comment.1 = text.clone();
                    ("200 OK", comment_json(id, &text).to_string().into_bytes())
                }
                None => ("404 Not Found", b"{\"message\":\"Not Found\"}".to_vec()),
            }
        }
        ("GET", r) => match state.files.get(r) {
            Some(bytes) => ("200 OK", bytes.clone()),
            None => ("404 Not Found", b"Not Found".to_vec()),
        },
        _ => ("405 Method Not Allowed", Vec::new()),
    };
    drop(state);
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        content.len()
    )?;
    stream.write_all(&content)?;
    stream.flush()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("authprobe-e2e-action-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The `key=value` lines of a $GITHUB_OUTPUT file; a later line wins.
fn outputs(path: &Path) -> HashMap<String, String> {
    read(path)
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A run of `scripts/action.sh`: its exit code and its log (stdout then stderr).
struct ActionRun {
    code: i32,
    log: String,
}

/// Runs `scripts/action.sh STEP` in `dir` with a fake GitHub environment plus `env`.
fn action(step: &str, dir: &Path, api: &FakeGitHub, env: &[(&str, &str)]) -> ActionRun {
    let event = dir.join("event.json");
    std::fs::write(
        &event,
        json!({"action": "synchronize", "pull_request": {"number": PR}}).to_string(),
    )
    .unwrap();
    let mut cmd = Command::new(repo_root().join("scripts/action.sh"));
    cmd.arg(step)
        .current_dir(dir)
        .env("GITHUB_OUTPUT", dir.join("github_output"))
        .env("GITHUB_STEP_SUMMARY", dir.join("step_summary.md"))
        .env("GITHUB_EVENT_PATH", &event)
        .env("GITHUB_REPOSITORY", REPO)
        .env("GITHUB_TOKEN", TOKEN)
        .env("GITHUB_API_URL", &api.url)
        .env("RUNNER_TEMP", dir)
        .env("AUTHPROBE_BIN", env!("CARGO_BIN_EXE_authprobe"))
        .env("AUTHPROBE_DB", test_db())
        .env("NO_COLOR", "1")
        .env_remove("INPUT_VERSION")
        .env_remove("ACTION_REF")
        .env_remove("GITHUB_ACTION_PATH");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run scripts/action.sh");
    ActionRun {
        code: out.status.code().unwrap_or(-1),
        log: format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

/// Cheap scan settings for the testbed: the safe profile (GET/HEAD, 300 requests) finds
/// DEBUG (DJ001, high) on the `debug` testbed in about a second.
fn scan_inputs<'a>(bed: &'a Testbed, fail_on: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("INPUT_TARGET", bed.url.as_str()),
        ("INPUT_FAIL_ON", fail_on),
        ("INPUT_ARGS", "--profile safe"),
        ("INPUT_SARIF", "sarif/authprobe.sarif"),
        ("AUTHPROBE_HEARTBEAT_SECS", "0.2"),
    ]
}

#[test]
fn the_action_summarises_the_scan_and_keeps_one_sticky_comment_up_to_date() {
    let bed = Testbed::shared("debug", false);
    let api = FakeGitHub::start();
    // Someone else's comment, and one that merely quotes the marker: neither is ours.
    let human = api.add_comment("LGTM");
    let quote = api.add_comment(&format!("> {MARKER}\n> quoting the bot"));
    let dir = scratch("sticky");

    let first = action("scan", &dir, &api, &scan_inputs(&bed, "high"));
    assert_eq!(first.code, 1, "DEBUG (high) fails --fail-on high:\n{}", first.log);
    // The log says why the gate failed and sums the findings up.
    assert!(
        first
            .log
            .contains("gate: failed: 1 finding at or above high (--fail-on high)"),
        "{}",
        first.log
    );
    assert!(first.log.contains("authprobe: score "), "{}", first.log);
    assert!(first.log.contains("1 high"), "{}", first.log);
    assert!(first.log.contains("top findings"), "{}", first.log);
    assert!(
        first
            .log
            .lines()
            .any(|l| l.contains("high") && l.contains("DJ001") && l.contains("Django DEBUG mode enabled")),
        "{}",
        first.log
    );
    assert!(
        first.log.contains("::error title=authprobe gate failed::"),
        "{}",
        first.log
    );

    let report: Value = serde_json::from_str(&read(&dir.join("authprobe-reports/report.json"))).unwrap();
    let score = report["score"].to_string();
    let published = outputs(&dir.join("github_output"));
    assert_eq!(published["score"], score, "{published:?}");
    assert_eq!(published["grade"], report["grade"].as_str().unwrap());
    assert_eq!(published["exit-code"], "1");
    assert_eq!(published["sarif"], "sarif/authprobe.sarif");
    assert_eq!(published["markdown"], "authprobe-reports/report.md");
    assert_eq!(published["report-dir"], "authprobe-reports");
    let sarif: Value = serde_json::from_str(&read(&dir.join("sarif/authprobe.sarif"))).expect("SARIF is JSON");
    assert_eq!(sarif["version"], "2.1.0");

    let summary = read(&dir.join("step_summary.md"));
    assert!(summary.contains("**authprobe gate failed:**"), "{summary}");
    assert!(summary.contains(&format!("score {score}/100")), "{summary}");
    assert!(summary.len() < 1024 * 1024);

    // One comment posted, with the token, starting with the marker.
    let posts: Vec<Recorded> = api.requests().into_iter().filter(|r| r.method == "POST").collect();
    assert_eq!(posts.len(), 1, "{:?}", api.requests());
    assert_eq!(posts[0].path, format!("/repos/{REPO}/issues/{PR}/comments"));
    assert_eq!(
        posts[0].authorization.as_deref(),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    let ours: Vec<(u64, String)> = api
        .comments()
        .into_iter()
        .filter(|(_, b)| b.starts_with(MARKER))
        .collect();
    assert_eq!(ours.len(), 1);
    assert!(ours[0].1.contains(&format!("score {score}/100")), "{}", ours[0].1);
    assert!(
        first.log.contains("posted the report on pull request #7"),
        "{}",
        first.log
    );

    // The second run updates that comment instead of adding one.
    let second = action("scan", &dir, &api, &scan_inputs(&bed, "critical"));
    assert_eq!(second.code, 0, "{}", second.log);
    assert!(
        second.log.contains("gate: passed (--fail-on critical)"),
        "{}",
        second.log
    );
    let requests = api.requests();
    assert_eq!(
        requests.iter().filter(|r| r.method == "POST").count(),
        1,
        "{requests:?}"
    );
    let patches: Vec<&Recorded> = requests.iter().filter(|r| r.method == "PATCH").collect();
    assert_eq!(patches.len(), 1, "{requests:?}");
    assert_eq!(patches[0].path, format!("/repos/{REPO}/issues/comments/{}", ours[0].0));
    assert!(patches[0].body.contains("authprobe gate passed"), "{}", patches[0].body);
    let comments = api.comments();
    assert_eq!(comments.len(), 3, "{comments:?}");
    assert_eq!(comments[0], (human, "LGTM".to_string()));
    assert!(comments[1].0 == quote && comments[1].1.starts_with("> "));
    assert!(comments[2].1.contains("authprobe gate passed"));
    assert!(
        second.log.contains("updated the report on pull request #7"),
        "{}",
        second.log
    );
    assert_eq!(outputs(&dir.join("github_output"))["exit-code"], "0");

    // `comment: off` sends nothing; `comment: new` always posts.
    let before = api.requests().len();
    let mut off = scan_inputs(&bed, "");
    off.push(("INPUT_COMMENT", "off"));
    assert_eq!(action("scan", &dir, &api, &off).code, 0);
    assert_eq!(api.requests().len(), before);
    let mut new = scan_inputs(&bed, "");
    new.push(("INPUT_COMMENT", "new"));
    assert_eq!(action("scan", &dir, &api, &new).code, 0);
    assert_eq!(
        api.requests()[before..]
            .iter()
            .map(|r| r.method.as_str())
            .collect::<Vec<_>>(),
        ["POST"]
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_comment_the_token_may_not_post_is_a_warning_not_a_failure() {
    let bed = Testbed::shared("debug", false);
    // Nothing listens there: every API call fails.
    let api = FakeGitHub {
        url: "http://127.0.0.1:9".to_string(),
        state: Default::default(),
    };
    let dir = scratch("no-api");
    let run = action("scan", &dir, &api, &scan_inputs(&bed, "critical"));
    assert_eq!(run.code, 0, "{}", run.log);
    assert!(run.log.contains("::warning title=authprobe::"), "{}", run.log);
    assert_eq!(outputs(&dir.join("github_output"))["exit-code"], "0");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The release asset name's target triple for this machine, as the script computes it.
fn release_target() -> &'static str {
    match (std::env::consts::OS, std::env::consts::ARCH) {
        ("linux", "x86_64") => "x86_64-unknown-linux-gnu",
        ("linux", "aarch64") => "aarch64-unknown-linux-gnu",
        ("macos", "x86_64") => "x86_64-apple-darwin",
        ("macos", "aarch64") => "aarch64-apple-darwin",
        other => panic!("no release target for {other:?}"),
    }
}

fn sha256_hex(path: &Path) -> String {
    let out = Command::new("sha256sum")
        .arg(path)
        .output()
        .or_else(|_| Command::new("shasum").args(["-a", "256"]).arg(path).output())
        .expect("sha256sum or shasum");
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn the_action_installs_the_released_binary_and_builds_only_without_one() {
    let api = FakeGitHub::start();
    let dir = scratch("install");
    // A "release": a tarball whose `authprobe` runs the binary under test.
    let staging = dir.join("staging");
    std::fs::create_dir_all(&staging).unwrap();
    let wrapper = staging.join("authprobe");
    std::fs::write(
        &wrapper,
        format!("#!/bin/sh\nexec '{}' \"$@\"\n", env!("CARGO_BIN_EXE_authprobe")),
    )
    .unwrap();
    assert!(Command::new("chmod")
        .arg("+x")
        .arg(&wrapper)
        .status()
        .unwrap()
        .success());
    let asset = format!("authprobe-{}.tar.gz", release_target());
    let tarball = dir.join(&asset);
    assert!(Command::new("tar")
        .arg("-czf")
        .arg(&tarball)
        .arg("-C")
        .arg(&staging)
        .arg("authprobe")
        .status()
        .unwrap()
        .success());
    let sha = sha256_hex(&tarball);
    let bytes = std::fs::read(&tarball).unwrap();
    let release = |tag: &str| format!("/authprobe/authprobe/releases/download/{tag}/{asset}");
    api.add_file(&release("v9.9.9"), bytes.clone());
    api.add_file(
        &format!("{}.sha256", release("v9.9.9")),
        format!("{sha}  {asset}\n").into_bytes(),
    );
    // A tampered release: its checksum does not match.
    api.add_file(&release("v9.9.8"), bytes);
    api.add_file(
        &format!("{}.sha256", release("v9.9.8")),
        format!("{}  {asset}\n", "0".repeat(64)).into_bytes(),
    );
    let repository = format!("{}/authprobe/authprobe", api.url);
    let install = |env: &[(&str, &str)]| {
        std::fs::write(dir.join("github_output"), "").unwrap();
        let mut all = vec![("AUTHPROBE_REPOSITORY_URL", repository.as_str())];
        all.extend_from_slice(env);
        let run = action("install", &dir, &api, &all);
        assert_eq!(run.code, 0, "{}", run.log);
        (outputs(&dir.join("github_output")), run.log)
    };

    // The action's ref is a release tag (read from its path, as composite actions get it).
    let action_path = dir.join("_actions/authprobe/authprobe/v9.9.9");
    let (published, log) = install(&[("GITHUB_ACTION_PATH", action_path.to_str().unwrap())]);
    assert_eq!(published.get("build").map(String::as_str), Some("false"), "{log}");
    let bin = &published["bin"];
    let version = Command::new(bin).arg("--version").output().unwrap();
    assert!(
        String::from_utf8_lossy(&version.stdout).starts_with("authprobe "),
        "{bin}"
    );
    assert!(log.contains("release v9.9.9"), "{log}");

    // A checksum that does not match, a release that does not exist, a branch: build.
    let (published, log) = install(&[("INPUT_VERSION", "v9.9.8")]);
    assert_eq!(published["build"], "true", "{log}");
    assert!(!published.contains_key("bin"), "{published:?}");
    assert!(log.contains("checksum"), "{log}");
    assert_eq!(published["lock-hash"].len(), 64, "{published:?}");
    let (published, log) = install(&[("INPUT_VERSION", "v0.0.0")]);
    assert_eq!(published["build"], "true", "{log}");
    assert!(log.contains("falling back to building from source"), "{log}");
    let before = api.requests().len();
    let (published, _) = install(&[("ACTION_REF", "main")]);
    assert_eq!(published["build"], "true");
    assert_eq!(api.requests().len(), before, "a branch has no release to ask for");
    let (published, _) = install(&[("INPUT_VERSION", "source"), ("ACTION_REF", "v9.9.9")]);
    assert_eq!(published["build"], "true");
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---------------------------------------------------------------------------------------
// What a CI log gets from the binary

#[test]
fn quiet_still_prints_the_gate_reason_and_the_summary() {
    let bed = Testbed::shared("debug", false);
    let run = authprobe(&[
        "scan",
        &bed.url,
        "--profile",
        "safe",
        "--format",
        "json",
        "--fail-on",
        "high",
        "--quiet",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert!(
        lines.contains(&"gate: failed: 1 finding at or above high (--fail-on high)"),
        "{}",
        run.stderr
    );
    let summary = lines
        .iter()
        .find(|l| l.starts_with("authprobe: score "))
        .unwrap_or_else(|| panic!("no summary line:\n{}", run.stderr));
    let report = run.report();
    assert!(
        summary.starts_with(&format!(
            "authprobe: score {}/100, grade {}; 1 finding: 0 critical, 1 high, 0 medium, 0 low, 0 info; ",
            report["score"],
            report["grade"].as_str().unwrap()
        )),
        "{summary}"
    );
    // Quiet about progress: those two lines and nothing else.
    assert_eq!(lines.len(), 2, "{}", run.stderr);
}

#[test]
fn off_a_terminal_a_heartbeat_line_says_what_is_running() {
    let bed = Testbed::shared("debug", false);
    let scan = |quiet: bool| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_authprobe"));
        // --rate 100: some 200 requests take two seconds or more, several heartbeats.
        cmd.args([
            "scan",
            &bed.url,
            "--profile",
            "safe",
            "--rate",
            "100",
            "--format",
            "json",
        ])
        .env("AUTHPROBE_HEARTBEAT_SECS", "0.5")
        .env("AUTHPROBE_DB", test_db())
        .env("NO_COLOR", "1");
        if quiet {
            cmd.arg("--quiet");
        }
        // Piped standard error: not a terminal, as in CI.
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(0));
        String::from_utf8(out.stderr).unwrap()
    };
    let stderr = scan(false);
    let beats: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("authprobe: ") && l.contains(" requests, "))
        .collect();
    assert!(!beats.is_empty(), "no heartbeat:\n{stderr}");
    // `authprobe: 1 s, 140/300 requests, running hidden routes`
    for beat in &beats {
        let rest = beat.strip_prefix("authprobe: ").unwrap();
        let (secs, rest) = rest.split_once(" s, ").unwrap_or_else(|| panic!("{beat}"));
        assert!(secs.parse::<u64>().is_ok(), "{beat}");
        let (count, rest) = rest.split_once(" requests, ").unwrap();
        let (sent, budget) = count.split_once('/').unwrap();
        assert!(sent.parse::<u64>().unwrap() <= 300 && budget == "300", "{beat}");
        assert!(rest.starts_with("running ") || rest == "starting", "{beat}");
    }
    // No progress-bar drawing in a log.
    assert!(!stderr.contains('\r') && !stderr.contains('\u{1b}'), "{stderr:?}");

    let quiet = scan(true);
    assert!(
        !quiet.contains(" requests, running"),
        "--quiet keeps the heartbeat off:\n{quiet}"
    );
}
