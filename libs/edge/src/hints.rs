//! Which field a poem-openapi body error is about.
//!
//! poem-openapi's parse errors name the object type but not the field for a missing or
//! mistyped field ("Type \"string\" expects an input value. (occurred while parsing
//! \"Register\")"). [`FieldHints`], built once from the service's OpenAPI document, knows each
//! object's required fields and property types; with the buffered request body the edge then
//! names the field in `details.field`.

use std::collections::HashMap;

use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    String,
    Integer,
    Number,
    Boolean,
    Array,
    Object,
}

impl Kind {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "string" => Kind::String,
            "integer" => Kind::Integer,
            "number" => Kind::Number,
            "boolean" => Kind::Boolean,
            "array" => Kind::Array,
            "object" => Kind::Object,
            _ => return None,
        })
    }

    fn accepts(self, v: &Value) -> bool {
        match self {
            Kind::String => v.is_string(),
            Kind::Integer => v.is_i64() || v.is_u64(),
            Kind::Number => v.is_number(),
            Kind::Boolean => v.is_boolean(),
            Kind::Array => v.is_array(),
            Kind::Object => v.is_object(),
        }
    }
}

#[derive(Debug, Clone)]
struct Schema {
    required: Vec<String>,
    kinds: Vec<(String, Kind)>,
}

/// What went wrong with one field of a JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldProblem {
    /// The field is required and absent or null.
    Missing(String),
    /// The field is present with a value of the wrong JSON type.
    WrongType(String),
}

/// Required fields and property types per schema name, from an OpenAPI 3 document.
#[derive(Debug, Clone, Default)]
pub struct FieldHints {
    schemas: HashMap<String, Schema>,
}

impl FieldHints {
    /// Read `components.schemas` of an OpenAPI JSON document (`OpenApiService::spec()`).
    /// An unreadable document gives empty hints.
    pub fn from_openapi_json(spec: &str) -> Self {
        let Ok(doc) = serde_json::from_str::<Value>(spec) else {
            return Self::default();
        };
        let mut schemas = HashMap::new();
        let Some(all) = doc
            .pointer("/components/schemas")
            .and_then(Value::as_object)
        else {
            return Self::default();
        };
        for (name, schema) in all {
            let required = schema
                .get("required")
                .and_then(Value::as_array)
                .map(|r| {
                    r.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            let kinds = schema
                .get("properties")
                .and_then(Value::as_object)
                .map(|props| {
                    props
                        .iter()
                        .filter_map(|(field, p)| {
                            let kind = p
                                .get("type")
                                .and_then(Value::as_str)
                                .and_then(Kind::parse)?;
                            Some((field.clone(), kind))
                        })
                        .collect()
                })
                .unwrap_or_default();
            schemas.insert(name.clone(), Schema { required, kinds });
        }
        Self { schemas }
    }

    /// Merge another document's hints into these (for services combining several documents).
    pub fn merge(&mut self, other: FieldHints) {
        self.schemas.extend(other.schemas);
    }

    /// The first problem of `body` against schema `name`: a missing required field first, then
    /// a property of the wrong JSON type.
    pub fn problem(&self, name: &str, body: &Value) -> Option<FieldProblem> {
        let schema = self.schemas.get(name)?;
        let obj = body.as_object()?;
        for field in &schema.required {
            if obj.get(field).is_none_or(Value::is_null) {
                return Some(FieldProblem::Missing(field.clone()));
            }
        }
        schema.kinds.iter().find_map(|(field, kind)| {
            let v = obj.get(field)?;
            (!v.is_null() && !kind.accepts(v)).then(|| FieldProblem::WrongType(field.clone()))
        })
    }
}

/// The text between the first pair of backticks after `marker` in `s`.
fn backticked_after<'a>(s: &'a str, marker: &str) -> Option<&'a str> {
    let rest = &s[s.find(marker)? + marker.len()..];
    let start = rest.find('`')? + 1;
    let len = rest[start..].find('`')?;
    Some(&rest[start..start + len])
}

/// A field named by poem-openapi itself (validators, unknown or read-only fields).
pub(crate) fn field_named_in(reason: &str) -> Option<String> {
    for marker in ["field ", "properties "] {
        if let Some(f) = backticked_after(reason, marker) {
            return Some(f.to_owned());
        }
    }
    None
}

/// The outermost type in a poem-openapi message: the last `(occurred while parsing "X")`, or
/// `failed to parse "X"` when nothing was propagated.
pub(crate) fn outer_type(reason: &str) -> Option<&str> {
    const PROPAGATED: &str = "(occurred while parsing \"";
    const DIRECT: &str = "failed to parse \"";
    let idx = reason
        .rfind(PROPAGATED)
        .map(|i| i + PROPAGATED.len())
        .or_else(|| reason.find(DIRECT).map(|i| i + DIRECT.len()))?;
    let rest = &reason[idx..];
    Some(&rest[..rest.find('"')?])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SPEC: &str = r#"{"components":{"schemas":{"Reg":{"type":"object",
        "required":["email","age"],
        "properties":{"email":{"type":"string"},"age":{"type":"integer"},"nick":{"type":"string"}}}}}}"#;

    #[test]
    fn finds_missing_then_wrong_type() {
        let h = FieldHints::from_openapi_json(SPEC);
        assert_eq!(
            h.problem("Reg", &json!({"age": 3})),
            Some(FieldProblem::Missing("email".into()))
        );
        assert_eq!(
            h.problem("Reg", &json!({"email": "a", "age": "x"})),
            Some(FieldProblem::WrongType("age".into()))
        );
        assert_eq!(
            h.problem("Reg", &json!({"email": "a", "age": 1, "nick": 5})),
            Some(FieldProblem::WrongType("nick".into()))
        );
        assert_eq!(h.problem("Reg", &json!({"email": "a", "age": 1})), None);
    }

    #[test]
    fn reads_poem_openapi_messages() {
        let m = r#"Type "string" expects an input value. (occurred while parsing "Inner") (occurred while parsing "Reg")"#;
        assert_eq!(outer_type(m), Some("Reg"));
        assert_eq!(
            outer_type(r#"failed to parse "Reg": field `email` verification failed. maxLength(3)"#),
            Some("Reg")
        );
        assert_eq!(
            field_named_in(r#"failed to parse "Reg": field `email` verification failed."#)
                .as_deref(),
            Some("email")
        );
        assert_eq!(field_named_in("expected value at line 1 column 1"), None);
    }
}
