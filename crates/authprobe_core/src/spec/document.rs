//! Reading a spec document: JSON or YAML text into a `serde_json::Value`, and `$ref`s
//! resolved against it (and against sibling files for a spec read from disk).

use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::SpecError;

/// Deepest chain of `$ref`s followed (a ref to a ref to …) before giving up.
const MAX_REF_CHAIN: usize = 32;

/// Nodes a YAML spec may hold once its aliases are expanded, beyond twice its length:
/// text written out in full spells at most about one node per byte, while a few KB of
/// nested anchors and aliases (a "billion laughs" document, which a hostile target can
/// serve as its schema) expand to gigabytes.
const MAX_EXTRA_NODES: usize = 100_000;

/// Parses spec text: JSON when it looks like JSON, YAML otherwise (YAML is a superset).
pub fn parse_text(text: &str, source: &str) -> Result<Value, SpecError> {
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with('{') {
        serde_json::from_str(trimmed).map_err(|e| SpecError::Syntax {
            file: source.to_string(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })
    } else {
        let limit = trimmed.len().saturating_mul(2).saturating_add(MAX_EXTRA_NODES);
        if yaml_exceeds(trimmed, limit) {
            return Err(SpecError::TooLarge {
                file: source.to_string(),
                limit,
            });
        }
        serde_norway::from_str::<Value>(trimmed).map_err(|e| {
            let (line, column) = e.location().map(|l| (l.line(), l.column())).unwrap_or((0, 0));
            SpecError::Syntax {
                file: source.to_string(),
                line,
                column,
                message: e.to_string(),
            }
        })
    }
}

/// Whether the YAML `text` holds more than `limit` nodes with its aliases expanded
/// (counted without building them). Other errors are left to the real parse to report.
fn yaml_exceeds(text: &str, limit: usize) -> bool {
    use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
    use std::cell::Cell;

    #[derive(Clone, Copy)]
    struct Count<'a>(&'a Cell<usize>);

    impl Count<'_> {
        fn node<E: serde::de::Error>(self) -> Result<(), E> {
            match self.0.get().checked_sub(1) {
                Some(left) => {
                    self.0.set(left);
                    Ok(())
                }
                None => Err(E::custom("too many nodes")),
            }
        }
    }

    impl<'de> DeserializeSeed<'de> for Count<'_> {
        type Value = ();
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_any(self)
        }
    }

    impl<'de> Visitor<'de> for Count<'_> {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("any YAML value")
        }
        fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<(), E> {
            self.node()
        }
        fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<(), E> {
            self.node()
        }
        fn visit_i128<E: serde::de::Error>(self, _: i128) -> Result<(), E> {
            self.node()
        }
        fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<(), E> {
            self.node()
        }
        fn visit_u128<E: serde::de::Error>(self, _: u128) -> Result<(), E> {
            self.node()
        }
        fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<(), E> {
            self.node()
        }
        fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<(), E> {
            self.node()
        }
        fn visit_bytes<E: serde::de::Error>(self, _: &[u8]) -> Result<(), E> {
            self.node()
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<(), E> {
            self.node()
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
            self.node()
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_any(self)
        }
        fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_any(self)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            self.node()?;
            while seq.next_element_seed(self)?.is_some() {}
            Ok(())
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            self.node()?;
            while map.next_key_seed(self)?.is_some() {
                map.next_value_seed(self)?;
            }
            Ok(())
        }
    }

    let left = Cell::new(limit);
    let counted = Count(&left).deserialize(serde_norway::Deserializer::from_str(text));
    counted.is_err() && left.get() == 0
}

/// A spec and the other files its `$ref`s point into.
pub struct Document {
    pub root: Value,
    /// Where the root came from (file path or URL), for messages.
    pub source: String,
    /// The directory of a spec read from disk (external refs resolve against it).
    base_dir: Option<PathBuf>,
    external: HashMap<String, Value>,
}

impl Document {
    pub fn new(root: Value, source: &str, base_dir: Option<&Path>) -> Document {
        Document {
            root,
            source: source.to_string(),
            base_dir: base_dir.map(Path::to_path_buf),
            external: HashMap::new(),
        }
    }

    /// Checks every `$ref` in the document (and in the files it points to) and loads the
    /// external files, so that later resolution cannot fail. The error names the
    /// location of the first broken reference.
    pub fn check_refs(&mut self) -> Result<(), SpecError> {
        let mut refs = Vec::new();
        collect_refs(&self.root, "$", &mut refs);
        let mut i = 0;
        while i < refs.len() {
            let (reference, at) = refs[i].clone();
            i += 1;
            let (file, _) = split_ref(&reference);
            if !file.is_empty() && !self.external.contains_key(file) {
                let value = self.load_external(file, &at)?;
                collect_refs(&value, &format!("{file}#"), &mut refs);
                self.external.insert(file.to_string(), value);
            }
            self.lookup(&reference, &at)?;
        }
        Ok(())
    }

    fn load_external(&self, file: &str, at: &str) -> Result<Value, SpecError> {
        let broken = |why: String| SpecError::BrokenRef {
            reference: file.to_string(),
            at: at.to_string(),
            why,
        };
        let Some(dir) = &self.base_dir else {
            return Err(broken(
                "references to other documents are only followed for a spec read from a file".into(),
            ));
        };
        let path = dir.join(file);
        let text =
            std::fs::read_to_string(&path).map_err(|e| broken(format!("cannot read {}: {e}", path.display())))?;
        parse_text(&text, &path.display().to_string())
    }

    /// The value a `$ref` points to (one step).
    fn lookup(&self, reference: &str, at: &str) -> Result<&Value, SpecError> {
        let (file, pointer) = split_ref(reference);
        let doc = if file.is_empty() {
            &self.root
        } else {
            self.external.get(file).ok_or_else(|| SpecError::BrokenRef {
                reference: reference.to_string(),
                at: at.to_string(),
                why: "the document was not loaded".into(),
            })?
        };
        if pointer.is_empty() {
            return Ok(doc);
        }
        doc.pointer(pointer).ok_or_else(|| SpecError::BrokenRef {
            reference: reference.to_string(),
            at: at.to_string(),
            why: "nothing is at that location".into(),
        })
    }

    /// `value` with its own `$ref` followed (through chains of refs); other members are
    /// left as they are. Refs are known good after [`Document::check_refs`]; a cycle of
    /// refs that never reaches a value yields the last ref object.
    pub fn resolve<'a>(&'a self, mut value: &'a Value) -> &'a Value {
        for _ in 0..MAX_REF_CHAIN {
            let Some(reference) = value.get("$ref").and_then(Value::as_str) else {
                return value;
            };
            match self.lookup(reference, "") {
                Ok(next) => value = next,
                Err(_) => return value,
            }
        }
        value
    }
}

/// `other.yaml#/components/x` → (`other.yaml`, `/components/x`); `#/a` → (``, `/a`).
fn split_ref(reference: &str) -> (&str, &str) {
    match reference.split_once('#') {
        Some((file, pointer)) => (file, pointer),
        None => (reference, ""),
    }
}

/// Every `$ref` string in `value`, with the JSON path where it appears.
fn collect_refs(value: &Value, at: &str, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                out.push((r.clone(), at.to_string()));
            }
            for (k, v) in map {
                if k != "$ref" {
                    collect_refs(v, &format!("{at}.{k}"), out);
                }
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                collect_refs(v, &format!("{at}[{i}]"), out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn yaml_errors_name_the_line() {
        let err = parse_text("openapi: 3.0.0\npaths:\n  /a: [unclosed\n", "spec.yaml").unwrap_err();
        let SpecError::Syntax { line, file, .. } = &err else {
            panic!("{err}")
        };
        assert_eq!(file, "spec.yaml");
        assert!(*line >= 3, "{err}");
        assert!(err.to_string().contains("spec.yaml:"), "{err}");
    }

    #[test]
    fn yaml_whose_aliases_expand_to_millions_of_nodes_is_refused_before_it_is_built() {
        // 2 KB of nested anchors: 10^5 copies of a 1,000-item list (over 2 GB as values).
        let mut text = format!("openapi: 3.0.0\na: &a [{}]\n", ["1"; 1000].join(","));
        for (name, prev) in [("b", "a"), ("c", "b"), ("d", "c"), ("e", "d")] {
            let alias = format!("*{prev}");
            text += &format!("{name}: &{name} [{}]\n", [alias.as_str(); 10].join(","));
        }
        text += &format!("f: [{}]\n", ["*e"; 10].join(","));
        let err = parse_text(&text, "bomb.yaml").unwrap_err();
        assert!(matches!(err, SpecError::TooLarge { .. }), "{err}");
        assert!(err.to_string().contains("bomb.yaml"), "{err}");
        // Anchors used the ordinary way still parse.
        let reuse = "openapi: 3.0.0\nx: &r {description: ok}\npaths: {/a: {get: {responses: {'200': *r}}}}\n";
        assert_eq!(
            parse_text(reuse, "s").unwrap()["paths"]["/a"]["get"]["responses"]["200"]["description"],
            "ok"
        );
    }

    #[test]
    fn json_and_yaml_both_parse() {
        assert_eq!(parse_text("{\"a\": 1}", "x").unwrap(), json!({"a": 1}));
        assert_eq!(parse_text("a: 1\n", "x").unwrap(), json!({"a": 1}));
    }

    #[test]
    fn a_broken_ref_names_where_it_is() {
        let root = json!({"paths": {"/a": {"get": {"parameters": [{"$ref": "#/components/parameters/Nope"}]}}}});
        let mut doc = Document::new(root, "s", None);
        let err = doc.check_refs().unwrap_err().to_string();
        assert!(err.contains("#/components/parameters/Nope"), "{err}");
        assert!(err.contains("$.paths./a.get.parameters[0]"), "{err}");
    }

    #[test]
    fn chains_of_refs_resolve_and_cycles_stop() {
        let root = json!({
            "components": {"parameters": {"A": {"$ref": "#/components/parameters/B"}, "B": {"name": "id"}},
                            "schemas": {"Loop": {"$ref": "#/components/schemas/Loop"}}},
        });
        let mut doc = Document::new(root, "s", None);
        doc.check_refs().unwrap();
        let a = json!({"$ref": "#/components/parameters/A"});
        assert_eq!(doc.resolve(&a)["name"], "id");
        let l = json!({"$ref": "#/components/schemas/Loop"});
        assert!(doc.resolve(&l).get("$ref").is_some());
    }

    #[test]
    fn external_refs_load_sibling_files() {
        let dir = std::env::temp_dir().join(format!("authprobe-spec-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("params.yaml"), "Id:\n  name: id\n  in: path\n").unwrap();
        let root = json!({"x": {"$ref": "params.yaml#/Id"}});
        let mut doc = Document::new(root, "s", Some(&dir));
        doc.check_refs().unwrap();
        let x = json!({"$ref": "params.yaml#/Id"});
        assert_eq!(doc.resolve(&x)["in"], "path");
        let missing = json!({"y": {"$ref": "missing.yaml#/Id"}});
        let err = Document::new(missing, "s", Some(&dir))
            .check_refs()
            .unwrap_err()
            .to_string();
        assert!(err.contains("missing.yaml") && err.contains("$.y"), "{err}");
    }
}
