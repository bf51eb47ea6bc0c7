//! OpenAPI 3.0 / 3.1 and Swagger 2.0 specs: the operations an API declares, their path
//! parameters, and the security each one requires. The spec drives the endpoint inventory
//! (`--spec`, or the schema the target serves at a common Django location) and tells the
//! checks which operations are *declared* protected, so the scan can compare the spec with
//! what the server enforces.

pub mod body;
mod document;
pub mod inventory;

pub use body::{BodyField, BodySchema};
pub use document::parse_text;
use document::Document;

use serde_json::Value;
use std::path::Path;

/// Methods an operation may have (the probe only ever sends the safe ones).
const METHODS: &[&str] = &["get", "head", "options", "post", "put", "patch", "delete", "trace"];

/// Why a spec could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    #[error("cannot read the spec {path}: {error}")]
    Io { path: String, error: String },
    #[error("cannot fetch the spec {url}: {error}")]
    Fetch { url: String, error: String },
    #[error("{file}:{line}:{column}: the spec is not valid JSON or YAML: {message}")]
    Syntax {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{file}: the spec's YAML expands (through anchors and aliases) to more than {limit} nodes")]
    TooLarge { file: String, limit: usize },
    #[error("{0} is not an OpenAPI 3.x or Swagger 2.0 document (no `openapi: 3.x` or `swagger: \"2.0\"` key)")]
    NotASpec(String),
    #[error("broken $ref `{reference}` at {at}: {why}")]
    BrokenRef { reference: String, at: String, why: String },
}

/// Which dialect the spec is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecVersion {
    Swagger2,
    OpenApi30,
    OpenApi31,
}

/// How a declared security scheme presents its credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemeKind {
    /// `Authorization: Bearer …` (http bearer, OAuth 2, OpenID Connect).
    Bearer,
    /// `Authorization: Basic …`.
    Basic,
    /// A key in a header; `Authorization` with a prefix such as `Token` is common in DRF.
    Header(String),
    Query(String),
    Cookie(String),
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityScheme {
    pub name: String,
    pub kind: SchemeKind,
}

/// What an operation declares about authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Security {
    /// Every alternative needs a credential (these schemes, any one of them).
    Required(Vec<String>),
    /// Credentials are accepted but not needed (an empty `{}` alternative).
    Optional,
    /// `security: []`: explicitly public.
    None,
    /// The spec says nothing.
    Unspecified,
}

/// A path parameter and the value the scan will use for it, if the spec gives one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathParam {
    pub name: String,
    pub example: Option<String>,
}

/// One operation (method + path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// Upper case (`GET`).
    pub method: String,
    /// The path template with the server's base path, e.g. `/api/notes/{id}/`.
    pub path: String,
    pub params: Vec<PathParam>,
    pub security: Security,
    pub operation_id: Option<String>,
    /// The operation's `summary` (what it says it does), cut to a few hundred characters.
    pub summary: Option<String>,
    /// What its request body takes, when it declares one.
    pub body: Option<BodySchema>,
    /// Whether one of its responses declares a `Set-Cookie` header (an operation that
    /// hands out a cookie: a session, say).
    pub sets_cookie: bool,
}

/// Verbs that, opening an operation's summary, say it acts: "Re-create the demo data",
/// "Deletes every note", "Reset the database".
const ACTION_WORDS: &[&str] = &[
    "create",
    "recreate",
    "delete",
    "drop",
    "reset",
    "wipe",
    "purge",
    "truncate",
    "seed",
    "reseed",
    "initialize",
    "initialise",
    "destroy",
    "remove",
    "flush",
    "revoke",
    "restart",
    "shutdown",
    "migrate",
    "rebuild",
];

impl Operation {
    /// Whether a GET or HEAD of this operation would change state, by its path's name
    /// ([`crate::discovery::changes_state`]), its `operationId` or what its summary says.
    /// Such operations are never requested unless the config lists the path.
    pub fn changes_state(&self) -> bool {
        if !matches!(self.method.as_str(), "GET" | "HEAD") {
            return false;
        }
        if crate::discovery::changes_state(&self.path) {
            return true;
        }
        // The summary's first word only: a description (often the view's docstring, shared
        // by every method: "GET reads it; DELETE closes the account") says what the other
        // methods do too.
        let said = |text: &str| {
            text.to_ascii_lowercase()
                .replace(['-', '_'], "")
                .split(|c: char| !c.is_ascii_alphanumeric())
                .find(|w| !w.is_empty())
                .is_some_and(|w| ACTION_WORDS.iter().any(|a| w == *a || w.strip_suffix('s') == Some(a)))
        };
        // `createdb`, `reset_demo`, `deleteAll`: the id's words, camelCase split, as a path.
        let id_acts = self.operation_id.as_deref().is_some_and(|id| {
            let mut spaced = String::new();
            for c in id.chars() {
                if c.is_ascii_uppercase() {
                    spaced.push('/');
                }
                spaced.push(if c == '_' || c == '-' || c == ' ' { '/' } else { c });
            }
            crate::discovery::changes_state(&format!("/{spaced}"))
        });
        id_acts || self.summary.as_deref().is_some_and(said)
    }

    /// Whether the probe may send this operation's method (GET, HEAD, OPTIONS).
    pub fn is_safe(&self) -> bool {
        matches!(self.method.as_str(), "GET" | "HEAD" | "OPTIONS")
    }

    /// The path with every parameter replaced by its example, if all have one.
    pub fn concrete_path(&self) -> Option<String> {
        let mut path = self.path.clone();
        for p in &self.params {
            let example = p.example.as_ref()?;
            path = path.replace(&format!("{{{}}}", p.name), &url_segment(example));
        }
        (!path.contains('{')).then_some(path)
    }

    /// The path as a protected-path pattern (`/api/notes/*/`): each parameter matches one
    /// segment (see [`crate::config::path_matches`]).
    pub fn pattern(&self) -> String {
        let mut out = String::new();
        let mut depth = 0;
        for c in self.path.chars() {
            match c {
                '{' => {
                    if depth == 0 {
                        out.push('*');
                    }
                    depth += 1;
                }
                '}' => depth -= 1,
                _ if depth == 0 => out.push(c),
                _ => {}
            }
        }
        // A final `/*` would also match the collection and everything under it; the
        // operation's last parameter is exactly one segment (`/*/`).
        if out.ends_with("/*") {
            out.push('/');
        }
        out
    }
}

/// A loaded spec.
#[derive(Debug, Clone)]
pub struct ApiSpec {
    pub version: SpecVersion,
    pub title: Option<String>,
    /// Where it came from (file path or URL).
    pub source: String,
    pub operations: Vec<Operation>,
    pub schemes: Vec<SecurityScheme>,
    /// The `tokenUrl`s of its OAuth 2 password flows (RFC 6749's `username` and `password`
    /// fields). The auth layer adds the operations whose body takes a password
    /// (`auth::detect::spec_logins`).
    pub logins: Vec<SpecLogin>,
}

/// A login the spec declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecLogin {
    /// The path (with the server's base path), or an absolute URL (a `tokenUrl`).
    pub path: String,
    /// A form (`application/x-www-form-urlencoded`) rather than JSON.
    pub form: bool,
    /// An OAuth 2 password grant (`grant_type=password`).
    pub password_grant: bool,
    pub username_field: String,
    pub password_field: String,
}

impl ApiSpec {
    /// Reads a spec file (JSON or YAML; `$ref`s into sibling files are followed).
    pub fn from_file(path: &Path) -> Result<ApiSpec, SpecError> {
        let text = std::fs::read_to_string(path).map_err(|e| SpecError::Io {
            path: path.display().to_string(),
            error: e.to_string(),
        })?;
        let source = path.display().to_string();
        let root = parse_text(&text, &source)?;
        ApiSpec::from_document(Document::new(root, &source, path.parent()))
    }

    /// Fetches a spec from `url` through the probe (it counts against the budget);
    /// `source` names it in the spec and in errors (the URL as the user wrote it).
    pub async fn fetch(probe: &crate::probe::Probe, url: url::Url, source: &str) -> Result<ApiSpec, SpecError> {
        let fetch_error = |error: String| SpecError::Fetch {
            url: source.to_string(),
            error,
        };
        let req = crate::probe::ProbeRequest::get(url)
            .header("Accept", "application/json, application/yaml;q=0.9, */*;q=0.5");
        let resp = probe.send(req).await.map_err(|e| fetch_error(e.to_string()))?;
        if !resp.is_success() {
            return Err(fetch_error(format!("HTTP {}", resp.status)));
        }
        ApiSpec::from_text(&resp.text(), source)
    }

    /// Reads spec text fetched from a URL (only `$ref`s inside the document are followed).
    pub fn from_text(text: &str, source: &str) -> Result<ApiSpec, SpecError> {
        let root = parse_text(text, source)?;
        ApiSpec::from_document(Document::new(root, source, None))
    }

    fn from_document(mut doc: Document) -> Result<ApiSpec, SpecError> {
        let version = version_of(&doc.root).ok_or_else(|| SpecError::NotASpec(doc.source.clone()))?;
        doc.check_refs()?;
        let root = &doc.root;
        let base = base_path(root, version);
        let schemes = schemes_of(&doc, version);
        let global_security = root.get("security").map(security_of);
        let mut operations = Vec::new();
        let logins = password_flow_logins(&doc, &base);
        if let Some(paths) = root.get("paths").and_then(Value::as_object) {
            for (template, item) in paths {
                let item = doc.resolve(item);
                let shared_params: Vec<&Value> = list(item.get("parameters")).map(|p| doc.resolve(p)).collect();
                for method in METHODS {
                    let Some(op) = item.get(*method).map(|o| doc.resolve(o)) else {
                        continue;
                    };
                    let mut params: Vec<&Value> = list(op.get("parameters")).map(|p| doc.resolve(p)).collect();
                    for shared in &shared_params {
                        let overridden = params
                            .iter()
                            .any(|p| p.get("name") == shared.get("name") && p.get("in") == shared.get("in"));
                        if !overridden {
                            params.push(shared);
                        }
                    }
                    let path_params = params
                        .iter()
                        .filter(|p| p.get("in").and_then(Value::as_str) == Some("path"))
                        .filter_map(|p| {
                            Some(PathParam {
                                name: p.get("name")?.as_str()?.to_string(),
                                example: param_example(&doc, p),
                            })
                        })
                        .collect();
                    let security = op
                        .get("security")
                        .map(security_of)
                        .or_else(|| global_security.clone())
                        .unwrap_or(Security::Unspecified);
                    operations.push(Operation {
                        method: method.to_ascii_uppercase(),
                        path: join_base(&base, template),
                        params: path_params,
                        security,
                        operation_id: op.get("operationId").and_then(Value::as_str).map(str::to_string),
                        summary: summary_of(op),
                        body: body::body_schema(&doc, op, &params),
                        sets_cookie: sets_cookie(&doc, op),
                    });
                }
            }
        }
        Ok(ApiSpec {
            version,
            title: root.pointer("/info/title").and_then(Value::as_str).map(str::to_string),
            source: doc.source.clone(),
            operations,
            schemes,
            logins,
        })
    }

    /// The schemes an operation's security names.
    pub fn scheme(&self, name: &str) -> Option<&SecurityScheme> {
        self.schemes.iter().find(|s| s.name == name)
    }

    /// The operation a request for `method` and the concrete `path` (`/api/posts/7`)
    /// reaches: its template matches segment by segment (a `{param}` matches any one
    /// segment; trailing slashes aside), and of several the most literal wins
    /// (`/api/posts/feed` over `/api/posts/{id}`).
    pub fn operation_at(&self, method: &str, path: &str) -> Option<&Operation> {
        let segments = |p: &str| -> Vec<String> { p.trim_matches('/').split('/').map(str::to_string).collect() };
        let wanted = segments(path);
        self.operations
            .iter()
            .filter(|o| o.method.eq_ignore_ascii_case(method))
            .filter_map(|o| {
                let template = segments(&o.path);
                if template.len() != wanted.len() {
                    return None;
                }
                let mut params = 0;
                for (t, w) in template.iter().zip(&wanted) {
                    if t.starts_with('{') && t.ends_with('}') && !w.is_empty() {
                        params += 1;
                    } else if t != w {
                        return None;
                    }
                }
                Some((params, o))
            })
            .min_by_key(|(params, _)| *params)
            .map(|(_, o)| o)
    }
}

/// Whether any of an operation's responses declares a `Set-Cookie` header (3.x
/// `responses.*.headers`, 2.0 the same).
fn sets_cookie(doc: &Document, op: &Value) -> bool {
    let Some(responses) = op.get("responses").and_then(Value::as_object) else {
        return false;
    };
    responses.values().any(|r| {
        doc.resolve(r)
            .get("headers")
            .and_then(Value::as_object)
            .is_some_and(|h| h.keys().any(|k| k.eq_ignore_ascii_case("set-cookie")))
    })
}

/// The `summary` of an operation, cut to a few hundred characters.
fn summary_of(op: &Value) -> Option<String> {
    op.get("summary")
        .and_then(Value::as_str)
        .map(|s| s.chars().take(400).collect())
}

fn version_of(root: &Value) -> Option<SpecVersion> {
    let text = |k: &str| {
        root.get(k).map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
    };
    if let Some(v) = text("openapi") {
        return if v.starts_with("3.1") {
            Some(SpecVersion::OpenApi31)
        } else if v.starts_with("3.") {
            Some(SpecVersion::OpenApi30)
        } else {
            None
        };
    }
    text("swagger")
        .filter(|v| v.starts_with("2"))
        .map(|_| SpecVersion::Swagger2)
}

/// The server's base path: `servers[0].url`'s path (3.x) or `basePath` (2.0).
fn base_path(root: &Value, version: SpecVersion) -> String {
    let raw = match version {
        SpecVersion::Swagger2 => root.get("basePath").and_then(Value::as_str).unwrap_or("").to_string(),
        _ => root
            .pointer("/servers/0/url")
            .and_then(Value::as_str)
            .map(|u| match url::Url::parse(u) {
                Ok(parsed) => parsed.path().to_string(),
                // Relative server URLs (`/v1`) are paths already.
                Err(_) => u.to_string(),
            })
            .unwrap_or_default(),
    };
    raw.trim_end_matches('/').to_string()
}

fn join_base(base: &str, template: &str) -> String {
    if base.is_empty() || template.starts_with(base) {
        template.to_string()
    } else {
        format!("{base}{template}")
    }
}

fn list(value: Option<&Value>) -> impl Iterator<Item = &Value> {
    value.and_then(Value::as_array).into_iter().flatten()
}

/// A security requirement list: alternatives, any of which suffices.
fn security_of(value: &Value) -> Security {
    let Some(alternatives) = value.as_array() else {
        return Security::Unspecified;
    };
    if alternatives.is_empty() {
        return Security::None;
    }
    let mut names = Vec::new();
    for alt in alternatives {
        let Some(map) = alt.as_object() else { continue };
        if map.is_empty() {
            return Security::Optional;
        }
        names.extend(map.keys().cloned());
    }
    Security::Required(names)
}

fn schemes_of(doc: &Document, version: SpecVersion) -> Vec<SecurityScheme> {
    let pointer = match version {
        SpecVersion::Swagger2 => "/securityDefinitions",
        _ => "/components/securitySchemes",
    };
    let Some(map) = doc.root.pointer(pointer).and_then(Value::as_object) else {
        return Vec::new();
    };
    map.iter()
        .map(|(name, raw)| {
            let s = doc.resolve(raw);
            let field = |k: &str| s.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            let kind = match (field("type").as_str(), field("scheme").to_ascii_lowercase().as_str()) {
                ("http", "bearer") | ("oauth2", _) | ("openIdConnect", _) => SchemeKind::Bearer,
                ("http", "basic") | ("basic", _) => SchemeKind::Basic,
                ("apiKey", _) => match field("in").as_str() {
                    "header" => SchemeKind::Header(field("name")),
                    "query" => SchemeKind::Query(field("name")),
                    "cookie" => SchemeKind::Cookie(field("name")),
                    other => SchemeKind::Other(format!("apiKey in {other}")),
                },
                (t, _) => SchemeKind::Other(t.to_string()),
            };
            SecurityScheme {
                name: name.clone(),
                kind,
            }
        })
        .collect()
}

/// Logins of the OAuth 2 schemes with a password flow: 3.x `flows.password.tokenUrl`,
/// 2.0 `flow: password` with `tokenUrl`.
fn password_flow_logins(doc: &Document, base: &str) -> Vec<SpecLogin> {
    let mut out = Vec::new();
    for pointer in ["/components/securitySchemes", "/securityDefinitions"] {
        let Some(map) = doc.root.pointer(pointer).and_then(Value::as_object) else {
            continue;
        };
        for raw in map.values() {
            let s = doc.resolve(raw);
            if s.get("type").and_then(Value::as_str) != Some("oauth2") {
                continue;
            }
            let url = s
                .pointer("/flows/password/tokenUrl")
                .or_else(|| {
                    (s.get("flow").and_then(Value::as_str) == Some("password"))
                        .then(|| s.get("tokenUrl"))
                        .flatten()
                })
                .and_then(Value::as_str);
            let Some(url) = url.filter(|u| !u.is_empty()) else {
                continue;
            };
            let path = if url.contains("://") {
                url.to_string()
            } else {
                join_base(base, &format!("/{}", url.trim_start_matches('/')))
            };
            if !out.iter().any(|l: &SpecLogin| l.path == path) {
                out.push(SpecLogin {
                    path,
                    form: true,
                    password_grant: true,
                    username_field: "username".into(),
                    password_field: "password".into(),
                });
            }
        }
    }
    out
}

/// An example value for a path parameter: `example`, `examples`, the schema's
/// `example`/`enum`/`default` (2.0: `x-example`, `enum`, `default` on the parameter).
fn param_example(doc: &Document, param: &Value) -> Option<String> {
    let scalar = |v: &Value| match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    let schema = param.get("schema").map(|s| doc.resolve(s));
    let candidates = [
        param.get("example"),
        param.get("x-example"),
        param
            .get("examples")
            .and_then(Value::as_object)
            .and_then(|m| m.values().next())
            .map(|e| doc.resolve(e))
            .and_then(|e| e.get("value")),
        schema.and_then(|s| s.get("example")),
        schema.and_then(|s| s.get("examples")).and_then(|e| e.get(0)),
        param.get("enum").and_then(|e| e.get(0)),
        schema.and_then(|s| s.get("enum")).and_then(|e| e.get(0)),
        param.get("default"),
        schema.and_then(|s| s.get("default")),
    ];
    candidates.into_iter().flatten().find_map(scalar)
}

/// A parameter value as one path segment.
fn url_segment(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPENAPI_30: &str = r##"
openapi: 3.0.3
info: {title: Notes}
servers: [{url: "https://api.example.com/api"}]
security: [{jwtAuth: []}]
components:
  securitySchemes:
    jwtAuth: {type: http, scheme: bearer}
    tokenAuth: {type: apiKey, in: header, name: Authorization}
    cookieAuth: {type: apiKey, in: cookie, name: sessionid}
  parameters:
    NoteId: {name: id, in: path, required: true, schema: {type: string, example: "abc-1"}}
paths:
  /notes/:
    get: {operationId: notes_list}
  /notes/{id}/:
    parameters: [{$ref: "#/components/parameters/NoteId"}]
    get:
      security: [{jwtAuth: []}, {cookieAuth: []}]
    delete: {}
  /health/:
    get: {security: []}
  /feed/:
    get: {security: [{jwtAuth: []}, {}]}
"##;

    #[test]
    fn a_get_that_says_it_acts_changes_state() {
        let spec = ApiSpec::from_text(
            r#"{"openapi": "3.0.0", "paths": {
                "/createdb": {"get": {}},
                "/api/demo/": {"get": {"operationId": "api_demo_reset_retrieve"}},
                "/api/tools/": {"get": {"summary": "Re-create the demo data"}},
                "/api/maint/": {"get": {"operationId": "deleteAll"}},
                "/api/notes/": {"get": {"operationId": "api_notes_list", "summary": "Notes created by the caller"}},
                "/api/me/": {"get": {"operationId": "api_me_retrieve", "description": "GET reads the caller; DELETE closes the account"}},
                "/api/password/reset/": {"get": {"operationId": "api_password_reset_retrieve"}}}}"#,
            "s",
        )
        .unwrap();
        let mut acting: Vec<&str> = spec
            .operations
            .iter()
            .filter(|o| o.changes_state())
            .map(|o| o.path.as_str())
            .collect();
        acting.sort_unstable();
        assert_eq!(acting, vec!["/api/demo/", "/api/maint/", "/api/tools/", "/createdb"]);
    }

    #[test]
    fn an_openapi_30_spec_yields_operations_with_base_path_params_and_security() {
        let spec = ApiSpec::from_text(OPENAPI_30, "spec.yaml").unwrap();
        assert_eq!(spec.version, SpecVersion::OpenApi30);
        assert_eq!(spec.title.as_deref(), Some("Notes"));
        let get = |p: &str| {
            spec.operations
                .iter()
                .find(|o| o.method == "GET" && o.path == p)
                .unwrap_or_else(|| panic!("{p}: {:?}", spec.operations))
        };
        assert_eq!(get("/api/notes/").security, Security::Required(vec!["jwtAuth".into()]));
        let detail = get("/api/notes/{id}/");
        assert_eq!(detail.concrete_path().as_deref(), Some("/api/notes/abc-1/"));
        assert_eq!(detail.pattern(), "/api/notes/*/");
        assert_eq!(
            detail.security,
            Security::Required(vec!["jwtAuth".into(), "cookieAuth".into()])
        );
        assert_eq!(get("/api/health/").security, Security::None);
        assert_eq!(get("/api/feed/").security, Security::Optional);
        let delete = spec.operations.iter().find(|o| o.method == "DELETE").unwrap();
        assert!(!delete.is_safe());
        assert_eq!(
            spec.scheme("cookieAuth").unwrap().kind,
            SchemeKind::Cookie("sessionid".into())
        );
        assert_eq!(spec.scheme("jwtAuth").unwrap().kind, SchemeKind::Bearer);
    }

    #[test]
    fn a_swagger_2_spec_reads_base_path_and_security_definitions() {
        let text = r#"{"swagger": "2.0", "basePath": "/v1/",
            "securityDefinitions": {"basic": {"type": "basic"}, "key": {"type": "apiKey", "in": "query", "name": "api_key"}},
            "paths": {"/users/{id}": {"get": {"security": [{"key": []}],
                "parameters": [{"name": "id", "in": "path", "type": "integer", "x-example": 7}]}}}}"#;
        let spec = ApiSpec::from_text(text, "swagger.json").unwrap();
        assert_eq!(spec.version, SpecVersion::Swagger2);
        let op = &spec.operations[0];
        assert_eq!(op.path, "/v1/users/{id}");
        assert_eq!(op.concrete_path().as_deref(), Some("/v1/users/7"));
        assert_eq!(spec.scheme("key").unwrap().kind, SchemeKind::Query("api_key".into()));
        assert_eq!(spec.scheme("basic").unwrap().kind, SchemeKind::Basic);
    }

    #[test]
    fn openapi_31_is_recognised_and_other_documents_are_refused() {
        let spec = ApiSpec::from_text("openapi: 3.1.0\npaths: {}\n", "s").unwrap();
        assert_eq!(spec.version, SpecVersion::OpenApi31);
        let err = ApiSpec::from_text("{\"hello\": 1}", "x.json").unwrap_err();
        assert!(matches!(err, SpecError::NotASpec(_)), "{err}");
    }

    #[test]
    fn a_parameter_without_an_example_leaves_the_path_templated() {
        let text = "openapi: 3.0.0\npaths:\n  /a/{x}/:\n    get:\n      parameters: [{name: x, in: path}]\n";
        let spec = ApiSpec::from_text(text, "s").unwrap();
        assert_eq!(spec.operations[0].concrete_path(), None);
    }
}
