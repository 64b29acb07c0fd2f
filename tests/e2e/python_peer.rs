//! The same translations against Python grpcio, an independent gRPC implementation, with descriptors
//! compiled from the .proto files by the gateway.

use serde_json::{Value, json};

use crate::harness::{Gateway, demo_config, expect_error, python_peer};

#[tokio::test]
async fn unary_streaming_metadata_and_errors_against_grpcio() {
    let peer = python_peer().await;
    let gw = Gateway::start(&demo_config(peer.addr)).await;

    let shelf: Value = gw
        .client
        .get(gw.url("/v1/shelves/2"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(shelf["theme"], "Science");

    let book: Value = gw
        .client
        .get(gw.url("/v1/shelves/1/books/1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(book["title"], "Dune");

    let created = gw
        .client
        .post(gw.url("/v1/shelves/1/books"))
        .json(&json!({"name": "shelves/1/books/9", "title": "Solaris", "isbn": "9007199254740993"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 200);
    assert_eq!(
        created.json::<Value>().await.unwrap()["isbn"],
        "9007199254740993",
        "no precision lost past 2^53"
    );

    let response = gw
        .client
        .post(gw.url("/v1/echo"))
        .header("x-tenant", "py")
        .json(&json!({"message": "hi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-echo-server"], "grpcio");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["request"]["tenant"], "py");
    assert_eq!(body["metadata"]["x-tenant"], "py");

    let lines = gw
        .client
        .get(gw.url("/v1/shelves/1:watch?count=3"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(lines.lines().count(), 3, "{lines}");

    expect_error(
        gw.client
            .get(gw.url("/v1/shelves/404"))
            .send()
            .await
            .unwrap(),
        404,
        "not_found",
    )
    .await;
}
