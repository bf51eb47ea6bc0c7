//! `--format markdown`: a report that fits a pull-request comment. A headline with the
//! score, a severity count, a table of findings, and one collapsible block per finding.
//!
//! Text the target controls (endpoints, messages, evidence) is escaped so it can neither
//! inject HTML nor Markdown structure nor mention anyone; the remediation comes from the
//! check catalog and is Markdown on purpose.

use authprobe_core::report::ReportFinding;
use authprobe_core::{Report, Severity};
use std::fmt::Write as _;

/// GitHub rejects comments over 65,536 characters; leave room for a footer.
const MAX_CHARS: usize = 60_000;

/// Renders the Markdown report.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## authprobe: score {}/100, grade {}\n",
        report.score,
        md(&report.grade)
    );
    if report.incomplete {
        let why = report.incomplete_summary();
        let _ = writeln!(out, "> **Incomplete:** {}; this is a partial report.\n", md(&why));
    }
    let _ = writeln!(
        out,
        "Target {} · {} requests · {} endpoints · {:.1} s · profile {}\n",
        md(&report.target.url),
        report.stats.requests,
        report.stats.endpoints,
        report.duration_ms as f64 / 1000.0,
        md(&report.profile)
    );
    if let Some(writes) = &report.writes {
        let _ = writeln!(out, "> **Writes:** {}\n", md(&writes.summary()));
    }

    if report.findings.is_empty() {
        out.push_str("**No findings.**\n\n");
    } else {
        let n = report.findings.len();
        let noun = if n == 1 { "finding" } else { "findings" };
        let _ = writeln!(out, "**{n} {noun}:** {}\n", severity_counts(report));
        let suppressed = report.findings.iter().filter(|f| f.suppressed).count();
        if suppressed > 0 {
            let _ = writeln!(
                out,
                "{suppressed} suppressed (listed, not counted by the score or the gate).\n"
            );
        }
        if let Some(b) = &report.baseline {
            let _ = writeln!(
                out,
                "Against the baseline (score {}): {} new, {} unchanged, {} resolved.\n",
                b.score, b.new, b.unchanged, b.resolved
            );
        }
        out.push_str("| Severity | Check | Endpoint | Title |\n|---|---|---|---|\n");
        for f in &report.findings {
            let _ = writeln!(
                out,
                "| {}{} | {} {} | {} | {} |",
                f.severity,
                status_note(f),
                md(&f.check),
                md(&f.slug),
                md(&f.endpoint),
                md(&f.title)
            );
        }
        out.push('\n');
        for (i, f) in report.findings.iter().enumerate() {
            let block = details(f);
            if out.len() + block.len() > MAX_CHARS {
                let _ = writeln!(
                    out,
                    "_{} more findings are left out to fit a comment; see the full report._\n",
                    report.findings.len() - i
                );
                break;
            }
            out.push_str(&block);
        }
    }

    if !report.categories.is_empty() {
        let categories: Vec<String> = report
            .categories
            .iter()
            .map(|c| format!("{} {}", md(&c.name), c.label()))
            .collect();
        let _ = writeln!(out, "**Categories:** {}\n", categories.join(" · "));
    }
    if !report.checks_skipped.is_empty() {
        let _ = writeln!(
            out,
            "<details>\n<summary>Skipped checks ({})</summary>\n",
            report.checks_skipped.len()
        );
        for s in &report.checks_skipped {
            let _ = writeln!(out, "- {}: {}", md(&s.check), md(&s.reason));
        }
        out.push_str("\n</details>\n");
    }
    out
}

/// `1 critical · 2 high · …`, leaving out severities with no finding.
fn severity_counts(report: &Report) -> String {
    let counts: Vec<String> = Severity::DESCENDING
        .iter()
        .filter_map(|s| {
            let n = report.findings.iter().filter(|f| f.severity == *s).count();
            (n > 0).then(|| format!("{n} {s}"))
        })
        .collect();
    counts.join(" · ")
}

fn details(f: &ReportFinding) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<details>\n<summary><b>{}</b> {} {} — <code>{}</code></summary>\n",
        f.severity.as_str().to_uppercase(),
        html(&f.check),
        html(&f.title),
        html(&f.endpoint)
    );
    let _ = writeln!(out, "{}\n", md(&f.message));
    if f.suppressed {
        let reason = f.suppression_reason.as_deref().unwrap_or("");
        let _ = writeln!(out, "**Suppressed** (not counted): {}\n", md(reason));
    }
    let mut facts = vec![format!("confidence {}", f.confidence)];
    facts.extend(f.cwe.iter().map(|c| md(c)));
    facts.extend(f.owasp.iter().map(|o| format!("OWASP {}", md(o))));
    let _ = writeln!(out, "{}\n", facts.join(" · "));
    for e in f.evidence.iter().filter(|e| !e.curl.is_empty()) {
        let fence = fence_for(&e.curl);
        let _ = writeln!(out, "Reproduce:\n\n{fence}sh\n{}\n{fence}\n", e.curl.trim_end());
    }
    if !f.remediation.trim().is_empty() {
        let _ = writeln!(out, "**Remediation**\n\n{}\n", f.remediation.trim());
    }
    let _ = writeln!(out, "`authprobe explain {}`\n\n</details>\n", md(&f.check));
    out
}

/// ` (suppressed)` / ` (new)` after the severity in the table.
fn status_note(f: &ReportFinding) -> String {
    let mut notes = Vec::new();
    if f.suppressed {
        notes.push("suppressed");
    }
    if let Some(state) = f.baseline {
        notes.push(state.as_str());
    }
    if notes.is_empty() {
        String::new()
    } else {
        format!(" ({})", notes.join(", "))
    }
}

/// A code fence longer than any run of backticks in `code`, so it cannot be closed early.
fn fence_for(code: &str) -> String {
    let longest = code.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat((longest + 1).max(3))
}

/// Escapes text for inline Markdown (also inside a table cell): HTML-significant
/// characters become entities, Markdown punctuation gets a backslash, line breaks become
/// spaces and `@` cannot mention anyone.
pub fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '@' => out.push_str("&#64;"),
            '\\' | '`' | '*' | '_' | '{' | '}' | '[' | ']' | '(' | ')' | '#' | '+' | '-' | '.' | '!' | '|' | '~'
            | ':' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Escapes text for an HTML element's content (where Markdown is not interpreted).
pub fn html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '@' => out.push_str("&#64;"),
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::sample;

    #[test]
    fn markdown_snapshot() {
        insta::assert_snapshot!(render(&sample()));
    }

    #[test]
    fn markdown_escapes_a_script_tag_in_a_message() {
        let text = render(&sample());
        assert!(!text.contains("<script>"), "{text}");
        assert!(text.contains("&lt;script&gt;alert\\(1\\)&lt;/script&gt;"), "{text}");
    }

    #[test]
    fn target_text_cannot_break_the_table_or_mention_anyone() {
        let text = render(&sample());
        assert!(!text.contains("@team"));
        let row = text.lines().find(|l| l.starts_with("| info |")).unwrap();
        // Four cells: five unescaped pipes.
        let pipes = row
            .match_indices('|')
            .filter(|(i, _)| !row[..*i].ends_with('\\'))
            .count();
        assert_eq!(pipes, 5, "{row}");
        assert_eq!(md("a\nb"), "a b");
    }

    #[test]
    fn headline_counts_and_table_are_there() {
        let text = render(&sample());
        assert!(text.starts_with("## authprobe: score 80/100, grade B\n"));
        assert!(text.contains("**2 findings:** 1 high · 1 info"));
        assert!(text.contains("| high | DJ001 django\\-debug | /x/ | Django DEBUG mode enabled |"));
        assert_eq!(text.matches("<details>").count(), 3);
        assert_eq!(text.matches("</details>").count(), 3);
    }

    #[test]
    fn a_fence_outlasts_backticks_in_the_curl() {
        assert_eq!(fence_for("curl x"), "```");
        assert_eq!(fence_for("curl ````x"), "`````");
    }

    #[test]
    fn one_finding_is_singular() {
        let mut report = sample();
        report.findings.truncate(1);
        assert!(render(&report).contains("**1 finding:** 1 high"));
    }

    #[test]
    fn suppressed_and_new_findings_are_marked_in_table_and_details() {
        let mut report = sample();
        report.findings[0].suppressed = true;
        report.findings[0].suppression_reason = Some("accepted_in [SEC-9]".into());
        report.findings[1].baseline = Some(authprobe_core::report::BaselineState::New);
        let text = render(&report);
        assert!(text.contains("| high (suppressed) | DJ001"), "{text}");
        assert!(text.contains("| info (new) | DJ002"), "{text}");
        assert!(
            text.contains("**Suppressed** (not counted): accepted\\_in \\[SEC\\-9\\]"),
            "{text}"
        );
        assert!(text.contains("1 suppressed (listed, not counted by the score or the gate)."));
    }

    #[test]
    fn a_clean_report_says_so() {
        let mut report = sample();
        report.findings.clear();
        assert!(render(&report).contains("**No findings.**"));
    }
}
