//! `cargo run --release -p authprobe_bench --bin dashboard`: dashboard response times with
//! 1,000 stored scans, against the same pages over a 10-scan history (the baseline) in the
//! same process.
//!
//! The server is the real router over a real SQLite file, reached over loopback HTTP with a
//! new connection per request (what a browser without keep-alive pays).

use authprobe_core::Severity;
use authprobe_server::{AppState, ServerConfig};
use authprobe_store::fixtures::{finding, report};
use authprobe_store::{Retention, Store};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::{Duration, Instant};

const MAIN_TARGET: &str = "http://api.example.test/";
const REQUESTS: usize = 200;

/// A stored history of `scans` scans: 90% of the main target, the rest over 9 others;
/// every report has 30 findings with evidence, like a scan of a flawed API.
fn build_db(scans: usize) -> PathBuf {
    let path = std::env::temp_dir().join(format!("authprobe-bench-{}-{scans}.db", std::process::id()));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let mut store = Store::open(&path).expect("open the bench database");
    let severities = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];
    for i in 0..scans {
        let target = if i % 10 == 9 {
            format!("http://service-{}.example.test/", i % 9)
        } else {
            MAIN_TARGET.to_string()
        };
        let findings = (0..30)
            .map(|k| {
                let mut f = finding(
                    &format!("CHK{:03}", (k + i) % 45),
                    severities[k % 5],
                    &format!("/api/resource/{k}/"),
                    &format!("finding {k} of scan {i}: the endpoint answered like a valid credential"),
                );
                f.evidence[0]
                    .response
                    .push_str(&"{\"id\": 1, \"owner\": \"alice\"} ".repeat(40));
                f.evidence.push(f.evidence[0].clone());
                f
            })
            .collect();
        let score = (40 + (i * 7) % 60) as u8;
        let started = format!("2026-{:02}-{:02}T{:02}:00:00Z", 1 + (i / 28) % 12, 1 + i % 28, i % 24);
        store
            .save(&report(&target, score, &started, findings), Retention::default())
            .expect("save a bench scan");
    }
    path
}

fn get(addr: SocketAddr, path: &str) -> usize {
    let mut stream = TcpStream::connect(addr).expect("connect");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut body = Vec::new();
    stream.read_to_end(&mut body).expect("read");
    assert!(
        body.starts_with(b"HTTP/1.1 200"),
        "{path}: {}",
        String::from_utf8_lossy(&body[..80.min(body.len())])
    );
    body.len()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// p50 and p95 of `REQUESTS` sequential GETs of `path`.
fn measure(addr: SocketAddr, path: &str) -> (Duration, Duration, usize) {
    let bytes = get(addr, path); // warm-up
    let mut times: Vec<Duration> = (0..REQUESTS)
        .map(|_| {
            let t = Instant::now();
            get(addr, path);
            t.elapsed()
        })
        .collect();
    times.sort();
    (percentile(&times, 0.5), percentile(&times, 0.95), bytes)
}

fn start(rt: &tokio::runtime::Runtime, db: PathBuf) -> SocketAddr {
    let config = ServerConfig {
        db: authprobe_store::Location::Sqlite(db),
        bind: "127.0.0.1:0".parse().unwrap(),
        token: None,
        scan_targets: vec![],
        monitors: vec![],
        retention: Retention::default(),
        upload_token: None,
        worker: Default::default(),
    };
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(config.bind).await.expect("bind");
        let addr = listener.local_addr().unwrap();
        let state = AppState::new(config, None).expect("open the store");
        tokio::spawn(async move { axum_serve(listener, state).await });
        addr
    })
}

async fn axum_serve(listener: tokio::net::TcpListener, state: std::sync::Arc<AppState>) {
    authprobe_server::serve_on(listener, state).await.expect("serve");
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let t = Instant::now();
    let big = build_db(1000);
    let small = build_db(10);
    println!("stored 1,010 scans in {:.1} s\n", t.elapsed().as_secs_f64());
    let big_addr = start(&rt, big.clone());
    let small_addr = start(&rt, small.clone());

    let (last, prev) = {
        let mut store = Store::open(&big).unwrap();
        let scans = store.scans(Some(MAIN_TARGET), 2).unwrap();
        (scans[0].id, scans[1].id)
    };
    let (last_small, prev_small) = {
        let mut store = Store::open(&small).unwrap();
        let scans = store.scans(Some(MAIN_TARGET), 2).unwrap();
        (scans[0].id, scans[1].id)
    };
    let target = format!("/target?url={}", "http%3A%2F%2Fapi.example.test%2F");
    let pages: Vec<(&str, String, String)> = vec![
        ("targets list", "/".into(), "/".into()),
        ("target page (chart)", target.clone(), target.clone()),
        ("scan page", format!("/scan/{last}"), format!("/scan/{last_small}")),
        (
            "diff page",
            format!("/diff?from={prev}&to={last}"),
            format!("/diff?from={prev_small}&to={last_small}"),
        ),
        ("api: targets", "/api/targets".into(), "/api/targets".into()),
        (
            "api: target",
            format!("/api/target?url={}", "http%3A%2F%2Fapi.example.test%2F"),
            format!("/api/target?url={}", "http%3A%2F%2Fapi.example.test%2F"),
        ),
        (
            "api: scan",
            format!("/api/scans/{last}"),
            format!("/api/scans/{last_small}"),
        ),
        (
            "static stylesheet",
            "/static/style.css".into(),
            "/static/style.css".into(),
        ),
    ];
    println!(
        "{:<22} {:>9} {:>9} {:>9} | {:>14} {:>9}",
        "page (200 GETs)", "p50 ms", "p95 ms", "bytes", "baseline p95", "ratio"
    );
    let mut worst = Duration::ZERO;
    for (name, big_path, small_path) in &pages {
        let (p50, p95, bytes) = measure(big_addr, big_path);
        let (_, base95, _) = measure(small_addr, small_path);
        worst = worst.max(p95);
        println!(
            "{:<22} {:>9.2} {:>9.2} {:>9} | {:>11.2} ms {:>8.2}x",
            name,
            p50.as_secs_f64() * 1e3,
            p95.as_secs_f64() * 1e3,
            bytes,
            base95.as_secs_f64() * 1e3,
            p95.as_secs_f64() / base95.as_secs_f64().max(1e-9)
        );
    }
    println!(
        "\nworst p95 with 1,000 stored scans: {:.2} ms (target < 50 ms): {}",
        worst.as_secs_f64() * 1e3,
        if worst < Duration::from_millis(50) {
            "PASS"
        } else {
            "FAIL"
        }
    );
    for db in [big, small] {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
        }
    }
    if worst >= Duration::from_millis(50) {
        std::process::exit(1);
    }
}
