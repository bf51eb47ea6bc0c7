//! Who a listed object belongs to, and whether its owner keeps it to themself, read from
//! the object itself: an owner field (`owner`, `user`, `author`, `created_by`, `user_id`,
//! in any case or style, holding a name, an address, an id or a nested user record) naming
//! one of the scan's identities, and a visibility field saying private or draft. The
//! checks ask by meaning (whose, private?), never by field name.

use serde_json::{Map, Value};

/// Fields naming an object's owner, compared after lowercasing and dropping `_`/`-`
/// (`created_by`, `createdBy` and `CreatedBy` are one).
pub const OWNER_FIELDS: &[&str] = &[
    "owner",
    "ownerid",
    "ownername",
    "user",
    "userid",
    "username",
    "author",
    "authorid",
    "authorname",
    "createdby",
    "creator",
    "creatorid",
    "postedby",
    "submittedby",
];

/// Fields of a nested user record that name the user.
const USER_NAME_FIELDS: &[&str] = &["username", "email", "id", "_id", "pk", "login", "name"];

/// Visibility fields and the values that keep an object to its owner: (field, private
/// values) for string fields; boolean fields are private when `true` (`private`,
/// `is_private`, `draft`) or when `false` (`public`, `is_public`, `published`).
const PRIVATE_WHEN_TRUE: &[&str] = &["private", "isprivate", "draft", "isdraft", "hidden", "ishidden"];
const PRIVATE_WHEN_FALSE: &[&str] = &["public", "ispublic", "published", "ispublished", "shared", "isshared"];
const VISIBILITY_FIELDS: &[&str] = &["visibility", "status", "state", "privacy", "access"];
const PRIVATE_VALUES: &[&str] = &[
    "private",
    "draft",
    "unpublished",
    "hidden",
    "owner",
    "only_me",
    "onlyme",
];

fn normalised(key: &str) -> String {
    key.chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The names an object's owner fields give (a name, an address or an id; a nested user
/// record's username, address and id), as written.
pub fn owner_names(item: &Value) -> Vec<String> {
    let Some(map) = item.as_object() else { return Vec::new() };
    let mut out = Vec::new();
    for (key, value) in map {
        if !OWNER_FIELDS.contains(&normalised(key).as_str()) {
            continue;
        }
        match value {
            Value::Object(user) => out.extend(user_names(user)),
            other => out.extend(scalar(other)),
        }
    }
    out
}

fn user_names(user: &Map<String, Value>) -> Vec<String> {
    user.iter()
        .filter(|(k, _)| USER_NAME_FIELDS.contains(&normalised(k).as_str()))
        .filter_map(|(_, v)| scalar(v))
        .collect()
}

/// Whether `item`'s owner fields name the identity known by `names` (its username, its
/// address, its id from the identity endpoint), compared without case.
pub fn owned_by(item: &Value, names: &[String]) -> bool {
    let owners = owner_names(item);
    owners
        .iter()
        .any(|o| names.iter().any(|n| !n.is_empty() && n.eq_ignore_ascii_case(o)))
}

/// Whether `item` says it is kept to its owner: private, a draft, unpublished, hidden.
pub fn is_private(item: &Value) -> bool {
    let Some(map) = item.as_object() else { return false };
    map.iter().any(|(key, value)| {
        let key = normalised(key);
        match value {
            Value::Bool(b) => {
                (*b && PRIVATE_WHEN_TRUE.contains(&key.as_str())) || (!*b && PRIVATE_WHEN_FALSE.contains(&key.as_str()))
            }
            Value::String(s) => {
                VISIBILITY_FIELDS.contains(&key.as_str()) && PRIVATE_VALUES.contains(&s.to_ascii_lowercase().as_str())
            }
            _ => false,
        }
    })
}

/// The names an identity is known by in its own record (the identity endpoint's answer):
/// its username, address and id fields.
pub fn names_in_record(record: &Value) -> Vec<String> {
    let Some(map) = record.as_object() else {
        return Vec::new();
    };
    let mut out = user_names(map);
    // `{"user": {...}}` envelopes.
    for inner in map.values().filter_map(Value::as_object) {
        out.extend(user_names(inner));
    }
    out.retain(|n| n.len() >= 2);
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn owners_are_read_from_names_ids_and_nested_records() {
        let names = vec!["alice".to_string(), "7".to_string()];
        assert!(owned_by(&json!({"title": "x", "author": "Alice"}), &names));
        assert!(owned_by(&json!({"created_by": 7}), &names));
        assert!(owned_by(&json!({"userId": "7"}), &names));
        assert!(owned_by(&json!({"user": {"id": 7, "username": "alice"}}), &names));
        assert!(!owned_by(&json!({"user": {"id": 8, "username": "bob"}}), &names));
        assert!(
            !owned_by(&json!({"title": "alice", "id": 7}), &names),
            "only owner fields count"
        );
    }

    #[test]
    fn private_and_draft_objects_say_so() {
        assert!(is_private(&json!({"private": true})));
        assert!(is_private(&json!({"is_public": false})));
        assert!(is_private(&json!({"status": "draft"})));
        assert!(is_private(&json!({"visibility": "Private"})));
        assert!(is_private(&json!({"published": false})));
        assert!(!is_private(&json!({"published": true, "status": "published"})));
        assert!(!is_private(&json!({"status": "open", "private_notes_count": 2})));
    }

    #[test]
    fn an_identitys_record_names_it() {
        let names = names_in_record(&json!({"success": true, "user": {"_id": "65a1", "username": "alice"}}));
        assert!(
            names.contains(&"alice".to_string()) && names.contains(&"65a1".to_string()),
            "{names:?}"
        );
    }
}
