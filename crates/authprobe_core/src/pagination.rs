//! The next page of a listing, however the API paginates: a `Link: <…>; rel="next"`
//! header (RFC 8288; GitHub, Flask-Smorest), DRF's `"next"`, Laravel's `"next_page_url"`,
//! JSON:API's `"links": {"next": …}`, HAL's `"_links": {"next": {"href": …}}`, or a
//! `"pagination"`/`"meta"`/`"paging"` block holding one of those. Only a page of the same
//! listing counts (same origin and path, another query): a GET of the listing's next page
//! is as harmless as the GET of the listing, and nothing else is followed.

use serde_json::Value;
use url::Url;

use crate::target::Target;
use crate::ProbeResponse;

/// Keys whose value is the next page's URL (or a HAL/JSON:API link object).
const NEXT_KEYS: &[&str] = &[
    "next",
    "next_page_url",
    "nextPageUrl",
    "next_url",
    "nextUrl",
    "next_page",
    "nextPage",
    "next_link",
    "nextLink",
    "@odata.nextLink",
];
/// Keys of the blocks that hold pagination links.
const BLOCK_KEYS: &[&str] = &[
    "links",
    "_links",
    "pagination",
    "meta",
    "paging",
    "page_info",
    "pageInfo",
];
/// How deep the pagination blocks are looked for.
const MAX_DEPTH: usize = 3;

/// The URL of the page after `resp`, when it names one of the same listing.
pub fn next_page(resp: &ProbeResponse, target: &Target) -> Option<Url> {
    let from_header = resp.header_all("link").into_iter().find_map(next_in_link_header);
    let from_body = || resp.json().and_then(|json| next_in_json(&json, 0));
    let raw = from_header.or_else(from_body)?;
    let next = resp.url.join(&raw).ok()?;
    let same_listing = target.same_origin(&next)
        && next.path() == resp.url.path()
        && next.query().is_some()
        && next.query() != resp.url.query();
    same_listing.then_some(next)
}

/// The target of the `rel="next"` link of a `Link` header value.
fn next_in_link_header(value: &str) -> Option<String> {
    value.split(',').find_map(|link| {
        let (target, params) = link.trim().split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        let is_next = params.split(';').any(|p| {
            let p = p.trim().to_ascii_lowercase();
            p.strip_prefix("rel=")
                .is_some_and(|rel| rel.trim_matches('"').split_whitespace().any(|r| r == "next"))
        });
        is_next.then(|| target.to_string())
    })
}

fn next_in_json(value: &Value, depth: usize) -> Option<String> {
    let map = value.as_object()?;
    let direct = NEXT_KEYS.iter().filter_map(|k| map.get(*k)).find_map(|v| match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        // HAL and some JSON:API servers: {"href": "…"}
        Value::Object(o) => o.get("href").and_then(Value::as_str).map(str::to_string),
        _ => None,
    });
    if direct.is_some() || depth >= MAX_DEPTH {
        return direct;
    }
    BLOCK_KEYS
        .iter()
        .filter_map(|k| map.get(*k))
        .find_map(|block| next_in_json(block, depth + 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::{Probe, ProbeRequest, ProbeSettings, ScriptedAnswer};
    use serde_json::json;
    use std::sync::Arc;

    async fn answer(path: &str, link: Option<&'static str>, body: Value) -> ProbeResponse {
        let probe = Probe::new(ProbeSettings::default())
            .unwrap()
            .with_transport(Arc::new(move |_: &_| {
                let mut a = ScriptedAnswer::json(200, body.clone());
                if let Some(l) = link {
                    a = a.header("Link", l);
                }
                a
            }));
        let url = Url::parse("http://t").unwrap().join(path).unwrap();
        probe.send(ProbeRequest::get(url)).await.unwrap()
    }

    fn target() -> Target {
        Target::parse("http://t/").unwrap()
    }

    async fn next_of(path: &str, link: Option<&'static str>, body: Value) -> Option<String> {
        next_page(&answer(path, link, body).await, &target()).map(|u| u.to_string())
    }

    #[tokio::test]
    async fn the_next_page_is_read_from_the_common_pagination_shapes() {
        let drf = json!({"count": 30, "next": "http://t/api/notes/?page=2", "previous": null, "results": []});
        assert_eq!(
            next_of("/api/notes/", None, drf).await.as_deref(),
            Some("http://t/api/notes/?page=2")
        );
        let laravel = json!({"data": [], "next_page_url": "/api/notes?page=2"});
        assert_eq!(
            next_of("/api/notes", None, laravel).await.as_deref(),
            Some("http://t/api/notes?page=2")
        );
        let json_api =
            json!({"data": [], "links": {"self": "/v1/items?page[number]=1", "next": "/v1/items?page[number]=2"}});
        assert_eq!(
            next_of("/v1/items", None, json_api).await.as_deref(),
            Some("http://t/v1/items?page[number]=2")
        );
        let hal = json!({"_embedded": {}, "_links": {"next": {"href": "/items?cursor=abc"}}});
        assert_eq!(
            next_of("/items", None, hal).await.as_deref(),
            Some("http://t/items?cursor=abc")
        );
        let nested = json!({"data": [], "meta": {"pagination": {"next": "?page=3"}}});
        assert_eq!(
            next_of("/items?page=2", None, nested).await.as_deref(),
            Some("http://t/items?page=3")
        );
        let header = r#"<http://t/repos?page=1>; rel="prev", <http://t/repos?page=3>; rel="next""#;
        assert_eq!(
            next_of("/repos?page=2", Some(header), json!([])).await.as_deref(),
            Some("http://t/repos?page=3")
        );
    }

    #[tokio::test]
    async fn only_another_page_of_the_same_listing_is_followed() {
        // The last page, another path, another host, the same page again.
        assert_eq!(
            next_of("/api/notes/", None, json!({"next": null, "results": []})).await,
            None
        );
        assert_eq!(
            next_of("/api/notes/", None, json!({"next": "/api/logout/?page=2"})).await,
            None
        );
        assert_eq!(
            next_of("/api/notes/", None, json!({"next": "http://evil/api/notes/?page=2"})).await,
            None
        );
        assert_eq!(
            next_of("/api/notes/?page=2", None, json!({"next": "?page=2"})).await,
            None
        );
        // A "next" inside an item is not the listing's.
        assert_eq!(
            next_of("/api/notes/", None, json!({"results": [{"next": "?page=2"}]})).await,
            None
        );
    }
}
