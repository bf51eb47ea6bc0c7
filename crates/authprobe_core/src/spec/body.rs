//! What an operation's request body takes, as its spec says: field names, which are
//! required, their types, formats and examples. Requests the scan makes to a spec'd
//! endpoint (password-reset bursts) use these, so that they reach the logic being tested
//! instead of the request validator: an answer of validation errors proves nothing.

use serde_json::{Map, Value};

use super::document::Document;

/// One field of a request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyField {
    pub name: String,
    pub required: bool,
    /// The schema's `type` (`string`, `integer`, `boolean`, …), `string` when absent.
    pub kind: String,
    pub format: Option<String>,
    /// The schema's `example`, `default` or first `enum` value.
    pub example: Option<Value>,
    /// The schema's `minLength`, for a string.
    pub min_length: Option<u64>,
}

/// A request body's schema.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BodySchema {
    /// `application/x-www-form-urlencoded` (or Swagger 2.0 `formData`) rather than JSON.
    pub form: bool,
    pub fields: Vec<BodyField>,
}

impl BodySchema {
    /// The field to carry `role`'s value: the first field named one of `names`.
    pub fn field_named(&self, names: &[&str]) -> Option<&BodyField> {
        names
            .iter()
            .find_map(|n| self.fields.iter().find(|f| f.name.eq_ignore_ascii_case(n)))
    }

    /// The first required string field, when it is the only one.
    pub fn lone_required_string(&self) -> Option<&BodyField> {
        let mut required = self.fields.iter().filter(|f| f.required && f.kind == "string");
        let first = required.next()?;
        required.next().is_none().then_some(first)
    }

    /// Values for every required field but `except`, as the schema allows them.
    pub fn filler(&self, except: &str) -> Vec<(String, Value)> {
        self.fields
            .iter()
            .filter(|f| f.required && f.name != except)
            .map(|f| (f.name.clone(), f.placeholder()))
            .collect()
    }
}

impl BodyField {
    /// A harmless value of the field's type: its example, else one made for its format.
    pub fn placeholder(&self) -> Value {
        if let Some(example) = &self.example {
            return example.clone();
        }
        match (self.kind.as_str(), self.format.as_deref()) {
            ("integer" | "number", _) => Value::from(1),
            ("boolean", _) => Value::Bool(false),
            ("array", _) => Value::Array(Vec::new()),
            ("object", _) => Value::Object(Map::new()),
            (_, Some("email")) => Value::from("authprobe@example.invalid"),
            (_, Some("uri" | "url")) => Value::from("https://example.invalid/"),
            (_, Some("date")) => Value::from("2000-01-01"),
            (_, Some("date-time")) => Value::from("2000-01-01T00:00:00Z"),
            (_, Some("uuid")) => Value::from("00000000-0000-4000-8000-000000000000"),
            _ => Value::from("authprobe"),
        }
    }
}

/// The request body an operation declares: OpenAPI 3's `requestBody` (JSON, else a form),
/// or Swagger 2.0's `in: body` / `in: formData` parameters.
pub(super) fn body_schema(doc: &Document, op: &Value, params: &[&Value]) -> Option<BodySchema> {
    let mut body = BodySchema::default();
    if let Some(content) = op
        .get("requestBody")
        .map(|b| doc.resolve(b))
        .and_then(|b| b.get("content"))
    {
        let (schema, form) = if let Some(json) = content.get("application/json") {
            (json.get("schema"), false)
        } else if let Some(f) = content.get("application/x-www-form-urlencoded") {
            (f.get("schema"), true)
        } else {
            (None, false)
        };
        body.form = form;
        if let Some(schema) = schema {
            collect_fields(doc, doc.resolve(schema), &mut body.fields, 0);
        }
    }
    for p in params {
        match p.get("in").and_then(Value::as_str) {
            Some("body") => {
                if let Some(schema) = p.get("schema") {
                    collect_fields(doc, doc.resolve(schema), &mut body.fields, 0);
                }
            }
            Some("formData") => {
                body.form = true;
                if let Some(name) = p.get("name").and_then(Value::as_str) {
                    let required = p.get("required").and_then(Value::as_bool).unwrap_or(false);
                    body.fields.push(field(name, p, required));
                }
            }
            _ => {}
        }
    }
    (!body.fields.is_empty()).then_some(body)
}

fn collect_fields(doc: &Document, schema: &Value, out: &mut Vec<BodyField>, depth: usize) {
    if depth > 4 {
        return;
    }
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        for (name, prop) in props {
            let prop = doc.resolve(prop);
            let read_only = prop.get("readOnly").and_then(Value::as_bool).unwrap_or(false);
            if !read_only && !out.iter().any(|f| &f.name == name) {
                out.push(field(name, prop, required.contains(&name.as_str())));
            }
        }
    }
    for part in schema.get("allOf").and_then(Value::as_array).into_iter().flatten() {
        collect_fields(doc, doc.resolve(part), out, depth + 1);
    }
}

fn field(name: &str, schema: &Value, required: bool) -> BodyField {
    let text = |k: &str| schema.get(k).and_then(Value::as_str).map(str::to_string);
    let example = schema
        .get("example")
        .or_else(|| schema.get("default"))
        .or_else(|| schema.get("enum").and_then(|e| e.get(0)))
        .filter(|v| !v.is_null())
        .cloned();
    BodyField {
        name: name.to_string(),
        required,
        kind: text("type").unwrap_or_else(|| "string".into()),
        format: text("format"),
        example,
        min_length: schema.get("minLength").and_then(Value::as_u64),
    }
}

#[cfg(test)]
mod tests {
    use crate::spec::ApiSpec;
    use serde_json::json;

    fn reset_body(spec: &str) -> super::BodySchema {
        let api = ApiSpec::from_text(spec, "t").unwrap();
        let op = api.operations.iter().find(|o| o.method == "POST").unwrap();
        op.body.clone().expect("a body")
    }

    #[test]
    fn an_openapi_3_body_names_its_fields_required_types_and_formats() {
        let body = reset_body(
            r##"{"openapi": "3.0.0", "paths": {"/reset-password": {"post": {"requestBody": {"content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Reset"}}}}}}},
                "components": {"schemas": {"Reset": {"type": "object", "required": ["username", "channel"],
                "properties": {"username": {"type": "string"}, "channel": {"type": "string", "enum": ["sms", "mail"]},
                "id": {"type": "integer", "readOnly": true}, "note": {"type": "string"}}}}}}"##,
        );
        assert!(!body.form);
        let mut names: Vec<&str> = body.fields.iter().map(|f| f.name.as_str()).collect();
        names.sort_unstable();
        assert_eq!(names, ["channel", "note", "username"], "read-only fields are not sent");
        assert_eq!(body.field_named(&["email", "username"]).unwrap().name, "username");
        assert_eq!(body.filler("username"), vec![("channel".to_string(), json!("sms"))]);
        assert!(body.lone_required_string().is_none());
    }

    #[test]
    fn a_swagger_2_form_body_is_read_from_its_parameters() {
        let body = reset_body(
            r#"{"swagger": "2.0", "paths": {"/reset": {"post": {"parameters": [
                {"name": "email", "in": "formData", "type": "string", "format": "email", "required": true}]}}}}"#,
        );
        assert!(body.form);
        assert_eq!(body.lone_required_string().unwrap().name, "email");
        assert_eq!(body.fields[0].placeholder(), json!("authprobe@example.invalid"));
    }
}
