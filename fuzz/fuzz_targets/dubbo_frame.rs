//! Bytes off a Dubbo connection: frame headers (magic, flags, status, id, length within a limit), then
//! each body decoded as the request or response it claims to be, as the client and the test providers
//! read them. Nothing may panic or allocate beyond the frame limit.
#![no_main]

use dubbo_codec::frame::{HEADER_LEN, Header, starts_with_whole_frame};
use dubbo_codec::{request, response};
use libfuzzer_sys::fuzz_target;

const LIMIT: usize = 1 << 20;

fuzz_target!(|data: &[u8]| {
    let mut rest = data;
    let _ = starts_with_whole_frame(rest);
    while let Some(head) = rest.first_chunk::<HEADER_LEN>() {
        let Ok(header) = Header::decode_within(head, LIMIT) else {
            return;
        };
        let len = (header.body_len as usize).min(rest.len() - HEADER_LEN);
        let body = &rest[HEADER_LEN..HEADER_LEN + len];
        if header.is_request() {
            let _ = request::decode(body);
        } else {
            let _ = response::decode(body);
            let _ = response::error_text(body);
            let _ = response::is_value_or_null(body);
        }
        rest = &rest[HEADER_LEN + len..];
    }
});
