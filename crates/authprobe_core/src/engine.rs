//! The scan engine: preflight, discovery, login, checks, score. One call, one report.

use futures::future::join_all;
use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::Instant;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use url::Url;

use crate::auth::detect::{self, AuthRecognizer};
use crate::auth::LoginError;
use crate::auth::{login, FlowError, Flows};
use crate::check::{doc_section, Check, CheckOutcome, Family, Requirement};
use crate::config::{ScanConfig, Schedule};
use crate::context::ScanContext;
use crate::discovery::{add_endpoints, discover, discover_authenticated, Authorize, Inventory};
use crate::exchange::Evidence;
use crate::exchange_log::Recorded;
use crate::finding::Finding;
use crate::hidden_routes::probe_hidden_routes;
use crate::interrupt::Interrupt;
use crate::probe::{Probe, ProbeError, ProbeRequest, Transport};
use crate::redact::Redactor;
use crate::report::*;
use crate::score::{grade, score, Scored};
use crate::spec::{inventory as spec_inventory, ApiSpec, SpecError, SpecVersion};
use crate::target::{Target, UserCredential};

/// Why a scan could not produce a report.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("cannot reach {url}: {error}")]
    Unreachable { url: String, error: ProbeError },
    #[error("{0}")]
    Login(#[from] LoginError),
    #[error("{0}")]
    Flow(#[from] FlowError),
    #[error("{0}")]
    Spec(#[from] SpecError),
    #[error("{0}")]
    Probe(#[from] ProbeError),
    #[error("--mailbox: {0}")]
    Mailbox(#[from] crate::mailbox::MailboxError),
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
    run_scan(config, checks, observer, interrupt, None).await
}

/// A whole scan of a scripted target (the probe's [`Transport`] seam answers every
/// request): what the CLI would report, in milliseconds, for tests that must see every
/// check's output at once (e.g. that no obtained credential reaches a report).
pub async fn scan_fixture(
    transport: Arc<dyn Transport>,
    config: ScanConfig,
    checks: &[&'static dyn Check],
) -> Result<Report, ScanError> {
    run_scan(config, checks, &Silent, Interrupt::new(), Some(transport)).await
}

async fn run_scan(
    config: ScanConfig,
    checks: &[&'static dyn Check],
    observer: &dyn ScanObserver,
    interrupt: std::sync::Arc<Interrupt>,
    transport: Option<Arc<dyn Transport>>,
) -> Result<Report, ScanError> {
    let started = Started::now();
    let redactor = redactor_for(&config);
    let mut probe = Probe::new(config.probe.clone())?
        .with_interrupt(interrupt.clone())
        .with_redactor(redactor.clone());
    if let Some(transport) = transport {
        probe = probe.with_transport(transport);
    }
    observer.requests(probe.meter());
    if !preflight(&probe, &config.target, observer).await? {
        return Ok(interrupted_early(&config, &probe, &started, &interrupt));
    }
    let (cx, spec_info) = prepare(config, probe, redactor.clone(), observer).await?;
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
    let mut report = build_report(&cx, checks, outcomes, &started, incomplete_reason);
    report.spec = spec_info;
    crate::baseline::stamp_fingerprints(&mut report);
    // Freeing a large scan's state (every endpoint's answers, the baselines, the spilled
    // exchange log) takes a noticeable moment: off the report's path.
    tokio::task::spawn_blocking(move || drop(cx));
    Ok(report)
}

/// When a scan started, by the wall clock (for the report) and the monotonic one (for its
/// duration).
struct Started {
    at: OffsetDateTime,
    clock: Instant,
}

impl Started {
    fn now() -> Started {
        Started {
            at: OffsetDateTime::now_utc(),
            clock: Instant::now(),
        }
    }
}

/// The scan's redactor, knowing every secret the user supplied before the first request.
fn redactor_for(config: &ScanConfig) -> Arc<Redactor> {
    let redactor = Arc::new(Redactor::default());
    for user in &config.users {
        redactor.add_secret(&user.password);
    }
    for token in &config.tokens {
        redactor.add_secret(&token.value);
    }
    redactor
}

/// Whether the target answers at all: `Ok(false)` when the scan was stopped first, an
/// error when it cannot be reached.
async fn preflight(probe: &Probe, target: &Target, observer: &dyn ScanObserver) -> Result<bool, ScanError> {
    observer.phase("preflight", 1);
    if let Err(error) = probe.send(ProbeRequest::get(target.url.clone())).await {
        if probe.interrupted() {
            return Ok(false);
        }
        return Err(ScanError::Unreachable {
            url: target.url.to_string(),
            error,
        });
    }
    observer.step("target reachable");
    Ok(true)
}

/// Everything before the checks: discovery (with the given or served spec), the flows,
/// the logins, the identity endpoint and the authenticated discovery. The context it
/// builds is what every check sees; fixture tests build theirs the same way.
pub(crate) async fn prepare(
    mut config: ScanConfig,
    probe: Probe,
    redactor: Arc<Redactor>,
    observer: &dyn ScanObserver,
) -> Result<(ScanContext, Option<SpecInfo>), ScanError> {
    let target = config.target.clone();
    // Opened first: a sink that cannot listen ends the scan before its first request.
    let mailbox = match &config.mailbox {
        Some(url) => Some(Arc::new(crate::mailbox::Mailbox::open(url, redactor.clone()).await?)),
        None => None,
    };
    let (mut inventory, spec) = discover_with_spec(&probe, &mut config, observer).await?;
    let mut flows = Flows::resolve(
        &config.flows,
        config.login.as_ref(),
        config.identity_path.as_deref(),
        &target,
        &inventory,
        spec.as_ref().map(|(s, _)| s),
    )?;
    flows.grant_posts(&probe);
    observer.phase("login", config.users.len() + config.tokens.len());
    let accounts = login::log_in_all(
        &probe,
        &flows,
        &inventory,
        &config.tokens,
        &config.users,
        &redactor,
        |label| observer.step(label),
    )
    .await;
    let mut identities = accounts.identities;
    if let Some(primary) = identities.first() {
        crate::auth::page::add_signed_in_sign_outs(&probe, &mut flows, primary, &target.url).await;
    }
    let identity_endpoint = match identities.first_mut() {
        Some(primary) => login::find_identity_endpoint(&probe, &inventory, &flows, primary).await,
        None => None,
    };
    observer.phase("hidden routes", 0);
    let hidden = probe_hidden_routes(
        &probe,
        &target,
        &mut inventory,
        identities.first().map(|i| i as &dyn Authorize),
    )
    .await;
    observer.step(&format!("{} of {} routes answered", hidden.found, hidden.tried));
    if let Some(primary) = identities.first() {
        observer.phase("authenticated discovery", 0);
        discover_authenticated(&probe, &target, &mut inventory, primary, &AuthRecognizer).await;
    }
    if let Some((spec, _)) = &spec {
        // Templated operations without examples: ids the API listed fill them in.
        let urls = spec_inventory::urls_from_lists(spec, &inventory, &target);
        add_endpoints(
            &probe,
            &mut inventory,
            urls,
            identities.first().map(|i| i as &dyn Authorize),
            &AuthRecognizer,
        )
        .await;
    }
    let mut cx = ScanContext::new(probe, config, inventory, identities, redactor, identity_endpoint, flows);
    cx.login_failures = accounts.failures;
    cx.mailbox = mailbox;
    let spec_info = spec.as_ref().map(|(s, origin)| spec_info(s, origin));
    cx.spec = spec.map(|(s, _)| s);
    Ok((cx, spec_info))
}

/// The origin fixture targets are scanned at: a closed loopback port (no request leaves
/// the process; the [`Transport`] answers).
pub const FIXTURE_BASE: &str = "http://127.0.0.1:9/";

impl ScanContext {
    /// A scan context on a scripted target (recorded answers through the probe's
    /// [`Transport`] seam), built exactly as a scan builds its own: discovery, the flows
    /// (`flows` is `[flows.*]` TOML, empty for detection), the logins of `users` (`name`,
    /// `password`), the identity endpoint and the authenticated discovery. A check's `run`
    /// on it is a fixture test that runs in milliseconds.
    pub async fn for_fixture(transport: Arc<dyn Transport>, flows: &str, users: &[(&str, &str)]) -> ScanContext {
        let target = Target::parse(FIXTURE_BASE).expect("the fixture origin parses");
        let config = ScanConfig {
            users: users
                .iter()
                .map(|(username, password)| UserCredential {
                    username: username.to_string(),
                    password: password.to_string(),
                })
                .collect(),
            flows: toml::from_str(flows).expect("the fixture's [flows.*] parse"),
            ..ScanConfig::fixture(target)
        };
        ScanContext::for_fixture_with(transport, config)
            .await
            .expect("the fixture scan prepares")
    }

    /// [`ScanContext::for_fixture`] with a configuration of the test's own (another
    /// origin, a spec, write probes, …); start from [`ScanConfig::fixture`].
    pub async fn for_fixture_with(transport: Arc<dyn Transport>, config: ScanConfig) -> Result<ScanContext, ScanError> {
        let redactor = redactor_for(&config);
        let probe = Probe::new(config.probe.clone())?
            .with_transport(transport)
            .with_redactor(redactor.clone());
        let (cx, _) = prepare(config, probe, redactor, &Silent).await?;
        Ok(cx)
    }
}

/// Discovery, driven by `--spec` when given, joined by a spec the target serves otherwise.
/// The spec's secured operations join the protected paths; its GETs that act are skipped.
async fn discover_with_spec(
    probe: &Probe,
    config: &mut ScanConfig,
    observer: &dyn ScanObserver,
) -> Result<(Inventory, Option<(ApiSpec, &'static str)>), ScanError> {
    let target = config.target.clone();
    let given_spec = match &config.spec {
        Some(source) => {
            observer.phase("spec", 1);
            let spec = load_spec(probe, source).await?;
            observer.step(&format!("{} operations", spec.operations.len()));
            Some(spec)
        }
        None => None,
    };
    observer.phase("discovery", 0);
    let spec_paths = given_spec.as_ref().map(spec_inventory::seed_paths);
    let discovered = discover(
        probe,
        &target,
        &config.extra_paths,
        spec_paths.as_deref(),
        &AuthRecognizer,
    )
    .await;
    // The account a login probe may send (none when a login is configured).
    let probe_as = config
        .users
        .first()
        .filter(|_| config.flows.login.is_none() && config.login.is_none());
    let mut inventory = detect::complete(probe, discovered, probe_as).await;
    let spec = match given_spec {
        Some(spec) => Some((spec, "given")),
        None => match detect::served_spec(probe, &inventory).await {
            Some((spec, _)) => {
                let urls = spec_inventory::seed_paths(&spec)
                    .iter()
                    .filter_map(|p| target.join(p))
                    .collect();
                add_endpoints(probe, &mut inventory, urls, None, &AuthRecognizer).await;
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
        let mut known: std::collections::HashSet<String> = config.protected_paths.iter().cloned().collect();
        for pattern in spec_inventory::protected_patterns(spec) {
            if known.insert(pattern.clone()) {
                config.protected_paths.push(pattern);
            }
        }
    }
    observer.step(&format!("{} endpoints", inventory.endpoints.len()));
    Ok((inventory, spec))
}

fn spec_info(spec: &ApiSpec, origin: &str) -> SpecInfo {
    SpecInfo {
        source: spec.source.clone(),
        version: match spec.version {
            SpecVersion::Swagger2 => "swagger-2.0",
            SpecVersion::OpenApi30 => "openapi-3.0",
            SpecVersion::OpenApi31 => "openapi-3.1",
        }
        .to_string(),
        operations: spec.operations.len(),
        origin: origin.to_string(),
    }
}

/// The findings of the checks that ran (stamped, most severe first) and the checks that
/// did not, with why.
fn sort_outcomes(
    cx: &ScanContext,
    outcomes: Vec<(&'static dyn Check, CheckOutcome)>,
) -> (Vec<ReportFinding>, Vec<SkippedCheck>, Vec<Family>) {
    let mut findings = Vec::new();
    let mut skipped = Vec::new();
    let mut families_run: Vec<Family> = Vec::new();
    for (check, outcome) in outcomes {
        match outcome {
            CheckOutcome::Ran(list) => {
                families_run.push(check.meta().family);
                findings.extend(list.into_iter().map(|f| stamp(check, f, cx)));
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
    (findings, skipped, families_run)
}

/// The score of each family of the selected checks; `None` for a family none of whose
/// checks ran (not tested, not 100).
fn category_scores(checks: &[&'static dyn Check], scored: &[Scored], families_run: &[Family]) -> Vec<CategoryScore> {
    Family::ALL
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
                score: families_run.contains(family).then(|| score(&in_family)),
            }
        })
        .collect()
}

/// The report of a finished (or stopped) scan.
fn build_report(
    cx: &ScanContext,
    checks: &[&'static dyn Check],
    outcomes: Vec<(&'static dyn Check, CheckOutcome)>,
    started: &Started,
    incomplete_reason: Option<String>,
) -> Report {
    let (findings, skipped, families_run) = sort_outcomes(cx, outcomes);
    let scored: Vec<Scored> = findings
        .iter()
        .map(|f| Scored {
            check: &f.check,
            severity: f.severity,
            confidence: f.confidence,
        })
        .collect();
    let total = score(&scored);
    let categories = category_scores(checks, &scored, &families_run);
    Report {
        schema: SCHEMA.to_string(),
        tool: Tool {
            name: "authprobe".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        scan_id: Some(crate::report::new_scan_id()),
        target: TargetInfo {
            url: crate::redact::strip_userinfo(cx.target.url.as_str()),
        },
        started_at: started.at.format(&Rfc3339).unwrap_or_default(),
        finished_at: OffsetDateTime::now_utc().format(&Rfc3339).unwrap_or_default(),
        duration_ms: started.clock.elapsed().as_millis() as u64,
        incomplete: incomplete_reason.is_some(),
        incomplete_reason,
        stats: Stats {
            requests: cx.probe.requests_sent(),
            endpoints: cx.inventory.endpoints.len(),
            checks_run: families_run.len(),
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
        identities: identity_lines(cx),
        endpoints: endpoint_lines(cx),
        flows: flow_lines(cx),
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
        findings,
        spec: None,
        writes: cx.config.writes.as_ref().map(|mode| cx.writes.info(mode)),
        baseline: None,
    }
}

fn endpoint_lines(cx: &ScanContext) -> Vec<EndpointInfo> {
    cx.inventory
        .endpoints
        .iter()
        .map(|e| EndpointInfo {
            url: e.url.to_string(),
            kind: format!("{:?}", e.kind),
            status: e.anonymous.as_ref().ok().map(|r| r.status),
            error: endpoint_error(&e.anonymous, &cx.probe),
        })
        .collect()
}

fn flow_lines(cx: &ScanContext) -> Vec<FlowLine> {
    cx.flows
        .info()
        .into_iter()
        .map(|f| FlowLine {
            role: f.role.into(),
            family: f.family.into(),
            endpoint: f.endpoint,
            source: format!("{:?}", f.source).to_lowercase(),
            used: f.used,
        })
        .collect()
}

/// The stage of the scan a check runs in. Stages run one after the other; within a stage
/// checks run concurrently, but for [`ACCOUNT_STAGE`]. Ordinary checks first; then those that
/// change the test account, one at a time (the others log in with the original password,
/// and one's password change would void another's reset link); then the write probes
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

/// The stage of the checks that change the test account: they run one after the other.
const ACCOUNT_STAGE: usize = 1;

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
        None => match crate::shared::RUNNING.scope(declared(check), check.run(cx)).await {
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

/// What `check` declares, for the reads of shared results it makes while it runs.
fn declared(check: &dyn Check) -> crate::shared::Declared {
    crate::shared::Declared {
        code: check.meta().code,
        shares: check.shares(),
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
        let one_at_a_time = in_stage == ACCOUNT_STAGE;
        let mut queued = starting.into_iter();
        loop {
            for i in queued.by_ref().take(if one_at_a_time { 1 } else { usize::MAX }) {
                let (check, cx, interrupt) = (order[i], cx.clone(), interrupt.clone());
                tasks.spawn(async move { (i, run_check(check, &cx, &interrupt).await) });
            }
            let Some(joined) = tasks.join_next().await else {
                break;
            };
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
        if in_stage == ACCOUNT_STAGE {
            for one in wave {
                outcomes.push(one.await);
            }
        } else {
            outcomes.extend(join_all(wave).await);
        }
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
        ApiSpec::fetch(probe, url, source).await
    } else {
        ApiSpec::from_file(std::path::Path::new(source))
    }
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
fn interrupted_early(config: &ScanConfig, probe: &Probe, started: &Started, interrupt: &Interrupt) -> Report {
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
        started_at: started.at.format(&Rfc3339).unwrap_or_default(),
        finished_at: OffsetDateTime::now_utc().format(&Rfc3339).unwrap_or_default(),
        duration_ms: started.clock.elapsed().as_millis() as u64,
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
            let role = crate::auth::attribution::role(&x, &cx.identities, &cx.credentials, |value| {
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
