//! Offline secret recovery during a scan, shared by JWT003 and DJ004: every HMAC-signed
//! JWT family and every Django-signed cookie the target issued is cracked in one pass, in
//! parallel with probing (on background threads), within one `--crack-time` of CPU time on
//! every core (see [`CpuBudget`]): first the secrets JWT libraries' docs use as examples
//! ([`super::doc_secrets`]), then each candidate is tried against every value not cracked
//! yet, through the built-in candidates, the `--wordlist` files, then numbers, dictionary
//! words and short lowercase keys until the time is spent.

use authprobe_core::auth::vocab::DEFAULT_SESSION_COOKIE;
use authprobe_core::Shared;
use authprobe_core::{ExchangeId, ScanContext};
use authprobe_jwt::crack::{crack_many_in_scan, CpuBudget, CrackTarget, MacAlg};
use std::sync::Arc;

use super::doc_secrets::{documented_key, source_of};
use super::families::{families, issued_tokens, Issued};
use url::Url;

/// Salts Django signs cookies with: (cookie name, salt, uses the cookie signer key).
const DJANGO_COOKIE_SALTS: &[(&str, &str, bool)] = &[
    ("messages", "django.contrib.messages", true),
    (
        DEFAULT_SESSION_COOKIE,
        "django.contrib.sessions.backends.signed_cookies",
        false,
    ),
];

/// A secret recovered from one signed value.
#[derive(Debug, Clone)]
pub(crate) struct Recovered {
    pub secret: Vec<u8>,
    /// Where the signed value came from (issuer path or cookie name).
    pub source: String,
    /// The exchange that carried the signed value.
    pub exchange: ExchangeId,
    pub elapsed_ms: u128,
    /// The docs that print the key as their example ([`super::doc_secrets`]), when they do.
    pub documented_in: Option<&'static str>,
}

/// What cracking found, per signed value.
#[derive(Debug, Default)]
pub(crate) struct Cracked {
    /// JWT families: index into `families().0` and the key found.
    pub jwt: Vec<(usize, Recovered)>,
    /// Django-signed cookies whose SECRET_KEY was found.
    pub django: Vec<Recovered>,
    /// How many signed values were tried, for skip reasons.
    pub tried_values: usize,
}

pub(crate) async fn cracked(cx: &ScanContext) -> Arc<Cracked> {
    cx.shared(Shared::Cracking, || run(cx)).await
}

async fn run(cx: &ScanContext) -> Cracked {
    let budget = cx.config.crack_time;
    let wordlists = cx.config.wordlists.clone();
    let mut result = Cracked::default();
    let mut jobs: Vec<(Option<usize>, String, ExchangeId, CrackTarget)> = Vec::new();
    for (i, (issuer, mine)) in signed_tokens(cx).await.into_iter().enumerate() {
        if let Ok(target) = CrackTarget::from_jwt(&mine.token) {
            jobs.push((Some(i), issuer.path().to_string(), mine.exchange, target));
        }
    }
    for (name, value, exchange) in django_signed_cookies(cx) {
        for (cookie, salt, cookie_signer) in DJANGO_COOKIE_SALTS {
            if *cookie == name {
                if let Ok(target) = CrackTarget::from_django_signed(&value, salt, *cookie_signer) {
                    jobs.push((None, format!("the `{name}` cookie"), exchange, target));
                }
            }
        }
    }
    result.tried_values = jobs.len();
    // The secrets libraries' and frameworks' own docs use, before any generated keyspace:
    // a handful of HMACs per value, so a service that kept its README's key is found at
    // once and named after the docs that print it.
    let started = std::time::Instant::now();
    let mut rest = Vec::with_capacity(jobs.len());
    for (family, source, exchange, target) in jobs {
        match documented_key(&target) {
            Some(doc) => {
                let secret = doc.value.as_bytes().to_vec();
                if !cx.config.show_secrets {
                    cx.redactor.add_secret(&doc.value);
                }
                let recovered = Recovered {
                    secret,
                    source,
                    exchange,
                    elapsed_ms: started.elapsed().as_millis(),
                    documented_in: Some(doc.source.as_str()),
                };
                match family {
                    Some(i) => result.jwt.push((i, recovered)),
                    None => result.django.push(recovered),
                }
            }
            None => rest.push((family, source, exchange, target)),
        }
    }
    let jobs = rest;
    // Every value cracks in one pass, within one budget: `--crack-time` of every core's CPU
    // time, however busy the machine (up to a wall-time cap), so the scan waits about
    // `--crack-time` once, not once per value, and tries as many candidates on a busy
    // machine as on an idle one. Each candidate is tried against every value whose key is
    // not found yet; a value's `elapsed` is the time until its key came up.
    // Values of one hash share a pass; a SHA-512 pass (HS384/HS512, no fast hardware path)
    // runs beside the SHA-256 one rather than setting its pace.
    let budget = CpuBudget::on_every_core(budget);
    let sha512 = |t: &CrackTarget| matches!(t.alg, MacAlg::Sha384 | MacAlg::Sha512);
    let passes = [false, true].map(|wide| {
        let targets: Vec<CrackTarget> = jobs
            .iter()
            .map(|(_, _, _, target)| target.clone())
            .filter(|t| sha512(t) == wide)
            .collect();
        let (wordlists, budget) = (wordlists.clone(), budget.clone());
        tokio::task::spawn_blocking(move || match targets.is_empty() {
            true => Vec::new(),
            false => crack_many_in_scan(&targets, &wordlists, &budget, 0),
        })
    });
    let [narrow, wide] = passes;
    let (narrow, wide) = futures::join!(narrow, wide);
    let (mut narrow, mut wide) = (
        narrow.unwrap_or_default().into_iter(),
        wide.unwrap_or_default().into_iter(),
    );
    let outcomes: Vec<_> = jobs
        .iter()
        .map(|(_, _, _, t)| if sha512(t) { wide.next() } else { narrow.next() })
        .collect();
    for ((family, source, exchange, _), outcome) in jobs.into_iter().zip(outcomes) {
        let Some(outcome) = outcome else { continue };
        let Some(secret) = outcome.found else { continue };
        if !cx.config.show_secrets {
            cx.redactor.add_secret(&String::from_utf8_lossy(&secret));
        }
        let recovered = Recovered {
            documented_in: source_of(&secret),
            secret,
            source,
            exchange,
            elapsed_ms: outcome.elapsed.as_millis(),
        };
        match family {
            Some(i) => result.jwt.push((i, recovered)),
            None => result.django.push(recovered),
        }
    }
    result
}

/// Each family's issuer and primary token, in [`families`]' order. Cracking starts as soon
/// as the logins are done: the families' verifiers are looked for meanwhile. Without a login
/// flow (a supplied `--bearer` JWT) the one family is all there is.
async fn signed_tokens(cx: &ScanContext) -> Vec<(Url, Issued)> {
    let issued = issued_tokens(cx).await;
    if !issued.0.is_empty() {
        return issued.0.iter().map(|t| (t.issuer.clone(), t.mine.clone())).collect();
    }
    families(cx)
        .await
        .0
        .iter()
        .map(|f| (f.issuer.clone(), f.mine.clone()))
        .collect()
}

/// Cookies that look like `django.core.signing` output (`value:signature`), with the
/// exchange that set them.
fn django_signed_cookies(cx: &ScanContext) -> Vec<(String, String, ExchangeId)> {
    let mut out: Vec<(String, String, ExchangeId)> = Vec::new();
    for (cookie, exchange) in cx.probe.set_cookies() {
        let value = cookie.value.trim_matches('"');
        if value.contains(':') && !out.iter().any(|(n, _, _)| *n == cookie.name) {
            out.push((cookie.name.clone(), value.to_string(), exchange));
        }
    }
    out
}

/// How a recovered secret is shown: in full with `--show-secrets`, else a prefix and length.
pub(crate) fn display_secret(cx: &ScanContext, secret: &[u8]) -> String {
    let text = String::from_utf8_lossy(secret);
    if text.is_empty() {
        return "the empty string".to_string();
    }
    if cx.config.show_secrets {
        return format!("`{text}`");
    }
    let chars: Vec<char> = text.chars().collect();
    let shown = (chars.len() / 3).clamp(1, 4);
    let prefix: String = chars[..shown].iter().collect();
    format!(
        "`{prefix}…` ({} characters; pass --show-secrets to print it)",
        chars.len()
    )
}

/// Whether a secret is a Django SECRET_KEY by its shape (`startproject` output).
pub(crate) fn looks_like_django_key(secret: &[u8]) -> bool {
    secret.starts_with(b"django-insecure-")
}

/// The plain statement users need when a Django key is out.
pub(crate) const DJANGO_KEY_CONSEQUENCES: &str = "With simplejwt's default settings the HS256 signing key is Django's SECRET_KEY, which also signs sessions, password-reset tokens and signed cookies: anyone holding it can forge all of them. Rotate it.";
