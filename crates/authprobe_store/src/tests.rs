use super::*;
use crate::fixtures::{finding, report};

fn temp_db(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("authprobe-store-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir.join("nested/history.db")
}

#[test]
fn a_fresh_database_is_created_and_migrated_to_the_newest_schema() {
    let path = temp_db("fresh");
    let store = Store::open(&path).unwrap();
    assert!(path.exists());
    assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as i64);
    drop(store);
    // Reopening runs no migration twice.
    let store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as i64);
    assert_eq!(store.count().unwrap(), 0);
}

#[test]
fn a_database_from_a_newer_authprobe_is_refused() {
    let path = temp_db("newer");
    drop(Store::open(&path).unwrap());
    let conn = Connection::open(&path).unwrap();
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
    let mut store = Store::open(&temp_db("roundtrip")).unwrap();
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
    let mut store = Store::open(&temp_db("targets")).unwrap();
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
    let mut store = Store::open(&temp_db("keep")).unwrap();
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
    let rows: i64 = store
        .conn
        .query_row("SELECT COUNT(*) FROM category_scores", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 4 * 4);
}

#[test]
fn retention_by_days_drops_old_scans_but_never_the_new_one() {
    let mut store = Store::open(&temp_db("days")).unwrap();
    store
        .save(&report("http://a/", 1, "t", vec![]), Retention::default())
        .unwrap();
    store
        .conn
        .execute("UPDATE scans SET saved_unix = saved_unix - 10 * 86400", [])
        .unwrap();
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
