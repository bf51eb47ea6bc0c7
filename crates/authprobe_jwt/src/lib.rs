//! JSON Web Tokens as a scanner sees them: parsed without trusting or verifying anything.

pub mod crack;
pub mod forge;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{Map, Value};

/// Why a string is not a JWT.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    #[error("a JWT has three dot-separated parts, this has {0}")]
    Parts(usize),
    #[error("the {0} is not base64url")]
    Base64(&'static str),
    #[error("the {0} is not a JSON object")]
    Json(&'static str),
}

/// A decoded (never verified) JWT in compact serialization.
#[derive(Debug, Clone, PartialEq)]
pub struct Jwt {
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
    /// The raw base64url segments, kept so tokens can be re-signed or tampered with.
    pub raw_header: String,
    pub raw_claims: String,
    pub raw_signature: String,
}

impl Jwt {
    /// Parses a compact JWT (`header.claims.signature`).
    pub fn parse(token: &str) -> Result<Jwt, JwtError> {
        let parts: Vec<&str> = token.trim().split('.').collect();
        if parts.len() != 3 {
            return Err(JwtError::Parts(parts.len()));
        }
        Ok(Jwt {
            header: decode_object(parts[0], "header")?,
            claims: decode_object(parts[1], "payload")?,
            raw_header: parts[0].to_string(),
            raw_claims: parts[1].to_string(),
            raw_signature: parts[2].to_string(),
        })
    }

    /// Whether a string looks like a compact JWT (cheap pre-filter, then a full parse).
    pub fn looks_like(token: &str) -> bool {
        token.starts_with("eyJ") && token.matches('.').count() == 2 && Jwt::parse(token).is_ok()
    }

    pub fn alg(&self) -> Option<&str> {
        self.header.get("alg").and_then(Value::as_str)
    }

    /// A numeric claim (`exp`, `iat`, `nbf`), accepting integer or float encodings.
    pub fn numeric_claim(&self, name: &str) -> Option<i64> {
        match self.claims.get(name)? {
            Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
            Value::String(s) => s.parse().ok(),
            _ => None,
        }
    }

    pub fn string_claim(&self, name: &str) -> Option<String> {
        match self.claims.get(name)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    /// Seconds between `iat` (or `now` when absent) and `exp`; `None` without `exp`.
    pub fn lifetime_secs(&self, now: i64) -> Option<i64> {
        let exp = self.numeric_claim("exp")?;
        // Claims come from the target: extreme values saturate instead of overflowing.
        Some(exp.saturating_sub(self.numeric_claim("iat").unwrap_or(now)))
    }

    /// The simplejwt `token_type` claim (`access` or `refresh`), if any.
    pub fn token_type(&self) -> Option<&str> {
        self.claims.get("token_type").and_then(Value::as_str)
    }
}

fn decode_object(segment: &str, what: &'static str) -> Result<Map<String, Value>, JwtError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(segment.trim_end_matches('='))
        .map_err(|_| JwtError::Base64(what))?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(JwtError::Json(what)),
    }
}

/// Encodes a JSON object as a base64url JWT segment.
pub fn encode_segment(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn token(header: Value, claims: Value) -> String {
        format!("{}.{}.c2ln", encode_segment(&header), encode_segment(&claims))
    }

    #[test]
    fn parses_a_simplejwt_access_token() {
        let t = token(
            json!({"alg":"HS256","typ":"JWT"}),
            json!({"token_type":"access","exp":1_700_000_300,"iat":1_700_000_000,"user_id":1}),
        );
        let jwt = Jwt::parse(&t).unwrap();
        assert_eq!(jwt.alg(), Some("HS256"));
        assert_eq!(jwt.token_type(), Some("access"));
        assert_eq!(jwt.lifetime_secs(0), Some(300));
        assert!(Jwt::looks_like(&t));
    }

    #[test]
    fn rejects_non_jwts_with_the_reason() {
        assert_eq!(Jwt::parse("abc"), Err(JwtError::Parts(1)));
        assert!(Jwt::parse("a.b.c").is_err());
        assert!(!Jwt::looks_like("9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"));
    }

    #[test]
    fn float_and_string_times_are_understood() {
        let jwt = Jwt::parse(&token(json!({"alg":"none"}), json!({"exp":"10","iat":4.0}))).unwrap();
        assert_eq!(jwt.lifetime_secs(0), Some(6));
    }

    /// Fuzz regression (jwt_parse, crash-52989f9d): `exp - now` overflowed when the token
    /// had no `iat` and `now` was extreme; hostile claims (`exp` at i64::MAX, `iat` below
    /// zero) overflowed the same subtraction.
    #[test]
    fn extreme_time_claims_saturate_instead_of_overflowing() {
        let crash = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlal90eXBlIjoiYWNjZXNzIiwiZXhwIjoxNzAwMDAwMDAwLCJpYXAiOjE2OTk5OTk5MDAsInVzZXJfaWQiOjF9.c2ln";
        let jwt = Jwt::parse(crash).unwrap();
        assert_eq!(jwt.lifetime_secs(i64::MIN), Some(i64::MAX));
        assert_eq!(jwt.lifetime_secs(i64::MAX), Some(1_700_000_000 - i64::MAX));
        let hostile = Jwt::parse(&token(json!({"alg":"HS256"}), json!({"exp": i64::MAX, "iat": -1}))).unwrap();
        assert_eq!(hostile.lifetime_secs(0), Some(i64::MAX));
        let hostile = Jwt::parse(&token(json!({"alg":"HS256"}), json!({"exp": i64::MIN, "iat": 1}))).unwrap();
        assert_eq!(hostile.lifetime_secs(0), Some(i64::MIN));
    }
}
