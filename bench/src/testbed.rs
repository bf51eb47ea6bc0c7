//! Scheduling on the bundled testbed: the scan the end-to-end tests run most (`--flaws all`,
//! two users), timed with the engine's schedule of before issue 17 ([`Schedule::Waves`]:
//! checks in waves, a check's independent probes one at a time) and with today's
//! ([`Schedule::Tasks`]), side by side in one process.
//!
//! Each scan gets a testbed of its own, started fresh (`testbed/serve --port 0 --flaws all`),
//! so neither inherits the other's throttle windows or sessions; the two schedules
//! alternate for `AUTHPROBE_BENCH_ROUNDS` rounds (default 3) and the medians are compared.
//! Printed per scan: wall time, requests, the in-flight average and the idle fraction (from
//! the probe's gauge, `stats.in_flight`); then the wall-time ratio, and whether both
//! schedules found the same set of check codes (a diff when not; the bench then fails).

use std::collections::BTreeSet;
use std::io::{self, BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use authprobe_core::config::{ScanConfig, Schedule, Target, UserCredential};
use authprobe_core::engine::{scan, Silent};

const USERS: [(&str, &str); 2] = [("alice", "alice-pass-1"), ("bob", "bob-pass-2")];

/// A testbed of its own; it exits with this process (its stdin is the lifeline) or on drop.
struct Testbed {
    url: String,
    child: Child,
}

/// CPU time (user + system) a process has used so far, from `/proc/PID/stat`; `None` off Linux.
fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start after its `)`.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // USER_HZ is 100 on every Linux architecture authprobe builds for.
    Some(Duration::from_millis(ticks * 10))
}

impl Testbed {
    fn start() -> io::Result<Testbed> {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        let serve = root.join("testbed/serve");
        let mut child = Command::new(&serve)
            .args(["--port", "0", "--flaws", "all", "--exit-with-stdin"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| {
                io::Error::other(format!(
                    "cannot start {}: {e} (run testbed/setup first)",
                    serve.display()
                ))
            })?;
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
            .map_err(|_| io::Error::other("the testbed did not print `ready URL` within 90 s"))?;
        Ok(Testbed {
            url: format!("{}/", url.trim_end_matches('/')),
            child,
        })
    }
}

impl Drop for Testbed {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback TCP proxy in front of `upstream` (`host:port`) that holds every byte the
/// server sends for `delay` before passing it on (in order, without slowing the bytes behind
/// it): each answer reaches the scanner one `delay` later, as over a link of that round-trip
/// time. Requests pass at once. Runs on `runtime` until the process ends.
fn delaying_proxy(runtime: &tokio::runtime::Runtime, upstream: String, delay: Duration) -> io::Result<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let port = listener.local_addr()?.port();
    runtime.spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let upstream = upstream.clone();
            tokio::spawn(async move {
                let Ok(server) = tokio::net::TcpStream::connect(&upstream).await else {
                    return;
                };
                let _ = (client.set_nodelay(true), server.set_nodelay(true));
                let (mut client_read, mut client_write) = client.into_split();
                let (mut server_read, mut server_write) = server.into_split();
                tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut client_read, &mut server_write).await;
                    let _ = server_write.shutdown().await;
                });
                let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(tokio::time::Instant, Vec<u8>)>();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 64 * 1024];
                    while let Ok(n) = server_read.read(&mut buf).await {
                        if n == 0
                            || tx
                                .send((tokio::time::Instant::now() + delay, buf[..n].to_vec()))
                                .is_err()
                        {
                            break;
                        }
                    }
                });
                while let Some((due, bytes)) = rx.recv().await {
                    tokio::time::sleep_until(due).await;
                    if client_write.write_all(&bytes).await.is_err() {
                        break;
                    }
                }
                let _ = client_write.shutdown().await;
            });
        }
    });
    Ok(format!("http://127.0.0.1:{port}/"))
}

/// One timed scan.
struct Run {
    wall: Duration,
    /// CPU time the testbed spent answering the scan.
    server_cpu: Option<Duration>,
    requests: usize,
    in_flight: f64,
    idle: f64,
    codes: BTreeSet<String>,
}

fn config(url: &str, schedule: Schedule) -> ScanConfig {
    ScanConfig {
        users: USERS
            .iter()
            .map(|(username, password)| UserCredential {
                username: (*username).into(),
                password: (*password).into(),
            })
            .collect(),
        schedule,
        crack_time: std::env::var("AUTHPROBE_BENCH_CRACK_SECS")
            .ok()
            .and_then(|s| s.parse::<f64>().ok())
            .map(Duration::from_secs_f64)
            .unwrap_or(authprobe_core::config::DEFAULT_CRACK_TIME),
        ..ScanConfig::new(Target::parse(url).expect("the testbed's URL"))
    }
}

fn scan_once(runtime: &tokio::runtime::Runtime, schedule: Schedule, latency: Duration) -> io::Result<Run> {
    let bed = Testbed::start()?;
    let pid = bed.child.id();
    let url = if latency.is_zero() {
        bed.url.clone()
    } else {
        let upstream = bed.url.trim_start_matches("http://").trim_end_matches('/').to_string();
        delaying_proxy(runtime, upstream, latency)?
    };
    let cpu_before = cpu_time(pid);
    let started = Instant::now();
    let report = runtime
        .block_on(scan(config(&url, schedule), authprobe_checks::all(), &Silent))
        .map_err(|e| io::Error::other(format!("the scan failed: {e}")))?;
    let wall = started.elapsed();
    let server_cpu = cpu_time(pid)
        .zip(cpu_before)
        .map(|(after, before)| after.saturating_sub(before));
    let gauge = report.stats.in_flight.expect("the engine measures what is in flight");
    Ok(Run {
        wall,
        server_cpu,
        requests: report.stats.requests,
        in_flight: gauge.average,
        idle: gauge.idle_fraction,
        codes: report.findings.iter().map(|f| f.check.clone()).collect(),
    })
}

fn label(schedule: Schedule) -> &'static str {
    match schedule {
        Schedule::Waves => "baseline (waves, one probe at a time)",
        Schedule::Tasks => "tasks (this engine)",
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// Scans the testbed with both schedules, alternating, and prints the comparison: on
/// loopback, then behind a proxy that delays every answer by each latency of
/// `AUTHPROBE_BENCH_LATENCY_MS` (default `0,20,50`: loopback, then a 20 ms round trip, as a
/// target in the same region sits, then 50 ms, one a continent away). Returns whether both schedules found the same check
/// codes in every scan.
pub fn testbed_report(out: &mut impl Write) -> io::Result<bool> {
    let rounds: usize = std::env::var("AUTHPROBE_BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(3);
    let latencies: Vec<u64> = std::env::var("AUTHPROBE_BENCH_LATENCY_MS")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .filter(|l: &Vec<u64>| !l.is_empty())
        .unwrap_or_else(|| vec![0, 20, 50]);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let mut same = true;
    for latency in latencies {
        same &= compare(out, &runtime, rounds, Duration::from_millis(latency))?;
    }
    Ok(same)
}

/// One side-by-side comparison of the two schedules at one latency.
fn compare(
    out: &mut impl Write,
    runtime: &tokio::runtime::Runtime,
    rounds: usize,
    latency: Duration,
) -> io::Result<bool> {
    let link = if latency.is_zero() {
        "on loopback".to_string()
    } else {
        format!("through a proxy that delays every answer {} ms", latency.as_millis())
    };
    writeln!(
        out,
        "testbed scan {link} (--flaws all, users alice and bob, concurrency 8, {rounds} rounds, a fresh testbed per scan)"
    )?;
    let schedules = [Schedule::Waves, Schedule::Tasks];
    let mut runs: [Vec<Run>; 2] = [Vec::new(), Vec::new()];
    for round in 1..=rounds {
        for (i, schedule) in schedules.iter().enumerate() {
            let run = scan_once(runtime, *schedule, latency)?;
            writeln!(
                out,
                "  round {round}, {:<38} {:>6.2} s {:>5} requests, in flight {:>4.2} on average, idle {:>4.1} %, {} check codes, testbed CPU {}",
                label(*schedule),
                run.wall.as_secs_f64(),
                run.requests,
                run.in_flight,
                run.idle * 100.0,
                run.codes.len(),
                run.server_cpu
                    .map(|d| format!("{:.2} s", d.as_secs_f64()))
                    .unwrap_or_else(|| "n/a".into())
            )?;
            runs[i].push(run);
        }
    }
    let mut medians = Vec::new();
    for (schedule, runs) in schedules.iter().zip(&runs) {
        let wall = median(runs.iter().map(|r| r.wall.as_secs_f64()).collect());
        let requests = median(runs.iter().map(|r| r.requests as f64).collect());
        let in_flight = median(runs.iter().map(|r| r.in_flight).collect());
        let idle = median(runs.iter().map(|r| r.idle).collect());
        writeln!(
            out,
            "  median {:<38} {wall:>6.2} s {requests:>5.0} requests, in flight {in_flight:>4.2} on average, idle {:>4.1} %",
            label(*schedule),
            idle * 100.0
        )?;
        medians.push(wall);
    }
    writeln!(
        out,
        "  wall time: the baseline takes {:.2}x as long as this engine (target ≥ 2x)",
        medians[0] / medians[1]
    )?;
    let reference = &runs[0][0].codes;
    let mut same = true;
    for (schedule, runs) in schedules.iter().zip(&runs) {
        for (round, run) in runs.iter().enumerate() {
            if run.codes != *reference {
                same = false;
                let missing: Vec<&String> = reference.difference(&run.codes).collect();
                let extra: Vec<&String> = run.codes.difference(reference).collect();
                writeln!(
                    out,
                    "  DIFFERENT check codes, {} round {}: missing {missing:?}, extra {extra:?} (against the first baseline scan)",
                    label(*schedule),
                    round + 1
                )?;
            }
        }
    }
    if same {
        writeln!(
            out,
            "  every scan found the same {} check codes: {}",
            reference.len(),
            reference.iter().cloned().collect::<Vec<_>>().join(" ")
        )?;
    }
    Ok(same)
}
