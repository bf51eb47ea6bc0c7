//! The shared, read-only view every check gets: probe, target, inventory, identities,
//! and lazily computed oracle baselines.

use std::any::Any;
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock};
use tokio::sync::OnceCell;
use tokio::task::futures::TaskLocalFuture;
use url::Url;

use crate::auth::identity::Identity;
use crate::auth::Flows;
use crate::config::{exact_path_key, path_key, path_matches, ScanConfig};
use crate::discovery::{Endpoint, EndpointKind, Inventory};
use crate::oracle::Baseline;
use crate::probe::{Lane, Probe, ProbeRequest, ProbeResponse};
use crate::redact::Redactor;
use crate::shared::Shared;
use crate::target::{Target, UserCredential};

type BaselineCell = Arc<OnceCell<Result<Arc<Baseline>, String>>>;
type SharedCell = Arc<OnceCell<Arc<dyn Any + Send + Sync>>>;

/// Everything a check may look at. Checks send requests only through [`ScanContext::probe`].
pub struct ScanContext {
    pub probe: Probe,
    pub target: Target,
    pub inventory: Inventory,
    /// The identities the scan acts as; the first is the primary (A).
    pub identities: Vec<Identity>,
    pub redactor: Arc<Redactor>,
    /// Paths the user declared protected (and, with a spec, every secured operation).
    /// Fixed once checks run: [`ScanContext::declared_protected`] indexes it on first use.
    pub protected_paths: Vec<String>,
    /// The endpoint that returns the primary identity's own record, if found.
    pub identity_endpoint: Option<Url>,
    /// The accounts behind `--user`, for checks that log in again (other token endpoints,
    /// fresh sessions). Kept in memory only; the redactor knows every password.
    pub credentials: Vec<UserCredential>,
    /// The scan's configuration (limits, crack time, hints).
    pub config: ScanConfig,
    /// The login, refresh, logout, password-change and identity flows (configured or detected).
    pub flows: Flows,
    /// The spec that drove (or joined) the inventory, if any.
    pub spec: Option<crate::spec::ApiSpec>,
    /// What the write probes created (empty unless write probes are on).
    pub writes: crate::writes::WriteLedger,
    /// Logins (and supplied credentials) that produced no identity, with the reason.
    pub login_failures: Vec<crate::auth::LoginFailure>,
    /// Where the target's e-mail is read (`--mailbox`), open for the scan's duration.
    pub mailbox: Option<Arc<crate::mailbox::Mailbox>>,
    baselines: Mutex<HashMap<Url, BaselineCell>>,
    shared: Mutex<HashMap<Shared, SharedCell>>,
    /// `protected_paths` as a set of exact paths and a list of wildcard patterns.
    protected_index: OnceLock<(HashSet<String>, Vec<String>)>,
}

impl ScanContext {
    pub fn new(
        probe: Probe,
        config: ScanConfig,
        inventory: Inventory,
        identities: Vec<Identity>,
        redactor: Arc<Redactor>,
        identity_endpoint: Option<Url>,
        flows: Flows,
    ) -> Self {
        ScanContext {
            probe,
            target: config.target.clone(),
            inventory,
            identities,
            redactor,
            protected_paths: config.protected_paths.clone(),
            identity_endpoint,
            credentials: config.users.clone(),
            config,
            flows,
            spec: None,
            writes: crate::writes::WriteLedger::default(),
            login_failures: Vec::new(),
            mailbox: None,
            baselines: Mutex::new(HashMap::new()),
            shared: Mutex::new(HashMap::new()),
            protected_index: OnceLock::new(),
        }
    }

    /// The shared result `which`, computed once per scan by the first check that asks (with
    /// `init`) and read by the others. The asking check must declare it
    /// ([`crate::check::Check::shares`]); debug builds fail on an undeclared read.
    pub async fn shared<T, F, Fut>(&self, which: Shared, init: F) -> Arc<T>
    where
        T: Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        debug_assert_declared(which);
        let cell = {
            let mut map = self.shared.lock().expect("shared lock");
            map.entry(which).or_default().clone()
        };
        let value = cell
            .get_or_init(|| async { Arc::new(init().await) as Arc<dyn Any + Send + Sync> })
            .await
            .clone();
        value
            .downcast::<T>()
            .unwrap_or_else(|_| panic!("the shared result {} is always of one type", which.name()))
    }

    /// How many independent requests a check may have in flight at once (e.g. one per
    /// endpoint of a per-endpoint loop): the probe's concurrency, which bounds the whole
    /// scan anyway, or one under [`crate::config::Schedule::Waves`]. Probes that depend on
    /// each other (login, act, logout, replay) stay sequential whatever this says.
    pub fn fan_out(&self) -> usize {
        match self.config.schedule {
            crate::config::Schedule::Tasks => self.probe.settings().concurrency.max(1),
            crate::config::Schedule::Waves => 1,
        }
    }

    /// Runs `work` (one endpoint's probes in a per-endpoint loop) in the probe's bulk lane:
    /// the other checks' requests get free slots first ([`Lane`]).
    pub fn bulk<F: Future>(&self, work: F) -> TaskLocalFuture<Lane, F> {
        self.in_lane(Lane::Bulk, work)
    }

    /// Runs `work` (a long chain of requests that each wait on the one before, which the
    /// scan's length depends on) in the probe's chain lane: it gets free slots first
    /// ([`Lane`]).
    pub fn chain<F: Future>(&self, work: F) -> TaskLocalFuture<Lane, F> {
        self.in_lane(Lane::Chain, work)
    }

    /// Under [`crate::config::Schedule::Waves`] every request is ordinary, as before issue 17.
    fn in_lane<F: Future>(&self, lane: Lane, work: F) -> TaskLocalFuture<Lane, F> {
        let lane = match self.config.schedule {
            crate::config::Schedule::Tasks => lane,
            crate::config::Schedule::Waves => Lane::Ordinary,
        };
        crate::probe::in_lane(lane, work)
    }

    /// The auth layer: how this target logs in, refreshes, logs out, bridges and
    /// presents credentials. Checks ask it instead of deciding for themselves.
    pub fn auth(&self) -> crate::auth::AuthView<'_> {
        crate::auth::AuthView {
            probe: &self.probe,
            flows: &self.flows,
            inventory: &self.inventory,
            identities: &self.identities,
            accounts: &self.credentials,
        }
    }

    /// The primary identity (A).
    pub fn primary(&self) -> Option<&Identity> {
        self.identities.first()
    }

    /// Whether the user declared `path` protected.
    /// How many endpoints a per-endpoint check covers: `default` (a sample) for a
    /// discovered inventory, every endpoint when a spec drove it (`--spec`) or with the
    /// thorough profile. The request budget and rate limit still bound the whole scan.
    pub fn endpoint_limit(&self, default: usize) -> usize {
        if self.config.spec.is_some() || self.config.profile == "thorough" {
            usize::MAX
        } else {
            default
        }
    }

    pub fn declared_protected(&self, path: &str) -> bool {
        // A spec adds a pattern per operation: exact ones are looked up, not scanned.
        let (exact, wildcards) = self.protected_index.get_or_init(|| {
            let mut exact = HashSet::new();
            let mut wildcards = Vec::new();
            for p in &self.protected_paths {
                match exact_path_key(p) {
                    Some(key) => {
                        exact.insert(key);
                    }
                    None => wildcards.push(p.clone()),
                }
            }
            (exact, wildcards)
        });
        exact.contains(&path_key(path)) || wildcards.iter().any(|p| path_matches(p, path))
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

    /// The A/N/G baselines for `url` (computed once per scan, then shared), as a copy of
    /// the caller's own.
    pub async fn baseline(&self, url: &Url) -> Result<Baseline, String> {
        self.shared_baseline(url).await.map(|b| Baseline::clone(&b))
    }

    /// The A/N/G baselines for `url`, shared: no copy of its three answers, for checks that
    /// only read it once per endpoint of a large inventory.
    pub async fn shared_baseline(&self, url: &Url) -> Result<Arc<Baseline>, String> {
        let cell = {
            let mut map = self.baselines.lock().expect("baseline lock");
            map.entry(url.clone()).or_default().clone()
        };
        cell.get_or_init(|| async { self.take_baseline(url).await.map(Arc::new) })
            .await
            .clone()
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
        let garbage = self
            .probe
            .send(identity.present(ProbeRequest::get(url.clone()), &Self::garbage_token()))
            .await
            .map_err(|e| e.to_string())?;
        Ok(Baseline::new(valid, anonymous, garbage, identity.marker.as_deref()))
    }
}

/// Fails (in debug builds) when the running check reads a shared result it did not declare,
/// directly or through one it declared. Outside a check's run (fixture tests call `run`
/// themselves) there is nothing to hold it to.
fn debug_assert_declared(which: Shared) {
    if cfg!(debug_assertions) {
        let _ = crate::shared::RUNNING.try_with(|check| {
            let declared = check.shares.iter().any(|d| d.with_inputs().contains(&which));
            assert!(
                declared,
                "{} reads the shared result `{}` without declaring it in `Check::shares`",
                check.code,
                which.name()
            );
        });
    }
}
