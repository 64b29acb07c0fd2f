//! The response body a provider writes: for status OK a result flag and what it announces (a value, an
//! exception, or nothing); for any other status the error text.

use gateway_web::invoke::dubbo::hessian2::{Encoder, Value};

use super::frame::STATUS_OK;

/// Result flags of an OK response (Dubbo's `RESPONSE_*`). The forms with attachments (3-5) are not
/// written: no answer here carries any.
const WITH_EXCEPTION: i32 = 0;
const VALUE: i32 = 1;
const NULL_VALUE: i32 = 2;

/// What a method returns.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Value(Value),
    Null,
    /// A business exception: the call reached the method, which threw.
    Exception(Value),
    /// The call did not reach a method (status BAD_REQUEST, SERVICE_ERROR, ...), with a text saying why.
    Status(u8, String),
}

impl Reply {
    /// The frame's status byte.
    pub fn status(&self) -> u8 {
        match self {
            Reply::Status(status, _) => *status,
            _ => STATUS_OK,
        }
    }

    /// The body, as Java's `DecodeableRpcResult` expects it (or, for a failed status, a hessian2 string).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut encoder = Encoder::new();
        match self {
            Reply::Value(value) => {
                encoder.write(&Value::Int(VALUE), &mut out);
                encoder.write(value, &mut out);
            }
            Reply::Null => encoder.write(&Value::Int(NULL_VALUE), &mut out),
            Reply::Exception(thrown) => {
                encoder.write(&Value::Int(WITH_EXCEPTION), &mut out);
                encoder.write(thrown, &mut out);
            }
            Reply::Status(_, text) => encoder.write(&Value::String(text.clone()), &mut out),
        }
        out
    }
}

/// Whether an OK body is a value or null (not an exception), from its first byte only: the result flag
/// is a small int, one byte `0x90 + flag`. The most a load generator can afford to check per answer.
pub fn is_value_or_null(body: &[u8]) -> bool {
    // 1, 2: value, null; 4, 5: the same with attachments.
    matches!(body.first(), Some(0x91 | 0x92 | 0x94 | 0x95))
}

#[cfg(test)]
mod tests {
    use gateway_web::invoke::dubbo::hessian2::Decoder;

    use super::*;

    #[test]
    fn bodies_decode_as_written() {
        let thrown = Value::String("boom".into());
        let cases = [
            (
                Reply::Value(Value::Long(7)),
                vec![Value::Int(1), Value::Long(7)],
                true,
            ),
            (Reply::Null, vec![Value::Int(2)], true),
            (
                Reply::Exception(thrown.clone()),
                vec![Value::Int(0), thrown],
                false,
            ),
            (
                Reply::Status(70, "no such method".into()),
                vec![Value::String("no such method".into())],
                false,
            ),
        ];
        for (reply, values, ok) in cases {
            let body = reply.encode();
            let mut decoder = Decoder::new(&body);
            let decoded: Vec<Value> = values.iter().map_while(|_| decoder.read().ok()).collect();
            assert_eq!(decoded, values, "{reply:?}");
            assert!(decoder.is_empty());
            assert_eq!(is_value_or_null(&body), ok, "{reply:?}");
        }
        assert_eq!(Reply::Status(40, String::new()).status(), 40);
        assert_eq!(Reply::Null.status(), STATUS_OK);
    }
}
