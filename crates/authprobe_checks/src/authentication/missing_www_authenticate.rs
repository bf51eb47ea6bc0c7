use authprobe_core::{
    CheckMeta, CheckOutcome, Confidence, Family, Finding, ProbeResponse, Requirement, ScanContext, Severity,
};

use crate::support::{anonymous_responses, owasp, summarize};

/// Exchanges attached as evidence, at most.
const MAX_EVIDENCE: usize = 3;

crate::declare_check! {
    /// ## What it does
    /// Looks at every anonymous response discovery recorded (no extra requests) and
    /// reports the `401 Unauthorized` answers that carry no `WWW-Authenticate` header.
    /// A `403 Forbidden` needs no challenge and is not reported.
    ///
    /// ## Why is this bad?
    /// HTTP requires a 401 to say how to authenticate (RFC 9110 §15.5.2): the
    /// `WWW-Authenticate` challenge names the scheme (`Bearer realm="api"`). Without it,
    /// generic clients, API gateways and scanners cannot tell which credential is
    /// expected, and the missing header usually means a hand-written 401 that bypasses
    /// the framework's authentication layer, the kind of code where other authentication
    /// mistakes live. On its own it is a hygiene issue, not a vulnerability.
    ///
    /// ## Example
    /// ```python
    /// def notes(request):
    ///     if not request.user.is_authenticated:
    ///         return JsonResponse({"detail": "login required"}, status=401)   # no challenge
    ///     ...
    ///
    /// # or, in DRF, an authentication class without authenticate_header():
    /// class HeaderKeyAuthentication(BaseAuthentication):
    ///     def authenticate(self, request): ...
    /// ```
    ///
    /// ## Remediation
    /// Let DRF answer: it sends 401 with the challenge of the *first* authentication
    /// class, and falls back to 403 when that class has no `authenticate_header()`. Put a
    /// header-based class first and give custom classes a challenge:
    /// ```python
    /// REST_FRAMEWORK = {
    ///     "DEFAULT_AUTHENTICATION_CLASSES": [
    ///         "rest_framework_simplejwt.authentication.JWTAuthentication",   # 401 + Bearer challenge
    ///         "rest_framework.authentication.SessionAuthentication",
    ///     ],
    /// }
    ///
    /// class HeaderKeyAuthentication(BaseAuthentication):
    ///     def authenticate_header(self, request):
    ///         return 'Bearer realm="api"'
    /// ```
    /// In plain Django views, set `response["WWW-Authenticate"] = 'Bearer realm="api"'` on
    /// every 401.
    ///
    /// ## References
    /// - RFC 9110 §15.5.2 401 Unauthorized and §11.6.1 WWW-Authenticate — https://www.rfc-editor.org/rfc/rfc9110#status.401
    /// - DRF: Authentication, "Unauthorized and Forbidden responses" — https://www.django-rest-framework.org/api-guide/authentication/#unauthorized-and-forbidden-responses
    /// - CWE-287: Improper Authentication
    /// - OWASP API8:2023 Security Misconfiguration
    pub struct MissingWwwAuthenticate;
    meta = CheckMeta {
        code: "AUTH007",
        slug: "missing-www-authenticate",
        title: "401 response without a WWW-Authenticate challenge",
        severity: Severity::Info,
        cwe: &[287],
        owasp: &[owasp::API8],
        requires: Requirement::Passive,
        family: Family::Authentication,
    };
}

impl MissingWwwAuthenticate {
    async fn check(&self, cx: &ScanContext) -> CheckOutcome {
        let unchallenged: Vec<(&str, &ProbeResponse)> = anonymous_responses(cx)
            .filter(|(_, r)| lacks_challenge(r))
            .map(|(e, r)| (e.path(), r))
            .collect();
        let Some((first, _)) = unchallenged.first() else {
            return CheckOutcome::passed();
        };
        let paths: Vec<String> = unchallenged.iter().map(|(p, _)| p.to_string()).collect();
        let message = if paths.len() == 1 {
            format!("{first} answered 401 Unauthorized without a `WWW-Authenticate` header, so clients are not told which authentication scheme to use.")
        } else {
            format!(
                "{} endpoints answered 401 Unauthorized without a `WWW-Authenticate` header, so clients are not told which authentication scheme to use: {}.",
                paths.len(),
                summarize(&paths, 5)
            )
        };
        let evidence = unchallenged.iter().take(MAX_EVIDENCE).map(|(_, r)| r.exchange);
        vec![Finding::new(Confidence::Confirmed, *first, message).with_evidence(evidence)].into()
    }
}

/// A 401 whose `WWW-Authenticate` header is missing or empty.
pub fn lacks_challenge(resp: &ProbeResponse) -> bool {
    resp.status == 401 && resp.header_all("www-authenticate").iter().all(|v| v.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use authprobe_core::ExchangeId;
    use std::time::Duration;

    fn response(status: u16, challenge: Option<&'static str>) -> ProbeResponse {
        let mut resp = ProbeResponse {
            exchange: ExchangeId(0),
            url: url::Url::parse("http://t/api/notes/").unwrap(),
            status,
            headers: Default::default(),
            body: r#"{"detail":"Authentication credentials were not provided."}"#.to_string().into(),
            body_truncated: false,
            elapsed: Duration::ZERO,
        };
        if let Some(value) = challenge {
            resp.headers.insert("www-authenticate", value.parse().unwrap());
        }
        resp
    }

    #[test]
    fn a_401_without_a_challenge_is_reported() {
        assert!(lacks_challenge(&response(401, None)));
        assert!(lacks_challenge(&response(401, Some(""))));
    }

    #[test]
    fn drf_jwt_401_with_its_bearer_challenge_passes() {
        assert!(!lacks_challenge(&response(401, Some(r#"Bearer realm="api""#))));
    }

    #[test]
    fn other_statuses_need_no_challenge() {
        assert!(!lacks_challenge(&response(403, None)));
        assert!(!lacks_challenge(&response(200, None)));
    }
}
