//! The scan engine: preflight, discovery, login, checks, score. One call, one report.

use futures::future::join_all;
use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::Instant;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use url::Url;

use crate::check::{doc_section, Check, CheckOutcome, Family, Requirement};
use crate::config::{ScanConfig, Schedule, UserCredential};
use crate::context::ScanContext;
use crate::discovery::{add_endpoints, discover, discover_authenticated, EndpointKind, Inventory};
use crate::exchange::Evidence;
use crate::exchange_log::Recorded;
use crate::finding::Finding;
use crate::flows::{FlowError, Flows};
use crate::hidden_routes::probe_hidden_routes;
use crate::identity::{Identity, LoginError};
use crate::interrupt::Interrupt;
use crate::probe::{Probe, ProbeError, ProbeRequest};
use crate::redact::Redactor;
use crate::report::*;
use crate::score::{grade, score, Scored};
use crate::spec::{inventory as spec_inventory, ApiSpec, SpecError, SpecVersion};

/// Why a scan could not produce a report.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("cannot reach {url}: {error}")]
    Unreachable { url: String, error: ProbeError },
    #[error("{0}")]
    Login(#[from] LoginError),
    #[error("{0}")]
    LoginFailed(String),
    #[error("no login endpoint found for `{0}`: none of the simplejwt, DRF authtoken, dj-rest-auth, knox or Django form login paths answered; declare one in [flows.login] in the config")]
    NoLoginEndpoint(String),
    #[error("{0}")]
    Flow(#[from] FlowError),
    #[error("{0}")]
    Spec(#[from] SpecError),
    #[error("{0}")]
    Probe(#[from] ProbeError),
}

impl ScanError {
    /// A hint for the most common cause, shown under the error.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            ScanError::Unreachable {
                error: ProbeError::Tls { .. },
                ..
            } => Some("the certificate could not be verified; pass --insecure for a self-signed test server"),
            ScanError::Unreachable {
                error: ProbeError::ConnectionRefused(_),
                ..
            } => Some("is the server running, and is the port right?"),
            ScanError::Unreachable {
                error: ProbeError::Proxy { .. },
                ..
            } => Some("is the proxy running and listening there? Without --proxy (and with HTTP_PROXY/HTTPS_PROXY unset) requests go straight to the target"),
            _ => None,
        }
    }
}

/// Why a check left out by `--checks`/`--exclude-checks` did not run.
pub const NOT_SELECTED: &str = "not selected (--checks/--exclude-checks)";

/// A login (or supplied credential) that produced no identity: the scan goes on without it.
#[derive(Debug, Clone)]
pub struct LoginFailure {
    pub label: String,
    /// Why, redacted.
    pub error: String,
}

/// Progress events for the CLI (the library draws nothing itself).
pub trait ScanObserver: Send + Sync {
    /// A phase begins; `total` is its number of steps (0 when unknown).
    fn phase(&self, _name: &str, _total: usize) {}
    /// One step of the current phase is done.
    fn step(&self, _label: &str) {}
    /// The scan's requests can be counted from now on: called once, before the first.
    fn requests(&self, _meter: crate::probe::RequestMeter) {}
}

/// An observer that ignores everything.
pub struct Silent;
impl ScanObserver for Silent {}

/// Runs a whole scan.
pub async fn scan(
    config: ScanConfig,
    checks: &[&'static dyn Check],
    observer: &dyn ScanObserver,
) -> Result<Report, ScanError> {
    scan_until(config, checks, observer, Interrupt::new()).await
}

/// Runs a whole scan that `interrupt` can stop at any point: the probe then sends nothing
/// more, checks that had not finished are listed as skipped, and the report built from
/// what was found so far is marked `incomplete`.
pub async fn scan_until(
    config: ScanConfig,
    checks: &[&'static dyn Check],
    observer: &dyn ScanObserver,
    interrupt: std::sync::Arc<Interrupt>,
) -> Result<Report, ScanError> {
    let started_at = OffsetDateTime::now_utc();
    let clock = Instant::now();
    let redactor = Arc::new(Redactor::default());
    for user in &config.users {
        redactor.add_secret(&user.password);
    }
    for token in &config.tokens {
        redactor.add_secret(&token.value);
    }
    let probe = Probe::new(config.probe.clone())?
        .with_interrupt(interrupt.clone())
        .with_redactor(redactor.clone());
    let target = config.target.clone();
    observer.requests(probe.meter());

    observer.phase("preflight", 1);
    if let Err(error) = probe.send(ProbeRequest::get(target.url.clone())).await {
        if probe.interrupted() {
            return Ok(interrupted_early(&config, &probe, started_at, clock, &interrupt));
        }
        return Err(ScanError::Unreachable {
            url: target.url.to_string(),
            error,
        });
    }
    observer.step("target reachable");

    let given_spec = match &config.spec {
        Some(source) => {
            observer.phase("spec", 1);
            let spec = load_spec(&probe, source).await?;
            observer.step(&format!("{} operations", spec.operations.len()));
            Some(spec)
        }
        None => None,
    };
    observer.phase("discovery", 0);
    let spec_paths = given_spec.as_ref().map(spec_inventory::seed_paths);
    let mut inventory = discover(&probe, &target, &config.extra_paths, spec_paths.as_deref()).await;
    let spec = match given_spec {
        Some(spec) => Some((spec, "given")),
        None => match served_spec(&inventory) {
            Some(spec) => {
                let urls = spec_inventory::seed_paths(&spec)
                    .iter()
                    .filter_map(|p| target.join(p))
                    .collect();
                add_endpoints(&probe, &mut inventory, urls, None).await;
                Some((spec, "discovered"))
            }
            None => None,
        },
    };
    if let Some((spec, _)) = &spec {
        for op in spec_inventory::acting_operations(spec) {
            let declared = config
                .extra_paths
                .iter()
                .any(|p| p.trim_end_matches('/') == op.path.trim_end_matches('/'));
            if !declared {
                inventory.skip(&op.method, &op.path, "the spec says this GET changes state (its path, operationId or summary names an action); list it under [endpoints] extra to probe it");
            }
        }
    }
    let mut config = config;
    if let Some((spec, _)) = &spec {
        let mut known: std::collections::HashSet<String> = config.protected_paths.iter().cloned().collect();
        for pattern in spec_inventory::protected_patterns(spec) {
            if known.insert(pattern.clone()) {
                config.protected_paths.push(pattern);
            }
        }
    }
    observer.step(&format!("{} endpoints", inventory.endpoints.len()));
    let flows = Flows::resolve(
        &config.flows,
        config.login.as_ref(),
        config.identity_path.as_deref(),
        &target,
        &inventory,
        spec.as_ref().map(|(s, _)| s),
    )?;
    for url in flows.post_urls() {
        probe.allow_post(&url);
    }

    observer.phase("login", config.users.len() + config.tokens.len());
    let mut identities = Vec::new();
    let mut failures: Vec<LoginFailure> = Vec::new();
    for token in &config.tokens {
        let mut identity = Identity::from_token(&token.label, &token.value, token.presentation.clone());
        match verify_identity(&probe, &inventory, &flows, &mut identity, true).await {
            Ok(()) => identities.push(identity),
            Err(reason) => failures.push(LoginFailure {
                label: token.label.clone(),
                error: redactor.text(&format!(
                    "the supplied credential ({}) was not accepted: {reason}",
                    token.presentation.describe()
                )),
            }),
        }
        observer.step(&token.label);
    }
    for user in &config.users {
        match log_in(&probe, &flows, &inventory, user, &redactor).await {
            Ok(identity) => identities.push(identity),
            // Stopped mid-login: the report goes on with the identities logged in so far.
            Err(_) if probe.interrupted() => break,
            Err(e) => failures.push(LoginFailure {
                label: user.username.clone(),
                error: redactor.text(&e.to_string()),
            }),
        }
        observer.step(&user.username);
    }
    let identity_endpoint = match identities.first_mut() {
        Some(primary) => find_identity_endpoint(&probe, &inventory, &flows, primary).await,
        None => None,
    };
    observer.phase("hidden routes", 0);
    let hidden = probe_hidden_routes(&probe, &target, &mut inventory, identities.first()).await;
    observer.step(&format!("{} of {} routes answered", hidden.found, hidden.tried));
    if let Some(primary) = identities.first() {
        observer.phase("authenticated discovery", 0);
        discover_authenticated(&probe, &target, &mut inventory, primary).await;
    }
    if let Some((spec, _)) = &spec {
        // Templated operations without examples: ids the API listed fill them in.
        let urls = spec_inventory::urls_from_lists(spec, &inventory, &target);
        add_endpoints(&probe, &mut inventory, urls, identities.first()).await;
    }

    let mut cx = ScanContext::new(
        probe,
        config,
        inventory,
        identities,
        redactor.clone(),
        identity_endpoint,
        flows,
    );
    cx.login_failures = failures;
    let spec_info = spec.as_ref().map(|(s, origin)| SpecInfo {
        source: s.source.clone(),
        version: match s.version {
            SpecVersion::Swagger2 => "swagger-2.0",
            SpecVersion::OpenApi30 => "openapi-3.0",
            SpecVersion::OpenApi31 => "openapi-3.1",
        }
        .to_string(),
        operations: s.operations.len(),
        origin: origin.to_string(),
    });
    cx.spec = spec.map(|(s, _)| s);
    observer.phase("checks", checks.len());
    let cx = Arc::new(cx);
    let outcomes = match cx.config.schedule {
        Schedule::Tasks => run_as_tasks(checks, &cx, observer, &interrupt).await,
        Schedule::Waves => run_in_waves(checks, &cx, observer, &interrupt).await,
    };
    // Every task is joined, and a finished task has dropped its future (and its handle).
    let cx = Arc::into_inner(cx).expect("no check task outlives the checks phase");

    let incomplete_reason = incomplete_reasons(&cx, interrupt.reason());
    // Obtained credentials may have been issued during checks too.
    for (cookie, _) in cx.probe.set_cookies() {
        if cookie.value.len() >= 16 {
            redactor.add_secret(&cookie.value);
        }
    }
    let mut findings = Vec::new();
    let mut skipped = Vec::new();
    let mut checks_run = 0;
    let mut families_run: Vec<Family> = Vec::new();
    for (check, outcome) in outcomes {
        match outcome {
            CheckOutcome::Ran(list) => {
                checks_run += 1;
                families_run.push(check.meta().family);
                findings.extend(list.into_iter().map(|f| stamp(check, f, &cx)));
            }
            CheckOutcome::Skipped(reason) => skipped.push(SkippedCheck {
                check: check.meta().code.to_string(),
                reason,
            }),
        }
    }
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.check.cmp(&b.check))
            .then_with(|| a.endpoint.cmp(&b.endpoint))
    });

    let scored: Vec<Scored> = findings
        .iter()
        .map(|f| Scored {
            check: &f.check,
            severity: f.severity,
            confidence: f.confidence,
        })
        .collect();
    let total = score(&scored);
    let categories = Family::ALL
        .iter()
        .filter(|family| checks.iter().any(|c| c.meta().family == **family))
        .map(|family| {
            let in_family: Vec<Scored> = scored
                .iter()
                .filter(|s| {
                    checks
                        .iter()
                        .any(|c| c.meta().code == s.check && c.meta().family == *family)
                })
                .copied()
                .collect();
            CategoryScore {
                name: family.name().to_string(),
                // A category none of whose checks ran was not tested: no score, not 100.
                score: families_run.contains(family).then(|| score(&in_family)),
            }
        })
        .collect();
    let finished_at = OffsetDateTime::now_utc();
    let mut report = Report {
        schema: SCHEMA.to_string(),
        tool: Tool {
            name: "authprobe".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        scan_id: Some(crate::report::new_scan_id()),
        target: TargetInfo {
            url: crate::redact::strip_userinfo(cx.target.url.as_str()),
        },
        started_at: started_at.format(&Rfc3339).unwrap_or_default(),
        finished_at: finished_at.format(&Rfc3339).unwrap_or_default(),
        duration_ms: clock.elapsed().as_millis() as u64,
        incomplete: incomplete_reason.is_some(),
        incomplete_reason,
        stats: Stats {
            requests: cx.probe.requests_sent(),
            endpoints: cx.inventory.endpoints.len(),
            checks_run,
            checks_total: checks.len(),
            max_requests: cx.probe.settings().max_requests,
            methods: cx.probe.methods_used(),
            throttle: cx.probe.throttle_report(),
            in_flight: Some(cx.probe.in_flight()),
            exchanges_spilled: cx.probe.exchange_stats().spilled,
            exchanges_dropped: cx.probe.exchange_stats().dropped,
        },
        profile: cx.config.profile.clone(),
        score: total,
        grade: grade(total).to_string(),
        categories,
        checks_skipped: skipped,
        findings,
        identities: identity_lines(&cx),
        endpoints: cx
            .inventory
            .endpoints
            .iter()
            .map(|e| EndpointInfo {
                url: e.url.to_string(),
                kind: format!("{:?}", e.kind),
                status: e.anonymous.as_ref().ok().map(|r| r.status),
                error: endpoint_error(&e.anonymous, &cx.probe),
            })
            .collect(),
        flows: cx
            .flows
            .info()
            .into_iter()
            .map(|f| FlowLine {
                role: f.role.into(),
                family: f.family.into(),
                endpoint: f.endpoint,
                source: format!("{:?}", f.source).to_lowercase(),
                used: f.used,
            })
            .collect(),
        not_probed: cx
            .inventory
            .not_probed
            .iter()
            .map(|n| NotProbedInfo {
                method: n.method.clone(),
                path: n.path.clone(),
                reason: n.reason.clone(),
            })
            .collect(),
        spec: spec_info,
        writes: cx.config.writes.as_ref().map(|mode| cx.writes.info(mode)),
        baseline: None,
    };
    crate::baseline::stamp_fingerprints(&mut report);
    // Freeing a large scan's state (every endpoint's answers, the baselines, the spilled
    // exchange log) takes a noticeable moment: off the report's path.
    tokio::task::spawn_blocking(move || drop(cx));
    Ok(report)
}

/// The stage of the scan a check runs in. Stages run one after the other; within a stage
/// checks run concurrently. Ordinary checks first; then those that change the test account
/// (they run alone: the others log in with the original password); then the write probes
/// (their objects never meet the ordinary checks); then the ones that trip the target's
/// defences (a lockout or a throttle must not disturb any other check).
fn stage(check: &dyn Check) -> usize {
    if check.changes_account() {
        1
    } else if check.writes() {
        2
    } else if check.runs_last() {
        3
    } else {
        0
    }
}

const STAGES: usize = 4;

/// Runs one check, or says why it does not run.
async fn run_check(check: &'static dyn Check, cx: &ScanContext, interrupt: &Interrupt) -> CheckOutcome {
    let meta = check.meta();
    let selected = !cx.config.unselected_checks.contains(meta.code);
    match unmet_requirement(meta.requires, cx) {
        _ if !selected => CheckOutcome::skipped(NOT_SELECTED),
        Some(reason) => CheckOutcome::skipped(reason),
        None if cx.probe.interrupted() => CheckOutcome::skipped(format!(
            "not run: the scan was {}",
            interrupt.reason().unwrap_or_default()
        )),
        None if check.writes() && cx.config.writes.is_none() => CheckOutcome::skipped(
            "write probe: runs only with --allow-writes against a target declared non-production (--environment staging)",
        ),
        None if check.sends_post() && cx.probe.settings().read_only => CheckOutcome::skipped(
            "the safe profile sends GET and HEAD only; this check must POST to login or token endpoints",
        ),
        None => match check.run(cx).await {
            // A pass reached after the budget ran out may be a pass by omission.
            CheckOutcome::Ran(findings) if findings.is_empty() && cx.probe.budget_refusals() > 0 => {
                CheckOutcome::skipped(format!(
                    "incomplete: the request budget of {} requests ran out (raise --max-requests)",
                    cx.probe.settings().max_requests
                ))
            }
            // A pass reached after the stop may be a pass by omission too.
            CheckOutcome::Ran(findings) if findings.is_empty() && cx.probe.interrupted() => {
                CheckOutcome::skipped(format!(
                    "incomplete: the scan was {} before this check finished",
                    interrupt.reason().unwrap_or_default()
                ))
            }
            outcome => outcome,
        },
    }
}

/// Every check as a task of its own, so a check that waits (a token's expiry, offline
/// cracking, a long chain of samples) holds back none of the others, and checks' own work
/// spreads over the runtime's threads; the probe's concurrency limit bounds them all. Those
/// that declare [`Check::starts_first`] are started first, so their waits overlap the
/// others' requests instead of trailing them. Stages still follow each other (see
/// [`stage`]). Outcomes come back in stage order, then registry order, as with
/// [`run_in_waves`].
async fn run_as_tasks(
    checks: &[&'static dyn Check],
    cx: &Arc<ScanContext>,
    observer: &dyn ScanObserver,
    interrupt: &Arc<Interrupt>,
) -> Vec<(&'static dyn Check, CheckOutcome)> {
    let mut outcomes = Vec::with_capacity(checks.len());
    for in_stage in 0..STAGES {
        let mut order: Vec<&'static dyn Check> = checks.iter().copied().filter(|c| stage(*c) == in_stage).collect();
        let mut done: Vec<Option<CheckOutcome>> = order.iter().map(|_| None).collect();
        let mut tasks = tokio::task::JoinSet::new();
        let mut starting: Vec<usize> = (0..order.len()).collect();
        starting.sort_by_key(|i| !order[*i].starts_first());
        for i in starting {
            let (check, cx, interrupt) = (order[i], cx.clone(), interrupt.clone());
            tasks.spawn(async move { (i, run_check(check, &cx, &interrupt).await) });
        }
        while let Some(joined) = tasks.join_next().await {
            let (i, outcome) = match joined {
                Ok(done) => done,
                // A check that panicked takes the scan down, as it would run inline.
                Err(e) => std::panic::resume_unwind(e.into_panic()),
            };
            observer.step(order[i].meta().code);
            done[i] = Some(outcome);
        }
        for (check, outcome) in order.drain(..).zip(done) {
            outcomes.push((check, outcome.expect("every task joined")));
        }
    }
    outcomes
}

/// The schedule before issue 17, kept as the bench's baseline ([`Schedule::Waves`]): the
/// stages as waves, each wave's checks polled together in one task, a wave starting when
/// the previous one's slowest check is done.
async fn run_in_waves(
    checks: &[&'static dyn Check],
    cx: &ScanContext,
    observer: &dyn ScanObserver,
    interrupt: &Interrupt,
) -> Vec<(&'static dyn Check, CheckOutcome)> {
    let mut outcomes = Vec::with_capacity(checks.len());
    for in_stage in 0..STAGES {
        let wave = checks
            .iter()
            .copied()
            .filter(|c| stage(*c) == in_stage)
            .map(|check| async move {
                let outcome = run_check(check, cx, interrupt).await;
                observer.step(check.meta().code);
                (check, outcome)
            });
        outcomes.extend(join_all(wave).await);
    }
    outcomes
}

/// Reads `--spec`: a URL is fetched through the probe (it counts against the budget), anything
/// else is a file.
async fn load_spec(probe: &Probe, source: &str) -> Result<ApiSpec, SpecError> {
    if source.starts_with("http://") || source.starts_with("https://") {
        let url = Url::parse(source).map_err(|e| SpecError::Fetch {
            url: source.to_string(),
            error: e.to_string(),
        })?;
        let req = ProbeRequest::get(url).header("Accept", "application/json, application/yaml;q=0.9, */*;q=0.5");
        let resp = probe.send(req).await.map_err(|e| SpecError::Fetch {
            url: source.to_string(),
            error: e.to_string(),
        })?;
        if !resp.is_success() {
            return Err(SpecError::Fetch {
                url: source.to_string(),
                error: format!("HTTP {}", resp.status),
            });
        }
        ApiSpec::from_text(&resp.text(), source)
    } else {
        ApiSpec::from_file(std::path::Path::new(source))
    }
}

/// A spec the target serves anonymously at a schema location discovery found.
fn served_spec(inventory: &Inventory) -> Option<ApiSpec> {
    inventory
        .of_kind(EndpointKind::Schema)
        .filter_map(|e| e.anonymous_ok().filter(|r| r.is_success()).map(|r| (e, r)))
        .find_map(|(e, r)| ApiSpec::from_text(&r.text(), e.url.as_str()).ok())
}

/// Why an endpoint's anonymous GET failed, or why its answer is incomplete (a body over
/// the size limit, or ended early by a timeout or a closed connection).
fn endpoint_error(anonymous: &Result<crate::probe::ProbeResponse, ProbeError>, probe: &Probe) -> Option<String> {
    match anonymous {
        Err(e) => Some(e.to_string()),
        Ok(r) => probe.exchange(r.exchange).and_then(|x| x.error),
    }
}

/// The report of a scan stopped before its target answered the preflight: nothing found,
/// nothing run, marked incomplete.
fn interrupted_early(
    config: &ScanConfig,
    probe: &Probe,
    started_at: OffsetDateTime,
    clock: Instant,
    interrupt: &Interrupt,
) -> Report {
    Report {
        schema: SCHEMA.to_string(),
        tool: Tool {
            name: "authprobe".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        scan_id: Some(crate::report::new_scan_id()),
        target: TargetInfo {
            url: crate::redact::strip_userinfo(config.target.url.as_str()),
        },
        started_at: started_at.format(&Rfc3339).unwrap_or_default(),
        finished_at: OffsetDateTime::now_utc().format(&Rfc3339).unwrap_or_default(),
        duration_ms: clock.elapsed().as_millis() as u64,
        incomplete: true,
        incomplete_reason: interrupt.reason(),
        stats: Stats {
            // The preflight, abandoned in flight, may have reached the target.
            requests: probe.requests_sent(),
            endpoints: 0,
            checks_run: 0,
            checks_total: 0,
            max_requests: config.probe.max_requests,
            methods: [("GET".to_string(), probe.requests_sent())]
                .into_iter()
                .filter(|(_, n)| *n > 0)
                .collect(),
            throttle: None,
            in_flight: Some(probe.in_flight()),
            exchanges_spilled: 0,
            exchanges_dropped: 0,
        },
        profile: config.profile.clone(),
        score: 0,
        grade: "F".into(),
        categories: Vec::new(),
        checks_skipped: Vec::new(),
        findings: Vec::new(),
        identities: Vec::new(),
        endpoints: Vec::new(),
        flows: Vec::new(),
        not_probed: Vec::new(),
        spec: None,
        writes: None,
        baseline: None,
    }
}

fn unmet_requirement(requires: Requirement, cx: &ScanContext) -> Option<String> {
    let met = match requires {
        Requirement::Passive | Requirement::Active => true,
        Requirement::Identity => !cx.identities.is_empty(),
        Requirement::LoginFlow => cx.identities.iter().any(|i| i.login.is_some()),
        Requirement::TwoIdentities => cx.identities.len() >= 2,
    };
    if met {
        return None;
    }
    let failed: Vec<String> = cx
        .login_failures
        .iter()
        .map(|f| format!("login failed for `{}`: {}", f.label, f.error))
        .collect();
    Some(if failed.is_empty() {
        requires.missing_reason().to_string()
    } else {
        failed.join("; ")
    })
}

/// Why the report is partial: the stop, identities that never authenticated, a request
/// budget that ran out. Any of them keeps the gate from passing.
fn incomplete_reasons(cx: &ScanContext, interrupted: Option<String>) -> Option<String> {
    let mut reasons: Vec<String> = interrupted.into_iter().collect();
    for f in &cx.login_failures {
        reasons.push(format!("login failed for `{}`: {}", f.label, f.error));
    }
    if cx.probe.budget_refusals() > 0 {
        reasons.push(format!(
            "the request budget of {} requests ran out before every check finished (raise --max-requests)",
            cx.probe.settings().max_requests
        ));
    }
    (!reasons.is_empty()).then(|| reasons.join("; "))
}

/// The report's `identities[]`: who the scan acted as, and who it could not log in as.
fn identity_lines(cx: &ScanContext) -> Vec<IdentityInfo> {
    let mut out: Vec<IdentityInfo> = cx
        .identities
        .iter()
        .map(|i| IdentityInfo {
            label: i.label.clone(),
            flow: i.flow.map(str::to_string).unwrap_or_else(|| match i.scheme() {
                Some(s) if s.eq_ignore_ascii_case("bearer") => "bearer".to_string(),
                _ => "header".to_string(),
            }),
            session: i.session.is_some(),
            logged_in: true,
            login_error: None,
            presentation: i.presentation().map(|p| p.describe()),
        })
        .collect();
    out.extend(cx.login_failures.iter().map(|f| IdentityInfo {
        label: f.label.clone(),
        flow: String::new(),
        session: false,
        logged_in: false,
        login_error: Some(f.error.clone()),
        presentation: None,
    }));
    out
}

/// Fills a finding with its check's catalog data and renders its evidence.
fn stamp(check: &dyn Check, finding: Finding, cx: &ScanContext) -> ReportFinding {
    let meta = check.meta();
    let evidence = finding
        .evidence
        .iter()
        .filter_map(|id| cx.probe.exchange(*id))
        .map(|x| {
            // The record is walked (spilled exchanges read back) only when a credential
            // must be traced to the response that issued it.
            let role = x.role(&cx.identities, &cx.credentials, |value| {
                let mut first = None;
                cx.probe.visit_exchanges(Recorded::All, |y| {
                    if y.id < x.id && !crate::exchange::issuer(y, value) {
                        return ControlFlow::Continue(());
                    }
                    first = (y.id < x.id).then(|| y.clone());
                    ControlFlow::Break(())
                });
                first
            });
            Evidence {
                role: Some(cx.redactor.text(&role)),
                ..x.evidence(&cx.redactor)
            }
        })
        .collect();
    ReportFinding {
        check: meta.code.to_string(),
        slug: meta.slug.to_string(),
        title: meta.title.to_string(),
        severity: finding.severity.unwrap_or(meta.severity),
        confidence: finding.confidence,
        cwe: meta.cwe.iter().map(|c| format!("CWE-{c}")).collect(),
        owasp: meta.owasp.iter().map(|s| s.to_string()).collect(),
        endpoint: cx.redactor.text(&finding.endpoint),
        message: cx.redactor.text(&finding.message),
        evidence,
        remediation: doc_section(check.doc(), "Remediation").unwrap_or_default().to_string(),
        fingerprint: String::new(),
        suppressed: false,
        suppression_reason: None,
        baseline: None,
    }
}

/// Logs a user in through the first login flow that accepts the account and whose
/// credential the API then accepts (configured first, then the detected ones in order); a
/// Django form login that also succeeds adds its session alongside the token credential.
/// A refused flow falls through to the next. The credentials are registered with the
/// redactor as soon as they exist.
async fn log_in(
    probe: &Probe,
    flows: &Flows,
    inventory: &Inventory,
    user: &UserCredential,
    redactor: &Redactor,
) -> Result<Identity, ScanError> {
    if flows.login.is_empty() {
        return Err(ScanError::NoLoginEndpoint(user.username.clone()));
    }
    let mut identity: Option<Identity> = None;
    let mut first_error: Option<String> = None;
    let mut tried = 0;
    // A declared login is the one identities use; detected ones serve the checks.
    let declared = flows
        .login
        .iter()
        .any(|f| f.source == crate::flows::FlowSource::Configured);
    for flow in flows
        .login
        .iter()
        .filter(|f| !declared || f.source == crate::flows::FlowSource::Configured)
    {
        let is_form = flow.spec.body == crate::flows::BodyEncoding::Form;
        // One token login is enough; form logins still add their session, unless the
        // identity holds a session cookie already (tokens kept in cookies are not one).
        let holds_session = identity.as_ref().is_some_and(|i| {
            i.session
                .as_ref()
                .is_some_and(|jar| jar.names().iter().any(|n| crate::flows::vocab::is_session_cookie(n)))
        });
        if identity.is_some() && !is_form || holds_session {
            continue;
        }
        // The admin login serves staff accounts only; it is not a fallback for the others.
        if identity.is_some() && flow.family == crate::flows::family::DJANGO_ADMIN {
            continue;
        }
        tried += 1;
        let attempt = match flow.log_in(probe, user).await {
            Ok(mut id) => {
                for secret in id.secrets() {
                    redactor.add_secret(&secret);
                }
                let learn = !flow.presentation_configured();
                match verify_identity(probe, inventory, flows, &mut id, learn).await {
                    Ok(()) => Ok(id),
                    Err(reason) => Err(format!(
                        "login as `{}` at {} answered, but {reason}",
                        user.username, flow.url
                    )),
                }
            }
            Err(e) => Err(e.to_string()),
        };
        match attempt {
            Ok(id) => match &mut identity {
                Some(primary) => primary.session = id.session,
                None => identity = Some(id),
            },
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
        if probe.interrupted() {
            break;
        }
    }
    match (identity, first_error) {
        (Some(id), _) => Ok(id),
        (None, Some(e)) if tried > 1 => Err(ScanError::LoginFailed(format!("{e} ({tried} login flows tried)"))),
        (None, Some(e)) => Err(ScanError::LoginFailed(e)),
        (None, None) => Err(ScanError::NoLoginEndpoint(user.username.clone())),
    }
}

/// Checks that `identity`'s credential is accepted where anonymous callers are refused,
/// learning how a token is presented when `learn` is set. Nothing to try it on is no
/// proof either way, and passes.
async fn verify_identity(
    probe: &Probe,
    inventory: &Inventory,
    flows: &Flows,
    identity: &mut Identity,
    learn: bool,
) -> Result<(), String> {
    let identity_urls: Vec<Url> = flows.identity.iter().map(|f| f.url.clone()).collect();
    let urls = crate::flows::present::verification_urls(inventory, &identity_urls);
    let Some(url) = urls.first().cloned() else {
        return Ok(());
    };
    if learn && identity.token().is_some() {
        return match crate::flows::present::settle(probe, inventory, &urls, identity).await {
            Some(false) => Err(format!(
                "its token was refused at {} however it was presented (Authorization schemes, a bare Authorization, key headers; declare `scheme` or `header` in [flows.login] if the API takes it another way)",
                url.path()
            )),
            _ => Ok(()),
        };
    }
    // A form login's session is judged by the form's own answer (its redirect).
    if identity.login == Some(crate::config::LoginKind::Form) && identity.token().is_none() {
        return Ok(());
    }
    match probe.send(identity.authorize(ProbeRequest::get(url.clone()))).await {
        Ok(resp) if matches!(resp.status, 401 | 403) => Err(format!(
            "its credential was refused at {} (HTTP {})",
            url.path(),
            resp.status
        )),
        _ => Ok(()),
    }
}

/// Finds the endpoint that returns the identity's own record (the identity flows first,
/// then identity-like endpoints), and learns its marker (for a supplied bearer token, the
/// username the endpoint reports).
async fn find_identity_endpoint(
    probe: &Probe,
    inventory: &Inventory,
    flows: &Flows,
    identity: &mut Identity,
) -> Option<Url> {
    let mut candidates: Vec<(Url, Option<&crate::flows::JsonPathExpr>)> = flows
        .identity
        .iter()
        .map(|f| (f.url.clone(), Some(&f.spec.username)))
        .collect();
    for e in inventory.of_kind(EndpointKind::IdentityCandidate) {
        if !candidates.iter().any(|(u, _)| u == &e.url) {
            candidates.push((e.url.clone(), None));
        }
    }
    for (url, username_path) in candidates {
        let Ok(resp) = probe.send(identity.authorize(ProbeRequest::get(url.clone()))).await else {
            continue;
        };
        if !resp.is_success() {
            continue;
        }
        let Some(json) = resp.json() else { continue };
        match &identity.marker {
            Some(marker) if resp.text().contains(marker.as_str()) => return Some(url),
            Some(_) => continue,
            None => {
                let name = match username_path {
                    Some(path) => path.first_str(&json),
                    None => ["username", "email", "user", "name"]
                        .iter()
                        .find_map(|k| json.get(k).and_then(|v| v.as_str()).filter(|s| !s.is_empty()))
                        .map(str::to_string),
                };
                if let Some(name) = name {
                    identity.marker = Some(name.clone());
                    identity.username = Some(name);
                    return Some(url);
                }
            }
        }
    }
    None
}
