use authprobe_core::auth::identity::Identity;
use authprobe_core::auth::vocab::{names_a_password, new_password_body};
use authprobe_core::probe::{Method, ProbeRequest, ProbeResponse, WriteGrant};
use authprobe_core::spec::BodySchema;
use authprobe_core::{
    CheckMeta, CheckOutcome, Confidence, ExchangeId, Family, Finding, Requirement, ScanContext, Severity,
};
use serde_json::{json, Map, Value};
use url::Url;

use super::write_probes::{
    close_account, creatable_collections, create_object, log_in_as, nonce, register_account, remove_object,
    CreatedObject,
};
use crate::support::owasp;

/// Collections whose objects are written to at most.
const MAX_COLLECTIONS: usize = 3;

/// Per-account password URLs tried when the spec declares none (`{username}` or `{id}`).
const PASSWORD_URL_GUESSES: &[&str] = &[
    "/api/users/{username}/password/",
    "/api/users/{id}/password/",
    "/api/users/{id}/set_password/",
    "/api/accounts/{username}/password/",
];

crate::declare_check! {
    /// ## What it does
    /// A **write probe** (runs only with `--allow-writes` against a target declared
    /// non-production). It tests whether one identity can change what belongs to another,
    /// on objects and accounts the scan creates itself:
    ///
    /// - **Objects.** In each collection the first identity reads and that takes `POST`
    ///   (DRF's `Allow` header or the spec), the first identity creates an object (fields
    ///   from DRF's `OPTIONS` metadata); the **second** identity then `PATCH`es it (`PUT`
    ///   where `PATCH` is refused) and `DELETE`s it. Each is **confirmed** by reading the
    ///   object back as its owner: the second identity's value is there, or the object is
    ///   gone. The owner then deletes what is left.
    /// - **Password change by URL.** Per-account password endpoints
    ///   (`/api/users/{username}/password/`, POSTed; or the spec's `POST`, `PUT` and `PATCH`
    ///   operations with `password` in the path, with the body its schema declares) are
    ///   called by the first identity for an account the scan registered; the
    ///   finding is **confirmed** when that account then logs in with the password the
    ///   first identity chose. The account is closed afterwards.
    ///
    /// Everything created is listed in the report's `writes` section, with whatever could
    /// not be removed.
    ///
    /// ## Why is this bad?
    /// Broken object level authorization on writes is worse than on reads: any user edits
    /// or deletes any other user's records by changing an id in the URL, and a password
    /// form that trusts the username in its URL hands over every account.
    ///
    /// ## Example
    /// ```python
    /// class NoteViewSet(viewsets.ModelViewSet):
    ///     def get_queryset(self):
    ///         if self.action in ("update", "partial_update", "destroy"):
    ///             return Note.objects.all()      # writes look among everybody's notes
    ///         return Note.objects.filter(owner=self.request.user)
    ///
    /// class UserPasswordView(APIView):           # POST /api/users/<username>/password/
    ///     def post(self, request, username):
    ///         user = get_object_or_404(User, username=username)   # any account
    ///         user.set_password(request.data["new_password"])
    ///         user.save()
    /// ```
    ///
    /// ## Remediation
    /// Scope the queryset of every action, writes included, and check object permissions;
    /// change a password only for the caller, with the current password:
    /// ```python
    /// class NoteViewSet(viewsets.ModelViewSet):
    ///     permission_classes = [IsAuthenticated, IsOwner]
    ///     def get_queryset(self):
    ///         return Note.objects.filter(owner=self.request.user)   # others' ids → 404
    ///
    /// class PasswordChangeView(APIView):          # POST /api/password/change/ (no id in the URL)
    ///     def post(self, request):
    ///         s = PasswordChangeSerializer(data=request.data, context={"request": request})
    ///         s.is_valid(raise_exception=True)     # checks old_password
    ///         request.user.set_password(s.validated_data["new_password"])
    ///         request.user.save()
    /// ```
    ///
    /// ## References
    /// - OWASP API1:2023 Broken Object Level Authorization
    /// - CWE-639: Authorization Bypass Through User-Controlled Key
    /// - DRF: Permissions, object level — https://www.django-rest-framework.org/api-guide/permissions/#object-level-permissions
    pub struct CrossIdentityWrite;
    meta = CheckMeta {
        code: "BOLA003",
        slug: "cross-identity-write",
        title: "Another identity modifies or deletes this identity's objects",
        severity: Severity::Critical,
        cwe: &[639],
        owasp: &[owasp::API1],
        requires: Requirement::Identity,
        family: Family::Authorization,
    };
    sends_post = true;
    writes = true;
}

/// Why one of the two probes tested nothing.
struct Untested {
    reason: String,
    /// The target has what the probe tests, but the probe could not run (a second
    /// identity, a registration, an object it could create was missing); otherwise the
    /// target simply has nothing of the kind.
    blocked: bool,
}

impl Untested {
    fn blocked(reason: impl Into<String>) -> Untested {
        Untested {
            reason: reason.into(),
            blocked: true,
        }
    }

    fn nothing(reason: impl Into<String>) -> Untested {
        Untested {
            reason: reason.into(),
            blocked: false,
        }
    }
}

impl CrossIdentityWrite {
    async fn check(&self, cx: &ScanContext) -> CheckOutcome {
        let parts = [object_writes(cx).await, password_by_url(cx).await];
        let mut findings = Vec::new();
        let mut untested = Vec::new();
        for part in parts {
            match part {
                Ok(found) => findings.extend(found),
                Err(why) => untested.push(why),
            }
        }
        // A pass needs both probes run, or one run where the other had nothing to test.
        if findings.is_empty() && (untested.len() == 2 || untested.iter().any(|u| u.blocked)) {
            let reasons: Vec<String> = untested.into_iter().map(|u| u.reason).collect();
            return CheckOutcome::skipped(reasons.join("; "));
        }
        findings.into()
    }
}

/// The object probe: the second identity writes to the first identity's new objects.
async fn object_writes(cx: &ScanContext) -> Result<Vec<Finding>, Untested> {
    let (Some(owner), Some(other)) = (cx.identities.first(), cx.identities.get(1)) else {
        return Err(Untested::blocked("object writes need two identities (--user twice)"));
    };
    let collections = creatable_collections(cx);
    if collections.is_empty() {
        return Err(Untested::nothing("no collection the first identity reads takes POST"));
    }
    let mut findings = Vec::new();
    let mut created = 0;
    let mut failures = Vec::new();
    for collection in collections.into_iter().take(MAX_COLLECTIONS) {
        let object = match create_object(cx, CrossIdentityWrite::META.code, owner, &collection).await {
            Ok(object) => object,
            Err(why) => {
                failures.push(why);
                continue;
            }
        };
        created += 1;
        let outcome = write_as_other(cx, owner, other, &object).await;
        remove_object(cx, owner, &object).await;
        if let Some(finding) = outcome {
            findings.push(finding);
        }
    }
    if created == 0 {
        return Err(Untested::blocked(format!(
            "no object could be created ({})",
            failures.join("; ")
        )));
    }
    Ok(findings)
}

/// `other` modifies, then deletes, `owner`'s object; each confirmed by the owner's read.
async fn write_as_other(
    cx: &ScanContext,
    owner: &Identity,
    other: &Identity,
    object: &CreatedObject,
) -> Option<Finding> {
    let owner_read = || cx.probe.send(owner.authorize(ProbeRequest::get(object.url.clone())));
    let before = owner_read().await.ok().filter(ProbeResponse::is_success)?;
    let (field, _) = object.fields.iter().find(|(_, v)| v.is_string())?;
    let marker = format!("authprobe-bola003-{}", nonce());
    let mut evidence: Vec<ExchangeId> = Vec::new();
    let mut done = Vec::new();

    let mut change = Map::new();
    change.insert(field.clone(), json!(marker));
    let mut write = cx
        .probe
        .send(other.authorize(ProbeRequest::json(
            Method::Patch,
            object.url.clone(),
            &Value::Object(change),
        )))
        .await
        .ok();
    if write.as_ref().is_some_and(|w| w.status == 405) {
        let mut full = object.fields.clone();
        full.insert(field.clone(), json!(marker));
        write = cx
            .probe
            .send(other.authorize(ProbeRequest::json(
                Method::Put,
                object.url.clone(),
                &Value::Object(full),
            )))
            .await
            .ok();
    }
    if let (Some(write), Ok(after)) = (write, owner_read().await) {
        if after.is_success() && after.text().contains(&marker) {
            evidence.extend([write.exchange, after.exchange]);
            done.push("modified");
        }
    }

    let delete = cx
        .probe
        .send(other.authorize(ProbeRequest::method(Method::Delete, object.url.clone())))
        .await
        .ok();
    if let (Some(delete), Ok(after)) = (delete, owner_read().await) {
        if matches!(after.status, 404 | 410) {
            evidence.extend([delete.exchange, after.exchange]);
            done.push("deleted");
        }
    }
    if done.is_empty() {
        return None;
    }
    evidence.push(before.exchange);
    Some(
        Finding::new(
            Confidence::Confirmed,
            object.url.path().to_string(),
            format!(
                "`{}` {} `{}`'s object {} (created by the scan as `{}`); reading it back as `{}` showed the change.",
                other.label,
                done.join(" and "),
                owner.label,
                object.url.path(),
                owner.label,
                owner.label
            ),
        )
        .with_evidence(evidence),
    )
}

/// One per-account password URL to try.
struct PasswordRoute {
    method: Method,
    /// The path with `{username}` or `{id}` where the account goes.
    template: String,
    /// The request body the spec declares for it.
    body: Option<BodySchema>,
}

impl PasswordRoute {
    /// The body setting `password`: the spec's password fields (all but the current
    /// password's) and its other required fields, else the usual field names.
    fn body(&self, password: &str) -> Value {
        let Some(schema) = &self.body else {
            return Value::Object(new_password_body(password));
        };
        let mut body = Map::new();
        for field in &schema.fields {
            let lower = field.name.to_ascii_lowercase();
            let current = lower.contains("old") || lower.contains("current");
            if names_a_password(&field.name) && !current {
                body.insert(field.name.clone(), password.into());
            } else if field.required {
                body.insert(field.name.clone(), field.placeholder());
            }
        }
        if body.is_empty() {
            return Value::Object(new_password_body(password));
        }
        Value::Object(body)
    }
}

/// Password URLs to try: the spec's per-account password operations (POST, PUT or
/// PATCH), else POST to the guesses.
fn password_templates(cx: &ScanContext) -> (Vec<PasswordRoute>, bool) {
    let declared: Vec<PasswordRoute> = cx
        .spec
        .iter()
        .flat_map(|s| s.operations.iter())
        .filter(|o| names_a_password(&o.path) && o.params.len() == 1)
        .filter_map(|o| {
            let method = match o.method.as_str() {
                "POST" => Method::Post,
                "PUT" => Method::Put,
                "PATCH" => Method::Patch,
                _ => return None,
            };
            Some(PasswordRoute {
                method,
                template: o
                    .path
                    .replace(&format!("{{{}}}", o.params[0].name), &param_slot(&o.params[0].name)),
                body: o.body.clone(),
            })
        })
        .collect();
    if declared.is_empty() {
        let guesses = PASSWORD_URL_GUESSES.iter().map(|s| PasswordRoute {
            method: Method::Post,
            template: s.to_string(),
            body: None,
        });
        (guesses.collect(), false)
    } else {
        (declared, true)
    }
}

/// `{username}` for a parameter that names an account, `{id}` for one that numbers it.
fn param_slot(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    if lower.contains("name") || lower == "user" || lower == "slug" || lower == "login" {
        "{username}".into()
    } else {
        "{id}".into()
    }
}

fn fill(cx: &ScanContext, template: &str, username: &str, id: Option<&str>) -> Option<Url> {
    let path = template.replace("{username}", username);
    let path = match id {
        Some(id) => path.replace("{id}", id),
        None if path.contains("{id}") => return None,
        None => path,
    };
    cx.target.join(&path)
}

/// The password probe: the first identity sets the password of an account the scan
/// registered, through a per-account URL.
async fn password_by_url(cx: &ScanContext) -> Result<Vec<Finding>, Untested> {
    let Some(attacker) = cx.primary() else {
        return Err(Untested::blocked("needs an identity"));
    };
    let (templates, declared) = password_templates(cx);
    // Guessed URLs must exist first: the attacker's own account's URL answers non-404.
    let mut live = Vec::new();
    let own_id = if declared { None } else { own_id(cx, attacker).await };
    for route in templates {
        if declared {
            live.push(route);
            continue;
        }
        let Some(url) = fill(
            cx,
            &route.template,
            attacker.username.as_deref().unwrap_or(""),
            own_id.as_deref(),
        ) else {
            continue;
        };
        if let Ok(resp) = cx.probe.send(attacker.authorize(ProbeRequest::get(url))).await {
            if resp.status != 404 && !resp.is_html() {
                live.push(route);
            }
        }
    }
    if live.is_empty() {
        return Err(Untested::nothing("no per-account password endpoint was found"));
    }
    let mut victim = register_account(cx, CrossIdentityWrite::META.code, &Map::new())
        .await
        .map_err(|why| Untested::blocked(format!("password URLs: {why}")))?;
    let new_password = format!("Ap-{}-{}!", nonce(), nonce());
    cx.redactor.add_secret(&new_password);
    let mut finding = None;
    let mut session = None;
    for route in &live {
        let Some(url) = fill(cx, &route.template, &victim.credential.username, victim.id().as_deref()) else {
            continue;
        };
        cx.probe.allow_write(&url, WriteGrant::AnyIdentity);
        let body = route.body(&new_password);
        let Ok(write) = cx
            .probe
            .send(attacker.authorize(ProbeRequest::json(route.method, url.clone(), &body)))
            .await
        else {
            continue;
        };
        if !write.is_success() {
            continue;
        }
        if let Some(identity) = log_in_as(cx, &victim.credential.username, &new_password).await {
            let login = identity.login_exchange;
            finding = Some(
                Finding::new(
                    Confidence::Confirmed,
                    url.path().to_string(),
                    format!(
                        "`{}` set the password of another account (`{}`, registered by the scan) through {} {} without its current password; the account then logged in with the password `{}` chose.",
                        attacker.label,
                        victim.credential.username,
                        route.method.as_str(),
                        url.path(),
                        attacker.label
                    ),
                )
                .with_evidence([Some(write.exchange), login].into_iter().flatten().collect::<Vec<_>>()),
            );
            session = Some(identity);
            // Closing the account (and verifying it is gone) takes its password as it is now.
            victim.credential.password = new_password.clone();
            break;
        }
    }
    close_account(cx, &victim, session.as_ref()).await;
    Ok(finding.into_iter().collect())
}

/// The identity's own id, from the identity endpoint.
async fn own_id(cx: &ScanContext, identity: &Identity) -> Option<String> {
    let me = cx.identity_endpoint.clone()?;
    let json = cx
        .probe
        .send(identity.authorize(ProbeRequest::get(me)))
        .await
        .ok()?
        .json()?;
    match json.get("id").or_else(|| json.get("pk"))? {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::PasswordRoute;
    use authprobe_core::probe::Method;
    use authprobe_core::spec::ApiSpec;
    use serde_json::json;

    #[test]
    fn a_declared_password_route_gets_the_body_its_spec_describes() {
        let spec = ApiSpec::from_text(
            r#"{"openapi": "3.0.0", "paths": {"/users/{username}/password": {"put": {
                "parameters": [{"name": "username", "in": "path"}],
                "requestBody": {"content": {"application/json": {"schema": {
                    "required": ["secret", "reason"],
                    "properties": {"secret": {"type": "string"}, "current_password": {"type": "string"},
                                   "new_passwd": {"type": "string"}, "reason": {"type": "string", "example": "forgot"}}}}}}}}}}"#,
            "t",
        )
        .unwrap();
        let op = &spec.operations[0];
        let route = PasswordRoute {
            method: Method::Put,
            template: "/users/{username}/password".into(),
            body: op.body.clone(),
        };
        assert_eq!(
            route.body("Ap-1!"),
            json!({"new_passwd": "Ap-1!", "secret": "authprobe", "reason": "forgot"}),
            "the new password in its password fields (not the current one), placeholders in the other required ones"
        );
        let guess = PasswordRoute {
            method: Method::Post,
            template: "/api/users/{id}/password/".into(),
            body: None,
        };
        assert_eq!(guess.body("x")["new_password"], "x");
    }
}
