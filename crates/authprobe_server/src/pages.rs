//! The HTML pages. maud escapes every interpolated string, so text that came from a
//! scanned target (messages, evidence, endpoints, its URL) is always shown, never run.
//! Target URLs are never made into links: only `/…` paths of this dashboard are.

use axum::extract::{Form, Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::{html, Markup, PreEscaped, DOCTYPE};
use serde::Deserialize;
use std::sync::Arc;

use crate::chart::{self, Point};
use crate::security::{self, csrf_ok};
use crate::{parse_id, AppError, AppState};
use authprobe_core::report::ReportFinding;
use authprobe_report::html::{markdown_to_html, text_with_code};
use authprobe_store::{ScanSummary, StoredScan};

/// Scans drawn on a target's chart.
const TARGET_SCANS: usize = 1000;
/// Scans listed in a target's table.
const TABLE_SCANS: usize = 100;
/// Scores in a targets-list sparkline.
const SPARK_SCANS: usize = 20;

pub fn encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn target_href(target: &str) -> String {
    format!("/target?url={}", encode(target))
}

fn date(ts: &str) -> String {
    ts.chars().take(16).collect::<String>().replace('T', " ")
}

fn page(title: &str, body: Markup) -> Html<String> {
    Html(
        html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (title) " · authprobe" }
                    link rel="stylesheet" href="/static/style.css";
                }
                body {
                    header { a.brand href="/" { "authprobe" } " " span.muted { "scan history" } }
                    main { (body) }
                }
            }
        }
        .into_string(),
    )
}

fn grade_badge(grade: &str) -> Markup {
    let class = match grade {
        "A" => "grade grade-a",
        "B" => "grade grade-b",
        "C" => "grade grade-c",
        "D" => "grade grade-d",
        _ => "grade grade-f",
    };
    html! { span class=(class) { (grade) } }
}

fn delta(now: u8, before: Option<u8>) -> Markup {
    match before {
        Some(b) if now > b => html! { span.up title="better than the scan before" { "▲ " (now - b) } },
        Some(b) if now < b => html! { span.down title="worse than the scan before" { "▼ " (b - now) } },
        Some(_) => html! { span.muted { "=" } },
        None => html! { span.muted { "new" } },
    }
}

fn counts(s: &ScanSummary) -> Markup {
    html! {
        span.sev.sev-critical title="critical" { (s.critical) } " "
        span.sev.sev-high title="high" { (s.high) } " "
        span.sev.sev-medium title="medium" { (s.medium) } " "
        span.sev.sev-low title="low" { (s.low) } " "
        span.sev.sev-info title="info" { (s.info) }
    }
}

fn scan_form(state: &AppState, target: &str) -> Markup {
    html! {
        form.scan-form method="post" action="/scans" {
            input type="hidden" name="csrf" value=(state.csrf);
            input type="hidden" name="target" value=(target);
            button type="submit" { "Scan " (target) " now" }
        }
    }
}

pub async fn targets(State(state): State<Arc<AppState>>) -> Result<Html<String>, AppError> {
    let (rows, now, schedule) = state
        .with_store(|store| {
            let mut rows = Vec::new();
            for t in store.targets()? {
                let mut scores: Vec<u8> = store
                    .scans(Some(&t.target), SPARK_SCANS)?
                    .iter()
                    .map(|s| s.score)
                    .collect();
                scores.reverse();
                rows.push((t, scores));
            }
            Ok((rows, store.database_time()?, store.monitors()?))
        })
        .await?;
    let configured: Vec<&String> = state.config.scan_targets.iter().collect();
    Ok(page(
        "Targets",
        html! {
            h1 { "Targets" }
            @if rows.is_empty() {
                p.empty { "No scan stored yet. Run " code { "authprobe scan URL" } " and come back." }
            } @else {
                table id="targets" {
                    thead { tr { th { "Target" } th { "Grade" } th { "Score" } th { "Change" } th { "Trend" } th { "Findings" } th { "Scans" } th { "Last scan" } } }
                    tbody {
                        @for (t, scores) in &rows {
                            tr {
                                td { a.target-link href=(target_href(&t.target)) { (t.target) } }
                                td { (grade_badge(&t.latest.grade)) }
                                td.num { (t.latest.score) }
                                td { (delta(t.latest.score, t.previous_score)) }
                                td { (chart::sparkline(scores)) }
                                td { (counts(&t.latest)) }
                                td.num { (t.scans) }
                                td { a href=(format!("/scan/{}", t.latest.id)) { "#" (t.latest.id) } " " span.muted { (date(&t.latest.finished_at)) } }
                            }
                        }
                    }
                }
            }
            @if !schedule.is_empty() {
                h2 { "Rescan schedule" }
                table id="schedule" {
                    thead { tr { th { "Target" } th { "Every" } th { "Next rescan" } th { "Leased by" } th { "Last scan" } } }
                    tbody {
                        @for m in &schedule {
                            tr {
                                td { a.target-link href=(target_href(&m.target)) { (m.target) } }
                                td { (authprobe_store::span_text(m.interval_secs)) }
                                td { (m.due_text(now)) }
                                td { @match m.live_lease(now) { Some(worker) => code { (worker) }, None => span.muted { "-" } } }
                                td { @match m.last_scan_id { Some(id) => a href=(format!("/scan/{id}")) { "#" (id) }, None => span.muted { "-" } } }
                            }
                        }
                    }
                }
            }
            @if !configured.is_empty() {
                h2 { "Configured targets" }
                @for target in configured { (scan_form(&state, target)) }
            }
        },
    ))
}

#[derive(Deserialize)]
pub struct TargetQuery {
    pub url: Option<String>,
    pub started: Option<String>,
}

pub async fn target(
    State(state): State<Arc<AppState>>,
    Query(q): Query<TargetQuery>,
) -> Result<Html<String>, AppError> {
    let url = q.url.ok_or_else(|| AppError::BadRequest("give ?url=TARGET".into()))?;
    let key = url.clone();
    let (scans, categories) = state
        .with_store(move |store| {
            Ok((
                store.scans(Some(&key), TARGET_SCANS)?,
                store.category_history(&key, TARGET_SCANS)?,
            ))
        })
        .await?;
    if scans.is_empty() {
        return Err(AppError::NotFound(format!("no stored scan of {url}")));
    }
    let points: Vec<Point> = scans
        .iter()
        .rev()
        .map(|s| Point {
            id: s.id,
            score: s.score,
            label: s.started_at.chars().take(10).collect(),
        })
        .collect();
    let mut by_category: std::collections::BTreeMap<&str, Vec<u8>> = Default::default();
    for point in &categories {
        by_category.entry(&point.name).or_default().push(point.score);
    }
    let latest = &scans[0];
    let configured = state.config.scan_targets.contains(&url);
    Ok(page(
        &url,
        html! {
            h1 { "Target " span.target { (url) } }
            @if q.started.is_some() { p.notice { "Scan started; reload this page to see it when it finishes." } }
            p { "Latest: " (grade_badge(&latest.grade)) " " strong { (latest.score) } " / 100 · "
                a href=(format!("/scan/{}", latest.id)) { "scan #" (latest.id) } " · " (scans.len()) " scans charted" @if scans.len() > TABLE_SCANS { ", the newest " (TABLE_SCANS) " listed" } }
            @if configured { (scan_form(&state, &url)) }
            h2 { "Score over time" }
            (chart::score_chart(&points))
            h2 { "Categories" }
            table id="categories" {
                thead { tr { th { "Category" } th { "Latest" } th { "Trend" } } }
                tbody {
                    @for (name, scores) in &by_category {
                        tr { td { (name) } td.num { (scores.last().copied().unwrap_or(0)) } td { (chart::sparkline(scores)) } }
                    }
                }
            }
            h2 { "Scans" }
            table id="scans" {
                thead { tr { th { "Scan" } th { "Finished" } th { "Score" } th { "Grade" } th { "Findings" } th { "Diff" } } }
                tbody {
                    @for (i, s) in scans.iter().enumerate().take(TABLE_SCANS) {
                        tr {
                            td { a.scan-link href=(format!("/scan/{}", s.id)) { "#" (s.id) } }
                            td { (date(&s.finished_at)) }
                            td.num { (s.score) }
                            td { (grade_badge(&s.grade)) }
                            td { (counts(s)) }
                            td { @if let Some(prev) = scans.get(i + 1) {
                                a.diff-link href=(format!("/diff?from={}&to={}", prev.id, s.id)) { "vs #" (prev.id) }
                            } }
                        }
                    }
                }
            }
        },
    ))
}

fn finding_block(f: &ReportFinding) -> Markup {
    html! {
        article.finding {
            h3 { span class=(format!("sev sev-{}", f.severity.as_str())) { (f.severity.as_str()) } " " code { (f.check) } " " (f.title) }
            p.meta { "Endpoint " code.endpoint { (f.endpoint) } " · confidence " (f.confidence.as_str())
                " · " (f.cwe.join(", ")) @if !f.owasp.is_empty() { " · OWASP " (f.owasp.join(", ")) } }
            p.message { (text_with_code(&f.message)) }
            @for (i, e) in f.evidence.iter().enumerate() {
                details.evidence {
                    summary { "Evidence " (i + 1) }
                    h4 { "Request" } pre { (e.request) }
                    h4 { "Response" } pre { (e.response) }
                    h4 { "Reproduce" } pre { (e.curl) }
                }
            }
            // The remediation is the catalog's Markdown, rendered with raw HTML shown as text.
            details.remediation { summary { "Remediation" } div.markdown { (PreEscaped(markdown_to_html(&f.remediation))) } }
        }
    }
}

pub async fn scan(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Result<Html<String>, AppError> {
    let id = parse_id(&id)?;
    let (scan, previous) = state
        .with_store(move |store| Ok((store.scan(id)?, store.previous(id)?)))
        .await?;
    let Some(StoredScan { summary, report }) = scan else {
        return Err(AppError::NotFound(format!("no scan #{id}")));
    };
    Ok(page(
        &format!("Scan #{id}"),
        html! {
            h1 { "Scan #" (id) " of " a.target-link href=(target_href(&summary.target)) { (summary.target) } }
            p.summary { (grade_badge(&report.grade)) " " strong id="score" { (report.score) } " / 100 · "
                (date(&report.started_at)) " · " (report.duration_ms) " ms · " (report.stats.requests) " requests · profile " (report.profile) }
                @if let Some(writes) = &report.writes {
                    div.meta { (writes.summary()) }
                }
            @if let Some(prev) = &previous {
                p { a.diff-link href=(format!("/diff?from={}&to={}", prev.id, id)) { "What changed since scan #" (prev.id) } }
            }
            h2 { "Categories" }
            table id="categories" { tbody { @for c in &report.categories { tr { td { (c.name) } td.num { (c.label()) } } } } }
            h2 { "Findings (" (report.findings.len()) ")" }
            @if report.findings.is_empty() { p.empty { "No finding." } }
            div id="findings" { @for f in &report.findings { (finding_block(f)) } }
            @if !report.checks_skipped.is_empty() {
                h2 { "Skipped checks" }
                ul id="skipped" { @for s in &report.checks_skipped { li { code { (s.check) } " " (s.reason) } } }
            }
        },
    ))
}

#[derive(Deserialize)]
pub struct DiffQuery {
    pub from: Option<String>,
    pub to: Option<String>,
}

/// Both scans of a diff with the diff itself.
pub(crate) async fn load_diff(
    state: &Arc<AppState>,
    q: &DiffQuery,
) -> Result<(StoredScan, StoredScan, authprobe_store::Diff), AppError> {
    let from = parse_id(
        q.from
            .as_deref()
            .ok_or_else(|| AppError::BadRequest("give ?from=ID&to=ID".into()))?,
    )?;
    let to = parse_id(
        q.to.as_deref()
            .ok_or_else(|| AppError::BadRequest("give ?from=ID&to=ID".into()))?,
    )?;
    let (a, b) = state
        .with_store(move |store| Ok((store.scan(from)?, store.scan(to)?)))
        .await?;
    let a = a.ok_or_else(|| AppError::NotFound(format!("no scan #{from}")))?;
    let b = b.ok_or_else(|| AppError::NotFound(format!("no scan #{to}")))?;
    let d = authprobe_store::diff(&a.report.findings, &b.report.findings);
    Ok((a, b, d))
}

pub async fn diff(State(state): State<Arc<AppState>>, Query(q): Query<DiffQuery>) -> Result<Html<String>, AppError> {
    let (a, b, d) = load_diff(&state, &q).await?;
    let section = |id: &str, title: &str, findings: &[ReportFinding]| {
        html! {
            section id=(id) {
                h2 { (title) " (" (findings.len()) ")" }
                @if findings.is_empty() { p.empty { "None." } }
                @for f in findings { (finding_block(f)) }
            }
        }
    };
    Ok(page(
        &format!("Diff #{} → #{}", a.summary.id, b.summary.id),
        html! {
            h1 { "From " a href=(format!("/scan/{}", a.summary.id)) { "scan #" (a.summary.id) }
                 " to " a href=(format!("/scan/{}", b.summary.id)) { "scan #" (b.summary.id) } }
            @if a.summary.target != b.summary.target {
                p.notice { "These scans are of different targets: " (a.summary.target) " and " (b.summary.target) }
            }
            p id="diff-summary" { (grade_badge(&a.summary.grade)) " " (a.summary.score) " → " (grade_badge(&b.summary.grade)) " " (b.summary.score)
                " · " (d.new.len()) " new, " (d.resolved.len()) " resolved, " (d.unchanged.len()) " unchanged" }
            (section("diff-new", "New", &d.new))
            (section("diff-resolved", "Resolved", &d.resolved))
            (section("diff-unchanged", "Unchanged", &d.unchanged))
        },
    ))
}

#[derive(Deserialize)]
pub struct StartScan {
    pub csrf: String,
    pub target: String,
}

/// Starts a scan of a configured target; anything else is refused (no scanning of
/// arbitrary URLs on behalf of whoever reaches the dashboard).
pub async fn start_scan(State(state): State<Arc<AppState>>, Form(form): Form<StartScan>) -> Result<Response, AppError> {
    if !csrf_ok(&state, &form.csrf) {
        return Err(AppError::Forbidden(
            "invalid CSRF token: reload the page and try again".into(),
        ));
    }
    if !state.config.scan_targets.contains(&form.target) {
        return Err(AppError::Forbidden(
            "only targets listed in the served configuration can be scanned from the dashboard".into(),
        ));
    }
    if state.scanner.is_none() {
        return Err(AppError::BadRequest("this server cannot run scans".into()));
    }
    let target = form.target.clone();
    let task_state = state.clone();
    tokio::spawn(async move {
        if let Err(e) = task_state.scan_and_save(target.clone()).await {
            eprintln!("scan of {target} failed: {e}");
        }
    });
    Ok(Redirect::to(&format!("{}&started=1", target_href(&form.target))).into_response())
}

pub async fn login_form(State(state): State<Arc<AppState>>) -> Html<String> {
    page(
        "Sign in",
        html! {
            h1 { "Sign in" }
            form method="post" action="/login" {
                input type="hidden" name="csrf" value=(state.csrf);
                label { "Access token " input type="password" name="token" autocomplete="off"; }
                button type="submit" { "Sign in" }
            }
        },
    )
}

#[derive(Deserialize)]
pub struct Login {
    pub csrf: String,
    pub token: String,
}

pub async fn login(State(state): State<Arc<AppState>>, Form(form): Form<Login>) -> Result<Response, AppError> {
    if !csrf_ok(&state, &form.csrf) {
        return Err(AppError::Forbidden("invalid CSRF token".into()));
    }
    let Some(token) = &state.config.token else {
        return Ok(Redirect::to("/").into_response());
    };
    if !security::constant_time_eq(form.token.trim(), token) {
        return Err(AppError::Forbidden("wrong access token".into()));
    }
    Ok((
        StatusCode::SEE_OTHER,
        [
            (header::SET_COOKIE, security::session_set_cookie(&state)),
            (header::LOCATION, "/".to_string()),
        ],
    )
        .into_response())
}

pub async fn stylesheet() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("style.css"),
    )
}
