use authprobe_core::oracle::MATCH;
use authprobe_core::probe::ProbeRequest;
use authprobe_core::similarity::similarity;
use authprobe_core::{CheckMeta, CheckOutcome, Confidence, Family, Finding, Requirement, ScanContext, Severity};
use url::Url;

use super::objects::{objects_across_pages, private_objects};
use crate::authentication::exposed_secrets::{contents_of, secrets_of_records, Contents};
use crate::support::{owasp, summarize};
use authprobe_core::auth::identity::Identity;
use authprobe_core::auth::ownership;

/// Objects replayed as the second identity at most.
const MAX_OBJECTS: usize = 20;

crate::declare_check! {
    /// ## What it does
    /// Collects the objects that belong to the first identity: what its authenticated
    /// collection responses name that the **second** identity's view of the same
    /// collection does not. An object is a link under the collection (`/api/notes/` →
    /// `/api/notes/1/`), an item's id put under the collection's path (`[{"id": 3}]` →
    /// `/api/notes/3/`), or the API spec's route for that kind of object filled with the
    /// id (`/api/receipt-lookup/{receipt_id}/`); items are read from bare arrays and from
    /// envelopes of any shape (`{"data": {"receipts": [...]}}`). It reads each object as
    /// its owner, then as the second identity, following each listing's next-page links
    /// (two pages past the first). Objects a listing both identities see count too when
    /// the object says it is the first identity's own (an owner field — `owner`, `user`,
    /// `author`, `created_by`, `user_id` — naming its username, address or id) and private
    /// or a draft; a public object both see is not tried. Rails' format routes
    /// (`/posts.json` → `/posts/7.json`) are read as collections. **Confirmed** when the
    /// second identity receives the first identity's object (the same data, not a 404/403
    /// and not its own records).
    ///
    /// It also reads what the first identity's answers carry of the second's: a record
    /// naming the second account (its username) with a password hash, an API key of a
    /// known shape or a secret-named value is reported, redacted, whatever the route
    /// (a user directory serialized with `fields = "__all__"`). Routes that serve secrets
    /// to anyone are AUTH001's.
    ///
    /// ## Why is this bad?
    /// Broken object level authorization (IDOR) is the most common API vulnerability:
    /// authentication is checked, ownership is not, so any user reads any other user's
    /// records by changing an id in the URL.
    ///
    /// ## Example
    /// ```python
    /// class NoteDetail(generics.RetrieveAPIView):
    ///     permission_classes = [IsAuthenticated]
    ///     queryset = Note.objects.all()          # every user's notes
    ///     serializer_class = NoteSerializer
    /// ```
    ///
    /// ## Remediation
    /// Scope every queryset to the caller (and add an object permission for writes):
    /// ```python
    /// class NoteDetail(generics.RetrieveAPIView):
    ///     permission_classes = [IsAuthenticated]
    ///     serializer_class = NoteSerializer
    ///     def get_queryset(self):
    ///         return Note.objects.filter(owner=self.request.user)   # others' ids → 404
    /// ```
    /// Serialize users with an explicit field list, never `"__all__"` (which includes the
    /// password hash), and keep `password` write-only where a serializer accepts one:
    /// ```python
    /// class DirectoryEntrySerializer(serializers.ModelSerializer):
    ///     class Meta:
    ///         model = User
    ///         fields = ["username", "first_name", "last_name"]
    /// ```
    ///
    /// ## References
    /// - OWASP API1:2023 Broken Object Level Authorization
    /// - CWE-639: Authorization Bypass Through User-Controlled Key
    /// - DRF: Filtering against the current user — https://www.django-rest-framework.org/api-guide/filtering/
    pub struct CrossIdentityAccess;
    meta = CheckMeta {
        code: "BOLA001",
        slug: "cross-identity-access",
        title: "Another identity reads this identity's objects (BOLA/IDOR)",
        severity: Severity::High,
        cwe: &[639],
        owasp: &[owasp::API1],
        requires: Requirement::TwoIdentities,
        family: Family::Authorization,
    };
}

impl CrossIdentityAccess {
    async fn check(&self, cx: &ScanContext) -> CheckOutcome {
        let (Some(owner), Some(other)) = (cx.identities.first(), cx.identities.get(1)) else {
            return CheckOutcome::skipped(Requirement::TwoIdentities.missing_reason());
        };
        // Objects listed for the owner but not for the other identity, per collection, and
        // the owner's private objects (drafts, hidden) whoever else's listing shows them.
        let owner_names = known_names(cx, owner).await;
        let mut private: Vec<Url> = Vec::new();
        let mut objects: Vec<Url> = Vec::new();
        for collection in &cx.inventory.endpoints {
            let Some(mine) = collection.authenticated.as_ref().filter(|r| r.is_success()) else {
                continue;
            };
            let children = objects_across_pages(cx, owner, &collection.url, mine).await;
            if children.is_empty() {
                continue;
            }
            let Ok(theirs) = cx
                .probe
                .send(other.authorize(ProbeRequest::get(collection.url.clone())))
                .await
            else {
                continue;
            };
            let their_objects = if theirs.is_success() {
                objects_across_pages(cx, other, &collection.url, &theirs).await
            } else {
                Vec::new()
            };
            for child in children {
                if !their_objects.contains(&child) && !objects.contains(&child) {
                    objects.push(child);
                }
            }
            for object in private_objects(&collection.url, mine, &cx.target, &owner_names) {
                if !objects.contains(&object) {
                    objects.push(object.clone());
                }
                private.push(object);
            }
        }
        let mut findings = others_secrets(cx, owner, other);
        if objects.is_empty() {
            return if findings.is_empty() {
                CheckOutcome::skipped("no object that belongs to the first identity only was found")
            } else {
                findings.into()
            };
        }
        let mut exposed = Vec::new();
        let mut evidence = Vec::new();
        for object in objects.into_iter().take(cx.endpoint_limit(MAX_OBJECTS)) {
            let owner_view = match cx.inventory.get(&object).and_then(|e| e.authenticated.clone()) {
                Some(r) => r,
                None => match cx.probe.send(owner.authorize(ProbeRequest::get(object.clone()))).await {
                    Ok(r) => r,
                    Err(_) => continue,
                },
            };
            if !owner_view.is_success() || owner_view.body.is_empty() {
                continue;
            }
            let Ok(other_view) = cx.probe.send(other.authorize(ProbeRequest::get(object.clone()))).await else {
                continue;
            };
            let same_data =
                other_view.status == owner_view.status && similarity(&other_view.body, &owner_view.body) >= MATCH;
            if other_view.is_success() && same_data {
                exposed.push(object.path().to_string());
                if evidence.is_empty() {
                    evidence.extend([other_view.exchange, owner_view.exchange]);
                }
            }
        }
        let Some(first) = exposed.first() else {
            return findings.into();
        };
        let all_private = exposed.iter().all(|p| private.iter().any(|u| u.path() == p));
        let why = if all_private {
            format!("marked private or draft, owned by `{}`", owner.label)
        } else {
            format!("listed only for `{}`", owner.label)
        };
        findings.push(
            Finding::new(
                Confidence::Confirmed,
                first.clone(),
                format!(
                    "`{}` read `{}`'s object{} {} ({why}) and received the same data as its owner.",
                    other.label,
                    owner.label,
                    if exposed.len() > 1 { "s" } else { "" },
                    summarize(&exposed, 4),
                ),
            )
            .with_evidence(evidence),
        );
        findings.into()
    }
}

/// The names `identity` is known by in the objects' owner fields: its username, and the
/// username, address and id its own record at the identity endpoint gives.
async fn known_names(cx: &ScanContext, identity: &Identity) -> Vec<String> {
    let mut names: Vec<String> = identity.username.iter().cloned().collect();
    if let Some(url) = &cx.identity_endpoint {
        let record = match cx.inventory.get(url).and_then(|e| e.authenticated.clone()) {
            Some(r) if cx.identities.first().is_some_and(|p| p.label == identity.label) => Some(r),
            _ => cx
                .probe
                .send(identity.authorize(ProbeRequest::get(url.clone())))
                .await
                .ok(),
        };
        if let Some(json) = record.filter(|r| r.is_success()).and_then(|r| r.json()) {
            names.extend(ownership::names_in_record(&json));
        }
    }
    names.dedup();
    names
}

/// Answers served to `owner` that carry `other`'s secrets: its record in a user listing
/// with a password hash, its API key or a secret-named value ([`secrets_of_records`]).
/// Routes whose anonymous answer already carries secrets are AUTH001's.
fn others_secrets(cx: &ScanContext, owner: &Identity, other: &Identity) -> Vec<Finding> {
    let names = |i: &Identity| -> Vec<String> {
        let mut out: Vec<String> = [i.username.clone(), i.marker.clone()].into_iter().flatten().collect();
        out.retain(|s| s.len() >= 3);
        out.dedup();
        out
    };
    let (mine, theirs) = (names(owner), names(other));
    if theirs.is_empty() {
        return Vec::new();
    }
    let mut findings = Vec::new();
    for endpoint in &cx.inventory.endpoints {
        let Some(seen) = endpoint.authenticated.as_ref().filter(|r| r.is_success()) else {
            continue;
        };
        if endpoint
            .anonymous_ok()
            .is_some_and(|a| a.is_success() && !contents_of(a).secrets.is_empty())
        {
            continue;
        }
        let Some(json) = seen.json() else { continue };
        let secrets = secrets_of_records(&json, &theirs, &mine);
        if secrets.is_empty() {
            continue;
        }
        for secret in &secrets {
            cx.redactor.add_secret(&secret.value);
        }
        let by_shape = secrets.iter().any(|s| s.kind.recognised_by_shape());
        let contents = Contents {
            secrets,
            ..Contents::default()
        };
        findings.push(
            Finding::new(
                if by_shape { Confidence::Confirmed } else { Confidence::Firm },
                endpoint.path().to_string(),
                format!(
                    "{} serves `{}` the record of `{}` with its secrets: {}. No account may read another's password hash, keys or tokens; the values are redacted in the evidence.",
                    endpoint.path(),
                    owner.label,
                    other.label,
                    contents.summary()
                ),
            )
            .with_evidence([seen.exchange]),
        );
    }
    findings
}
