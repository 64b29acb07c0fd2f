//! Bytes written by real Java: Caucho Hessian 4.0.38's `Hessian2Output` (see `testdata/README.md`). Each
//! file holds the values that `tests/peers/java-vectors/HessianVectors.java` wrote, in order.

use super::*;

fn vector(name: &str) -> Vec<Value> {
    let path = format!(
        "{}/src/hessian2/testdata/java/{name}.bin",
        env!("CARGO_MANIFEST_DIR")
    );
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    decode_all(&bytes)
}

#[test]
fn ints() {
    let expected = [
        0,
        -16,
        47,
        -17,
        48,
        -2048,
        2047,
        -2049,
        2048,
        -262144,
        262143,
        -262145,
        262144,
        i32::MIN,
        i32::MAX,
    ];
    assert_eq!(vector("ints"), expected.map(Value::Int).to_vec());
}

#[test]
fn longs() {
    let expected = [
        0,
        -8,
        15,
        -9,
        16,
        -2048,
        2047,
        -2049,
        2048,
        -262144,
        262143,
        -262145,
        262144,
        i64::from(i32::MIN),
        i64::from(i32::MAX),
        i64::from(i32::MAX) + 1,
        i64::MIN,
        i64::MAX,
    ];
    assert_eq!(vector("longs"), expected.map(Value::Long).to_vec());
}

#[test]
#[allow(
    clippy::approx_constant,
    reason = "3.14159265358979 is the literal the Java side wrote"
)]
fn doubles() {
    // Java writes -0.0 in the 0.0 form, so it comes back as 0.0.
    let expected = [
        0.0,
        1.0,
        -128.0,
        127.0,
        -129.0,
        128.0,
        -32768.0,
        32767.0,
        32768.0,
        12.25,
        0.001,
        -2.5,
        3.14159265358979,
        1e300,
        0.0,
        2147483.647,
        2147483.648,
        f64::NAN,
        f64::NEG_INFINITY,
    ];
    let got = vector("doubles");
    assert_eq!(got.len(), expected.len());
    for (value, want) in got.iter().zip(expected) {
        let Value::Double(v) = value else {
            panic!("{value:?}")
        };
        assert_eq!(v.to_bits(), want.to_bits(), "{v} != {want}");
    }
    // Our encoder picks the same forms as Java for all but -0.0 (which we keep).
    let bytes = std::fs::read(format!(
        "{}/src/hessian2/testdata/java/doubles.bin",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap_or_default();
    assert_eq!(hex(&encode_all(&got)), hex(&bytes));
}

#[test]
fn dates() {
    let expected = [0, 1_700_000_000_123, 1_699_999_980_000, -60_000];
    assert_eq!(vector("dates"), expected.map(Value::Date).to_vec());
}

#[test]
fn strings() {
    let mixed: String = (0..40_000)
        .map(|i| match i {
            _ if i % 1000 == 999 => '\u{1f600}',
            _ if i % 3 == 0 => '\u{e9}',
            _ if i % 3 == 1 => '\u{4e2d}',
            _ => 'z',
        })
        .collect();
    let expected = [
        String::new(),
        "a".into(),
        "a".repeat(31),
        "b".repeat(32),
        "c".repeat(1023),
        "d".repeat(1024),
        "h\u{e9}llo w\u{f6}rld".into(),
        "\u{4e2d}\u{6587}".into(),
        "\u{1f600}".into(),
        "a\u{1f600}b".into(),
        "e".repeat(0x8000),
        "f".repeat(0x8001),
        format!("{}\u{1f600}b", "a".repeat(0x7fff)),
        mixed,
    ];
    let expected: Vec<Value> = expected.iter().map(|text| s(text)).collect();
    assert_eq!(vector("strings"), expected);
    // Java chunks and sizes strings exactly as we do.
    let bytes = std::fs::read(format!(
        "{}/src/hessian2/testdata/java/strings.bin",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap_or_default();
    assert!(
        encode_all(&expected) == bytes,
        "encoding differs from Java's"
    );
}

#[test]
fn binary() {
    let data = |n: usize| Value::Binary((0..n).map(|i| (i * 31 + 7) as u8).collect());
    let expected: Vec<Value> = [0, 15, 16, 1023, 1024, 0x8000, 0x8001].map(data).to_vec();
    // Caucho cuts `A` chunks wherever its 8 KiB output buffer fills (6102, 8189, ... bytes), not at 0x8000.
    assert_eq!(vector("binary"), expected);
}

#[test]
fn primitive_and_object_arrays() {
    let ints = |v: &[i32]| v.iter().copied().map(Value::Int).collect::<Vec<_>>();
    assert_eq!(
        vector("arrays"),
        vec![
            typed_list("[int", ints(&[1, 2, 3])),
            typed_list("[int", ints(&[0, 1, 2, 3, 4, 5, 6, 7, 8, 9])),
            typed_list("[short", ints(&[1, -1])),
            typed_list("[float", vec![Value::Double(1.5), Value::Double(2.25)]),
            typed_list("[long", vec![Value::Long(5)]),
            typed_list("[double", vec![Value::Double(0.5)]),
            typed_list("[boolean", vec![Value::Bool(true), Value::Bool(false)]),
            typed_list("[string", vec![s("a"), s("b")]),
            typed_list("[object", vec![Value::Int(1), s("x")]),
        ]
    );
}

#[test]
fn collections() {
    assert_eq!(
        vector("collections"),
        vec![
            list(vec![Value::Int(1), s("two"), Value::Long(3)]),
            map(None, vec![(s("a"), Value::Int(1))]),
            map(
                Some("java.util.TreeMap"),
                vec![(s("x"), Value::Int(1)), (s("y"), Value::Int(2))]
            ),
            list(vec![]),
            typed_list("java.util.LinkedList", vec![s("p"), s("q")]),
        ]
    );
}

#[test]
fn pojos_with_nested_and_shared_objects() {
    let home = object(
        "vectors.Address",
        vec![("city", s("Paris")), ("zip", Value::Long(75001))],
    );
    let person = |name: &str, age: i32, address: Value| {
        object(
            "vectors.Person",
            vec![
                ("name", s(name)),
                ("age", Value::Int(age)),
                ("address", address),
            ],
        )
    };
    assert_eq!(
        vector("pojos"),
        vec![
            person("Ann", 30, home.clone()),
            // Java wrote Bob's address as a reference to Ann's: it comes back as a copy.
            person("Bob", 40, home),
            list(vec![
                person("Cy", 5, Value::Null),
                person("Di", 6, Value::Null)
            ]),
        ]
    );
}

#[test]
fn enums() {
    let red = object("vectors.Color", vec![("name", s("RED"))]);
    let green = object("vectors.Color", vec![("name", s("GREEN"))]);
    // The second RED is a reference into the first value of the body.
    assert_eq!(vector("enums"), vec![red.clone(), green, red]);
}

#[test]
fn exception_whose_cause_is_itself() {
    let values = vector("exception");
    let [Value::Object(boom)] = values.as_slice() else {
        panic!("{values:?}")
    };
    assert_eq!(boom.class, "java.lang.RuntimeException");
    let names: Vec<&str> = boom.fields.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names,
        [
            "detailMessage",
            "cause",
            "stackTrace",
            "suppressedExceptions"
        ]
    );
    assert_eq!(boom.field("detailMessage"), Some(&s("boom")));
    assert_eq!(boom.field("cause"), Some(&Value::Ref(0)));
    let Some(Value::List(trace)) = boom.field("stackTrace") else {
        panic!("{boom:?}")
    };
    assert_eq!(
        trace.type_name.as_deref(),
        Some("[java.lang.StackTraceElement")
    );
    let [Value::Object(frame)] = trace.items.as_slice() else {
        panic!("{trace:?}")
    };
    assert_eq!(frame.field("declaringClass"), Some(&s("com.example.Svc")));
    assert_eq!(frame.field("methodName"), Some(&s("call")));
    assert_eq!(frame.field("lineNumber"), Some(&Value::Int(42)));
    assert_eq!(
        boom.field("suppressedExceptions"),
        Some(&typed_list("java.util.Collections$EmptyList", vec![]))
    );
}

#[test]
fn shared_and_self_containing_lists() {
    let shared = list(vec![s("s")]);
    assert_eq!(
        vector("refs"),
        vec![
            list(vec![shared.clone(), shared.clone()]),
            // Reference 2 is the list itself, still open when referred to.
            list(vec![s("head"), Value::Ref(2)]),
            shared,
        ]
    );
}

#[test]
fn more_than_sixteen_classes() {
    let expected: Vec<Value> = (0..=16)
        .chain([16])
        .map(|i| object(&format!("vectors.K{i}"), vec![("v", Value::Int(i))]))
        .collect();
    assert_eq!(vector("many_classes"), expected);
}

#[test]
fn every_small_java_vector_truncated_at_every_byte_fails_cleanly() {
    let dir = format!("{}/src/hessian2/testdata/java", env!("CARGO_MANIFEST_DIR"));
    for name in [
        "arrays",
        "collections",
        "dates",
        "doubles",
        "enums",
        "exception",
        "ints",
        "longs",
        "many_classes",
        "pojos",
        "refs",
    ] {
        let bytes = std::fs::read(format!("{dir}/{name}.bin")).unwrap_or_default();
        assert!(!bytes.is_empty(), "{name}");
        for cut in 0..bytes.len() {
            let mut decoder = Decoder::new(&bytes[..cut]);
            let mut result = Ok(Value::Null);
            while !decoder.is_empty() && result.is_ok() {
                result = decoder.read();
            }
            // A cut between two values decodes cleanly; anywhere else it is a truncation.
            if let Err(e) = result {
                assert_eq!(
                    e.kind(),
                    crate::hessian2::DecodeErrorKind::Truncated,
                    "{name} cut at {cut}: {e}"
                );
            }
        }
    }
}
