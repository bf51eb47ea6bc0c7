use authprobe_core::oracle::Verdict;
use authprobe_core::probe::ProbeRequest;
use authprobe_core::{CheckMeta, CheckOutcome, Confidence, Family, Finding, Requirement, ScanContext, Severity};
use url::Url;

use crate::support::owasp;

crate::declare_check! {
    /// ## What it does
    /// On an endpoint that serves the scan's identity and refuses anonymous requests,
    /// sends the identity's own valid token in a query parameter instead of the
    /// `Authorization` header, in the query parameters the auth layer names: first those
    /// the API's spec declares for its keys (`apiKey` schemes `in: query`, such as
    /// `api_key`), then the field the login's answer carried the token in (`session_token`),
    /// then the common ones (`?access_token=`, `?token=`, `?api_key=`, `?auth_token=`,
    /// `?jwt=`, `?apikey=`, `?key=`, `?api-key=`), at most nine names, and
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
        for param in &cx.auth().query_token_parameters() {
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
                    let spec_says = if cx.auth().declares_query_parameter(param) {
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
}
