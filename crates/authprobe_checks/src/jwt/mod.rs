//! JWT checks: what the tokens an API issues say about themselves, and how it verifies them.

pub mod alg_none;
pub(crate) mod cracking;
pub(crate) mod doc_secrets;
pub mod expired_accepted;
pub(crate) mod families;
pub mod header_injection;
pub mod key_confusion;
pub mod lifetime;
pub mod missing_aud_iss;
pub mod psychic_signature;
pub mod sensitive_claims;
pub mod signature_not_verified;
pub mod weak_secret;

use authprobe_core::auth::identity::Identity;
use authprobe_core::ScanContext;
use authprobe_jwt::Jwt;
use url::Url;

/// Why a JWT check that reads the identity's tokens cannot run.
pub(crate) const NO_JWT: &str = "no JWT was obtained: the identity's credential is not a JWT";

/// The decoded JWTs the primary identity holds (never verified: the claims are read only).
pub(crate) struct IssuedTokens<'a> {
    pub identity: &'a Identity,
    pub access: Option<Jwt>,
    pub refresh: Option<Jwt>,
}

impl IssuedTokens<'_> {
    /// The primary identity's access and refresh JWTs, or `None` when it holds neither
    /// (session or opaque-token credentials).
    pub fn of_primary(cx: &ScanContext) -> Option<IssuedTokens<'_>> {
        let identity = cx.primary()?;
        let parse = |t: &Option<String>| t.as_deref().and_then(|t| Jwt::parse(t).ok());
        let access = parse(&identity.access_jwt);
        let refresh = parse(&identity.refresh_jwt);
        if access.is_none() && refresh.is_none() {
            return None;
        }
        Some(IssuedTokens {
            identity,
            access,
            refresh,
        })
    }

    /// Where the tokens came from, for a finding's `endpoint`: the path of the login
    /// request (e.g. `/api/token/`), or the target for a supplied `--bearer` token.
    pub fn source(&self, cx: &ScanContext) -> String {
        self.identity
            .login_exchange
            .and_then(|id| cx.probe.exchange(id))
            .and_then(|x| Url::parse(&x.request.url).ok())
            .map(|u| u.path().to_string())
            .unwrap_or_else(|| cx.target.url.path().to_string())
    }

    /// How the tokens were obtained, for a message: `issued by /api/token/` or
    /// `supplied with --bearer`.
    pub fn provenance(&self, cx: &ScanContext) -> String {
        if self.identity.login_exchange.is_some() {
            format!("issued by {}", self.source(cx))
        } else {
            "supplied with --bearer".to_string()
        }
    }

    /// The login exchange as evidence, if the tokens came from a login.
    pub fn evidence(&self) -> Vec<authprobe_core::ExchangeId> {
        self.identity.login_exchange.into_iter().collect()
    }
}

/// A parsed JWT with these claims (HS256 header, dummy signature), for unit tests.
#[cfg(test)]
pub(crate) fn test_jwt(claims: serde_json::Value) -> Jwt {
    let header = authprobe_jwt::encode_segment(&serde_json::json!({"alg": "HS256"}));
    Jwt::parse(&format!("{header}.{}.c2ln", authprobe_jwt::encode_segment(&claims))).expect("a well-formed test JWT")
}
