//! The response body. For status OK: a result flag (0-5) and the value, exception and/or attachments it
//! announces; for any other status: the error text. Decoding is lenient where real providers differ
//! (sofa-rpc-node answers a null result with a bare `N` and no flag, or with no body; some texts come as
//! raw bytes) and strict everywhere else. Encoding writes what Java's `DecodeableRpcResult` reads.

use crate::hessian2::{Decoder, Encoder, Value};

/// Result flags of an OK response (Dubbo's `RESPONSE_*`); 3-5 are the same with attachments.
const WITH_EXCEPTION: i32 = 0;
const VALUE: i32 = 1;
const NULL_VALUE: i32 = 2;

/// What a call that reached its method produced.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Value(Value),
    /// A null result, whichever way the provider said it.
    Null,
    /// The provider's exception object (a Java `Throwable`, as hessian2 decodes it).
    Exception(Value),
}

/// An OK response body.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    pub outcome: Outcome,
    /// The answer's attachments as text; scalar values are turned into text, others left out.
    pub attachments: Vec<(String, String)>,
}

/// An OK body that is not what the flag announces.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct MalformedBody(pub String);

/// Decodes an OK body (the frame's status is the caller's to check first).
pub fn decode(body: &[u8]) -> Result<Response, MalformedBody> {
    let reply = |outcome| Response {
        outcome,
        attachments: Vec::new(),
    };
    if body.is_empty() {
        return Ok(reply(Outcome::Null));
    }
    let mut decoder = Decoder::new(body);
    let mut next = |what: &str| {
        decoder
            .read()
            .map_err(|err| MalformedBody(format!("response {what}: {err}")))
    };
    let flag = match next("flag")? {
        Value::Int(flag) => i64::from(flag),
        Value::Long(flag) => flag,
        Value::Null => return Ok(reply(Outcome::Null)),
        other => {
            return Err(MalformedBody(format!("response flag is {}", kind(&other))));
        }
    };
    let (outcome, with_attachments) = match flag {
        0 => (Outcome::Exception(next("exception")?), false),
        1 => (value(next("value")?), false),
        2 => (Outcome::Null, false),
        3 => (Outcome::Exception(next("exception")?), true),
        4 => (value(next("value")?), true),
        5 => (Outcome::Null, true),
        other => {
            return Err(MalformedBody(format!("unknown response flag {other}")));
        }
    };
    let attachments = if with_attachments {
        string_pairs(next("attachments")?)
    } else {
        Vec::new()
    };
    Ok(Response {
        outcome,
        attachments,
    })
}

/// A null value is a null outcome, whichever flag carried it.
fn value(value: Value) -> Outcome {
    match value {
        Value::Null => Outcome::Null,
        value => Outcome::Value(value),
    }
}

/// Attachments as string pairs: scalar values (dubbo.ts sends a numeric `timestamp`) become text,
/// anything else is left out.
fn string_pairs(map: Value) -> Vec<(String, String)> {
    let Value::Map(map) = map else {
        return Vec::new();
    };
    map.entries
        .into_iter()
        .filter_map(|(key, value)| {
            let Value::String(key) = key else {
                return None;
            };
            let value = match value {
                Value::String(text) => text,
                Value::Int(n) => n.to_string(),
                Value::Long(n) | Value::Date(n) => n.to_string(),
                Value::Double(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => return None,
            };
            Some((key, value))
        })
        .collect()
}

/// The text of a non-OK answer: a hessian2 string as Dubbo writes it, else the bytes as UTF-8. Some
/// providers (dubbo.ts) put a response flag before it and the attachments map after it, as in an OK
/// answer; neither is part of the text.
pub fn error_text(body: &[u8]) -> String {
    let mut decoder = Decoder::new(body);
    let mut first = decoder.read();
    if matches!(first, Ok(Value::Int(0..=5))) {
        first = decoder.read();
    }
    let text = match first {
        Ok(Value::String(text)) => text,
        Ok(Value::Null) => String::new(),
        _ => return String::from_utf8_lossy(body).trim().to_string(),
    };
    if decoder.is_empty() || matches!(decoder.read(), Ok(Value::Map(_)) if decoder.is_empty()) {
        text
    } else {
        String::from_utf8_lossy(body).trim().to_string()
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Int(_) | Value::Long(_) => "an integer",
        Value::Double(_) => "a double",
        Value::Date(_) => "a date",
        Value::String(_) => "a string",
        Value::Binary(_) => "binary",
        Value::List(_) => "a list",
        Value::Map(_) => "a map",
        Value::Object(_) => "an object",
        Value::Ref(_) => "a reference",
    }
}

/// Encodes an OK body without attachments (flags 0, 1, 2).
pub fn encode(outcome: &Outcome) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = Encoder::new();
    match outcome {
        Outcome::Value(value) => {
            encoder.write(&Value::Int(VALUE), &mut out);
            encoder.write(value, &mut out);
        }
        Outcome::Null => encoder.write(&Value::Int(NULL_VALUE), &mut out),
        Outcome::Exception(thrown) => {
            encoder.write(&Value::Int(WITH_EXCEPTION), &mut out);
            encoder.write(thrown, &mut out);
        }
    }
    out
}

/// The body of a failed status: the text as one hessian2 string.
pub fn encode_error(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    Encoder::new().write_str(text, &mut out);
    out
}

/// Whether an OK body is a value or null (not an exception), from its first byte only: the result flag
/// is a small int, one byte `0x90 + flag`. The most a load generator can afford to check per answer.
pub fn is_value_or_null(body: &[u8]) -> bool {
    // 1, 2: value, null; 4, 5: the same with attachments.
    matches!(body.first(), Some(0x91 | 0x92 | 0x94 | 0x95))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_text_leaves_the_attachments_out() {
        // "no user 404", then {"dubbo": "2.0.2"}, as a Java provider answers status 70.
        let body = [&b"\x0bno user 404"[..], b"H\x05dubbo\x052.0.2Z"].concat();
        assert_eq!(error_text(&body), "no user 404");
        // dubbo.ts: the flag of an exception with attachments (3) first.
        let flagged = [&b"\x93"[..], &body].concat();
        assert_eq!(error_text(&flagged), "no user 404");
        assert_eq!(error_text(b"\x04oops"), "oops");
        assert_eq!(error_text(b"plain text"), "plain text");
        // A string followed by something that is not attachments is not trusted as one.
        assert_eq!(
            error_text(b"\x02hi\x91"),
            String::from_utf8_lossy(b"\x02hi\x91").trim()
        );
    }

    #[test]
    fn bodies_decode_as_written() {
        let thrown = Value::String("boom".into());
        let cases = [
            (Outcome::Value(Value::Long(7)), true),
            (Outcome::Null, true),
            (Outcome::Exception(thrown), false),
        ];
        for (outcome, ok) in cases {
            let body = encode(&outcome);
            let decoded = decode(&body);
            assert_eq!(decoded.map(|r| r.outcome), Ok(outcome.clone()));
            assert_eq!(is_value_or_null(&body), ok, "{outcome:?}");
        }
        assert_eq!(
            error_text(&encode_error("no such method")),
            "no such method"
        );
    }
}
