//! `--format html`: one self-contained page for people. From the top: the score gauge and
//! the grade with the scan's facts; a bar per category; the findings, first as a table
//! (severity, check, title, endpoints) whose rows link to the entries below and whose
//! severity chips filter both; then one entry per finding with its message, its evidence
//! folded and labelled by role (`forged credential`, `as alice (own credential)`, `login
//! as bob`, …) and its remediation rendered from Markdown; the skipped checks last.
//!
//! Findings of one check with one cause on several endpoints are one entry listing the
//! endpoints ([`entries`]); a remediation is printed once per check, later entries link to it.
//!
//! The page fetches nothing and runs nothing: the CSS is inline, the gauge and bars are
//! inline SVG, the filters are checkboxes styled with CSS, and a Content-Security-Policy
//! meta tag allows only that one stylesheet (by its SHA-256 hash) — no script, no image, no
//! font, no frame, no form. Every string the target controls comes through maud's `html!`,
//! which escapes it, and is only ever placed in element content or quoted attribute values,
//! never in a URL. Only the remediation, from the check catalog, is Markdown, rendered by
//! [`markdown_to_html`] with raw HTML shown as text.

use std::collections::HashMap;

use authprobe_core::exchange::Evidence;
use authprobe_core::report::ReportFinding;
use authprobe_core::{Report, Severity};
use base64::Engine as _;
use maud::{html, Markup, PreEscaped, DOCTYPE};
use sha2::{Digest, Sha256};

/// The page's only stylesheet; the CSP names its hash.
const CSS: &str = r#"
:root{--fg:#1d2330;--muted:#5b6475;--line:#dde2ea;--bg:#f6f7f9;--card:#fff;--accent:#2f6f9f;
--critical:#8e1b1b;--high:#c2410c;--medium:#b7791f;--low:#2f6f9f;--info:#5b6475;--ok:#1f7a3f;
--mono:ui-monospace,"SFMono-Regular",Menlo,Consolas,"DejaVu Sans Mono",monospace}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:1080px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 10px}
h3{font-size:14px;margin:18px 0 6px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
code,pre,.endpoint{font-family:var(--mono)}
code{font-size:.9em;background:#eef1f5;border-radius:3px;padding:0 3px}
a{color:var(--accent)}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:16px 20px;margin:12px 0}
.summary{display:flex;gap:28px;align-items:center;flex-wrap:wrap}
.meta{color:var(--muted);font-size:13px}.meta div{margin:2px 0}
.gauge-track{fill:none;stroke:var(--line);stroke-width:12}
.gauge-value{fill:none;stroke-width:12}
.gauge-score{font-size:30px;font-weight:700;fill:var(--fg)}.gauge-label{font-size:12px;fill:var(--muted)}
.grade{font-size:44px;font-weight:800;width:72px;height:72px;border-radius:50%;display:flex;align-items:center;justify-content:center;color:#fff}
.grade-A,.stroke-A{background:var(--ok);stroke:var(--ok)}.grade-B,.stroke-B{background:#4d8a2a;stroke:#4d8a2a}
.grade-C,.stroke-C{background:var(--medium);stroke:var(--medium)}.grade-D,.stroke-D{background:var(--high);stroke:var(--high)}
.grade-F,.stroke-F{background:var(--critical);stroke:var(--critical)}
.bar-track{fill:var(--line)}.bar-value{fill:var(--low)}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:4px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:12px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
.categories td:first-child{width:160px}.categories td:last-child{width:48px;text-align:right;font-variant-numeric:tabular-nums}
.counts span{display:inline-block;margin-right:10px}
.sev{display:inline-block;min-width:72px;text-align:center;border-radius:4px;color:#fff;font-size:12px;font-weight:700;padding:1px 6px;text-transform:uppercase}
.sev-critical{background:var(--critical)}.sev-high{background:var(--high)}.sev-medium{background:var(--medium)}.sev-low{background:var(--low)}.sev-info{background:var(--info)}
.tag{display:inline-block;border:1px solid var(--line);border-radius:4px;font-size:12px;padding:0 6px;margin-left:6px;color:var(--muted)}
.tag-suppressed{border-color:var(--muted);background:#eef0f3}.tag-new{border-color:var(--high);color:var(--high)}
.filter{position:absolute;opacity:0;width:1px;height:1px;margin:0}
.filters{display:flex;flex-wrap:wrap;gap:6px;align-items:center;margin:8px 0}
.filters label{cursor:pointer;border:1px solid var(--line);border-radius:14px;padding:2px 10px;font-size:13px;background:var(--card);user-select:none}
.filters label::before{content:"✓ ";font-weight:700}
.filters .hint{color:var(--muted);font-size:13px;margin-right:4px}
.overview{background:var(--card);border:1px solid var(--line);border-radius:8px}
.overview td:first-child{width:96px}.overview td{padding:6px 8px}
.overview a{text-decoration:none;font-weight:600}.overview a:hover{text-decoration:underline}
.overview .more{color:var(--muted);font-size:13px;white-space:nowrap}
.gist{color:var(--muted);font-size:13px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;max-width:680px}
.check{font-weight:700;font-family:var(--mono);font-size:13px;margin-right:6px}
.endpoint{font-size:13px;color:var(--muted);word-break:break-all}
article.finding{background:var(--card);border:1px solid var(--line);border-radius:8px;margin:10px 0;padding:12px 16px;scroll-margin-top:12px}
article.finding:target{outline:2px solid var(--accent)}
article.suppressed{opacity:.75}
.finding-head{display:flex;flex-wrap:wrap;gap:6px 8px;align-items:baseline}
.finding-head .title{font-weight:600}
.finding p{margin:8px 0}
.where{font-size:13px;color:var(--muted);margin:6px 0}
ul.endpoints{margin:4px 0;padding-left:20px;columns:2 260px;column-gap:24px}
.note{color:var(--muted);font-size:13px}
details{margin:4px 0}
details>summary{cursor:pointer;padding:3px 0}
details.evidence>summary,details.more>summary{font-size:13px}
.role{font-weight:600}
.req{font-family:var(--mono);font-size:12.5px;color:var(--muted);word-break:break-all}
details.evidence[open]{border-left:3px solid var(--line);padding-left:10px}
pre{background:#0f1420;color:#e6e9ef;padding:10px 12px;border-radius:6px;overflow:auto;font-size:12.5px;line-height:1.45;white-space:pre-wrap;word-break:break-all;margin:4px 0 10px}
pre code{background:none;padding:0;font-size:inherit;color:inherit}
details.fix>summary{font-weight:600}
.markdown{background:#f1f6f1;border-left:4px solid var(--ok);padding:4px 12px;border-radius:4px;font-size:14px;overflow-wrap:anywhere}
.markdown p{margin:6px 0}.markdown pre{word-break:normal;overflow-wrap:anywhere}
.card h2{margin-top:0}
footer{color:var(--muted);font-size:12px;margin:32px 0 8px}
#show-critical:not(:checked)~* .is-critical,#show-high:not(:checked)~* .is-high,#show-medium:not(:checked)~* .is-medium,
#show-low:not(:checked)~* .is-low,#show-info:not(:checked)~* .is-info{display:none}
#show-critical:not(:checked)~.filters [for=show-critical],#show-high:not(:checked)~.filters [for=show-high],
#show-medium:not(:checked)~.filters [for=show-medium],#show-low:not(:checked)~.filters [for=show-low],
#show-info:not(:checked)~.filters [for=show-info]{opacity:.45;text-decoration:line-through}
#show-critical:not(:checked)~.filters [for=show-critical]::before,#show-high:not(:checked)~.filters [for=show-high]::before,
#show-medium:not(:checked)~.filters [for=show-medium]::before,#show-low:not(:checked)~.filters [for=show-low]::before,
#show-info:not(:checked)~.filters [for=show-info]::before{content:""}
#show-critical:focus-visible~.filters [for=show-critical],#show-high:focus-visible~.filters [for=show-high],
#show-medium:focus-visible~.filters [for=show-medium],#show-low:focus-visible~.filters [for=show-low],
#show-info:focus-visible~.filters [for=show-info]{outline:2px solid var(--accent)}
@media (max-width:600px){main{padding:12px}.card{padding:12px}.summary{gap:16px}.overview td:first-child{width:auto}
.overview thead{display:none}.overview,.overview tbody{display:block}.overview tr{display:grid;grid-template-columns:auto 1fr;gap:2px 8px;border-bottom:1px solid var(--line);padding:6px 0}
.overview td{border:0;padding:0 8px}.overview td.eps{grid-column:1/-1}.gist{max-width:calc(100vw - 150px)}article.finding{padding:10px 12px}}
"#;

/// The Content-Security-Policy of the page: nothing but its own stylesheet.
pub fn content_security_policy() -> String {
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(CSS.as_bytes()));
    format!(
        "default-src 'none'; style-src 'sha256-{hash}'; img-src 'none'; script-src 'none'; \
         base-uri 'none'; form-action 'none'"
    )
}

/// Renders trusted Markdown (the check catalog's remediation and documentation) to HTML.
///
/// Raw HTML in the Markdown is shown as text, images are left out (only their alt text
/// remains) and a link is kept only if it goes to an `http(s)` URL or an anchor on the
/// page, so even a report file edited by hand cannot put markup or script on a page.
pub fn markdown_to_html(markdown: &str) -> String {
    use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
    // Whether each open link was dropped, so its end is dropped too.
    let mut dropped = Vec::new();
    let events = Parser::new_ext(markdown, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH).filter_map(
        |event| match event {
            Event::Html(raw) | Event::InlineHtml(raw) => Some(Event::Text(raw)),
            Event::Start(Tag::Image { .. }) | Event::End(TagEnd::Image) => None,
            Event::Start(Tag::Link { ref dest_url, .. }) => {
                let keep = ["https://", "http://", "#"].iter().any(|p| dest_url.starts_with(p));
                dropped.push(!keep);
                keep.then_some(event)
            }
            Event::End(TagEnd::Link) => (!dropped.pop().unwrap_or(false)).then_some(event),
            other => Some(other),
        },
    );
    let mut out = String::new();
    pulldown_cmark::html::push_html(&mut out, events);
    out
}

/// Target-controlled text with its `backtick` spans shown as code: every character is
/// escaped as before, only the backticks become `<code>` elements. Text with an odd
/// number of backticks (one came from the target) is shown as it is.
pub fn text_with_code(text: &str) -> Markup {
    let ticks = text.matches('`').count();
    html! {
        @if ticks == 0 || ticks % 2 == 1 {
            (text)
        } @else {
            @for (i, part) in text.split('`').enumerate() {
                @if i % 2 == 1 { code { (part) } } @else { (part) }
            }
        }
    }
}

/// An RFC 3339 timestamp as people read it, to the second: `2026-12-05 23:54:59 UTC`.
/// Anything that is not one is shown as it is.
pub fn timestamp(ts: &str) -> String {
    let b = ts.as_bytes();
    let shaped = b.len() >= 19
        && b[..19].iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T' || *c == b' ',
            13 | 16 => *c == b':',
            _ => c.is_ascii_digit(),
        });
    if !shaped {
        return ts.to_string();
    }
    let rest = ts[19..].trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
    let zone = match rest {
        "Z" | "z" | "+00:00" | "" => "UTC",
        other => other,
    };
    format!("{} {} {zone}", &ts[..10], &ts[11..19])
}

/// One entry of the page: findings of one check with one cause, on one or more endpoints.
pub struct Entry<'a> {
    /// The findings, in report order; the first one speaks for the entry.
    pub findings: Vec<&'a ReportFinding>,
}

impl Entry<'_> {
    fn first(&self) -> &ReportFinding {
        self.findings[0]
    }

    /// The endpoints, each once, in report order.
    pub fn endpoints(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for f in &self.findings {
            if !out.contains(&f.endpoint.as_str()) {
                out.push(&f.endpoint);
            }
        }
        out
    }
}

/// The findings as the page lists them: by severity, most severe first, in report order
/// within a severity, with findings of the same cause merged.
///
/// Two findings have the same cause when everything but the endpoint is the same: check,
/// severity, confidence, title, remediation, suppression and baseline state, and the
/// message once each mention of the finding's own endpoint is taken out of it. Checks
/// write every detail of a cause into the message (the header, the cookie, the timing,
/// the identity), so findings that differ in any of them stay apart.
pub fn entries(report: &Report) -> Vec<Entry<'_>> {
    let mut out: Vec<Entry<'_>> = Vec::new();
    for s in Severity::DESCENDING {
        let mut index: HashMap<CauseKey<'_>, usize> = HashMap::new();
        for f in report.findings.iter().filter(|f| f.severity == s) {
            let key = CauseKey::of(f);
            match index.get(&key) {
                Some(&i) => out[i].findings.push(f),
                None => {
                    index.insert(key, out.len());
                    out.push(Entry { findings: vec![f] });
                }
            }
        }
    }
    out
}

#[derive(PartialEq, Eq, Hash)]
struct CauseKey<'a> {
    check: &'a str,
    title: &'a str,
    confidence: authprobe_core::Confidence,
    remediation: &'a str,
    suppressed: bool,
    suppression_reason: Option<&'a str>,
    baseline: Option<&'static str>,
    cause: String,
}

impl<'a> CauseKey<'a> {
    fn of(f: &'a ReportFinding) -> Self {
        CauseKey {
            check: &f.check,
            title: &f.title,
            confidence: f.confidence,
            remediation: &f.remediation,
            suppressed: f.suppressed,
            suppression_reason: f.suppression_reason.as_deref(),
            baseline: f.baseline.map(|b| b.as_str()),
            cause: without_endpoint(&f.message, &f.endpoint),
        }
    }
}

/// `message` with each mention of `endpoint` that stands on its own (not part of a longer
/// path or URL) replaced by a placeholder.
fn without_endpoint(message: &str, endpoint: &str) -> String {
    if endpoint.is_empty() {
        return message.to_string();
    }
    let path_char = |c: char| c.is_alphanumeric() || "/_-~%?=&#+:@".contains(c);
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(at) = rest.find(endpoint) {
        let before = rest[..at].chars().last().or_else(|| out.chars().last());
        let after_text = &rest[at + endpoint.len()..];
        let mut after = after_text.chars();
        let next = after.next();
        // A full stop ends a sentence unless a path goes on after it (`/v1.json`).
        let continues = match next {
            Some('.') => after.next().is_some_and(|c| c.is_alphanumeric()),
            Some(c) => path_char(c),
            None => false,
        };
        let standalone = !before.is_some_and(path_char) && !continues;
        out.push_str(&rest[..at]);
        out.push_str(if standalone { "\u{0}" } else { endpoint });
        rest = after_text;
    }
    out.push_str(rest);
    out
}

/// The anchor of an entry: its check code (letters and digits only) and its place.
fn anchor(entry_index: usize, check: &str) -> String {
    let code: String = check
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    format!(
        "{}-{}",
        if code.is_empty() { "finding" } else { &code },
        entry_index + 1
    )
}

/// Renders the HTML page.
pub fn render(report: &Report) -> String {
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="Content-Security-Policy" content=(content_security_policy());
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                title { "authprobe report: " (report.target.url) " — " (report.score) "/100 " (report.grade) }
                style { (PreEscaped(CSS)) }
            }
            "\n"
            body {
                main {
                    (summary(report))
                    "\n"
                    (categories(report))
                    "\n"
                    (findings(report))
                    "\n"
                    (skipped(report))
                    footer {
                        "Generated by " (report.tool.name) " " (report.tool.version)
                        " · schema " (report.schema)
                        " · reproduce a finding with its curl; "
                        code { "authprobe explain CODE" } " prints a check's documentation."
                    }
                }
            }
        }
    };
    let mut out = page.into_string();
    out.push('\n');
    out
}

fn summary(report: &Report) -> Markup {
    let grade = grade_class(&report.grade);
    let suppressed = report.findings.iter().filter(|f| f.suppressed).count();
    html! {
        section.card.summary {
            (gauge(report.score, &grade))
            div class={ "grade grade-" (grade) } title="grade" { (report.grade) }
            div {
                h1 { "authprobe report" }
                div.meta {
                    div { "Target " code { (report.target.url) } }
                    div { (timestamp(&report.started_at)) " · " (format!("{:.1}", report.duration_ms as f64 / 1000.0)) " s · profile " (report.profile) }
                    div { (report.stats.requests) " requests · " (report.stats.endpoints) " endpoints · " (report.stats.checks_run) @if report.stats.checks_total > 0 { " of " (report.stats.checks_total) } " checks run" }
                    @if report.incomplete {
                        div.writes { strong { "Incomplete: " } (report.incomplete_summary()) "; this is a partial report." }
                    }
                    @if let Some(writes) = &report.writes {
                        div.writes { (writes.summary()) }
                    }
                    @if !report.identities.is_empty() {
                        div {
                            "As "
                            @for (i, id) in report.identities.iter().enumerate() {
                                @if i > 0 { ", " }
                                (id.label) " (" (id.flow) @if id.session { " + session" } @if !id.logged_in { "login failed" } ")"
                            }
                        }
                    }
                }
                div.counts {
                    @if report.findings.is_empty() {
                        strong { "No findings." }
                    } @else {
                        @for s in Severity::DESCENDING {
                            @let n = report.findings.iter().filter(|f| f.severity == s).count();
                            @if n > 0 { span { span class={ "sev sev-" (s.as_str()) } { (n) " " (s.as_str()) } } }
                        }
                    }
                }
                @if suppressed > 0 {
                    div.note { (suppressed) " suppressed (listed, not counted by the score or the gate)" }
                }
                @if let Some(b) = &report.baseline {
                    div.note {
                        "Against the baseline (score " (b.score) "): " (b.new) " new, "
                        (b.unchanged) " unchanged, " (b.resolved) " resolved"
                    }
                }
            }
        }
    }
}

/// The letter used in CSS class names: one of A–F, whatever the report says.
fn grade_class(grade: &str) -> String {
    match grade {
        "A" | "B" | "C" | "D" => grade.to_string(),
        _ => "F".to_string(),
    }
}

/// A ring gauge: the arc covers `score` percent of the circle.
fn gauge(score: u8, grade: &str) -> Markup {
    const R: f64 = 52.0;
    let circumference = 2.0 * std::f64::consts::PI * R;
    let filled = circumference * f64::from(score.min(100)) / 100.0;
    html! {
        svg width="132" height="132" viewBox="0 0 132 132" role="img" aria-label={ "score " (score) " of 100" } {
            circle.gauge-track cx="66" cy="66" r=(R) {}
            circle class={ "gauge-value stroke-" (grade) } cx="66" cy="66" r=(R)
                stroke-dasharray={ (format!("{filled:.2}")) " " (format!("{circumference:.2}")) }
                transform="rotate(-90 66 66)" {}
            text.gauge-score x="66" y="70" text-anchor="middle" { (score) }
            text.gauge-label x="66" y="90" text-anchor="middle" { "/ 100" }
        }
    }
}

fn categories(report: &Report) -> Markup {
    html! {
        @if !report.categories.is_empty() {
            section.card {
                h2 { "Categories" }
                table.categories {
                    @for c in &report.categories {
                        tr {
                            td { (c.name) }
                            td {
                                svg width="100%" height="14" viewBox="0 0 100 14" preserveAspectRatio="none" role="img" aria-label={ (c.name) " " (c.label()) } {
                                    rect.bar-track x="0" y="2" width="100" height="10" rx="3" {}
                                    rect.bar-value x="0" y="2" width=(c.score.unwrap_or(0).min(100)) height="10" rx="3" {}
                                }
                            }
                            td { (c.label()) }
                        }
                    }
                }
            }
        }
    }
}

fn findings(report: &Report) -> Markup {
    let entries = entries(report);
    let anchors: Vec<String> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| anchor(i, &e.first().check))
        .collect();
    // Where each check's remediation is printed: its first entry on the page.
    let mut fixes: HashMap<(&str, &str), usize> = HashMap::new();
    for (i, e) in entries.iter().enumerate() {
        fixes
            .entry((e.first().check.as_str(), e.first().remediation.trim()))
            .or_insert(i);
    }
    let present: Vec<(Severity, usize)> = Severity::DESCENDING
        .iter()
        .map(|s| (*s, entries.iter().filter(|e| e.first().severity == *s).count()))
        .filter(|(_, n)| *n > 0)
        .collect();
    html! {
        section #findings {
            h2 { "Findings (" (report.findings.len()) ")" }
            @if report.findings.is_empty() {
                p.card { "No findings." }
            } @else {
                @if entries.len() < report.findings.len() {
                    p.note {
                        "Listed in " (entries.len()) " entries: findings of one check with the same cause on several endpoints are one entry that lists the endpoints."
                    }
                }
                @for (s, _) in &present {
                    input.filter type="checkbox" id={ "show-" (s.as_str()) } checked aria-label={ "show " (s.as_str()) };
                }
                div.filters {
                    span.hint { "Show" }
                    @for (s, n) in &present {
                        label for={ "show-" (s.as_str()) } { span class={ "sev sev-" (s.as_str()) } { (s.as_str()) } " " (n) }
                    }
                }
                (overview(&entries, &anchors))
                div.entries {
                    @for s in Severity::DESCENDING {
                        @let group: Vec<usize> = (0..entries.len()).filter(|i| entries[*i].first().severity == s).collect();
                        @if !group.is_empty() {
                            section class={ "group is-" (s.as_str()) } {
                                h3 { (s.as_str()) " (" (group.len()) ")" }
                                @for i in group {
                                    @let e = &entries[i];
                                    @let fix_at = fixes[&(e.first().check.as_str(), e.first().remediation.trim())];
                                    "\n"
                                    (entry(e, &anchors[i], (fix_at != i).then(|| (anchors[fix_at].as_str(), &entries[fix_at]))))
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The table of every entry, each row linking to it.
fn overview(entries: &[Entry<'_>], anchors: &[String]) -> Markup {
    html! {
        table.overview {
            thead { tr { th { "Severity" } th { "Finding" } th { "Endpoint" } } }
            tbody {
                @for (e, id) in entries.iter().zip(anchors) {
                    @let f = e.first();
                    @let endpoints = e.endpoints();
                    // Rows that would read alike (same check, same endpoint) show how they differ.
                    @let alike = entries.iter().filter(|o| o.first().check == f.check && o.endpoints()[0] == endpoints[0]).count() > 1;
                    tr class={ "is-" (f.severity.as_str()) } {
                        td { span class={ "sev sev-" (f.severity.as_str()) } { (f.severity.as_str()) } }
                        td {
                            span.check { (f.check) }
                            a href={ "#" (id) } { (f.title) }
                            (tags(f))
                            @if alike { div.gist { (text_with_code(&f.message)) } }
                        }
                        td.eps {
                            span.endpoint { (text_with_code(endpoints[0])) }
                            @if endpoints.len() > 1 { " " span.more { "+ " (endpoints.len() - 1) " more" } }
                        }
                    }
                }
            }
        }
    }
}

fn tags(f: &ReportFinding) -> Markup {
    html! {
        @if f.suppressed { span.tag.tag-suppressed { "suppressed" } }
        @if let Some(state) = f.baseline {
            span class={ "tag tag-" (state.as_str()) } { (state.as_str()) }
        }
    }
}

/// One entry; `fix_elsewhere` is the entry that already shows the same remediation.
fn entry(e: &Entry<'_>, id: &str, fix_elsewhere: Option<(&str, &Entry<'_>)>) -> Markup {
    let f = e.first();
    let endpoints = e.endpoints();
    let open_fix = f.severity >= Severity::High && !f.suppressed;
    html! {
        article.finding.suppressed[f.suppressed] id=(id) {
            div.finding-head {
                span class={ "sev sev-" (f.severity.as_str()) } { (f.severity.as_str()) }
                span.check { (f.check) }
                span.title { (f.title) }
                (tags(f))
            }
            @if endpoints.len() == 1 {
                div.where { "Endpoint " span.endpoint { (text_with_code(endpoints[0])) } }
            } @else {
                div.where {
                    (endpoints.len()) " endpoints, one cause:"
                    ul.endpoints { @for ep in &endpoints { li { span.endpoint { (text_with_code(ep)) } } } }
                }
            }
            p { (text_with_code(&f.message)) }
            @if endpoints.len() > 1 {
                p.note { "The message is the one for " span.endpoint { (endpoints[0]) } "; on the other endpoints it differs only in the endpoint." }
            }
            @if f.suppressed {
                p.note { strong { "Suppressed" } " (not counted): " (f.suppression_reason.as_deref().unwrap_or("")) }
            }
            p.note {
                "confidence " (f.confidence) " · " (f.slug)
                @for c in &f.cwe { " · " (c) }
                @for o in &f.owasp { " · OWASP " (o) }
            }
            @for ev in &f.evidence { (evidence(ev)) }
            @for other in e.findings.iter().skip(1).filter(|o| !o.evidence.is_empty()) {
                details.more {
                    summary { "Evidence at " span.endpoint { (other.endpoint) } " (" (other.evidence.len()) ")" }
                    @for ev in &other.evidence { (evidence(ev)) }
                }
            }
            @if !f.remediation.trim().is_empty() {
                @if let Some((at, shown)) = fix_elsewhere {
                    p.note { "Remediation: as for " a href={ "#" (at) } { (shown.first().check) " " (shown.endpoints()[0]) } " above." }
                } @else {
                    details.fix open[open_fix] {
                        summary { "Remediation" }
                        div.markdown { (PreEscaped(markdown_to_html(f.remediation.trim()))) }
                    }
                }
            }
            p.note { code { "authprobe explain " (f.check) } }
        }
    }
}

/// One recorded exchange, folded, its summary saying what it was: the role, the request
/// line and the status.
fn evidence(e: &Evidence) -> Markup {
    let role = e.role.clone().unwrap_or_else(|| fallback_role(&e.request));
    html! {
        details.evidence {
            summary {
                @if !role.is_empty() { span.role { (role) } " · " }
                span.req { (request_line(&e.request)) }
                @let status = status_line(&e.response);
                @if !status.is_empty() { " → " (status) }
            }
            @if !e.request.is_empty() { div.note { "Request" } pre { (e.request) } }
            @if !e.response.is_empty() { div.note { "Response" } pre { (e.response) } }
            @if !e.curl.is_empty() { div.note { "Reproduce" } pre { (e.curl) } }
        }
    }
}

/// The role of evidence from a report that predates roles: `anonymous request` when the
/// request carried no credential header, else nothing (the request line says the rest).
fn fallback_role(request: &str) -> String {
    let credential = request.lines().skip(1).take_while(|l| !l.is_empty()).any(|l| {
        let name = l.split(':').next().unwrap_or("").trim().to_ascii_lowercase();
        matches!(
            name.as_str(),
            "authorization" | "cookie" | "x-api-key" | "api-key" | "x-auth-token" | "x-access-token"
        )
    });
    if credential || request.is_empty() {
        String::new()
    } else {
        "anonymous request".to_string()
    }
}

/// `GET /api/notes/?page=2` from the request's first line (`GET http://host/api/notes/?page=2`).
fn request_line(request: &str) -> String {
    let first = request.lines().next().unwrap_or("");
    let (method, rest) = first.split_once(' ').unwrap_or((first, ""));
    let target = rest.split(' ').next().unwrap_or("");
    let path = match url::Url::parse(target) {
        Ok(u) if u.has_host() => {
            let mut p = u.path().to_string();
            if let Some(q) = u.query() {
                p.push('?');
                p.push_str(q);
            }
            p
        }
        _ => target.to_string(),
    };
    shorten(&format!("{method} {path}"), 120)
}

/// `HTTP 200` from the response's first line.
fn status_line(response: &str) -> String {
    shorten(response.lines().next().unwrap_or(""), 80)
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(max - 1).collect();
        s.push('…');
        s
    }
}

fn skipped(report: &Report) -> Markup {
    html! {
        @if !report.checks_skipped.is_empty() {
            section.card {
                h2 { "Skipped checks (" (report.checks_skipped.len()) ")" }
                table {
                    @for s in &report.checks_skipped {
                        tr { td { (s.check) } td { (s.reason) } }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::sample;

    /// The sample with what the page does beyond it: two findings of one cause on two
    /// endpoints, a third of the same check with another cause, evidence with roles and a
    /// fenced remediation.
    fn richer() -> Report {
        let mut report = sample();
        report.started_at = "2026-11-23T10:00:00.123456789Z".into();
        let trace = |endpoint: &str, marker: &str| {
            let mut f = report.findings[0].clone();
            f.check = "DJ003".into();
            f.slug = "django-verbose-errors".into();
            f.title = "Verbose server errors".into();
            f.severity = Severity::Medium;
            f.endpoint = endpoint.into();
            f.message =
                format!("{endpoint} answered malformed query parameters with internals of the server (`{marker}`).");
            f.remediation = "Turn `DEBUG` off:\n```python\nDEBUG = False\n```".into();
            f.evidence = vec![Evidence {
                request: format!("GET http://127.0.0.1:8000{endpoint}?page=%27\nAccept: */*"),
                response: "HTTP 500\ncontent-type: text/html".into(),
                curl: format!("curl -i 'http://127.0.0.1:8000{endpoint}?page=%27'"),
                role: Some("anonymous request".into()),
            }];
            f
        };
        let posts = trace("/api/posts/", "Traceback (most recent call last)");
        let users = trace("/api/users/", "Traceback (most recent call last)");
        let other = trace("/api/orders/", "Exception Value:");
        report.findings.extend([posts, users, other]);
        report.findings[0].evidence[0].role = Some("as alice (own credential)".into());
        report
    }

    #[test]
    fn html_snapshot() {
        insta::assert_snapshot!(render(&richer()));
    }

    #[test]
    fn target_text_is_escaped_everywhere() {
        let mut report = richer();
        let payload = r#"<script>alert(1)</script>"><img src=x onerror=alert(2)>'"#;
        report.target.url = payload.into();
        report.profile = payload.into();
        for f in &mut report.findings {
            f.endpoint = payload.into();
            f.message = format!("`{payload}` {payload}");
            f.title = payload.into();
            f.check = payload.into();
        }
        report.findings[0].evidence[0].response = payload.into();
        report.findings[0].evidence[0].request = payload.into();
        report.findings[0].evidence[0].role = Some(payload.into());
        report.findings[0].suppressed = true;
        report.findings[0].suppression_reason = Some(payload.into());
        report.checks_skipped[0].reason = payload.into();
        let page = render(&report);
        assert!(!page.contains("<script"), "a script element got through");
        assert!(!page.contains("<img"), "an img element got through");
        assert!(!page.contains("\"><img"), "an attribute was closed by target text");
        assert!(!page.contains("onerror=alert(2)>"), "target text closed a tag");
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(2)&gt;"));
        // A check code from a hand-edited report makes a plain anchor, never markup.
        for id in ids(&page) {
            assert!(id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'), "{id}");
        }
    }

    #[test]
    fn markdown_in_the_remediation_is_rendered_with_code_in_monospace() {
        let page = render(&richer());
        assert!(page.contains("Set <code>DEBUG = False</code> in production settings."));
        assert!(page.contains(
            "<p>Turn <code>DEBUG</code> off:</p>\n<pre><code class=\"language-python\">DEBUG = False\n</code></pre>"
        ));
        assert!(!page.contains("```"), "a literal fence on the page");
        let fix = |f: &str| markdown_to_html(f);
        assert_eq!(fix("Use `x`."), "<p>Use <code>x</code>.</p>\n");
        assert!(fix("- one\n- two").contains("<li>one</li>"));
        assert!(CSS.contains("code,pre,.endpoint{font-family:var(--mono)}"));
    }

    #[test]
    fn raw_html_in_markdown_is_shown_as_text() {
        let hostile = "Fix <it> & \"quote\".\n\n<script>alert(1)</script>\n\nInline <img src=x onerror=alert(2)> and \
                       [a link](javascript:alert(3)), ![an image](https://x.invalid/i.png), [docs](https://docs.invalid/) \
                       and <a href=\"javascript:alert(4)\">raw</a>.";
        let out = markdown_to_html(hostile);
        for markup in [
            "<script",
            "<img",
            "<it>",
            "<a href=\"javascript",
            "javascript:alert(3)\"",
        ] {
            assert!(!out.contains(markup), "`{markup}` in {out}");
        }
        assert!(out.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{out}");
        assert!(out.contains("Fix &lt;it&gt; &amp; \"quote\"."), "{out}");
        assert!(out.contains("a link"), "a dropped link keeps its text: {out}");
        assert!(out.contains("an image"), "an image keeps its alt text: {out}");
        assert!(out.contains("<a href=\"https://docs.invalid/\">docs</a>"), "{out}");
        // The same through a report's remediation.
        let mut report = sample();
        report.findings[0].remediation = hostile.into();
        let page = render(&report);
        assert!(!page.contains("<script") && !page.contains("<img"));
    }

    #[test]
    fn target_text_shows_its_backtick_spans_as_code_and_nothing_else() {
        let html = |t: &str| text_with_code(t).into_string();
        assert_eq!(html("as `alice` <b>"), "as <code>alice</code> &lt;b&gt;");
        assert_eq!(html("odd ` tick"), "odd ` tick");
        assert_eq!(html("`<i>`"), "<code>&lt;i&gt;</code>");
    }

    /// Every `id` of an entry on the page.
    fn ids(page: &str) -> Vec<String> {
        page.split("<article ")
            .skip(1)
            .map(|a| {
                let at = a.find(" id=\"").expect("an entry has an id") + 5;
                a[at..at + a[at..].find('"').unwrap()].to_string()
            })
            .collect()
    }

    #[test]
    fn the_summary_table_links_to_every_entry_in_order() {
        let page = render(&richer());
        let table = &page[page.find("<table class=\"overview\">").unwrap()..];
        let table = &table[..table.find("</table>").unwrap()];
        let links: Vec<String> = table
            .split("href=\"#")
            .skip(1)
            .map(|l| l[..l.find('"').unwrap()].to_string())
            .collect();
        assert_eq!(links, ids(&page));
        assert_eq!(links, ["dj001-1", "dj003-2", "dj003-3", "dj002-4"]);
        assert!(table.contains("<span class=\"endpoint\">/api/posts/</span> <span class=\"more\">+ 1 more</span>"));
        // Every row and entry carries its severity, which the filters hide by.
        assert_eq!(table.matches("<tr class=\"is-").count(), 4);
        for s in ["critical", "high", "medium", "low", "info"] {
            assert!(CSS.contains(&format!("#show-{s}:not(:checked)~* .is-{s}")));
        }
        assert!(page.contains("<input class=\"filter\" type=\"checkbox\" id=\"show-medium\" checked"));
        assert!(page.contains("<label for=\"show-medium\"><span class=\"sev sev-medium\">medium</span> 2</label>"));
        assert!(
            !page.contains("id=\"show-critical\""),
            "no filter for an absent severity"
        );
    }

    #[test]
    fn findings_of_one_cause_are_merged_and_different_causes_kept_apart() {
        let report = richer();
        let entries = entries(&report);
        let shape: Vec<(&str, Vec<&str>)> = entries
            .iter()
            .map(|e| (e.first().check.as_str(), e.endpoints()))
            .collect();
        assert_eq!(
            shape,
            [
                ("DJ001", vec!["/x/"]),
                ("DJ003", vec!["/api/posts/", "/api/users/"]),
                ("DJ003", vec!["/api/orders/"]),
                ("DJ002", vec!["http://127.0.0.1:8000/admin/login/?next=/admin/|x"]),
            ]
        );
        let page = render(&report);
        assert!(
            page.contains("Findings (5)"),
            "the heading counts findings, not entries"
        );
        assert!(page.contains("Listed in 4 entries"));
        assert!(page.contains("2 endpoints, one cause:"));
        assert!(page.contains("Evidence at <span class=\"endpoint\">/api/users/</span> (1)"));
    }

    #[test]
    fn summary_rows_that_would_read_alike_show_how_they_differ() {
        let mut report = richer();
        let mut other = report.findings[4].clone();
        other.endpoint = "/api/posts/".into();
        other.message = "/api/posts/ answered with `Exception Value:`.".into();
        report.findings.push(other);
        let page = render(&report);
        let table = &page[page.find("<table class=\"overview\">").unwrap()..];
        let table = &table[..table.find("</table>").unwrap()];
        assert!(table.contains("<div class=\"gist\">/api/posts/ answered with <code>Exception Value:</code>.</div>"));
        assert!(table.contains("<div class=\"gist\">/api/posts/ answered malformed query parameters"));
        assert_eq!(table.matches("class=\"gist\"").count(), 2, "only the rows alike");
    }

    #[test]
    fn only_the_endpoint_may_differ_between_merged_messages() {
        let same = |a: (&str, &str), b: (&str, &str)| without_endpoint(a.0, a.1) == without_endpoint(b.0, b.1);
        // The endpoint, wherever it stands on its own.
        assert!(same(
            ("/a/ answers anyone (HTTP 200); see /a/.", "/a/"),
            ("/b/c/ answers anyone (HTTP 200); see /b/c/.", "/b/c/")
        ));
        assert!(same(
            ("Cookie `sid` lacks Secure.", "/a/"),
            ("Cookie `sid` lacks Secure.", "/b/")
        ));
        // Any other difference is another cause: the header, a number, another path.
        assert!(!same(
            ("/a/ lacks X-Frame-Options.", "/a/"),
            ("/b/ lacks Referrer-Policy.", "/b/")
        ));
        assert!(!same(("/a/ took 0.5 s.", "/a/"), ("/b/ took 0.4 s.", "/b/")));
        assert!(!same(("/a/ as /x/ does.", "/a/"), ("/b/ as /y/ does.", "/b/")));
        // Part of a longer path is not the endpoint: `/` inside `/api/` stays.
        assert_eq!(without_endpoint("/, /api/ and /.", "/"), "\u{0}, /api/ and \u{0}.");
        assert_eq!(without_endpoint("/v1.json and /v1", "/v1"), "/v1.json and \u{0}");
        // A finding that differs in severity, suppression or baseline stays apart.
        let mut report = richer();
        report.findings[3].suppressed = true;
        assert_eq!(entries(&report).len(), 5);
        let mut report = richer();
        report.findings[3].severity = Severity::Low;
        assert_eq!(entries(&report).len(), 5);
    }

    #[test]
    fn a_remediation_is_printed_once_per_check_and_linked_from_later_entries() {
        let page = render(&richer());
        assert_eq!(page.matches("<code class=\"language-python\">").count(), 1);
        assert!(page.contains("Remediation: as for <a href=\"#dj003-2\">DJ003 /api/posts/</a> above."));
        // Open for critical and high findings, folded below.
        assert!(page.contains("<details class=\"fix\" open><summary>Remediation</summary>"));
        assert!(page.contains("<details class=\"fix\"><summary>Remediation</summary>"));
    }

    #[test]
    fn evidence_is_folded_and_labelled_by_its_role() {
        let mut report = richer();
        report.findings[0].evidence.push(Evidence {
            request: "POST http://127.0.0.1:8000/api/token/\nCookie: sessionid=[redacted:1]".into(),
            response: "HTTP 200".into(),
            curl: String::new(),
            role: None,
        });
        let page = render(&report);
        assert!(page.contains(
            "<details class=\"evidence\"><summary><span class=\"role\">as alice (own credential)</span> · <span class=\"req\">GET /x/</span> → HTTP/1.1 404 Not Found</summary>"
        ));
        assert!(page.contains(
            "<summary><span class=\"role\">anonymous request</span> · <span class=\"req\">GET /api/posts/?page=%27</span> → HTTP 500</summary>"
        ));
        // Without a role (an older report), the request line says what it was.
        assert!(page.contains("<summary><span class=\"req\">POST /api/token/</span> → HTTP 200</summary>"));
        assert!(!page.contains("<details class=\"evidence\" open"));
        assert!(!page.contains("Evidence 1"));
        assert_eq!(fallback_role("GET http://x/\nAccept: */*"), "anonymous request");
        assert_eq!(fallback_role("GET http://x/\nAuthorization: Bearer [redacted:1]"), "");
    }

    #[test]
    fn the_scan_time_is_shown_to_the_second() {
        let page = render(&richer());
        assert!(page.contains("<div>2026-11-23 10:00:00 UTC · 2.0 s · profile standard</div>"));
        assert!(!page.contains("10:00:00.123"));
        assert_eq!(timestamp("2026-12-05T23:54:59.246204499Z"), "2026-12-05 23:54:59 UTC");
        assert_eq!(timestamp("2026-12-05T23:54:59+01:00"), "2026-12-05 23:54:59 +01:00");
        assert_eq!(timestamp("2026-12-05T23:54:59.5-05:00"), "2026-12-05 23:54:59 -05:00");
        assert_eq!(timestamp("yesterday"), "yesterday");
    }

    #[test]
    fn suppressed_and_baseline_findings_are_marked() {
        let mut report = sample();
        report.findings[0].suppressed = true;
        report.findings[0].suppression_reason = Some("accepted in SEC-9".into());
        report.findings[1].baseline = Some(authprobe_core::report::BaselineState::New);
        report.baseline = Some(authprobe_core::report::BaselineSummary {
            score: 70,
            new: 1,
            unchanged: 1,
            resolved: 3,
        });
        let page = render(&report);
        assert!(
            page.contains("<article class=\"finding suppressed\" id=\"dj001-1\">"),
            "a suppressed finding is dimmed"
        );
        assert!(page.contains("(not counted): accepted in SEC-9"));
        assert!(page.contains("1 suppressed (listed, not counted by the score or the gate)"));
        assert!(page.contains("<span class=\"tag tag-new\">new</span>"));
        assert!(page.contains("Against the baseline (score 70): 1 new, 1 unchanged, 3 resolved"));
    }

    #[test]
    fn the_page_is_self_contained_with_a_strict_csp() {
        let page = render(&richer());
        let csp = content_security_policy();
        assert!(page.contains(&format!("content=\"{csp}\"")));
        assert!(csp.starts_with("default-src 'none'; style-src 'sha256-"));
        assert!(csp.contains("script-src 'none'"));
        // The hash names exactly the stylesheet on the page.
        assert!(page.contains(&format!("<style>{CSS}</style>")));
        let outside_data = page.replace("http://127.0.0.1:8000/", "");
        for external in ["http://", "https://", "src=", "url(", "@import", "<script", "<form"] {
            assert!(!outside_data.contains(external), "the page references `{external}`");
        }
        // Links go to entries on the page only.
        assert!(page.contains("href=\"#"));
        assert_eq!(page.matches("href=\"").count(), page.matches("href=\"#").count());
    }

    #[test]
    fn findings_are_grouped_by_severity_with_evidence_and_remediation() {
        let page = render(&sample());
        let high = page.find("<h3>high (1)</h3>").expect("a high group");
        let info = page.find("<h3>info (1)</h3>").expect("an info group");
        assert!(high < info);
        assert!(
            page.contains("curl -i &#39;http://127.0.0.1:8000/x/&#39;")
                || page.contains("curl -i 'http://127.0.0.1:8000/x/'")
        );
        assert!(page.contains("Skipped checks (1)"));
        assert!(page.contains("stroke-dasharray=\"261.38 326.73\""), "80% of the ring");
        // SVG shapes in HTML need explicit end tags, or each one swallows the next.
        for shape in ["circle", "rect", "text"] {
            let opened = page.matches(&format!("<{shape} ")).count();
            assert!(opened > 0, "no <{shape}>");
            assert_eq!(
                opened,
                page.matches(&format!("</{shape}>")).count(),
                "<{shape}> left open"
            );
        }
    }
}
