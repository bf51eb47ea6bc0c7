//! The store's behaviour, run against SQLite always and against Postgres when
//! `AUTHPROBE_TEST_POSTGRES` names a server (each test gets a fresh database on it).
//! `.ci/run` starts a throwaway cluster and sets `AUTHPROBE_REQUIRE_POSTGRES=1`, so there a
//! missing server fails the suite instead of skipping half of it.

use super::*;
use crate::fixtures::{finding, report};

fn temp_db(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("authprobe-store-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir.join("nested/history.db")
}

use crate::fixtures::fresh_postgres;

/// Every database the test runs on: a fresh SQLite file, and a fresh Postgres database
/// when there is a test server.
fn every_backend(name: &str) -> Vec<Location> {
    let mut out = vec![Location::Sqlite(temp_db(name))];
    out.extend(fresh_postgres(&format!("store_{name}")));
    out
}

fn stores(name: &str) -> Vec<Store> {
    every_backend(name)
        .iter()
        .map(|l| Store::connect(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

/// Runs raw SQL in its own transaction (tests only: to age rows).
fn exec(store: &mut Store, sql: &str) {
    let mut tx = store.conn.transaction().unwrap();
    tx.execute(sql, &[]).unwrap();
    tx.commit().unwrap();
}

fn count_rows(store: &mut Store, sql: &str) -> i64 {
    store.conn.query(sql, &[]).unwrap()[0].int(0).unwrap()
}

#[test]
fn a_fresh_postgres_database_is_migrated_and_refuses_a_newer_schema() {
    let Some(location) = fresh_postgres("store_pgfresh") else {
        return;
    };
    let mut store = Store::connect(&location).unwrap();
    assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as i64);
    drop(store);
    let mut store = Store::connect(&location).unwrap();
    assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as i64);
    exec(&mut store, "UPDATE authprobe_schema SET version = 99");
    drop(store);
    let err = Store::connect(&location).err().unwrap();
    assert!(err.to_string().contains("newer authprobe"), "{err}");
}

#[test]
fn workers_starting_together_on_postgres_migrate_once() {
    let Some(location) = fresh_postgres("store_pgrace") else {
        return;
    };
    let threads: Vec<_> = (0..6)
        .map(|_| {
            let location = location.clone();
            std::thread::spawn(move || Store::connect(&location).map(|mut s| s.schema_version().unwrap()))
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap().unwrap(), MIGRATIONS.len() as i64);
    }
}

#[test]
fn an_unreachable_postgres_is_a_clear_error_without_its_password() {
    // A closed port on loopback.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let location = Location::parse(&format!("postgres://scanner:pw-that-must-not-show@127.0.0.1:{port}/x"));
    let err = Store::connect(&location).err().unwrap().to_string();
    assert!(
        err.contains("cannot open the history database postgres://scanner:***@127.0.0.1"),
        "{err}"
    );
    assert!(!err.contains("pw-that-must-not-show"), "{err}");
}

#[test]
fn a_fresh_database_is_created_and_migrated_to_the_newest_schema() {
    let path = temp_db("fresh");
    let mut store = Store::open(&path).unwrap();
    assert!(path.exists());
    assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as i64);
    drop(store);
    // Reopening runs no migration twice.
    let mut store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as i64);
    assert_eq!(store.count().unwrap(), 0);
}

#[test]
fn a_database_from_a_newer_authprobe_is_refused() {
    let path = temp_db("newer");
    drop(Store::open(&path).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    let err = Store::open(&path).err().unwrap();
    assert!(err.to_string().contains("newer authprobe"), "{err}");
}

#[test]
fn an_unwritable_location_is_a_clear_error() {
    let err = Store::open(Path::new("/proc/authprobe/history.db")).err().unwrap();
    assert!(err.to_string().contains("/proc/authprobe"), "{err}");
}

#[test]
fn saved_scans_come_back_with_their_summary_and_report() {
    for mut store in stores("roundtrip") {
        saved_scans_come_back(&mut store);
    }
}

fn saved_scans_come_back(store: &mut Store) {
    let r = report(
        "http://a/",
        72,
        "2026-01-01T00:00:00Z",
        vec![
            finding("JWT001", Severity::Critical, "http://a/api/", "alg none"),
            finding("WEB004", Severity::Low, "http://a/", "headers"),
        ],
    );
    let id = store.save(&r, Retention::default()).unwrap();
    let stored = store.scan(id).unwrap().unwrap();
    assert_eq!(stored.report, r);
    assert_eq!((stored.summary.score, stored.summary.grade.as_str()), (72, "C"));
    assert_eq!(
        (stored.summary.critical, stored.summary.low, stored.summary.findings),
        (1, 1, 2)
    );
    assert!(store.scan(id + 1).unwrap().is_none());
    let cats = store.category_history("http://a/", 10).unwrap();
    assert_eq!(cats.len(), 4);
}

#[test]
fn targets_list_their_newest_scan_and_the_score_before_it() {
    for mut store in stores("targets") {
        targets_list(&mut store);
    }
}

fn targets_list(store: &mut Store) {
    for (t, s) in [("http://a/", 50), ("http://b/", 90), ("http://a/", 70)] {
        store
            .save(&report(t, s, "2026-01-01T00:00:00Z", vec![]), Retention::default())
            .unwrap();
    }
    let targets = store.targets().unwrap();
    assert_eq!(targets.len(), 2);
    assert_eq!(targets[0].target, "http://a/");
    assert_eq!(
        (targets[0].latest.score, targets[0].previous_score, targets[0].scans),
        (70, Some(50), 2)
    );
    assert_eq!((targets[1].latest.score, targets[1].previous_score), (90, None));
    let a = store.scans(Some("http://a/"), 10).unwrap();
    assert_eq!(a.iter().map(|s| s.score).collect::<Vec<_>>(), [70, 50]);
    assert_eq!(store.previous(a[0].id).unwrap().unwrap().id, a[1].id);
    assert!(store.previous(a[1].id).unwrap().is_none());
}

#[test]
fn retention_keeps_the_newest_scans_per_target_only() {
    for mut store in stores("keep") {
        retention_keeps(&mut store);
    }
}

fn retention_keeps(store: &mut Store) {
    let keep = Retention {
        keep: Some(3),
        days: None,
    };
    store
        .save(&report("http://other/", 10, "t", vec![]), Retention::default())
        .unwrap();
    for score in 0..6 {
        store.save(&report("http://a/", score, "t", vec![]), keep).unwrap();
    }
    let scores: Vec<u8> = store
        .scans(Some("http://a/"), 100)
        .unwrap()
        .iter()
        .map(|s| s.score)
        .collect();
    assert_eq!(scores, [5, 4, 3]);
    // Another target's history is not touched, and category rows go with their scan.
    assert_eq!(store.scans(Some("http://other/"), 100).unwrap().len(), 1);
    assert_eq!(store.category_history("http://a/", 100).unwrap().len(), 3 * 4);
    assert_eq!(count_rows(store, "SELECT COUNT(*) FROM category_scores"), 4 * 4);
}

#[test]
fn retention_by_days_drops_old_scans_but_never_the_new_one() {
    for mut store in stores("days") {
        retention_by_days(&mut store);
    }
}

fn retention_by_days(store: &mut Store) {
    store
        .save(&report("http://a/", 1, "t", vec![]), Retention::default())
        .unwrap();
    exec(store, "UPDATE scans SET saved_unix = saved_unix - 10 * 86400");
    let days = Retention {
        keep: None,
        days: Some(7),
    };
    store.save(&report("http://a/", 2, "t", vec![]), days).unwrap();
    let scores: Vec<u8> = store
        .scans(Some("http://a/"), 100)
        .unwrap()
        .iter()
        .map(|s| s.score)
        .collect();
    assert_eq!(scores, [2]);
    let zero = Retention {
        keep: None,
        days: Some(0),
    };
    store.save(&report("http://a/", 3, "t", vec![]), zero).unwrap();
    assert_eq!(store.count().unwrap(), 1);
}

#[test]
fn diffs_sort_findings_into_new_resolved_and_unchanged() {
    let before = vec![
        finding("JWT001", Severity::Critical, "/a", "x"),
        finding("JWT005", Severity::Medium, "/t", "lifetime 3600 s"),
        finding("WEB004", Severity::Low, "/", "headers"),
    ];
    let after = vec![
        finding("JWT005", Severity::Medium, "/t", "lifetime 7200 s"),
        finding("WEB004", Severity::Low, "/", "headers"),
        finding("AUTH001", Severity::High, "/b", "open"),
    ];
    let d = diff(&before, &after);
    let codes = |v: &[authprobe_core::report::ReportFinding]| v.iter().map(|f| f.check.clone()).collect::<Vec<_>>();
    assert_eq!(codes(&d.new), ["AUTH001"]);
    assert_eq!(codes(&d.resolved), ["JWT001"]);
    assert_eq!(codes(&d.unchanged), ["WEB004", "JWT005"]);
}

#[test]
fn sparklines_scale_scores_to_eight_bars() {
    assert_eq!(sparkline(&[0, 50, 100, 200]), "▁▅██");
    assert_eq!(sparkline(&[]), "");
}

#[test]
fn an_identified_scan_is_saved_once_however_often_it_arrives() {
    for mut store in stores("uuid") {
        let r = report("http://a/", 80, "t", vec![finding("WEB004", Severity::Low, "/", "h")]);
        let first = store
            .save_identified(&r, "5f0c1d2e-0000-4000-8000-000000000001", Retention::default())
            .unwrap();
        assert!(first.created);
        let again = store
            .save_identified(&r, "5f0c1d2e-0000-4000-8000-000000000001", Retention::default())
            .unwrap();
        assert_eq!(
            again,
            Saved {
                id: first.id,
                created: false
            }
        );
        let other = store
            .save_identified(&r, "5f0c1d2e-0000-4000-8000-000000000002", Retention::default())
            .unwrap();
        assert!(other.created && other.id != first.id);
        assert_eq!(store.count().unwrap(), 2);
        assert_eq!(
            store.scan_by_uuid("5f0c1d2e-0000-4000-8000-000000000001").unwrap(),
            Some(first.id)
        );
        // Plain saves carry no UUID and never collide.
        store.save(&r, Retention::default()).unwrap();
        store.save(&r, Retention::default()).unwrap();
        assert_eq!(store.count().unwrap(), 4);
    }
}

#[test]
fn concurrent_uploads_of_one_scan_store_it_once() {
    for location in every_backend("uuidrace") {
        drop(Store::connect(&location).unwrap());
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let location = location.clone();
                std::thread::spawn(move || {
                    let mut store = Store::connect(&location).unwrap();
                    let r = report("http://a/", 80, "t", vec![]);
                    store.save_identified(&r, "same-uuid", Retention::default()).unwrap()
                })
            })
            .collect();
        let saved: Vec<Saved> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        assert_eq!(saved.iter().filter(|s| s.created).count(), 1, "{location}");
        assert!(saved.iter().all(|s| s.id == saved[0].id), "{location}");
        assert_eq!(Store::connect(&location).unwrap().count().unwrap(), 1);
    }
}

fn spec(target: &str, webhook: Option<&str>) -> MonitorSpec {
    MonitorSpec {
        target: target.into(),
        interval: Duration::from_secs(600),
        webhook: webhook.map(Into::into),
    }
}

const LEASE: Duration = Duration::from_secs(60);

#[test]
fn a_due_rescan_is_claimed_by_one_worker_and_completed_once() {
    for mut store in stores("lease") {
        store
            .register_monitors(&[spec("http://a/", None), spec("http://b/", None)])
            .unwrap();
        let first = store.claim_due_monitor("w1", LEASE).unwrap().unwrap();
        let second = store.claim_due_monitor("w2", LEASE).unwrap().unwrap();
        assert_ne!(first.target, second.target);
        // Both are leased now: nothing else is due.
        assert!(store.claim_due_monitor("w3", LEASE).unwrap().is_none());
        assert!(store.renew_lease(&first, LEASE).unwrap());
        let r = report(&first.target, 90, "t", vec![]);
        let done = store
            .complete_monitor_run(&first, &r, "run-1", Retention::default(), |_, _, _| None)
            .unwrap();
        assert!(matches!(done, RunOutcome::Saved { alert: false, .. }));
        // Completing again (a retry of the same run) is refused: the lease is gone.
        let again = store
            .complete_monitor_run(&first, &r, "run-1b", Retention::default(), |_, _, _| None)
            .unwrap();
        assert_eq!(again, RunOutcome::LeaseLost);
        let runs = store.monitor_runs().unwrap();
        assert_eq!(runs.len(), 1);
        assert_eq!(
            (runs[0].target.as_str(), runs[0].worker.as_str()),
            (first.target.as_str(), "w1")
        );
        // The next rescan is an interval after this one was due, and not yet due.
        let state = store.monitors().unwrap();
        let a = state.iter().find(|m| m.target == first.target).unwrap();
        assert_eq!(a.next_due_unix, first.due_unix + 600);
        assert_eq!(a.lease_owner, None);
        assert!(store.claim_due_monitor("w3", LEASE).unwrap().is_none());
        // Registering again keeps the schedule.
        store.register_monitors(&[spec("http://a/", None)]).unwrap();
        assert!(store.claim_due_monitor("w3", LEASE).unwrap().is_none());
    }
}

#[test]
fn a_monitor_taken_off_the_schedule_is_claimed_no_more_and_its_scans_stay() {
    for mut store in stores("remove") {
        store
            .register_monitors(&[spec("http://a/", None), spec("http://b/", None)])
            .unwrap();
        let now = store.database_time().unwrap();
        let lease = store.claim_due_monitor("w1", LEASE).unwrap().unwrap();
        let leased = store.monitors().unwrap();
        let row = leased.iter().find(|m| m.target == lease.target).unwrap();
        assert_eq!(row.lease_owner.as_deref(), Some("w1"));
        let until = row.lease_until_unix.unwrap();
        assert!((now + 59..=now + 62).contains(&until), "{until} against {now}");
        let r = report(&lease.target, 90, "t", vec![]);
        store
            .complete_monitor_run(&lease, &r, "run-1", Retention::default(), |_, _, _| None)
            .unwrap();

        let removed = store
            .remove_monitors(&[
                "http://a/".to_string(),
                "http://a/".to_string(),
                "http://z/".to_string(),
            ])
            .unwrap();
        assert_eq!(removed, ["http://a/"], "removed once; an unknown target is not on it");
        let left: Vec<String> = store.monitors().unwrap().into_iter().map(|m| m.target).collect();
        assert_eq!(left, ["http://b/"]);
        // The other one is still due; the removed one is never claimed again.
        let next = store.claim_due_monitor("w2", LEASE).unwrap();
        assert!(next.is_none_or(|l| l.target == "http://b/"));
        assert!(store.claim_due_monitor("w3", LEASE).unwrap().is_none());
        assert_eq!(store.monitor_runs().unwrap().len(), 1, "the run record stays");
        assert_eq!(store.scans(Some(&lease.target), 10).unwrap().len(), 1, "the scan stays");
    }
}

#[test]
fn a_dead_workers_lease_runs_out_and_another_worker_completes_the_rescan() {
    for mut store in stores("expiry") {
        store.register_monitors(&[spec("http://a/", None)]).unwrap();
        let dead = store.claim_due_monitor("dead", LEASE).unwrap().unwrap();
        assert!(store.claim_due_monitor("live", LEASE).unwrap().is_none());
        // The dead worker stops renewing; its lease runs out.
        exec(
            &mut store,
            "UPDATE monitors SET lease_until_unix = lease_until_unix - 120",
        );
        let live = store.claim_due_monitor("live", LEASE).unwrap().unwrap();
        assert_eq!((live.target.as_str(), live.due_unix), ("http://a/", dead.due_unix));
        // The dead one wakes up: it can neither renew nor complete.
        assert!(!store.renew_lease(&dead, LEASE).unwrap());
        let r = report("http://a/", 90, "t", vec![]);
        let lost = store
            .complete_monitor_run(&dead, &r, "dead-run", Retention::default(), |_, _, _| None)
            .unwrap();
        assert_eq!(lost, RunOutcome::LeaseLost);
        let saved = store
            .complete_monitor_run(&live, &r, "live-run", Retention::default(), |_, _, _| None)
            .unwrap();
        assert!(matches!(saved, RunOutcome::Saved { .. }));
        assert_eq!(store.count().unwrap(), 1);
        let runs = store.monitor_runs().unwrap();
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].worker, "live");
    }
}

#[test]
fn a_failed_scan_gives_its_lease_back_for_a_later_try() {
    for mut store in stores("release") {
        store.register_monitors(&[spec("http://a/", None)]).unwrap();
        let lease = store.claim_due_monitor("w1", LEASE).unwrap().unwrap();
        store.release_lease(&lease, Duration::from_secs(1)).unwrap();
        std::thread::sleep(Duration::from_millis(2100));
        let retry = store.claim_due_monitor("w2", LEASE).unwrap().unwrap();
        assert_eq!(retry.due_unix, lease.due_unix);
    }
}

#[test]
fn a_regression_queues_one_alert_that_one_worker_sends() {
    for mut store in stores("alerts") {
        store
            .register_monitors(&[spec("http://a/", Some("http://127.0.0.1:9/hook"))])
            .unwrap();
        let targets = vec!["http://a/".to_string()];
        let lease = store.claim_due_monitor("w1", LEASE).unwrap().unwrap();
        // The first scan has nothing to compare with: no alert.
        let first = store
            .complete_monitor_run(
                &lease,
                &report("http://a/", 95, "t", vec![]),
                "u1",
                Retention::default(),
                |_, _, _| Some("never".into()),
            )
            .unwrap();
        assert!(matches!(first, RunOutcome::Saved { alert: false, .. }));
        exec(&mut store, "UPDATE monitors SET next_due_unix = next_due_unix - 601");
        let lease = store.claim_due_monitor("w1", LEASE).unwrap().unwrap();
        let mut seen = None;
        let second = store
            .complete_monitor_run(
                &lease,
                &report("http://a/", 40, "t", vec![]),
                "u2",
                Retention::default(),
                |prev, before, id| {
                    seen = Some((prev, before.score, id));
                    Some(format!("{{\"scan_id\":{id}}}"))
                },
            )
            .unwrap();
        let RunOutcome::Saved { scan_id, alert: true } = second else {
            panic!("{second:?}");
        };
        assert_eq!(seen.map(|(_, score, id)| (score, id)), Some((95, scan_id)));
        let claimed = store.claim_alert(&targets, LEASE).unwrap().unwrap();
        assert_eq!((claimed.scan_id, claimed.attempts), (scan_id, 1));
        assert_eq!(claimed.body, format!("{{\"scan_id\":{scan_id}}}"));
        // Claimed: no other worker gets it meanwhile, nor does a worker without its secret.
        assert!(store.claim_alert(&targets, LEASE).unwrap().is_none());
        store
            .alert_failed(scan_id, "connection refused", Duration::from_secs(1))
            .unwrap();
        assert!(store
            .claim_alert(&["http://other/".to_string()], LEASE)
            .unwrap()
            .is_none());
        std::thread::sleep(Duration::from_millis(2100));
        let retry = store.claim_alert(&targets, LEASE).unwrap().unwrap();
        assert_eq!(retry.attempts, 2);
        store.alert_sent(scan_id).unwrap();
        assert!(store.claim_alert(&targets, LEASE).unwrap().is_none());
        assert_eq!(store.alerts().unwrap(), [(scan_id, true)]);
    }
}

#[test]
fn workers_racing_for_due_rescans_each_get_different_ones() {
    for location in every_backend("race") {
        let mut store = Store::connect(&location).unwrap();
        let specs: Vec<MonitorSpec> = (0..30).map(|i| spec(&format!("http://t{i}/"), None)).collect();
        store.register_monitors(&specs).unwrap();
        let threads: Vec<_> = (0..5)
            .map(|w| {
                let location = location.clone();
                std::thread::spawn(move || {
                    let mut store = Store::connect(&location).unwrap();
                    let mut mine = Vec::new();
                    while let Some(lease) = store.claim_due_monitor(&format!("w{w}"), LEASE).unwrap() {
                        let r = report(&lease.target, 90, "t", vec![]);
                        let uuid = format!("{}-{}", lease.target, lease.due_unix);
                        let outcome = store
                            .complete_monitor_run(&lease, &r, &uuid, Retention::default(), |_, _, _| None)
                            .unwrap();
                        assert!(matches!(outcome, RunOutcome::Saved { .. }));
                        mine.push(lease.target);
                    }
                    mine
                })
            })
            .collect();
        let mut all: Vec<String> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
        all.sort();
        let before = all.len();
        all.dedup();
        assert_eq!((before, all.len()), (30, 30), "{location}");
        assert_eq!(store.monitor_runs().unwrap().len(), 30);
        assert_eq!(store.count().unwrap(), 30);
    }
}

#[test]
fn a_postgres_connection_the_server_closed_is_opened_again() {
    let Some(location) = fresh_postgres("store_heal") else {
        return;
    };
    let mut store = Store::connect(&location).unwrap();
    store
        .save(&report("http://a/", 90, "t", vec![]), Retention::default())
        .unwrap();
    let pid = store.conn.query("SELECT pg_backend_pid()", &[]).unwrap()[0]
        .int(0)
        .unwrap();
    let Location::Postgres(url) = &location else {
        unreachable!()
    };
    let mut admin = location::connect_postgres(url).unwrap();
    admin
        .execute("SELECT pg_terminate_backend($1)", &[&(pid as i32)])
        .unwrap();
    // Terminating is asynchronous: wait until the backend is gone.
    while !admin
        .query("SELECT 1 FROM pg_stat_activity WHERE pid = $1", &[&(pid as i32)])
        .unwrap()
        .is_empty()
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    // The driver learns of the close on its next call, which fails; the one after heals.
    let _ = store.count();
    assert_eq!(store.count().unwrap(), 1);
}

#[test]
fn schedule_times_read_in_their_two_largest_units_and_a_lease_that_ran_out_is_nobodys() {
    assert_eq!(crate::span_text(86_400), "1d");
    assert_eq!(crate::span_text(90_061), "1d 1h");
    assert_eq!(crate::span_text(3_599), "59m 59s");
    assert_eq!(crate::span_text(3_601), "1h");
    assert_eq!(crate::span_text(45), "45s");
    assert_eq!(crate::span_text(0), "0s");
    let m = crate::MonitorState {
        target: "http://a/".into(),
        interval_secs: 60,
        next_due_unix: 1_000,
        lease_owner: Some("w1".into()),
        lease_until_unix: Some(1_050),
        last_scan_id: None,
    };
    assert_eq!(m.due_text(1_000), "due now");
    assert_eq!(m.due_text(880), "in 2m");
    assert_eq!(m.due_text(8_260), "overdue 2h 1m");
    assert_eq!(m.live_lease(1_050), Some("w1"));
    assert_eq!(m.live_lease(1_051), None);
}

/// Whether the server encrypted this connection (Postgres' own view of it).
fn encrypted(url: &str) -> Result<bool, crate::backend::DbError> {
    let mut client = crate::location::connect_postgres(url)?;
    let row = client
        .query_one("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", &[])
        .map_err(crate::backend::DbError::from)?;
    Ok(row.get(0))
}

/// `AUTHPROBE_TEST_POSTGRES_CA`: the CA that signed the test server's certificate, which
/// names `localhost` only (`scripts/pg-throwaway.sh`; `.ci/run` sets it).
#[test]
fn postgres_connections_are_encrypted_unless_disabled_and_checked_as_sslmode_asks() {
    let Some(admin) = std::env::var("AUTHPROBE_TEST_POSTGRES").ok().filter(|v| !v.is_empty()) else {
        return;
    };
    let Some(ca) = std::env::var("AUTHPROBE_TEST_POSTGRES_CA")
        .ok()
        .filter(|v| !v.is_empty())
    else {
        assert!(
            std::env::var("AUTHPROBE_REQUIRE_POSTGRES").ok().as_deref() != Some("1"),
            "AUTHPROBE_REQUIRE_POSTGRES=1 but AUTHPROBE_TEST_POSTGRES_CA is not set"
        );
        return;
    };
    let with = |query: &str| {
        let mut url = url::Url::parse(&admin).unwrap();
        url.set_query(Some(query));
        url.to_string()
    };
    let by_name = |query: &str| {
        let mut url = url::Url::parse(&with(query)).unwrap();
        url.set_host(Some("localhost")).unwrap();
        url.to_string()
    };
    let ca_param = format!("sslrootcert={ca}");
    // The default, like libpq's `prefer`: encrypted, since the server takes TLS.
    assert!(encrypted(&admin).unwrap());
    assert!(!encrypted(&with("sslmode=disable")).unwrap());
    assert!(encrypted(&with("sslmode=require")).unwrap());
    // The certificate names localhost: verify-full by that name, verify-ca by address.
    assert!(encrypted(&by_name(&format!("sslmode=verify-full&{ca_param}"))).unwrap());
    assert!(encrypted(&with(&format!("sslmode=verify-ca&{ca_param}"))).unwrap());
    let wrong_name = encrypted(&with(&format!("sslmode=verify-full&{ca_param}"))).unwrap_err();
    assert!(wrong_name.to_string().contains("certificate"), "{wrong_name}");
    // Without the CA, the Mozilla roots do not vouch for a throwaway certificate.
    let untrusted = encrypted(&by_name("sslmode=verify-full")).unwrap_err();
    assert!(untrusted.to_string().contains("certificate"), "{untrusted}");
    // And the store itself works over it.
    let Some(Location::Postgres(db)) = fresh_postgres("store_tls") else {
        panic!("a Postgres test database")
    };
    let mut db = url::Url::parse(&db).unwrap();
    db.set_query(Some(&format!("sslmode=verify-ca&{ca_param}")));
    let mut store = Store::connect(&Location::Postgres(db.to_string())).unwrap();
    store.register_monitors(&[]).unwrap();
    assert!(store.monitors().unwrap().is_empty());
}

#[test]
fn scans_opening_a_new_history_at_the_same_instant_both_get_it() {
    for round in 0..20 {
        let path = temp_db(&format!("same-instant-{round}"));
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(4));
        let openers: Vec<_> = (0..4)
            .map(|_| {
                let (path, barrier) = (path.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    Store::open(&path).map(|_| ()).map_err(|e| e.to_string())
                })
            })
            .collect();
        for opener in openers {
            opener.join().unwrap().unwrap();
        }
    }
}
