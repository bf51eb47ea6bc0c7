use authprobe_core::probe::{ProbeRequest, ProbeResponse};
use authprobe_core::{CheckMeta, CheckOutcome, Confidence, Family, Finding, Requirement, ScanContext, Severity};
use serde_json::Value;
use std::collections::BTreeSet;
use url::Url;

use crate::support::{owasp, summarize};

/// Path segments (or their `-`/`_` parts) that name an admin or staff function.
const ADMIN_WORDS: &[&str] = &[
    "admin",
    "staff",
    "manage",
    "management",
    "internal",
    "superuser",
    "backoffice",
    "moderation",
];

/// Staff functions tried when discovery and the spec name none.
const GUESSES: &[&str] = &[
    "/api/admin/",
    "/api/admin/users/",
    "/api/staff/",
    "/api/staff/users/",
    "/api/internal/",
    "/api/manage/users/",
];

/// Candidate functions requested at most.
const MAX_CANDIDATES: usize = 16;

use authprobe_core::auth::vocab::ACCOUNT_KEYS;

/// Flags that say the caller is staff already (then nothing here is a finding).
const STAFF_FLAGS: &[&str] = &["is_staff", "is_superuser", "is_admin", "admin"];

crate::declare_check! {
    /// ## What it does
    /// Looks for admin and staff functions: endpoints from discovery and the spec whose
    /// path names one (`admin`, `staff`, `manage`, `internal`, …) and a few common ones
    /// (`/api/admin/users/`, `/api/staff/users/`). Each must refuse anonymous callers
    /// (401/403: it is a protected function). It then calls them as the plain identity and
    /// reports those that answer with a JSON success body listing **other accounts'** data:
    /// **confirmed** when the second identity's account appears in it, *firm* when at least
    /// two accounts other than the caller's do. An identity the identity endpoint shows as
    /// staff is not tested. Only `GET` is sent: calling admin actions that change data is not
    /// attempted. With no protected staff function found at all the check is skipped, not
    /// passed.
    ///
    /// ## Why is this bad?
    /// Broken function level authorization: the staff screens are hidden in the frontend,
    /// but the API behind them checks only that the caller is signed in, so any customer
    /// who finds the URL (it is often in the published schema) uses them.
    ///
    /// ## Example
    /// ```python
    /// class StaffUserList(generics.ListAPIView):
    ///     permission_classes = [IsAuthenticated]      # any signed-in user
    ///     queryset = User.objects.all()
    ///     serializer_class = StaffUserSerializer
    /// ```
    ///
    /// ## Remediation
    /// Require the role on the view itself (and keep staff endpoints out of the public schema):
    /// ```python
    /// from rest_framework.permissions import IsAdminUser
    ///
    /// class StaffUserList(generics.ListAPIView):
    ///     permission_classes = [IsAdminUser]          # is_staff only
    ///     queryset = User.objects.all()
    ///     serializer_class = StaffUserSerializer
    /// ```
    ///
    /// ## References
    /// - OWASP API5:2023 Broken Function Level Authorization
    /// - CWE-285: Improper Authorization
    /// - DRF: IsAdminUser — https://www.django-rest-framework.org/api-guide/permissions/#isadminuser
    pub struct FunctionLevelAuthorization;
    meta = CheckMeta {
        code: "AUTHZ001",
        slug: "function-level-authorization",
        title: "A plain identity reaches an admin or staff function (BFLA)",
        severity: Severity::High,
        cwe: &[285],
        owasp: &[owasp::API5],
        requires: Requirement::Identity,
        family: Family::Authorization,
    };
}

impl FunctionLevelAuthorization {
    async fn check(&self, cx: &ScanContext) -> CheckOutcome {
        let Some(caller) = cx.primary() else {
            return CheckOutcome::skipped(Requirement::Identity.missing_reason());
        };
        // The caller's own names (username, email) are not other accounts' data.
        let mut own_names: BTreeSet<String> = caller.username.iter().cloned().collect();
        if let Some(me) = cx.identity_endpoint.clone() {
            if let Ok(own) = cx.probe.send(caller.authorize(ProbeRequest::get(me))).await {
                if let Some(flag) = staff_flag(&own) {
                    return CheckOutcome::skipped(format!(
                        "the primary identity `{}` is staff (`{flag}` in its record): use a plain account as the first --user",
                        caller.label
                    ));
                }
                own_names.extend(own.json().map(|j| account_names(&j)).unwrap_or_default());
            }
        }
        let others: Vec<&str> = cx
            .identities
            .iter()
            .skip(1)
            .filter_map(|i| i.username.as_deref())
            .collect();
        let mut reached = Vec::new();
        let mut evidence = Vec::new();
        let mut confidence = Confidence::Firm;
        let mut protected = 0;
        for url in candidates(cx).into_iter().take(MAX_CANDIDATES) {
            let anonymous = match cx.inventory.get(&url).and_then(|e| e.anonymous.as_ref().ok()) {
                Some(resp) => resp.clone(),
                None => match cx.probe.send(ProbeRequest::get(url.clone())).await {
                    Ok(resp) => resp,
                    Err(_) => continue,
                },
            };
            if !matches!(anonymous.status, 401 | 403) {
                continue;
            }
            protected += 1;
            let Ok(resp) = cx.probe.send(caller.authorize(ProbeRequest::get(url.clone()))).await else {
                continue;
            };
            if !resp.is_success() || resp.is_html() {
                continue;
            }
            let Some(json) = resp.json() else { continue };
            let accounts = account_names(&json);
            let shows_other_identity = others.iter().any(|o| accounts.contains(*o));
            let strangers = accounts.difference(&own_names).count();
            if !shows_other_identity && strangers < 2 {
                continue;
            }
            if shows_other_identity {
                confidence = Confidence::Confirmed;
            }
            reached.push(url.path().to_string());
            if evidence.is_empty() {
                evidence.extend([resp.exchange, anonymous.exchange]);
            }
        }
        let Some(first) = reached.first() else {
            if protected == 0 {
                return CheckOutcome::skipped(
                    "no admin or staff function that refuses anonymous callers was found (discovery, spec, common paths)",
                );
            }
            return CheckOutcome::passed();
        };
        vec![Finding::new(
            confidence,
            first.clone(),
            format!(
                "`{}`, a plain account, called the staff function{} {} (anonymous callers are refused) and received other accounts' data.",
                caller.label,
                if reached.len() > 1 { "s" } else { "" },
                summarize(&reached, 4)
            ),
        )
        .with_evidence(evidence)]
        .into()
    }
}

/// Whether a path names an admin or staff function.
fn is_admin_path(path: &str) -> bool {
    path.to_ascii_lowercase()
        .split(['/', '-', '_', '.'])
        .any(|part| ADMIN_WORDS.contains(&part))
}

/// Inventory endpoints and spec GET operations with admin words, then the guesses.
fn candidates(cx: &ScanContext) -> Vec<Url> {
    let mut out: Vec<Url> = Vec::new();
    let mut push = |url: Url| {
        if !out.contains(&url) {
            out.push(url);
        }
    };
    for endpoint in &cx.inventory.endpoints {
        if is_admin_path(endpoint.path()) && !endpoint.kind.takes_credentials() {
            push(endpoint.url.clone());
        }
    }
    if let Some(spec) = &cx.spec {
        for op in spec
            .operations
            .iter()
            .filter(|o| o.method == "GET" && !o.changes_state())
        {
            if let Some(url) = op
                .concrete_path()
                .filter(|p| is_admin_path(p))
                .and_then(|p| cx.target.join(&p))
            {
                push(url);
            }
        }
    }
    for guess in GUESSES {
        if let Some(url) = cx.target.join(guess) {
            push(url);
        }
    }
    out
}

/// The staff flag set in the caller's own record, if any.
fn staff_flag(own: &ProbeResponse) -> Option<&'static str> {
    let json = own.json()?;
    STAFF_FLAGS
        .iter()
        .copied()
        .find(|f| json.get(*f).and_then(Value::as_bool) == Some(true))
}

/// Every account name a JSON body lists (values of `username`, `email`, … at any depth).
fn account_names(json: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut stack = vec![json];
    while let Some(value) = stack.pop() {
        match value {
            Value::Object(map) => {
                for (key, v) in map {
                    match v {
                        Value::String(s) if ACCOUNT_KEYS.contains(&key.as_str()) && !s.is_empty() => {
                            out.insert(s.clone());
                        }
                        _ => stack.push(v),
                    }
                }
            }
            Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn admin_words_are_whole_path_parts() {
        assert!(is_admin_path("/api/staff/users/"));
        assert!(is_admin_path("/api/user-admin/"));
        assert!(is_admin_path("/internal/metrics/"));
        assert!(!is_admin_path("/api/administrators-guide/"));
        assert!(!is_admin_path("/api/notes/"));
        assert!(!is_admin_path("/api/managers_notes/"));
    }

    #[test]
    fn account_names_are_read_at_any_depth() {
        let body = json!({"count": 2, "results": [
            {"id": 1, "username": "alice", "email": "alice@example.com"},
            {"id": 2, "username": "bob", "profile": {"user": "bob"}}
        ]});
        let names = account_names(&body);
        assert!(names.contains("bob") && names.contains("alice@example.com"));
        assert_eq!(names.len(), 3);
    }
}
