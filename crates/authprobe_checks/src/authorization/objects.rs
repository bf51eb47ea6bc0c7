//! Which objects a collection lists for an identity, however the API names them: the
//! links it returns (`"url": "…/notes/3/"`), the ids of its items under the collection's
//! path (`[{"id": 3}]` → `/notes/3/`), and the spec's object routes filled with those ids
//! (`/receipt-lookup/{receipt_id}/`). Items are read from bare arrays and from envelopes of
//! any shape ([`listed_items`]), across the listing's pages ([`next_page`]). A guessed URL
//! costs one request and proves nothing by itself: the cross-identity check reads each
//! object as its owner first.

use authprobe_core::auth::identity::Identity;
use authprobe_core::auth::ownership;
use authprobe_core::config::Target;
use authprobe_core::discovery::links_in;
use authprobe_core::lists::{item_id, listed_items};
use authprobe_core::pagination::next_page;
use authprobe_core::probe::ProbeRequest;
use authprobe_core::spec::inventory::fill;
use authprobe_core::spec::ApiSpec;
use authprobe_core::{ProbeResponse, ScanContext};
use url::Url;

/// Items of one listing that are turned into object URLs.
const MAX_ITEMS: usize = 10;
/// Pages read after a listing's first (each one request of the budget).
const MAX_EXTRA_PAGES: usize = 2;

/// The objects `collection` lists for `identity`: those of `first` (its answer to the
/// collection's GET) and of up to [`MAX_EXTRA_PAGES`] pages after it, so an object on
/// page 2 counts as listed.
pub(crate) async fn objects_across_pages(
    cx: &ScanContext,
    identity: &Identity,
    collection: &Url,
    first: &ProbeResponse,
) -> Vec<Url> {
    let spec = cx.spec.as_ref();
    let mut out = listed_objects(collection, first, &cx.target, spec);
    let mut page_after = next_page(first, &cx.target);
    for _ in 0..MAX_EXTRA_PAGES {
        let Some(url) = page_after.take() else { break };
        let Ok(page) = cx.probe.send(identity.authorize(ProbeRequest::get(url))).await else {
            break;
        };
        if !page.is_success() {
            break;
        }
        for object in listed_objects(collection, &page, &cx.target, spec) {
            if !out.contains(&object) {
                out.push(object);
            }
        }
        page_after = next_page(&page, &cx.target);
    }
    out
}

/// A collection path's format extension, when it names one (Rails' `/posts.json`).
const FORMAT_EXTENSIONS: &[&str] = &[".json", ".xml"];

/// A collection's path without its trailing slash and format extension, and the extension
/// (`/posts.json` → (`/posts`, `.json`)).
fn base_and_format(collection: &Url) -> (&str, &'static str) {
    let path = collection.path().trim_end_matches('/');
    FORMAT_EXTENSIONS
        .iter()
        .find_map(|ext| path.strip_suffix(ext).map(|base| (base, *ext)))
        .unwrap_or((path, ""))
}

/// Whether `link` is directly under `collection` (`/api/notes/` → `/api/notes/1/`; Rails'
/// `/posts.json` → `/posts/1.json`).
pub(crate) fn is_child(collection: &Url, link: &Url) -> bool {
    let (base, format) = base_and_format(collection);
    match link.path().strip_prefix(base) {
        Some(rest) if rest.starts_with('/') => {
            let rest = rest.trim_matches('/');
            let rest = rest.strip_suffix(format).unwrap_or(rest);
            !rest.is_empty() && !rest.contains('/') && link.query().is_none()
        }
        _ => false,
    }
}

/// The objects of `listing` (the owner's answer to `collection`) that their owner fields
/// say belong to the identity known by `names` and that say they are private or drafts
/// ([`ownership`]): such an object is the owner's alone whoever else's listing shows it.
pub(crate) fn private_objects(
    collection: &Url,
    listing: &ProbeResponse,
    target: &Target,
    names: &[String],
) -> Vec<Url> {
    let Some(json) = listing.json() else { return Vec::new() };
    let mut out: Vec<Url> = Vec::new();
    for item in listed_items(&json).iter().take(MAX_ITEMS) {
        if !ownership::owned_by(item, names) || !ownership::is_private(item) {
            continue;
        }
        let own_link = item
            .as_object()
            .into_iter()
            .flat_map(|m| m.values())
            .filter_map(serde_json::Value::as_str)
            .filter_map(|s| {
                if s.starts_with('/') {
                    target.join(s)
                } else {
                    Url::parse(s).ok()
                }
            })
            .find(|u| target.same_origin(u) && is_child(collection, u));
        let built = item_id(item).map(|id| child_url(collection, &id));
        for url in own_link.into_iter().chain(built) {
            if !out.contains(&url) {
                out.push(url);
            }
        }
    }
    out
}

/// The objects `listing` (the answer to a GET of `collection`) names.
fn listed_objects(collection: &Url, listing: &ProbeResponse, target: &Target, spec: Option<&ApiSpec>) -> Vec<Url> {
    let mut out: Vec<Url> = links_in(listing, target)
        .into_iter()
        .filter(|l| is_child(collection, l))
        .collect();
    let Some(json) = listing.json() else { return out };
    let templates = spec.map(|s| object_routes(s, collection)).unwrap_or_default();
    for item in listed_items(&json).iter().take(MAX_ITEMS) {
        let Some(id) = item_id(item) else { continue };
        let mut urls = vec![child_url(collection, &id)];
        urls.extend(
            templates
                .iter()
                .filter_map(|op| fill(op, item))
                .filter_map(|path| target.join(&path)),
        );
        for url in urls {
            if target.same_origin(&url) && !out.contains(&url) {
                out.push(url);
            }
        }
    }
    out
}

/// `collection` with `id` as one more segment, keeping its trailing-slash style (and its
/// format extension: `/posts.json` → `/posts/7.json`).
fn child_url(collection: &Url, id: &str) -> Url {
    let mut url = collection.clone();
    url.set_query(None);
    let (base, format) = base_and_format(collection);
    if !format.is_empty() {
        url.set_path(&format!("{base}/{id}{format}"));
        return url;
    }
    let slash = collection.path().ends_with('/');
    if let Ok(mut segments) = url.path_segments_mut() {
        segments.pop_if_empty().push(id);
        if slash {
            segments.push("");
        }
    }
    url
}

/// The spec's one-parameter GET routes that name the collection's kind of object: a path
/// or parameter containing the collection's noun (`receipts` → `/receipt-lookup/{id}/`,
/// `/x/{receipt_id}`). Routes under the collection itself are its children already.
fn object_routes<'a>(spec: &'a ApiSpec, collection: &Url) -> Vec<&'a authprobe_core::spec::Operation> {
    let Some(noun) = noun_of(collection) else {
        return Vec::new();
    };
    let under = collection.path().trim_end_matches('/').to_string() + "/";
    spec.operations
        .iter()
        .filter(|op| op.method == "GET" && op.params.len() == 1 && !op.changes_state())
        .filter(|op| !op.path.starts_with(&under))
        .filter(|op| {
            let path = op.path.to_ascii_lowercase();
            let static_part = path[..path.find('{').unwrap_or(path.len())].to_string();
            static_part.contains(&noun) || op.params[0].name.to_ascii_lowercase().contains(&noun)
        })
        .collect()
}

/// The singular noun of a collection's last segment (`/api/receipts/` → `receipt`), when
/// it is a word long enough to match on.
fn noun_of(collection: &Url) -> Option<String> {
    let last = collection
        .path_segments()?
        .rfind(|s| !s.is_empty())?
        .to_ascii_lowercase();
    let noun = last
        .strip_suffix("ies")
        .map(|s| format!("{s}y"))
        .or_else(|| last.strip_suffix("ses").map(|s| format!("{s}s")))
        .or_else(|| last.strip_suffix('s').map(str::to_string))
        .unwrap_or(last);
    (noun.len() >= 4 && noun.chars().all(|c| c.is_ascii_alphabetic() || c == '-' || c == '_')).then_some(noun)
}

#[cfg(test)]
mod tests {
    use super::*;
    use authprobe_core::probe::{Probe, ProbeRequest, ProbeSettings, ScriptedAnswer};
    use serde_json::json;
    use std::sync::Arc;

    fn u(p: &str) -> Url {
        Url::parse("http://t").unwrap().join(p).unwrap()
    }

    #[test]
    fn children_are_one_segment_below_the_collection() {
        let c = u("/api/notes/");
        assert!(is_child(&c, &u("/api/notes/1/")));
        assert!(!is_child(&c, &u("/api/notes/")));
        assert!(!is_child(&c, &u("/api/notes/1/comments/")));
        assert!(!is_child(&c, &u("/api/posts/1/")));
        assert!(!is_child(&u("/api/note"), &u("/api/notes/1")));
        // Rails' format routes.
        let rails = u("/posts.json");
        assert!(is_child(&rails, &u("/posts/7.json")));
        assert!(!is_child(&rails, &u("/posts.json")));
        assert!(!is_child(&rails, &u("/posts/7/comments.json")));
        assert_eq!(child_url(&rails, "7").path(), "/posts/7.json");
    }

    async fn listing(body: serde_json::Value) -> ProbeResponse {
        let probe = Probe::new(ProbeSettings::default())
            .unwrap()
            .with_transport(Arc::new(move |_: &_| ScriptedAnswer::json(200, body.clone())));
        probe.send(ProbeRequest::get(u("/api/receipts/"))).await.unwrap()
    }

    fn paths(urls: Vec<Url>) -> Vec<String> {
        urls.into_iter().map(|u| u.path().to_string()).collect()
    }

    #[tokio::test]
    async fn ids_in_bare_and_enveloped_lists_become_object_urls() {
        let target = Target::parse("http://t/").unwrap();
        let collection = u("/api/receipts/");
        let bare = listing(json!([{"id": "rcpt_1"}, {"id": 2}])).await;
        assert_eq!(
            paths(listed_objects(&collection, &bare, &target, None)),
            ["/api/receipts/rcpt_1/", "/api/receipts/2/"]
        );
        let enveloped = listing(json!({"status": "ok", "data": {"receipts": [{"id": "r9", "total": "1"}]}})).await;
        assert_eq!(
            paths(listed_objects(&collection, &enveloped, &target, None)),
            ["/api/receipts/r9/"]
        );
        let no_slash = u("/v1/items");
        assert_eq!(child_url(&no_slash, "7").path(), "/v1/items/7");
    }

    #[tokio::test]
    async fn the_specs_routes_for_the_collections_noun_are_filled_with_listed_ids() {
        let spec = ApiSpec::from_text(
            r#"{"openapi": "3.0.0", "paths": {
                "/api/receipt-lookup/{receipt_id}/": {"get": {"parameters": [{"name": "receipt_id", "in": "path", "example": "rcpt_0"}]}},
                "/api/users/{id}/": {"get": {}},
                "/api/receipts/{id}/purge": {"get": {}}
            }}"#,
            "t",
        )
        .unwrap();
        let target = Target::parse("http://t/").unwrap();
        let resp = listing(json!({"results": [{"id": "rcpt_5"}]})).await;
        assert_eq!(
            paths(listed_objects(&u("/api/receipts/"), &resp, &target, Some(&spec))),
            ["/api/receipts/rcpt_5/", "/api/receipt-lookup/rcpt_5/"]
        );
    }

    #[test]
    fn nouns_are_singular_words() {
        assert_eq!(noun_of(&u("/api/receipts/")).as_deref(), Some("receipt"));
        assert_eq!(noun_of(&u("/api/categories")).as_deref(), Some("category"));
        assert_eq!(noun_of(&u("/api/v1/")), None);
        assert_eq!(noun_of(&u("/api/me/")), None);
    }
}
