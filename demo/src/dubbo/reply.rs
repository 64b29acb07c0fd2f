//! What a provider answers: an outcome under status OK, or another status with a text saying why the
//! call never reached a method. The bodies are the codec's.

use dubbo_codec::frame::STATUS_OK;
use dubbo_codec::hessian2::Value;
use dubbo_codec::response::{self, Outcome};

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
        match self {
            Reply::Value(value) => response::encode(&Outcome::Value(value.clone())),
            Reply::Null => response::encode(&Outcome::Null),
            Reply::Exception(thrown) => response::encode(&Outcome::Exception(thrown.clone())),
            Reply::Status(_, text) => response::encode_error(text),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The outcomes' bodies are the codec's (tested there); a failed status is its text alone.
    #[test]
    fn a_failed_status_is_its_text() {
        let reply = Reply::Status(70, "no such method".into());
        assert_eq!(response::error_text(&reply.encode()), "no such method");
        assert!(!response::is_value_or_null(&reply.encode()));
        assert_eq!(reply.status(), 70);
        assert_eq!(Reply::Null.status(), STATUS_OK);
        assert_eq!(
            Reply::Value(Value::Long(7)).encode(),
            response::encode(&Outcome::Value(Value::Long(7)))
        );
    }
}
