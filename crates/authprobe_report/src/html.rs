//! `--format html`: one self-contained page for people: a score gauge and the grade, a bar
//! per category, the findings grouped by severity with their evidence (request, response,
//! `curl`) and remediation, and the skipped checks.
//!
//! The page fetches nothing and runs nothing: the CSS is inline, the gauge and bars are
//! inline SVG, and a Content-Security-Policy meta tag allows only that one stylesheet (by
//! its SHA-256 hash) — no script, no image, no font, no frame, no form. Every string comes
//! through maud's `html!`, which escapes it, and target-controlled text is only ever placed
//! in element content or quoted attribute values, never in a URL.

use authprobe_core::report::ReportFinding;
use authprobe_core::{Report, Severity};
use base64::Engine as _;
use maud::{html, Markup, PreEscaped, DOCTYPE};
use sha2::{Digest, Sha256};

/// The page's only stylesheet; the CSP names its hash.
const CSS: &str = r#"
:root{--fg:#1d2330;--muted:#5b6475;--line:#dde2ea;--bg:#f6f7f9;--card:#fff;
--critical:#8e1b1b;--high:#c2410c;--medium:#b7791f;--low:#2f6f9f;--info:#5b6475;--ok:#1f7a3f}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:1080px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 10px}h3{font-size:14px;margin:14px 0 6px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
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
.categories td:first-child{width:160px}.categories td:last-child{width:48px;text-align:right;font-variant-numeric:tabular-nums}
.counts span{display:inline-block;margin-right:10px}
.sev{display:inline-block;min-width:72px;text-align:center;border-radius:4px;color:#fff;font-size:12px;font-weight:700;padding:1px 6px;text-transform:uppercase}
.sev-critical{background:var(--critical)}.sev-high{background:var(--high)}.sev-medium{background:var(--medium)}.sev-low{background:var(--low)}.sev-info{background:var(--info)}
.tag{display:inline-block;border:1px solid var(--line);border-radius:4px;font-size:12px;padding:0 6px;margin-left:6px;color:var(--muted)}
.tag-suppressed{border-color:var(--muted);background:#eef0f3}.tag-new{border-color:var(--high);color:var(--high)}
details.finding{background:var(--card);border:1px solid var(--line);border-radius:8px;margin:8px 0;padding:0 16px}
details.finding[open]{padding-bottom:12px}
details.finding summary{cursor:pointer;padding:10px 0;list-style-position:outside}
details.suppressed{opacity:.75}
.check{font-weight:700;margin:0 6px}.endpoint{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:13px;color:var(--muted);word-break:break-all}
pre{background:#0f1420;color:#e6e9ef;padding:10px 12px;border-radius:6px;overflow:auto;font:12.5px/1.45 ui-monospace,Menlo,Consolas,monospace;white-space:pre-wrap;word-break:break-all;margin:4px 0 10px}
.remediation{white-space:pre-wrap;background:#f1f6f1;border-left:4px solid var(--ok);padding:8px 12px;border-radius:4px;font-size:14px}
.note{color:var(--muted);font-size:13px}
.card h2{margin-top:0}
footer{color:var(--muted);font-size:12px;margin:32px 0 8px}
"#;

/// The Content-Security-Policy of the page: nothing but its own stylesheet.
pub fn content_security_policy() -> String {
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(CSS.as_bytes()));
    format!(
        "default-src 'none'; style-src 'sha256-{hash}'; img-src 'none'; script-src 'none'; \
         base-uri 'none'; form-action 'none'"
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
                    div { (report.started_at) " · " (format!("{:.1}", report.duration_ms as f64 / 1000.0)) " s · profile " (report.profile) }
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
    html! {
        section {
            h2 { "Findings (" (report.findings.len()) ")" }
            @if report.findings.is_empty() {
                p.card { "No findings." }
            }
            @for s in Severity::DESCENDING {
                @let group: Vec<&ReportFinding> = report.findings.iter().filter(|f| f.severity == s).collect();
                @if !group.is_empty() {
                    h3 { (s.as_str()) " (" (group.len()) ")" }
                    @for f in group {
                        "\n"
                        (finding(f))
                    }
                }
            }
        }
    }
}

fn finding(f: &ReportFinding) -> Markup {
    let open = f.severity >= Severity::High && !f.suppressed;
    html! {
        details.finding.suppressed[f.suppressed] open[open] {
            summary {
                span class={ "sev sev-" (f.severity.as_str()) } { (f.severity.as_str()) }
                span.check { (f.check) }
                (f.title) " "
                span.endpoint { (f.endpoint) }
                @if f.suppressed { span.tag.tag-suppressed { "suppressed" } }
                @if let Some(state) = f.baseline {
                    span class={ "tag tag-" (state.as_str()) } { (state.as_str()) }
                }
            }
            p { (f.message) }
            @if f.suppressed {
                p.note { strong { "Suppressed" } " (not counted): " (f.suppression_reason.as_deref().unwrap_or("")) }
            }
            p.note {
                "confidence " (f.confidence) " · " (f.slug)
                @for c in &f.cwe { " · " (c) }
                @for o in &f.owasp { " · OWASP " (o) }
            }
            @for (i, e) in f.evidence.iter().enumerate() {
                h3 { "Evidence " (i + 1) }
                @if !e.request.is_empty() { div.note { "Request" } pre { (e.request) } }
                @if !e.response.is_empty() { div.note { "Response" } pre { (e.response) } }
                @if !e.curl.is_empty() { div.note { "Reproduce" } pre { (e.curl) } }
            }
            @if !f.remediation.trim().is_empty() {
                h3 { "Remediation" }
                div.remediation { (f.remediation.trim()) }
            }
            p.note { code { "authprobe explain " (f.check) } }
        }
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

    #[test]
    fn html_snapshot() {
        insta::assert_snapshot!(render(&sample()));
    }

    #[test]
    fn target_text_is_escaped_everywhere() {
        let mut report = sample();
        let payload = r#"<script>alert(1)</script>"><img src=x onerror=alert(2)>'"#;
        report.target.url = payload.into();
        report.profile = payload.into();
        for f in &mut report.findings {
            f.endpoint = payload.into();
            f.message = payload.into();
            f.title = payload.into();
        }
        report.findings[0].evidence[0].response = payload.into();
        report.findings[0].suppressed = true;
        report.findings[0].suppression_reason = Some(payload.into());
        report.checks_skipped[0].reason = payload.into();
        let page = render(&report);
        assert!(!page.contains("<script"), "a script element got through");
        assert!(!page.contains("<img"), "an img element got through");
        assert!(!page.contains("\"><img"), "an attribute was closed by target text");
        assert!(!page.contains("onerror=alert(2)>"), "target text closed a tag");
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(2)&gt;"));
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
            page.contains("<details class=\"finding suppressed\">"),
            "a suppressed finding is folded"
        );
        assert!(page.contains("(not counted): accepted in SEC-9"));
        assert!(page.contains("1 suppressed (listed, not counted by the score or the gate)"));
        assert!(page.contains("<span class=\"tag tag-new\">new</span>"));
        assert!(page.contains("Against the baseline (score 70): 1 new, 1 unchanged, 3 resolved"));
    }

    #[test]
    fn the_page_is_self_contained_with_a_strict_csp() {
        let page = render(&sample());
        let csp = content_security_policy();
        assert!(page.contains(&format!("content=\"{csp}\"")));
        assert!(csp.starts_with("default-src 'none'; style-src 'sha256-"));
        assert!(csp.contains("script-src 'none'"));
        // The hash names exactly the stylesheet on the page.
        assert!(page.contains(&format!("<style>{CSS}</style>")));
        for external in ["http://", "https://", "src=", "href=", "url(", "@import"] {
            let outside_data = page.replace("http://127.0.0.1:8000/", "");
            assert!(!outside_data.contains(external), "the page references `{external}`");
        }
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
        assert!(page.contains("Set `DEBUG = False` in production settings."));
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
