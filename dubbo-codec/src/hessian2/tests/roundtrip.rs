//! Encode-then-decode round trips across every form and at every compact-range edge, with checks that
//! the encoder picked the expected (most compact) form.

use super::*;

/// Encodes `value`, checks the first byte and total size, and decodes it back unchanged.
fn check(value: Value, first: u8, len: usize) {
    let bytes = encode_all(std::slice::from_ref(&value));
    assert_eq!(
        bytes.first().copied(),
        Some(first),
        "first byte of {value:?}: {}",
        hex(&bytes)
    );
    assert_eq!(bytes.len(), len, "size of {value:?}");
    let decoded = decode_all(&bytes);
    assert_eq!(decoded.len(), 1);
    match (&decoded[0], &value) {
        // Compare bits so that -0.0 and NaN count.
        (Value::Double(a), Value::Double(b)) => assert_eq!(a.to_bits(), b.to_bits(), "{b}"),
        (a, b) => assert_eq!(a, b),
    }
}

#[test]
fn ints_at_every_range_edge() {
    for (v, first, len) in [
        (0, 0x90, 1),
        (-16, 0x80, 1),
        (47, 0xbf, 1),
        (-17, 0xc7, 2),
        (48, 0xc8, 2),
        (-2048, 0xc0, 2),
        (2047, 0xcf, 2),
        (-2049, 0xd3, 3),
        (2048, 0xd4, 3),
        (-262144, 0xd0, 3),
        (262143, 0xd7, 3),
        (-262145, b'I', 5),
        (262144, b'I', 5),
        (i32::MIN, b'I', 5),
        (i32::MAX, b'I', 5),
    ] {
        check(Value::Int(v), first, len);
    }
}

#[test]
fn longs_at_every_range_edge() {
    for (v, first, len) in [
        (0, 0xe0, 1),
        (-8, 0xd8, 1),
        (15, 0xef, 1),
        (-9, 0xf7, 2),
        (16, 0xf8, 2),
        (-2048, 0xf0, 2),
        (2047, 0xff, 2),
        (-2049, 0x3b, 3),
        (2048, 0x3c, 3),
        (-262144, 0x38, 3),
        (262143, 0x3f, 3),
        (-262145, 0x59, 5),
        (262144, 0x59, 5),
        (i64::from(i32::MIN), 0x59, 5),
        (i64::from(i32::MAX), 0x59, 5),
        (i64::from(i32::MIN) - 1, b'L', 9),
        (i64::from(i32::MAX) + 1, b'L', 9),
        (i64::MIN, b'L', 9),
        (i64::MAX, b'L', 9),
    ] {
        check(Value::Long(v), first, len);
    }
}

#[test]
fn doubles_in_each_form() {
    for (v, first, len) in [
        (0.0, 0x5b, 1),
        (1.0, 0x5c, 1),
        (-128.0, 0x5d, 2),
        (127.0, 0x5d, 2),
        (-1.0, 0x5d, 2),
        (-129.0, 0x5e, 3),
        (128.0, 0x5e, 3),
        (-32768.0, 0x5e, 3),
        (32767.0, 0x5e, 3),
        (32768.0, 0x5f, 5),
        (12.25, 0x5f, 5),
        (0.001, 0x5f, 5),
        (-2.5, 0x5f, 5),
        (2147483.647, 0x5f, 5),
        (-2147483.648, 0x5f, 5),
        (2147483.648, b'D', 9),
        (0.0001, b'D', 9),
        (std::f64::consts::PI, b'D', 9),
        (1e300, b'D', 9),
        (-0.0, b'D', 9),
        (f64::NAN, b'D', 9),
        (f64::INFINITY, b'D', 9),
        (f64::MIN_POSITIVE, b'D', 9),
    ] {
        check(Value::Double(v), first, len);
    }
}

#[test]
fn dates_compact_only_on_whole_minutes() {
    check(Value::Date(0), 0x4b, 5);
    check(Value::Date(1_699_999_980_000), 0x4b, 5);
    check(Value::Date(-60_000), 0x4b, 5);
    check(Value::Date(1_700_000_000_123), 0x4a, 9);
    check(Value::Date(60_000 * (i64::from(i32::MAX) + 1)), 0x4a, 9);
    check(Value::Date(i64::MIN), 0x4a, 9);
}

#[test]
fn strings_at_every_length_edge() {
    for (units, first, header) in [
        (0, 0x00, 1),
        (31, 0x1f, 1),
        (32, 0x30, 2),
        (1023, 0x33, 2),
        (1024, b'S', 3),
        (0x8000, b'S', 3),
        (0x8001, b'R', 3 + 1),
        (0x10000, b'R', 3 + 3),
        (0x10001, b'R', 3 + 3 + 1),
    ] {
        check(s(&"x".repeat(units)), first, header + units);
    }
}

#[test]
fn non_bmp_characters_are_two_units_of_three_bytes() {
    // "a😀é中": 1 + 2 + 1 + 1 units; 1 + 6 + 2 + 3 bytes.
    let text = "a\u{1f600}\u{e9}\u{4e2d}";
    let bytes = encode_all(&[s(text)]);
    assert_eq!(hex(&bytes), "05 61 ed a0 bd ed b8 80 c3 a9 e4 b8 ad");
    check(s(text), 0x05, 13);
}

#[test]
fn a_surrogate_pair_is_never_split_across_chunks() {
    // The pair would straddle unit 0x8000: the first chunk stops one unit short.
    let text = format!("{}\u{1f600}b", "a".repeat(0x7fff));
    let bytes = encode_all(&[s(&text)]);
    assert_eq!(hex(&bytes[..3]), "52 7f ff");
    let second = 3 + 0x7fff;
    assert_eq!(hex(&bytes[second..second + 1]), "03");
    check(s(&text), b'R', 3 + 0x7fff + 1 + 6 + 1);
    // Exactly at the boundary: the pair fits whole in the first chunk.
    let text = format!("{}\u{1f600}{}", "a".repeat(0x7ffe), "b".repeat(5));
    let bytes = encode_all(&[s(&text)]);
    assert_eq!(hex(&bytes[..3]), "52 80 00");
    check(s(&text), b'R', 3 + 0x7ffe + 6 + 1 + 5);
}

#[test]
fn many_non_bmp_characters_across_several_chunks() {
    let text: String = (0..50_000)
        .map(|i| if i % 7 == 0 { '\u{10437}' } else { 'é' })
        .collect();
    let bytes = encode_all(&[s(&text)]);
    assert_eq!(decode_all(&bytes), vec![s(&text)]);
}

#[test]
fn binary_at_every_length_edge_and_chunked() {
    for (len, first, header) in [
        (0, 0x20, 1),
        (15, 0x2f, 1),
        (16, 0x34, 2),
        (1023, 0x37, 2),
        (1024, b'B', 3),
        (0x8000, b'B', 3),
        (0x8001, b'A', 3 + 1),
        (0x10000, b'A', 3 + 3),
        (0x10000 + 1024, b'A', 3 + 3 + 3),
    ] {
        let data: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
        check(Value::Binary(data), first, header + len);
    }
}

#[test]
fn lists_typed_and_untyped_short_and_long() {
    let ints = |n: i32| (0..n).map(Value::Int).collect::<Vec<_>>();
    check(list(vec![]), 0x78, 1);
    check(list(ints(7)), 0x7f, 8);
    check(list(ints(8)), 0x58, 2 + 8);
    check(typed_list("[int", ints(7)), 0x77, 2 + 4 + 7);
    check(typed_list("[int", ints(8)), b'V', 1 + 5 + 1 + 8);
    check(typed_list("", vec![]), 0x70, 2);
    check(
        list(vec![list(vec![s("deep")]), Value::Null, Value::Bool(true)]),
        0x7b,
        1 + 1 + 5 + 2,
    );
}

#[test]
fn maps_typed_and_untyped() {
    check(map(None, vec![]), b'H', 2);
    check(
        map(Some("java.util.HashMap"), vec![(s("k"), Value::Long(1))]),
        b'M',
        1 + 18 + 2 + 1 + 1,
    );
    // Keys of any type, order kept.
    let entries = vec![
        (Value::Int(2), s("b")),
        (Value::Null, list(vec![])),
        (s("a"), map(None, vec![])),
    ];
    check(map(None, entries), b'H', 1 + 3 + 2 + 4 + 1);
}

#[test]
fn type_names_are_written_once_then_referenced() {
    let values = vec![
        typed_list("[string", vec![]),
        map(Some("[string"), vec![]),
        typed_list("[int", vec![]),
    ];
    let bytes = encode_all(&values);
    assert_eq!(
        hex(&bytes),
        "70 07 5b 73 74 72 69 6e 67 4d 90 5a 70 04 5b 69 6e 74"
    );
    assert_eq!(decode_all(&bytes), values);
}

#[test]
fn class_definitions_are_reused_by_class_and_field_list() {
    let a1 = object("p.A", vec![("x", Value::Int(1))]);
    let a2 = object("p.A", vec![("x", Value::Int(2))]);
    // Same class with another field list needs its own definition.
    let a_wide = object("p.A", vec![("x", Value::Int(3)), ("y", Value::Int(4))]);
    let b = object("p.B", vec![]);
    let values = vec![a1, a2.clone(), a_wide.clone(), b, a2, a_wide];
    let bytes = encode_all(&values);
    let defs = bytes.windows(4).filter(|w| w == b"C\x03p.").count();
    assert_eq!(defs, 3, "{}", hex(&bytes));
    assert_eq!(decode_all(&bytes), values);
}

#[test]
fn more_than_sixteen_class_definitions_use_the_long_object_form() {
    let values: Vec<Value> = (0..20)
        .map(|i| object(&format!("K{i}"), vec![("v", Value::Int(i))]))
        .collect();
    let bytes = encode_all(&values);
    // The 17th instance (definition 16) is `O` + int 16.
    assert!(
        bytes.windows(4).any(|w| w == [b'v', b'O', 0xa0, 0xa0]),
        "{}",
        hex(&bytes)
    );
    let again = encode_all(&[values.clone(), values.clone()].concat());
    assert_eq!(decode_all(&again), [values.clone(), values].concat());
}

#[test]
fn nested_objects_and_java_helpers() {
    let person = object(
        "com.example.Person",
        vec![
            ("name", s("Ann")),
            ("born", local_date(1990, 2, 28)),
            (
                "seen",
                local_date_time(2024, 12, 31, 23, 59, 58, 123_456_789),
            ),
            ("balance", big_decimal("-12.50")),
            ("color", java_enum("com.example.Color", "RED")),
            (
                "friends",
                typed_list("java.util.List", vec![object("com.example.Person", vec![])]),
            ),
            (
                "tags",
                map(Some("java.util.HashMap"), vec![(s("k"), s("v"))]),
            ),
        ],
    );
    let bytes = encode_all(std::slice::from_ref(&person));
    assert_eq!(decode_all(&bytes), vec![person]);
}

#[test]
fn self_referencing_object_survives_a_round_trip() {
    // Java's exception shape: `cause` refers to the exception itself (reference 0).
    let boom = object(
        "java.lang.RuntimeException",
        vec![
            ("detailMessage", s("boom")),
            ("cause", Value::Ref(0)),
            ("suppressed", list(vec![Value::Ref(0)])),
        ],
    );
    let bytes = encode_all(std::slice::from_ref(&boom));
    assert!(bytes.windows(2).any(|w| w == [0x51, 0x90]));
    assert_eq!(decode_all(&bytes), vec![boom]);
}
