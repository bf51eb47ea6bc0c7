//! From a spec to the scan's inventory: the paths to request, the paths declared
//! protected, and object URLs built from ids the API listed (read by the one list reader,
//! [`crate::lists`]).

use serde_json::Value;
use url::Url;

use super::{ApiSpec, Security};
use crate::discovery::Inventory;
use crate::target::Target;

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

use crate::lists::path_segment;
pub use crate::lists::{item_id, listed_items};

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
