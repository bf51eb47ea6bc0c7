//! Helpers shared by several checks.

use authprobe_core::discovery::{Endpoint, EndpointKind};
use authprobe_core::probe::ProbeRequest;
use authprobe_core::Shared;
use authprobe_core::{ProbeResponse, ScanContext};

/// OWASP API Security Top 10 (2023) category names.
pub mod owasp {
    pub const API1: &str = "API1:2023 Broken Object Level Authorization";
    pub const API2: &str = "API2:2023 Broken Authentication";
    pub const API3: &str = "API3:2023 Broken Object Property Level Authorization";
    pub const API4: &str = "API4:2023 Unrestricted Resource Consumption";
    pub const API5: &str = "API5:2023 Broken Function Level Authorization";
    pub const API8: &str = "API8:2023 Security Misconfiguration";
    pub const API9: &str = "API9:2023 Improper Inventory Management";
}

/// Strips the one leading space rustdoc leaves on each `///` line.
pub fn unindent_doc(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for line in raw.lines() {
        out.push_str(line.strip_prefix(' ').unwrap_or(line));
        out.push('\n');
    }
    out.trim().to_string() + "\n"
}

/// Every successful anonymous discovery response, with its endpoint.
pub fn anonymous_responses(cx: &ScanContext) -> impl Iterator<Item = (&Endpoint, &ProbeResponse)> {
    cx.inventory
        .endpoints
        .iter()
        .filter_map(|e| e.anonymous_ok().map(|r| (e, r)))
}

/// Endpoints that serve HTML pages (login forms, admin, other pages).
pub fn html_endpoints(cx: &ScanContext) -> impl Iterator<Item = (&Endpoint, &ProbeResponse)> {
    anonymous_responses(cx).filter(|(_, r)| r.is_html())
}

/// The endpoints that take credentials by POST (token endpoints and login forms).
pub fn credential_endpoints(cx: &ScanContext) -> impl Iterator<Item = &Endpoint> {
    cx.inventory
        .endpoints
        .iter()
        .filter(|e| e.kind.takes_credentials() && e.kind != EndpointKind::AdminLogin)
}

/// JSON endpoints also asked for HTML, as a browser opening their URL would ask.
const MAX_BROWSER_FETCHES: usize = 3;

/// What a browser's address bar sends.
const BROWSER_ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

/// The HTML pages JSON endpoints serve to a browser (path, answer).
pub struct BrowserViews(pub Vec<(String, ProbeResponse)>);

/// JSON endpoints opened as a browser would open them, once per scan (DRF's browsable API
/// renders HTML, and sets its CSRF cookie, for a browser's `Accept`): the identity
/// endpoint, identity-like and other API endpoints anonymously, and the identity endpoint
/// as the identity. Only the answers that are HTML are kept.
pub async fn browser_views(cx: &ScanContext) -> std::sync::Arc<BrowserViews> {
    cx.shared(Shared::BrowserViews, || async {
        let mut json: Vec<&Endpoint> = cx
            .inventory
            .endpoints
            .iter()
            .filter(|e| {
                e.anonymous_ok()
                    .is_some_and(|r| !r.is_html() && r.content_type().contains("json"))
            })
            .collect();
        json.sort_by_key(|e| {
            let own = cx.identity_endpoint.as_ref() == Some(&e.url);
            (
                !own,
                e.kind != EndpointKind::IdentityCandidate,
                e.kind != EndpointKind::Api,
            )
        });
        let anonymous = json.iter().take(MAX_BROWSER_FETCHES).map(|e| (e.url.clone(), None));
        let own = cx
            .identity_endpoint
            .clone()
            .zip(cx.primary())
            .map(|(u, i)| (u, Some(i)));
        let mut views = Vec::new();
        for (url, identity) in anonymous.chain(own) {
            let req = ProbeRequest::get(url.clone()).header("Accept", BROWSER_ACCEPT);
            let req = match identity {
                Some(identity) => identity.authorize(req),
                None => req,
            };
            if let Ok(resp) = cx.probe.send(req).await {
                if resp.is_html() && resp.status < 500 && !resp.is_redirect() {
                    views.push((url.path().to_string(), resp));
                }
            }
        }
        BrowserViews(views)
    })
    .await
}

/// A random path that certainly does not exist on the target.
pub fn nonexistent_path() -> String {
    format!("/authprobe-{:08x}-not-found/", rand_u32())
}

fn rand_u32() -> u32 {
    // Time-derived uniqueness is enough here: the path only has to be unguessable by routes.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(7);
    nanos ^ 0x5bd1_e995
}

/// Lists a few items for a message: `a, b and 3 more`.
pub fn summarize(items: &[String], max: usize) -> String {
    match items.len() {
        0 => String::new(),
        n if n <= max => items.join(", "),
        n => format!("{} and {} more", items[..max].join(", "), n - max),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doc_lines_lose_their_rustdoc_space() {
        assert_eq!(
            unindent_doc(" ## What it does\n Checks.\n"),
            "## What it does\nChecks.\n"
        );
    }

    #[test]
    fn summaries_stay_short() {
        let items: Vec<String> = (1..=5).map(|i| i.to_string()).collect();
        assert_eq!(summarize(&items, 3), "1, 2, 3 and 2 more");
        assert_eq!(summarize(&items[..2], 3), "1, 2");
    }
}
