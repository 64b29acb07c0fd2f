//! Turns a failed JSON decode into a 400 that says which field was wrong.
//!
//! serde's messages say what was wrong and where (line, column) but not in which field ("invalid value",
//! "unrecognized enum value 'X'", "out of range integral type conversion"). Only on this error path, the
//! body is parsed again as plain JSON and walked against the schema to find the first offending member;
//! the hot path pays nothing for it.

use prost_reflect::{DeserializeOptions, DynamicMessage, FieldDescriptor, Kind, MessageDescriptor};
use serde_json::Value as Json;

use super::json::{Decoded, JsonTarget, OneMember};
use super::strict_json::{Shape, Strict, parse_value};
use crate::error::GatewayError;

/// Decodes the whole body (JSON) into `target`, straight from the byte slice.
pub(crate) fn decode_body(
    body: &[u8],
    input: &MessageDescriptor,
    target: &JsonTarget,
) -> Result<Decoded, GatewayError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    target
        .decode(input, &mut de)
        .and_then(|decoded| de.end().map(|()| decoded))
        .map_err(|err| body_error(err, body, input, target))
}

/// The 400 for a body that failed to decode into `target`.
fn body_error(
    err: serde_json::Error,
    body: &[u8],
    input: &MessageDescriptor,
    target: &JsonTarget,
) -> GatewayError {
    if err.is_syntax() || err.is_eof() {
        return GatewayError::invalid_argument(format!("malformed JSON body: {err}"));
    }
    match parse_value(body) {
        Ok(json) => member_error(err, &json, input, target, ""),
        // A key given twice: a `Value` cannot even hold it, so there is no member to point at.
        Err(again) if again.is_data() => {
            GatewayError::invalid_argument(format!("invalid JSON body: {err}"))
        }
        // The decode stopped at a type error before reaching a syntax error further on.
        Err(syntax) => GatewayError::invalid_argument(format!("malformed JSON body: {syntax}")),
    }
}

/// The 400 for a JSON value (the body, or the member at `prefix` of it) that failed to decode.
pub(crate) fn member_error(
    err: serde_json::Error,
    json: &Json,
    input: &MessageDescriptor,
    target: &JsonTarget,
    prefix: &str,
) -> GatewayError {
    let found = match target {
        JsonTarget::Whole => in_message(json, input, prefix),
        JsonTarget::Field(path) => in_field(json, path.leaf(), prefix),
    };
    let message = match found {
        Some(Problem {
            path,
            unknown: true,
        }) => {
            format!("invalid JSON body: unknown field `{path}` ({err})")
        }
        Some(Problem { path, .. }) if !path.is_empty() => {
            format!("invalid JSON body at `{path}`: {err}")
        }
        _ => format!("invalid JSON body: {err}"),
    };
    GatewayError::invalid_argument(message)
}

/// The first member that does not fit the schema, as a path into the body.
struct Problem {
    path: String,
    unknown: bool,
}

fn at(path: &str) -> Option<Problem> {
    Some(Problem {
        path: path.to_string(),
        unknown: false,
    })
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn in_message(json: &Json, desc: &MessageDescriptor, path: &str) -> Option<Problem> {
    if desc.full_name().starts_with("google.protobuf.") {
        // Well-known types have their own JSON forms; check them whole.
        let options = DeserializeOptions::new();
        let strict = Strict::new(json, Shape::of_message(desc));
        return DynamicMessage::deserialize_with_options(desc.clone(), strict, &options)
            .err()
            .and_then(|_| at(path));
    }
    let Json::Object(members) = json else {
        return at(path);
    };
    for (key, member) in members {
        let here = join(path, key);
        let Some(field) = desc
            .get_field_by_json_name(key)
            .or_else(|| desc.get_field_by_name(key))
        else {
            return Some(Problem {
                path: here,
                unknown: true,
            });
        };
        if let Some(problem) = in_field(member, &field, &here) {
            return Some(problem);
        }
    }
    None
}

/// Looks inside nested messages first, so the deepest offending member is named; then checks the field's
/// value on its own.
fn in_field(json: &Json, field: &FieldDescriptor, path: &str) -> Option<Problem> {
    if json.is_null() {
        return None;
    }
    match (json, field.kind()) {
        (Json::Object(entries), Kind::Message(entry)) if field.is_map() => {
            let value_kind = entry.map_entry_value_field().kind();
            for (key, value) in entries {
                if let Some(problem) = in_kind(value, &value_kind, &join(path, key)) {
                    return Some(problem);
                }
            }
        }
        (Json::Array(items), kind) if field.is_list() => {
            for (index, item) in items.iter().enumerate() {
                if let Some(problem) = in_kind(item, &kind, &format!("{path}[{index}]")) {
                    return Some(problem);
                }
            }
        }
        (_, kind) if !field.is_map() && !field.is_list() => {
            if let Some(problem) = in_kind(json, &kind, path) {
                return Some(problem);
            }
        }
        _ => {}
    }
    let options = DeserializeOptions::new();
    let parent = field.parent_message();
    let alone = Strict::new(
        OneMember::new(field.json_name(), json),
        Shape::of_message(parent),
    );
    DynamicMessage::deserialize_with_options(parent.clone(), alone, &options)
        .err()
        .and_then(|_| at(path))
}

fn in_kind(json: &Json, kind: &Kind, path: &str) -> Option<Problem> {
    match kind {
        Kind::Message(desc) if !json.is_null() => in_message(json, desc, path),
        _ => None,
    }
}

/// Decodes a member picked out of the body (`from: body.a.b`) into `target`, naming it on error.
pub(crate) fn decode_member(
    json: &Json,
    input: &MessageDescriptor,
    target: &JsonTarget,
    prefix: &str,
) -> Result<Decoded, GatewayError> {
    target
        .decode(input, json)
        .map_err(|err| member_error(err, json, input, target, prefix))
}
