//! `--checks` and `--exclude-checks`: which checks a scan runs. Names are codes (`JWT003`),
//! slugs (`jwt-weak-secret`) or categories (`jwt`), case-insensitive. The checks left out
//! still appear in the report, skipped as "not selected".

use anyhow::{bail, Result};
use authprobe_core::check::Family;
use std::collections::BTreeSet;

/// The codes of the checks that `include` (everything when empty) minus `exclude` leaves
/// out. `source` names where the lists came from, for errors (`--checks`, `[scan] checks`).
pub fn unselected(include: &[String], exclude: &[String], source: &str) -> Result<BTreeSet<String>> {
    let all: Vec<&'static str> = authprobe_checks::all().iter().map(|c| c.meta().code).collect();
    let mut selected: BTreeSet<&str> = if names(include).next().is_none() {
        all.iter().copied().collect()
    } else {
        BTreeSet::new()
    };
    for name in names(include) {
        selected.extend(resolve(name, source)?);
    }
    for name in names(exclude) {
        for code in resolve(name, source)? {
            selected.remove(code);
        }
    }
    if selected.is_empty() {
        bail!("{source} leave no check to run; `authprobe checks` lists them all");
    }
    Ok(all
        .into_iter()
        .filter(|c| !selected.contains(c))
        .map(String::from)
        .collect())
}

fn names(list: &[String]) -> impl Iterator<Item = &str> {
    list.iter().map(|n| n.trim()).filter(|n| !n.is_empty())
}

/// The codes a name stands for: one check, or every check of a category.
fn resolve(name: &str, source: &str) -> Result<Vec<&'static str>> {
    if let Some(check) = authprobe_checks::by_code(name) {
        return Ok(vec![check.meta().code]);
    }
    if let Some(family) = Family::ALL.iter().find(|f| f.name().eq_ignore_ascii_case(name)) {
        return Ok(authprobe_checks::all()
            .iter()
            .filter(|c| c.meta().family == *family)
            .map(|c| c.meta().code)
            .collect());
    }
    match closest(name) {
        Some(known) => bail!(
            "{source}: no check or category `{name}`; the closest is `{known}` (`authprobe checks` lists them all)"
        ),
        None => bail!("{source}: no check or category `{name}`; `authprobe checks` lists them all"),
    }
}

/// The known name (code, slug or category) nearest to `name` by edit distance.
pub fn closest(name: &str) -> Option<String> {
    let wanted = name.to_ascii_lowercase();
    let mut known: Vec<String> = Vec::new();
    for check in authprobe_checks::all() {
        known.push(check.meta().code.to_string());
        known.push(check.meta().slug.to_string());
    }
    known.extend(Family::ALL.iter().map(|f| f.name().to_string()));
    known
        .into_iter()
        .map(|k| (edit_distance(&wanted, &k.to_ascii_lowercase()), k))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Levenshtein distance, by characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1).min(row[j] + 1).min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn codes_slugs_and_categories_select_checks() {
        let left_out = unselected(&list(&["jwt003", "django-debug"]), &[], "--checks").unwrap();
        assert!(!left_out.contains("JWT003") && !left_out.contains("DJ001"));
        assert_eq!(left_out.len(), authprobe_checks::all().len() - 2);
        let left_out = unselected(&list(&["jwt"]), &list(&["JWT003"]), "--checks").unwrap();
        assert!(left_out.contains("JWT003") && !left_out.contains("JWT001") && left_out.contains("DJ001"));
        assert_eq!(unselected(&[], &[], "--checks").unwrap(), BTreeSet::new());
        let left_out = unselected(&[], &list(&["session"]), "--exclude-checks").unwrap();
        assert!(left_out.iter().all(|c| c.starts_with("SESS")), "{left_out:?}");
    }

    #[test]
    fn unknown_names_suggest_the_closest_known_one() {
        let err = unselected(&list(&["JWT03"]), &[], "--checks").unwrap_err().to_string();
        assert!(err.contains("no check or category `JWT03`"), "{err}");
        assert!(err.contains("the closest is `JWT003`"), "{err}");
        let err = unselected(&[], &list(&["jwt-weak-secrt"]), "--exclude-checks")
            .unwrap_err()
            .to_string();
        assert!(err.contains("`jwt-weak-secret`"), "{err}");
        let err = unselected(&list(&["JWT003"]), &list(&["jwt"]), "--checks/--exclude-checks")
            .unwrap_err()
            .to_string();
        assert!(err.contains("leave no check"), "{err}");
    }
}
