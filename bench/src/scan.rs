//! Spec-driven scan at scale: a generated OpenAPI spec of N operations, served with the
//! API itself by a minimal HTTP/1.1 server on loopback, scanned by the whole engine (every
//! registered check) with a Bearer identity.
//!
//! Printed per size: wall time, requests the server counted, requests per second through
//! the probe, and peak RSS of this process (server + scanner). The baseline, measured in the
//! same process, is a bare `reqwest` client sending the same number of GETs to the same
//! server at the same concurrency: the ratio says what the probe's bookkeeping (budget,
//! rate limit, recording every exchange, redaction, checks) costs against raw HTTP.

use std::io::{self, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use authprobe_core::config::{ScanConfig, Target};
use authprobe_core::engine::{scan, Silent};
use authprobe_core::probe::ProbeSettings;
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

/// One measured scan.
struct ScanRun {
    operations: usize,
    wall: Duration,
    requests: usize,
    endpoints: usize,
}

fn config(server: &Server) -> ScanConfig {
    ScanConfig {
        tokens: vec![authprobe_core::config::SuppliedToken {
            label: "bearer".into(),
            value: TOKEN.into(),
            presentation: authprobe_core::identity::Presentation::bearer(),
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

async fn scan_once(operations: usize) -> ScanRun {
    let server = serve(operations).await;
    let started = Instant::now();
    let report = scan(config(&server), authprobe_checks::all(), &Silent)
        .await
        .expect("the bench scan runs");
    ScanRun {
        operations,
        wall: started.elapsed(),
        requests: server.requests.load(Ordering::Relaxed),
        endpoints: report.stats.endpoints,
    }
}

/// The baseline: `count` authorized GETs over the items with a bare reqwest client.
async fn raw_client(operations: usize, count: usize) -> (Duration, usize) {
    let server = serve(operations).await;
    let client = reqwest::Client::new();
    let started = Instant::now();
    let urls: Vec<String> = (0..count)
        .map(|i| format!("{}api/items{}/", server.url, i % operations))
        .collect();
    futures::stream::iter(urls)
        .map(|u| {
            let client = client.clone();
            async move {
                let resp = client.get(u).bearer_auth(TOKEN).send().await.expect("baseline GET");
                let _ = resp.bytes().await;
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect::<Vec<_>>()
        .await;
    (started.elapsed(), server.requests.load(Ordering::Relaxed))
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

/// Scans 100- and 500-operation specs and prints throughput, the linearity ratio and peak RSS.
pub fn scan_report(out: &mut impl Write) -> io::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    writeln!(
        out,
        "spec-driven scan (loopback, concurrency {CONCURRENCY}, every check)"
    )?;
    let mut runs = Vec::new();
    for operations in [100, 500] {
        let run = runtime.block_on(scan_once(operations));
        let rate = run.requests as f64 / run.wall.as_secs_f64();
        writeln!(
            out,
            "  {:>4} operations: {:>6} requests in {:>7.1} ms = {:>7.0} req/s ({} endpoints)",
            run.operations,
            run.requests,
            run.wall.as_secs_f64() * 1e3,
            rate,
            run.endpoints
        )?;
        runs.push(run);
    }
    let (small, large) = (&runs[0], &runs[1]);
    let ops_ratio = large.operations as f64 / small.operations as f64;
    let time_ratio = large.wall.as_secs_f64() / small.wall.as_secs_f64();
    let request_ratio = large.requests as f64 / small.requests as f64;
    writeln!(
        out,
        "  500 vs 100 operations: {ops_ratio:.1}x operations, {request_ratio:.2}x requests, {time_ratio:.2}x wall time (linear: time ratio ≈ request ratio)"
    )?;
    let (raw_wall, raw_requests) = runtime.block_on(raw_client(500, large.requests));
    let raw_rate = raw_requests as f64 / raw_wall.as_secs_f64();
    let probe_rate = large.requests as f64 / large.wall.as_secs_f64();
    writeln!(
        out,
        "  baseline (bare reqwest, {raw_requests} GETs): {raw_rate:.0} req/s; the scan runs at {:.2}x the bare client's rate",
        probe_rate / raw_rate
    )?;
    match peak_rss_mib() {
        Some(mib) => writeln!(out, "  peak RSS of the bench process (server + scanner): {mib:.1} MiB")?,
        None => writeln!(out, "  peak RSS: not available on this platform")?,
    }
    Ok(())
}
