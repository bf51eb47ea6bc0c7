//! `--format pretty`: the terminal report. Colours only when asked (the CLI decides from
//! the TTY and `NO_COLOR`).

use authprobe_core::report::ReportFinding;
use authprobe_core::{Report, Severity};
use std::fmt::Write as _;

struct Paint {
    on: bool,
}

impl Paint {
    fn wrap(&self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    fn bold(&self, text: &str) -> String {
        self.wrap("1", text)
    }

    fn dim(&self, text: &str) -> String {
        self.wrap("2", text)
    }

    fn severity(&self, severity: Severity, text: &str) -> String {
        let code = match severity {
            Severity::Critical => "1;37;41",
            Severity::High => "1;31",
            Severity::Medium => "1;33",
            Severity::Low => "1;36",
            Severity::Info => "2",
        };
        self.wrap(code, text)
    }

    fn grade(&self, grade: &str, text: &str) -> String {
        let code = match grade {
            "A" => "1;32",
            "B" => "1;32",
            "C" => "1;33",
            "D" => "1;31",
            _ => "1;37;41",
        };
        self.wrap(code, text)
    }
}

/// The `[flows.login]` lines that would declare the login the scan tried, as a starting
/// point for a user whose login failed.
fn login_fix_hint(report: &Report) -> String {
    let tried = report.flows.iter().find(|f| f.role == "login" && f.used);
    match tried {
        Some(flow) => format!(
            "to declare the login, put in authprobe.toml (adjust the field names and body to the API):\n  [flows.login]\n  path = \"{}\"\n  body = \"json\"            # or \"form\", or \"oauth2\" for a password grant\n  username_field = \"username\"\n  password_field = \"password\"\n  # scheme = \"Bearer\"        # how the token is sent: a scheme, \"\" for none, or header = \"X-API-Key\"",
            flow.endpoint
        ),
        None => "no login endpoint was found: declare one with [flows.login] path = \"/your/login/\" in authprobe.toml, or pass a token with --bearer / --header".to_string(),
    }
}

/// Renders the report for a terminal.
pub fn render(report: &Report, color: bool) -> String {
    let p = Paint { on: color };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {} — {}",
        p.bold("authprobe"),
        report.tool.version,
        report.target.url
    );
    let _ = writeln!(
        out,
        "{}  {}   {} requests · {} endpoints · {:.1} s",
        p.bold(&format!("Score {}/100", report.score)),
        p.grade(&report.grade, &format!(" grade {} ", report.grade)),
        report.stats.requests,
        report.stats.endpoints,
        report.duration_ms as f64 / 1000.0
    );
    if report.incomplete {
        let why = report.incomplete_summary();
        let _ = writeln!(
            out,
            "{}",
            p.severity(Severity::High, &format!("INCOMPLETE: {why}; this is a partial report"))
        );
    }
    let methods: Vec<String> = report.stats.methods.iter().map(|(m, n)| format!("{m} {n}")).collect();
    let _ = writeln!(
        out,
        "{}",
        p.dim(&format!("profile {} · methods: {}", report.profile, methods.join(", ")))
    );
    if let Some(writes) = &report.writes {
        let severity = if writes.left_behind > 0 {
            Severity::High
        } else {
            Severity::Info
        };
        let _ = writeln!(out, "{}", p.severity(severity, &writes.summary()));
    }
    for failed in report.identities.iter().filter(|i| !i.logged_in) {
        let why = failed.login_error.as_deref().unwrap_or("no credential");
        let _ = writeln!(
            out,
            "{}",
            p.severity(Severity::High, &format!("LOGIN FAILED for `{}`: {why}", failed.label))
        );
    }
    if report.identities.iter().any(|i| !i.logged_in) {
        let _ = writeln!(out, "{}", p.dim(&login_fix_hint(report)));
    }
    if report.stats.checks_total > 0 {
        let _ = writeln!(
            out,
            "{}",
            p.dim(&format!(
                "coverage: {} of {} checks ran ({} skipped, each with its reason below)",
                report.stats.checks_run,
                report.stats.checks_total,
                report.checks_skipped.len()
            ))
        );
    }
    if report.identities.iter().any(|i| i.logged_in) {
        let ids: Vec<String> = report
            .identities
            .iter()
            .filter(|i| i.logged_in)
            .map(|i| {
                if i.session {
                    format!("{} ({} + session)", i.label, i.flow)
                } else {
                    format!("{} ({})", i.label, i.flow)
                }
            })
            .collect();
        let _ = writeln!(out, "{}", p.dim(&format!("as {}", ids.join(", "))));
    }
    out.push('\n');

    if report.findings.is_empty() {
        let _ = writeln!(out, "No findings.");
    } else {
        let counts: Vec<String> = Severity::DESCENDING
            .iter()
            .filter_map(|s| {
                let n = report.findings.iter().filter(|f| f.severity == *s).count();
                (n > 0).then(|| p.severity(*s, &format!("{n} {s}")))
            })
            .collect();
        let _ = writeln!(out, "{} findings: {}", report.findings.len(), counts.join(", "));
        let suppressed = report.findings.iter().filter(|f| f.suppressed).count();
        if suppressed > 0 {
            let _ = writeln!(
                out,
                "{suppressed} suppressed (listed, not counted by the score or the gate)"
            );
        }
        if let Some(b) = &report.baseline {
            let _ = writeln!(
                out,
                "baseline (score {}): {} new, {} unchanged, {} resolved",
                b.score, b.new, b.unchanged, b.resolved
            );
        }
        out.push('\n');
        for finding in &report.findings {
            render_finding(&mut out, &p, finding);
        }
    }

    let categories: Vec<String> = report
        .categories
        .iter()
        .map(|c| format!("{} {}", c.name, c.label()))
        .collect();
    let _ = writeln!(out, "{} {}", p.bold("Categories:"), categories.join(" · "));
    if !report.checks_skipped.is_empty() {
        let _ = writeln!(out, "{} ({}):", p.bold("Skipped"), report.checks_skipped.len());
        for s in &report.checks_skipped {
            let _ = writeln!(out, "  {} {}", s.check, p.dim(&s.reason));
        }
    }
    if !report.not_probed.is_empty() {
        let _ = writeln!(out, "{} ({}):", p.bold("Not probed"), report.not_probed.len());
        for n in &report.not_probed {
            let route = printable(&format!("{} {}", n.method, n.path));
            let _ = writeln!(out, "  {route} {}", p.dim(&printable(&n.reason)));
        }
    }
    let failed: Vec<&str> = report
        .endpoints
        .iter()
        .filter_map(|e| e.error.as_ref().map(|_| e.url.as_str()))
        .collect();
    if !failed.is_empty() {
        let _ = writeln!(
            out,
            "{} {} endpoint(s) did not answer in full:",
            p.bold("Errors:"),
            failed.len()
        );
        for e in report.endpoints.iter().filter(|e| e.error.is_some()).take(10) {
            let _ = writeln!(out, "  {} {}", e.url, p.dim(e.error.as_deref().unwrap_or("")));
        }
    }
    out
}

fn render_finding(out: &mut String, p: &Paint, f: &ReportFinding) {
    let label = format!("{:>8}", f.severity.as_str().to_uppercase());
    let _ = writeln!(
        out,
        "{} {} {}  {}  {}",
        p.severity(f.severity, &label),
        p.bold(&f.check),
        f.title,
        f.endpoint,
        p.dim(&format!("[{}; {}]", f.confidence, f.cwe.join(", ")))
    );
    for line in wrap(&f.message, 90) {
        let _ = writeln!(out, "         {line}");
    }
    if f.suppressed {
        let reason = f.suppression_reason.as_deref().unwrap_or("");
        let _ = writeln!(out, "         {} {reason}", p.bold("suppressed (not counted):"));
    }
    if let Some(state) = f.baseline {
        let _ = writeln!(out, "         {} {}", p.dim("baseline:"), state.as_str());
    }
    if let Some(e) = f.evidence.first() {
        let _ = writeln!(out, "         {} {}", p.dim("reproduce:"), e.curl);
    }
    let _ = writeln!(out, "         {} authprobe explain {}", p.dim("fix:"), f.check);
    out.push('\n');
}

/// Greedy word wrap.
/// Text from the target (a spec's paths) with control characters replaced, so it cannot
/// drive the terminal.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
        .collect()
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::sample;

    #[test]
    fn plain_output_has_no_escape_codes_and_names_everything() {
        let text = render(&sample(), false);
        assert!(!text.contains('\x1b'));
        assert!(text.contains("Score 80/100"));
        assert!(text.contains("DJ001"));
        assert!(text.contains("TLS003"));
        assert!(text.contains("alice (simplejwt + session)"));
    }

    #[test]
    fn colour_output_uses_ansi_codes() {
        assert!(render(&sample(), true).contains("\x1b[1;31m"));
    }

    #[test]
    fn json_round_trips_with_the_stable_keys() {
        let text = crate::json::render(&sample());
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        for key in [
            "schema",
            "tool",
            "target",
            "started_at",
            "finished_at",
            "duration_ms",
            "stats",
            "score",
            "grade",
            "categories",
            "checks_skipped",
            "findings",
        ] {
            assert!(value.get(key).is_some(), "missing {key}");
        }
        let back: Report = serde_json::from_str(&text).unwrap();
        assert_eq!(back, sample());
    }

    #[test]
    fn long_messages_wrap() {
        assert_eq!(wrap("aaa bbb ccc", 7), vec!["aaa bbb", "ccc"]);
    }
}
