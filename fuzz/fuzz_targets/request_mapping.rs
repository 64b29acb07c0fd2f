//! A client's query string and body onto a request message, through the plans the gateway compiles:
//! the whole body, one body field beside query parameters, query parameters alone, and explicit
//! bindings (a header, a body member). The first byte picks the plan and the media type, the first line
//! is the query string, the rest is the body. Every input must end as a message or a 4xx, never a panic
//! or a 5xx.
#![no_main]

use std::sync::OnceLock;

use api_model::Binding;
use gateway_web::access::exchange::decode_component;
use gateway_web::mapping::{BodyTarget, RequestInput, RequestPlan, RequestSpec};
use libfuzzer_sys::fuzz_target;

const SCHEMA: &str = r#"
syntax = "proto3";
package fuzz.v1;
import "google/protobuf/any.proto";
import "google/protobuf/duration.proto";
import "google/protobuf/field_mask.proto";
import "google/protobuf/struct.proto";
import "google/protobuf/timestamp.proto";
import "google/protobuf/wrappers.proto";

enum Kind { KIND_UNSPECIFIED = 0; A = 1; B = 2; }
message Inner { string s = 1; int32 i = 2; repeated Inner children = 3; map<int64, Inner> by_id = 4; }
message Request {
  string shelf = 1;
  int32 i32 = 2; int64 i64 = 3; uint32 u32 = 4; uint64 u64 = 5; sint32 s32 = 6; sint64 s64 = 7;
  fixed32 f32 = 8; fixed64 f64 = 9; sfixed32 sf32 = 10; sfixed64 sf64 = 11;
  float fl = 12; double db = 13; bool flag = 14; bytes data = 15; Kind kind = 16;
  repeated string tags = 17; repeated Kind kinds = 18; map<string, string> labels = 19;
  map<uint32, Inner> nested = 20; Inner payload = 21;
  google.protobuf.Timestamp at = 22; google.protobuf.Duration ttl = 23;
  google.protobuf.FieldMask mask = 24; google.protobuf.Struct meta = 25; google.protobuf.Value any_value = 26;
  google.protobuf.ListValue list = 27; google.protobuf.Int64Value boxed = 28; google.protobuf.Any packed = 29;
  oneof choice { string name = 30; int64 number = 31; Inner detail = 32; }
  optional string maybe = 33;
}
"#;

struct Plans {
    plans: Vec<RequestPlan>,
}

fn plans() -> &'static Plans {
    static PLANS: OnceLock<Plans> = OnceLock::new();
    PLANS.get_or_init(|| {
        let sources = [("fuzz/v1/request.proto".to_string(), SCHEMA.to_string())];
        let pool =
            proto_registry::compile_sources(&sources, &["fuzz/v1/request.proto".to_string()])
                .expect("the fuzz schema compiles");
        let input = pool
            .get_message_by_name("fuzz.v1.Request")
            .expect("Request");
        let bindings: Vec<Binding> = explicit_bindings();
        let specs: [(&[&str], &str, &[Binding], bool); 4] = [
            (&["shelf"], "*", &[], false),
            (&["shelf"], "payload", &[], true),
            (&["shelf", "payload.s"], "", &[], true),
            (&["shelf"], "", &bindings, true),
        ];
        let plans = specs
            .into_iter()
            .map(|(vars, body, bindings, query_params)| {
                let vars: Vec<String> = vars.iter().map(|v| v.to_string()).collect();
                RequestPlan::compile(RequestSpec {
                    input: input.clone(),
                    path_variables: &vars,
                    body: BodyTarget::from_rule(body),
                    bindings,
                    query_params,
                })
                .expect("the fuzz plans compile")
            })
            .collect();
        Plans { plans }
    })
}

fn explicit_bindings() -> Vec<Binding> {
    [
        ("header.x-n", "i64"),
        ("body.a.b", "payload"),
        ("body.n", "u64"),
        ("query.q", "tags"),
    ]
    .into_iter()
    .map(|(from, to)| Binding {
        from: Some(from.parse().expect("a binding source")),
        to: to.to_string(),
        value: None,
    })
    .collect()
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let plans = plans();
    let plan = &plans.plans[usize::from(selector & 3)];
    let content_type = match (selector >> 2) & 3 {
        0 => Some("application/json"),
        1 => Some("application/x-www-form-urlencoded"),
        2 => None,
        _ => Some("application/merge-patch+json"),
    };
    let (query, body) = match rest.iter().position(|&b| b == b'\n') {
        Some(at) => (&rest[..at], &rest[at + 1..]),
        None => (rest, &[][..]),
    };
    let Ok(query) = std::str::from_utf8(query) else {
        return;
    };
    let query: Vec<(String, String)> = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode_component(key), decode_component(value))
        })
        .collect();
    let mut headers = http::HeaderMap::new();
    headers.insert("x-n", http::HeaderValue::from_static("-7"));
    let path_values = ["s1".to_string(), "b1".to_string()];
    let input = RequestInput {
        path_values: &path_values[..plan_variables(selector)],
        query: &query,
        headers: &headers,
        content_type,
        body,
    };
    if let Err(err) = plan.build(&input) {
        let status = err.status().as_u16();
        assert!(
            (400..500).contains(&status),
            "a client's input answered {status}: {err}"
        );
    }
});

/// How many path values the selected plan's template has.
fn plan_variables(selector: u8) -> usize {
    if selector & 3 == 2 { 2 } else { 1 }
}
