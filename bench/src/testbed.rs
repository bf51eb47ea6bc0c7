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

fn scan_once(runtime: &tokio::runtime::Runtime, schedule: Schedule) -> io::Result<Run> {
    let bed = Testbed::start()?;
    let pid = bed.child.id();
    let cpu_before = cpu_time(pid);
    let started = Instant::now();
    let report = runtime
        .block_on(scan(config(&bed.url, schedule), authprobe_checks::all(), &Silent))
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

/// Scans the testbed with both schedules, alternating, and prints the comparison. Returns
/// whether both found the same check codes in every round.
pub fn testbed_report(out: &mut impl Write) -> io::Result<bool> {
    let rounds: usize = std::env::var("AUTHPROBE_BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(3);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    writeln!(
        out,
        "testbed scan (--flaws all, users alice and bob, concurrency 8, {rounds} rounds, a fresh testbed per scan)"
    )?;
    let schedules = [Schedule::Waves, Schedule::Tasks];
    let mut runs: [Vec<Run>; 2] = [Vec::new(), Vec::new()];
    for round in 1..=rounds {
        for (i, schedule) in schedules.iter().enumerate() {
            let run = scan_once(&runtime, *schedule)?;
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
