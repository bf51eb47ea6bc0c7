//! `cargo run --release -p authprobe_bench --bin store`: how many scans a store takes per
//! second, SQLite against Postgres, and how fast workers drain the shared monitor schedule.
//!
//! Postgres is measured when `AUTHPROBE_TEST_POSTGRES` names a server where databases may be
//! created (`scripts/pg-throwaway.sh DIR` starts one). Printed per store:
//! - saves per second of a report the size of a real one (60 findings with evidence, about
//!   the `--flaws all` testbed report: 59 findings, 204 KB), from 1 and from 8 concurrent writers;
//! - claim + complete cycles per second of the monitor schedule with 1 and 8 workers
//!   (the database's share of running a rescan; the scan itself is not included).

use authprobe_core::Severity;
use authprobe_store::fixtures::{finding, fresh_postgres, report};
use authprobe_store::{Location, MonitorSpec, Retention, RunOutcome, Store};
use std::time::{Duration, Instant};

const SAVES: usize = 400;
const MONITORS: usize = 400;

fn big_report(target: &str) -> authprobe_core::Report {
    let body = "x".repeat(1000);
    let findings = (0..60)
        .map(|i| {
            finding(
                &format!("AUTH{:03}", i % 7),
                Severity::High,
                &format!("{target}api/r{i}/"),
                &body,
            )
        })
        .collect();
    report(target, 40, "2026-12-06T00:00:00Z", findings)
}

fn saves_per_second(location: &Location, writers: usize) -> f64 {
    let started = Instant::now();
    std::thread::scope(|s| {
        for w in 0..writers {
            s.spawn(move || {
                let mut store = Store::connect(location).expect("open the store");
                for i in 0..SAVES / writers {
                    let r = big_report(&format!("http://t{w}-{}.example/", i % 50));
                    store
                        .save(
                            &r,
                            Retention {
                                keep: Some(100),
                                days: None,
                            },
                        )
                        .expect("save");
                }
            });
        }
    });
    SAVES as f64 / started.elapsed().as_secs_f64()
}

fn cycles_per_second(location: &Location, workers: usize, round: usize) -> f64 {
    let mut store = Store::connect(location).expect("open the store");
    let specs: Vec<MonitorSpec> = (0..MONITORS)
        .map(|i| MonitorSpec {
            target: format!("http://m{round}-{i}.example/"),
            interval: Duration::from_secs(86_400),
            webhook: None,
        })
        .collect();
    store.register_monitors(&specs).expect("register");
    let small = report("http://x/", 90, "2026-12-06T00:00:00Z", vec![]);
    let started = Instant::now();
    let done: usize = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                let small = &small;
                s.spawn(move || {
                    let mut store = Store::connect(location).expect("open the store");
                    let owner = format!("bench-{round}-{w}");
                    let mut n = 0;
                    while let Some(lease) = store.claim_due_monitor(&owner, Duration::from_secs(60)).expect("claim") {
                        let mut r = small.clone();
                        r.target.url = lease.target.clone();
                        let uuid = format!("{}-{}", lease.target, lease.due_unix);
                        let outcome = store
                            .complete_monitor_run(&lease, &r, &uuid, Retention::default(), |_, _, _| None)
                            .expect("complete");
                        assert!(matches!(outcome, RunOutcome::Saved { .. }));
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(done, MONITORS, "every due rescan ran once");
    done as f64 / started.elapsed().as_secs_f64()
}

fn measure(name: &str, location: &Location) {
    println!("{name}:");
    let json = serde_json::to_string(&big_report("http://t.example/")).unwrap().len();
    println!("  report of 60 findings: {:.1} KB of JSON", json as f64 / 1024.0);
    for writers in [1, 8] {
        println!(
            "  saves/s, {writers} writer(s): {:.0}",
            saves_per_second(location, writers)
        );
    }
    for (round, workers) in [1, 8].into_iter().enumerate() {
        println!(
            "  monitor claim+complete cycles/s, {workers} worker(s): {:.0}",
            cycles_per_second(location, workers, round)
        );
    }
}

fn main() {
    let dir = std::env::temp_dir().join(format!("authprobe-bench-store-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    measure("SQLite (one file)", &Location::Sqlite(dir.join("history.db")));
    match fresh_postgres("bench_store") {
        Some(location) => measure("Postgres", &location),
        None => println!("Postgres: not measured (set AUTHPROBE_TEST_POSTGRES)"),
    }
    let _ = std::fs::remove_dir_all(&dir);
}
