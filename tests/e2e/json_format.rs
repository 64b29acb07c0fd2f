//! proto3 JSON decoding, judged against an independent implementation: Python's
//! `google.protobuf.json_format`. A sweep of boundary values for every integer kind (as JSON numbers and as
//! strings, in plain, exponent and decimal-point form), wrappers, repeated and map values, and duplicate
//! keys: each case must be accepted by both or refused by both (a 400 here), and an accepted case must
//! decode to the same message.

use std::io::Write;
use std::process::{Command, Stdio};

use base64::Engine;
use gateway_web::mapping::{BodyTarget, RequestInput, RequestPlan, RequestSpec};
use prost_reflect::{DescriptorPool, DynamicMessage, MessageDescriptor};
use serde_json::Value;

use crate::harness::python;

const SCHEMA: &str = r#"
syntax = "proto3";
package sweep.v1;
import "google/protobuf/wrappers.proto";

message Ints {
  int32 i32 = 1; sint32 s32 = 2; sfixed32 sf32 = 3; uint32 u32 = 4; fixed32 f32 = 5;
  int64 i64 = 6; sint64 s64 = 7; sfixed64 sf64 = 8; uint64 u64 = 9; fixed64 f64 = 10;
  repeated int64 many = 11;
  google.protobuf.Int64Value boxed = 12;
  google.protobuf.UInt32Value boxed_u32 = 13;
  map<string, int32> counts = 14;
  Inner inner = 15;
}
message Inner { int32 n = 1; string s = 2; }
"#;

fn ints() -> (DescriptorPool, MessageDescriptor) {
    let sources = [("sweep/v1/ints.proto".to_string(), SCHEMA.to_string())];
    let pool = proto_registry::compile_sources(&sources, &["sweep/v1/ints.proto".to_string()])
        .expect("the sweep schema compiles");
    let message = pool.get_message_by_name("sweep.v1.Ints").expect("Ints");
    (pool, message)
}

/// Values on and beyond each range's edges, in every spelling the JSON mapping allows or forbids. Left
/// out on purpose (see `stricter_than_json_format`): exponent-form strings above 2^53 (json_format reads
/// them through a float and rounds, this gateway reads them exactly), and spellings only Python's `int()`
/// takes (`"1_000"`, `"\t1"`).
fn integer_cases() -> Vec<String> {
    let ranges: [(&[&str], i128, i128); 4] = [
        (&["i32", "s32", "sf32"], i32::MIN.into(), i32::MAX.into()),
        (&["u32", "f32"], 0, u32::MAX.into()),
        (&["i64", "s64", "sf64"], i64::MIN.into(), i64::MAX.into()),
        (&["u64", "f64"], 0, u64::MAX.into()),
    ];
    let spellings = [
        "0",
        "-0",
        "\"-0\"",
        "\"+7\"",
        "\"007\"",
        "1e3",
        "\"1e3\"",
        "\"1E+3\"",
        "1.0",
        "\"12.0\"",
        "\"1.\"",
        "\"1200e-2\"",
        "1.5",
        "\"1.5\"",
        "\"15e-1\"",
        "-1",
        "\"-1\"",
        "\"\"",
        "\" 1\"",
        "\"0x10\"",
        "\"abc\"",
        "true",
        "null",
        "\"NaN\"",
        "\"Infinity\"",
        "1e400",
        "\"1e400\"",
        "9007199254740993",
        "\"9007199254740993\"",
        "4294967296",
        "2147483648.0",
        "9.223372036854775808e18",
        "1.8446744073709551616e19",
        "-9.2233720368547748e18",
        "18446744073709551615",
        "18446744073709551616",
        "\"18446744073709551616\"",
        "-9223372036854775809",
    ];
    let mut cases = Vec::new();
    for (fields, min, max) in ranges {
        for field in fields {
            for edge in [min, max, min - 1, max + 1] {
                cases.push(format!(r#"{{"{field}":{edge}}}"#));
                cases.push(format!(r#"{{"{field}":"{edge}"}}"#));
            }
            for spelling in spellings {
                cases.push(format!(r#"{{"{field}":{spelling}}}"#));
            }
        }
    }
    cases
}

fn other_cases() -> Vec<String> {
    [
        r#"{"many":["1e3",2,"-4.0"]}"#,
        r#"{"many":[9223372036854775808]}"#,
        r#"{"many":["1.5"]}"#,
        r#"{"boxed":"1e3"}"#,
        r#"{"boxed":9.223372036854775808e18}"#,
        r#"{"boxedU32":4294967295}"#,
        r#"{"boxed_u32":"4.294967296e9"}"#,
        r#"{"counts":{"a":"1e1","b":-2147483648}}"#,
        r#"{"counts":{"a":2147483648}}"#,
        r#"{"inner":{"n":"2e2","s":"1e3"}}"#,
        // Duplicate keys, anywhere, and one field under both of its names.
        r#"{"i32":1,"i32":2}"#,
        r#"{"i32":1,"i32":1}"#,
        r#"{"inner":{"n":1,"n":2}}"#,
        r#"{"inner":{"s":"a"},"inner":{"n":1}}"#,
        r#"{"counts":{"a":1,"a":2}}"#,
        r#"{"many":[1],"many":[2]}"#,
        r#"{"i32":1,"u32":2,"inner":{"n":3,"s":"x"},"counts":{"a":1,"b":2}}"#,
    ]
    .map(str::to_string)
    .to_vec()
}

/// json_format's verdict per case: the parsed message's bytes, or its error.
fn reference(pool: &DescriptorPool, cases: &[String]) -> Vec<Result<Vec<u8>, String>> {
    let dir = tempfile::tempdir().expect("temp dir");
    let set = dir.path().join("ints.binpb");
    std::fs::write(&set, pool.encode_to_vec()).expect("write the descriptor set");
    let request = serde_json::json!({
        "descriptor_set": set, "message": "sweep.v1.Ints", "cases": cases,
    });
    let mut child = Command::new(python())
        .arg(crate::harness::repo_root().join("tests/peers/json_format_verdicts.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the json_format script");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(request.to_string().as_bytes())
        .expect("send the cases");
    drop(stdin);
    let output = child.wait_with_output().expect("json_format verdicts");
    assert!(output.status.success(), "the json_format script failed");
    let verdicts: Vec<Value> = serde_json::from_slice(&output.stdout).expect("verdict JSON");
    verdicts
        .into_iter()
        .map(|verdict| match (verdict.get("ok"), verdict.get("error")) {
            (Some(Value::String(data)), _) => Ok(base64::engine::general_purpose::STANDARD
                .decode(data)
                .expect("base64")),
            (_, Some(error)) => Err(error.to_string()),
            _ => panic!("a verdict without ok or error: {verdict}"),
        })
        .collect()
}

fn body_plan(message: &MessageDescriptor) -> RequestPlan {
    RequestPlan::compile(RequestSpec {
        input: message.clone(),
        path_variables: &[],
        body: BodyTarget::Whole,
        bindings: &[],
        query_params: false,
    })
    .expect("the plan compiles")
}

fn decode(
    plan: &RequestPlan,
    body: &str,
) -> Result<DynamicMessage, gateway_web::error::GatewayError> {
    plan.build(&RequestInput {
        path_values: &[],
        query: &[],
        headers: &http::HeaderMap::new(),
        content_type: Some("application/json"),
        body: body.as_bytes(),
    })
}

/// The canonical JSON of a message (defaults left out, map keys sorted), to compare two decodes.
fn as_json(message: &DynamicMessage) -> Value {
    serde_json::to_value(message).expect("the message serializes")
}

#[test]
fn integers_and_duplicate_keys_decode_as_json_format_does() {
    let (pool, message) = ints();
    let plan = body_plan(&message);
    let cases: Vec<String> = integer_cases().into_iter().chain(other_cases()).collect();
    let verdicts = reference(&pool, &cases);
    assert_eq!(verdicts.len(), cases.len());
    let mut disagreements = Vec::new();
    let (mut accepted, mut refused) = (0, 0);
    for (case, verdict) in cases.iter().zip(&verdicts) {
        match (decode(&plan, case), verdict) {
            (Ok(built), Ok(bytes)) => {
                let theirs = DynamicMessage::decode(message.clone(), bytes.as_slice())
                    .expect("json_format's bytes decode");
                let (built, theirs) = (as_json(&built), as_json(&theirs));
                if built != theirs {
                    disagreements.push(format!("{case}: we built {built}, json_format {theirs}"));
                }
                accepted += 1;
            }
            (Err(err), Err(_)) => {
                assert_eq!(err.status().as_u16(), 400, "{case}: {err}");
                refused += 1;
            }
            (Ok(built), Err(why)) => disagreements.push(format!(
                "{case}: we accepted {}, json_format: {why}",
                as_json(&built)
            )),
            (Err(err), Ok(_)) => {
                disagreements.push(format!("{case}: we refused ({err}), json_format accepted"))
            }
        }
    }
    assert!(
        disagreements.is_empty(),
        "{} of {} cases disagree with json_format:\n{}",
        disagreements.len(),
        cases.len(),
        disagreements.join("\n")
    );
    // Both outcomes are well represented, so the sweep cannot pass by refusing (or taking) everything.
    assert!(
        accepted > 150 && refused > 250,
        "{accepted} accepted, {refused} refused"
    );
}

/// Where this gateway is deliberately stricter than json_format, each refused with a 400.
#[test]
fn stricter_than_json_format() {
    let (_, message) = ints();
    let plan = body_plan(&message);
    let cases = [
        // One field under both its names: json_format keeps the last; that drops a value without a word.
        (
            r#"{"boxed_u32":1,"boxedU32":2}"#,
            "field `boxed_u32` is given twice",
        ),
        // serde_json reads this literal as the double -2^63, which could as well be i64::MIN.
        (
            r#"{"i64":-9223372036854775809}"#,
            "may stand for a value beyond it",
        ),
        (r#"{"i64":-9.223372036854775808e18}"#, "at the int64 limit"),
    ];
    for (body, phrase) in cases {
        match decode(&plan, body) {
            Ok(built) => panic!("{body}: accepted as {}", as_json(&built)),
            Err(err) => {
                assert_eq!(err.status().as_u16(), 400, "{body}");
                assert!(err.message.contains(phrase), "{body}: {}", err.message);
            }
        }
    }
    // The exact spelling of the lowest int64 is taken, as a number and as a string.
    for body in [
        r#"{"i64":-9223372036854775808}"#,
        r#"{"i64":"-9223372036854775808"}"#,
    ] {
        let built = decode(&plan, body).unwrap_or_else(|err| panic!("{body}: {err}"));
        assert_eq!(as_json(&built)["i64"], "-9223372036854775808", "{body}");
    }
}
