use authprobe_core::oracle::Verdict;
use authprobe_core::probe::ProbeRequest;
use authprobe_core::spec::{ApiSpec, SchemeKind};
use authprobe_core::{CheckMeta, CheckOutcome, Confidence, Family, Finding, Requirement, ScanContext, Severity};
use url::Url;

use crate::support::owasp;

/// Query parameters that authentication libraries and hand-written middleware read tokens
/// and API keys from, most common first.
pub const QUERY_PARAMETERS: &[&str] = &[
    "access_token",
    "token",
    "api_key",
    "auth_token",
    "jwt",
    "apikey",
    "key",
    "api-key",
];

/// Most parameters tried on the endpoint (one request each): the spec's declared names
/// first, then [`QUERY_PARAMETERS`].
const MAX_PARAMETERS: usize = 8;

crate::declare_check! {
    /// ## What it does
    /// On an endpoint that serves the scan's identity and refuses anonymous requests,
    /// sends the identity's own valid token in a query parameter instead of the
    /// `Authorization` header (`?access_token=`, `?token=`, `?api_key=`, `?auth_token=`,
    /// `?jwt=`, `?apikey=`, `?key=`, `?api-key=`; first the name of any `apiKey` scheme the
    /// API's spec declares `in: query`, at most eight names) and
    /// judges each answer with the differential oracle: the parameter *authenticates*
    /// when the answer matches the valid-credential baseline, carries the identity's
    /// marker (its username), and differs from the anonymous and garbage-credential ones.
    ///
    /// ## Why is this bad?
    /// URLs are logged and shared everywhere headers are not: web server and proxy access
    /// logs, CDN and load balancer logs, browser history, bookmarks, the `Referer` header
    /// sent to third parties, analytics, and screenshots. A server that accepts tokens from
    /// the query string invites clients to put them there, and every one of those places
    /// then holds a working credential.
    ///
    /// ## Example
    /// ```python
    /// class QueryStringJWTAuthentication(JWTAuthentication):
    ///     """So download links and the websocket client can authenticate."""
    ///     def authenticate(self, request):
    ///         raw = request.query_params.get("access_token")
    ///         if raw is None:
    ///             return None
    ///         validated = self.get_validated_token(raw)
    ///         return self.get_user(validated), validated
    /// ```
    ///
    /// ## Remediation
    /// Accept tokens only in the `Authorization` header:
    /// ```python
    /// REST_FRAMEWORK = {
    ///     "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework_simplejwt.authentication.JWTAuthentication"],
    /// }
    /// ```
    /// For links that must work without headers (downloads, e-mail links), issue a
    /// separate single-purpose token that expires within seconds and can do nothing else,
    /// or use a Django signed URL (`django.core.signing.TimestampSigner`) scoped to the one
    /// object.
    ///
    /// ## References
    /// - CWE-598: Use of GET Request Method With Sensitive Query Strings
    /// - OWASP API2:2023 Broken Authentication
    /// - RFC 6750 §5.3 (don't pass bearer tokens in page URLs) — https://www.rfc-editor.org/rfc/rfc6750#section-5.3
    pub struct TokenInQueryAccepted;
    meta = CheckMeta {
        code: "AUTH003",
        slug: "token-in-query-accepted",
        title: "Token accepted in the URL query string",
        severity: Severity::Medium,
        cwe: &[598],
        owasp: &[owasp::API2],
        requires: Requirement::Identity,
        family: Family::Authentication,
    };
}

impl TokenInQueryAccepted {
    async fn check(&self, cx: &ScanContext) -> CheckOutcome {
        let Some(identity) = cx.primary() else {
            return CheckOutcome::skipped(Requirement::Identity.missing_reason());
        };
        let Some(token) = identity.token() else {
            return CheckOutcome::skipped(
                "the identity authenticates with a session cookie, not a header token, so there is no token to put in the URL",
            );
        };
        // The first endpoint where the oracle can tell valid from garbage credentials.
        let mut candidates: Vec<url::Url> = cx.oracle_endpoint().into_iter().collect();
        let mut listed: std::collections::HashSet<url::Url> = candidates.iter().cloned().collect();
        for e in cx.protected_endpoints() {
            if listed.insert(e.url.clone()) {
                candidates.push(e.url.clone());
            }
        }
        if candidates.is_empty() {
            return CheckOutcome::skipped(
                "no endpoint was found that serves the identity and refuses anonymous requests",
            );
        }
        let mut why_not = Vec::new();
        let mut chosen = None;
        for url in candidates.into_iter().take(5) {
            match cx.baseline(&url).await {
                Ok(b) => match b.distinguishable() {
                    Ok(()) => {
                        chosen = Some((url, b));
                        break;
                    }
                    Err(why) => why_not.push(format!("{}: {why}", url.path())),
                },
                Err(e) => why_not.push(format!("{}: {e}", url.path())),
            }
        }
        let Some((url, baseline)) = chosen else {
            return CheckOutcome::skipped(format!("inconclusive ({})", why_not.join("; ")));
        };
        let declared = declared_query_keys(cx.spec.as_ref());
        for param in &parameters(&declared) {
            // No Authorization header: the parameter is the only credential sent.
            let Ok(resp) = cx
                .probe
                .send(ProbeRequest::get(with_query_token(&url, param, token)))
                .await
            else {
                continue;
            };
            match baseline.judge(&resp) {
                Verdict::Accepted => {
                    let who = identity
                        .username
                        .as_deref()
                        .map(|u| format!("`{u}`"))
                        .unwrap_or_else(|| "the scan's identity".into());
                    let spec_says = if declared.contains(param) {
                        " (the API's spec declares it as an API key in the query)"
                    } else {
                        ""
                    };
                    let message = format!(
                        "{} authenticated a request that carried the token only in the `{param}` query parameter{spec_says} (no Authorization header) and answered as {who}, like a header-authenticated request; tokens in URLs end up in logs, browser history and Referer headers.",
                        url.path()
                    );
                    return vec![Finding::new(Confidence::Confirmed, url.path(), message).with_evidence([
                        resp.exchange,
                        baseline.valid.exchange,
                        baseline.anonymous.exchange,
                    ])]
                    .into();
                }
                Verdict::Inconclusive(why) => {
                    return CheckOutcome::skipped(format!("inconclusive on {}: {why}", url.path()))
                }
                Verdict::Rejected => {}
            }
        }
        CheckOutcome::passed()
    }
}

/// The names of the `apiKey` schemes the spec declares `in: query`.
fn declared_query_keys(spec: Option<&ApiSpec>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for scheme in spec.map(|s| s.schemes.as_slice()).unwrap_or_default() {
        if let SchemeKind::Query(name) = &scheme.kind {
            if !name.is_empty() && !out.contains(name) {
                out.push(name.clone());
            }
        }
    }
    out
}

/// The parameters tried: the declared names, then the common ones, without repeats (a
/// declared `api_key` is tried once), at most [`MAX_PARAMETERS`].
fn parameters(declared: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let names = declared
        .iter()
        .map(String::as_str)
        .chain(QUERY_PARAMETERS.iter().copied());
    for name in names {
        if !out.iter().any(|p| p.eq_ignore_ascii_case(name)) {
            out.push(name.to_string());
        }
    }
    out.truncate(MAX_PARAMETERS);
    out
}

/// `url` with `param=token` added to its query (existing parameters are kept).
pub fn with_query_token(url: &Url, param: &str, token: &str) -> Url {
    let mut out = url.clone();
    out.query_pairs_mut().append_pair(param, token);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_appended_to_the_query() {
        let url = Url::parse("http://t/api/me/").unwrap();
        assert_eq!(
            with_query_token(&url, "access_token", "eyJ.a.b").as_str(),
            "http://t/api/me/?access_token=eyJ.a.b"
        );
        let with_query = Url::parse("http://t/api/notes/?page=2").unwrap();
        assert_eq!(
            with_query_token(&with_query, "jwt", "x+y").as_str(),
            "http://t/api/notes/?page=2&jwt=x%2By"
        );
    }

    #[test]
    fn the_common_parameter_names_are_tried() {
        for p in ["access_token", "token", "auth_token", "jwt", "api_key", "apikey", "key"] {
            assert!(parameters(&[]).iter().any(|q| q == p), "{p}");
        }
        assert!(parameters(&[]).len() <= MAX_PARAMETERS);
    }

    #[test]
    fn a_query_key_the_spec_declares_is_tried_first_within_the_cap() {
        let spec = ApiSpec::from_text(
            r#"{"openapi": "3.0.0", "paths": {"/v1/me": {"get": {"security": [{"q": []}]}}},
                "components": {"securitySchemes": {
                    "q": {"type": "apiKey", "in": "query", "name": "x_token"},
                    "h": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
                    "again": {"type": "apiKey", "in": "query", "name": "api_key"}}}}"#,
            "spec.json",
        )
        .unwrap();
        let declared = declared_query_keys(Some(&spec));
        assert_eq!(declared.len(), 2, "header keys are not query parameters: {declared:?}");
        assert!(declared.contains(&"x_token".to_string()) && declared.contains(&"api_key".to_string()));
        let tried = parameters(&declared);
        assert_eq!(&tried[..2], &declared[..]);
        assert_eq!(tried.len(), MAX_PARAMETERS);
        assert_eq!(tried.iter().filter(|p| *p == "api_key").count(), 1, "{tried:?}");
        assert!(declared_query_keys(None).is_empty());
    }
}
