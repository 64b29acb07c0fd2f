//! Request-building tables: (route, call) → the built message as JSON; bad calls → status and message;
//! definitions that must fail to compile → the PlanError text.

use super::{CALL, Call, GET, POST_ALL, POST_FIELD, Route, build, compile, to_json};

const JSON: Option<&str> = Some("application/json");
const FORM: Option<&str> = Some("application/x-www-form-urlencoded");

#[test]
fn builds_the_request_message() {
    // The tables stay one case per line or two; rustfmt would spread each over a dozen.
    #[rustfmt::skip]
    let cases: &[(&str, Route, Call, &str)] = &[
        ("path variables, nested", GET, CALL, r#"{"shelf":"s1","book":{"id":"b1"}}"#),
        ("query: scalars, nested, repeated in order, JSON names", GET,
            Call { query: "count=-5&big=18446744073709551615&filter.genre=POETRY&tags=x&tags=y&book.pageSize=3\
                           &filter.years.min=1990", ..CALL },
            r#"{"shelf":"s1","book":{"id":"b1","pageSize":3},"count":"-5","big":"18446744073709551615",
                "filter":{"genre":"POETRY","years":{"min":1990}},"tags":["x","y"]}"#),
        ("query: well-known types and repeated enums", GET,
            Call { query: "read_at=2024-05-01T10:00:00Z&ttl=2.5s&mask=title,filter.genre&limit=9&genres=FICTION\
                           &genres=2&ids=1&ids=2", ..CALL },
            r#"{"shelf":"s1","book":{"id":"b1"},"readAt":"2024-05-01T10:00:00Z","ttl":"2.500s",
                "mask":"title,filter.genre","limit":9,"genres":["FICTION","POETRY"],"ids":["1","2"]}"#),
        ("whole body, then the path overrides it", POST_ALL,
            Call { path: &["s1"], content_type: JSON, body: r#"{"shelf":"from-body","book":{"id":"7"},
                "labels":{"a":"b"},"meta":{"x":[1,true]},"readAt":"2024-01-01T00:00:00Z"}"#, ..CALL },
            r#"{"shelf":"s1","book":{"id":"7"},"labels":{"a":"b"},"meta":{"x":[1.0,true]},
                "readAt":"2024-01-01T00:00:00Z"}"#),
        ("+json media type, proto field names in the body", POST_ALL,
            Call { path: &["s1"], content_type: Some("application/merge-patch+json"),
                body: r#"{"read_at":"2024-01-01T00:00:00Z"}"#, ..CALL },
            r#"{"shelf":"s1","readAt":"2024-01-01T00:00:00Z"}"#),
        ("body into a field, query beside it", POST_FIELD,
            Call { path: &["s1"], query: "verbose=true", content_type: JSON,
                body: r#"{"title":"Dune","pageCount":"412","genre":"FICTION"}"#, ..CALL },
            r#"{"shelf":"s1","payload":{"title":"Dune","pageCount":"412","genre":"FICTION"},"verbose":true}"#),
        ("no content type means JSON", POST_FIELD, Call { path: &["s1"], body: r#"{"id":"1"}"#, ..CALL },
            r#"{"shelf":"s1","payload":{"id":"1"}}"#),
        ("an empty body sets nothing", POST_ALL, Call { path: &["s1"], content_type: JSON, ..CALL },
            r#"{"shelf":"s1"}"#),
        ("a form body fills the whole message like query parameters", POST_ALL,
            Call { path: &["s1"], content_type: FORM,
                body: "tags=a+b&tags=c%26d&book.id=9&filter.genre=FICTION", ..CALL },
            r#"{"shelf":"s1","tags":["a b","c&d"],"book":{"id":"9"},"filter":{"genre":"FICTION"}}"#),
        ("body into a repeated field", Route { body: "tags", ..POST_FIELD },
            Call { path: &["s1"], content_type: JSON, body: r#"["a","b"]"#, ..CALL },
            r#"{"shelf":"s1","tags":["a","b"]}"#),
        ("body into a map field", Route { body: "labels", ..POST_FIELD },
            Call { path: &["s1"], content_type: JSON, body: r#"{"k":"v"}"#, ..CALL },
            r#"{"shelf":"s1","labels":{"k":"v"}}"#),
        ("body into a scalar field", Route { body: "count", ..POST_FIELD },
            Call { path: &["s1"], content_type: JSON, body: r#""42""#, ..CALL },
            r#"{"shelf":"s1","count":"42"}"#),
        ("bindings: header, query, path, constants; a variable bound explicitly is not auto-bound",
            Route { bindings: r#"[{"from":"header.x-tenant","to":"tenant"},{"from":"query.q","to":"filter.author"},
                {"from":"path.book.id","to":"payload.id"},{"value":"POETRY","to":"filter.genre"},
                {"value":{"min":1},"to":"filter.years"}]"#, ..GET },
            Call { query: "q=Herbert&verbose=true", headers: &[("x-tenant", "acme")], ..CALL },
            r#"{"shelf":"s1","tenant":"acme","verbose":true,"payload":{"id":"b1"},
                "filter":{"author":"Herbert","genre":"POETRY","years":{"min":1}}}"#),
        ("a missing header or query parameter leaves the field unset",
            Route { bindings: r#"[{"from":"header.x-tenant","to":"tenant"},{"from":"query.q","to":"filter.author"}]"#,
                query_params: false, ..GET },
            CALL, r#"{"shelf":"s1","book":{"id":"b1"}}"#),
        ("a repeated header collects every value", Route { bindings: r#"[{"from":"header.x-id","to":"ids"}]"#, ..GET },
            Call { headers: &[("x-id", "1"), ("x-id", "2")], ..CALL },
            r#"{"shelf":"s1","book":{"id":"b1"},"ids":["1","2"]}"#),
        ("body members by binding, on a route without a body rule",
            Route { bindings: r#"[{"from":"body.meta.title","to":"payload.title"},{"from":"body.n","to":"count"},
                {"from":"body.missing","to":"tenant"}]"#, ..GET },
            Call { content_type: JSON, body: r#"{"meta":{"title":"Dune"},"n":5}"#, ..CALL },
            r#"{"shelf":"s1","book":{"id":"b1"},"payload":{"title":"Dune"},"count":"5"}"#),
        ("integers in exponent and decimal-point form, as strings and numbers", POST_ALL,
            Call { path: &["s1"], content_type: JSON, body: r#"{"count":"1e3","big":1e19,"ids":["12.0",2e0,"-5E-0"],
                "limit":"5e1","book":{"pageSize":"3"},"serial":"7e0"}"#, ..CALL },
            r#"{"shelf":"s1","count":"1000","big":"10000000000000000000","ids":["12","2","-5"],"limit":50,
                "book":{"pageSize":3},"serial":"7"}"#),
        ("one oneof member from the query", GET, Call { query: "serial=3", ..CALL },
            r#"{"shelf":"s1","book":{"id":"b1"},"serial":"3"}"#),
        ("the whole body by binding, applied after the query", Route { bindings: r#"[{"from":"body","to":""}]"#, ..GET },
            Call { query: "tenant=q", content_type: JSON, body: r#"{"tenant":"body","verbose":true}"#, ..CALL },
            r#"{"shelf":"s1","book":{"id":"b1"},"tenant":"body","verbose":true}"#),
    ];
    for (name, route, call, expected) in cases {
        let message = build(route, call).unwrap_or_else(|err| panic!("{name}: {err}"));
        let want: serde_json::Value = serde_json::from_str(expected).expect("expected JSON");
        assert_eq!(to_json(&message), want, "{name}");
    }
}

#[test]
fn refuses_bad_requests_with_a_useful_message() {
    let header_n = r#"[{"from":"header.x-n","to":"count"}]"#;
    #[rustfmt::skip]
    let cases: &[(&str, Route, Call, u16, &str)] = &[
        ("malformed JSON", POST_ALL, Call { path: &["s1"], content_type: JSON, body: r#"{"shelf": "#, ..CALL },
            400, "malformed JSON body: EOF while parsing a value at line 1 column 10"),
        ("trailing garbage", POST_ALL, Call { path: &["s1"], content_type: JSON, body: "{} x", ..CALL },
            400, "malformed JSON body: trailing characters at line 1 column 4"),
        ("unknown field", POST_ALL, Call { path: &["s1"], content_type: JSON, body: r#"{"book":{"idd":"1"}}"#, ..CALL },
            400, "unknown field `book.idd` (unrecognized field name 'idd' at line 1 column 14)"),
        ("wrong type", POST_ALL,
            Call { path: &["s1"], content_type: JSON, body: r#"{"book":{"pageSize":"many"}}"#, ..CALL },
            400, "invalid JSON body at `book.pageSize`: `many` is not a valid int32 at line 1 column 26"),
        ("unknown enum in a nested message", POST_ALL,
            Call { path: &["s1"], content_type: JSON, body: r#"{"filter":{},"payload":{"genre":"NOPE"}}"#, ..CALL },
            400, "at `payload.genre`: unrecognized enum value 'NOPE'"),
        ("int64 out of range", POST_ALL,
            Call { path: &["s1"], content_type: JSON, body: r#"{"count":9223372036854775808}"#, ..CALL },
            400, "at `count`: out of range integral type conversion attempted at line 1 column 28"),
        ("int64 out of range, as a string in a list", POST_ALL,
            Call { path: &["s1"], content_type: JSON, body: r#"{"ids":["1","9223372036854775808"]}"#, ..CALL },
            400, "at `ids`: `9223372036854775808` is out of range for int64 (-9223372036854775808 to 9223372036854775807)"),
        ("unknown enum name in a body field", POST_FIELD,
            Call { path: &["s1"], content_type: JSON, body: r#"{"genre":"SONG"}"#, ..CALL },
            400, "at `genre`: unrecognized enum value 'SONG' at line 1 column 15"),
        ("bad timestamp", POST_ALL, Call { path: &["s1"], content_type: JSON, body: r#"{"readAt":"noon"}"#, ..CALL },
            400, "at `readAt`: invalid rfc3339 timestamp"),
        ("unsupported media type", POST_ALL, Call { path: &["s1"], content_type: Some("text/plain"), body: "hi", ..CALL },
            415, "unsupported media type `text/plain`"),
        ("a form body for a body field", POST_FIELD, Call { path: &["s1"], content_type: FORM, body: "a=b", ..CALL },
            415, "unsupported media type `application/x-www-form-urlencoded`"),
        ("a body on a route without one", GET, Call { content_type: JSON, body: "{}", ..CALL },
            400, "this API takes no request body"),
        ("unknown query parameter", GET, Call { query: "x=1", ..CALL }, 400, "unknown query parameter `x`"),
        ("unknown nested query parameter", GET, Call { query: "filter.nope=1", ..CALL },
            400, "unknown query parameter `filter.nope` (`test.v1.Filter` has no field `nope`)"),
        ("query parameters off", POST_ALL, Call { path: &["s1"], query: "tenant=a", ..CALL },
            400, "unknown query parameter `tenant`"),
        ("a non-repeated query parameter twice", GET, Call { query: "tenant=a&tenant=b", ..CALL },
            400, "query parameter `tenant` is given more than once, but `tenant` is not repeated"),
        ("two spellings of one field", GET, Call { query: "book.page_size=1&book.pageSize=2", ..CALL },
            400, "is given more than once"),
        ("a query parameter on a message field", GET, Call { query: "filter=x", ..CALL },
            400, "query parameter `filter` cannot be set from text"),
        ("a query parameter on a map field", GET, Call { query: "labels=x", ..CALL }, 400, "is a map"),
        ("a query parameter on a path-bound field", GET, Call { query: "book.id=2", ..CALL },
            400, "which the path already sets"),
        ("a query parameter inside the body field", POST_FIELD, Call { path: &["s1"], query: "payload.title=x", ..CALL },
            400, "which the body already sets"),
        ("query int32 out of range", GET, Call { query: "book.page_size=2147483648", ..CALL },
            400, "query parameter `book.page_size`: `2147483648` is out of range for int32 (-2147483648 to 2147483647)"),
        ("query int64 out of range", GET, Call { query: "count=9223372036854775808", ..CALL },
            400, "out of range for int64"),
        ("query unknown enum", GET, Call { query: "filter.genre=SONG", ..CALL },
            400, "`SONG` is not a value of enum `test.v1.Genre` (expected one of GENRE_UNSPECIFIED, FICTION, POETRY)"),
        ("a path variable of the wrong type", Route { vars: &["shelf", "count"], ..GET },
            Call { path: &["s1", "ten"], ..CALL }, 400, "path variable `count`: `ten` is not a valid int64"),
        ("a bad header value", Route { bindings: header_n, ..GET }, Call { headers: &[("x-n", "many")], ..CALL },
            400, "header `x-n`: `many` is not a valid int64"),
        ("a header twice for a singular field", Route { bindings: header_n, ..GET },
            Call { headers: &[("x-n", "1"), ("x-n", "2")], ..CALL }, 400, "header `x-n` is given more than once"),
        ("a query parameter beside body \"*\"", Route { query_params: true, ..POST_ALL },
            Call { path: &["s1"], query: "tenant=a", content_type: JSON, body: r#"{"tenant":"b"}"#, ..CALL },
            400, "unknown query parameter `tenant` (with `body: \"*\"` every field comes from the body or the path)"),
        ("two oneof members in the query", GET, Call { query: "isbn=x&serial=2", ..CALL },
            400, "`isbn` and `serial` are both members of oneof `lookup`; set only one"),
        ("oneof members from the path and the query", Route { vars: &["shelf", "isbn"], ..GET },
            Call { path: &["s1", "x"], query: "serial=3", ..CALL }, 400, "both members of oneof `lookup`"),
        ("oneof members from the body and the path", Route { vars: &["shelf", "isbn"], ..POST_ALL },
            Call { path: &["s1", "x"], content_type: JSON, body: r#"{"serial":"1"}"#, ..CALL },
            400, "`serial` and `isbn` are both members of oneof `lookup`"),
        ("oneof members both in the body", POST_ALL,
            Call { path: &["s1"], content_type: JSON, body: r#"{"isbn":"a","serial":"1"}"#, ..CALL },
            400, "multiple fields provided for oneof 'lookup'"),
        ("oneof members from the query and a constant", Route { bindings: r#"[{"value":"x","to":"isbn"}]"#, ..GET },
            Call { query: "serial=1", ..CALL }, 400, "both members of oneof `lookup`"),
        ("a key twice", POST_ALL, Call { path: &["s1"], content_type: JSON, body: r#"{"tenant":"a","tenant":"b"}"#, ..CALL },
            400, "invalid JSON body: field `tenant` is given twice at line 1 column 22"),
        ("a key twice in a nested message", POST_ALL,
            Call { path: &["s1"], content_type: JSON, body: r#"{"book":{"id":"1","id":"2"}}"#, ..CALL },
            400, "field `id` is given twice"),
        ("a field under both its names", POST_ALL,
            Call { path: &["s1"], content_type: JSON, body: r#"{"book":{"page_size":1,"pageSize":2}}"#, ..CALL },
            400, "field `page_size` is given twice (as `pageSize` the second time)"),
        ("a map key twice", POST_ALL,
            Call { path: &["s1"], content_type: JSON, body: r#"{"labels":{"a":"1","a":"2"}}"#, ..CALL },
            400, "key `a` is given twice"),
        ("a Struct key twice", POST_ALL,
            Call { path: &["s1"], content_type: JSON, body: r#"{"meta":{"x":{"y":1,"y":2}}}"#, ..CALL },
            400, "key `y` is given twice"),
        ("a key twice in the body field", POST_FIELD,
            Call { path: &["s1"], content_type: JSON, body: r#"{"title":"a","title":"b"}"#, ..CALL },
            400, "field `title` is given twice"),
        ("a key twice in a body read by a binding", Route { bindings: r#"[{"from":"body.n","to":"count"}]"#, ..GET },
            Call { content_type: JSON, body: r#"{"n":1,"n":2}"#, ..CALL }, 400, "key `n` is given twice"),
        ("int64 2^63 as a float number (no saturation)", POST_ALL,
            Call { path: &["s1"], content_type: JSON, body: r#"{"count":9.223372036854775808e18}"#, ..CALL },
            400, "at `count`: `9223372036854775808` is out of range for int64"),
        ("uint64 2^64 as a number", POST_ALL,
            Call { path: &["s1"], content_type: JSON, body: r#"{"big":18446744073709551616}"#, ..CALL },
            400, "is out of range for uint64 (0 to 18446744073709551615)"),
        ("a fraction for an int32", POST_ALL,
            Call { path: &["s1"], content_type: JSON, body: r#"{"book":{"pageSize":"1.5"}}"#, ..CALL },
            400, "at `book.pageSize`: `1.5` is not a whole number, as int32 needs"),
        ("an int32 wrapper out of range in exponent form", POST_ALL,
            Call { path: &["s1"], content_type: JSON, body: r#"{"limit":"3e9"}"#, ..CALL },
            400, "`3e9` is out of range for int32"),
        ("a body member of the wrong type", Route { bindings: r#"[{"from":"body.n","to":"count"}]"#, ..GET },
            Call { content_type: JSON, body: r#"{"n":"x"}"#, ..CALL }, 400, "invalid JSON body at `n`"),
    ];
    for (name, route, call, status, phrase) in cases {
        let err = match build(route, call) {
            Ok(message) => panic!("{name}: expected an error, built {}", to_json(&message)),
            Err(err) => err,
        };
        assert_eq!(err.status().as_u16(), *status, "{name}: {err}");
        assert!(
            err.message.contains(phrase),
            "{name}: `{}` lacks `{phrase}`",
            err.message
        );
    }
}

#[test]
fn refuses_definitions_that_do_not_fit_the_schema() {
    #[rustfmt::skip]
    let cases: &[(&str, Route, &str)] = &[
        ("a variable without a field", Route { vars: &["shelf", "nope"], ..GET },
            "path template variable `nope` of `test.v1.GetBookRequest`: `test.v1.GetBookRequest` has no field `nope`"),
        ("a variable on a message", Route { vars: &["filter"], ..GET }, "path template variable `filter`"),
        ("a variable on a repeated field", Route { vars: &["tags"], ..GET }, "is repeated"),
        ("a variable on a Struct", Route { vars: &["meta"], ..GET }, "google.protobuf.Struct"),
        ("an unknown body field", Route { body: "nope", ..POST_FIELD }, "body field `nope` of `test.v1.GetBookRequest`"),
        ("an unknown binding target", Route { bindings: r#"[{"from":"query.q","to":"filter.nope"}]"#, ..GET },
            "binding `query.q` → `filter.nope` of `test.v1.GetBookRequest`: `test.v1.Filter` has no field `nope`"),
        ("a binding from a missing variable", Route { bindings: r#"[{"from":"path.nope","to":"tenant"}]"#, ..GET },
            "the path template has no variable `nope`"),
        ("a constant that does not fit", Route { bindings: r#"[{"value":"x","to":"count"}]"#, ..GET },
            "the constant \"x\" does not fit"),
        ("a header binding onto a message", Route { bindings: r#"[{"from":"header.x","to":"filter"}]"#, ..GET },
            "has no text form"),
        ("a text binding without a target", Route { bindings: r#"[{"from":"query.q","to":""}]"#, ..GET },
            "only a `body` binding may leave `to` empty"),
    ];
    for (name, route, phrase) in cases {
        match compile(route) {
            Ok(_) => panic!("{name}: compiled"),
            Err(err) => assert!(err.0.contains(phrase), "{name}: `{err}` lacks `{phrase}`"),
        }
    }
}
