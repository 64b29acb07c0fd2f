//! Reply message → JSON bytes, with the API's JSON options and, when `response_body` names a field, only
//! that field's JSON value.

use base64::Engine;
use base64::prelude::BASE64_STANDARD;
use prost_reflect::{
    DynamicMessage, FieldDescriptor, Kind, MapKey, MessageDescriptor, SerializeOptions, Value,
};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

use super::PlanError;
use crate::error::{ErrorKind, GatewayError};

/// Fixed per route: the serializer options and the field to return, if not the whole message.
#[derive(Debug, Clone)]
pub struct ResponsePlan {
    options: SerializeOptions,
    field: Option<(FieldDescriptor, Kind)>,
    stream: api_model::StreamFormat,
}

impl ResponsePlan {
    /// `response_body`: `""` = the whole message, else a top-level field name of the output message.
    pub fn compile(
        output: &MessageDescriptor,
        response_body: &str,
        json: api_model::JsonOptions,
    ) -> Result<ResponsePlan, PlanError> {
        // 64-bit integers as strings and enums by name are what the proto3 JSON mapping prescribes.
        let options = SerializeOptions::new()
            .skip_default_fields(!json.emit_defaults)
            .use_proto_field_name(json.proto_field_names)
            .stringify_64_bit_integers(true)
            .use_enum_numbers(false);
        let field = match response_body {
            "" => None,
            name => {
                let field = output
                    .get_field_by_name(name)
                    .or_else(|| output.get_field_by_json_name(name))
                    .ok_or_else(|| {
                        PlanError(format!(
                            "response_body `{name}`: `{}` has no top-level field `{name}`",
                            output.full_name()
                        ))
                    })?;
                let kind = field.kind();
                Some((field, kind))
            }
        };
        Ok(ResponsePlan {
            options,
            field,
            stream: json.stream,
        })
    }

    /// How a server-streaming reply of this route frames its messages.
    pub fn stream_format(&self) -> api_model::StreamFormat {
        self.stream
    }

    /// JSON bytes of the reply (or of its `response_body` field; an unset field renders its default).
    pub fn render(&self, message: &DynamicMessage) -> Result<Vec<u8>, GatewayError> {
        let mut serializer = serde_json::Serializer::new(Vec::with_capacity(256));
        let rendered = match &self.field {
            None => message.serialize_with_options(&mut serializer, &self.options),
            Some((field, kind)) => {
                let value = message.get_field(field);
                let json = FieldJson {
                    value: &value,
                    kind,
                    map: field.is_map(),
                    options: &self.options,
                };
                json.serialize(&mut serializer)
            }
        };
        // Only a value the JSON mapping cannot express (e.g. a Timestamp out of range) fails here, and
        // only the backend can have produced it.
        rendered.map_err(|err| {
            GatewayError::new(
                ErrorKind::BadGateway,
                format!("the backend's reply cannot be rendered as JSON: {err}"),
            )
        })?;
        Ok(serializer.into_inner())
    }

    /// Render any message (e.g. `google.rpc.Status` details) with this plan's JSON options.
    pub fn options(&self) -> &SerializeOptions {
        &self.options
    }
}

/// One field's value in proto3 JSON. prost-reflect serializes whole messages only; this covers a field on
/// its own with the same rules (and hands messages back to prost-reflect).
struct FieldJson<'a> {
    value: &'a Value,
    /// The element kind for lists; the entry message for maps.
    kind: &'a Kind,
    map: bool,
    options: &'a SerializeOptions,
}

impl Serialize for FieldJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let element = |value| FieldJson {
            value,
            kind: self.kind,
            map: false,
            options: self.options,
        };
        match self.value {
            Value::List(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&element(item))?;
                }
                seq.end()
            }
            Value::Map(entries) => {
                let value_kind = match self.kind {
                    Kind::Message(entry) if self.map => entry.map_entry_value_field().kind(),
                    _ => {
                        return Err(serde::ser::Error::custom(
                            "a map value without a map entry type",
                        ));
                    }
                };
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for (key, value) in entries {
                    let value = FieldJson {
                        value,
                        kind: &value_kind,
                        map: false,
                        options: self.options,
                    };
                    map.serialize_entry(&MapKeyJson(key), &value)?;
                }
                map.end()
            }
            Value::Message(message) => message.serialize_with_options(serializer, self.options),
            Value::Bool(value) => serializer.serialize_bool(*value),
            Value::I32(value) => serializer.serialize_i32(*value),
            Value::U32(value) => serializer.serialize_u32(*value),
            Value::I64(value) => serializer.collect_str(value),
            Value::U64(value) => serializer.collect_str(value),
            Value::F32(value) => float(serializer, f64::from(*value)),
            Value::F64(value) => float(serializer, *value),
            Value::String(value) => serializer.serialize_str(value),
            Value::Bytes(value) => serializer.serialize_str(&BASE64_STANDARD.encode(value)),
            Value::EnumNumber(number) => match self.kind {
                Kind::Enum(desc) if desc.full_name() == "google.protobuf.NullValue" => {
                    serializer.serialize_unit()
                }
                Kind::Enum(desc) => match desc.get_value(*number) {
                    Some(value) => serializer.serialize_str(value.name()),
                    // An enum number newer than the schema: the number is all there is.
                    None => serializer.serialize_i32(*number),
                },
                _ => serializer.serialize_i32(*number),
            },
        }
    }
}

/// Non-finite floats have string spellings in proto3 JSON; JSON numbers cannot hold them.
fn float<S: Serializer>(serializer: S, value: f64) -> Result<S::Ok, S::Error> {
    if value.is_finite() {
        serializer.serialize_f64(value)
    } else if value.is_nan() {
        serializer.serialize_str("NaN")
    } else if value > 0.0 {
        serializer.serialize_str("Infinity")
    } else {
        serializer.serialize_str("-Infinity")
    }
}

/// JSON object keys are strings, whatever the map's key type.
struct MapKeyJson<'a>(&'a MapKey);

impl Serialize for MapKeyJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            MapKey::Bool(value) => serializer.collect_str(value),
            MapKey::I32(value) => serializer.collect_str(value),
            MapKey::I64(value) => serializer.collect_str(value),
            MapKey::U32(value) => serializer.collect_str(value),
            MapKey::U64(value) => serializer.collect_str(value),
            MapKey::String(value) => serializer.serialize_str(value),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::tests::{message_from_json, pool};
    use api_model::JsonOptions;

    const REPLY: &str = r#"{"book": {"id": "7", "title": "Dune", "pageCount": "412", "genre": "FICTION"},
        "tags": ["a", "b"], "score": 0.5, "labels": {"k": "v"}}"#;

    /// (response_body, emit_defaults, proto_field_names, reply JSON, expected JSON). With emit_defaults,
    /// prost-reflect still omits unset message fields (it has no default to show but `null`).
    #[test]
    fn renders_with_the_options_and_the_response_body() {
        let table: &[(&str, bool, bool, &str, &str)] = &[
            ("", false, false, REPLY, REPLY),
            (
                "book",
                false,
                false,
                REPLY,
                r#"{"id":"7","title":"Dune","pageCount":"412","genre":"FICTION"}"#,
            ),
            (
                "book",
                false,
                true,
                REPLY,
                r#"{"id":"7","title":"Dune","page_count":"412","genre":"FICTION"}"#,
            ),
            (
                "book",
                true,
                false,
                r#"{"book": {"id": "7"}}"#,
                r#"{"id":"7","title":"","pageCount":"0","genre":"GENRE_UNSPECIFIED"}"#,
            ),
            ("book", false, false, "{}", "{}"),
            ("tags", false, false, REPLY, r#"["a","b"]"#),
            ("tags", false, false, "{}", "[]"),
            ("labels", false, false, REPLY, r#"{"k":"v"}"#),
            ("score", false, false, REPLY, "0.5"),
            ("score", false, false, "{}", "0.0"),
            ("next_page_token", false, false, "{}", r#""""#),
            ("nextPageToken", false, false, "{}", r#""""#),
            (
                "",
                true,
                true,
                "{}",
                r#"{"tags":[],"score":0.0,"labels":{},"next_page_token":"","total":"0"}"#,
            ),
        ];
        let output = pool()
            .get_message_by_name("test.v1.BookReply")
            .expect("message");
        for (response_body, emit_defaults, proto_field_names, reply, expected) in table {
            let json = JsonOptions {
                emit_defaults: *emit_defaults,
                proto_field_names: *proto_field_names,
                ..JsonOptions::default()
            };
            let plan = ResponsePlan::compile(&output, response_body, json).expect("compiles");
            let message = message_from_json(&output, reply);
            let rendered = plan.render(&message).expect("renders");
            let got: serde_json::Value = serde_json::from_slice(&rendered).expect("valid JSON");
            let want: serde_json::Value = serde_json::from_str(expected).expect("expected JSON");
            assert_eq!(
                got, want,
                "response_body `{response_body}` emit_defaults {emit_defaults}"
            );
        }
    }

    #[test]
    fn an_unknown_response_body_field_fails_at_compile_time() {
        let output = pool()
            .get_message_by_name("test.v1.BookReply")
            .expect("message");
        let err = ResponsePlan::compile(&output, "book.title", JsonOptions::default())
            .expect_err("nested");
        assert!(err.0.contains("no top-level field `book.title`"), "{err}");
    }
}
