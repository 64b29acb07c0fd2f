//! A provider's reply body is untrusted bytes: every value the hessian2 decoder reads from it, and the
//! JSON the gateway renders from that value, must come out without a panic, a hang or an unbounded
//! allocation (the decoder's limits bound depth, nodes and lengths).
#![no_main]

use api_model::LongRendering;
use dubbo_codec::hessian2::Decoder;
use gateway_web::mapping::dubbo::{ReplyOptions, exception, render};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut decoder = Decoder::new(data);
    let options = ReplyOptions {
        include_class: true,
        longs: LongRendering::Auto,
    };
    // A body holds a few values (status, value, attachments); more would be an attacker's padding.
    for _ in 0..8 {
        match decoder.read() {
            Ok(value) => {
                let _ = render(&value, &options);
                let _ = exception(&value);
            }
            Err(_) => break,
        }
    }
});
