//! Ctrl-C and SIGTERM in the middle of a scan: the binary stops sending, writes the report
//! of what it found so far marked `"incomplete": true`, and exits 2.

use crate::util::{Testbed, ALICE, BOB};
use serde_json::Value;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

struct Interrupted {
    code: i32,
    stdout: String,
    stderr: String,
    /// From the signal to the exit.
    wind_down: Duration,
}

/// Starts a slow (`--rate 20`) scan of `bed`, sends `signal` after three seconds, and waits.
fn scan_and_interrupt(bed: &Testbed, signal: &str, extra: &[&str]) -> Interrupted {
    let mut child = Command::new(env!("CARGO_BIN_EXE_authprobe"))
        .args(["scan", &bed.url, "--user", ALICE, "--user", BOB, "-q", "--rate", "20"])
        .args(extra)
        .env("NO_COLOR", "1")
        // Never the developer's own history (~/.local/share/authprobe/history.db).
        .env("AUTHPROBE_DB", crate::util::test_db())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run authprobe");
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    std::thread::sleep(Duration::from_secs(3));
    assert!(child.try_wait().unwrap().is_none(), "the scan ended before the signal");
    let sent = Instant::now();
    let kill = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if sent.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("the scan did not stop within 30 s of {signal}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Interrupted {
        code: status.code().unwrap_or(-1),
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
        wind_down: sent.elapsed(),
    }
}

fn assert_partial(report: &Value, signal: &str) {
    assert_eq!(report["incomplete"], true, "{report}");
    assert_eq!(report["incomplete_reason"], format!("interrupted by {signal}"));
    let requests = report["stats"]["requests"].as_u64().unwrap();
    assert!(requests > 0 && requests < 1500, "{requests} requests");
    assert!(
        report["checks_skipped"]
            .to_string()
            .contains(&format!("interrupted by {signal}")),
        "unfinished checks are not named: {}",
        report["checks_skipped"]
    );
}

#[test]
fn sigterm_mid_scan_writes_a_partial_report_marked_incomplete() {
    let log = std::env::temp_dir().join(format!("authprobe-access-{}-sigterm.log", std::process::id()));
    let _ = std::fs::remove_file(&log);
    let bed = Testbed::start_with("all", false, &["--access-log", log.to_str().unwrap()]);
    let run = scan_and_interrupt(&bed, "TERM", &["--format", "json"]);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.wind_down < Duration::from_secs(10), "{:?}", run.wind_down);
    assert!(run.stderr.contains("interrupted by SIGTERM"), "{}", run.stderr);
    let report: Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout));
    assert_partial(&report, "SIGTERM");
    // What the report counts is what the target saw, give or take the requests that were
    // in flight when the signal came (abandoned, maybe never read by the target).
    let seen = std::fs::read_to_string(&log).unwrap().lines().count() as u64;
    let counted = report["stats"]["requests"].as_u64().unwrap();
    assert!(
        seen <= counted && counted <= seen + 8,
        "target saw {seen}, report counts {counted}"
    );
    // Nothing arrives after the exit.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(std::fs::read_to_string(&log).unwrap().lines().count() as u64, seen);
}

#[test]
fn ctrl_c_mid_scan_writes_every_format_marked_incomplete() {
    let bed = Testbed::shared("none", false);
    let dir = std::env::temp_dir().join(format!("authprobe-sigint-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let run = scan_and_interrupt(
        &bed,
        "INT",
        &[
            "--format",
            "json,markdown,pretty",
            "--output-dir",
            dir.to_str().unwrap(),
        ],
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.wind_down < Duration::from_secs(10), "{:?}", run.wind_down);
    let json = std::fs::read_to_string(dir.join("report.json")).expect("report.json written");
    assert_partial(&serde_json::from_str(&json).unwrap(), "SIGINT");
    let markdown = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(
        markdown.contains("**Incomplete:** the scan was interrupted by SIGINT"),
        "{markdown}"
    );
    let pretty = std::fs::read_to_string(dir.join("report.txt")).unwrap();
    assert!(
        pretty.contains("INCOMPLETE: the scan was interrupted by SIGINT"),
        "{pretty}"
    );
    assert!(!run.stdout.contains("alice-pass-1") && !json.contains("alice-pass-1"));
}

/// A Ctrl-C while the password tests run (PASS001 trying weak passwords through the
/// password change, PASS002 using a reset link) leaves alice's password what it was: a
/// change in flight is answered and changed back, whatever the moment of the signal.
#[test]
fn ctrl_c_during_the_password_tests_leaves_the_password_as_it_was() {
    let log = crate::util::access_log("interrupt-password");
    let port = crate::util::free_port();
    let mail_to = format!("127.0.0.1:{port}");
    let bed = Testbed::start_with(
        "no_password_validators",
        false,
        &["--access-log", log.to_str().unwrap(), "--mail-to", &mail_to],
    );
    let mailbox = format!("smtp://{mail_to}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_authprobe"))
        .args([
            "scan", &bed.url, "--user", ALICE, "--user", BOB, "-q", "--format", "json",
        ])
        .args([
            "--allow-password-change",
            "--mailbox",
            &mailbox,
            "--checks",
            "PASS001,PASS002",
        ])
        .env("NO_COLOR", "1")
        .env("AUTHPROBE_DB", crate::util::test_db())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run authprobe");
    // The signal goes the moment the first password change reaches the testbed.
    let started = Instant::now();
    loop {
        let lines = crate::util::access_log_lines(&log);
        if lines.iter().any(|(m, p)| m == "POST" && p == "/api/password/change/") {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the scan ended before its password change"
        );
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no password change within 60 s"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(2), "an interrupted scan exits 2");
    // alice logs in with her own password: a scan without the opt-ins signs her in.
    let again = crate::util::scan(&bed, &["--checks", "AUTH001"]);
    let report = again.report();
    assert_eq!(report["identities"][0]["logged_in"], true, "{}", report["identities"]);
    // And the last password change the testbed saw set hers back.
    let changes = crate::util::access_log_lines(&log)
        .iter()
        .filter(|(m, p)| m == "POST" && p == "/api/password/change/")
        .count();
    assert!(
        changes >= 2 && changes % 2 == 0,
        "{changes} changes: one was not undone"
    );
}
