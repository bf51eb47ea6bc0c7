//! Redaction: supplied and obtained secrets never reach a report, log or database.
//!
//! Every secret is replaced by `[redacted:XXXXXXXX]`, the first 8 hex digits of its
//! SHA-256, so two mentions of the same secret can still be matched up.

use regex::Regex;
use sha2::{Digest, Sha256};
use std::sync::{LazyLock, RwLock};

/// Secrets shorter than this are not substring-replaced (they would shred ordinary text);
/// they are still removed wherever they appear as a credential field or header.
const MIN_SUBSTRING_SECRET: usize = 4;

/// Holds every secret the scan knows (passwords, supplied and obtained tokens, session ids).
#[derive(Debug, Default)]
pub struct Redactor {
    secrets: RwLock<Vec<String>>,
}

/// The short fingerprint that stands in for a secret.
pub fn fingerprint(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    let hex: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
    format!("[redacted:{hex}]")
}

/// JSON or form fields whose values are credentials, whatever they contain.
static SECRET_FIELD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?i)("(?:password|new_password|old_password|password1|password2|access|refresh|token|access_token|refresh_token|id_token|key|auth_token|session_id|sessionid|secret|api_key)"\s*:\s*")([^"]+)(")"#,
    )
    .expect("valid regex")
});

static SECRET_FORM_FIELD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(^|[&?])((?:password|new_password|old_password|csrfmiddlewaretoken|access_token|auth_token|token|refresh)=)([^&\s]+)")
        .expect("valid regex")
});

impl Redactor {
    /// Registers a secret; later output replaces it (and its URL/JSON-escaped forms).
    pub fn add_secret(&self, secret: &str) {
        if secret.is_empty() {
            return;
        }
        let mut secrets = self.secrets.write().expect("redactor lock");
        for form in [
            secret.to_string(),
            url::form_urlencoded::byte_serialize(secret.as_bytes()).collect::<String>(),
            serde_json::to_string(secret)
                .map(|s| s[1..s.len() - 1].to_string())
                .unwrap_or_default(),
        ] {
            if !form.is_empty() && !secrets.contains(&form) {
                secrets.push(form);
            }
        }
        // Longest first, so a secret that contains another is replaced whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }

    /// Replaces registered secrets in free text.
    pub fn text(&self, text: &str) -> String {
        let secrets = self.secrets.read().expect("redactor lock");
        let mut out = text.to_string();
        for secret in secrets.iter().filter(|s| s.len() >= MIN_SUBSTRING_SECRET) {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), &fingerprint(secret));
            }
        }
        out
    }

    /// Redacts a request or response body: registered secrets and credential fields.
    pub fn body(&self, body: &str) -> String {
        let out = self.text(body);
        let out = SECRET_FIELD.replace_all(&out, |c: &regex::Captures| {
            if c[2].starts_with("[redacted:") {
                c[0].to_string()
            } else {
                format!("{}{}{}", &c[1], fingerprint(&c[2]), &c[3])
            }
        });
        SECRET_FORM_FIELD
            .replace_all(&out, |c: &regex::Captures| {
                format!("{}{}{}", &c[1], &c[2], fingerprint(&c[3]))
            })
            .into_owned()
    }

    /// Redacts a header value; credential-bearing headers are always redacted.
    pub fn header_value(&self, name: &str, value: &str) -> String {
        let lower = name.to_ascii_lowercase();
        match lower.as_str() {
            "authorization" | "proxy-authorization" => match value.split_once(' ') {
                Some((scheme, credential)) if !credential.starts_with("[redacted:") => {
                    format!("{scheme} {}", self.credential(credential))
                }
                _ => self.text(value),
            },
            "cookie" => value
                .split(';')
                .map(|pair| match pair.trim().split_once('=') {
                    Some((k, v)) => format!("{k}={}", self.credential(v)),
                    None => pair.trim().to_string(),
                })
                .collect::<Vec<_>>()
                .join("; "),
            "set-cookie" => match value.split_once('=') {
                Some((k, rest)) => {
                    let (v, attrs) = rest.split_once(';').unwrap_or((rest, ""));
                    let attrs = if attrs.is_empty() {
                        String::new()
                    } else {
                        format!(";{attrs}")
                    };
                    format!("{k}={}{attrs}", self.credential(v))
                }
                None => self.text(value),
            },
            _ => self.text(value),
        }
    }

    /// A credential value: known secrets by fingerprint; unknown ones are kept only when
    /// they are scanner-made probes (short, or visibly ours).
    fn credential(&self, value: &str) -> String {
        let redacted = self.text(value);
        if redacted != value || value.is_empty() || value.contains("authprobe") {
            redacted
        } else {
            fingerprint(value)
        }
    }
}

/// Redacts the userinfo part of a URL, if any.
pub fn strip_userinfo(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if !u.username().is_empty() || u.password().is_some() => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.to_string()
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_secrets_are_replaced_by_their_fingerprint() {
        let r = Redactor::default();
        r.add_secret("alice-pass-1");
        let out = r.text("user alice with alice-pass-1");
        assert_eq!(out, format!("user alice with {}", fingerprint("alice-pass-1")));
    }

    #[test]
    fn credential_fields_are_redacted_even_when_unregistered() {
        let r = Redactor::default();
        let out = r.body(r#"{"refresh":"abc.def.ghi","user":"bob"}"#);
        assert!(!out.contains("abc.def.ghi"));
        assert!(out.contains(r#""user":"bob""#));
        let form = r.body("username=bob&password=hunter2");
        assert!(!form.contains("hunter2"), "{form}");
    }

    #[test]
    fn authorization_headers_keep_the_scheme_only() {
        let r = Redactor::default();
        let out = r.header_value("Authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig");
        assert!(out.starts_with("Bearer [redacted:"), "{out}");
        let garbage = r.header_value("Authorization", "Bearer authprobe-garbage-1");
        assert_eq!(garbage, "Bearer authprobe-garbage-1");
    }

    #[test]
    fn set_cookie_values_are_redacted_but_attributes_kept() {
        let r = Redactor::default();
        let out = r.header_value("set-cookie", "sessionid=abcdef123456; HttpOnly; Path=/");
        assert!(out.starts_with("sessionid=[redacted:"));
        assert!(out.ends_with("; HttpOnly; Path=/"));
    }
}
