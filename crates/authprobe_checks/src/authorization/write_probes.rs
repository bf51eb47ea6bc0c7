//! What the write probes share: accounts and objects the scan creates itself, writes to
//! them alone, and removes again, every step recorded in the scan's write ledger.
//!
//! Nothing here writes to an object the scan did not create: each write first receives a
//! grant from the probe ([`Probe::allow_write`]) for the URL of something this module just
//! created, and the probe refuses every other write (and every write at all unless
//! `--allow-writes`).
//!
//! [`Probe::allow_write`]: authprobe_core::Probe::allow_write

use authprobe_core::auth::identity::{Identity, LoginError};
use authprobe_core::auth::vocab::{registration_body, registration_body_for};
use authprobe_core::config::UserCredential;
use authprobe_core::discovery::links_in;
use authprobe_core::probe::{Method, ProbeRequest, ProbeResponse, WriteGrant};
use authprobe_core::spec::BodySchema;
use authprobe_core::writes::WriteId;
use authprobe_core::ScanContext;
use serde_json::{json, Map, Value};
use url::Url;

/// Path words of registration endpoints (DRF views, dj-rest-auth, djoser).
/// A fresh random marker (hex), for usernames, passwords and field values.
pub(crate) fn nonce() -> String {
    format!("{:016x}", rand::random::<u64>())
}

/// Registration endpoints: POST operations of the spec and inventory endpoints whose path
/// names a registration, spec first.
pub(crate) fn registration_endpoints(cx: &ScanContext) -> Vec<Url> {
    let is_registration = authprobe_core::auth::vocab::names_a_registration;
    let mut out: Vec<Url> = Vec::new();
    if let Some(spec) = &cx.spec {
        for op in spec.operations.iter().filter(|o| o.method == "POST") {
            if is_registration(&op.path) {
                if let Some(url) = cx.target.join(&op.path).filter(|u| !out.contains(u)) {
                    out.push(url);
                }
            }
        }
    }
    for endpoint in &cx.inventory.endpoints {
        if is_registration(endpoint.path()) && !endpoint.kind.is_token_endpoint() && !out.contains(&endpoint.url) {
            out.push(endpoint.url.clone());
        }
    }
    out
}

/// The request body the spec declares for a POST to `url`, when it declares one.
fn spec_body<'a>(cx: &'a ScanContext, url: &Url) -> Option<&'a BodySchema> {
    cx.spec
        .as_ref()?
        .operations
        .iter()
        .find(|op| op.method == "POST" && op.path == url.path())
        .and_then(|op| op.body.as_ref())
}

/// An account the scan registered.
pub(crate) struct CreatedAccount {
    pub credential: UserCredential,
    /// The registration's answer (it often carries the new id).
    pub registration: ProbeResponse,
    pub ledger: WriteId,
}

impl CreatedAccount {
    /// The account's id as the registration answer gives it (`id`, `pk`, `user.id`).
    pub fn id(&self) -> Option<String> {
        let json = self.registration.json()?;
        let holder = json.get("user").filter(|u| u.is_object()).unwrap_or(&json);
        ["id", "pk", "user_id"].iter().find_map(|k| match holder.get(*k)? {
            Value::Number(n) => Some(n.to_string()),
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            _ => None,
        })
    }
}

/// Registers a new account at the first registration endpoint that accepts one, with
/// `extra` fields added to the usual ones. The password is a fresh random one, known to
/// the redactor before it is sent.
pub(crate) async fn register_account(
    cx: &ScanContext,
    check: &str,
    extra: &Map<String, Value>,
) -> Result<CreatedAccount, String> {
    let endpoints = registration_endpoints(cx);
    if endpoints.is_empty() {
        return Err(
            "no registration endpoint was found (the write probes test accounts the scan creates itself)".into(),
        );
    }
    let mut refusals = Vec::new();
    for url in endpoints.into_iter().take(2) {
        let username = format!("authprobe-{}", &nonce()[..10]);
        let password = format!("Ap-{}-{}!", nonce(), nonce());
        cx.redactor.add_secret(&password);
        let email = format!("{username}@example.invalid");
        let schema = spec_body(cx, &url);
        let mut fields = match schema {
            Some(schema) => registration_body_for(schema, &username, &email, &password),
            None => registration_body(&username, &email, &password),
        };
        fields.extend(extra.clone());
        cx.probe.allow_write(&url, WriteGrant::AnyIdentity);
        let request = if schema.is_some_and(|s| s.form) {
            let pairs: Vec<(String, String)> = fields
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_string)))
                .collect();
            let refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            ProbeRequest::post_form(url.clone(), &refs)
        } else {
            ProbeRequest::post_json(url.clone(), &Value::Object(fields))
        };
        let resp = match cx.probe.send(request).await {
            Ok(resp) => resp,
            Err(e) => {
                refusals.push(format!("{}: {e}", url.path()));
                continue;
            }
        };
        if resp.is_success() {
            let ledger = cx.writes.created(check, "account", &username);
            return Ok(CreatedAccount {
                credential: UserCredential { username, password },
                registration: resp,
                ledger,
            });
        }
        refusals.push(format!("{} answered HTTP {}", url.path(), resp.status));
    }
    Err(format!("registration failed: {}", refusals.join("; ")))
}

/// Logs a created account in through the token login flow (the one the primary identity
/// used), with `password`.
pub(crate) async fn log_in_as(cx: &ScanContext, username: &str, password: &str) -> Option<Identity> {
    let flow = cx.auth().token_login()?;
    let user = UserCredential {
        username: username.to_string(),
        password: password.to_string(),
    };
    cx.auth().fresh_login(flow, &user).await
}

/// Closes a created account (`DELETE` on the identity endpoint, as that account only) and
/// records in the ledger whether it is gone: its username and password no longer log in.
pub(crate) async fn close_account(cx: &ScanContext, account: &CreatedAccount, session: Option<&Identity>) {
    let left = |why: String| cx.writes.left(account.ledger, why);
    let Some(me) = cx.identity_endpoint.clone() else {
        return left("no identity endpoint to close the account at".into());
    };
    let fresh;
    let identity = match session {
        Some(identity) => identity,
        None => match log_in_as(cx, &account.credential.username, &account.credential.password).await {
            Some(identity) => {
                fresh = identity;
                &fresh
            }
            None => return left("the scan could not log in as the account to close it".into()),
        },
    };
    let Some(header) = identity.authorization() else {
        return left("the account's login gave no header credential to close it with".into());
    };
    cx.probe.allow_write(&me, WriteGrant::Authorization(header));
    let deleted = cx
        .probe
        .send(identity.authorize(ProbeRequest::method(Method::Delete, me.clone())))
        .await;
    let status = match deleted {
        Ok(resp) if resp.is_success() => resp.status,
        Ok(resp) => return left(format!("DELETE {} answered HTTP {}", me.path(), resp.status)),
        Err(e) => return left(format!("DELETE {}: {e}", me.path())),
    };
    // Gone when its credentials no longer log in (a JWT issued before the deletion may
    // still be honoured by a lax identity endpoint, so the login is the test).
    let Some(flow) = cx.auth().token_login() else {
        return left(format!(
            "DELETE {} answered HTTP {status}, but no login flow verifies it",
            me.path()
        ));
    };
    match flow.log_in(&cx.probe, &account.credential).await {
        // A 429 says nothing about the account.
        Err(LoginError::Refused { status, .. }) if status != 429 => cx.writes.removed(account.ledger),
        Err(LoginError::NoCredential { .. }) => cx.writes.removed(account.ledger),
        Ok(_) => left(format!(
            "DELETE {} answered HTTP {status}, but the account still logs in",
            me.path()
        )),
        Err(e) => left(format!("could not verify the account was closed: {e}")),
    }
}

/// An object the scan created through a collection.
pub(crate) struct CreatedObject {
    pub url: Url,
    /// The body it was created with.
    pub fields: Map<String, Value>,
    pub ledger: WriteId,
}

/// Collections the primary identity reads that say they take POST: DRF's `Allow` header
/// on the authenticated GET, or a POST operation in the spec.
pub(crate) fn creatable_collections(cx: &ScanContext) -> Vec<Url> {
    let spec_posts: Vec<String> = cx
        .spec
        .iter()
        .flat_map(|s| s.operations.iter())
        .filter(|o| o.method == "POST" && !o.path.contains('{'))
        .map(|o| o.path.clone())
        .collect();
    let mut out = Vec::new();
    for endpoint in &cx.inventory.endpoints {
        let Some(mine) = endpoint.authenticated.as_ref().filter(|r| r.is_success()) else {
            continue;
        };
        if endpoint.kind.is_token_endpoint() || endpoint.kind.takes_credentials() || !is_listing(mine) {
            continue;
        }
        let allows_post = mine
            .header("allow")
            .is_some_and(|allow| allow.split(',').any(|m| m.trim().eq_ignore_ascii_case("POST")));
        if allows_post || spec_posts.iter().any(|p| p == endpoint.path()) {
            out.push(endpoint.url.clone());
        }
    }
    out
}

/// A JSON list, or a page of one, as the one list reader sees it.
fn is_listing(resp: &ProbeResponse) -> bool {
    resp.json().is_some_and(|json| authprobe_core::lists::is_listing(&json))
}

/// A body for a new object of `collection`: every required writable field of DRF's
/// `OPTIONS` metadata (`actions.POST`) filled with a harmless value. `None` when the
/// metadata is missing or asks for a field type this cannot fill.
pub(crate) async fn creation_body(cx: &ScanContext, owner: &Identity, collection: &Url) -> Option<Map<String, Value>> {
    let resp = cx
        .probe
        .send(owner.authorize(ProbeRequest::method(Method::Options, collection.clone())))
        .await
        .ok()?;
    let fields = resp.json()?.get("actions")?.get("POST")?.as_object()?.clone();
    let marker = format!("authprobe write probe {}", nonce());
    let mut body = Map::new();
    for (name, meta) in &fields {
        if meta.get("read_only").and_then(Value::as_bool) == Some(true) {
            continue;
        }
        let required = meta.get("required").and_then(Value::as_bool) == Some(true);
        let kind = meta.get("type").and_then(Value::as_str).unwrap_or("");
        let value = match kind {
            "string" => json!(marker),
            "email" => json!(format!("authprobe-{}@example.invalid", &nonce()[..8])),
            "url" => json!("https://example.invalid/"),
            "boolean" => json!(false),
            "integer" | "float" | "decimal" => json!(1),
            "choice" => meta
                .get("choices")
                .and_then(Value::as_array)
                .and_then(|c| c.first())
                .and_then(|c| c.get("value"))
                .cloned()
                .unwrap_or(Value::Null),
            _ if required => return None,
            _ => continue,
        };
        if required || kind == "string" {
            body.insert(name.clone(), value);
        }
    }
    body.values().any(Value::is_string).then_some(body)
}

/// Creates an object in `collection` as `owner` and finds its URL (the `url` field of the
/// answer, its `Location`, or the collection plus its `id`), verified by reading it back.
pub(crate) async fn create_object(
    cx: &ScanContext,
    check: &str,
    owner: &Identity,
    collection: &Url,
) -> Result<CreatedObject, String> {
    let fields = creation_body(cx, owner, collection).await.ok_or_else(|| {
        format!(
            "{}: no creation metadata (OPTIONS actions.POST) to build an object from",
            collection.path()
        )
    })?;
    cx.probe.allow_write(collection, WriteGrant::AnyIdentity);
    let resp = cx
        .probe
        .send(owner.authorize(ProbeRequest::json(
            Method::Post,
            collection.clone(),
            &Value::Object(fields.clone()),
        )))
        .await
        .map_err(|e| format!("{}: {e}", collection.path()))?;
    if !resp.is_success() {
        return Err(format!(
            "{}: creating an object answered HTTP {}",
            collection.path(),
            resp.status
        ));
    }
    let Some(url) = created_url(cx, collection, &resp) else {
        // Created, but where? Recorded so the report says an object may be left behind.
        let ledger = cx.writes.created(check, "object", collection.as_str());
        cx.writes
            .left(ledger, "the answer to its creation named no URL or id to remove it at");
        return Err(format!("{}: the created object's URL is unknown", collection.path()));
    };
    let ledger = cx.writes.created(check, "object", url.as_str());
    cx.probe.allow_write(&url, WriteGrant::AnyIdentity);
    Ok(CreatedObject { url, fields, ledger })
}

/// Where the answer to a creation says the new object lives (same origin, under the collection).
fn created_url(cx: &ScanContext, collection: &Url, resp: &ProbeResponse) -> Option<Url> {
    let under = |u: &Url| cx.target.same_origin(u) && super::objects::is_child(collection, u);
    if let Some(url) = links_in(resp, &cx.target).into_iter().find(|u| under(u)) {
        return Some(url);
    }
    if let Some(url) = resp.location().filter(|u| under(u)) {
        return Some(url);
    }
    let json = resp.json()?;
    let id = ["id", "pk", "uuid", "public_id"]
        .iter()
        .find_map(|k| match json.get(*k)? {
            Value::Number(n) => Some(n.to_string()),
            Value::String(s) if !s.is_empty() && !s.contains('/') => Some(s.clone()),
            _ => None,
        })?;
    let base = collection.as_str().trim_end_matches('/');
    Url::parse(&format!("{base}/{id}/")).ok().filter(|u| under(u))
}

/// Removes a created object as its owner (`DELETE`) and records whether it is gone
/// (the owner's GET answers 404 or 410).
pub(crate) async fn remove_object(cx: &ScanContext, owner: &Identity, object: &CreatedObject) {
    let read = || cx.probe.send(owner.authorize(ProbeRequest::get(object.url.clone())));
    match read().await {
        Ok(resp) if matches!(resp.status, 404 | 410) => return cx.writes.removed(object.ledger),
        _ => {}
    }
    let deleted = cx
        .probe
        .send(owner.authorize(ProbeRequest::method(Method::Delete, object.url.clone())))
        .await;
    match (deleted, read().await) {
        (_, Ok(after)) if matches!(after.status, 404 | 410) => cx.writes.removed(object.ledger),
        (Ok(resp), _) => cx.writes.left(
            object.ledger,
            format!("DELETE answered HTTP {} and the object is still there", resp.status),
        ),
        (Err(e), _) => cx.writes.left(object.ledger, format!("DELETE failed: {e}")),
    }
}
