use std::sync::LazyLock;

use authprobe_core::{CheckMeta, CheckOutcome, Confidence, Family, Finding, Requirement, ScanContext, Severity};
use authprobe_jwt::Jwt;
use regex::Regex;
use serde_json::{Map, Value};

use super::{IssuedTokens, NO_JWT};
use crate::support::owasp;

/// Claims every JWT library sets, and the username: identifiers, not leaks.
const STANDARD_CLAIMS: &[&str] = &[
    "token_type",
    "exp",
    "iat",
    "jti",
    "user_id",
    "sub",
    "aud",
    "iss",
    "nbf",
    "username",
];

/// Claim names (lower case, `-` read as `_`) that name a secret or personal data.
const SENSITIVE_NAMES: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "pwd_hash",
    "password_hash",
    "secret",
    "client_secret",
    "api_key",
    "apikey",
    "ssn",
    "social_security_number",
    "credit_card",
    "card_number",
    "cc_number",
    "cvv",
    "phone",
    "phone_number",
    "mobile",
    "address",
    "street_address",
    "dob",
    "date_of_birth",
    "birth_date",
    "birthdate",
    // Account-recovery secrets: whoever reads them resets the password.
    "security_question",
    "security_answer",
    "secret_question",
    "secret_answer",
    "recovery_answer",
    "mothers_maiden_name",
    "pin",
    "otp_secret",
    "totp_secret",
    "mfa_secret",
    "recovery_codes",
    "backup_codes",
    // Identity documents.
    "national_id",
    "passport_number",
    "tax_id",
    "iban",
];

/// Prefixes of Django's stored password hashes (`algorithm$…`).
const DJANGO_HASH_PREFIXES: &[&str] = &[
    "pbkdf2_sha256$",
    "pbkdf2_sha1$",
    "argon2$",
    "bcrypt_sha256$",
    "bcrypt$",
    "scrypt$",
    "md5$",
    "sha1$",
    "crypt$",
];

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}$").expect("valid regex")
});

crate::declare_check! {
    /// ## What it does
    /// Decodes the access and refresh JWTs the scan's identity was issued (the claims only;
    /// nothing is sent) and looks for personal data and secrets: claims named like
    /// `password`, `pwd_hash`, `secret`, `api_key`, `ssn`, `credit_card`, `phone`,
    /// `address` or `dob`, claims whose value is an email address, and Django password
    /// hashes (`pbkdf2_sha256$…`, `argon2$…`, `bcrypt$…`). The registered claims
    /// (`exp`, `iat`, `jti`, `sub`, …), simplejwt's `token_type`/`user_id` and `username`
    /// are never reported. The report names the claims, never their values.
    ///
    /// ## Why is this bad?
    /// A signed JWT is not encrypted: its payload is base64url, readable by anyone who sees
    /// the token, in browser storage, proxy and server logs, crash reports, analytics and
    /// `Referer` headers. Personal data there leaks to all of them (a GDPR problem on its
    /// own), and a password hash in a token can be cracked offline.
    ///
    /// ## Example
    /// ```python
    /// class ProfileTokenObtainPairSerializer(TokenObtainPairSerializer):
    ///     @classmethod
    ///     def get_token(cls, user):
    ///         token = super().get_token(user)
    ///         token["email"] = user.email               # "saves the app a /me/ request"
    ///         token["phone"] = user.profile.phone
    ///         token["pwd_hash"] = user.password         # "to detect password changes"
    ///         return token
    /// ```
    ///
    /// ## Remediation
    /// Keep tokens to identifiers; let clients fetch the profile from an authenticated
    /// endpoint such as `/api/me/`. To invalidate tokens on a password change, put a
    /// counter or a short hash-derived value in the token, never the hash itself:
    /// ```python
    /// class ApiTokenObtainPairSerializer(TokenObtainPairSerializer):
    ///     @classmethod
    ///     def get_token(cls, user):
    ///         token = super().get_token(user)
    ///         token["gen"] = user.profile.token_generation   # bumped on password change
    ///         return token
    /// ```
    /// If claims must carry personal data, encrypt the token (JWE) instead of only signing it.
    ///
    /// ## References
    /// - CWE-312: Cleartext Storage of Sensitive Information
    /// - OWASP API3:2023 Broken Object Property Level Authorization
    /// - RFC 8725 §3.11 (JWTs are not encrypted by default) — https://www.rfc-editor.org/rfc/rfc8725
    /// - simplejwt: customizing token claims — https://django-rest-framework-simplejwt.readthedocs.io/en/latest/customizing_token_claims.html
    pub struct JwtSensitiveClaims;
    meta = CheckMeta {
        code: "JWT007",
        slug: "jwt-sensitive-claims",
        title: "Personal data or secrets in JWT claims",
        severity: Severity::Medium,
        cwe: &[312],
        owasp: &[owasp::API3, owasp::API2],
        requires: Requirement::Identity,
        family: Family::Jwt,
    };
}

impl JwtSensitiveClaims {
    async fn check(&self, cx: &ScanContext) -> CheckOutcome {
        let Some(tokens) = IssuedTokens::of_primary(cx) else {
            return CheckOutcome::skipped(NO_JWT);
        };
        let mut parts = Vec::new();
        for (name, token) in [("access token", &tokens.access), ("refresh token", &tokens.refresh)] {
            let Some(token) = token else { continue };
            let found = sensitive_claims(token);
            if !found.is_empty() {
                let list: Vec<String> = found.iter().map(SensitiveClaim::describe).collect();
                parts.push(format!("{name}: {}", list.join(", ")));
            }
        }
        if parts.is_empty() {
            return CheckOutcome::passed();
        }
        let message = format!(
            "The JWTs {} carry personal data or secrets that anyone holding a token can read (JWT payloads are only base64-encoded): {}.",
            tokens.provenance(cx),
            parts.join("; ")
        );
        vec![Finding::new(Confidence::Confirmed, tokens.source(cx), message).with_evidence(tokens.evidence())].into()
    }
}

/// Why a claim is sensitive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// Its name says it holds a secret or personal data.
    Name,
    /// Its value is an email address.
    Email,
    /// Its value is a Django password hash.
    PasswordHash,
}

/// A sensitive claim: its (dotted) name and why; the value is deliberately not kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SensitiveClaim {
    pub name: String,
    pub reason: Reason,
}

impl SensitiveClaim {
    fn describe(&self) -> String {
        match self.reason {
            Reason::Name => format!("`{}`", self.name),
            Reason::Email => format!("`{}` (an email address)", self.name),
            Reason::PasswordHash => format!("`{}` (a Django password hash)", self.name),
        }
    }
}

/// The sensitive claims of a token, in claim order. Nested objects are searched too and
/// named with dots (`profile.phone`).
pub fn sensitive_claims(token: &Jwt) -> Vec<SensitiveClaim> {
    let mut out = Vec::new();
    let top: Map<String, Value> = token
        .claims
        .iter()
        .filter(|(k, _)| !STANDARD_CLAIMS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    walk(&top, "", &mut out, 0);
    out
}

fn walk(map: &Map<String, Value>, prefix: &str, out: &mut Vec<SensitiveClaim>, depth: usize) {
    for (key, value) in map {
        let name = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        if let Some(reason) = classify(key, value) {
            out.push(SensitiveClaim { name, reason });
            continue;
        }
        if depth < 4 {
            match value {
                Value::Object(inner) => walk(inner, &name, out, depth + 1),
                Value::Array(items) => {
                    // A list of emails or hashes is as sensitive as one.
                    if let Some(reason) = items.iter().find_map(value_reason) {
                        out.push(SensitiveClaim { name, reason });
                    } else {
                        for item in items {
                            if let Value::Object(inner) = item {
                                walk(inner, &name, out, depth + 1);
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

/// Why the claim `key` with `value` is sensitive, if it is. A sensitive name with an
/// empty value (`null`, `""`, `false`) carries nothing and is not reported.
fn classify(key: &str, value: &Value) -> Option<Reason> {
    if let Some(reason) = value_reason(value) {
        return Some(reason);
    }
    let normalized = key.to_ascii_lowercase().replace('-', "_");
    let carries_something = match value {
        Value::Null | Value::Bool(false) => false,
        Value::String(s) => !s.trim().is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(map) => !map.is_empty(),
        _ => true,
    };
    (carries_something && SENSITIVE_NAMES.contains(&normalized.as_str())).then_some(Reason::Name)
}

fn value_reason(value: &Value) -> Option<Reason> {
    let Value::String(s) = value else { return None };
    let s = s.trim();
    if DJANGO_HASH_PREFIXES
        .iter()
        .any(|p| s.starts_with(p) && s.len() > p.len())
    {
        Some(Reason::PasswordHash)
    } else if EMAIL.is_match(s) {
        Some(Reason::Email)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    use crate::jwt::test_jwt as jwt;

    fn names(claims: Value) -> Vec<(String, Reason)> {
        // Sorted, so the tests do not depend on serde_json's map order.
        let mut found: Vec<_> = sensitive_claims(&jwt(claims))
            .into_iter()
            .map(|c| (c.name, c.reason))
            .collect();
        found.sort_by(|a, b| a.0.cmp(&b.0));
        found
    }

    #[test]
    fn a_plain_simplejwt_token_is_clean() {
        let claims = json!({
            "token_type": "access", "exp": 1_700_000_300, "iat": 1_700_000_000, "jti": "6f1c0a",
            "user_id": 1, "aud": "authprobe-testbed-api", "iss": "https://testbed.local", "gen": 0,
            "username": "alice", "is_staff": false
        });
        assert_eq!(names(claims), vec![]);
    }

    #[test]
    fn standard_claims_are_never_reported_even_with_an_email_value() {
        assert_eq!(
            names(json!({"sub": "alice@example.com", "username": "alice@example.com"})),
            vec![]
        );
    }

    #[test]
    fn emails_hashes_and_pii_names_are_reported() {
        let claims = json!({
            "user_id": 1,
            "email": "alice@example.com",
            "pwd_hash": "pbkdf2_sha256$600000$salt$hash=",
            "Phone-Number": "+44 20 7946 0000",
            "dob": "1990-01-01",
            "note": "argon2$argon2id$v=19$m=102400,t=2,p=8$c2FsdA$aGFzaA"
        });
        assert_eq!(
            names(claims),
            vec![
                ("Phone-Number".to_string(), Reason::Name),
                ("dob".to_string(), Reason::Name),
                ("email".to_string(), Reason::Email),
                ("note".to_string(), Reason::PasswordHash),
                ("pwd_hash".to_string(), Reason::PasswordHash),
            ]
        );
    }

    #[test]
    fn account_recovery_secrets_are_reported() {
        let claims = json!({"user_id": 1, "security_question": "first pet?", "security_answer": "rex", "pin": "4821"});
        let found: Vec<String> = names(claims).into_iter().map(|(n, _)| n).collect();
        assert_eq!(found, vec!["pin", "security_answer", "security_question"]);
    }

    #[test]
    fn nested_claims_are_named_with_dots() {
        let claims = json!({"profile": {"address": "1 Main St", "nickname": "al"}, "contacts": ["bob@example.com"]});
        assert_eq!(
            names(claims),
            vec![
                ("contacts".to_string(), Reason::Email),
                ("profile.address".to_string(), Reason::Name)
            ]
        );
    }

    #[test]
    fn harmless_look_alikes_are_not_reported() {
        let claims = json!({
            "password_changed_at": 1_700_000_000, "phone": null, "secret": "", "roles": ["user"],
            "domain": "example.com", "handle": "@alice", "md5": "not a hash", "version": "sha1"
        });
        assert_eq!(names(claims), vec![]);
    }

    #[test]
    fn the_description_never_contains_the_value() {
        let found = sensitive_claims(&jwt(json!({"email": "alice@example.com", "api_key": "sk_live_123"})));
        let text: Vec<String> = found.iter().map(SensitiveClaim::describe).collect();
        let text = text.join(", ");
        assert!(
            text.contains("`email` (an email address)") && text.contains("`api_key`"),
            "{text}"
        );
        assert!(
            !text.contains("alice@example.com") && !text.contains("sk_live"),
            "{text}"
        );
    }
}
