//! Text to a field value, for values that arrive as text: path variables, query parameters, headers and
//! form fields. The accepted forms are those of the proto3 JSON mapping for a JSON string.

use base64::Engine;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use prost_reflect::{
    DynamicMessage, EnumDescriptor, FieldDescriptor, Kind, MessageDescriptor, Value,
};
use serde::de::value::{Error as TextError, StrDeserializer};

use super::integer::IntKind;

/// How text becomes a value of one field type; chosen once per target field.
#[derive(Debug, Clone)]
pub(crate) enum Scalar {
    Int32,
    Int64,
    Uint32,
    Uint64,
    Float,
    Double,
    Bool,
    String,
    Bytes,
    Enum(EnumDescriptor),
    /// Timestamp, Duration and FieldMask: their JSON form is a string, parsed by prost-reflect.
    TextMessage(MessageDescriptor),
    /// `google.protobuf.*Value` wrappers: the wrapped scalar, boxed into the wrapper message.
    Wrapper(MessageDescriptor, FieldDescriptor, Box<Scalar>),
}

/// Padding is optional in both alphabets: clients trim it from URLs and headers as often as not.
const STANDARD: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);
const URL_SAFE: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

impl Scalar {
    /// The parser for one (non-map) field's element type, or why text cannot fill it.
    pub(crate) fn for_field(field: &FieldDescriptor) -> Result<Scalar, String> {
        if field.is_map() {
            return Err(format!("`{}` is a map", field.full_name()));
        }
        Scalar::for_kind(&field.kind())
            .map_err(|what| format!("`{}` is {what}, which has no text form", field.full_name()))
    }

    fn for_kind(kind: &Kind) -> Result<Scalar, String> {
        Ok(match kind {
            Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => Scalar::Int32,
            Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => Scalar::Int64,
            Kind::Uint32 | Kind::Fixed32 => Scalar::Uint32,
            Kind::Uint64 | Kind::Fixed64 => Scalar::Uint64,
            Kind::Float => Scalar::Float,
            Kind::Double => Scalar::Double,
            Kind::Bool => Scalar::Bool,
            Kind::String => Scalar::String,
            Kind::Bytes => Scalar::Bytes,
            Kind::Enum(desc) => Scalar::Enum(desc.clone()),
            Kind::Message(desc) => match desc.full_name() {
                "google.protobuf.Timestamp"
                | "google.protobuf.Duration"
                | "google.protobuf.FieldMask" => Scalar::TextMessage(desc.clone()),
                "google.protobuf.DoubleValue"
                | "google.protobuf.FloatValue"
                | "google.protobuf.Int64Value"
                | "google.protobuf.UInt64Value"
                | "google.protobuf.Int32Value"
                | "google.protobuf.UInt32Value"
                | "google.protobuf.BoolValue"
                | "google.protobuf.StringValue"
                | "google.protobuf.BytesValue" => {
                    let value = desc
                        .get_field(1)
                        .ok_or_else(|| format!("a `{}` without a value field", desc.full_name()))?;
                    let inner = Scalar::for_kind(&value.kind())?;
                    Scalar::Wrapper(desc.clone(), value, Box::new(inner))
                }
                other => return Err(format!("a message (`{other}`)")),
            },
        })
    }

    /// Parses `text`. The error says what was expected; the caller adds where the text came from.
    pub(crate) fn parse(&self, text: &str) -> Result<Value, String> {
        Ok(match self {
            Scalar::Int32 => Value::I32(whole(IntKind::Int32, text)? as i32),
            Scalar::Int64 => Value::I64(whole(IntKind::Int64, text)? as i64),
            Scalar::Uint32 => Value::U32(whole(IntKind::Uint32, text)? as u32),
            Scalar::Uint64 => Value::U64(whole(IntKind::Uint64, text)? as u64),
            Scalar::Double => Value::F64(float(text, "double")?),
            Scalar::Float => {
                let value = float(text, "float")?;
                if value.is_finite() && value.abs() > f64::from(f32::MAX) {
                    return Err(format!("`{text}` is out of range for float"));
                }
                Value::F32(value as f32)
            }
            Scalar::Bool => match text {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => {
                    return Err(format!(
                        "`{text}` is not a bool (expected `true` or `false`)"
                    ));
                }
            },
            Scalar::String => Value::String(text.to_string()),
            Scalar::Bytes => {
                let engine = if text.contains(['-', '_']) {
                    &URL_SAFE
                } else {
                    &STANDARD
                };
                let bytes = engine
                    .decode(text)
                    .map_err(|err| format!("`{text}` is not valid base64 ({err})"))?;
                Value::Bytes(bytes.into())
            }
            Scalar::Enum(desc) => enum_value(desc, text)?,
            Scalar::TextMessage(desc) => {
                let text_form = StrDeserializer::<TextError>::new(text);
                let message =
                    DynamicMessage::deserialize(desc.clone(), text_form).map_err(|err| {
                        format!("`{text}` is not a valid {}: {err}", short_name(desc))
                    })?;
                Value::Message(message)
            }
            Scalar::Wrapper(desc, field, inner) => {
                let mut message = DynamicMessage::new(desc.clone());
                message.set_field(field, inner.parse(text)?);
                Value::Message(message)
            }
        })
    }
}

/// Integer text in the JSON mapping's forms, in range; the error names the limit a client crossed.
fn whole(kind: IntKind, text: &str) -> Result<i128, String> {
    kind.parse(text).map_err(|err| err.to_string())
}

/// Decimal floats plus the three proto3 JSON spellings of the non-finite values. Rust's own spellings
/// (`inf`, `nan`, any case) are refused so the accepted set matches the JSON mapping exactly.
fn float(text: &str, type_name: &str) -> Result<f64, String> {
    match text {
        "NaN" => return Ok(f64::NAN),
        "Infinity" => return Ok(f64::INFINITY),
        "-Infinity" => return Ok(f64::NEG_INFINITY),
        _ => {}
    }
    let invalid = || format!("`{text}` is not a valid {type_name}");
    if text.contains(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E') {
        return Err(invalid());
    }
    text.parse::<f64>().map_err(|_| invalid())
}

/// Enum values by name, or by number as the JSON mapping also allows.
fn enum_value(desc: &EnumDescriptor, text: &str) -> Result<Value, String> {
    if let Some(value) = desc.get_value_by_name(text) {
        return Ok(Value::EnumNumber(value.number()));
    }
    if let Ok(number) = text.parse::<i32>() {
        return Ok(Value::EnumNumber(number));
    }
    let names: Vec<_> = desc.values().map(|v| v.name().to_string()).collect();
    Err(format!(
        "`{text}` is not a value of enum `{}` (expected one of {})",
        desc.full_name(),
        names.join(", ")
    ))
}

fn short_name(desc: &MessageDescriptor) -> &str {
    desc.full_name()
        .strip_prefix("google.protobuf.")
        .unwrap_or(desc.full_name())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::tests::pool;

    /// (field of test.v1.Scalars, text, Ok(expected value as JSON of the field) or Err(phrase)).
    #[test]
    fn parses_each_type_and_names_the_limit() {
        let message = pool()
            .get_message_by_name("test.v1.Scalars")
            .expect("message");
        let table: &[(&str, &str, Result<&str, &str>)] = &[
            ("i32", "-2147483648", Ok("-2147483648")),
            (
                "i32",
                "2147483648",
                Err("out of range for int32 (-2147483648 to 2147483647)"),
            ),
            ("i64", "9223372036854775807", Ok("\"9223372036854775807\"")),
            ("i64", "9223372036854775808", Err("out of range for int64")),
            (
                "i64",
                "99999999999999999999999999999999999999999",
                Err("out of range for int64"),
            ),
            (
                "u32",
                "-1",
                Err("out of range for uint32 (0 to 4294967295)"),
            ),
            (
                "u64",
                "18446744073709551615",
                Ok("\"18446744073709551615\""),
            ),
            ("s32", "12x", Err("`12x` is not a valid int32")),
            ("i32", "1e3", Ok("1000")),
            ("i64", "2.5", Err("not a whole number")),
            ("f64", "1.5e3", Ok("1500.0")),
            ("f64", "-Infinity", Ok("\"-Infinity\"")),
            ("f64", "NaN", Ok("\"NaN\"")),
            ("f64", "inf", Err("not a valid double")),
            ("f32", "1e39", Err("out of range for float")),
            ("flag", "true", Ok("true")),
            ("flag", "1", Err("not a bool")),
            ("text", "a b", Ok("\"a b\"")),
            ("data", "aGk", Ok("\"aGk=\"")),
            ("data", "-_8=", Ok("\"+/8=\"")),
            ("data", "***", Err("not valid base64")),
            ("genre", "POETRY", Ok("\"POETRY\"")),
            ("genre", "2", Ok("\"POETRY\"")),
            (
                "genre",
                "SONG",
                Err("not a value of enum `test.v1.Genre` (expected one of"),
            ),
            ("at", "2024-01-02T03:04:05Z", Ok("\"2024-01-02T03:04:05Z\"")),
            ("at", "yesterday", Err("not a valid Timestamp")),
            ("ttl", "1.5s", Ok("\"1.500s\"")),
            ("mask", "title,author.name", Ok("\"title,author.name\"")),
            ("count", "7", Ok("\"7\"")),
            ("enabled", "false", Ok("false")),
        ];
        for (field_name, text, expected) in table {
            let field = message.get_field_by_name(field_name).expect(field_name);
            let scalar = Scalar::for_field(&field).expect("text form");
            match (scalar.parse(text), expected) {
                (Ok(value), Ok(json)) => {
                    let mut m = DynamicMessage::new(message.clone());
                    m.set_field(&field, value);
                    let options = prost_reflect::SerializeOptions::new().skip_default_fields(false);
                    let mut ser = serde_json::Serializer::new(Vec::new());
                    m.serialize_with_options(&mut ser, &options)
                        .expect("serialize");
                    let all: serde_json::Value =
                        serde_json::from_slice(&ser.into_inner()).expect("json");
                    let got = all[field.json_name()].to_string();
                    assert_eq!(got, *json, "{field_name} <- {text}");
                }
                (Err(err), Err(phrase)) => {
                    assert!(err.contains(phrase), "{field_name} <- {text}: {err}")
                }
                (got, _) => panic!("{field_name} <- {text}: unexpected {got:?}"),
            }
        }
    }

    #[test]
    fn refuses_types_without_a_text_form() {
        let message = pool()
            .get_message_by_name("test.v1.Scalars")
            .expect("message");
        for (field_name, phrase) in [("meta", "google.protobuf.Struct"), ("labels", "is a map")] {
            let field = message.get_field_by_name(field_name).expect(field_name);
            let err = Scalar::for_field(&field).expect_err(field_name);
            assert!(err.contains(phrase), "{field_name}: {err}");
        }
    }
}
