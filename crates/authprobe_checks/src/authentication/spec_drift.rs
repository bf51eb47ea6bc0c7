use authprobe_core::config::{exact_path_key, path_key, path_matches};
use authprobe_core::cookies::CookieJar;
use authprobe_core::discovery::Endpoint;
use authprobe_core::oracle::MATCH;
use authprobe_core::probe::{ProbeRequest, ProbeResponse};
use authprobe_core::similarity::similarity;
use authprobe_core::spec::{SchemeKind, Security};
use authprobe_core::{CheckMeta, CheckOutcome, Confidence, Family, Finding, Requirement, ScanContext, Severity};
use base64::Engine as _;
use std::collections::HashMap;
use std::sync::Arc;
use url::Url;

use crate::support::owasp;

crate::declare_check! {
    /// ## What it does
    /// Compares what the OpenAPI spec declares about authentication with what the server
    /// does (the spec given with `--spec`, or the one the target serves). Two kinds of
    /// drift, both informational:
    /// - a **declared scheme the server does not accept**: at an operation the scan's
    ///   identity can read, the identity's credential is presented the way each declared
    ///   scheme says (Bearer header, HTTP Basic with the test account, the session cookie,
    ///   a `Token` header) and refused, while its usual credential works there;
    /// - an operation declared **public** (`security: []`) that refuses anonymous callers
    ///   and serves the identity's own data.
    ///
    /// Operations the spec declares secured but the server serves anonymously are
    /// AUTH001 (missing authentication), not drift.
    ///
    /// ## Why is this bad?
    /// Clients, gateways and security reviews trust the spec. A scheme that does not work
    /// sends integrators to insecure workarounds; an operation documented as public that
    /// serves personal data escapes the reviews and gateway policies meant for
    /// authenticated endpoints.
    ///
    /// ## Example
    /// ```python
    /// SPECTACULAR_SETTINGS = {
    ///     # copied from another project: the API never accepted Basic auth
    ///     "APPEND_COMPONENTS": {"securitySchemes": {"basicAuth": {"type": "http", "scheme": "basic"}}},
    ///     "SECURITY": [{"basicAuth": []}],
    /// }
    /// ```
    ///
    /// ## Remediation
    /// Generate the spec from the code (drf-spectacular derives security from each view's
    /// `authentication_classes` and `permission_classes`) and describe custom
    /// authentication classes with an `OpenApiAuthenticationExtension` instead of
    /// hand-written security sections:
    /// ```python
    /// class ApiJWTScheme(OpenApiAuthenticationExtension):
    ///     target_class = "api.authentication.ApiJWTAuthentication"
    ///     name = "jwtAuth"
    ///     def get_security_definition(self, auto_schema):
    ///         return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    /// ```
    ///
    /// ## References
    /// - CWE-1059: Insufficient Technical Documentation
    /// - OWASP API9:2023 Improper Inventory Management
    /// - drf-spectacular: authentication extensions — https://drf-spectacular.readthedocs.io/en/latest/customization.html
    pub struct SpecDrift;
    meta = CheckMeta {
        code: "SPEC001",
        slug: "spec-auth-drift",
        title: "Spec and server disagree about authentication",
        severity: Severity::Info,
        cwe: &[1059],
        owasp: &[owasp::API9],
        requires: Requirement::Identity,
        family: Family::Authentication,
    };
}

/// Declared schemes tested at most.
const MAX_SCHEMES: usize = 6;

impl SpecDrift {
    async fn check(&self, cx: &ScanContext) -> CheckOutcome {
        let Some(spec) = &cx.spec else {
            return CheckOutcome::skipped(
                "no OpenAPI spec: pass --spec, or serve one at /api/schema/, /openapi.json or /swagger.json",
            );
        };
        let Some(identity) = cx.primary() else {
            return CheckOutcome::skipped(Requirement::Identity.missing_reason());
        };
        let mut findings = Vec::new();
        let mut tested: Vec<&str> = Vec::new();
        // Endpoints by path, in inventory order: an operation without a path parameter
        // finds its own without a walk over every endpoint (a spec may have thousands).
        let mut by_path: HashMap<String, Vec<&Endpoint>> = HashMap::new();
        for e in &cx.inventory.endpoints {
            by_path.entry(path_key(e.path())).or_default().push(e);
        }
        for op in spec.operations.iter().filter(|o| o.method == "GET") {
            let untested =
                |names: &[String]| tested.len() < MAX_SCHEMES && names.iter().any(|n| !tested.contains(&n.as_str()));
            let wanted = match &op.security {
                Security::Required(names) => untested(names),
                Security::None => true,
                Security::Optional | Security::Unspecified => false,
            };
            if !wanted {
                continue;
            }
            let pattern = op.pattern();
            // An endpoint of this operation the identity reads with its usual credential.
            fn usual_answer(e: &Endpoint) -> Option<(&Url, &ProbeResponse)> {
                e.authenticated.as_ref().filter(|r| r.is_success()).map(|r| (&e.url, r))
            }
            let found = match exact_path_key(&pattern) {
                Some(key) => by_path.get(&key).and_then(|es| es.iter().find_map(|e| usual_answer(e))),
                None => cx
                    .inventory
                    .endpoints
                    .iter()
                    .filter(|e| path_matches(&pattern, e.path()))
                    .find_map(usual_answer),
            };
            let Some((url, usual)) = found else {
                continue;
            };
            match &op.security {
                Security::Required(names) => {
                    for name in names {
                        if tested.contains(&name.as_str()) || tested.len() >= MAX_SCHEMES {
                            continue;
                        }
                        let Some(scheme) = spec.scheme(name) else { continue };
                        let Some(req) = present(cx, &scheme.kind, url) else {
                            continue;
                        };
                        tested.push(name);
                        let Ok(resp) = cx.probe.send(req.header("Accept", "application/json")).await else {
                            continue;
                        };
                        if same_answer(&resp, usual) {
                            continue;
                        }
                        // The usual credential must still work now (another check may have
                        // rotated it since discovery, e.g. by logging in again).
                        let again =
                            identity.authorize(ProbeRequest::get(url.clone()).header("Accept", "application/json"));
                        let Ok(usual_now) = cx.probe.send(again).await else {
                            continue;
                        };
                        if same_answer(&usual_now, usual) {
                            findings.push(
                                Finding::new(
                                    Confidence::Confirmed,
                                    url.path(),
                                    format!(
                                        "The spec declares `{name}` ({}) for GET {}, but the server refused `{}`'s credential presented that way (HTTP {}) while accepting its usual one: the documented scheme does not work.",
                                        describe(&scheme.kind),
                                        op.path,
                                        identity.label,
                                        resp.status
                                    ),
                                )
                                .with_evidence([resp.exchange, usual_now.exchange]),
                            );
                        }
                    }
                }
                Security::None => {
                    let anonymous = cx.inventory.get(url).and_then(|e| e.anonymous.as_ref().ok());
                    let refused = anonymous.is_some_and(|r| matches!(r.status, 401 | 403));
                    let marker = identity.marker.as_deref().filter(|m| m.len() >= 3);
                    if refused && marker.is_some_and(|m| usual.text().contains(m)) {
                        let anonymous = anonymous.expect("refused implies an answer");
                        findings.push(
                            Finding::new(
                                Confidence::Confirmed,
                                url.path(),
                                format!(
                                    "The spec declares GET {} public (`security: []`), but the server refuses anonymous callers (HTTP {}) and serves `{}`'s own data: the endpoint is authenticated and its documentation says otherwise.",
                                    op.path, anonymous.status, identity.label
                                ),
                            )
                            .with_evidence([anonymous.exchange, usual.exchange]),
                        );
                    }
                }
                Security::Optional | Security::Unspecified => {}
            }
        }
        findings.into()
    }
}

/// The identity's credential presented the way `kind` declares, if the scan holds one.
fn present(cx: &ScanContext, kind: &SchemeKind, url: &Url) -> Option<ProbeRequest> {
    let identity = cx.primary()?;
    let get = || ProbeRequest::get(url.clone());
    match kind {
        SchemeKind::Bearer => {
            let token = identity.access_jwt.clone().or_else(|| {
                (identity.scheme() == Some("Bearer"))
                    .then(|| identity.token().map(str::to_string))
                    .flatten()
            })?;
            Some(get().header("Authorization", format!("Bearer {token}")))
        }
        SchemeKind::Basic => {
            let name = identity.username.as_deref()?;
            let user = cx.credentials.iter().find(|c| c.username == name)?;
            let pair = base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", user.username, user.password));
            // The encoded password is as secret as the password.
            cx.redactor.add_secret(&pair);
            Some(get().header("Authorization", format!("Basic {pair}")))
        }
        SchemeKind::Header(name) if name.eq_ignore_ascii_case("authorization") => {
            let token = identity.token().filter(|_| identity.scheme() == Some("Token"))?;
            Some(get().header("Authorization", format!("Token {token}")))
        }
        SchemeKind::Cookie(name) => {
            let value = cx
                .identities
                .iter()
                .filter_map(|i| i.session.as_ref())
                .find_map(|jar| jar.get(name))?;
            let jar = Arc::new(CookieJar::new());
            jar.set(name, &value);
            Some(get().with_jar(jar))
        }
        _ => None,
    }
}

fn describe(kind: &SchemeKind) -> String {
    match kind {
        SchemeKind::Bearer => "Bearer token".into(),
        SchemeKind::Basic => "HTTP Basic".into(),
        SchemeKind::Header(h) => format!("key in the `{h}` header"),
        SchemeKind::Query(q) => format!("key in the `{q}` query parameter"),
        SchemeKind::Cookie(c) => format!("the `{c}` cookie"),
        SchemeKind::Other(o) => o.clone(),
    }
}

/// Whether `resp` is the same successful answer as the usual credential got.
fn same_answer(resp: &ProbeResponse, usual: &ProbeResponse) -> bool {
    resp.is_success() && similarity(&resp.body, &usual.body) >= MATCH
}
