//! The mapping's test schema, shared by the unit tests of every file, and the request-building tables.

use std::sync::OnceLock;

use api_model::Binding;
use http::HeaderMap;
use prost_reflect::{DescriptorPool, DynamicMessage, MessageDescriptor};

use super::{BodyTarget, RequestInput, RequestPlan, RequestSpec};

mod request;

const LIBRARY: &str = r#"
syntax = "proto3";
package test.v1;

import "google/api/annotations.proto";
import "google/protobuf/duration.proto";
import "google/protobuf/field_mask.proto";
import "google/protobuf/struct.proto";
import "google/protobuf/timestamp.proto";
import "google/protobuf/wrappers.proto";

enum Genre { GENRE_UNSPECIFIED = 0; FICTION = 1; POETRY = 2; }

message Book {
  string id = 1;
  string title = 2;
  int64 page_count = 3;
  Genre genre = 4;
  google.protobuf.Timestamp published_at = 5;
}

message BookRef { string id = 1; int32 page_size = 2; }
message Range { int32 min = 1; int32 max = 2; }
message Filter { Genre genre = 1; string author = 2; repeated string tags = 3; Range years = 4; }

message GetBookRequest {
  string shelf = 1;
  BookRef book = 2;
  repeated string tags = 3;
  google.protobuf.Timestamp read_at = 4;
  Filter filter = 5;
  int64 count = 6;
  uint64 big = 7;
  google.protobuf.Duration ttl = 8;
  google.protobuf.FieldMask mask = 9;
  google.protobuf.Int32Value limit = 10;
  google.protobuf.Struct meta = 11;
  map<string, string> labels = 12;
  string tenant = 13;
  repeated Genre genres = 14;
  Book payload = 15;
  repeated int64 ids = 16;
  bool verbose = 17;
  oneof lookup { string isbn = 18; int64 serial = 19; }
}

message Scalars {
  int32 i32 = 1; int64 i64 = 2; uint32 u32 = 3; uint64 u64 = 4; sint32 s32 = 5;
  double f64 = 6; float f32 = 7; bool flag = 8; string text = 9; bytes data = 10; Genre genre = 11;
  google.protobuf.Timestamp at = 12; google.protobuf.Duration ttl = 13; google.protobuf.FieldMask mask = 14;
  google.protobuf.Int64Value count = 15; google.protobuf.BoolValue enabled = 16;
  google.protobuf.Struct meta = 17; map<string, string> labels = 18;
}

message BookReply {
  Book book = 1;
  repeated string tags = 2;
  double score = 3;
  map<string, string> labels = 4;
  string next_page_token = 5;
  int64 total = 6;
}

service Library {
  rpc GetBook(GetBookRequest) returns (BookReply) {
    option (google.api.http) = {
      get: "/v1/shelves/{shelf}/books/{book.id}"
      response_body: "book"
      additional_bindings { post: "/v1/books:lookup" body: "*" }
      additional_bindings { custom { kind: "HEAD" path: "/v1/books/{book.id}" } }
    };
  }
  rpc CreateBook(GetBookRequest) returns (BookReply) {
    option (google.api.http) = { post: "/v1/shelves/{shelf}/books" body: "payload" };
  }
  rpc UpdateBook(GetBookRequest) returns (BookReply) {
    option (google.api.http) = { patch: "/v1/books/{book.id}" body: "*" };
  }
  rpc DeleteBook(GetBookRequest) returns (BookReply) {
    option (google.api.http) = { delete: "/v1/books/{book.id}" };
  }
  rpc Unannotated(GetBookRequest) returns (BookReply);
}
"#;

/// The test schema, compiled once through the same entry point the catalog uses.
pub(crate) fn pool() -> &'static DescriptorPool {
    static POOL: OnceLock<DescriptorPool> = OnceLock::new();
    POOL.get_or_init(|| {
        let sources = [("test/library.proto".to_string(), LIBRARY.to_string())];
        proto_registry::compile_sources(&sources, &["test/library.proto".to_string()])
            .expect("the test schema compiles")
    })
}

pub(crate) fn message_from_json(desc: &MessageDescriptor, json: &str) -> DynamicMessage {
    let mut de = serde_json::Deserializer::from_str(json);
    DynamicMessage::deserialize(desc.clone(), &mut de).expect("test JSON fits the message")
}

fn to_json(message: &DynamicMessage) -> serde_json::Value {
    serde_json::to_value(message).expect("serializes")
}

fn request_type() -> MessageDescriptor {
    pool()
        .get_message_by_name("test.v1.GetBookRequest")
        .expect("message")
}

/// One route's declaration, in the compact form the tables use.
struct Route {
    vars: &'static [&'static str],
    body: &'static str,
    bindings: &'static str,
    query_params: bool,
}

const GET: Route = Route {
    vars: &["shelf", "book.id"],
    body: "",
    bindings: "[]",
    query_params: true,
};
const POST_ALL: Route = Route {
    vars: &["shelf"],
    body: "*",
    bindings: "[]",
    query_params: false,
};
const POST_FIELD: Route = Route {
    vars: &["shelf"],
    body: "payload",
    bindings: "[]",
    query_params: true,
};

/// One request, in the compact form the tables use.
struct Call {
    path: &'static [&'static str],
    query: &'static str,
    headers: &'static [(&'static str, &'static str)],
    content_type: Option<&'static str>,
    body: &'static str,
}

const CALL: Call = Call {
    path: &["s1", "b1"],
    query: "",
    headers: &[],
    content_type: None,
    body: "",
};

fn compile(route: &Route) -> Result<RequestPlan, super::PlanError> {
    let vars: Vec<String> = route.vars.iter().map(|v| v.to_string()).collect();
    let bindings: Vec<Binding> = serde_json::from_str(route.bindings).expect("bindings JSON");
    RequestPlan::compile(RequestSpec {
        input: request_type(),
        path_variables: &vars,
        body: BodyTarget::from_rule(route.body),
        bindings: &bindings,
        query_params: route.query_params,
    })
}

fn build(route: &Route, call: &Call) -> Result<DynamicMessage, crate::error::GatewayError> {
    let plan = compile(route).expect("the route compiles");
    let path: Vec<String> = call.path.iter().map(|v| v.to_string()).collect();
    let query: Vec<(String, String)> = call
        .query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (k.to_string(), v.to_string())
        })
        .collect();
    let mut headers = HeaderMap::new();
    for (name, value) in call.headers {
        let name = http::HeaderName::from_static(name);
        headers.append(name, http::HeaderValue::from_static(value));
    }
    plan.build(&RequestInput {
        path_values: &path,
        query: &query,
        headers: &headers,
        content_type: call.content_type,
        body: call.body.as_bytes(),
    })
}
