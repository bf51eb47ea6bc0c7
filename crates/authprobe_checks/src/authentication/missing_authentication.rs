use std::collections::BTreeMap;

use authprobe_core::auth::vocab::email_in_record;
use authprobe_core::discovery::{Endpoint, EndpointKind, Inventory};
use authprobe_core::oracle::responses_match;
use authprobe_core::probe::ProbeRequest;
use authprobe_core::spec::Security;
use authprobe_core::{
    CheckMeta, CheckOutcome, Confidence, ExchangeId, Family, Finding, ProbeResponse, Requirement, ScanContext, Severity,
};
use serde_json::Value;
use url::Url;

use super::exposed_secrets::contents_for_scan;
use crate::support::{owasp, summarize};

/// Keys of JSON bodies that describe the response rather than carry data.
const METADATA_KEYS: &[&str] = &[
    "detail", "message", "error", "errors", "status", "code", "count", "next", "previous",
];

/// Query parameter names that make a URL a credential of its own (signed or tokenised links).
const CAPABILITY_PARAMS: &[&str] = &[
    "token",
    "jwt",
    "sig",
    "signature",
    "key",
    "auth",
    "code",
    "secret",
    "hash",
    "expires",
];

crate::declare_check! {
    /// ## What it does
    /// Finds endpoints that should require authentication and do not. An endpoint counts
    /// as protected when it is declared protected (`[endpoints] protected` in `authprobe.toml`) or when
    /// the API itself shows it: its parent collection (`/api/notes/` for `/api/notes/1/`)
    /// serves the scan's identity but refuses anonymous requests (401/403), or, for object
    /// URLs, a sibling object does. A protected endpoint is reported when an anonymous GET
    /// succeeds with a JSON body that carries data and matches what the identity gets with
    /// its credential: the same private data, without logging in. API roots (`/`, `/api/`,
    /// `/api/v1/`) say nothing about their children, children of a public collection are
    /// never reported, and neither is an operation the API's spec declares with
    /// authentication optional (an empty `{}` among its `security` alternatives) unless
    /// its anonymous answer carries the scan account's own username or email.
    ///
    /// It also reads what every anonymous answer carries, on any route, linked or not
    /// (discovery tries the commonly exposed ones: debug views, environment and config
    /// dumps, dotenv files, internal and admin trees): password hashes of known formats,
    /// private keys, API keys of documented shapes, connection strings with a password,
    /// secret-named settings and password fields with values, or several accounts' email
    /// addresses including the scan's own. Such an answer is reported whatever the route
    /// declares, with the fields named and the values redacted to fingerprints. This part
    /// needs no identity.
    ///
    /// ## Why is this bad?
    /// Anyone can read the data, no account needed, and typically for every object, not
    /// only the ones a user owns. In Django REST Framework this is almost always one view
    /// that overrides `permission_classes` (often `AllowAny` left over from debugging, or a
    /// detail view written separately from its list view), or a plain Django view without
    /// `@login_required`.
    ///
    /// ## Example
    /// ```python
    /// class NoteList(generics.ListAPIView):            # protected by the default IsAuthenticated
    ///     serializer_class = NoteSerializer
    ///     def get_queryset(self):
    ///         return Note.objects.filter(owner=self.request.user)
    ///
    /// class NoteDetail(generics.RetrieveAPIView):      # "the mobile share link needs it public"
    ///     permission_classes = [AllowAny]
    ///     queryset = Note.objects.all()
    ///     serializer_class = NoteSerializer
    /// ```
    ///
    /// ## Remediation
    /// Deny by default and scope object querysets to the caller, so a view that forgets
    /// its permissions still exposes nothing:
    /// ```python
    /// REST_FRAMEWORK = {
    ///     "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    /// }
    ///
    /// class NoteDetail(generics.RetrieveAPIView):
    ///     serializer_class = NoteSerializer
    ///     def get_queryset(self):
    ///         return Note.objects.filter(owner=self.request.user)
    /// ```
    /// A debug or ops view does not belong in the deployed URLconf at all; mount it only
    /// when `settings.DEBUG` is on, and keep secrets out of anything a view returns.
    /// Review every `permission_classes = [AllowAny]` and `@permission_classes([AllowAny])`;
    /// for something that must be shared, issue a separate, expiring, object-scoped link
    /// instead of opening the endpoint.
    ///
    /// ## References
    /// - CWE-306: Missing Authentication for Critical Function
    /// - OWASP API2:2023 Broken Authentication
    /// - DRF: Permissions — https://www.django-rest-framework.org/api-guide/permissions/
    pub struct MissingAuthentication;
    meta = CheckMeta {
        code: "AUTH001",
        slug: "missing-authentication",
        title: "Protected endpoint readable without credentials",
        severity: Severity::High,
        cwe: &[306],
        owasp: &[owasp::API2],
        requires: Requirement::Active,
        family: Family::Authentication,
    };
    severities = [Severity::High, Severity::Critical];
}

impl MissingAuthentication {
    async fn check(&self, cx: &ScanContext) -> CheckOutcome {
        let exposed = exposed_secret_findings(cx);
        let Some(identity) = cx.primary() else {
            if exposed.is_empty() {
                return CheckOutcome::skipped(format!(
                    "anonymous answers carry no exposed secrets; protected endpoints were not tested: {}",
                    Requirement::Identity.missing_reason()
                ));
            }
            return exposed.into();
        };
        let who = identity
            .username
            .as_deref()
            .map(|u| format!("`{u}`"))
            .unwrap_or_else(|| "the scan's identity".to_string());
        let identifying = identifying_strings(cx);
        // One finding per route (`/api/notes/{id}/`), so a hundred open objects are one problem.
        let mut routes: BTreeMap<String, Vec<Exposure>> = BTreeMap::new();
        for endpoint in &cx.inventory.endpoints {
            let Some(anonymous) = endpoint.anonymous_ok().filter(|r| r.is_success() && carries_data(r)) else {
                continue;
            };
            if !may_require_auth(endpoint) {
                continue;
            }
            let declared = cx.declared_protected(endpoint.path());
            let Some(protection) = protection(endpoint, &cx.inventory, declared) else {
                continue;
            };
            let authenticated = match &endpoint.authenticated {
                Some(r) => r.clone(),
                None => match cx
                    .probe
                    .send(identity.authorize(ProbeRequest::get(endpoint.url.clone())))
                    .await
                {
                    Ok(r) => r,
                    Err(_) => continue,
                },
            };
            if !authenticated.is_success() || !responses_match(anonymous, &authenticated) {
                continue;
            }
            let anonymous_text = anonymous.text();
            let identifies = identifying.iter().any(|s| anonymous_text.contains(s.as_str()));
            // The spec says authentication is optional here (`security: [{}, …]`): an
            // anonymous answer is what it declares, whatever its neighbours refuse, unless
            // it serves the account's own data (its username or email) to anyone. A spec
            // generated from the code (drf-spectacular adds `{}` for `AllowAny`) declares
            // the flaw itself; that answer still shows it.
            if !declared && !identifies && declared_optional(cx, endpoint.path()) {
                continue;
            }
            routes.entry(route_of(endpoint.path())).or_default().push(Exposure {
                path: endpoint.path().to_string(),
                status: anonymous.status,
                protection,
                identifies,
                anonymous: anonymous.exchange,
                authenticated: authenticated.exchange,
            });
        }
        let mut findings: Vec<Finding> = exposed;
        for exposures in routes.into_values() {
            // A route already reported for the secrets it serves is one problem, not two.
            if exposures.iter().any(|e| findings.iter().any(|f| f.endpoint == e.path)) {
                continue;
            }
            findings.extend(finding(exposures, &who));
        }
        findings.into()
    }
}

/// Endpoints whose anonymous answer carries secrets (password hashes, private keys, API
/// keys, connection strings, secret-named values) or several accounts' email addresses:
/// missing authentication whatever the route declares, because of what it serves. The
/// values are registered with the redactor, so the evidence shows fingerprints.
fn exposed_secret_findings(cx: &ScanContext) -> Vec<Finding> {
    let mut findings = Vec::new();
    let own_emails: Vec<String> = identifying_strings(cx)
        .into_iter()
        .filter(|s| s.contains('@'))
        .collect();
    let flow_urls = cx.flows.post_urls();
    for endpoint in &cx.inventory.endpoints {
        let Some(anonymous) = endpoint.anonymous_ok().filter(|r| r.is_success()) else {
            continue;
        };
        if !may_require_auth(endpoint) || flow_urls.contains(&endpoint.url) {
            continue;
        }
        let contents = contents_for_scan(cx, anonymous);
        let own_emails = own_emails
            .iter()
            .filter(|e| contents.emails.contains(&e.to_ascii_lowercase()))
            .count();
        // Other people's addresses: several, at least one of them a scan account's.
        let emails_exposed = contents.emails.len() >= 2 && own_emails >= 1;
        if contents.secrets.is_empty() && !emails_exposed {
            continue;
        }
        for secret in &contents.secrets {
            cx.redactor.add_secret(&secret.value);
        }
        let by_shape = contents.secrets.iter().any(|s| s.kind.recognised_by_shape());
        let (severity, confidence) = match (contents.secrets.is_empty(), by_shape) {
            (true, _) => (Severity::High, Confidence::Firm),
            (false, true) => (Severity::Critical, Confidence::Confirmed),
            (false, false) => (Severity::Critical, Confidence::Firm),
        };
        let mut message = format!(
            "{} answers anyone, with no credential (HTTP {}),",
            endpoint.path(),
            anonymous.status
        );
        if !contents.secrets.is_empty() {
            message.push_str(&format!(" with secrets: {}.", contents.summary()));
        }
        if emails_exposed {
            let lead = if contents.secrets.is_empty() {
                "with"
            } else {
                "It also lists"
            };
            message.push_str(&format!(
                " {lead} the email addresses of {} accounts, the scan's own among them.",
                contents.emails.len()
            ));
        }
        message.push_str(" No route should serve these without authentication, linked or not; the values are redacted in the evidence.");
        findings.push(
            Finding::new(confidence, endpoint.path().to_string(), message)
                .with_severity(severity)
                .with_evidence([anonymous.exchange]),
        );
    }
    findings
}

/// Why an endpoint is considered protected.
#[derive(Debug, Clone, PartialEq)]
pub enum Protection {
    /// The user declared it protected.
    Declared,
    /// Its parent collection serves the identity and refuses anonymous requests.
    ParentRefuses {
        path: String,
        status: u16,
        exchange: ExchangeId,
    },
    /// An object next to it (same collection) serves the identity and refuses anonymous requests.
    SiblingRefuses {
        path: String,
        status: u16,
        exchange: ExchangeId,
    },
}

impl Protection {
    fn confidence(&self) -> Confidence {
        match self {
            Protection::Declared | Protection::ParentRefuses { .. } => Confidence::Confirmed,
            // An object may be public on purpose while its neighbours are not.
            Protection::SiblingRefuses { .. } => Confidence::Firm,
        }
    }

    fn reason(&self) -> String {
        match self {
            Protection::Declared => "although it is declared protected".to_string(),
            Protection::ParentRefuses { path, status, .. } => {
                format!("although its collection {path} refuses anonymous requests (HTTP {status})")
            }
            Protection::SiblingRefuses { path, status, .. } => {
                format!("although {path} in the same collection refuses anonymous requests (HTTP {status})")
            }
        }
    }

    fn exchange(&self) -> Option<ExchangeId> {
        match self {
            Protection::Declared => None,
            Protection::ParentRefuses { exchange, .. } | Protection::SiblingRefuses { exchange, .. } => Some(*exchange),
        }
    }
}

/// One endpoint that served the identity's data anonymously.
struct Exposure {
    path: String,
    status: u16,
    protection: Protection,
    /// The anonymous body contains the identity's username or email.
    identifies: bool,
    anonymous: ExchangeId,
    authenticated: ExchangeId,
}

impl Exposure {
    fn severity(&self) -> Severity {
        if self.identifies {
            Severity::Critical
        } else {
            Severity::High
        }
    }
}

/// The finding for one route: its worst exposure, naming the others.
fn finding(mut exposures: Vec<Exposure>, who: &str) -> Option<Finding> {
    exposures.sort_by_key(|e| std::cmp::Reverse((e.severity(), e.protection.confidence())));
    let worst = exposures.first()?;
    let mut message = format!(
        "{} returned the same data without any credential (HTTP {}) as it does for {who}, {}.",
        worst.path,
        worst.status,
        worst.protection.reason()
    );
    if worst.identifies {
        message.push_str(" The anonymous response contains the identity's username or email.");
    }
    if exposures.len() > 1 {
        let others: Vec<String> = exposures[1..].iter().map(|e| e.path.clone()).collect();
        message.push_str(&format!(" The same holds for {}.", summarize(&others, 3)));
    }
    let evidence = [
        Some(worst.anonymous),
        Some(worst.authenticated),
        worst.protection.exchange(),
    ];
    Some(
        Finding::new(worst.protection.confidence(), worst.path.clone(), message)
            .with_severity(worst.severity())
            .with_evidence(evidence.into_iter().flatten()),
    )
}

/// Why `endpoint` should require authentication, if the declaration or the inventory says so.
pub fn protection(endpoint: &Endpoint, inventory: &Inventory, declared: bool) -> Option<Protection> {
    if declared {
        return Some(Protection::Declared);
    }
    if carries_capability(&endpoint.url) {
        // A signed or tokenised link is its own credential.
        return None;
    }
    let parent = parent_path(endpoint.path())?;
    if is_api_root(&parent) {
        return None;
    }
    let parent_endpoint = inventory.endpoints.iter().find(|e| same_path(e.path(), &parent));
    if let Some(p) = parent_endpoint {
        if serves_only_the_identity(p) {
            let r = p.anonymous_ok()?;
            return Some(Protection::ParentRefuses {
                path: p.path().to_string(),
                status: r.status,
                exchange: r.exchange,
            });
        }
        if p.anonymous_ok().is_some_and(ProbeResponse::is_success) {
            // A public collection: its objects may well be public too.
            return None;
        }
    }
    if !last_segment(endpoint.path()).is_some_and(is_object_id) {
        return None;
    }
    inventory
        .endpoints
        .iter()
        .filter(|s| !same_path(s.path(), endpoint.path()) && !carries_capability(&s.url))
        .filter(|s| parent_path(s.path()).is_some_and(|sp| same_path(&sp, &parent)))
        .filter(|s| last_segment(s.path()).is_some_and(is_object_id))
        .find(|s| serves_only_the_identity(s))
        .and_then(|s| {
            let r = s.anonymous_ok()?;
            Some(Protection::SiblingRefuses {
                path: s.path().to_string(),
                status: r.status,
                exchange: r.exchange,
            })
        })
}

/// Whether the API's spec declares the GET at `path` with an empty security requirement
/// among its alternatives (`security: [{}, {bearerAuth: []}]`): authentication optional.
fn declared_optional(cx: &ScanContext, path: &str) -> bool {
    cx.spec
        .as_ref()
        .and_then(|spec| spec.operation_at("GET", path))
        .is_some_and(|op| op.security == Security::Optional)
}

/// Refuses anonymous requests (401/403) and serves the identity: authentication-gated.
fn serves_only_the_identity(e: &Endpoint) -> bool {
    e.anonymously_refused() && e.authenticated.as_ref().is_some_and(ProbeResponse::is_success)
}

/// Endpoints that are public by nature (login, token, schema, JWKS) are not candidates.
fn may_require_auth(e: &Endpoint) -> bool {
    !e.kind.is_token_endpoint()
        && !matches!(
            e.kind,
            EndpointKind::FormLogin | EndpointKind::AdminLogin | EndpointKind::Schema | EndpointKind::Jwks
        )
}

/// `/api/notes/` for `/api/notes/1/` (and for `/api/notes/1`); `None` for `/`.
pub fn parent_path(path: &str) -> Option<String> {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return None;
    }
    let (parent, _) = trimmed.rsplit_once('/')?;
    Some(format!("{parent}/"))
}

fn last_segment(path: &str) -> Option<&str> {
    path.trim_end_matches('/').rsplit('/').next().filter(|s| !s.is_empty())
}

fn same_path(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}

/// `/`, `/api/`, `/api/v1/`, `/rest/v2/`: an index whose protection says nothing about
/// the resources below it.
pub fn is_api_root(path: &str) -> bool {
    path.split('/')
        .filter(|s| !s.is_empty())
        .all(authprobe_core::hidden_routes::is_prefix_segment)
}

/// A path segment that names one object: a number, a UUID, or a long random-looking id.
pub fn is_object_id(segment: &str) -> bool {
    if segment.is_empty() {
        return false;
    }
    let digits = segment.chars().filter(char::is_ascii_digit).count();
    let numeric = digits == segment.len();
    let uuid = segment.len() == 36
        && segment.matches('-').count() == 4
        && segment.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
    let hex_id = segment.len() >= 8 && digits > 0 && segment.chars().all(|c| c.is_ascii_hexdigit());
    // ULIDs, nanoids, hashids: long alphanumerics with digits in them.
    let opaque_id =
        (20..=40).contains(&segment.len()) && digits > 0 && segment.chars().all(|c| c.is_ascii_alphanumeric());
    numeric || uuid || hex_id || opaque_id
}

/// `/api/notes/{id}/history/` for `/api/notes/7/history/`.
fn route_of(path: &str) -> String {
    path.split('/')
        .map(|s| if !s.is_empty() && is_object_id(s) { "{id}" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

/// Whether the URL carries its own credential in the query (a tokenised download link).
pub fn carries_capability(url: &Url) -> bool {
    url.query_pairs().any(|(name, value)| {
        let name = name.to_ascii_lowercase();
        let random_value = value.len() >= 16
            && value.chars().any(|c| c.is_ascii_digit())
            && value.chars().any(|c| c.is_ascii_alphabetic());
        CAPABILITY_PARAMS.iter().any(|p| name.contains(p)) || random_value
    })
}

/// Whether a response carries data: JSON with a non-empty value under a key that is not
/// mere metadata (`detail`, `count`, …). An empty page `{"count":0,"results":[]}` does not.
pub fn carries_data(resp: &ProbeResponse) -> bool {
    resp.json().is_some_and(|v| has_data(&v))
}

fn has_data(value: &Value) -> bool {
    match value {
        Value::Object(map) => map
            .iter()
            .any(|(k, v)| !METADATA_KEYS.contains(&k.as_str()) && non_empty(v)),
        Value::Array(items) => items.iter().any(non_empty),
        _ => false,
    }
}

fn non_empty(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => items.iter().any(non_empty),
        Value::Object(_) => has_data(value),
        _ => true,
    }
}

/// The identity's username and, from the identity endpoint, its email: text that makes an
/// anonymous body provably someone's private record.
fn identifying_strings(cx: &ScanContext) -> Vec<String> {
    let mut out: Vec<String> = cx.primary().and_then(|i| i.marker.clone()).into_iter().collect();
    let email = cx
        .identity_endpoint
        .as_ref()
        .and_then(|u| cx.inventory.get(u))
        .and_then(|e| e.authenticated.as_ref())
        .and_then(ProbeResponse::json)
        .and_then(|j| email_in_record(&j).map(str::to_string));
    out.extend(email);
    out.retain(|s| s.len() >= 3);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use authprobe_core::ProbeError;
    use std::time::Duration;

    const NOTE: &str = r#"{"id":1,"url":"http://t/api/notes/1/","title":"alice's diary","body":"private"}"#;
    const REFUSED: &str = r#"{"detail":"Authentication credentials were not provided."}"#;

    fn response(path: &str, status: u16, body: &str) -> ProbeResponse {
        ProbeResponse {
            exchange: ExchangeId(status as usize),
            url: Url::parse("http://t").unwrap().join(path).unwrap(),
            status,
            headers: Default::default(),
            body: body.to_string().into(),
            body_truncated: false,
            elapsed: Duration::ZERO,
        }
    }

    /// An endpoint with its anonymous status and (if given) the identity's status.
    fn endpoint(path: &str, anonymous: u16, authenticated: Option<u16>) -> Endpoint {
        let body = |status: u16| if status < 300 { NOTE } else { REFUSED };
        Endpoint {
            url: Url::parse("http://t").unwrap().join(path).unwrap(),
            kind: EndpointKind::Api,
            anonymous: Ok(response(path, anonymous, body(anonymous))),
            authenticated: authenticated.map(|s| response(path, s, body(s))),
            declared: false,
            found_by: authprobe_core::discovery::FoundBy::Guess,
        }
    }

    fn inventory(endpoints: Vec<Endpoint>) -> Inventory {
        Inventory {
            endpoints,
            ..Default::default()
        }
    }

    fn protection_of(path: &str, inv: &Inventory) -> Option<Protection> {
        let e = inv.endpoints.iter().find(|e| e.path() == path).unwrap();
        protection(e, inv, false)
    }

    #[test]
    fn an_object_of_a_protected_collection_is_protected() {
        let inv = inventory(vec![
            endpoint("/api/notes/", 401, Some(200)),
            endpoint("/api/notes/1/", 200, Some(200)),
        ]);
        assert!(matches!(
            protection_of("/api/notes/1/", &inv),
            Some(Protection::ParentRefuses { status: 401, .. })
        ));
    }

    #[test]
    fn an_object_of_a_public_collection_is_not_protected_even_with_a_refusing_sibling() {
        let inv = inventory(vec![
            endpoint("/api/posts/", 200, Some(200)),
            endpoint("/api/posts/1/", 200, Some(200)),
            endpoint("/api/posts/2/", 401, Some(200)),
        ]);
        assert_eq!(protection_of("/api/posts/1/", &inv), None);
    }

    #[test]
    fn a_protected_api_root_does_not_make_public_resources_protected() {
        let inv = inventory(vec![
            endpoint("/api/", 401, Some(200)),
            endpoint("/api/me/", 401, Some(200)),
            endpoint("/api/posts/", 200, Some(200)),
            endpoint("/api/v1/", 401, Some(200)),
            endpoint("/api/v1/posts/", 200, Some(200)),
        ]);
        assert_eq!(protection_of("/api/posts/", &inv), None);
        assert_eq!(protection_of("/api/v1/posts/", &inv), None);
    }

    #[test]
    fn a_refusing_sibling_protects_an_object_when_the_collection_is_unknown() {
        let inv = inventory(vec![
            endpoint("/api/notes/1/", 200, Some(200)),
            endpoint("/api/notes/2/", 403, Some(200)),
        ]);
        let p = protection_of("/api/notes/1/", &inv).unwrap();
        assert!(matches!(&p, Protection::SiblingRefuses { path, .. } if path == "/api/notes/2/"));
        assert_eq!(p.confidence(), Confidence::Firm);
    }

    #[test]
    fn named_siblings_are_not_objects() {
        // /api/account/profile/ being public says nothing about /api/account/settings/.
        let inv = inventory(vec![
            endpoint("/api/account/profile/", 200, Some(200)),
            endpoint("/api/account/settings/", 401, Some(200)),
        ]);
        assert_eq!(protection_of("/api/account/profile/", &inv), None);
    }

    #[test]
    fn a_role_gated_collection_does_not_protect_its_children() {
        // Staff-only list (the identity is refused too): public profiles below it are by design.
        let inv = inventory(vec![
            endpoint("/api/users/", 403, Some(403)),
            endpoint("/api/users/5/", 200, Some(200)),
        ]);
        assert_eq!(protection_of("/api/users/5/", &inv), None);
    }

    #[test]
    fn a_tokenised_link_is_its_own_credential() {
        let inv = inventory(vec![
            endpoint("/api/notes/1/", 401, Some(200)),
            endpoint("/api/notes/1/download/?token=eyJhbGciOiJIUzI1NiJ9x1", 200, Some(200)),
        ]);
        let e = &inv.endpoints[1];
        assert_eq!(protection(e, &inv, false), None);
        assert_eq!(protection(e, &inv, true), Some(Protection::Declared));
    }

    #[test]
    fn a_declared_path_is_protected_whatever_the_inventory_says() {
        let inv = inventory(vec![endpoint("/api/posts/", 200, Some(200))]);
        assert_eq!(protection(&inv.endpoints[0], &inv, true), Some(Protection::Declared));
    }

    #[test]
    fn parents_are_found_with_or_without_a_trailing_slash() {
        assert_eq!(parent_path("/api/notes/1/").as_deref(), Some("/api/notes/"));
        assert_eq!(parent_path("/api/notes/1").as_deref(), Some("/api/notes/"));
        assert_eq!(parent_path("/api/").as_deref(), Some("/"));
        assert_eq!(parent_path("/"), None);
    }

    #[test]
    fn object_ids_are_numbers_uuids_and_opaque_ids() {
        for id in [
            "1",
            "42",
            "3f2b8c1e-9d4a-4e7b-8c2d-1a2b3c4d5e6f",
            "5f1c2d3e4a5b6c7d",
            "01HZX3K9Q7M2N8P4R6T0V5W1YA",
        ] {
            assert!(is_object_id(id), "{id}");
        }
        for name in ["notes", "me", "v1", "settings", "download", ""] {
            assert!(!is_object_id(name), "{name}");
        }
        assert_eq!(route_of("/api/notes/7/history/"), "/api/notes/{id}/history/");
    }

    #[test]
    fn api_roots_are_recognised() {
        assert!(is_api_root("/") && is_api_root("/api/") && is_api_root("/api/v1/") && is_api_root("/rest/v2/"));
        assert!(!is_api_root("/api/notes/") && !is_api_root("/accounts/"));
    }

    #[test]
    fn data_means_a_non_empty_value_beyond_metadata() {
        assert!(carries_data(&response("/x/", 200, NOTE)));
        assert!(carries_data(&response("/x/", 200, r#"[{"id":1}]"#)));
        assert!(!carries_data(&response(
            "/x/",
            200,
            r#"{"count":0,"next":null,"previous":null,"results":[]}"#
        )));
        assert!(!carries_data(&response("/x/", 200, r#"{"detail":"ok"}"#)));
        assert!(!carries_data(&response("/x/", 200, "<html>hello</html>")));
        assert!(!carries_data(&response("/x/", 200, "[]")));
    }

    #[test]
    fn the_worst_exposure_of_a_route_is_reported_with_the_others_named() {
        let exposure = |path: &str, identifies: bool| Exposure {
            path: path.into(),
            status: 200,
            protection: Protection::ParentRefuses {
                path: "/api/notes/".into(),
                status: 401,
                exchange: ExchangeId(9),
            },
            identifies,
            anonymous: ExchangeId(1),
            authenticated: ExchangeId(2),
        };
        let f = finding(
            vec![exposure("/api/notes/1/", false), exposure("/api/notes/2/", true)],
            "`alice`",
        )
        .unwrap();
        assert_eq!(f.endpoint, "/api/notes/2/");
        assert_eq!(f.severity, Some(Severity::Critical));
        assert_eq!(f.confidence, Confidence::Confirmed);
        assert_eq!(f.evidence, vec![ExchangeId(1), ExchangeId(2), ExchangeId(9)]);
        assert!(
            f.message.contains("/api/notes/ refuses anonymous requests (HTTP 401)"),
            "{}",
            f.message
        );
        assert!(f.message.contains("The same holds for /api/notes/1/."), "{}", f.message);
        let single = finding(vec![exposure("/api/notes/1/", false)], "`alice`").unwrap();
        assert_eq!(single.severity, Some(Severity::High));
    }

    #[test]
    fn an_unreachable_parent_proves_nothing() {
        let mut parent = endpoint("/api/notes/", 401, Some(200));
        parent.anonymous = Err(ProbeError::Other("reset".into()));
        let inv = inventory(vec![parent, endpoint("/api/notes/1/", 200, Some(200))]);
        assert_eq!(protection_of("/api/notes/1/", &inv), None);
    }
}
