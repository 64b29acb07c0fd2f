//! The response body: for status OK a result flag (0-5) and the value, exception and/or attachments it
//! announces; for any other status the error text. Lenient where real providers differ: sofa-rpc-node
//! answers a null result with a bare `N` (no flag) or no body, and some texts come as raw bytes.

use super::client::{DubboReply, Outcome};
use super::error::DubboError;
use super::frame::{Frame, HESSIAN2, STATUS_OK};
use super::hessian2::{Decoder, Value};

/// Turns an answer frame into the call's reply, or the error its status announces.
pub(crate) fn decode(frame: &Frame) -> Result<DubboReply, DubboError> {
    let status = frame.header.status;
    if status != STATUS_OK {
        return Err(DubboError::Status {
            status,
            message: error_text(&frame.body),
        });
    }
    if frame.header.serialization() != HESSIAN2 {
        return Err(DubboError::Protocol(format!(
            "answer in serialization {}, not hessian2",
            frame.header.serialization()
        )));
    }
    decode_ok_body(&frame.body)
}

fn decode_ok_body(body: &[u8]) -> Result<DubboReply, DubboError> {
    let reply = |outcome| DubboReply {
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
            .map_err(|err| DubboError::Protocol(format!("response {what}: {err}")))
    };
    let flag = match next("flag")? {
        Value::Int(flag) => i64::from(flag),
        Value::Long(flag) => flag,
        Value::Null => return Ok(reply(Outcome::Null)),
        other => {
            return Err(DubboError::Protocol(format!(
                "response flag is {}",
                kind(&other)
            )));
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
            return Err(DubboError::Protocol(format!(
                "unknown response flag {other}"
            )));
        }
    };
    let attachments = if with_attachments {
        string_pairs(next("attachments")?)
    } else {
        Vec::new()
    };
    Ok(DubboReply {
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

/// The text of a non-OK answer: a hessian2 string as Dubbo writes it, else the bytes as UTF-8.
fn error_text(body: &[u8]) -> String {
    let mut decoder = Decoder::new(body);
    match decoder.read() {
        Ok(Value::String(text)) if decoder.is_empty() => text,
        Ok(Value::Null) if decoder.is_empty() => String::new(),
        _ => String::from_utf8_lossy(body).trim().to_string(),
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

#[cfg(test)]
mod tests {
    use super::super::frame::{HESSIAN2, Header};
    use super::*;

    fn frame(status: u8, body: &[u8]) -> Frame {
        Frame {
            header: Header {
                flag: HESSIAN2,
                status,
                id: 1,
                body_len: body.len() as u32,
            },
            body: body.to_vec(),
        }
    }

    /// `{"k": "v", "n": 7}` as an untyped hessian2 map.
    const ATTACHMENTS: &[u8] = b"H\x01k\x01v\x01n\x97Z";

    #[test]
    fn every_result_flag() {
        let with = |flag: u8, rest: &[u8]| [&[0x90 + flag][..], rest].concat();
        let pairs = vec![
            ("k".to_string(), "v".to_string()),
            ("n".to_string(), "7".to_string()),
        ];
        type Case = (Vec<u8>, Outcome, Vec<(String, String)>);
        let cases: Vec<Case> = vec![
            (
                with(0, b"\x04boom"),
                Outcome::Exception(Value::String("boom".into())),
                vec![],
            ),
            (
                with(1, b"\x02hi"),
                Outcome::Value(Value::String("hi".into())),
                vec![],
            ),
            (with(1, b"N"), Outcome::Null, vec![]),
            (with(2, b""), Outcome::Null, vec![]),
            (
                with(3, &[b"\x04boom", ATTACHMENTS].concat()),
                Outcome::Exception(Value::String("boom".into())),
                pairs.clone(),
            ),
            (
                with(4, &[b"\x9a", ATTACHMENTS].concat()),
                Outcome::Value(Value::Int(10)),
                pairs.clone(),
            ),
            (with(5, ATTACHMENTS), Outcome::Null, pairs),
            // sofa-rpc-node: a null result with no flag, or no body at all.
            (b"N".to_vec(), Outcome::Null, vec![]),
            (Vec::new(), Outcome::Null, vec![]),
        ];
        for (body, outcome, attachments) in cases {
            let reply = decode(&frame(STATUS_OK, &body));
            assert!(
                matches!(&reply, Ok(r) if r.outcome == outcome && r.attachments == attachments),
                "{body:02x?}: {reply:?}"
            );
        }
    }

    #[test]
    fn statuses_carry_their_text() {
        for status in [30u8, 31, 40, 50, 60, 70, 80, 90, 100] {
            for (body, text) in [
                (&b"\x04oops"[..], "oops"),
                (b"raw text", "raw text"),
                (b"", ""),
            ] {
                let reply = decode(&frame(status, body));
                assert!(
                    matches!(&reply, Err(DubboError::Status { status: s, message }) if *s == status && message == text),
                    "{status} {body:?}: {reply:?}"
                );
            }
        }
    }

    #[test]
    fn malformed_bodies_are_errors_not_panics() {
        for body in [
            &b"\x96"[..],
            b"\x91",
            b"\x94\x02h",
            b"\x02hi",
            b"\x91\x05h",
            b"\xff\xff",
        ] {
            assert!(
                matches!(
                    decode(&frame(STATUS_OK, body)),
                    Err(DubboError::Protocol(_))
                ),
                "{body:02x?}"
            );
        }
    }
}
