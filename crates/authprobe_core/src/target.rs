//! The scanned origin and the accounts the scan logs in as: what every layer of the scan
//! (probe, discovery, the auth layer, the engine) is about. This module imports nothing
//! else from core, so any module may depend on it.

use std::net::IpAddr;
use url::Url;

/// Account credentials for a login flow. The password never leaves memory unredacted.
#[derive(Clone)]
pub struct UserCredential {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for UserCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "UserCredential({}:***)", self.username)
    }
}

/// The scanned origin and what is known about its transport.
#[derive(Debug, Clone)]
pub struct Target {
    /// The URL the user gave.
    pub url: Url,
    /// The plain-HTTP counterpart of an HTTPS target, for the HTTPS-redirect checks.
    pub http_url: Option<Url>,
}

/// Why a target URL is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("`{0}` is not a valid URL: {1}")]
    Malformed(String, String),
    #[error("`{0}` must be an http:// or https:// URL")]
    Scheme(String),
    #[error("`{0}` has no host")]
    NoHost(String),
}

impl Target {
    /// Parses and validates a target URL. An HTTPS target on the default port gets the
    /// matching `http://` origin as its plain-HTTP counterpart.
    pub fn parse(raw: &str) -> Result<Target, TargetError> {
        let url = Url::parse(raw.trim()).map_err(|e| TargetError::Malformed(raw.to_string(), e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(TargetError::Scheme(raw.to_string()));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(TargetError::NoHost(raw.to_string()));
        }
        let http_url = if url.scheme() == "https" && url.port().is_none() {
            let mut http = url.clone();
            let _ = http.set_scheme("http");
            Some(http)
        } else {
            None
        };
        Ok(Target { url, http_url })
    }

    pub fn is_https(&self) -> bool {
        self.url.scheme() == "https"
    }

    /// Whether the host is a loopback address or `localhost` (a local development server).
    pub fn is_loopback(&self) -> bool {
        match self.url.host() {
            Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost") || d.ends_with(".localhost"),
            Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
            Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
            None => false,
        }
    }

    /// Resolves a path (or absolute URL) against the target's origin.
    pub fn join(&self, path: &str) -> Option<Url> {
        self.url.join(path).ok()
    }

    /// Whether `url` is on the scanned origin (same scheme, host and port).
    pub fn same_origin(&self, url: &Url) -> bool {
        url.origin() == self.url.origin()
    }
}
