//! TLS to a Postgres store, with libpq's `sslmode` meanings, so a URL that works with `psql`
//! works here: `disable` (plain), `prefer` (the default: encrypted when the server takes TLS,
//! the certificate not checked), `require` (encrypted, not checked), `verify-ca` (the
//! certificate chains to a trusted root) and `verify-full` (and names the host).
//! `sslrootcert=FILE` (PEM) gives the roots, as with libpq; without it the Mozilla roots are
//! trusted. As with libpq, `require` with a root file checks the chain like `verify-ca`.
//!
//! The driver itself parses only `disable`, `prefer` and `require` and no root file, so
//! [`TlsPolicy::from_url`] takes both parameters out of the URL first.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::path::PathBuf;
use std::sync::Arc;

use crate::backend::DbError;

/// What the URL asks of the connection's TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsPolicy {
    pub mode: SslMode,
    /// `sslrootcert`: PEM certificates to trust instead of the Mozilla roots.
    pub root_cert: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl TlsPolicy {
    /// Takes `sslmode` and `sslrootcert` out of a `postgres://` URL: the policy, and the URL
    /// the driver is given (with `sslmode` as it understands it). Other connection strings
    /// pass through unchanged with the driver's own reading.
    pub fn from_url(url: &str) -> Result<(TlsPolicy, String), DbError> {
        let default = TlsPolicy {
            mode: SslMode::Prefer,
            root_cert: None,
        };
        let Ok(mut parsed) = url::Url::parse(url) else {
            return Ok((default, url.to_string()));
        };
        if !matches!(parsed.scheme(), "postgres" | "postgresql") {
            return Ok((default, url.to_string()));
        }
        let mut policy = default;
        let mut kept: Vec<(String, String)> = Vec::new();
        for (key, value) in parsed.query_pairs() {
            match key.as_ref() {
                "sslmode" => {
                    policy.mode = match value.as_ref() {
                        "disable" => SslMode::Disable,
                        "allow" | "prefer" => SslMode::Prefer,
                        "require" => SslMode::Require,
                        "verify-ca" => SslMode::VerifyCa,
                        "verify-full" => SslMode::VerifyFull,
                        other => {
                            return Err(DbError::Config(format!(
                                "sslmode={other} is not one of disable, prefer, require, verify-ca, verify-full"
                            )))
                        }
                    }
                }
                "sslrootcert" => policy.root_cert = Some(PathBuf::from(value.as_ref())),
                _ => kept.push((key.into_owned(), value.into_owned())),
            }
        }
        if policy.mode == SslMode::Require && policy.root_cert.is_some() {
            policy.mode = SslMode::VerifyCa;
        }
        let driver_mode = match policy.mode {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => "require",
        };
        kept.push(("sslmode".into(), driver_mode.into()));
        parsed.query_pairs_mut().clear().extend_pairs(kept);
        Ok((policy, parsed.into()))
    }

    /// The TLS client configuration for this policy; `None` for `disable`.
    pub fn client_config(&self) -> Result<Option<rustls::ClientConfig>, DbError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier: Arc<dyn ServerCertVerifier> = match self.mode {
            SslMode::Disable => return Ok(None),
            SslMode::Prefer | SslMode::Require => Arc::new(EncryptOnly(provider.clone())),
            SslMode::VerifyCa | SslMode::VerifyFull => {
                let roots = Arc::new(self.roots()?);
                let webpki = WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
                    .build()
                    .map_err(|e| DbError::Config(format!("cannot check the server's certificate: {e}")))?;
                if self.mode == SslMode::VerifyCa {
                    Arc::new(ChainOnly(webpki))
                } else {
                    webpki
                }
            }
        };
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| DbError::Config(format!("TLS: {e}")))?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        Ok(Some(config))
    }

    fn roots(&self) -> Result<RootCertStore, DbError> {
        let mut roots = RootCertStore::empty();
        let Some(path) = &self.root_cert else {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            return Ok(roots);
        };
        let unreadable = |e: &dyn std::fmt::Display| DbError::Config(format!("sslrootcert {}: {e}", path.display()));
        for cert in CertificateDer::pem_file_iter(path).map_err(|e| unreadable(&e))? {
            let cert = cert.map_err(|e| unreadable(&e))?;
            roots.add(cert).map_err(|e| unreadable(&e))?;
        }
        if roots.is_empty() {
            return Err(unreadable(&"no certificate in the file"));
        }
        Ok(roots)
    }
}

/// `prefer` and `require`: the connection is encrypted, the certificate not checked (what
/// libpq does): it keeps the traffic from being read on the wire, not from a server
/// pretending to be the store. `verify-full` does both.
#[derive(Debug)]
struct EncryptOnly(Arc<CryptoProvider>);

impl ServerCertVerifier for EncryptOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `verify-ca`: the chain must lead to a trusted root; the name in the certificate is not
/// compared with the host (the web PKI verifier checks the chain before the name).
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sslmode_and_sslrootcert_are_read_as_libpq_reads_them_and_the_driver_gets_what_it_knows() {
        let (policy, url) = TlsPolicy::from_url("postgres://u:p@db:5432/a").unwrap();
        assert_eq!(policy.mode, SslMode::Prefer);
        assert_eq!(url, "postgres://u:p@db:5432/a?sslmode=prefer");
        let (policy, url) =
            TlsPolicy::from_url("postgres://u@db/a?application_name=x&sslmode=verify-full&sslrootcert=/etc/ca.pem")
                .unwrap();
        assert_eq!(
            policy,
            TlsPolicy {
                mode: SslMode::VerifyFull,
                root_cert: Some("/etc/ca.pem".into())
            }
        );
        assert_eq!(url, "postgres://u@db/a?application_name=x&sslmode=require");
        let (policy, _) = TlsPolicy::from_url("postgresql://u@db/a?sslmode=require&sslrootcert=ca.pem").unwrap();
        assert_eq!(
            policy.mode,
            SslMode::VerifyCa,
            "a root file makes require check the chain"
        );
        let (policy, url) = TlsPolicy::from_url("postgres://u@db/a?sslmode=disable").unwrap();
        assert_eq!(policy.mode, SslMode::Disable);
        assert!(url.ends_with("sslmode=disable"));
        assert!(policy.client_config().unwrap().is_none());
        let err = TlsPolicy::from_url("postgres://u@db/a?sslmode=sometimes").unwrap_err();
        assert!(err.to_string().contains("sslmode=sometimes is not one of"), "{err}");
        // Key-value connection strings keep the driver's own reading.
        let (policy, url) = TlsPolicy::from_url("host=db user=u").unwrap();
        assert_eq!((policy.mode, url.as_str()), (SslMode::Prefer, "host=db user=u"));
    }

    #[test]
    fn a_root_file_that_holds_no_certificate_is_refused_with_its_name() {
        let path = std::env::temp_dir().join(format!("authprobe-no-ca-{}.pem", std::process::id()));
        std::fs::write(&path, "not a certificate\n").unwrap();
        let policy = TlsPolicy {
            mode: SslMode::VerifyFull,
            root_cert: Some(path.clone()),
        };
        let err = policy.client_config().unwrap_err().to_string();
        assert!(err.contains(&path.display().to_string()), "{err}");
        let _ = std::fs::remove_file(&path);
    }
}
