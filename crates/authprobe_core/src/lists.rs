//! The one list reader: where a JSON answer holds its list of objects, however the API
//! shapes it, and what keys those objects. Discovery (the spec's object routes filled with
//! listed ids) and every check (cross-identity access, id enumeration, write probes) read
//! listings through it, so a shape one of them learns, all of them read.
//!
//! A listing is a bare array, or an array inside an envelope of any shape: under a
//! paginating or enveloping key (`results`, `data`, `items`, …), under the collection's
//! noun in any case (`{"orders": [...]}`, `{"Tickets": [...]}`), one or more envelopes
//! down (`{"data": {"posts": [...]}}`, HAL's `_embedded`). When an envelope holds several
//! arrays, the array of objects that carry an id of their own wins: facets, aggregations,
//! links and errors sit beside the list, not in it. An object that carries an id is an
//! entity, not an envelope: its arrays (a user's groups) are not listings.

use serde_json::{Map, Value};

/// Fields that hold an object's own key, compared without case (`id`, Mongoose's `_id`,
/// ASP.NET's `Id`, DRF's `pk`, and the public keys APIs route by).
pub const ID_FIELDS: &[&str] = &["id", "_id", "pk", "uuid", "public_id", "slug", "key"];

/// Keys under which a list of objects is conventionally enveloped (DRF, Laravel, JSON:API,
/// Spring, Rails, …), tried before any other key.
const ENVELOPE_KEYS: &[&str] = &[
    "results",
    "data",
    "items",
    "objects",
    "records",
    "content",
    "_embedded",
    "rows",
    "entries",
    "list",
];

/// Keys whose arrays describe a listing rather than belong to it: search facets and
/// aggregations, links, errors and warnings, JSON:API's `included` related objects.
const METADATA_KEYS: &[&str] = &[
    "facets",
    "aggregations",
    "aggs",
    "filters",
    "sort",
    "sorts",
    "links",
    "_links",
    "meta",
    "errors",
    "warnings",
    "messages",
    "included",
    "breadcrumbs",
    "columns",
];

/// How deep inside envelopes a listing is looked for.
const MAX_ENVELOPE_DEPTH: usize = 4;

/// The value of the first of [`ID_FIELDS`] `item` carries, compared without case.
fn id_value(item: &Map<String, Value>) -> Option<&Value> {
    ID_FIELDS.iter().find_map(|f| {
        item.iter()
            .find(|(k, v)| k.eq_ignore_ascii_case(f) && !v.is_null())
            .map(|(_, v)| v)
    })
}

/// Whether `value` is an object carrying an id of its own.
fn has_own_id(value: &Value) -> bool {
    value
        .as_object()
        .and_then(id_value)
        .is_some_and(|v| v.is_string() || v.is_number())
}

fn is_metadata(key: &str) -> bool {
    METADATA_KEYS.iter().any(|m| m.eq_ignore_ascii_case(key))
}

fn is_envelope_key(key: &str) -> bool {
    ENVELOPE_KEYS.iter().any(|m| m.eq_ignore_ascii_case(key))
}

/// One array found inside an envelope.
struct Found<'a> {
    items: &'a Vec<Value>,
    depth: usize,
    known_key: bool,
}

fn collect<'a>(map: &'a Map<String, Value>, depth: usize, out: &mut Vec<Found<'a>>) {
    for (key, value) in map {
        if is_metadata(key) {
            continue;
        }
        match value {
            Value::Array(items) => out.push(Found {
                items,
                depth,
                known_key: is_envelope_key(key),
            }),
            Value::Object(inner) if depth + 1 < MAX_ENVELOPE_DEPTH && !has_own_id(value) => {
                collect(inner, depth + 1, out)
            }
            _ => {}
        }
    }
}

/// The items of a listing (see the module's doc): a top-level array, else the array of
/// objects with ids of their own nearest the top (under a conventional key first), else
/// the nearest conventionally enveloped array (an empty `results` is an empty listing),
/// else the nearest array of objects.
pub fn listed_items(json: &Value) -> Vec<Value> {
    match json {
        Value::Array(items) => items.clone(),
        Value::Object(map) if !has_own_id(json) => {
            let mut found = Vec::new();
            collect(map, 0, &mut found);
            // Shallowest first, conventional keys first among equals (stable otherwise).
            found.sort_by_key(|f| (f.depth, !f.known_key));
            let with_ids = found.iter().find(|f| f.items.first().is_some_and(has_own_id));
            let enveloped = || found.iter().find(|f| f.known_key);
            let objects = || found.iter().find(|f| f.items.first().is_some_and(Value::is_object));
            with_ids
                .or_else(enveloped)
                .or_else(objects)
                .map(|f| f.items.clone())
                .unwrap_or_default()
        }
        _ => Vec::new(),
    }
}

/// Whether an answer is a listing: a JSON array, or an envelope holding one.
pub fn is_listing(json: &Value) -> bool {
    match json {
        Value::Array(_) => true,
        Value::Object(map) if !has_own_id(json) => {
            let mut found = Vec::new();
            collect(map, 0, &mut found);
            found
                .iter()
                .any(|f| f.known_key || f.items.first().is_some_and(Value::is_object))
        }
        _ => false,
    }
}

/// The key of a listed item as a path segment: the first of [`ID_FIELDS`] it carries.
pub fn item_id(item: &Value) -> Option<String> {
    item.as_object().and_then(id_value).and_then(path_segment)
}

/// The integer key of a listed item (a counter: `id`, `Id`, `pk`), if it has one.
pub fn item_integer_id(item: &Value) -> Option<u64> {
    let map = item.as_object()?;
    ["id", "pk"].iter().find_map(|f| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(f))
            .and_then(|(_, v)| v.as_u64())
    })
}

/// Whether an object answer (or the object one envelope down: `{"data": {...}}`) carries
/// `id` as its integer key.
pub fn carries_integer_id(json: &Value, id: u64) -> bool {
    item_integer_id(json) == Some(id)
        || json
            .as_object()
            .is_some_and(|map| map.values().any(|v| item_integer_id(v) == Some(id)))
}

/// A scalar that can stand in a path segment.
pub fn path_segment(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() && !s.contains(['/', '?', '#']) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ids(v: Value) -> Vec<String> {
        listed_items(&v).iter().filter_map(item_id).collect()
    }

    #[test]
    fn listings_are_found_inside_envelopes_of_any_shape_but_not_inside_entities() {
        assert_eq!(ids(json!([{"id": 1}, {"id": 2}])), ["1", "2"]);
        assert_eq!(ids(json!({"count": 1, "results": [{"id": "a"}]})), ["a"]);
        assert_eq!(
            ids(json!({"status": "ok", "meta": {"count": 1}, "data": {"receipts": [{"id": "r1"}]}})),
            ["r1"]
        );
        assert_eq!(ids(json!({"payload": {"page": {"entries": [{"uuid": "u"}]}}})), ["u"]);
        assert!(
            ids(json!({"id": 7, "groups": [{"id": 3}]})).is_empty(),
            "a user's groups are not a listing"
        );
        assert!(ids(json!({"results": [], "facets": {"tags": [{"id": 1}]}})).is_empty());
        assert!(ids(json!({"tags": ["a", "b"]})).is_empty(), "strings are not objects");
    }

    #[test]
    fn the_list_under_the_collections_noun_wins_over_facets_links_and_errors() {
        // Express: categories counted beside the orders; sorted keys put them first.
        let express = json!({"categories": [{"name": "mugs", "count": 2}], "orders": [{"_id": "65a1f0c2e4b0a1b2c3d4e5f6", "total": 9}]});
        assert_eq!(ids(express), ["65a1f0c2e4b0a1b2c3d4e5f6"]);
        // ASP.NET Core with PascalCase properties.
        let aspnet = json!({"TotalCount": 2, "Tickets": [{"Id": 41, "Title": "Printer"}, {"Id": 43, "Title": "VPN"}]});
        assert_eq!(ids(aspnet), ["41", "43"]);
        // Links and errors beside the list.
        let links =
            json!({"errors": [], "links": [{"rel": "next", "href": "/x?page=2"}], "posts": [{"slug": "hello-world"}]});
        assert_eq!(ids(links), ["hello-world"]);
        // HAL (Spring Data REST).
        let hal = json!({"_embedded": {"orders": [{"id": 5}]}, "_links": {"self": {"href": "/orders"}}, "page": {"size": 20}});
        assert_eq!(ids(hal), ["5"]);
        // JSON:API: the data, not the included related objects.
        let jsonapi = json!({"data": [{"type": "articles", "id": "1"}], "included": [{"type": "people", "id": "9"}]});
        assert_eq!(ids(jsonapi), ["1"]);
    }

    #[test]
    fn listings_are_recognised_and_integer_ids_read_in_any_case() {
        assert!(is_listing(&json!([])));
        assert!(is_listing(&json!({"count": 0, "results": []})));
        assert!(is_listing(&json!({"orders": [{"id": 1}]})));
        assert!(!is_listing(&json!({"id": 1, "roles": [{"id": 2}]})));
        assert!(!is_listing(&json!({"detail": "Not found."})));
        assert_eq!(item_integer_id(&json!({"Id": 7})), Some(7));
        assert_eq!(item_integer_id(&json!({"_id": "65a1"})), None);
        assert!(carries_integer_id(&json!({"status": "ok", "data": {"id": 3}}), 3));
        assert!(!carries_integer_id(&json!({"a": {"b": {"id": 3}}}), 3));
    }
}
