//! HTTP/JSON ↔ gRPC through the four layers against the tonic demo backend: annotation rules of every
//! kind, explicit mapping, auto routes, metadata both ways, JSON options, backend errors with details.

use serde_json::{Value, json};

use crate::harness::{Gateway, demo_config, expect_error, tonic_backend};

async fn setup() -> (crate::harness::TonicBackend, Gateway) {
    let backend = tonic_backend().await;
    let gateway = Gateway::start(&demo_config(backend.addr)).await;
    (backend, gateway)
}

async fn json(response: reqwest::Response) -> Value {
    let status = response.status();
    let body: Value = response.json().await.expect("JSON body");
    assert_eq!(status, 200, "body: {body}");
    body
}

#[tokio::test]
async fn get_with_an_int64_path_variable() {
    let (_b, gw) = setup().await;
    let shelf = json(gw.client.get(gw.url("/v1/shelves/1")).send().await.unwrap()).await;
    // int64 fields are JSON strings in proto3 JSON.
    assert_eq!(shelf["id"], "1");
    assert_eq!(shelf["theme"], "Fiction");
}

#[tokio::test]
async fn query_parameters_fill_nested_and_repeated_fields() {
    let (_b, gw) = setup().await;
    let all = json(
        gw.client
            .get(gw.url("/v1/shelves/1/books"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let count = all["books"].as_array().map_or(0, Vec::len);
    assert!(count >= 2, "seeded shelf 1 has two books: {all}");
    let url =
        gw.url("/v1/shelves/1/books?authors=Frank%20Herbert&authors=Nobody&filter.genre=FICTION");
    let filtered = json(gw.client.get(url).send().await.unwrap()).await;
    let books = filtered["books"].as_array().expect("books");
    assert_eq!(books.len(), 1, "{filtered}");
    assert_eq!(books[0]["title"], "Dune");
}

#[tokio::test]
async fn body_field_and_multi_segment_variables() {
    let (_b, gw) = setup().await;
    let created = gw
        .client
        .post(gw.url("/v1/shelves/2/books"))
        .json(&json!({"name": "shelves/2/books/7", "title": "Cosmos", "author": "Carl Sagan", "genre": "SCIENCE",
                      "isbn": "18446744073709551615", "published": "1980-09-28T00:00:00Z", "pages": 396}))
        .send()
        .await
        .unwrap();
    let created = json(created).await;
    assert_eq!(created["title"], "Cosmos");
    assert_eq!(
        created["isbn"], "18446744073709551615",
        "uint64 survives as a string"
    );
    assert_eq!(created["published"], "1980-09-28T00:00:00Z");
    assert_eq!(
        created["pages"], 396,
        "Int32Value wrapper renders as a bare number"
    );

    let fetched = json(
        gw.client
            .get(gw.url("/v1/shelves/2/books/7"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(fetched["author"], "Carl Sagan");
    // The additional binding captures the rest of the path with `**`.
    let again = json(
        gw.client
            .get(gw.url("/v1/books/shelves/2/books/7"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(again["title"], "Cosmos");
}

#[tokio::test]
async fn patch_with_a_field_mask_and_a_custom_verb() {
    let (_b, gw) = setup().await;
    let updated = gw
        .client
        .patch(gw.url("/v1/shelves/1/books/2?update_mask=title"))
        .json(&json!({"title": "Renamed", "author": "ignored by the mask"}))
        .send()
        .await
        .unwrap();
    let updated = json(updated).await;
    assert_eq!(updated["title"], "Renamed");
    assert_ne!(updated["author"], "ignored by the mask");

    let moved = gw
        .client
        .post(gw.url("/v1/shelves/1/books/2:move"))
        .json(&json!({"targetShelf": "2"}))
        .send()
        .await
        .unwrap();
    let moved = json(moved).await;
    assert!(
        moved["name"]
            .as_str()
            .unwrap_or_default()
            .starts_with("shelves/2/"),
        "{moved}"
    );
}

#[tokio::test]
async fn response_body_selects_one_field() {
    let (_b, gw) = setup().await;
    let metadata = json(
        gw.client
            .get(gw.url("/v1/shelves/1/books/1/metadata"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    // The Struct field itself is the body, not a wrapper object around it.
    assert!(metadata.is_object(), "{metadata}");
    assert!(
        metadata.get("metadata").is_none(),
        "response_body must unwrap: {metadata}"
    );
}

#[tokio::test]
async fn explicit_mapping_metadata_and_request_ids() {
    let (_b, gw) = setup().await;
    let response = gw
        .client
        .post(gw.url("/v1/echo"))
        .header("x-tenant", "acme")
        .header("x-forwarded-thing", "yes")
        .header("x-not-forwarded", "no")
        .header("x-request-id", "req-123")
        .json(&json!({"message": "hi", "number": "42", "tags": ["a", "b"], "nested": {"a": "x", "b": 2}, "color": "GREEN"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "req-123");
    assert_eq!(response.headers()["x-echo-server"], "tonic");
    assert_eq!(
        response.headers()["x-echo-trailer"],
        "done",
        "trailers come back as headers when chosen"
    );
    let body = json(response).await;
    assert_eq!(
        body["request"]["tenant"], "acme",
        "header.x-tenant was mapped onto the field"
    );
    assert_eq!(body["request"]["number"], "42");
    assert_eq!(body["request"]["color"], "GREEN");
    assert_eq!(body["metadata"]["x-tenant"], "acme");
    assert_eq!(body["metadata"]["x-forwarded-thing"], "yes");
    assert_eq!(
        body["metadata"]["x-request-id"], "req-123",
        "the request id travels to the backend"
    );
    assert!(
        body["metadata"].get("x-not-forwarded").is_none(),
        "only chosen headers travel: {body}"
    );
}

#[tokio::test]
async fn a_request_id_is_made_when_none_is_sent() {
    let (_b, gw) = setup().await;
    let response = gw.client.get(gw.url("/v1/shelves")).send().await.unwrap();
    let id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(id.len(), 36, "a UUID: {id}");
}

#[tokio::test]
async fn get_route_with_path_and_query_into_fields() {
    let (_b, gw) = setup().await;
    let body = json(
        gw.client
            .get(gw.url("/v1/echo/hello%20world?number=-7&tags=x&tags=y&nested.b=5"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(body["request"]["message"], "hello world");
    assert_eq!(body["request"]["number"], "-7");
    assert_eq!(body["request"]["tags"], json!(["x", "y"]));
    assert_eq!(body["request"]["nested"]["b"], 5);
}

#[tokio::test]
async fn json_options_emit_defaults_and_proto_names() {
    let (_b, gw) = setup().await;
    let plain = json(
        gw.client
            .post(gw.url("/v1/echo"))
            .json(&json!({"message": "m"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(
        plain["request"].get("number").is_none(),
        "defaults are omitted by default: {plain}"
    );
    let full = json(
        gw.client
            .post(gw.url("/v1/echo-defaults"))
            .json(&json!({"message": "m"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        full["request"]["number"], "0",
        "emit_defaults shows zero values: {full}"
    );
    assert!(full["request"].get("tags").is_some());
    let proto_named = full["request"].as_object().unwrap();
    assert!(
        proto_named
            .keys()
            .all(|k| !k.chars().any(|c| c.is_ascii_uppercase())),
        "proto names: {full}"
    );
}

#[tokio::test]
async fn auto_routes_take_the_json_body() {
    let (_b, gw) = setup().await;
    let echoed = gw
        .client
        .post(gw.url("/demo.echo.v1.Echo/Echo"))
        .json(&json!({"message": "auto"}))
        .send()
        .await
        .unwrap();
    assert_eq!(json(echoed).await["request"]["message"], "auto");
    let shelf = gw
        .client
        .post(gw.url("/demo.bookstore.v1.Bookstore/GetShelf"))
        .json(&json!({"shelf": "2"}))
        .send()
        .await
        .unwrap();
    assert_eq!(json(shelf).await["theme"], "Science");
}

#[tokio::test]
async fn backend_errors_keep_their_meaning() {
    let (_b, gw) = setup().await;
    let missing = gw
        .client
        .get(gw.url("/v1/shelves/999"))
        .send()
        .await
        .unwrap();
    expect_error(missing, 404, "not_found").await;

    let invalid = gw
        .client
        .post(gw.url("/v1/shelves"))
        .json(&json!({"theme": ""}))
        .send()
        .await
        .unwrap();
    let body = expect_error(invalid, 400, "invalid_argument").await;
    let details = body["details"]
        .as_array()
        .expect("details from grpc-status-details-bin");
    assert!(
        details.iter().any(|d| d["@type"]
            .as_str()
            .unwrap_or("")
            .ends_with("google.rpc.BadRequest")),
        "{body}"
    );

    for (code, status, name) in [
        (16, 401, "unauthenticated"),
        (7, 403, "permission_denied"),
        (8, 429, "resource_exhausted"),
        (12, 501, "unimplemented"),
        (14, 503, "unavailable"),
        (6, 409, "already_exists"),
    ] {
        let response = gw
            .client
            .post(gw.url("/v1/fail"))
            .json(&json!({"code": code, "message": "boom"}))
            .send()
            .await
            .unwrap();
        let body = expect_error(response, status, name).await;
        assert_eq!(body["message"], "boom");
    }
    let detailed = gw
        .client
        .post(gw.url("/v1/fail"))
        .json(&json!({"code": 9, "message": "x", "withDetails": true}))
        .send()
        .await
        .unwrap();
    let body = expect_error(detailed, 400, "failed_precondition").await;
    let details = body["details"].as_array().expect("details");
    assert!(
        details.iter().any(|d| d["reason"] == "DEMO_FAILURE"),
        "ErrorInfo rendered as JSON: {body}"
    );
}

#[tokio::test]
async fn http2_prior_knowledge_is_served_on_the_same_port() {
    let (_b, gw) = setup().await;
    let h2 = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let response = h2.get(gw.url("/v1/shelves/1")).send().await.unwrap();
    assert_eq!(response.version(), reqwest::Version::HTTP_2);
    assert_eq!(json(response).await["theme"], "Fiction");
}

/// An API's constant metadata reaches the backend on every call (a client never sends protocol details
/// such as Triple's `tri-service-version`), replacing a forwarded header of the same name; the
/// gateway's own request id still wins, and a reserved key is refused when the config is loaded.
#[tokio::test]
async fn constant_metadata_travels_on_every_call() {
    let backend = tonic_backend().await;
    let config = demo_config(backend.addr)
        + r#"  - name: echo-constants
    backend: demo
    grpc: { service: demo.echo.v1.Echo, method: Echo }
    http: { post: /v1/echo-constants, body: "*" }
    forward_headers: [x-tenant]
    metadata: { tri-service-version: "1.0.0", x-tenant: fixed }
"#;
    let gw = Gateway::start(&config).await;
    let response = gw
        .client
        .post(gw.url("/v1/echo-constants"))
        .header("x-tenant", "from-the-client")
        .header("tri-service-version", "9.9.9")
        .json(&json!({"message": "hi"}))
        .send()
        .await
        .unwrap();
    let body = json(response).await;
    assert_eq!(body["metadata"]["tri-service-version"], "1.0.0", "{body}");
    assert_eq!(
        body["metadata"]["x-tenant"], "fixed",
        "the constant wins: {body}"
    );
    assert!(
        body["metadata"]["x-request-id"]
            .as_str()
            .is_some_and(|id| !id.is_empty())
    );

    let reserved = demo_config(backend.addr).replace(
        "    forward_headers: [x-tenant, x-forwarded-thing]",
        "    metadata: { x-request-id: mine }",
    );
    let problems = api_model::Config::from_yaml(&reserved)
        .expect("parses")
        .validate()
        .expect_err("x-request-id is the gateway's")
        .problems;
    assert!(
        problems.iter().any(|p| p
            .contains("metadata `x-request-id`: the gateway or the protocol sets this key itself")),
        "{problems:?}"
    );
}
