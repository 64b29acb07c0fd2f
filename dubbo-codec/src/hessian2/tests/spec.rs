//! Hand-written byte vectors, mostly the examples of the Hessian 2.0 serialization spec: each is decoded
//! to the expected value and, where the form is the most compact one, encoded back to the same bytes.

use super::*;

/// (bytes, value, whether our encoder writes exactly these bytes).
fn cases() -> Vec<(Vec<u8>, Value, bool)> {
    vec![
        (vec![b'N'], Value::Null, true),
        (vec![b'T'], Value::Bool(true), true),
        (vec![b'F'], Value::Bool(false), true),
        // int
        (vec![0x90], Value::Int(0), true),
        (vec![0x80], Value::Int(-16), true),
        (vec![0xbf], Value::Int(47), true),
        (vec![0xc8, 0x00], Value::Int(0), false),
        (vec![0xc0, 0x00], Value::Int(-2048), true),
        (vec![0xc7, 0x00], Value::Int(-256), true),
        (vec![0xcf, 0xff], Value::Int(2047), true),
        (vec![0xd4, 0x00, 0x00], Value::Int(0), false),
        (vec![0xd0, 0x00, 0x00], Value::Int(-262144), true),
        (vec![0xd7, 0xff, 0xff], Value::Int(262143), true),
        (vec![b'I', 0x00, 0x00, 0x00, 0x00], Value::Int(0), false),
        (vec![b'I', 0x00, 0x00, 0x01, 0x2c], Value::Int(300), false),
        (
            vec![b'I', 0x80, 0x00, 0x00, 0x00],
            Value::Int(i32::MIN),
            true,
        ),
        // long
        (vec![0xe0], Value::Long(0), true),
        (vec![0xd8], Value::Long(-8), true),
        (vec![0xef], Value::Long(15), true),
        (vec![0xf8, 0x00], Value::Long(0), false),
        (vec![0xf0, 0x00], Value::Long(-2048), true),
        (vec![0xf7, 0x00], Value::Long(-256), true),
        (vec![0xff, 0xff], Value::Long(2047), true),
        (vec![0x3c, 0x00, 0x00], Value::Long(0), false),
        (vec![0x38, 0x00, 0x00], Value::Long(-262144), true),
        (vec![0x3f, 0xff, 0xff], Value::Long(262143), true),
        (vec![0x59, 0x00, 0x00, 0x00, 0x00], Value::Long(0), false),
        (vec![0x59, 0x00, 0x00, 0x01, 0x2c], Value::Long(300), false),
        (
            vec![b'L', 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x2c],
            Value::Long(300),
            false,
        ),
        // double
        (vec![0x5b], Value::Double(0.0), true),
        (vec![0x5c], Value::Double(1.0), true),
        (vec![0x5d, 0x00], Value::Double(0.0), false),
        (vec![0x5d, 0x80], Value::Double(-128.0), true),
        (vec![0x5d, 0x7f], Value::Double(127.0), true),
        (vec![0x5e, 0x00, 0x00], Value::Double(0.0), false),
        (vec![0x5e, 0x80, 0x00], Value::Double(-32768.0), true),
        (vec![0x5e, 0x7f, 0xff], Value::Double(32767.0), true),
        // Thousandths, as Java writes 0x5f: 12.25 = 12250 / 1000.
        (
            vec![0x5f, 0x00, 0x00, 0x2f, 0xda],
            Value::Double(12.25),
            true,
        ),
        (
            vec![b'D', 0x40, 0x28, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00],
            Value::Double(12.25),
            false,
        ),
        // date: the spec's 09:51:31 May 8, 1998 UTC, and its compact minutes form.
        (
            vec![0x4a, 0x00, 0x00, 0x00, 0xd0, 0x4b, 0x92, 0x84, 0xb8],
            Value::Date(894621091000),
            true,
        ),
        (
            vec![0x4b, 0x00, 0xe3, 0x83, 0x8f],
            Value::Date(894621060000),
            true,
        ),
        // string
        (vec![0x00], s(""), true),
        (vec![0x05, b'h', b'e', b'l', b'l', b'o'], s("hello"), true),
        (vec![0x01, 0xc3, 0x83], s("\u{00c3}"), true),
        (
            vec![b'S', 0x00, 0x05, b'h', b'e', b'l', b'l', b'o'],
            s("hello"),
            false,
        ),
        (vec![0x30, 0x03, b'a', b'b', b'c'], s("abc"), false),
        (
            vec![b'R', 0x00, 0x02, b'a', b'b', 0x01, b'c'],
            s("abc"),
            false,
        ),
        (
            vec![
                b'R', 0x00, 0x01, b'a', b'R', 0x00, 0x01, b'b', b'S', 0x00, 0x01, b'c',
            ],
            s("abc"),
            false,
        ),
        // U+1F600 as CESU-8 (two 3-byte surrogates, 2 units) and, leniently, as 4-byte UTF-8.
        (
            vec![0x02, 0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80],
            s("\u{1f600}"),
            true,
        ),
        (vec![0x02, 0xf0, 0x9f, 0x98, 0x80], s("\u{1f600}"), false),
        // A surrogate pair split across chunks still joins.
        (
            vec![b'R', 0x00, 0x01, 0xed, 0xa0, 0xbd, 0x01, 0xed, 0xb8, 0x80],
            s("\u{1f600}"),
            false,
        ),
        // Unpaired surrogates become U+FFFD.
        (vec![0x02, 0xed, 0xa0, 0xbd, b'x'], s("\u{fffd}x"), false),
        (vec![0x01, 0xed, 0xb8, 0x80], s("\u{fffd}"), false),
        // binary
        (vec![0x20], Value::Binary(vec![]), true),
        (
            vec![0x23, 0x01, 0x02, 0x03],
            Value::Binary(vec![1, 2, 3]),
            true,
        ),
        (
            vec![b'B', 0x00, 0x02, 0x01, 0x02],
            Value::Binary(vec![1, 2]),
            false,
        ),
        (
            vec![b'A', 0x00, 0x01, 0x01, 0x21, 0x02],
            Value::Binary(vec![1, 2]),
            false,
        ),
        (
            vec![0x34, 0x02, 0x01, 0x02],
            Value::Binary(vec![1, 2]),
            false,
        ),
        // list: the spec's `V x04[int x92 x90 x91`, and the other five forms.
        (
            vec![b'V', 0x04, b'[', b'i', b'n', b't', 0x92, 0x90, 0x91],
            typed_list("[int", vec![Value::Int(0), Value::Int(1)]),
            false,
        ),
        (
            vec![0x72, 0x04, b'[', b'i', b'n', b't', 0x90, 0x91],
            typed_list("[int", vec![Value::Int(0), Value::Int(1)]),
            true,
        ),
        (
            vec![0x57, 0x90, 0x91, b'Z'],
            list(vec![Value::Int(0), Value::Int(1)]),
            false,
        ),
        (
            vec![0x58, 0x92, 0x90, 0x91],
            list(vec![Value::Int(0), Value::Int(1)]),
            false,
        ),
        (
            vec![0x7a, 0x90, 0x91],
            list(vec![Value::Int(0), Value::Int(1)]),
            true,
        ),
        (
            vec![0x55, 0x01, b'x', 0x90, b'Z'],
            typed_list("x", vec![Value::Int(0)]),
            false,
        ),
        (vec![0x78], list(vec![]), true),
        // map: the spec's typed and untyped examples.
        (
            vec![
                b'H', 0x91, 0x03, b'f', b'e', b'e', 0xa0, 0x03, b'f', b'i', b'e', 0xc9, 0x00, 0x03,
                b'f', b'o', b'e', b'Z',
            ],
            map(
                None,
                vec![
                    (Value::Int(1), s("fee")),
                    (Value::Int(16), s("fie")),
                    (Value::Int(256), s("foe")),
                ],
            ),
            true,
        ),
        (
            vec![
                b'M', 0x07, b'c', b'a', b'r', b'.', b'C', b'a', b'r', 0x05, b'm', b'o', b'd', b'e',
                b'l', 0x06, b'B', b'e', b'e', b't', b'l', b'e', b'Z',
            ],
            map(Some("car.Car"), vec![(s("model"), s("Beetle"))]),
            true,
        ),
        // object: the spec's `C x0bexample.Car x92 x05color x05model O x90 x03red x08corvette`.
        (
            [
                &[b'C', 0x0b][..],
                b"example.Car",
                &[0x92, 0x05],
                b"color",
                &[0x05],
                b"model",
                &[b'O', 0x90, 0x03],
                b"red",
                &[0x08],
                b"corvette",
            ]
            .concat(),
            object(
                "example.Car",
                vec![("color", s("red")), ("model", s("corvette"))],
            ),
            false,
        ),
    ]
}

#[test]
fn spec_vectors_decode_and_compact_ones_encode_back() {
    for (bytes, value, canonical) in cases() {
        let mut decoder = Decoder::new(&bytes);
        let decoded = decoder
            .read()
            .unwrap_or_else(|e| panic!("{}: {e}", hex(&bytes)));
        assert_eq!(decoded, value, "decoding {}", hex(&bytes));
        assert!(decoder.is_empty(), "trailing bytes after {}", hex(&bytes));
        if canonical {
            assert_eq!(hex(&encode_all(&[value])), hex(&bytes));
        }
    }
}

#[test]
fn spec_object_examples_compact_class_refs() {
    // The spec's `C x0bexample.Car x91 x05color x60 x03red x60 x05green`: one definition, two instances.
    let bytes = [
        &[b'C', 0x0b][..],
        b"example.Car",
        &[0x91, 0x05],
        b"color",
        &[0x60, 0x03],
        b"red",
        &[0x60, 0x05],
        b"green",
    ]
    .concat();
    let red = object("example.Car", vec![("color", s("red"))]);
    let green = object("example.Car", vec![("color", s("green"))]);
    assert_eq!(decode_all(&bytes), vec![red.clone(), green.clone()]);
    assert_eq!(hex(&encode_all(&[red, green])), hex(&bytes));
}

#[test]
fn spec_circular_list() {
    // The spec's `C x0aLinkedList x92 x04head x04tail o x90 x91 o x90 x92 x51 x90`, with `O` for its `o`.
    let bytes = [
        &[b'C', 0x0a][..],
        b"LinkedList",
        &[0x92, 0x04],
        b"head",
        &[0x04],
        b"tail",
        &[b'O', 0x90, 0x91, b'O', 0x90, 0x92, 0x51, 0x90],
    ]
    .concat();
    let inner = object(
        "LinkedList",
        vec![("head", Value::Int(2)), ("tail", Value::Ref(0))],
    );
    assert_eq!(
        decode_all(&bytes),
        vec![object(
            "LinkedList",
            vec![("head", Value::Int(1)), ("tail", inner)]
        )]
    );
}

#[test]
fn type_references_resolve_to_earlier_names() {
    // Second list names its type by reference 0 (`0x90`).
    let bytes = [&[0x71, 0x04][..], b"[int", &[0x91, 0x71, 0x90, 0x92]].concat();
    let expected = vec![
        typed_list("[int", vec![Value::Int(1)]),
        typed_list("[int", vec![Value::Int(2)]),
    ];
    assert_eq!(decode_all(&bytes), expected);
    assert_eq!(hex(&encode_all(&expected)), hex(&bytes));
}

#[test]
fn references_persist_across_values_of_one_body() {
    // A list, then a top-level reference to it: the second value is a copy of the first.
    let bytes = [0x79, 0x91, 0x51, 0x90];
    assert_eq!(
        decode_all(&bytes),
        vec![list(vec![Value::Int(1)]), list(vec![Value::Int(1)])]
    );
}
