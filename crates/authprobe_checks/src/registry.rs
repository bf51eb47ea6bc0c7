//! The list of every check. Adding a check means adding its file and one line here.

use authprobe_core::Check;

use crate::{authentication, authorization, django, jwt, ratelimit, tokens, transport, web};

/// Every check, in catalog order.
pub static ALL: &[&dyn Check] = &[
    &authentication::missing_authentication::MissingAuthentication,
    &authentication::invalid_token_accepted::InvalidTokenAccepted,
    &authentication::token_in_query::TokenInQueryAccepted,
    &authentication::method_bypass::MethodAuthBypass,
    &authentication::user_enumeration::UserEnumeration,
    &authentication::token_type_confusion::TokenTypeConfusion,
    &authentication::missing_www_authenticate::MissingWwwAuthenticate,
    &authentication::spec_drift::SpecDrift,
    &jwt::alg_none::JwtAlgNone,
    &jwt::signature_not_verified::JwtSignatureNotVerified,
    &jwt::weak_secret::JwtWeakSecret,
    &jwt::expired_accepted::JwtExpiredAccepted,
    &jwt::lifetime::JwtLifetime,
    &jwt::missing_aud_iss::JwtMissingAudIss,
    &jwt::sensitive_claims::JwtSensitiveClaims,
    &jwt::key_confusion::JwtKeyConfusion,
    &jwt::header_injection::JwtHeaderInjection,
    &jwt::psychic_signature::JwtPsychicSignature,
    &crate::session::session_fixation::SessionFixation,
    &crate::session::session_id_in_url::SessionIdInUrl,
    &crate::session::logout_not_revoking::LogoutNotRevoking,
    &crate::session::refresh_reuse::RefreshReuse,
    &crate::session::password_change_not_revoking::PasswordChangeNotRevoking,
    &crate::session::session_lifetime::SessionLifetime,
    &crate::session::token_as_session_id::TokenAsSessionId,
    &crate::session::csrf_unprotected::CsrfUnprotected,
    &transport::https_redirect::NoHttpsRedirect,
    &transport::credentials_over_http::CredentialsOverHttp,
    &transport::hsts::HstsWeak,
    &transport::cookie_flags::CookieFlags,
    &web::cors_credentials::CorsCredentials,
    &web::csp_missing::CspMissing,
    &web::open_redirect::OpenRedirect,
    &web::security_headers::SecurityHeaders,
    &tokens::low_entropy_token::LowEntropyToken,
    &tokens::predictable_token::PredictableToken,
    &tokens::identity_derived_token::IdentityDerivedToken,
    &tokens::token_leak::TokenLeak,
    &ratelimit::no_login_rate_limit::NoLoginRateLimit,
    &ratelimit::no_token_endpoint_rate_limit::NoTokenEndpointRateLimit,
    &ratelimit::rate_limit_bypass::RateLimitBypass,
    &authorization::cross_identity_access::CrossIdentityAccess,
    &authorization::enumerable_ids::EnumerableIds,
    &authorization::cross_identity_write::CrossIdentityWrite,
    &authorization::function_level_authorization::FunctionLevelAuthorization,
    &authorization::mass_assignment::MassAssignment,
    &django::debug::DjangoDebug,
    &django::admin_exposed::DjangoAdminExposed,
    &django::verbose_errors::VerboseErrors,
    &django::weak_secret_key::DjangoWeakSecretKey,
];

/// Every check, as a slice of `'static` references.
pub fn all() -> &'static [&'static dyn Check] {
    ALL
}

/// The check with this code (case-insensitive), or its slug.
pub fn by_code(code: &str) -> Option<&'static dyn Check> {
    ALL.iter()
        .copied()
        .find(|c| c.meta().code.eq_ignore_ascii_case(code) || c.meta().slug.eq_ignore_ascii_case(code))
}

#[cfg(test)]
mod tests {
    use super::*;
    use authprobe_core::check::doc_section;
    use std::collections::HashSet;

    #[test]
    fn every_check_has_a_unique_code_and_slug_and_a_cwe() {
        let mut codes = HashSet::new();
        let mut slugs = HashSet::new();
        for check in ALL {
            let meta = check.meta();
            assert!(codes.insert(meta.code), "duplicate code {}", meta.code);
            assert!(slugs.insert(meta.slug), "duplicate slug {}", meta.slug);
            assert!(!meta.cwe.is_empty(), "{} has no CWE", meta.code);
            assert!(!meta.owasp.is_empty(), "{} has no OWASP category", meta.code);
        }
    }

    #[test]
    fn every_check_documents_every_section() {
        for check in ALL {
            for section in [
                "What it does",
                "Why is this bad?",
                "Example",
                "Remediation",
                "References",
            ] {
                let text = doc_section(check.doc(), section);
                assert!(
                    text.is_some_and(|t| t.len() > 20),
                    "{} lacks a `{section}` section",
                    check.meta().code
                );
            }
        }
    }

    #[test]
    fn checks_are_found_by_code_or_slug() {
        assert_eq!(by_code("dj001").unwrap().meta().slug, "django-debug");
        assert_eq!(by_code("django-debug").unwrap().meta().code, "DJ001");
        assert!(by_code("NOPE999").is_none());
    }
}
