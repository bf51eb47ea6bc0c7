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

/// A validated `[[ignore]]` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Ignore {
    /// The check code.
    pub check: String,
    pub endpoint: Option<String>,
    pub reason: String,
    pub expires: Option<Date>,
}

/// Validates the `[[ignore]]` entries against the catalog and `today`. An unknown check,
/// an empty reason, a malformed date or an expired entry is an error.
pub fn ignores(entries: Vec<FileIgnore>, today: Date) -> Result<Vec<Ignore>> {
    let date_format = time::macros::format_description!("[year]-[month]-[day]");
    entries
        .into_iter()
        .map(|e| {
            let check = authprobe_checks::by_code(&e.check)
                .ok_or_else(|| anyhow!("[[ignore]]: no check `{}`; `authprobe checks` lists them all", e.check))?
                .meta()
                .code
                .to_string();
            let place = match &e.endpoint {
                Some(endpoint) => format!("{check} at {endpoint}"),
                None => check.clone(),
            };
            if e.reason.trim().is_empty() {
                bail!("[[ignore]] {place}: the reason is empty; say why the finding is accepted");
            }
            let expires = e
                .expires
                .as_deref()
                .map(|raw| {
                    Date::parse(raw.trim(), date_format)
                        .with_context(|| format!("[[ignore]] {place}: expires `{raw}` is not a YYYY-MM-DD date"))
                })
                .transpose()?;
            if let Some(date) = expires.filter(|d| *d < today) {
                bail!(
                    "[[ignore]] {place} expired on {date} (reason: {}); fix the finding, or renew or remove the entry",
                    e.reason.trim()
                );
            }
            Ok(Ignore {
                check,
                endpoint: e.endpoint,
                reason: e.reason.trim().to_string(),
                expires,
            })
        })
        .collect()
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
        let location = baseline::location(&finding.endpoint, &target);
        let path = location.split('?').next().unwrap_or(&location);
        let matched = ignores.iter().find(|i| {
            i.check == finding.check
                && i.endpoint
                    .as_deref()
                    .is_none_or(|e| e == finding.endpoint || e == location || path_matches(e, path))
        });
        if let Some(ignore) = matched {
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
        )
        .unwrap();
        assert_eq!(ok[0].check, "JWT003", "slugs resolve to codes");
        let err = ignores(
            vec![entry("JWT003", Some("/api/token/"), "rotating", Some("2026-11-22"))],
            today,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("JWT003 at /api/token/ expired on 2026-11-22"), "{err}");
        assert!(err.contains("rotating"), "{err}");
    }

    #[test]
    fn bad_entries_are_errors() {
        let today = day("2026-11-23");
        let err = |e| ignores(vec![e], today).unwrap_err().to_string();
        assert!(err(entry("NOPE1", None, "x", None)).contains("no check `NOPE1`"));
        assert!(err(entry("DJ001", None, "  ", None)).contains("reason is empty"));
        assert!(err(entry("DJ001", None, "x", Some("31/12/2030"))).contains("not a YYYY-MM-DD date"));
    }
}
