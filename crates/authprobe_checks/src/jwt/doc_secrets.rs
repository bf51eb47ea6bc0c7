//! The HMAC secrets JWT libraries' and frameworks' own docs use in their examples
//! (`data/doc_example_secrets.toml`), each with where the docs print it. A service built
//! from a README or quickstart often ships with the README's value: every one is tried
//! against every signed value before the cracker's generated keyspaces, and a key found
//! this way is reported with its source.

use std::sync::OnceLock;

use authprobe_jwt::crack::CrackTarget;

/// The data file, built into the binary.
const DATA: &str = include_str!("../../data/doc_example_secrets.toml");

/// One documented example secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DocSecret {
    pub value: String,
    /// Where the docs print it ("express-jwt's README (…)").
    pub source: String,
}

/// Every documented example secret, in the data file's order.
pub(crate) fn doc_secrets() -> &'static [DocSecret] {
    static LIST: OnceLock<Vec<DocSecret>> = OnceLock::new();
    LIST.get_or_init(|| parse(DATA).expect("data/doc_example_secrets.toml is valid"))
}

fn parse(text: &str) -> Result<Vec<DocSecret>, String> {
    let doc: toml::Table = text.parse().map_err(|e| format!("{e}"))?;
    let entries = doc
        .get("secret")
        .and_then(toml::Value::as_array)
        .ok_or("no [[secret]] entries")?;
    entries
        .iter()
        .map(|entry| {
            let field = |name: &str| {
                entry
                    .get(name)
                    .and_then(toml::Value::as_str)
                    .map(str::to_string)
                    .ok_or_else(|| format!("an entry without `{name}`"))
            };
            Ok(DocSecret {
                value: field("value")?,
                source: field("source")?,
            })
        })
        .collect()
}

/// The documented secret that signed `target`, if one did.
pub(crate) fn documented_key(target: &CrackTarget) -> Option<&'static DocSecret> {
    doc_secrets().iter().find(|s| target.verify(s.value.as_bytes()))
}

/// The docs that print `secret`, when it is one of theirs (a key the cracker found
/// another way may still be a documented one).
pub(crate) fn source_of(secret: &[u8]) -> Option<&'static str> {
    doc_secrets()
        .iter()
        .find(|s| s.value.as_bytes() == secret)
        .map(|s| s.source.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_has_a_value_and_a_source_and_none_repeats() {
        let list = doc_secrets();
        assert!(list.len() >= 10, "{}", list.len());
        let mut values: Vec<&str> = list.iter().map(|s| s.value.as_str()).collect();
        values.sort_unstable();
        values.dedup();
        assert_eq!(values.len(), list.len(), "a value is listed twice");
        assert!(list.iter().all(|s| !s.value.is_empty() && s.source.len() > 10));
        // Sources are printed in findings; values never are.
        assert!(
            list.iter().all(|s| !s.source.contains(&s.value)),
            "a source quotes its value"
        );
        assert_eq!(source_of(b"AllYourBase").map(|s| s.contains("golang-jwt")), Some(true));
        assert_eq!(source_of(b"not a documented key"), None);
    }

    #[test]
    fn a_token_signed_with_a_documented_key_is_recognised() {
        use authprobe_jwt::forge::{sign_hmac, HmacAlg};
        let header = serde_json::json!({"alg": "HS256", "typ": "JWT"});
        let claims = serde_json::json!({"sub": "1", "name": "alice"});
        let (h, c) = (header.as_object().unwrap(), claims.as_object().unwrap());
        let token = sign_hmac(HmacAlg::Hs256, h, c, b"shhhhhhared-secret");
        let target = CrackTarget::from_jwt(&token).unwrap();
        assert!(documented_key(&target).unwrap().source.contains("express-jwt"));
        let other = sign_hmac(HmacAlg::Hs256, h, c, b"a-key-no-docs-print-0123456789");
        assert!(documented_key(&CrackTarget::from_jwt(&other).unwrap()).is_none());
    }
}
