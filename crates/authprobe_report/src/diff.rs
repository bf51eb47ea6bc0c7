//! `authprobe diff OLD.json NEW.json`: what changed between two scans — new, resolved and
//! unchanged findings (paired by [`authprobe_core::baseline::compare`]) and the score
//! change — as terminal text, Markdown or JSON (`authprobe.diff/v1`).

use authprobe_core::baseline::{compare, Comparison};
use authprobe_core::report::ReportFinding;
use authprobe_core::Report;
use serde_json::json;
use std::fmt::Write as _;

use crate::markdown::md;

/// The schema name of the JSON diff.
pub const SCHEMA: &str = "authprobe.diff/v1";

/// Two reports and how their findings pair up.
pub struct Diff<'a> {
    pub old: &'a Report,
    pub new: &'a Report,
    pub comparison: Comparison,
}

impl<'a> Diff<'a> {
    pub fn new(old: &'a Report, new: &'a Report) -> Self {
        Diff {
            old,
            new,
            comparison: compare(old, new),
        }
    }

    /// The score change, new minus old.
    pub fn score_change(&self) -> i32 {
        i32::from(self.new.score) - i32::from(self.old.score)
    }

    pub fn new_findings(&self) -> Vec<&'a ReportFinding> {
        self.comparison.new.iter().map(|&n| &self.new.findings[n]).collect()
    }

    pub fn resolved_findings(&self) -> Vec<&'a ReportFinding> {
        self.comparison
            .resolved
            .iter()
            .map(|&o| &self.old.findings[o])
            .collect()
    }

    /// Unchanged findings as the new report states them.
    pub fn unchanged_findings(&self) -> Vec<&'a ReportFinding> {
        let mut indices: Vec<usize> = self.comparison.unchanged.iter().map(|&(_, n)| n).collect();
        indices.sort_unstable();
        indices.into_iter().map(|n| &self.new.findings[n]).collect()
    }

    fn change_text(&self) -> String {
        let change = self.score_change();
        let sign = if change > 0 { "+" } else { "" };
        format!(
            "score {} → {} ({sign}{change}), grade {} → {}",
            self.old.score, self.new.score, self.old.grade, self.new.grade
        )
    }

    fn counts_text(&self) -> String {
        format!(
            "{} new, {} resolved, {} unchanged",
            self.comparison.new.len(),
            self.comparison.resolved.len(),
            self.comparison.unchanged.len()
        )
    }
}

/// Terminal text.
pub fn pretty(diff: &Diff<'_>) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "authprobe diff: {}", diff.change_text());
    let _ = writeln!(out, "old {} ({})", diff.old.target.url, diff.old.finished_at);
    let _ = writeln!(out, "new {} ({})", diff.new.target.url, diff.new.finished_at);
    let _ = writeln!(out, "{}", diff.counts_text());
    for (label, findings) in [
        ("New", diff.new_findings()),
        ("Resolved", diff.resolved_findings()),
        ("Unchanged", diff.unchanged_findings()),
    ] {
        if findings.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{label}:");
        for f in findings {
            let _ = writeln!(
                out,
                "  {:<9} {:<9} {}  {}{}",
                f.severity.as_str().to_uppercase(),
                f.check,
                f.endpoint,
                f.title,
                if f.suppressed { "  [suppressed]" } else { "" }
            );
        }
    }
    out
}

/// Markdown for a pull-request comment; target-controlled text is escaped.
pub fn markdown(diff: &Diff<'_>) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "## authprobe diff: {}\n", md(&diff.change_text()));
    let _ = writeln!(out, "**{}**\n", diff.counts_text());
    let table = |out: &mut String, findings: &[&ReportFinding]| {
        out.push_str("| Severity | Check | Endpoint | Title |\n|---|---|---|---|\n");
        for f in findings {
            let suppressed = if f.suppressed { " (suppressed)" } else { "" };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {}{suppressed} |",
                f.severity,
                md(&f.check),
                md(&f.endpoint),
                md(&f.title)
            );
        }
        out.push('\n');
    };
    for (label, findings) in [("New", diff.new_findings()), ("Resolved", diff.resolved_findings())] {
        if !findings.is_empty() {
            let _ = writeln!(out, "### {label} ({})\n", findings.len());
            table(&mut out, &findings);
        }
    }
    let unchanged = diff.unchanged_findings();
    if !unchanged.is_empty() {
        let _ = writeln!(out, "<details>\n<summary>Unchanged ({})</summary>\n", unchanged.len());
        table(&mut out, &unchanged);
        out.push_str("</details>\n");
    }
    out
}

/// The `authprobe.diff/v1` JSON document.
pub fn json(diff: &Diff<'_>) -> String {
    let side = |r: &Report| {
        json!({
            "target": r.target.url,
            "finished_at": r.finished_at,
            "score": r.score,
            "grade": r.grade,
        })
    };
    let value = json!({
        "schema": SCHEMA,
        "old": side(diff.old),
        "new": side(diff.new),
        "score_change": diff.score_change(),
        "findings": {
            "new": diff.new_findings(),
            "resolved": diff.resolved_findings(),
            "unchanged": diff.unchanged_findings(),
        },
    });
    let mut out = serde_json::to_string_pretty(&value).expect("a diff always serializes");
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::sample;

    fn pair() -> (Report, Report) {
        let old = sample();
        let mut new = sample();
        new.score = 59;
        new.grade = "F".into();
        new.target.url = "http://127.0.0.1:9999/".into();
        // DJ002 resolved; DJ001 unchanged (same place on another port); one new finding.
        new.findings.truncate(1);
        let mut added = new.findings[0].clone();
        added.check = "JWT001".into();
        added.title = "alg none <b>accepted</b>".into();
        added.endpoint = "/api/token/".into();
        new.findings.push(added);
        (old, new)
    }

    #[test]
    fn findings_are_new_resolved_or_unchanged() {
        let (old, new) = pair();
        let diff = Diff::new(&old, &new);
        assert_eq!(diff.score_change(), -21);
        let codes = |fs: Vec<&ReportFinding>| fs.iter().map(|f| f.check.clone()).collect::<Vec<_>>();
        assert_eq!(codes(diff.new_findings()), ["JWT001"]);
        assert_eq!(codes(diff.resolved_findings()), ["DJ002"]);
        assert_eq!(codes(diff.unchanged_findings()), ["DJ001"]);
    }

    #[test]
    fn every_format_states_the_change() {
        let (old, new) = pair();
        let diff = Diff::new(&old, &new);
        let text = pretty(&diff);
        assert!(
            text.starts_with("authprobe diff: score 80 → 59 (-21), grade B → F\n"),
            "{text}"
        );
        assert!(text.contains("1 new, 1 resolved, 1 unchanged"));
        let md_text = markdown(&diff);
        assert!(md_text.contains("### New (1)") && md_text.contains("### Resolved (1)"));
        assert!(!md_text.contains("<b>accepted"), "target text is escaped: {md_text}");
        let value: serde_json::Value = serde_json::from_str(&json(&diff)).unwrap();
        assert_eq!(value["schema"], SCHEMA);
        assert_eq!(value["score_change"], -21);
        assert_eq!(value["findings"]["new"][0]["check"], "JWT001");
        assert_eq!(value["findings"]["resolved"][0]["check"], "DJ002");
        assert_eq!(value["findings"]["unchanged"][0]["check"], "DJ001");
    }
}
