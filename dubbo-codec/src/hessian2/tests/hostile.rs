//! Hostile and broken input: every case must end in a `DecodeError` of the right kind, never a panic, a
//! hang or a huge allocation.

use super::*;
use crate::hessian2::{DecodeErrorKind, Limits};

fn error_of(bytes: &[u8]) -> DecodeErrorKind {
    error_with(bytes, Limits::default())
}

/// Reads values until the first error, which the input must produce.
fn error_with(bytes: &[u8], limits: Limits) -> DecodeErrorKind {
    let mut decoder = Decoder::with_limits(bytes, limits);
    while !decoder.is_empty() {
        if let Err(e) = decoder.read() {
            return e.kind();
        }
    }
    panic!("no error for {}", hex(&bytes[..bytes.len().min(64)]));
}

/// A value using every form, so truncation is tried inside each.
fn every_form() -> Value {
    object(
        "p.All",
        vec![
            (
                "ints",
                list(vec![
                    Value::Int(1),
                    Value::Int(100),
                    Value::Int(10_000),
                    Value::Int(1 << 20),
                ]),
            ),
            (
                "longs",
                list(vec![
                    Value::Long(1),
                    Value::Long(100),
                    Value::Long(10_000),
                    Value::Long(1 << 20),
                    Value::Long(1 << 40),
                ]),
            ),
            (
                "doubles",
                list(vec![
                    Value::Double(0.0),
                    Value::Double(1.0),
                    Value::Double(2.0),
                    Value::Double(300.0),
                    Value::Double(0.5),
                    Value::Double(0.1),
                ]),
            ),
            ("dates", list(vec![Value::Date(60_000), Value::Date(1)])),
            ("text", s(&"\u{e9}".repeat(40))),
            ("short", s("a\u{1f600}\u{4e2d}")),
            ("bytes", Value::Binary(vec![7; 20])),
            ("typed", typed_list("[int", vec![Value::Int(1); 9])),
            ("again", typed_list("[int", vec![])),
            ("map", map(Some("m.M"), vec![(s("k"), Value::Null)])),
            (
                "untyped",
                map(None, vec![(Value::Bool(true), Value::Bool(false))]),
            ),
            ("self", Value::Ref(0)),
            ("nested", object("p.All", vec![])),
        ],
    )
}

fn assert_truncated(bytes: &[u8], cut: usize) {
    let mut decoder = Decoder::new(&bytes[..cut]);
    let err = decoder.read().expect_err("a proper prefix must not decode");
    assert_eq!(
        err.kind(),
        DecodeErrorKind::Truncated,
        "cut at {cut}: {err}"
    );
    assert!(err.offset() <= cut, "cut at {cut}: {err}");
}

#[test]
fn truncation_at_every_byte_is_an_error() {
    let bytes = encode_all(&[every_form()]);
    assert_eq!(decode_all(&bytes), vec![every_form()]);
    for cut in 0..bytes.len() {
        assert_truncated(&bytes, cut);
    }
}

#[test]
fn truncation_of_chunked_strings_and_binaries_is_an_error() {
    // Cutting at every byte of 100 KB would take minutes: cut around each chunk header and in between.
    let text = format!("{}\u{1f600}{}", "\u{e9}".repeat(0x7fff), "a".repeat(0x8001));
    let value = list(vec![s(&text), Value::Binary(vec![9; 0x10001])]);
    let bytes = encode_all(std::slice::from_ref(&value));
    assert_eq!(decode_all(&bytes), vec![value]);
    let headers: Vec<usize> = (0..bytes.len())
        .filter(|&i| matches!(bytes[i], b'R' | b'S' | b'A' | b'B'))
        .collect();
    let near = headers
        .iter()
        .flat_map(|&h| h.saturating_sub(8)..(h + 8).min(bytes.len()));
    for cut in near.chain((0..bytes.len()).step_by(997)) {
        assert_truncated(&bytes, cut);
    }
}

#[test]
fn unknown_and_reserved_bytes_are_named_with_their_offset() {
    for byte in [0x40u8, 0x45, 0x47, 0x50, b'Z'] {
        let bytes = [0x90, byte];
        let mut decoder = Decoder::new(&bytes);
        assert_eq!(decoder.read(), Ok(Value::Int(0)));
        let err = decoder.read().expect_err("reserved byte");
        assert_eq!(err.kind(), DecodeErrorKind::UnexpectedByte);
        assert_eq!(
            err.to_string(),
            format!("hessian2: unexpected byte 0x{byte:02x} where a value was expected at byte 1")
        );
    }
}

#[test]
fn absurd_lengths_fail_without_allocating() {
    let cases: Vec<(Vec<u8>, DecodeErrorKind)> = vec![
        (vec![b'S', 0xff, 0xff, b'a'], DecodeErrorKind::Truncated),
        (vec![b'B', 0xff, 0xff, 1], DecodeErrorKind::Truncated),
        (vec![b'A', 0xff, 0xff, 1], DecodeErrorKind::Truncated),
        // A fixed list claiming 2^31-1 items: over max_len.
        (
            vec![0x58, b'I', 0x7f, 0xff, 0xff, 0xff],
            DecodeErrorKind::Limit,
        ),
        (
            vec![b'V', 0x01, b't', b'I', 0x7f, 0xff, 0xff, 0xff],
            DecodeErrorKind::Limit,
        ),
        // Within max_len but far beyond the input: capacity is capped by the bytes left.
        (
            vec![0x58, b'I', 0x00, 0x7f, 0xff, 0xff, 0x90],
            DecodeErrorKind::Truncated,
        ),
        (vec![0x58, 0x8f], DecodeErrorKind::Invalid),
        (
            vec![b'C', 0x01, b'c', b'I', 0x7f, 0xff, 0xff, 0xff],
            DecodeErrorKind::Limit,
        ),
        (
            vec![b'C', 0x01, b'c', b'I', 0x00, 0x7f, 0xff, 0xff, 0x01, b'f'],
            DecodeErrorKind::Truncated,
        ),
        (vec![b'C', 0x01, b'c', 0x8f], DecodeErrorKind::Invalid),
    ];
    for (bytes, kind) in cases {
        assert_eq!(error_of(&bytes), kind, "{}", hex(&bytes));
    }
    // Lengths accumulate across chunks against max_len.
    let limits = Limits {
        max_len: 4,
        ..Limits::default()
    };
    assert_eq!(
        error_with(
            &[b'R', 0x00, 0x03, b'a', b'b', b'c', 0x02, b'd', b'e'],
            limits
        ),
        DecodeErrorKind::Limit
    );
    assert_eq!(
        error_with(&[b'A', 0x00, 0x03, 1, 2, 3, 0x22, 4, 5], limits),
        DecodeErrorKind::Limit
    );
    assert_eq!(
        error_with(&[0x57, 0x90, 0x90, 0x90, 0x90, 0x90, b'Z'], limits),
        DecodeErrorKind::Limit
    );
    assert_eq!(
        error_with(
            &[
                b'H', 0x90, 0x90, 0x91, 0x90, 0x92, 0x90, 0x93, 0x90, 0x94, 0x90, b'Z'
            ],
            limits
        ),
        DecodeErrorKind::Limit
    );
    let ok = [b'R', 0x00, 0x02, b'a', b'b', 0x02, b'c', b'd'];
    assert_eq!(Decoder::with_limits(&ok, limits).read(), Ok(s("abcd")));
}

#[test]
fn deep_nesting_hits_max_depth() {
    let nest = |open: &[u8], leaf: &[u8]| [open.repeat(10_000), leaf.to_vec()].concat();
    assert_eq!(error_of(&nest(&[0x79], b"N")), DecodeErrorKind::Limit);
    assert_eq!(error_of(&nest(&[0x57], b"N")), DecodeErrorKind::Limit);
    assert_eq!(error_of(&nest(&[b'H', 0x90], b"N")), DecodeErrorKind::Limit);
    let class = [b'C', 0x01, b'c', 0x91, 0x01, b'f'];
    assert_eq!(
        error_of(&[&class[..], &nest(&[0x60], b"N")].concat()),
        DecodeErrorKind::Limit
    );
    // Exactly at the limit is fine.
    let limits = Limits {
        max_depth: 3,
        ..Limits::default()
    };
    let three = [0x79, 0x79, 0x79, b'N'];
    assert!(Decoder::with_limits(&three, limits).read().is_ok());
    let four = [0x79, 0x79, 0x79, 0x79, b'N'];
    assert_eq!(error_with(&four, limits), DecodeErrorKind::Limit);
}

#[test]
fn many_class_definitions_in_a_row_use_no_stack() {
    let def = [b'C', 0x01, b'c', 0x90];
    let bytes = [def.repeat(200_000), vec![0x60]].concat();
    assert_eq!(decode_all(&bytes), vec![object("c", vec![])]);
}

#[test]
fn undefined_references_are_errors() {
    let cases: Vec<Vec<u8>> = vec![
        vec![0x51, 0x90],
        vec![0x79, 0x51, 0x91],
        vec![0x51, 0x8f],
        vec![0x60],
        vec![b'O', 0x90],
        vec![b'C', 0x01, b'c', 0x90, b'O', 0x8f],
        vec![0x71, 0x90, 0x90],
        vec![0x71, 0x8f, 0x90],
    ];
    for bytes in cases {
        assert_eq!(
            error_of(&bytes),
            DecodeErrorKind::Invalid,
            "{}",
            hex(&bytes)
        );
    }
}

#[test]
fn malformed_contents_are_errors() {
    let cases: Vec<(Vec<u8>, DecodeErrorKind)> = vec![
        (vec![0x01, 0x80], DecodeErrorKind::Invalid),
        (
            vec![0x01, 0xf8, 0x80, 0x80, 0x80, 0x80],
            DecodeErrorKind::Invalid,
        ),
        (vec![0x01, 0xc3, 0x41], DecodeErrorKind::Invalid),
        // A 4-byte character needs two units of length.
        (vec![0x01, 0xf0, 0x9f, 0x98, 0x80], DecodeErrorKind::Invalid),
        (
            vec![b'R', 0x00, 0x01, b'a', 0x90],
            DecodeErrorKind::UnexpectedByte,
        ),
        (
            vec![b'A', 0x00, 0x01, 1, 0x90],
            DecodeErrorKind::UnexpectedByte,
        ),
        (vec![b'C', 0x90], DecodeErrorKind::UnexpectedByte),
        (
            vec![b'C', 0x01, b'c', 0x91, 0x90],
            DecodeErrorKind::UnexpectedByte,
        ),
        (vec![0x71, b'N', 0x90], DecodeErrorKind::UnexpectedByte),
        (vec![0x58, b'N'], DecodeErrorKind::UnexpectedByte),
        (
            vec![0x51, b'L', 0, 0, 0, 0, 0, 0, 0, 0],
            DecodeErrorKind::UnexpectedByte,
        ),
    ];
    for (bytes, kind) in cases {
        assert_eq!(error_of(&bytes), kind, "{}", hex(&bytes));
    }
}

/// Value k is a list of two references to value k - 1: expanding value 40 would make 2^40 copies.
fn laughs(first: &[u8], levels: u32) -> Vec<u8> {
    let mut bytes = first.to_vec();
    for level in 1..levels {
        let index = encode_all(&[Value::Int(level as i32 - 1)]);
        bytes.push(0x7a);
        for _ in 0..2 {
            bytes.push(0x51);
            bytes.extend_from_slice(&index);
        }
    }
    bytes
}

#[test]
fn exponential_reference_expansion_hits_max_nodes() {
    let started = std::time::Instant::now();
    assert_eq!(
        error_of(&laughs(&[0x7a, b'N', b'N'], 40)),
        DecodeErrorKind::Limit
    );
    // Few values but long strings: the bytes re-read are charged too.
    let long = encode_all(&[list(vec![s(&"x".repeat(60_000))])]);
    assert_eq!(error_of(&laughs(&long, 40)), DecodeErrorKind::Limit);
    // Objects that each copy a long class name.
    let class = [&[b'C', b'S', 0xea, 0x60][..], &[b'c'; 60_000], &[0x90]].concat();
    assert_eq!(
        error_of(&[class, vec![0x60; 1_000_000]].concat()),
        DecodeErrorKind::Limit
    );
    // Typed lists that each copy a long type name.
    let first = [&[0x70, b'S', 0xea, 0x60][..], &[b't'; 60_000]].concat();
    assert_eq!(
        error_of(&[first, [0x70, 0x90].repeat(500_000)].concat()),
        DecodeErrorKind::Limit
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    // A small expansion stays within budget.
    let values = decode_all(&laughs(&[0x7a, b'N', b'N'], 6));
    let expected = (1..6).fold(list(vec![Value::Null, Value::Null]), |inner, _| {
        list(vec![inner.clone(), inner])
    });
    assert_eq!(values.last(), Some(&expected));
}

#[test]
fn an_expanded_copy_of_a_cyclic_value_keeps_its_cycle() {
    // Object 0 whose field refers to itself, then a top-level reference to it.
    let bytes = [
        b'C', 0x01, b'c', 0x91, 0x01, b'f', 0x60, 0x51, 0x90, 0x51, 0x90,
    ];
    let cyclic = object("c", vec![("f", Value::Ref(0))]);
    assert_eq!(decode_all(&bytes), vec![cyclic.clone(), cyclic]);
}

/// A tiny deterministic generator: no dependency, the same inputs every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u8 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as u8
    }
}

#[test]
fn random_and_mutated_input_never_panics() {
    let mut rng = Lcg(7);
    for _ in 0..20_000 {
        let len = usize::from(rng.next() % 48);
        let bytes: Vec<u8> = (0..len).map(|_| rng.next()).collect();
        let mut decoder = Decoder::new(&bytes);
        while !decoder.is_empty() && decoder.read().is_ok() {}
    }
    let small = object(
        "p.All",
        vec![
            (
                "a",
                list(vec![s("x\u{1f600}"), Value::Ref(0), Value::Double(0.5)]),
            ),
            (
                "m",
                map(Some("t"), vec![(Value::Int(1), Value::Long(1 << 40))]),
            ),
        ],
    );
    let valid = encode_all(&[small.clone(), small, list(vec![Value::Ref(0)])]);
    for at in 0..valid.len() {
        for byte in 0..=255u8 {
            let mut bytes = valid.clone();
            bytes[at] = byte;
            let mut decoder = Decoder::new(&bytes);
            while !decoder.is_empty() && decoder.read().is_ok() {}
        }
    }
}
