//! From a spec to the scan's inventory: the paths to request, the paths declared
//! protected, and object URLs built from ids the API listed.

use serde_json::Value;
use url::Url;

use super::{ApiSpec, Security};
use crate::discovery::Inventory;
use crate::target::Target;

/// Item fields tried for a lone path parameter whose name the list items do not carry.
const ID_FIELDS: &[&str] = &["id", "pk", "uuid", "public_id", "slug", "key"];

/// Every operation's concrete path, once (any method: the GET of a POST-only login path
/// tells discovery what it is).
pub fn seed_paths(spec: &ApiSpec) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for op in spec.operations.iter().filter(|o| !o.changes_state()) {
        if let Some(path) = op.concrete_path() {
            if seen.insert(path.clone()) {
                out.push(path);
            }
        }
    }
    out
}

/// Protected-path patterns (`/api/notes/*/`) of the GET operations whose every security
/// alternative needs a credential.
pub fn protected_patterns(spec: &ApiSpec) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for op in spec.operations.iter().filter(|o| o.method == "GET") {
        if matches!(op.security, Security::Required(_)) {
            let pattern = op.pattern();
            if seen.insert(pattern.clone()) {
                out.push(pattern);
            }
        }
    }
    out
}

/// URLs for templated GET operations the spec gives no example for, with the ids the
/// parent collection listed (`/api/notes/{id}/` ← the `id` of `/api/notes/`'s first items).
pub fn urls_from_lists(spec: &ApiSpec, inventory: &Inventory, target: &Target) -> Vec<Url> {
    let mut out = Vec::new();
    for op in spec
        .operations
        .iter()
        .filter(|o| o.method == "GET" && !o.changes_state())
    {
        let Some(brace) = op.path.find('{') else { continue };
        let parent = &op.path[..brace];
        let Some(collection) = inventory.endpoints.iter().find(|e| e.path() == parent) else {
            continue;
        };
        let listed = collection
            .authenticated
            .as_ref()
            .filter(|r| r.is_success())
            .or_else(|| collection.anonymous_ok().filter(|r| r.is_success()))
            .and_then(|r| r.json());
        let Some(json) = listed else { continue };
        let items = listed_items(&json);
        for item in items.iter().take(2) {
            if let Some(url) = fill(op, item).and_then(|p| target.join(&p)) {
                if !out.contains(&url) {
                    out.push(url);
                }
            }
        }
    }
    out
}

/// The items of a listing: a top-level array, or the first array of objects inside an
/// envelope at any depth (up to [`MAX_ENVELOPE_DEPTH`]): under a paginating or enveloping
/// key first (`results`, `data`, `items`, …), then under any other key
/// (`{"status": "ok", "data": {"receipts": [...]}}`). An object that carries an id of its
/// own is an entity, not an envelope: its arrays (a user's groups) are not listings.
pub fn listed_items(json: &Value) -> Vec<Value> {
    match json {
        Value::Array(items) => items.clone(),
        _ => enveloped_list(json, 0).cloned().unwrap_or_default(),
    }
}

/// How deep inside envelopes a listing is looked for.
const MAX_ENVELOPE_DEPTH: usize = 4;

fn enveloped_list(value: &Value, depth: usize) -> Option<&Vec<Value>> {
    const KEYS: &[&str] = &["results", "data", "items", "objects", "records", "content"];
    let map = value.as_object()?;
    if depth >= MAX_ENVELOPE_DEPTH || ID_FIELDS.iter().any(|f| map.contains_key(*f)) {
        return None;
    }
    let known = KEYS.iter().filter_map(|k| map.get(*k)).map(|v| (true, v));
    let others = map
        .iter()
        .filter(|(k, _)| !KEYS.contains(&k.as_str()))
        .map(|(_, v)| (false, v));
    for (is_known, inner) in known.chain(others) {
        match inner {
            // An empty `results` is an empty listing; under another key only objects are.
            Value::Array(items) if is_known || items.first().is_some_and(Value::is_object) => return Some(items),
            Value::Object(_) => {
                if let Some(items) = enveloped_list(inner, depth + 1) {
                    return Some(items);
                }
            }
            _ => {}
        }
    }
    None
}

/// The id of a listed item: the first of [`ID_FIELDS`] it carries, as a path segment.
pub fn item_id(item: &Value) -> Option<String> {
    ID_FIELDS.iter().find_map(|f| item.get(*f).and_then(path_segment))
}

/// A scalar that can stand in a path segment.
fn path_segment(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() && !s.contains(['/', '?', '#']) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Spec operations a GET of which would change state ([`super::Operation::changes_state`]):
/// never requested (unless the config lists the path), reported as not probed.
pub fn acting_operations(spec: &ApiSpec) -> impl Iterator<Item = &super::Operation> {
    spec.operations.iter().filter(|o| o.changes_state())
}

/// The operation's path with each parameter taken from a listed item (a lone parameter
/// takes the item's id whatever it is named).
pub fn fill(op: &super::Operation, item: &Value) -> Option<String> {
    let mut path = op.path.clone();
    for param in &op.params {
        let value = item
            .get(&param.name)
            .and_then(path_segment)
            .or_else(|| (op.params.len() == 1).then(|| item_id(item)).flatten())?;
        path = path.replace(&format!("{{{}}}", param.name), &value);
    }
    (!path.contains('{')).then_some(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec() -> ApiSpec {
        ApiSpec::from_text(
            r#"{"openapi": "3.0.0", "paths": {
                "/api/notes/": {"get": {"security": [{"jwt": []}]}},
                "/api/notes/{note_pk}/": {"get": {"security": [{"jwt": []}],
                    "parameters": [{"name": "note_pk", "in": "path"}]}},
                "/api/token/": {"post": {"security": []}},
                "/api/public/": {"get": {"security": [{"jwt": []}, {}]}}}}"#,
            "s",
        )
        .unwrap()
    }

    #[test]
    fn seeds_are_the_concrete_paths_and_only_required_gets_are_protected() {
        let s = spec();
        let mut seeds = seed_paths(&s);
        seeds.sort();
        assert_eq!(seeds, vec!["/api/notes/", "/api/public/", "/api/token/"]);
        let mut protected = protected_patterns(&s);
        protected.sort();
        assert_eq!(protected, vec!["/api/notes/", "/api/notes/*/"]);
    }

    #[test]
    fn listings_are_found_inside_envelopes_of_any_shape_but_not_inside_entities() {
        let ids = |v: Value| listed_items(&v).iter().filter_map(item_id).collect::<Vec<_>>();
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
    fn a_lone_parameter_takes_the_items_id() {
        let s = spec();
        let op = s.operations.iter().find(|o| o.path.contains('{')).unwrap();
        assert_eq!(
            fill(op, &json!({"id": "abc", "title": "x"})).as_deref(),
            Some("/api/notes/abc/")
        );
        assert_eq!(fill(op, &json!({"note_pk": 7})).as_deref(), Some("/api/notes/7/"));
        assert_eq!(fill(op, &json!({"title": "x"})), None);
    }
}
