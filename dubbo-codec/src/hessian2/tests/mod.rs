//! Tests of the hessian2 codec, and helpers to build expected values tersely.

mod hessianjs;
mod hostile;
mod java;
mod roundtrip;
mod spec;

use super::{
    Decoder, Encoder, List, Map, Object, Value, big_decimal, java_enum, local_date, local_date_time,
};

fn s(text: &str) -> Value {
    Value::String(text.to_owned())
}

fn list(items: Vec<Value>) -> Value {
    Value::List(List {
        type_name: None,
        items,
    })
}

fn typed_list(type_name: &str, items: Vec<Value>) -> Value {
    Value::List(List {
        type_name: Some(type_name.to_owned()),
        items,
    })
}

fn map(type_name: Option<&str>, entries: Vec<(Value, Value)>) -> Value {
    Value::Map(Map {
        type_name: type_name.map(str::to_owned),
        entries,
    })
}

fn object(class: &str, fields: Vec<(&str, Value)>) -> Value {
    Value::Object(Object {
        class: class.to_owned(),
        fields: fields
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value))
            .collect(),
    })
}

/// Decodes every value of a body, failing the test on any error or trailing byte.
fn decode_all(bytes: &[u8]) -> Vec<Value> {
    let mut decoder = Decoder::new(bytes);
    let mut values = Vec::new();
    while !decoder.is_empty() {
        let at = decoder.position();
        values.push(
            decoder
                .read()
                .unwrap_or_else(|e| panic!("value starting at {at}: {e}")),
        );
    }
    values
}

fn encode_all(values: &[Value]) -> Vec<u8> {
    let mut encoder = Encoder::new();
    let mut out = Vec::new();
    for value in values {
        encoder.write(value, &mut out);
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}
