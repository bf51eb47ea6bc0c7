//! Spec-driven scan at scale: a generated OpenAPI spec of N operations, served with the
//! API itself by a minimal HTTP/1.1 server on loopback, scanned by the whole engine (every
//! registered check) with a Bearer identity.
//!
//! Every size runs in a process of its own (the bench binary re-executed with a hidden
//! argument), so its peak RSS (`VmHWM`) is its own and not the high-water mark of an earlier,
//! larger run. Printed per size: requests the server counted, wall time, requests per second
//! through the probe, peak RSS of that process (server + scanner), and what the exchange log
//! kept, spilled and dropped. The baseline, also in a process of its own, is a bare `reqwest`
//! client sending the same number of GETs to the same kind of server at the same
//! concurrency: the ratio says what the probe's bookkeeping (budget, rate limit, recording
//! exchanges, redaction, checks) costs against raw HTTP. A third process sends the same GETs
//! through the scan's `Probe` with no check around them, which splits that cost between
//! the probe and the checks.

use std::io::{self, Write};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use authprobe_core::config::{ScanConfig, Target};
use authprobe_core::engine::{scan, Silent};
use authprobe_core::probe::{Probe, ProbeRequest, ProbeSettings};
use futures::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const TOKEN: &str = "bench-token-0f4c2a9e7d1b3c5a";
const CONCURRENCY: usize = 8;

/// The spec: `GET /api/items{i}/` for every i, each secured by `bearerAuth`.
fn spec_json(operations: usize) -> String {
    let paths: serde_json::Map<String, serde_json::Value> = (0..operations)
        .map(|i| {
            (
                format!("/api/items{i}/"),
                serde_json::json!({"get": {"operationId": format!("items{i}"), "responses": {"200": {"description": "ok"}}}}),
            )
        })
        .collect();
    serde_json::json!({
        "openapi": "3.0.3",
        "info": {"title": "bench", "version": "1"},
        "security": [{"bearerAuth": []}],
        "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
        "paths": paths,
    })
    .to_string()
}

struct Server {
    url: String,
    requests: Arc<AtomicUsize>,
}

/// Serves the spec at `/openapi.json`, the identity at `/api/me/`, and the items; every API
/// path refuses requests without the token (401 + `WWW-Authenticate`).
async fn serve(operations: usize) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
    let url = format!("http://{}/", listener.local_addr().expect("addr"));
    let spec = Arc::new(spec_json(operations));
    let requests = Arc::new(AtomicUsize::new(0));
    let counter = requests.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(connection(stream, spec.clone(), counter.clone()));
        }
    });
    Server { url, requests }
}

async fn connection(mut stream: TcpStream, spec: Arc<String>, requests: Arc<AtomicUsize>) {
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    loop {
        // One request head (and any body, by Content-Length).
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
        let content_length: usize = header(&head, "content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        while buf.len() < head_end + content_length {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        buf.drain(..head_end + content_length);
        requests.fetch_add(1, Ordering::Relaxed);
        let mut first = head.lines().next().unwrap_or("").split(' ');
        let method = first.next().unwrap_or("");
        let path = first.next().unwrap_or("/").split('?').next().unwrap_or("/");
        let authorized = header(&head, "authorization").is_some_and(|v| v == format!("Bearer {TOKEN}"));
        let (status, extra, body) = respond(path, authorized, &spec);
        let body = if method == "HEAD" { "" } else { body.as_str() };
        let response = format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nx-content-type-options: nosniff\r\nx-frame-options: DENY\r\nreferrer-policy: same-origin\r\n{extra}\r\n{body}",
            if method == "HEAD" { 0 } else { body.len() }
        );
        if stream.write_all(response.as_bytes()).await.is_err() {
            return;
        }
    }
}

fn respond(path: &str, authorized: bool, spec: &str) -> (&'static str, &'static str, String) {
    const REFUSED: &str = r#"{"detail":"Authentication credentials were not provided."}"#;
    const CHALLENGE: &str = "www-authenticate: Bearer realm=\"api\"\r\n";
    match path {
        "/openapi.json" => ("200 OK", "", spec.to_string()),
        "/" => ("200 OK", "", r#"{"service":"bench"}"#.into()),
        "/api/me/" if authorized => ("200 OK", "", r#"{"id":7,"username":"bench-user"}"#.into()),
        "/api/me/" => ("401 Unauthorized", CHALLENGE, REFUSED.into()),
        p if p.starts_with("/api/items") && authorized => (
            "200 OK",
            "",
            format!(
                r#"{{"path":"{p}","owner":"bench-user","items":[{{"name":"a","value":1}},{{"name":"b","value":2}}]}}"#
            ),
        ),
        p if p.starts_with("/api/items") => ("401 Unauthorized", CHALLENGE, REFUSED.into()),
        _ => ("404 Not Found", "", r#"{"detail":"Not found."}"#.into()),
    }
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// The operation counts `scan` measures.
pub const SIZES: [usize; 3] = [500, 2_000, 10_000];

/// The hidden first argument that makes the bench binary run one measurement and print it
/// (see [`child_main`]).
pub const CHILD_ARG: &str = "__scan-child";

/// One measured scan, as its child process prints it.
#[derive(Debug, Default)]
struct ScanRun {
    requests: usize,
    wall_ms: f64,
    peak_mib: f64,
    endpoints: usize,
    findings: usize,
    exchanges_kept: usize,
    exchanges_spilled: usize,
    exchanges_dropped: usize,
}

fn config(server: &Server) -> ScanConfig {
    ScanConfig {
        tokens: vec![authprobe_core::config::SuppliedToken {
            label: "bearer".into(),
            value: TOKEN.into(),
            presentation: authprobe_core::auth::identity::Presentation::bearer(),
        }],
        probe: ProbeSettings {
            max_requests: 1_000_000,
            concurrency: CONCURRENCY,
            ..ProbeSettings::default()
        },
        identity_path: Some("/api/me/".into()),
        crack_time: Duration::ZERO,
        spec: Some(format!("{}openapi.json", server.url)),
        ..ScanConfig::new(Target::parse(&server.url).expect("loopback URL"))
    }
}

/// Child: one whole scan of an `operations`-sized spec; prints `key=value` pairs.
async fn scan_child(operations: usize) -> String {
    let server = serve(operations).await;
    let started = Instant::now();
    let report = scan(config(&server), authprobe_checks::all(), &Silent)
        .await
        .expect("the bench scan runs");
    let wall = started.elapsed();
    let stats = &report.stats;
    format!(
        "requests={} wall_ms={:.3} peak_mib={:.2} endpoints={} findings={} exchanges_kept={} exchanges_spilled={} exchanges_dropped={} in_flight={:.2} idle={:.3}",
        server.requests.load(Ordering::Relaxed),
        wall.as_secs_f64() * 1e3,
        peak_rss_mib().unwrap_or(f64::NAN),
        stats.endpoints,
        report.findings.len(),
        stats
            .requests
            .saturating_sub(stats.exchanges_spilled + stats.exchanges_dropped),
        stats.exchanges_spilled,
        stats.exchanges_dropped,
        stats.in_flight.as_ref().map_or(f64::NAN, |f| f.average),
        stats.in_flight.as_ref().map_or(f64::NAN, |f| f.idle_fraction),
    )
}

/// Child: the baseline, `count` authorized GETs over the items with a bare reqwest client.
async fn raw_child(operations: usize, count: usize) -> String {
    let server = serve(operations).await;
    let client = reqwest::Client::new();
    let started = Instant::now();
    let base = server.url.clone();
    futures::stream::iter(0..count)
        .map(|i| {
            let client = client.clone();
            let url = format!("{base}api/items{}/", i % operations);
            async move {
                let resp = client.get(url).bearer_auth(TOKEN).send().await.expect("baseline GET");
                let _ = resp.bytes().await;
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect::<Vec<_>>()
        .await;
    counted_line(&server, started)
}

/// Child: the same GETs as [`raw_child`] through the scan's [`Probe`] (policy, budget,
/// recording, spilling) with no check around them: what the probe alone costs.
async fn probe_child(operations: usize, count: usize) -> String {
    let server = serve(operations).await;
    let probe = Probe::new(config(&server).probe).expect("probe");
    let started = Instant::now();
    let base = server.url.clone();
    let probe = &probe;
    futures::stream::iter(0..count)
        .map(|i| {
            let url = reqwest::Url::parse(&format!("{base}api/items{}/", i % operations)).expect("URL");
            async move {
                probe
                    .send(ProbeRequest::get(url).bearer(TOKEN))
                    .await
                    .expect("probe GET");
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect::<Vec<_>>()
        .await;
    counted_line(&server, started)
}

/// What a child without a scan report prints: the requests the server counted since it
/// started, the wall time since `started`, the peak RSS.
fn counted_line(server: &Server, started: Instant) -> String {
    format!(
        "requests={} wall_ms={:.3} peak_mib={:.2}",
        server.requests.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64() * 1e3,
        peak_rss_mib().unwrap_or(f64::NAN),
    )
}

/// Runs one measurement in this process when `args` (after the program name) start with
/// [`CHILD_ARG`]: `__scan-child scan OPERATIONS` or `__scan-child raw OPERATIONS COUNT`.
/// Prints one line of `key=value` pairs.
pub fn child_main(args: &[String]) {
    let number = |i: usize| -> usize {
        args.get(i)
            .and_then(|a| a.parse().ok())
            .expect("usage: __scan-child scan OPERATIONS | raw OPERATIONS COUNT")
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let line = match args.get(1).map(String::as_str) {
        Some("scan") => runtime.block_on(scan_child(number(2))),
        Some("raw") => runtime.block_on(raw_child(number(2), number(3))),
        Some("probe") => runtime.block_on(probe_child(number(2), number(3))),
        _ => panic!("usage: __scan-child scan OPERATIONS | raw OPERATIONS COUNT"),
    };
    println!("{line}");
}

/// Re-executes this binary to run one measurement, and parses what it printed.
fn in_child(args: &[String]) -> io::Result<ScanRun> {
    let output = Command::new(std::env::current_exe()?)
        .arg(CHILD_ARG)
        .args(args)
        .output()?;
    if !output.status.success() {
        return Err(io::Error::other(format!(
            "bench child {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        )));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let mut run = ScanRun::default();
    for (key, value) in text.split_whitespace().filter_map(|kv| kv.split_once('=')) {
        let int = || value.parse::<usize>().unwrap_or(0);
        let float = || value.parse::<f64>().unwrap_or(f64::NAN);
        match key {
            "requests" => run.requests = int(),
            "wall_ms" => run.wall_ms = float(),
            "peak_mib" => run.peak_mib = float(),
            "endpoints" => run.endpoints = int(),
            "findings" => run.findings = int(),
            "exchanges_kept" => run.exchanges_kept = int(),
            "exchanges_spilled" => run.exchanges_spilled = int(),
            "exchanges_dropped" => run.exchanges_dropped = int(),
            _ => {}
        }
    }
    Ok(run)
}

/// Peak resident set of this process (VmHWM), in MiB; `None` off Linux.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

/// Scans 500-, 2,000- and 10,000-operation specs, each in a process of its own, and prints
/// throughput and peak RSS next to a bare reqwest client sending as many requests.
/// `AUTHPROBE_BENCH_SCAN_SIZES=500,2000` measures other sizes.
pub fn scan_report(out: &mut impl Write) -> io::Result<()> {
    let sizes: Vec<usize> = std::env::var("AUTHPROBE_BENCH_SCAN_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .filter(|s: &Vec<usize>| !s.is_empty())
        .unwrap_or_else(|| SIZES.to_vec());
    writeln!(
        out,
        "spec-driven scan (loopback, concurrency {CONCURRENCY}, every check; one process per run)"
    )?;
    for operations in sizes {
        let run = in_child(&["scan".into(), operations.to_string()])?;
        let raw = in_child(&["raw".into(), operations.to_string(), run.requests.to_string()])?;
        let probe_only = in_child(&["probe".into(), operations.to_string(), run.requests.to_string()])?;
        let rate = run.requests as f64 / (run.wall_ms / 1e3);
        let raw_rate = raw.requests as f64 / (raw.wall_ms / 1e3);
        writeln!(
            out,
            "  {operations:>6} operations: {:>7} requests in {:>8.1} ms = {:>6.0} req/s, peak RSS {:>6.1} MiB ({} endpoints, {} findings; exchanges kept {}, spilled {}, dropped {})",
            run.requests,
            run.wall_ms,
            rate,
            run.peak_mib,
            run.endpoints,
            run.findings,
            run.exchanges_kept,
            run.exchanges_spilled,
            run.exchanges_dropped,
        )?;
        writeln!(
            out,
            "  {:>6} baseline (bare reqwest, {} GETs): {:>8.1} ms = {:>6.0} req/s, peak RSS {:>6.1} MiB; the scan runs at {:.2}x the bare client's rate",
            "",
            raw.requests,
            raw.wall_ms,
            raw_rate,
            raw.peak_mib,
            rate / raw_rate
        )?;
        let probe_rate = probe_only.requests as f64 / (probe_only.wall_ms / 1e3);
        writeln!(
            out,
            "  {:>6} the same GETs through the scan's probe alone (no checks): {:>8.1} ms = {:>6.0} req/s, {:.2}x the bare client's rate",
            "",
            probe_only.wall_ms,
            probe_rate,
            probe_rate / raw_rate
        )?;
    }
    Ok(())
}
