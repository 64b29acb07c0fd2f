//! Bytes written by hessian.js 2.11 (the codec of the Node Dubbo providers we test against); see
//! `testdata/hessianjs/write_vectors.js`.

use super::*;

fn bytes(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/src/hessian2/testdata/hessianjs/{name}.bin",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Decodes a vector, checks it against `expected`, and checks that our encoder writes the same bytes.
fn check(name: &str, expected: Vec<Value>, same_bytes: bool) {
    let written = bytes(name);
    assert_eq!(decode_all(&written), expected, "{name}");
    if same_bytes {
        assert!(
            encode_all(&expected) == written,
            "{name}: our encoding differs from hessian.js's"
        );
    }
}

#[test]
fn scalars() {
    let expected = vec![
        Value::Int(0),
        Value::Int(-16),
        Value::Int(47),
        Value::Int(48),
        Value::Int(-2048),
        Value::Int(2047),
        Value::Int(2048),
        Value::Int(262143),
        Value::Int(262144),
        Value::Int(i32::MIN),
        Value::Long(5),
        Value::Long(-262145),
        Value::Long(1 << 40),
        Value::Double(1.5),
        Value::Double(12.25),
        Value::Double(0.1),
        Value::Double(3.0),
        Value::Bool(true),
        Value::Bool(false),
        Value::Null,
        Value::Date(0),
        Value::Date(1_700_000_000_123),
    ];
    check("scalars", expected, true);
}

#[test]
fn strings() {
    let texts = [
        "".into(),
        "a\u{1f600}b".into(),
        "\u{4e2d}\u{6587}".into(),
        "x".repeat(0x8001),
        format!("{}\u{1f600}b", "a".repeat(0x7fff)),
    ];
    check("strings", texts.iter().map(|t| s(t)).collect(), true);
}

#[test]
fn binary() {
    // hessian.js cuts `A` chunks at 4093 bytes; we cut at 0x8000 like Java, so only the values compare.
    check(
        "binary",
        vec![Value::Binary(vec![1, 2, 3]), Value::Binary(vec![7; 0x8001])],
        false,
    );
}

#[test]
fn lists_and_maps() {
    let expected = vec![
        list(vec![Value::Int(1), s("two"), Value::Bool(true)]),
        typed_list("[int", vec![Value::Int(1), Value::Int(2), Value::Int(3)]),
        // hessian.js writes ArrayList and HashMap untyped, as Java does.
        list(vec![Value::Int(1), Value::Int(2)]),
        typed_list("java.util.List", vec![s("p")]),
    ];
    check("lists", expected, true);
    check(
        "maps",
        vec![
            map(None, vec![(s("a"), Value::Int(1))]),
            map(None, vec![(s("k"), s("v"))]),
        ],
        true,
    );
}

#[test]
fn objects_enums_and_big_decimal() {
    let person = |name: &str, age| {
        object(
            "com.example.Person",
            vec![("name", s(name)), ("age", Value::Int(age))],
        )
    };
    let expected = vec![
        person("Ann", 30),
        person("Bob", 40),
        java_enum("com.example.Color", "RED"),
        big_decimal("12.50"),
    ];
    check("objects", expected, true);
}

#[test]
fn self_referencing_object() {
    check(
        "cycle",
        vec![object(
            "com.example.Node",
            vec![("name", s("n")), ("self", Value::Ref(0))],
        )],
        true,
    );
}
