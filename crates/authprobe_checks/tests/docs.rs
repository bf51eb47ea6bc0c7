//! `docs/checks/` is generated from the registry's doc comments. This test fails when a
//! page is stale, missing or orphaned; with `UPDATE_DOCS=1` it rewrites them instead.

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

use authprobe_checks::docs::{page_name, render_check, render_index, REGENERATE};
use authprobe_checks::ALL;

fn docs_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/checks")
}

/// Every generated page, file name -> expected contents.
fn expected_pages() -> BTreeMap<String, String> {
    let mut pages: BTreeMap<String, String> = ALL
        .iter()
        .map(|check| (page_name(*check), render_check(*check)))
        .collect();
    pages.insert("README.md".to_string(), render_index());
    pages
}

/// Markdown files in `docs/checks/` that no check generates.
fn orphans(expected: &BTreeMap<String, String>) -> Vec<String> {
    let Ok(entries) = fs::read_dir(docs_dir()) else {
        return Vec::new();
    };
    let mut orphans: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".md") && !expected.contains_key(name))
        .collect();
    orphans.sort();
    orphans
}

#[test]
fn check_docs_are_generated_from_the_registry() {
    let dir = docs_dir();
    let expected = expected_pages();

    if std::env::var_os("UPDATE_DOCS").is_some_and(|v| v != "0" && !v.is_empty()) {
        fs::create_dir_all(&dir).expect("create docs/checks");
        for (name, contents) in &expected {
            let path = dir.join(name);
            if fs::read_to_string(&path).ok().as_deref() != Some(contents.as_str()) {
                fs::write(&path, contents).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
            }
        }
        for name in orphans(&expected) {
            fs::remove_file(dir.join(&name)).unwrap_or_else(|e| panic!("remove docs/checks/{name}: {e}"));
        }
        return;
    }

    let mut problems = Vec::new();
    for (name, contents) in &expected {
        match fs::read_to_string(dir.join(name)) {
            Ok(actual) if actual == *contents => {}
            Ok(_) => problems.push(format!("docs/checks/{name} is stale")),
            Err(_) => problems.push(format!("docs/checks/{name} is missing")),
        }
    }
    for name in orphans(&expected) {
        problems.push(format!("docs/checks/{name} belongs to no check"));
    }
    let report: Vec<String> = problems.iter().map(|p| format!("{p}: run `{REGENERATE}`")).collect();
    assert!(problems.is_empty(), "\n{}", report.join("\n"));
}
