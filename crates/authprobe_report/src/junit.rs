//! `--format junit`: JUnit XML for CI test dashboards. One test suite, `authprobe`, with one
//! test case per check of the catalog: failed when it found anything above info, skipped
//! (with the reason) when it could not run, passed otherwise. Findings the gate does not
//! count (suppressed, or unchanged since `--baseline`) are listed in the case's output and
//! never fail it.

use authprobe_core::report::{BaselineState, ReportFinding};
use authprobe_core::{Report, Severity};
use std::fmt::Write as _;

use crate::RuleInfo;

enum Outcome<'a> {
    Failed(Vec<&'a ReportFinding>),
    Skipped(&'a str),
    Passed,
}

struct Case<'a> {
    code: &'a str,
    name: String,
    classname: String,
    /// Findings at info: reported in the case's output, never a failure.
    notes: Vec<&'a ReportFinding>,
    outcome: Outcome<'a>,
}

/// Renders the JUnit XML document.
pub fn render(report: &Report, rules: &[RuleInfo]) -> String {
    let cases = cases(report, rules);
    let failures = cases.iter().filter(|c| matches!(c.outcome, Outcome::Failed(_))).count();
    let skipped = cases
        .iter()
        .filter(|c| matches!(c.outcome, Outcome::Skipped(_)))
        .count();
    let time = format!("{:.3}", report.duration_ms as f64 / 1000.0);

    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"authprobe\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"{time}\">",
        cases.len()
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"authprobe\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"{time}\" timestamp=\"{}\">",
        cases.len(),
        xml(&report.started_at)
    );
    out.push_str("    <properties>\n");
    for (name, value) in [
        ("target", report.target.url.clone()),
        ("score", report.score.to_string()),
        ("grade", report.grade.clone()),
        ("profile", report.profile.clone()),
        ("tool.version", report.tool.version.clone()),
    ] {
        let _ = writeln!(out, "      <property name=\"{name}\" value=\"{}\"/>", xml(&value));
    }
    out.push_str("    </properties>\n");
    for case in &cases {
        render_case(&mut out, case);
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

fn cases<'a>(report: &'a Report, rules: &'a [RuleInfo]) -> Vec<Case<'a>> {
    let mut cases: Vec<Case<'a>> = rules
        .iter()
        .map(|r| case(report, &r.code, format!("{} {}", r.code, r.slug), &r.category))
        .collect();
    // Checks the report names but the catalog does not (a report from another version).
    let mut extra: Vec<&str> = report
        .findings
        .iter()
        .map(|f| f.check.as_str())
        .chain(report.checks_skipped.iter().map(|s| s.check.as_str()))
        .filter(|code| !rules.iter().any(|r| r.code == *code))
        .collect();
    extra.sort_unstable();
    extra.dedup();
    for code in extra {
        cases.push(case(report, code, code.to_string(), "unknown"));
    }
    cases
}

fn case<'a>(report: &'a Report, code: &'a str, name: String, category: &str) -> Case<'a> {
    let (failing, notes): (Vec<&ReportFinding>, Vec<&ReportFinding>) = report
        .findings
        .iter()
        .filter(|f| f.check == code)
        .partition(|f| f.severity > Severity::Info && counts(f));
    let outcome = if !failing.is_empty() {
        Outcome::Failed(failing)
    } else if let Some(s) = report.checks_skipped.iter().find(|s| s.check == code) {
        Outcome::Skipped(&s.reason)
    } else {
        Outcome::Passed
    };
    Case {
        code,
        name,
        classname: format!("authprobe.{category}"),
        notes,
        outcome,
    }
}

fn render_case(out: &mut String, case: &Case) {
    let _ = write!(
        out,
        "    <testcase name=\"{}\" classname=\"{}\" time=\"0\"",
        xml(&case.name),
        xml(&case.classname)
    );
    if matches!(case.outcome, Outcome::Passed) && case.notes.is_empty() {
        out.push_str("/>\n");
        return;
    }
    out.push_str(">\n");
    match &case.outcome {
        Outcome::Failed(findings) => {
            let worst = findings.iter().map(|f| f.severity).max().unwrap_or(Severity::Info);
            let _ = write!(
                out,
                "      <failure message=\"{}\" type=\"{worst}\">",
                xml(&format!("{} {} finding(s), worst {worst}", findings.len(), case.code))
            );
            for f in findings {
                out.push_str(&xml(&finding_text(f)));
            }
            out.push_str("</failure>\n");
        }
        Outcome::Skipped(reason) => {
            let _ = writeln!(out, "      <skipped message=\"{}\"/>", xml(reason));
        }
        Outcome::Passed => {}
    }
    if !case.notes.is_empty() {
        out.push_str("      <system-out>");
        for f in &case.notes {
            out.push_str(&xml(&finding_text(f)));
        }
        out.push_str("</system-out>\n");
    }
    out.push_str("    </testcase>\n");
}

/// Whether a finding can fail its test case: not suppressed, and not already in the
/// baseline (the gate's rule).
fn counts(f: &ReportFinding) -> bool {
    !f.suppressed && f.baseline != Some(BaselineState::Unchanged)
}

fn finding_text(f: &ReportFinding) -> String {
    let mut text = format!(
        "[{}/{}] {} {}: {}\n",
        f.severity, f.confidence, f.check, f.endpoint, f.message
    );
    if f.suppressed {
        let _ = writeln!(
            text,
            "  suppressed (not counted): {}",
            f.suppression_reason.as_deref().unwrap_or("")
        );
    }
    if let Some(state) = f.baseline {
        let _ = writeln!(text, "  baseline: {}", state.as_str());
    }
    if let Some(e) = f.evidence.first() {
        let _ = writeln!(text, "  reproduce: {}", e.curl);
    }
    let _ = writeln!(text, "  fix: authprobe explain {}", f.check);
    text
}

/// Escapes text for XML content and attribute values, replacing the characters XML 1.0
/// cannot carry at all (most control characters) with U+FFFD.
pub fn xml(text: &str) -> String {
    let clean: String = text
        .chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => c,
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => '\u{FFFD}',
            c => c,
        })
        .collect();
    quick_xml::escape::escape(clean.as_str()).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{rules, sample};
    use quick_xml::events::Event;
    use quick_xml::Reader;

    /// Parses the document and returns (element name, `name` attribute) of every element.
    fn elements(text: &str) -> Vec<(String, Option<String>)> {
        let mut reader = Reader::from_str(text);
        let mut found = Vec::new();
        loop {
            match reader.read_event().expect("JUnit output is well-formed XML") {
                Event::Start(e) | Event::Empty(e) => {
                    let name = e.name().as_ref().to_string();
                    let attr = e.try_get_attribute("name").unwrap().map(|a| {
                        a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                            .unwrap()
                            .into_owned()
                    });
                    found.push((name, attr));
                }
                Event::Eof => break,
                _ => {}
            }
        }
        found
    }

    #[test]
    fn junit_snapshot() {
        insta::assert_snapshot!(render(&sample(), &rules()));
    }

    #[test]
    fn junit_parses_and_has_one_testcase_per_rule() {
        let text = render(&sample(), &rules());
        let elements = elements(&text);
        let cases: Vec<&str> = elements
            .iter()
            .filter(|(e, _)| e == "testcase")
            .map(|(_, n)| n.as_deref().unwrap())
            .collect();
        assert_eq!(
            cases,
            [
                "DJ001 django-debug",
                "DJ002 django-admin-exposed",
                "TLS003 hsts-weak",
                "JWT001 jwt-alg-none"
            ]
        );
        assert_eq!(elements.iter().filter(|(e, _)| e == "testsuite").count(), 1);
        assert_eq!(elements.iter().filter(|(e, _)| e == "failure").count(), 1);
        assert_eq!(elements.iter().filter(|(e, _)| e == "skipped").count(), 1);
        assert!(text.contains("tests=\"4\" failures=\"1\" errors=\"0\" skipped=\"1\""));
        assert!(text.contains("&lt;script&gt;"), "{text}");
        assert!(!text.contains("<script>"));
    }

    #[test]
    fn control_characters_never_break_the_document() {
        let mut report = sample();
        report.findings[0].message = "bell \u{7} esc \u{1b}[31m nul \0 ]]> & \"".into();
        let text = render(&report, &rules());
        elements(&text);
        assert!(!text.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r')));
        assert_eq!(xml("a\u{1b}b<"), "a\u{FFFD}b&lt;");
    }

    #[test]
    fn checks_missing_from_the_catalog_still_get_a_case() {
        let text = render(&sample(), &[]);
        let cases = elements(&text).into_iter().filter(|(e, _)| e == "testcase").count();
        assert_eq!(cases, 3);
    }
}
