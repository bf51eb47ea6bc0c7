//! `--format markdown`: a report that fits a pull-request comment. A headline with the
//! score, a severity count, a table of findings (new ones first against a baseline), and
//! one collapsible block per finding with its message, one command that reproduces it
//! and the remediation.
//!
//! GitHub rejects comments over 65,536 characters, so the report keeps under
//! [`MAX_CHARS`] whatever the size of the scan: when the findings do not all fit, it says
//! how many were left out and links the full report ([`MarkdownOptions`]).
//!
//! Text the target controls (endpoints, messages, evidence) can neither inject HTML,
//! break the table nor mention anyone, but is escaped only where Markdown would read it:
//! URLs, paths and the messages' `code` go into code spans, whose content Markdown takes
//! literally. The remediation comes from the check catalog and is Markdown on purpose.

use authprobe_core::report::{BaselineState, ReportFinding};
use authprobe_core::{Report, Severity};
use std::collections::HashSet;
use std::fmt::Write as _;

/// The most characters the report may hold: GitHub rejects comments over 65,536.
pub const MAX_CHARS: usize = 64_500;

/// Room kept for the note that says what was left out (besides the URL it links).
const NOTE_RESERVE: usize = 400;

/// At most this many characters go to the categories and skipped checks.
const TAIL_MAX: usize = 6_000;

/// Target text longer than this (characters) is cut: one finding cannot fill the comment.
const MAX_MESSAGE: usize = 2_000;
const MAX_CURL: usize = 2_000;
const MAX_ENDPOINT: usize = 200;
const MAX_NOTE: usize = 1_000;

/// How to render the Markdown report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MarkdownOptions {
    /// Where the full report is (e.g. the CI run's HTML report), linked as "Full report".
    pub full_report_url: Option<String>,
}

/// Renders the Markdown report without a link to a full report.
pub fn render(report: &Report) -> String {
    render_with(report, &MarkdownOptions::default())
}

/// Renders the Markdown report, in at most [`MAX_CHARS`] characters.
pub fn render_with(report: &Report, options: &MarkdownOptions) -> String {
    let url = options.full_report_url.as_deref();
    let mut out = head(report, url);
    let tail = tail(report);
    if report.findings.is_empty() {
        out.push_str("**No findings.**\n\n");
        out.push_str(&tail);
        return out;
    }

    let groups = groups(report);
    let total = report.findings.len();
    let room = MAX_CHARS.saturating_sub(width(&out) + width(&tail));
    let mut layout = Layout::new(&groups, room);
    if !layout.is_complete(total) {
        // Something is left out: make room for the note that says so.
        let note = NOTE_RESERVE + url.map_or(0, width);
        layout = Layout::new(&groups, room.saturating_sub(note));
    }
    out.push_str(&layout.tables);
    if !layout.is_complete(total) {
        out.push_str(&left_out_note(total, layout.listed, layout.detailed, url));
    }
    out.push_str(&layout.details);
    out.push_str(&tail);
    out
}

/// The tables and the finding blocks that fit in some room.
struct Layout {
    tables: String,
    details: String,
    /// Findings in the tables, and how many of those (from the first) have a block.
    listed: usize,
    detailed: usize,
}

impl Layout {
    /// Table rows first, but they may take only half the room: past a few hundred
    /// findings, some details serve a reviewer better than the rest of the rows. Then a
    /// block for each listed finding, in the same order, while they fit.
    fn new(groups: &[(Option<&str>, Vec<&ReportFinding>)], room: usize) -> Layout {
        let mut tables = String::new();
        let mut used = 0;
        let mut listed: Vec<&ReportFinding> = Vec::new();
        'groups: for (heading, findings) in groups {
            let mut table = String::new();
            if let Some(heading) = heading {
                let _ = writeln!(table, "### {heading} ({})\n", findings.len());
            }
            table.push_str("| Severity | Check | Endpoint | Title |\n|---|---|---|---|\n");
            let mut table_width = width(&table);
            for (rows, f) in findings.iter().enumerate() {
                let row = row(f);
                let row_width = width(&row);
                if used + table_width + row_width + 1 > room / 2 {
                    if rows > 0 {
                        tables.push_str(&table);
                        tables.push('\n');
                        used += table_width + 1;
                    }
                    break 'groups;
                }
                table.push_str(&row);
                table_width += row_width;
                listed.push(f);
            }
            tables.push_str(&table);
            tables.push('\n');
            used += table_width + 1;
        }

        let mut details = String::new();
        let mut detailed = 0;
        let mut remediated: HashSet<&str> = HashSet::new();
        for f in &listed {
            let block = details_block(f, remediated.insert(f.check.as_str()));
            let block_width = width(&block);
            if used + block_width > room {
                break;
            }
            details.push_str(&block);
            used += block_width;
            detailed += 1;
        }
        Layout {
            tables,
            details,
            listed: listed.len(),
            detailed,
        }
    }

    fn is_complete(&self, total: usize) -> bool {
        self.listed == total && self.detailed == total
    }
}

/// Characters, as GitHub counts a comment's length.
fn width(s: &str) -> usize {
    s.chars().count()
}

/// The headline, the scan in one line, the link to the full report, the counts.
fn head(report: &Report, url: Option<&str>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## authprobe: score {}/100, grade {}\n",
        report.score,
        text(&report.grade, false)
    );
    if report.incomplete {
        let why = report.incomplete_summary();
        let _ = writeln!(
            out,
            "> **Incomplete:** {}; this is a partial report.\n",
            text(&clip(&why, MAX_NOTE), false)
        );
    }
    let _ = writeln!(
        out,
        "Target {} · {} requests · {} endpoints · {:.1} s · profile {}\n",
        code(&clip(&report.target.url, MAX_ENDPOINT), false),
        report.stats.requests,
        report.stats.endpoints,
        report.duration_ms as f64 / 1000.0,
        text(&report.profile, false)
    );
    if let Some(url) = url {
        let _ = writeln!(out, "Full report: {}\n", link(url));
    }
    if let Some(writes) = &report.writes {
        let _ = writeln!(
            out,
            "> **Writes:** {}\n",
            text(&clip(&writes.summary(), MAX_NOTE), false)
        );
    }
    if report.findings.is_empty() {
        return out;
    }
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
    out
}

/// The findings in the order the report shows them: against a baseline, the new ones
/// first under their own heading, then the others; without one, all in one table.
fn groups(report: &Report) -> Vec<(Option<&'static str>, Vec<&ReportFinding>)> {
    let against_baseline = report.baseline.is_some() || report.findings.iter().any(|f| f.baseline.is_some());
    if !against_baseline {
        return vec![(None, report.findings.iter().collect())];
    }
    let (new, others): (Vec<&ReportFinding>, Vec<&ReportFinding>) = report
        .findings
        .iter()
        .partition(|f| f.baseline == Some(BaselineState::New));
    [
        ("New since the baseline", new),
        ("Unchanged since the baseline", others),
    ]
    .into_iter()
    .filter(|(_, findings)| !findings.is_empty())
    .map(|(heading, findings)| (Some(heading), findings))
    .collect()
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

/// One table row. The check's code only: its slug would repeat the title.
fn row(f: &ReportFinding) -> String {
    format!(
        "| {}{} | {} | {} | {} |\n",
        f.severity,
        status_note(f),
        text(&f.check, true),
        endpoint(&f.endpoint, true),
        text(&f.title, true)
    )
}

/// Where a finding is: a URL or path as code; a description (`the `messages` cookie`)
/// as text, which keeps its own code spans.
fn endpoint(e: &str, cell: bool) -> String {
    let e = clip(e, MAX_ENDPOINT);
    if e.trim().contains(char::is_whitespace) {
        text(&e, cell)
    } else {
        code(&e, cell)
    }
}

/// One finding's collapsible block. `with_remediation` is false for the second and later
/// findings of a check, which point to the first instead of repeating it.
fn details_block(f: &ReportFinding, with_remediation: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<details>\n<summary><b>{}</b>{} {} {} — {}</summary>\n",
        f.severity.as_str().to_uppercase(),
        status_note(f),
        html(&f.check),
        html(&f.title),
        summary_endpoint(&f.endpoint)
    );
    let _ = writeln!(out, "{}\n", text(&clip(&f.message, MAX_MESSAGE), false));
    if f.suppressed {
        let reason = f.suppression_reason.as_deref().unwrap_or("");
        let _ = writeln!(
            out,
            "**Suppressed** (not counted): {}\n",
            text(&clip(reason, MAX_NOTE), false)
        );
    }
    let mut facts = vec![format!("confidence {}", f.confidence)];
    facts.extend(f.cwe.iter().map(|c| text(c, false)));
    facts.extend(f.owasp.iter().map(|o| format!("OWASP {}", text(o, false))));
    facts.push(code(&format!("authprobe explain {}", f.check), false));
    let _ = writeln!(out, "{}\n", facts.join(" · "));
    if let Some(curl) = f.evidence.iter().map(|e| e.curl.trim()).find(|c| !c.is_empty()) {
        let shown = clip(curl, MAX_CURL);
        let fence = fence_for(&shown);
        let _ = writeln!(out, "Reproduce:\n\n{fence}sh\n{shown}\n{fence}\n");
        if shown.len() < curl.len() {
            let _ = writeln!(out, "_The command is cut here; the full report has all of it._\n");
        }
    }
    if with_remediation {
        if !f.remediation.trim().is_empty() {
            let _ = writeln!(out, "**Remediation**\n\n{}\n", f.remediation.trim());
        }
    } else {
        let _ = writeln!(
            out,
            "**Remediation:** as for the first {} finding above.\n",
            text(&f.check, false)
        );
    }
    out.push_str("</details>\n\n");
    out
}

/// The endpoint in a block's `<summary>`, HTML where Markdown is not read: a URL or path
/// in `<code>`, a description as text with its backticks.
fn summary_endpoint(e: &str) -> String {
    let e = clip(e, MAX_ENDPOINT);
    if e.trim().contains(char::is_whitespace) {
        html(&e)
    } else {
        format!("<code>{}</code>", html(&e))
    }
}

/// Says what did not fit and where the full report is.
fn left_out_note(total: usize, listed: usize, detailed: usize, url: Option<&str>) -> String {
    let are = |n: usize| if n == 1 { "is" } else { "are" };
    let have = |n: usize| if n == 1 { "has" } else { "have" };
    let mut parts = Vec::new();
    if listed < total {
        let n = total - listed;
        parts.push(format!("{n} of {total} findings {} left out of the table", are(n)));
    }
    if detailed < listed {
        let n = listed - detailed;
        let of = if listed < total {
            format!("of the {listed} in it")
        } else {
            format!("of {total} findings")
        };
        parts.push(format!("{n} {of} {} no details below", have(n)));
    }
    let full = match url {
        Some(url) => format!("Full report: {}", link(url)),
        None => "The full report (`--format html` or `--format json`) has them all.".to_string(),
    };
    format!("> **Shortened to fit a comment:** {}. {full}\n\n", parts.join(", and "))
}

/// The categories and the skipped checks, at most [`TAIL_MAX`] characters of them.
fn tail(report: &Report) -> String {
    let mut out = String::new();
    if !report.categories.is_empty() {
        let categories: Vec<String> = report
            .categories
            .iter()
            .take(100)
            .map(|c| format!("{} {}", text(&c.name, false), c.label()))
            .collect();
        let _ = writeln!(out, "**Categories:** {}\n", categories.join(" · "));
    }
    if !report.checks_skipped.is_empty() {
        let _ = writeln!(
            out,
            "<details>\n<summary>Skipped checks ({})</summary>\n",
            report.checks_skipped.len()
        );
        for (i, s) in report.checks_skipped.iter().enumerate() {
            let line = format!(
                "- {}: {}\n",
                text(&s.check, false),
                text(&clip(&s.reason, MAX_NOTE / 4), false)
            );
            if width(&out) + width(&line) > TAIL_MAX - 200 {
                let _ = writeln!(out, "- and {} more", report.checks_skipped.len() - i);
                break;
            }
            out.push_str(&line);
        }
        out.push_str("\n</details>\n");
    }
    out
}

/// ` (suppressed)` / ` (new)` after the severity. Against a baseline, new findings have
/// their own table; "unchanged" would only repeat that heading on every other row.
fn status_note(f: &ReportFinding) -> String {
    let mut notes = Vec::new();
    if f.suppressed {
        notes.push("suppressed");
    }
    if f.baseline == Some(BaselineState::New) {
        notes.push("new");
    }
    if notes.is_empty() {
        String::new()
    } else {
        format!(" ({})", notes.join(", "))
    }
}

/// A link to the full report: an autolink when the URL is plain, else a code span.
fn link(url: &str) -> String {
    let plain = (url.starts_with("https://") || url.starts_with("http://"))
        && !url
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '`'));
    if plain {
        format!("<{url}>")
    } else {
        code(&clip(url, MAX_ENDPOINT), false)
    }
}

/// At most `max` characters of `s`, with `…` where it was cut.
fn clip(s: &str, max: usize) -> std::borrow::Cow<'_, str> {
    match s.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &s[..end]).into(),
        None => s.into(),
    }
}

/// A code fence longer than any run of backticks in `code`, so it cannot be closed early.
fn fence_for(code: &str) -> String {
    let longest = code.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat((longest + 1).max(3))
}

/// One line: line breaks and tabs become spaces, other control characters U+FFFD.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\n' | '\r' | '\t' => ' ',
            c if c.is_control() => '\u{FFFD}',
            c => c,
        })
        .collect()
}

/// `s` as an inline code span, which Markdown takes literally: no HTML, no emphasis, no
/// links, no mentions. Its delimiter outlasts any run of backticks in `s`. In a table
/// cell (`cell`), pipes get a backslash: GFM splits cells before it reads code spans,
/// and takes `\|` back to `|` inside them.
fn code(s: &str, cell: bool) -> String {
    let mut inner = one_line(s);
    if inner.is_empty() {
        return String::new();
    }
    if cell {
        inner = inner.replace('|', "\\|");
    }
    let longest = inner.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    // A code span drops one space at each end when both are there, and a backtick at
    // either end would merge with the delimiter: pad with a space.
    let pad = inner.starts_with('`')
        || inner.ends_with('`')
        || (inner.starts_with(' ') && inner.ends_with(' ') && inner.trim() != "");
    let pad = if pad { " " } else { "" };
    format!("{fence}{pad}{inner}{pad}{fence}")
}

/// Target text as inline Markdown (also fit for a table cell when `cell`), escaped only
/// where Markdown would read it. Text between matching backticks (checks quote names that
/// way) stays a code span, and so does a URL; elsewhere HTML-significant characters
/// become entities, emphasis, link, math and strikethrough characters and pipes get a
/// backslash, line breaks become spaces and an `@` cannot mention anyone.
fn text(raw: &str, cell: bool) -> String {
    let chars: Vec<char> = one_line(raw).trim().chars().collect();
    let mut out = String::new();
    let mut plain: Vec<char> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '`' {
            plain.push(chars[i]);
            i += 1;
            continue;
        }
        let run = chars[i..].iter().take_while(|c| **c == '`').count();
        match closing_run(&chars, i + run, run) {
            Some(close) => {
                out.push_str(&prose(&plain, cell, out.is_empty()));
                plain.clear();
                let content: String = chars[i + run..close].iter().collect();
                // CommonMark's own reading: one space at each end is padding.
                let content = match content.strip_prefix(' ').and_then(|c| c.strip_suffix(' ')) {
                    Some(inner) if !content.trim().is_empty() => inner.to_string(),
                    _ => content,
                };
                out.push_str(&code(&content, cell));
                i = close + run;
            }
            None => {
                plain.resize(plain.len() + run, '`');
                i += run;
            }
        }
    }
    out.push_str(&prose(&plain, cell, out.is_empty()));
    out
}

/// Where a run of exactly `len` backticks starts at or after `from`.
fn closing_run(chars: &[char], from: usize, len: usize) -> Option<usize> {
    let mut i = from;
    while i < chars.len() {
        if chars[i] == '`' {
            let run = chars[i..].iter().take_while(|c| **c == '`').count();
            if run == len {
                return Some(i);
            }
            i += run;
        } else {
            i += 1;
        }
    }
    None
}

/// Plain text (no code spans in it) as Markdown: URLs become code spans (no autolinks
/// to wherever the target says), the rest is escaped character by character. `at_start`:
/// the text opens a paragraph, where `#`, `-`, `+`, `=` or `1.` would start a block.
fn prose(chars: &[char], cell: bool, at_start: bool) -> String {
    let text: String = chars.iter().collect();
    let mut out = String::new();
    for (n, word) in text.split(' ').enumerate() {
        if n > 0 {
            out.push(' ');
        }
        let Some(start) = url_start(word) else {
            out.push_str(&escape(word));
            continue;
        };
        let end = word
            .trim_end_matches(['.', ',', ';', ':', '!', '?', ')', ']', '"', '\'', '>'])
            .len()
            .max(start);
        out.push_str(&escape(&word[..start]));
        out.push_str(&code(&word[start..end], cell));
        out.push_str(&escape(&word[end..]));
    }
    if at_start {
        let digits = out.chars().take_while(char::is_ascii_digit).count();
        if matches!(out.chars().next(), Some('#' | '-' | '+' | '=')) {
            out.insert(0, '\\');
        } else if digits > 0 && matches!(out[digits..].chars().next(), Some('.' | ')')) {
            out.insert(digits, '\\');
        }
    }
    out
}

/// Where a URL (`scheme://…` or `www.…`) starts in `word`, if it has one.
fn url_start(word: &str) -> Option<usize> {
    if let Some(sep) = word.find("://") {
        let bytes = word.as_bytes();
        let mut start = sep;
        while start > 0 && (bytes[start - 1].is_ascii_alphanumeric() || b"+-.".contains(&bytes[start - 1])) {
            start -= 1;
        }
        while start < sep && !bytes[start].is_ascii_alphabetic() {
            start += 1;
        }
        return (start < sep).then_some(start);
    }
    word.find("www.")
        .filter(|&i| i == 0 || !word.as_bytes()[i - 1].is_ascii_alphanumeric())
}

/// Character escapes for plain inline text (see [`prose`]).
fn escape(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            // GitHub finds mentions in the rendered text, where an entity is already an
            // `@` again: a zero-width space after it is what keeps the name from matching.
            '@' => out.push_str("@&#8203;"),
            // An underscore inside a word (`AWS_ACCESS_KEY_ID`) cannot emphasise anything.
            '_' if i > 0 && chars[i - 1].is_alphanumeric() && chars.get(i + 1).is_some_and(|n| n.is_alphanumeric()) => {
                out.push('_')
            }
            '\\' | '`' | '*' | '_' | '[' | '~' | '$' | '|' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// Escapes text for inline Markdown (also inside a table cell) the strict way: every
/// Markdown punctuation character gets a backslash. Used by `authprobe diff`.
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
            // As in Markdown text: GitHub reads mentions after decoding entities.
            '@' => out.push_str("@&#8203;"),
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
        assert!(text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{text}");
    }

    #[test]
    fn target_text_cannot_break_the_table_or_mention_anyone() {
        let text = render(&sample());
        assert!(!text.contains("@team"));
        assert!(text.contains("@&#8203;team"), "{text}");
        let row = text.lines().find(|l| l.starts_with("| info |")).unwrap();
        // Four cells: five unescaped pipes.
        let pipes = row
            .match_indices('|')
            .filter(|(i, _)| !row[..*i].ends_with('\\'))
            .count();
        assert_eq!(pipes, 5, "{row}");
        assert_eq!(md("a\nb"), "a b");
        assert_eq!(html("<@team>"), "&lt;@&#8203;team&gt;");
        assert_eq!(super::text("a\nb", false), "a b");
        assert_eq!(code("a\r\nb", false), "`a  b`");
    }

    #[test]
    fn headline_counts_and_table_are_there() {
        let text = render(&sample());
        assert!(text.starts_with("## authprobe: score 80/100, grade B\n"));
        assert!(text.contains("**2 findings:** 1 high · 1 info"));
        assert!(text.contains("| high | DJ001 | `/x/` | Django DEBUG mode enabled |"));
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
        report.findings[1].baseline = Some(BaselineState::New);
        let text = render(&report);
        assert!(text.contains("| high (suppressed) | DJ001"), "{text}");
        assert!(text.contains("| info (new) | DJ002"), "{text}");
        assert!(text.contains("<b>INFO</b> (new) DJ002"), "{text}");
        assert!(
            text.contains("**Suppressed** (not counted): accepted_in \\[SEC-9]"),
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

    #[test]
    fn new_findings_come_first_in_their_own_table() {
        let mut report = sample();
        report.findings[0].baseline = Some(BaselineState::Unchanged);
        report.findings[1].baseline = Some(BaselineState::New);
        report.baseline = Some(authprobe_core::report::BaselineSummary {
            score: 90,
            new: 1,
            unchanged: 1,
            resolved: 0,
        });
        let text = render(&report);
        let new = text.find("### New since the baseline (1)").expect("a new table");
        let unchanged = text
            .find("### Unchanged since the baseline (1)")
            .expect("an unchanged table");
        let dj002_row = text.find("| info (new) | DJ002").unwrap();
        let dj001_row = text.find("| high | DJ001").unwrap();
        assert!(
            new < dj002_row && dj002_row < unchanged && unchanged < dj001_row,
            "{text}"
        );
        // The details follow the same order.
        let dj002_block = text.find("<b>INFO</b> (new) DJ002").unwrap();
        let dj001_block = text.find("<b>HIGH</b> DJ001").unwrap();
        assert!(dj002_block < dj001_block, "{text}");
        assert!(text.contains("Against the baseline (score 90): 1 new, 1 unchanged, 0 resolved."));
    }

    /// `n` findings with long messages, several long curls each, two checks.
    fn big_report(n: usize) -> Report {
        let mut report = sample();
        let template = report.findings[0].clone();
        report.findings = (0..n)
            .map(|i| {
                let mut f = template.clone();
                f.check = format!("DJ00{}", i % 2);
                f.endpoint = format!("http://127.0.0.1:8000/api/objects/{i}/?q=a|b");
                f.message = format!("Finding {i}: {}", "the server answered <b>x</b> | @team ".repeat(40));
                f.evidence = (0..3)
                    .map(|e| {
                        let mut evidence = template.evidence[0].clone();
                        evidence.curl = format!(
                            "curl -i 'http://127.0.0.1:8000/api/objects/{i}/' -H 'X-Evidence: {e}' -d '{}'",
                            "x".repeat(900)
                        );
                        evidence
                    })
                    .collect();
                f.remediation = "Scope the queryset to the caller.\n".repeat(20);
                f
            })
            .collect();
        report
    }

    #[test]
    fn five_hundred_findings_fit_a_comment_and_say_how_many_were_left_out() {
        let report = big_report(500);
        let options = MarkdownOptions {
            full_report_url: Some("https://ci.example/run/1/report.html".into()),
        };
        let text = render_with(&report, &options);
        assert!(text.chars().count() < 65_000, "{} characters", text.chars().count());
        assert!(width(&text) <= MAX_CHARS);
        let rows = text.lines().filter(|l| l.starts_with("| high |")).count();
        let blocks = text.matches("<summary><b>HIGH</b>").count();
        assert!(rows > 100 && rows < 500, "{rows} rows");
        assert!(blocks > 5 && blocks < rows, "{blocks} blocks");
        let note = format!(
            "> **Shortened to fit a comment:** {} of 500 findings are left out of the table, and {} of the {rows} in it have no details below. Full report: <https://ci.example/run/1/report.html>",
            500 - rows,
            rows - blocks
        );
        assert!(text.contains(&note), "{note}\n{text}");
        assert!(text.contains("Full report: <https://ci.example/run/1/report.html>\n\n**500 findings:**"));
        // Cut, the comment is still well formed: every block closed, the tail there.
        assert_eq!(text.matches("<details>").count(), text.matches("</details>").count());
        assert!(
            text.trim_end().ends_with("</details>"),
            "the skipped checks close the report"
        );
        // Without a URL the note still says where the rest is.
        let text = render(&report);
        assert!(
            text.contains("have them all") || text.contains("has them all"),
            "{text}"
        );
    }

    #[test]
    fn the_note_counts_what_was_left_out() {
        assert_eq!(
            left_out_note(59, 59, 56, None),
            "> **Shortened to fit a comment:** 3 of 59 findings have no details below. \
             The full report (`--format html` or `--format json`) has them all.\n\n"
        );
        assert!(left_out_note(9, 8, 8, Some("https://ci.example/r"))
            .contains("1 of 9 findings is left out of the table. Full report: <https://ci.example/r>"));
    }

    #[test]
    fn a_scan_that_fits_leaves_nothing_out() {
        let text = render_with(
            &big_report(3),
            &MarkdownOptions {
                full_report_url: Some("https://ci.example/r".into()),
            },
        );
        assert!(!text.contains("Shortened"), "{text}");
        assert_eq!(text.matches("<summary><b>HIGH</b>").count(), 3);
        // The second finding of a check points to the first one's remediation.
        assert_eq!(text.matches("Scope the queryset").count(), 20 * 2, "{text}");
        assert!(text.contains("**Remediation:** as for the first DJ000 finding above."));
    }

    #[test]
    fn each_finding_has_one_reproduce_command_the_first_curl() {
        let text = render(&big_report(3));
        for block in text.split("<details>").filter(|b| b.contains("<b>HIGH</b>")) {
            assert_eq!(block.matches("Reproduce").count(), 1, "{block}");
            assert_eq!(block.lines().filter(|l| l.starts_with("curl ")).count(), 1, "{block}");
            assert!(block.contains("X-Evidence: 0") && !block.contains("X-Evidence: 1"));
        }
    }

    #[test]
    fn a_url_reads_naturally() {
        let text = render(&sample());
        assert!(
            text.contains("Target `http://127.0.0.1:8000/` · 120 requests"),
            "{text}"
        );
        assert!(
            text.contains("| `http://127.0.0.1:8000/admin/login/?next=/admin/\\|x` |"),
            "{text}"
        );
        assert!(!text.contains("http\\:"), "{text}");
        assert!(!text.contains("127\\.0"), "{text}");
        // A URL in a message becomes a code span: readable and never an autolink.
        assert_eq!(
            super::text("Redirected to https://evil.example/x?a=1_b.", false),
            "Redirected to `https://evil.example/x?a=1_b`."
        );
        assert_eq!(
            super::text("![i](https://evil.example/p.png) <http://x/> (www.y.example)", false),
            "!\\[i](`https://evil.example/p.png`) &lt;`http://x/`&gt; (`www.y.example`)"
        );
    }

    #[test]
    fn prose_is_escaped_only_where_markdown_would_read_it() {
        let t = |s: &str| super::text(s, false);
        assert_eq!(
            t("AWS key at environment.AWS_ACCESS_KEY_ID (HTTP 200): X-Forwarded-For, CWE-306."),
            "AWS key at environment.AWS_ACCESS_KEY_ID (HTTP 200): X-Forwarded-For, CWE-306."
        );
        // Backticks the checks write are code spans; what is inside stays literal.
        assert_eq!(t("as `alice` and `<b>|</b>`"), "as `alice` and `<b>|</b>`");
        assert_eq!(super::text("`a|b`", true), "`a\\|b`");
        assert_eq!(t("``a`b`` end"), "``a`b`` end");
        assert_eq!(t("one ` stray"), "one \\` stray");
        assert_eq!(
            t("*x* _y_ [l](u) ~~s~~ $m$ a|b"),
            "\\*x\\* \\_y\\_ \\[l](u) \\~\\~s\\~\\~ \\$m\\$ a\\|b"
        );
        // Block markers at the start of a paragraph.
        assert_eq!(t("# h"), "\\# h");
        assert_eq!(t("- item"), "\\- item");
        assert_eq!(t("12. item"), "12\\. item");
        assert_eq!(t("3 responses"), "3 responses");
        assert_eq!(t("</details><img src=x>"), "&lt;/details&gt;&lt;img src=x&gt;");
    }

    #[test]
    fn an_endpoint_that_is_a_description_reads_as_text() {
        assert_eq!(endpoint("the `messages` cookie", true), "the `messages` cookie");
        assert_eq!(endpoint("/a|b/", true), "`/a\\|b/`");
        assert_eq!(summary_endpoint("the `sid` <cookie>"), "the `sid` &lt;cookie&gt;");
        assert_eq!(summary_endpoint("/x/?a=1&b=2"), "<code>/x/?a=1&amp;b=2</code>");
    }

    #[test]
    fn a_code_span_cannot_be_closed_early() {
        assert_eq!(code("a`b", false), "``a`b``");
        assert_eq!(code("`a", false), "`` `a ``");
        assert_eq!(code(" a ", false), "`  a  `");
        assert_eq!(code("a|b", true), "`a\\|b`");
    }

    #[test]
    fn long_target_text_is_cut() {
        let mut report = sample();
        report.findings[0].message = "m".repeat(10_000);
        report.findings[0].evidence[0].curl = format!("curl '{}'", "c".repeat(10_000));
        let text = render(&report);
        assert!(text.len() < 10_000, "{}", text.len());
        assert!(text.contains("_The command is cut here; the full report has all of it._"));
        assert_eq!(clip("héllo", 2), "hé…");
        assert_eq!(clip("hi", 2), "hi");
    }

    #[test]
    fn the_full_report_link_is_an_autolink_only_when_plain() {
        assert_eq!(
            link("https://ci.example/run/1/report.html"),
            "<https://ci.example/run/1/report.html>"
        );
        assert_eq!(link("https://x/<a>"), "`https://x/<a>`");
        let text = render_with(
            &sample(),
            &MarkdownOptions {
                full_report_url: Some("https://ci.example/r".into()),
            },
        );
        assert!(text.contains("\nFull report: <https://ci.example/r>\n"), "{text}");
        assert!(!render(&sample()).contains("Full report"));
    }
}
