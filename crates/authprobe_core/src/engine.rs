//! The scan engine: preflight, discovery, login, checks, score. One call, one report.

use futures::future::join_all;
use std::sync::Arc;
use std::time::Instant;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use url::Url;

use crate::check::{doc_section, Check, CheckOutcome, Family, Requirement};
use crate::config::{LoginKind, ScanConfig, UserCredential};
use crate::context::ScanContext;
use crate::discovery::{discover, discover_authenticated, EndpointKind, Inventory};
use crate::finding::Finding;
use crate::identity::{login_form, login_json, Credential, Identity, LoginError};
use crate::probe::{Probe, ProbeError, ProbeRequest};
use crate::redact::Redactor;
use crate::report::*;
use crate::score::{grade, score, Scored};

/// Why a scan could not produce a report.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("cannot reach {url}: {error}")]
    Unreachable { url: String, error: ProbeError },
    #[error("{0}")]
    Login(#[from] LoginError),
    #[error("no login endpoint found for `{0}`: none of the simplejwt, DRF authtoken or Django form login paths answered; set [auth] login_path in the config")]
    NoLoginEndpoint(String),
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
            _ => None,
        }
    }
}

/// Progress events for the CLI (the library draws nothing itself).
pub trait ScanObserver: Send + Sync {
    /// A phase begins; `total` is its number of steps (0 when unknown).
    fn phase(&self, _name: &str, _total: usize) {}
    /// One step of the current phase is done.
    fn step(&self, _label: &str) {}
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
    let started_at = OffsetDateTime::now_utc();
    let clock = Instant::now();
    let redactor = Arc::new(Redactor::default());
    for user in &config.users {
        redactor.add_secret(&user.password);
    }
    if let Some(bearer) = &config.bearer {
        redactor.add_secret(bearer);
    }
    let probe = Probe::new(config.probe.clone())?;
    let target = config.target.clone();

    observer.phase("preflight", 1);
    if let Err(error) = probe.send(ProbeRequest::get(target.url.clone())).await {
        return Err(ScanError::Unreachable {
            url: target.url.to_string(),
            error,
        });
    }
    observer.step("target reachable");

    observer.phase("discovery", 0);
    let mut inventory = discover(&probe, &target, &config.extra_paths).await;
    if let Some((_, path)) = &config.login {
        if let Some(url) = target.join(path) {
            probe.allow_post(&url);
        }
    }
    observer.step(&format!("{} endpoints", inventory.endpoints.len()));

    observer.phase("login", config.users.len());
    let mut identities = Vec::new();
    if let Some(bearer) = &config.bearer {
        identities.push(Identity::from_bearer(bearer));
    }
    for user in &config.users {
        let identity = log_in(&probe, &config, &inventory, user).await?;
        for secret in identity.secrets() {
            redactor.add_secret(&secret);
        }
        identities.push(identity);
        observer.step(&user.username);
    }
    let identity_endpoint = match identities.first_mut() {
        Some(primary) => find_identity_endpoint(&probe, &target, &inventory, &config, primary).await,
        None => None,
    };
    if let Some(primary) = identities.first() {
        observer.phase("authenticated discovery", 0);
        discover_authenticated(&probe, &target, &mut inventory, primary).await;
    }

    let cx = ScanContext::new(
        probe,
        config,
        inventory,
        identities,
        redactor.clone(),
        identity_endpoint,
    );
    observer.phase("checks", checks.len());
    let run_one = |check: &'static dyn Check| {
        let cx = &cx;
        async move {
            let meta = check.meta();
            let outcome = match unmet_requirement(meta.requires, cx) {
                Some(reason) => CheckOutcome::skipped(reason),
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
                    outcome => outcome,
                },
            };
            observer.step(meta.code);
            (check, outcome)
        }
    };
    // Three waves: ordinary checks concurrently, then those that change the test account,
    // then the ones that trip the target's defences.
    let ordinary = |c: &&'static dyn Check| !c.runs_last() && !c.changes_account();
    let mut outcomes = join_all(checks.iter().copied().filter(ordinary).map(run_one)).await;
    outcomes.extend(join_all(checks.iter().copied().filter(|c| c.changes_account()).map(run_one)).await);
    outcomes.extend(
        join_all(
            checks
                .iter()
                .copied()
                .filter(|c| c.runs_last() && !c.changes_account())
                .map(run_one),
        )
        .await,
    );

    // Obtained credentials may have been issued during checks too.
    for (cookie, _) in cx.probe.set_cookies() {
        if cookie.value.len() >= 16 {
            redactor.add_secret(&cookie.value);
        }
    }
    let mut findings = Vec::new();
    let mut skipped = Vec::new();
    let mut checks_run = 0;
    for (check, outcome) in outcomes {
        match outcome {
            CheckOutcome::Ran(list) => {
                checks_run += 1;
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
                score: score(&in_family),
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
        target: TargetInfo {
            url: crate::redact::strip_userinfo(cx.target.url.as_str()),
        },
        started_at: started_at.format(&Rfc3339).unwrap_or_default(),
        finished_at: finished_at.format(&Rfc3339).unwrap_or_default(),
        duration_ms: clock.elapsed().as_millis() as u64,
        stats: Stats {
            requests: cx.probe.requests_sent(),
            endpoints: cx.inventory.endpoints.len(),
            checks_run,
            max_requests: cx.probe.settings().max_requests,
            methods: methods_used(&cx),
        },
        profile: cx.config.profile.clone(),
        score: total,
        grade: grade(total).to_string(),
        categories,
        checks_skipped: skipped,
        findings,
        identities: cx
            .identities
            .iter()
            .map(|i| IdentityInfo {
                label: i.label.clone(),
                flow: i.login.map(LoginKind::as_str).unwrap_or("bearer").to_string(),
                session: i.session.is_some(),
            })
            .collect(),
        endpoints: cx
            .inventory
            .endpoints
            .iter()
            .map(|e| EndpointInfo {
                url: e.url.to_string(),
                kind: format!("{:?}", e.kind),
                status: e.anonymous.as_ref().ok().map(|r| r.status),
                error: e.anonymous.as_ref().err().map(ToString::to_string),
            })
            .collect(),
        baseline: None,
    };
    crate::baseline::stamp_fingerprints(&mut report);
    Ok(report)
}

/// How many requests of each method the scan sent.
fn methods_used(cx: &ScanContext) -> std::collections::BTreeMap<String, usize> {
    let mut methods = std::collections::BTreeMap::new();
    for exchange in cx.probe.exchanges() {
        *methods.entry(exchange.request.method.clone()).or_insert(0) += 1;
    }
    methods
}

fn unmet_requirement(requires: Requirement, cx: &ScanContext) -> Option<String> {
    let met = match requires {
        Requirement::Passive => true,
        Requirement::Identity => !cx.identities.is_empty(),
        Requirement::LoginFlow => cx.identities.iter().any(|i| i.login.is_some()),
        Requirement::TwoIdentities => cx.identities.len() >= 2,
    };
    (!met).then(|| requires.missing_reason().to_string())
}

/// Fills a finding with its check's catalog data and renders its evidence.
fn stamp(check: &dyn Check, finding: Finding, cx: &ScanContext) -> ReportFinding {
    let meta = check.meta();
    let evidence = finding
        .evidence
        .iter()
        .filter_map(|id| cx.probe.exchange(*id))
        .map(|x| x.evidence(&cx.redactor))
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

/// Logs a user in: the configured flow, else every detected token endpoint, then the
/// Django form login (whose session is kept alongside a token credential).
async fn log_in(
    probe: &Probe,
    config: &ScanConfig,
    inventory: &Inventory,
    user: &UserCredential,
) -> Result<Identity, ScanError> {
    let mut candidates: Vec<(LoginKind, Url)> = Vec::new();
    if let Some((kind, path)) = &config.login {
        if let Some(url) = config.target.join(path) {
            candidates.push((*kind, url));
        }
    } else {
        for e in inventory.of_kind(EndpointKind::TokenObtain) {
            let kind = if e.path().contains("token-auth") || e.path().contains("authtoken") {
                LoginKind::Authtoken
            } else {
                LoginKind::Simplejwt
            };
            candidates.push((kind, e.url.clone()));
        }
        // simplejwt first: it is the flow whose tokens most checks examine.
        candidates.sort_by_key(|(kind, _)| *kind != LoginKind::Simplejwt);
        for e in inventory.of_kind(EndpointKind::FormLogin) {
            candidates.push((LoginKind::Form, e.url.clone()));
        }
    }
    if candidates.is_empty() {
        return Err(ScanError::NoLoginEndpoint(user.username.clone()));
    }
    let mut identity: Option<Identity> = None;
    let mut first_error = None;
    for (kind, url) in &candidates {
        match kind {
            LoginKind::Form => match login_form(probe, url, user).await {
                Ok((jar, exchange)) => match &mut identity {
                    Some(id) => id.session = Some(jar),
                    None => {
                        identity = Some(Identity {
                            label: user.username.clone(),
                            username: Some(user.username.clone()),
                            credential: Credential::Session(jar.clone()),
                            access_jwt: None,
                            refresh_jwt: None,
                            session: Some(jar),
                            login: Some(LoginKind::Form),
                            marker: Some(user.username.clone()),
                            login_exchange: Some(exchange),
                        })
                    }
                },
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            },
            _ if identity.is_some() => {}
            kind => match login_json(probe, *kind, url, user).await {
                Ok(id) => identity = Some(id),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            },
        }
    }
    match (identity, first_error) {
        (Some(id), _) => Ok(id),
        (None, Some(e)) => Err(e.into()),
        (None, None) => Err(ScanError::NoLoginEndpoint(user.username.clone())),
    }
}

/// Finds the endpoint that returns the identity's own record, and learns its marker
/// (for a supplied bearer token, the username the endpoint reports).
async fn find_identity_endpoint(
    probe: &Probe,
    target: &crate::config::Target,
    inventory: &Inventory,
    config: &ScanConfig,
    identity: &mut Identity,
) -> Option<Url> {
    let mut candidates: Vec<Url> = Vec::new();
    if let Some(path) = &config.identity_path {
        candidates.extend(target.join(path));
    }
    candidates.extend(
        inventory
            .of_kind(EndpointKind::IdentityCandidate)
            .map(|e| e.url.clone()),
    );
    for url in candidates {
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
                let name = ["username", "email", "user", "name"]
                    .iter()
                    .find_map(|k| json.get(k).and_then(|v| v.as_str()).filter(|s| !s.is_empty()));
                if let Some(name) = name {
                    identity.marker = Some(name.to_string());
                    identity.username = Some(name.to_string());
                    return Some(url);
                }
            }
        }
    }
    None
}
