//! The shared, read-only view every check gets: probe, target, inventory, identities,
//! and lazily computed oracle baselines.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;
use url::Url;

use crate::config::{path_matches, Target};
use crate::discovery::{Endpoint, EndpointKind, Inventory};
use crate::identity::Identity;
use crate::oracle::Baseline;
use crate::probe::{Probe, ProbeRequest, ProbeResponse};
use crate::redact::Redactor;

type BaselineCell = Arc<OnceCell<Result<Baseline, String>>>;

/// Everything a check may look at. Checks send requests only through [`ScanContext::probe`].
pub struct ScanContext {
    pub probe: Probe,
    pub target: Target,
    pub inventory: Inventory,
    /// The identities the scan acts as; the first is the primary (A).
    pub identities: Vec<Identity>,
    pub redactor: Arc<Redactor>,
    /// Paths the user declared protected.
    pub protected_paths: Vec<String>,
    /// The endpoint that returns the primary identity's own record, if found.
    pub identity_endpoint: Option<Url>,
    baselines: Mutex<HashMap<Url, BaselineCell>>,
}

impl ScanContext {
    pub fn new(
        probe: Probe,
        target: Target,
        inventory: Inventory,
        identities: Vec<Identity>,
        redactor: Arc<Redactor>,
        protected_paths: Vec<String>,
        identity_endpoint: Option<Url>,
    ) -> Self {
        ScanContext {
            probe,
            target,
            inventory,
            identities,
            redactor,
            protected_paths,
            identity_endpoint,
            baselines: Mutex::new(HashMap::new()),
        }
    }

    /// The primary identity (A).
    pub fn primary(&self) -> Option<&Identity> {
        self.identities.first()
    }

    /// Whether the user declared `path` protected.
    pub fn declared_protected(&self, path: &str) -> bool {
        self.protected_paths.iter().any(|p| path_matches(p, path))
    }

    /// Endpoints that the primary identity reads successfully while anonymous requests are
    /// refused: the places to test credential handling.
    pub fn protected_endpoints(&self) -> impl Iterator<Item = &Endpoint> {
        self.inventory
            .endpoints
            .iter()
            .filter(|e| e.anonymously_refused() && e.authenticated.as_ref().is_some_and(ProbeResponse::is_success))
    }

    /// The best endpoint to judge credentials on: the identity endpoint, else any
    /// protected JSON endpoint.
    pub fn oracle_endpoint(&self) -> Option<Url> {
        self.identity_endpoint.clone().or_else(|| {
            self.protected_endpoints()
                .find(|e| matches!(e.kind, EndpointKind::Api | EndpointKind::IdentityCandidate))
                .map(|e| e.url.clone())
        })
    }

    /// A credential value that is certainly invalid, recognisable as the scanner's own.
    pub fn garbage_token() -> String {
        format!("authprobe-garbage-{:08x}", rand::random::<u32>())
    }

    /// The A/N/G baselines for `url` (computed once per scan, then shared).
    pub async fn baseline(&self, url: &Url) -> Result<Baseline, String> {
        let cell = {
            let mut map = self.baselines.lock().expect("baseline lock");
            map.entry(url.clone()).or_default().clone()
        };
        cell.get_or_init(|| self.take_baseline(url)).await.clone()
    }

    async fn take_baseline(&self, url: &Url) -> Result<Baseline, String> {
        let identity = self.primary().ok_or("no authenticated identity")?;
        let known = self.inventory.get(url);
        let valid = match known.and_then(|e| e.authenticated.clone()) {
            Some(r) => r,
            None => self
                .probe
                .send(identity.authorize(ProbeRequest::get(url.clone())))
                .await
                .map_err(|e| e.to_string())?,
        };
        let anonymous = match known.and_then(|e| e.anonymous_ok().cloned()) {
            Some(r) => r,
            None => self
                .probe
                .send(ProbeRequest::get(url.clone()))
                .await
                .map_err(|e| e.to_string())?,
        };
        let scheme = identity.scheme().unwrap_or("Bearer");
        let garbage = self
            .probe
            .send(ProbeRequest::get(url.clone()).header("Authorization", format!("{scheme} {}", Self::garbage_token())))
            .await
            .map_err(|e| e.to_string())?;
        Ok(Baseline::new(valid, anonymous, garbage, identity.marker.as_deref()))
    }
}
