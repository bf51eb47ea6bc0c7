//! Many machines, one store: workers sharing the `[[monitor]]` schedule on one Postgres,
//! and scans on CI runners uploading their reports to one dashboard.
//!
//! These need a Postgres server: `.ci/run` starts a throwaway cluster on loopback and sets
//! `AUTHPROBE_TEST_POSTGRES` (and `AUTHPROBE_REQUIRE_POSTGRES=1`, so that there a missing
//! server fails instead of skipping).

use crate::util::{authprobe, authprobe_with_env, serve, tempfile, Testbed};
use authprobe_store::fixtures::fresh_postgres;
use authprobe_store::{Location, Store};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const UPLOAD_TOKEN: &str = "e2e-upload-token-5b9d2c7a41f0";

/// A process killed (SIGKILL) when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn worker(db: &str, config: &std::path::Path, id: &str, log: &std::path::Path) -> Killed {
    let log = std::fs::File::create(log).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_authprobe"))
        .args(["worker", "--db", db, "--config"])
        .arg(config)
        .args(["--worker-id", id, "--lease", "4s", "--poll", "300ms", "--parallel", "2"])
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("spawn authprobe worker");
    Killed(child)
}

fn postgres_or_skip(name: &str) -> Option<Location> {
    let location = fresh_postgres(name);
    if location.is_none() {
        eprintln!("skipped: set AUTHPROBE_TEST_POSTGRES to a Postgres server to run this test");
    }
    location
}

fn url_of(location: &Location) -> String {
    match location {
        Location::Postgres(url) => url.clone(),
        Location::Sqlite(path) => path.to_string_lossy().into_owned(),
    }
}

#[test]
fn three_workers_run_each_due_rescan_of_thirty_targets_once_even_when_one_is_killed_mid_scan() {
    let Some(db) = postgres_or_skip("e2e_workers") else {
        return;
    };
    // Thirty real testbeds, started side by side.
    let beds: Vec<Testbed> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..30)
            .map(|_| s.spawn(|| Testbed::start_with("none", false, &[])))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let targets: BTreeSet<String> = beds.iter().map(|b| b.url.clone()).collect();
    assert_eq!(targets.len(), 30);
    let mut config = String::from("[scan]\nmax_requests = 300\nchecks = [\"DJ001\", \"WEB001\", \"TLS001\"]\n");
    for t in &targets {
        config.push_str(&format!("[[monitor]]\ntarget = \"{t}\"\ninterval = \"1d\"\n"));
    }
    let config = tempfile(&config);
    let db_url = url_of(&db);
    let logs: Vec<_> = (1..=3)
        .map(|i| std::env::temp_dir().join(format!("authprobe-worker-{}-w{i}.log", std::process::id())))
        .collect();
    let mut w1 = Some(worker(&db_url, &config, "w1", &logs[0]));
    let _w2 = worker(&db_url, &config, "w2", &logs[1]);
    let _w3 = worker(&db_url, &config, "w3", &logs[2]);

    // Kill w1 with SIGKILL while it holds a lease: mid-scan.
    let mut store = loop {
        match Store::connect(&db) {
            Ok(s) => break s,
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    let killed_lease = loop {
        let leased = store
            .monitors()
            .unwrap()
            .into_iter()
            .find(|m| m.lease_owner.as_deref() == Some("w1"));
        if let Some(m) = leased {
            drop(w1.take());
            break m;
        }
        assert!(Instant::now() < deadline, "w1 never claimed a rescan");
        std::thread::sleep(Duration::from_millis(50));
    };
    // What w1 held is still leased to it (it was killed, not stopped): nobody finished it.
    let runs_then = store.monitor_runs().unwrap();
    assert!(
        !runs_then.iter().any(|r| r.target == killed_lease.target),
        "the rescan w1 held was not finished by anyone yet"
    );

    // Every due rescan lands, once.
    let deadline = Instant::now() + Duration::from_secs(300);
    let runs = loop {
        let runs = store.monitor_runs().unwrap();
        if runs.len() >= 30 {
            break runs;
        }
        assert!(
            Instant::now() < deadline,
            "only {} of 30 rescans landed:\n{}",
            runs.len(),
            logs.iter()
                .map(|l| std::fs::read_to_string(l).unwrap_or_default())
                .collect::<Vec<_>>()
                .join("\n---\n")
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    // Give a duplicate the time it would need to show up.
    std::thread::sleep(Duration::from_secs(2));
    let runs_after = store.monitor_runs().unwrap();
    assert_eq!(runs_after.len(), 30, "no rescan ran twice");
    let ran: BTreeSet<String> = runs.iter().map(|r| r.target.clone()).collect();
    assert_eq!(ran, targets, "each target's due rescan ran");
    let scans = store.scans(None, 1000).unwrap();
    assert_eq!(scans.len(), 30, "one saved scan per rescan, none saved twice");
    let scanned: BTreeSet<String> = scans.iter().map(|s| s.target.clone()).collect();
    assert_eq!(scanned, targets);
    let taken_over = runs
        .iter()
        .find(|r| r.target == killed_lease.target)
        .expect("the killed worker's rescan was run");
    assert_ne!(
        taken_over.worker, "w1",
        "another worker took over the killed worker's rescan"
    );
    assert_eq!(
        taken_over.due_unix, killed_lease.next_due_unix,
        "the same due rescan, not a later one"
    );
    let by_worker: BTreeMap<&str, usize> = runs.iter().fold(BTreeMap::new(), |mut m, r| {
        *m.entry(r.worker.as_str()).or_default() += 1;
        m
    });
    assert!(
        by_worker.contains_key("w2") && by_worker.contains_key("w3"),
        "the survivors shared the work: {by_worker:?}"
    );
    // Nothing is left leased or due.
    for m in store.monitors().unwrap() {
        assert_eq!(m.lease_owner, None, "{}", m.target);
        assert!(m.last_scan_id.is_some(), "{}", m.target);
    }
    for log in &logs {
        let _ = std::fs::remove_file(log);
    }
}

fn get_json(url: &str) -> Value {
    let body = get_text(url);
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{url}: {e}: {body}"))
}

/// The body of a plain GET.
fn get_text(url: &str) -> String {
    let mut resp = String::new();
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_at(rest.find('/').unwrap());
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    std::io::Write::write_all(
        &mut stream,
        format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .unwrap();
    stream.read_to_string(&mut resp).unwrap();
    resp.split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default()
}

fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn five_concurrent_scans_upload_into_one_dashboard_once_and_a_dashboard_down_keeps_the_report() {
    let bed = Testbed::shared("none", false);
    // The dashboard stores in Postgres where there is one (as a fleet would), else SQLite.
    let db = postgres_or_skip("e2e_uploads").unwrap_or_else(|| {
        Location::Sqlite(std::env::temp_dir().join(format!("authprobe-uploads-{}.db", std::process::id())))
    });
    let server = serve(&url_of(&db), &[], &[("AUTHPROBE_UPLOAD_TOKEN", UPLOAD_TOKEN)]);
    let dir = std::env::temp_dir().join(format!("authprobe-uploads-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let token = [("AUTHPROBE_UPLOAD_TOKEN", UPLOAD_TOKEN)];

    // Five CI jobs at once.
    let runs: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..5)
            .map(|i| {
                let (bed, server, dir) = (&bed, &server, &dir);
                s.spawn(move || {
                    let out = dir.join(format!("report-{i}.json"));
                    let run = authprobe_with_env(
                        &[
                            "scan",
                            &bed.url,
                            "--checks",
                            "DJ001,WEB001",
                            "--no-store",
                            "-q",
                            "--format",
                            "json",
                            "-o",
                            out.to_str().unwrap(),
                            "--upload",
                            &server.base,
                        ],
                        &token,
                    );
                    (run, out)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut scan_ids = BTreeSet::new();
    for (run, out) in &runs {
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(run.stderr.contains("report uploaded as #"), "{}", run.stderr);
        let report: Value = serde_json::from_str(&std::fs::read_to_string(out).unwrap()).unwrap();
        scan_ids.insert(report["scan_id"].as_str().expect("a scan_id").to_string());
    }
    assert_eq!(scan_ids.len(), 5, "each scan has its own id");
    let stored = || {
        get_json(&format!("{}/api/target?url={}", server.base, bed.url))["scans"]
            .as_array()
            .map_or(0, Vec::len)
    };
    assert_eq!(stored(), 5);

    // The same report again (a retry after a lost answer): stored once.
    let again = authprobe_with_env(&["upload", runs[0].1.to_str().unwrap(), "--to", &server.base], &token);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(again.stderr.contains("already on"), "{}", again.stderr);
    assert_eq!(stored(), 5, "a second upload of one report does not duplicate it");

    // A wrong token is refused at once, not retried; the file stays.
    let wrong = authprobe_with_env(
        &["upload", runs[1].1.to_str().unwrap(), "--to", &server.base],
        &[("AUTHPROBE_UPLOAD_TOKEN", "not-the-token-at-all-0000")],
    );
    assert_eq!(wrong.code, 2);
    assert!(
        wrong.stderr.contains("401") && wrong.stderr.contains("upload token is wrong"),
        "{}",
        wrong.stderr
    );
    assert!(!wrong.stderr.contains("trying again"), "{}", wrong.stderr);
    assert!(runs[1].1.exists());

    // The dashboard is down: the report is kept on disk and named, exit 2.
    let down = format!("http://127.0.0.1:{}/", closed_port());
    let keep = dir.join("unsent");
    let lost = authprobe_with_env(
        &[
            "scan",
            &bed.url,
            "--checks",
            "DJ001",
            "--no-store",
            "-q",
            "--format",
            "json",
            "--upload",
            &down,
            "--upload-keep",
            keep.to_str().unwrap(),
            "--upload-retries",
            "2",
        ],
        &[
            ("AUTHPROBE_UPLOAD_TOKEN", UPLOAD_TOKEN),
            ("AUTHPROBE_UPLOAD_PAUSE_MS", "100"),
        ],
    );
    assert_eq!(lost.code, 2, "{}", lost.stderr);
    assert_eq!(lost.stderr.matches("trying again").count(), 2, "{}", lost.stderr);
    let kept: Vec<_> = std::fs::read_dir(&keep).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(kept.len(), 1);
    let kept = &kept[0];
    assert!(
        lost.stderr.contains(&format!("it is kept at {}", kept.display())),
        "{}",
        lost.stderr
    );
    let report: Value = serde_json::from_str(&std::fs::read_to_string(kept).unwrap()).unwrap();
    assert_eq!(report["target"]["url"], bed.url.as_str());
    assert_eq!(report, lost.report(), "the kept file is the whole report");
    // Sent later, it lands.
    let later = authprobe_with_env(&["upload", kept.to_str().unwrap(), "--to", &server.base], &token);
    assert_eq!(later.code, 0, "{}", later.stderr);
    assert!(later.stderr.contains("uploaded as #"), "{}", later.stderr);
    assert_eq!(stored(), 6);
    let _ = std::fs::remove_dir_all(&dir);
}

/// POSTs `body` to the dashboard's upload API with `token`: (status, body).
fn post_report(base: &str, token: Option<&str>, body: &str) -> (u16, String) {
    let rest = base.strip_prefix("http://").unwrap();
    let mut stream = std::net::TcpStream::connect(rest).unwrap();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "POST /api/scans HTTP/1.1\r\nHost: {rest}\r\nContent-Type: application/json\r\n{auth}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    std::io::Write::write_all(&mut stream, request.as_bytes()).unwrap();
    let mut resp = String::new();
    stream.read_to_string(&mut resp).unwrap();
    let status = resp.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (
        status,
        resp.split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default(),
    )
}

#[test]
fn the_upload_api_refuses_what_it_must_and_scans_check_their_token_before_scanning() {
    let report = authprobe_store::fixtures::report("http://127.0.0.1:9/", 90, "2026-01-01T00:00:00Z", vec![]);
    let mut with_id = report.clone();
    with_id.scan_id = Some("0b5e2a4c-1d3f-4e6a-9b7c-8d9e0f1a2b3c".into());
    let with_id = serde_json::to_string(&with_id).unwrap();
    // A dashboard without AUTHPROBE_UPLOAD_TOKEN takes no upload.
    let off = std::env::temp_dir().join(format!("authprobe-noupload-{}.db", std::process::id()));
    let server = serve(off.to_str().unwrap(), &[], &[]);
    let (status, body) = post_report(&server.base, Some(UPLOAD_TOKEN), &with_id);
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("uploads are off"), "{body}");
    drop(server);
    let on = std::env::temp_dir().join(format!("authprobe-upload-api-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&on);
    let server = serve(on.to_str().unwrap(), &[], &[("AUTHPROBE_UPLOAD_TOKEN", UPLOAD_TOKEN)]);
    assert_eq!(post_report(&server.base, None, &with_id).0, 401);
    assert_eq!(
        post_report(&server.base, Some("wrong-token-wrong-token"), &with_id).0,
        401
    );
    let (status, body) = post_report(
        &server.base,
        Some(UPLOAD_TOKEN),
        &serde_json::to_string(&report).unwrap(),
    );
    assert_eq!(status, 400, "a report without a scan_id: {body}");
    let (status, body) = post_report(&server.base, Some(UPLOAD_TOKEN), "{\"schema\": \"x\"}");
    assert_eq!(status, 400, "{body}");
    let (status, body) = post_report(&server.base, Some(UPLOAD_TOKEN), &with_id);
    assert_eq!(status, 201, "{body}");
    let (status, body) = post_report(&server.base, Some(UPLOAD_TOKEN), &with_id);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"created\":false"), "{body}");
    // No token in the scan's environment: it stops before sending a request.
    let port = closed_port();
    let run = authprobe_with_env(
        &["scan", &format!("http://127.0.0.1:{port}/"), "--upload", &server.base],
        &[],
    );
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("AUTHPROBE_UPLOAD_TOKEN"), "{}", run.stderr);
    assert!(!run.stderr.contains("cannot connect"), "{}", run.stderr);
}

#[test]
fn the_schedule_is_listed_with_its_leases_and_a_target_taken_off_it_is_claimed_no_more() {
    let dir = std::env::temp_dir().join(format!("authprobe-e2e-monitors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("schedule.db");
    let _ = std::fs::remove_file(&db);
    let spec = |target: &str, secs: u64| authprobe_store::MonitorSpec {
        target: target.to_string(),
        interval: Duration::from_secs(secs),
        webhook: None,
    };
    let mut store = Store::open(&db).unwrap();
    store
        .register_monitors(&[spec("http://127.0.0.1:9/", 86_400), spec("http://127.0.0.1:10/", 3_600)])
        .unwrap();
    // A worker names itself (`--worker-id`): the dashboard must not trust the name.
    let worker = "worker-7<script>alert(1)</script>";
    let lease = store
        .claim_due_monitor(worker, Duration::from_secs(120))
        .unwrap()
        .unwrap();
    assert_eq!(
        lease.target, "http://127.0.0.1:10/",
        "the first by target among the due"
    );
    drop(store);
    let db_arg = db.to_str().unwrap();

    let list = authprobe(&["monitors", "--db", db_arg, "--no-config"]);
    assert_eq!(list.code, 0, "{}", list.stderr);
    let lines: Vec<&str> = list.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", list.stdout);
    assert!(
        lines[0].starts_with("EVERY") && lines[0].contains("LEASED BY"),
        "{}",
        lines[0]
    );
    let leased = lines.iter().find(|l| l.ends_with("http://127.0.0.1:10/")).unwrap();
    assert!(leased.starts_with("1h ") && leased.contains("worker-7"), "{leased}");
    let idle = lines.iter().find(|l| l.ends_with("http://127.0.0.1:9/")).unwrap();
    assert!(idle.starts_with("1d ") && !idle.contains("worker-7"), "{idle}");
    assert!(idle.contains("due now") || idle.contains("overdue"), "{idle}");

    let json = authprobe(&["monitors", "--db", db_arg, "--no-config", "--json"]);
    let rows: Value = serde_json::from_str(&json.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["target"], "http://127.0.0.1:10/");
    assert_eq!(rows[0]["leased_by"], worker);
    assert_eq!(rows[1]["leased_by"], Value::Null);
    assert!(rows[1]["due_in_secs"].as_i64().unwrap() <= 0);

    // The dashboard shows the schedule too, the worker's name as text.
    let server = serve(db_arg, &[], &[]);
    let page = get_text(&format!("{}/", server.base));
    let schedule = &page[page.find("Rescan schedule").expect("a schedule section")..];
    assert!(schedule.contains("http://127.0.0.1:10/") && schedule.contains("http://127.0.0.1:9/"));
    assert!(
        schedule.contains("worker-7&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{schedule}"
    );
    assert!(!page.contains("<script>alert(1)"), "{page}");
    drop(server);

    // The URL as typed is the target as stored (`http://127.0.0.1:9` is `…:9/`).
    let removed = authprobe(&[
        "monitors",
        "--db",
        db_arg,
        "--no-config",
        "--remove",
        "http://127.0.0.1:9",
    ]);
    assert_eq!(removed.code, 0, "{}", removed.stderr);
    assert!(
        removed.stderr.contains("removed http://127.0.0.1:9/"),
        "{}",
        removed.stderr
    );
    assert!(!removed.stdout.contains("http://127.0.0.1:9/"), "{}", removed.stdout);
    let unknown = authprobe(&[
        "monitors",
        "--db",
        db_arg,
        "--no-config",
        "--remove",
        "http://127.0.0.1:9/",
    ]);
    assert_eq!(unknown.code, 1, "{}", unknown.stderr);
    assert!(
        unknown.stderr.contains("http://127.0.0.1:9/ is not on the schedule"),
        "{}",
        unknown.stderr
    );

    // No worker claims it again; the other one's lease is still held.
    let mut store = Store::open(&db).unwrap();
    assert!(store
        .claim_due_monitor("worker-8", Duration::from_secs(120))
        .unwrap()
        .is_none());
    let _ = std::fs::remove_dir_all(&dir);
}
