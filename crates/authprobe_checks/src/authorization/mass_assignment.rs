use authprobe_core::auth::identity::Identity;
use authprobe_core::probe::{Method, ProbeRequest, ProbeResponse, WriteGrant};
use authprobe_core::{CheckMeta, CheckOutcome, Confidence, Family, Finding, Requirement, ScanContext, Severity};
use serde_json::{json, Map, Value};

use super::write_probes::{close_account, log_in_as, register_account, CreatedAccount};
use crate::support::owasp;

/// The privileged account fields a client adds, and the value that means "granted".
const PRIVILEGED: &[(&str, &str)] = &[
    ("is_staff", "true"),
    ("is_superuser", "true"),
    ("is_admin", "true"),
    ("admin", "true"),
    ("role", "admin"),
];

crate::declare_check! {
    /// ## What it does
    /// A **write probe** (runs only with `--allow-writes` against a target declared
    /// non-production). It registers a fresh account of its own with privileged fields
    /// added to the body (`is_staff`, `is_superuser`, `is_admin`, `admin`, `role`), logs it
    /// in and reads the identity endpoint: **confirmed** when a privileged field it sent
    /// reads back granted, at any depth of the record's objects (`{"data": {"admin":
    /// true}}`). If registration ignored them, the same account sends them in a
    /// profile update (`PATCH` on the identity endpoint) and reads back again (a field is
    /// the update's doing only if it was not granted before). The account
    /// is closed afterwards (`DELETE` on the identity endpoint) and listed in the report's
    /// `writes` section.
    ///
    /// ## Why is this bad?
    /// A serializer that binds every model field lets any client make itself staff or
    /// superuser: privilege escalation by adding one key to a JSON body.
    ///
    /// ## Example
    /// ```python
    /// class RegisterSerializer(serializers.ModelSerializer):
    ///     class Meta:
    ///         model = User
    ///         fields = ["username", "email", "password", "is_staff", "is_superuser"]
    /// ```
    ///
    /// ## Remediation
    /// List the fields a client may set, and make the rest read-only:
    /// ```python
    /// class RegisterSerializer(serializers.ModelSerializer):
    ///     class Meta:
    ///         model = User
    ///         fields = ["id", "username", "email", "password"]
    ///         read_only_fields = ["id"]
    ///
    /// class ProfileSerializer(serializers.ModelSerializer):
    ///     class Meta:
    ///         model = User
    ///         fields = ["id", "username", "email", "is_staff"]
    ///         read_only_fields = ["id", "username", "is_staff"]
    /// ```
    ///
    /// ## References
    /// - OWASP API3:2023 Broken Object Property Level Authorization
    /// - CWE-915: Improperly Controlled Modification of Dynamically-Determined Object Attributes
    /// - DRF: Specifying read only fields — https://www.django-rest-framework.org/api-guide/serializers/#specifying-read-only-fields
    pub struct MassAssignment;
    meta = CheckMeta {
        code: "AUTHZ002",
        slug: "mass-assignment",
        title: "A privileged field set by the client sticks (mass assignment)",
        severity: Severity::High,
        cwe: &[915],
        owasp: &[owasp::API3],
        requires: Requirement::LoginFlow,
        family: Family::Authorization,
    };
    sends_post = true;
    writes = true;
}

impl MassAssignment {
    async fn check(&self, cx: &ScanContext) -> CheckOutcome {
        let Some(me) = cx.identity_endpoint.clone() else {
            return CheckOutcome::skipped("no identity endpoint to read the account's fields back from");
        };
        let privileged = privileged_body();
        // A strict serializer may refuse unknown fields: then the profile update is tried alone.
        let (account, sent_at_registration) = match register_account(cx, Self::META.code, &privileged).await {
            Ok(account) => (account, true),
            Err(first) => match register_account(cx, Self::META.code, &Map::new()).await {
                Ok(account) => (account, false),
                Err(_) => return CheckOutcome::skipped(first),
            },
        };
        let Some(session) = log_in_as(cx, &account.credential.username, &account.credential.password).await else {
            close_account(cx, &account, None).await;
            return CheckOutcome::skipped(format!(
                "the account the scan registered (`{}`) could not log in (e-mail verification?)",
                account.credential.username
            ));
        };
        let outcome = self.probe(cx, &me, &account, &session, sent_at_registration).await;
        close_account(cx, &account, Some(&session)).await;
        outcome
    }

    async fn probe(
        &self,
        cx: &ScanContext,
        me: &url::Url,
        account: &CreatedAccount,
        session: &Identity,
        sent_at_registration: bool,
    ) -> CheckOutcome {
        let read = || cx.probe.send(session.authorize(ProbeRequest::get(me.clone())));
        let Ok(first) = read().await else {
            return CheckOutcome::skipped("the identity endpoint did not answer the new account");
        };
        let mut shown = shows_any(&first);
        if sent_at_registration {
            let granted = granted(&first);
            if !granted.is_empty() {
                return vec![finding(
                    account,
                    &account.registration,
                    &first,
                    &granted,
                    account.registration.url.path(),
                    "registration",
                )]
                .into();
            }
        }
        // The profile update, as the new account only.
        let Some(header) = session.authorization() else {
            return CheckOutcome::skipped("the new account's login gave no header credential for a profile update");
        };
        cx.probe.allow_write(me, WriteGrant::Authorization(header));
        let body = privileged_body();
        if let Ok(update) = cx
            .probe
            .send(session.authorize(ProbeRequest::json(Method::Patch, me.clone(), &Value::Object(body))))
            .await
        {
            if let Ok(after) = read().await {
                shown |= shows_any(&after);
                // Only what the update changed: a field granted before it is not its doing.
                let before = granted(&first);
                let granted: Vec<&str> = granted(&after).into_iter().filter(|f| !before.contains(f)).collect();
                if !granted.is_empty() {
                    return vec![finding(account, &update, &after, &granted, me.path(), "profile update")].into();
                }
            }
        }
        if shown {
            CheckOutcome::passed()
        } else {
            CheckOutcome::skipped(format!(
                "{} shows none of the privileged fields ({}), so whether they stuck cannot be read back",
                me.path(),
                PRIVILEGED.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", ")
            ))
        }
    }
}

/// The privileged fields with their "granted" values, as a JSON body.
fn privileged_body() -> Map<String, Value> {
    PRIVILEGED
        .iter()
        .map(|(k, v)| (k.to_string(), serde_json::from_str(v).unwrap_or_else(|_| json!(v))))
        .collect()
}

/// The privileged fields the identity endpoint shows granted, at any depth of its record
/// (`{"data": {"user": {"is_staff": true}}}`).
fn granted(resp: &ProbeResponse) -> Vec<&'static str> {
    let Some(json) = resp.json() else { return Vec::new() };
    PRIVILEGED
        .iter()
        .filter(|(field, wanted)| {
            fields_named(&json, field).iter().any(|v| match v {
                Value::Bool(b) => *wanted == "true" && *b,
                Value::String(s) => s.eq_ignore_ascii_case(wanted),
                _ => false,
            })
        })
        .map(|(field, _)| *field)
        .collect()
}

/// Whether the identity endpoint shows any of the privileged fields at all.
fn shows_any(resp: &ProbeResponse) -> bool {
    resp.json().is_some_and(|json| {
        PRIVILEGED
            .iter()
            .any(|(field, _)| !fields_named(&json, field).is_empty())
    })
}

/// How deep into nested objects of a record its fields are looked for.
const MAX_DEPTH: usize = 4;

/// The values of `name` in `json` and in the objects nested in it (not in arrays: a list
/// of memberships is not the account's own field).
fn fields_named<'a>(json: &'a Value, name: &str) -> Vec<&'a Value> {
    let mut out = Vec::new();
    let mut level = vec![json];
    for _ in 0..=MAX_DEPTH {
        let mut next = Vec::new();
        for value in level {
            let Some(map) = value.as_object() else { continue };
            out.extend(map.get(name));
            next.extend(map.values().filter(|v| v.is_object()));
        }
        level = next;
    }
    out
}

fn finding(
    account: &CreatedAccount,
    write: &ProbeResponse,
    read_back: &ProbeResponse,
    granted: &[&str],
    endpoint: &str,
    how: &str,
) -> Finding {
    Finding::new(
        Confidence::Confirmed,
        endpoint.to_string(),
        format!(
            "The {how} accepted privileged fields from the client: the account `{}` (registered by the scan) reads back {} granted.",
            account.credential.username,
            granted.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", ")
        ),
    )
    .with_evidence(vec![write.exchange, read_back.exchange])
}

#[cfg(test)]
mod tests {
    use super::fields_named;
    use serde_json::json;

    #[test]
    fn privileged_fields_are_read_at_any_depth_of_objects_but_not_in_lists() {
        let enveloped = json!({"status": "ok", "data": {"user": {"is_staff": true}}});
        assert_eq!(fields_named(&enveloped, "is_staff"), [&json!(true)]);
        assert_eq!(fields_named(&json!({"admin": false}), "admin"), [&json!(false)]);
        let memberships = json!({"groups": [{"role": "admin"}]});
        assert!(fields_named(&memberships, "role").is_empty());
    }
}
