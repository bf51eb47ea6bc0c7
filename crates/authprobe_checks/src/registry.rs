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
    &authentication::weak_password_policy::WeakPasswordPolicy,
    &authentication::weak_password_recovery::WeakPasswordRecovery,
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
    use authprobe_core::{Requirement, Severity};
    use std::collections::HashSet;
    use std::path::{Path, PathBuf};

    /// A check's source file, its unit tests cut off.
    struct Source {
        check: &'static dyn Check,
        path: PathBuf,
        text: String,
    }

    fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    /// Every check's source file, found by the code in its meta (`code: "AUTH001"`), and
    /// the other files of the crate that grade findings (none may: their severities could
    /// not be held to a check's documentation).
    fn sources() -> (Vec<Source>, Vec<PathBuf>) {
        let mut files = Vec::new();
        rust_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut files);
        files.sort();
        let mut sources = Vec::new();
        let mut grading = Vec::new();
        for path in files {
            let full = std::fs::read_to_string(&path).unwrap();
            let text = full.split("#[cfg(test)]").next().unwrap().to_string();
            let codes: Vec<&str> = text
                .split("code: \"")
                .skip(1)
                .filter_map(|rest| rest.split('"').next())
                .collect();
            match codes.as_slice() {
                [] if text.contains(".with_severity(") || text.contains("severity: Some(") => grading.push(path),
                [] => {}
                [code] => {
                    let check =
                        by_code(code).unwrap_or_else(|| panic!("{} declares unregistered {code}", path.display()));
                    sources.push(Source { check, path, text });
                }
                more => panic!("{} declares several checks: {more:?}", path.display()),
            }
        }
        (sources, grading)
    }

    /// The severities a source names (`Severity::High`), in order of appearance.
    fn severities_named(text: &str) -> Vec<Severity> {
        text.split("Severity::")
            .skip(1)
            .filter_map(|rest| {
                // `Severity::DESCENDING` and the like name no severity and do not parse.
                let name: String = rest.chars().take_while(char::is_ascii_alphanumeric).collect();
                name.parse().ok()
            })
            .collect()
    }

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
    fn every_check_documents_its_catalog_severity_among_its_severities() {
        for check in ALL {
            let (meta, documented) = (check.meta(), check.severities());
            assert!(
                documented.contains(&meta.severity),
                "{} reports {} by default but documents only {documented:?}",
                meta.code,
                meta.severity
            );
            assert!(
                documented.windows(2).all(|w| w[0] < w[1]),
                "{}: list the severities once each, least severe first: {documented:?}",
                meta.code
            );
        }
    }

    #[test]
    fn every_severity_a_check_reports_is_one_it_documents() {
        let (sources, grading) = sources();
        assert_eq!(sources.len(), ALL.len(), "a check's source file was not found");
        assert!(
            grading.is_empty(),
            "these files grade findings outside any check's file; grade them in the check: {grading:?}"
        );
        for source in &sources {
            let meta = source.check.meta();
            for severity in severities_named(&source.text) {
                assert!(
                    source.check.severities().contains(&severity),
                    "{} ({}) can report {severity}, which it does not document: add it to its \
                     `severities = [...]`",
                    meta.code,
                    source.path.display()
                );
            }
        }
        // The scan itself sees what it must: AUTH001 grades up to critical.
        let auth001 = sources.iter().find(|s| s.check.meta().code == "AUTH001").unwrap();
        assert!(severities_named(&auth001.text).contains(&Severity::Critical));
    }

    #[test]
    fn passive_checks_send_no_request_of_their_own() {
        // Every request is awaited: a check whose file awaits nothing sends nothing beyond
        // what discovery and the other checks recorded.
        let (sources, _) = sources();
        let passive: Vec<&Source> = sources
            .iter()
            .filter(|s| s.check.meta().requires == Requirement::Passive)
            .collect();
        assert!(!passive.is_empty());
        for source in passive {
            assert!(
                !source.text.contains(".await"),
                "{} is passive but awaits requests ({}): make it `Requirement::Active`",
                source.check.meta().code,
                source.path.display()
            );
        }
    }

    #[test]
    fn severities_are_read_from_the_source() {
        let text = "let s = if x { Severity::Critical } else { Severity::High };\nSeverity::DESCENDING";
        assert_eq!(severities_named(text), [Severity::Critical, Severity::High]);
    }

    #[test]
    fn checks_are_found_by_code_or_slug() {
        assert_eq!(by_code("dj001").unwrap().meta().slug, "django-debug");
        assert_eq!(by_code("django-debug").unwrap().meta().code, "DJ001");
        assert!(by_code("NOPE999").is_none());
    }
}
