//! An answer frame as the call's reply, or the error its status announces; the body through the codec.

use dubbo_codec::frame::{HESSIAN2, STATUS_OK};
use dubbo_codec::response::{self, error_text};

use super::call::DubboReply;
use super::error::DubboError;
use super::frame::Frame;

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
    response::decode(&frame.body).map_err(|err| DubboError::Protocol(err.0))
}

#[cfg(test)]
mod tests {
    use dubbo_codec::frame::Header;
    use dubbo_codec::hessian2::Value;

    use super::super::call::Outcome;
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
