//! What is being cracked: a MAC algorithm, the signed bytes, the expected MAC, and how a
//! candidate secret becomes the HMAC key.

use super::{CrackError, MacAlg};
use crate::Jwt;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256, Sha384, Sha512};

/// How a candidate secret turns into the HMAC key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyDerivation {
    /// The candidate is the key (JWS HS256/384/512).
    Raw,
    /// `django.utils.crypto.salted_hmac`: key = sha256(`prefix` + candidate), where `prefix`
    /// is `salt + "signer"` (plus `"django.http.cookies"` for the cookie signer).
    DjangoSalted { prefix: Vec<u8> },
}

/// A signed value to recover the secret of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrackTarget {
    /// The HMAC hash function.
    pub alg: MacAlg,
    /// The bytes the MAC covers.
    pub message: Vec<u8>,
    /// The MAC the right secret reproduces.
    pub expected: Vec<u8>,
    /// How a candidate becomes the HMAC key.
    pub derivation: KeyDerivation,
}

impl CrackTarget {
    /// A compact JWS with alg HS256/HS384/HS512.
    pub fn from_jwt(token: &str) -> Result<CrackTarget, CrackError> {
        let token = token.trim();
        let jwt = Jwt::parse(token).map_err(|e| CrackError::NotJwt(e.to_string()))?;
        let alg = match jwt.alg() {
            Some("HS256") => MacAlg::Sha256,
            Some("HS384") => MacAlg::Sha384,
            Some("HS512") => MacAlg::Sha512,
            Some(other) => return Err(CrackError::NotHmac(other.to_string())),
            None => return Err(CrackError::NotHmac("(missing)".to_string())),
        };
        let expected = URL_SAFE_NO_PAD
            .decode(jwt.raw_signature.trim_end_matches('='))
            .map_err(|_| CrackError::BadSignature("the JWT signature is not base64url".to_string()))?;
        if expected.len() != alg.output_len() {
            return Err(CrackError::BadSignature(format!(
                "a {} signature has {} bytes, this one has {}",
                alg.jws_name(),
                alg.output_len(),
                expected.len()
            )));
        }
        let message = format!("{}.{}", jwt.raw_header, jwt.raw_claims).into_bytes();
        Ok(CrackTarget {
            alg,
            message,
            expected,
            derivation: KeyDerivation::Raw,
        })
    }

    /// A `django.core.signing` value: `payload:sig` (Signer) or `payload:timestamp:sig`
    /// (TimestampSigner); the MAC is over everything before the last `:`.
    ///
    /// Django ≥ 3.1 signs with `salted_hmac(salt + "signer", value, secret)` over sha256:
    /// key = sha256((salt + "signer").encode() + secret), then HMAC-SHA256(key, value), the
    /// signature being urlsafe base64 without padding. With `cookie_signer` the secret is
    /// `b"django.http.cookies" + SECRET_KEY` (`django.core.signing.get_cookie_signer`, used by
    /// the messages framework with salt `django.contrib.messages` and by
    /// `HttpResponse.set_signed_cookie` with salt = cookie name + salt). Signed-cookie sessions
    /// (`signing.dumps(..., salt="django.contrib.sessions.backends.signed_cookies")`) use the
    /// plain SECRET_KEY: `cookie_signer = false`.
    pub fn from_django_signed(value: &str, salt: &str, cookie_signer: bool) -> Result<CrackTarget, CrackError> {
        let value = value.trim().trim_matches('"');
        let (message, signature) = value
            .rsplit_once(':')
            .ok_or_else(|| CrackError::NotDjangoSigned("no `:` separates the value from its signature".to_string()))?;
        let expected = URL_SAFE_NO_PAD
            .decode(signature.trim_end_matches('='))
            .map_err(|_| CrackError::NotDjangoSigned("the signature is not urlsafe base64".to_string()))?;
        if expected.len() != MacAlg::Sha256.output_len() {
            return Err(CrackError::NotDjangoSigned(format!(
                "a Django sha256 signature has 32 bytes, this one has {}",
                expected.len()
            )));
        }
        let mut prefix = format!("{salt}signer").into_bytes();
        if cookie_signer {
            prefix.extend_from_slice(b"django.http.cookies");
        }
        Ok(CrackTarget {
            alg: MacAlg::Sha256,
            message: message.as_bytes().to_vec(),
            expected,
            derivation: KeyDerivation::DjangoSalted { prefix },
        })
    }

    /// The HMAC key a candidate secret yields.
    pub fn hmac_key(&self, candidate: &[u8]) -> Vec<u8> {
        match &self.derivation {
            KeyDerivation::Raw => candidate.to_vec(),
            KeyDerivation::DjangoSalted { prefix } => {
                let mut h = Sha256::new();
                h.update(prefix);
                h.update(candidate);
                h.finalize().to_vec()
            }
        }
    }

    /// Checks one candidate with the `hmac` crate (the slow, obviously correct path).
    pub fn verify(&self, candidate: &[u8]) -> bool {
        self.mac_with(candidate) == self.expected
    }

    /// The MAC a candidate secret produces over the target's message.
    pub fn mac_with(&self, candidate: &[u8]) -> Vec<u8> {
        let key = self.hmac_key(candidate);
        fn mac<M: Mac + hmac::digest::KeyInit>(key: &[u8], msg: &[u8]) -> Vec<u8> {
            let mut m = <M as hmac::digest::KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
            m.update(msg);
            m.finalize().into_bytes().to_vec()
        }
        match self.alg {
            MacAlg::Sha256 => mac::<Hmac<Sha256>>(&key, &self.message),
            MacAlg::Sha384 => mac::<Hmac<Sha384>>(&key, &self.message),
            MacAlg::Sha512 => mac::<Hmac<Sha512>>(&key, &self.message),
        }
    }
}
