//! What the gate counts: `[[ignore]]` suppressions and the `--baseline` comparison, applied
//! to a finished report before it is written.
//!
//! - A suppressed finding stays in every format, marked with its reason, but it counts for
//!   neither the score (score, grade and categories are recomputed without it) nor the gate.
//! - With a baseline, `--fail-on` counts only findings that are new since the baseline;
//!   `--min-score` fails only when the score is below N *and* below the baseline's score.

use anyhow::{anyhow, bail, Context, Result};
use authprobe_core::baseline;
use authprobe_core::config::{path_matches, FileIgnore};
use authprobe_core::report::{BaselineState, BaselineSummary, Report};
use std::path::Path;
use time::{Date, OffsetDateTime};

use crate::config_file::{ConfigFile, Place};

/// A validated `[[ignore]]` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Ignore {
    /// The check code.
    pub check: String,
    pub endpoint: Option<String>,
    pub reason: String,
    pub expires: Option<Date>,
    /// Where the entry is (`authprobe.toml:12:1`), when it came from a file.
    pub at: Option<String>,
}

impl Ignore {
    /// `DJ002 at /admin/*`, or `DJ002`.
    fn describe(&self) -> String {
        match &self.endpoint {
            Some(endpoint) => format!("{} at {endpoint}", self.check),
            None => self.check.clone(),
        }
    }

    /// Whether the entry accepts this finding of a report of `target`.
    fn matches(&self, finding: &authprobe_core::report::ReportFinding, target: &str) -> bool {
        if self.check != finding.check {
            return false;
        }
        let Some(pattern) = self.endpoint.as_deref() else {
            return true;
        };
        let location = baseline::location(&finding.endpoint, target);
        let path = location.split('?').next().unwrap_or(&location);
        pattern == finding.endpoint || pattern == location || path_matches(pattern, path)
    }
}

/// Validates the `[[ignore]]` entries against the catalog and `today`. An unknown check,
/// an empty reason, a malformed date or an expired entry is an error, which names its
/// place in `file`.
pub fn ignores(entries: Vec<FileIgnore>, today: Date, file: Option<&ConfigFile>) -> Result<Vec<Ignore>> {
    let date_format = time::macros::format_description!("[year]-[month]-[day]");
    let locate = |index: usize, key: Option<&str>, err: anyhow::Error| match file {
        Some(f) => f.error(Place::entry("ignore", index, key), err),
        None => err,
    };
    entries
        .into_iter()
        .enumerate()
        .map(|(index, e)| {
            let check = authprobe_checks::by_code(&e.check)
                .ok_or_else(|| {
                    let hint = match crate::selection::closest(&e.check) {
                        Some(known) => format!("the closest is `{known}` (`authprobe checks` lists them all)"),
                        None => "`authprobe checks` lists them all".into(),
                    };
                    locate(
                        index,
                        Some("check"),
                        anyhow!("[[ignore]]: no check `{}`; {hint}", e.check),
                    )
                })?
                .meta()
                .code
                .to_string();
            let place = match &e.endpoint {
                Some(endpoint) => format!("{check} at {endpoint}"),
                None => check.clone(),
            };
            if e.reason.trim().is_empty() {
                return Err(locate(
                    index,
                    Some("reason"),
                    anyhow!("[[ignore]] {place}: the reason is empty; say why the finding is accepted"),
                ));
            }
            let expires = e
                .expires
                .as_deref()
                .map(|raw| {
                    Date::parse(raw.trim(), date_format).map_err(|_| {
                        locate(
                            index,
                            Some("expires"),
                            anyhow!("[[ignore]] {place}: expires `{raw}` is not a YYYY-MM-DD date"),
                        )
                    })
                })
                .transpose()?;
            if let Some(date) = expires.filter(|d| *d < today) {
                return Err(locate(
                    index,
                    Some("expires"),
                    anyhow!(
                        "[[ignore]] {place} expired on {date} (reason: {}); fix the finding, or renew or remove the entry",
                        e.reason.trim()
                    ),
                ));
            }
            Ok(Ignore {
                check,
                endpoint: e.endpoint,
                reason: e.reason.trim().to_string(),
                expires,
                at: file.map(|f| f.at(Place::entry("ignore", index, None))),
            })
        })
        .collect()
}

/// Says which `[[ignore]]` entries matched no finding of `report`: a warning on standard
/// error for each; with `strict` (`--strict-config`), an error when the entry's check
/// ran (an entry whose check was skipped could not have matched, and stays a warning).
pub fn check_unused(report: &Report, ignores: &[Ignore], strict: bool) -> Result<()> {
    let target = report.target.url.clone();
    let mut stale = Vec::new();
    for ignore in ignores {
        if report.findings.iter().any(|f| ignore.matches(f, &target)) {
            continue;
        }
        let at = ignore.at.as_deref().map(|a| format!("{a}: ")).unwrap_or_default();
        let skipped = report.checks_skipped.iter().find(|s| s.check == ignore.check);
        match skipped {
            Some(s) => eprintln!(
                "warning: {at}[[ignore]] {} matched no finding: {} did not run ({})",
                ignore.describe(),
                ignore.check,
                s.reason
            ),
            None => {
                eprintln!(
                    "warning: {at}[[ignore]] {} matched no finding; remove the entry, or fix its check or endpoint pattern",
                    ignore.describe()
                );
                stale.push(format!("{at}[[ignore]] {}", ignore.describe()));
            }
        }
    }
    if strict && !stale.is_empty() && !report.incomplete {
        bail!(
            "--strict-config: {} matched no finding although the check ran",
            stale.join("; ")
        );
    }
    Ok(())
}

/// Today's date in UTC (the day an `expires` date is compared with).
pub fn today() -> Date {
    OffsetDateTime::now_utc().date()
}

/// Marks the findings an entry matches as suppressed and rescores the report when any was.
pub fn suppress(report: &mut Report, ignores: &[Ignore]) {
    let target = report.target.url.clone();
    let mut any = false;
    for finding in &mut report.findings {
        if let Some(ignore) = ignores.iter().find(|i| i.matches(finding, &target)) {
            finding.suppressed = true;
            finding.suppression_reason = Some(ignore.reason.clone());
            any = true;
        }
    }
    if any {
        let categories = crate::check_categories();
        report.rescore(|code| categories.get(code).cloned());
    }
}

/// Reads a JSON report of an earlier scan (`--baseline`, `authprobe diff`).
pub fn load_report(path: &Path) -> Result<Report> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read the report {}", path.display()))?;
    let report: Report = serde_json::from_str(&text).map_err(|e| {
        anyhow!(
            "{} is not an authprobe JSON report (--format json): {e}",
            path.display()
        )
    })?;
    if report.schema != authprobe_core::report::SCHEMA {
        bail!(
            "{} has schema `{}`, expected `{}`",
            path.display(),
            report.schema,
            authprobe_core::report::SCHEMA
        );
    }
    Ok(report)
}

/// Marks each finding `new` or `unchanged` against `old` and records the summary.
pub fn compare_with_baseline(report: &mut Report, old: &Report) {
    let comparison = baseline::compare(old, report);
    for &n in &comparison.new {
        report.findings[n].baseline = Some(BaselineState::New);
    }
    for &(_, n) in &comparison.unchanged {
        report.findings[n].baseline = Some(BaselineState::Unchanged);
    }
    report.baseline = Some(BaselineSummary {
        score: old.score,
        new: comparison.new.len(),
        unchanged: comparison.unchanged.len(),
        resolved: comparison.resolved.len(),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(check: &str, endpoint: Option<&str>, reason: &str, expires: Option<&str>) -> FileIgnore {
        FileIgnore {
            check: check.into(),
            endpoint: endpoint.map(Into::into),
            reason: reason.into(),
            expires: expires.map(Into::into),
        }
    }

    fn day(text: &str) -> Date {
        Date::parse(text, time::macros::format_description!("[year]-[month]-[day]")).unwrap()
    }

    #[test]
    fn an_entry_is_valid_through_its_expiry_date() {
        let today = day("2026-11-23");
        let ok = ignores(
            vec![entry("jwt-weak-secret", None, "rotating", Some("2026-11-23"))],
            today,
            None,
        )
        .unwrap();
        assert_eq!(ok[0].check, "JWT003", "slugs resolve to codes");
        let err = ignores(
            vec![entry("JWT003", Some("/api/token/"), "rotating", Some("2026-11-22"))],
            today,
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("JWT003 at /api/token/ expired on 2026-11-22"), "{err}");
        assert!(err.contains("rotating"), "{err}");
    }

    #[test]
    fn bad_entries_are_errors() {
        let today = day("2026-11-23");
        let err = |e| ignores(vec![e], today, None).unwrap_err().to_string();
        assert!(err(entry("NOPE1", None, "x", None)).contains("no check `NOPE1`"));
        assert!(err(entry("DJ001", None, "  ", None)).contains("reason is empty"));
        assert!(err(entry("DJ001", None, "x", Some("31/12/2030"))).contains("not a YYYY-MM-DD date"));
    }
}
