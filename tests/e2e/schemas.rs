//! Schema sources other than .proto files: a binary descriptor set, and server reflection (tonic serves
//! v1; Python grpcio serves only v1alpha, so that pull exercises the fallback).

use serde_json::Value;

use crate::harness::{Gateway, python_peer, tonic_backend};

fn config(backend: std::net::SocketAddr, schema: &str) -> String {
    format!(
        r#"
backends:
  - {{ name: demo, protocol: grpc, endpoints: ["{backend}"] }}
schemas:
  - {schema}
apis:
  - name: bookstore
    backend: demo
    grpc: {{ service: demo.bookstore.v1.Bookstore }}
  - name: echo
    backend: demo
    grpc: {{ service: demo.echo.v1.Echo, method: Echo }}
    http: {{ post: /v1/echo, body: "*" }}
"#
    )
}

async fn shelf_theme(gw: &Gateway) -> Value {
    let response = gw.client.get(gw.url("/v1/shelves/1")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.json::<Value>().await.unwrap()["theme"].clone()
}

#[tokio::test]
async fn a_binary_descriptor_set() {
    let backend = tonic_backend().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("demo.binpb");
    std::fs::write(&path, gateway_demo::FILE_DESCRIPTOR_SET).unwrap();
    let gw = Gateway::start(&config(
        backend.addr,
        &format!("{{ name: demo, descriptor_set: \"{}\" }}", path.display()),
    ))
    .await;
    assert_eq!(shelf_theme(&gw).await, "Fiction");
}

#[tokio::test]
async fn an_embedded_descriptor_set() {
    use base64::Engine as _;
    let backend = tonic_backend().await;
    let encoded =
        base64::engine::general_purpose::STANDARD.encode(gateway_demo::FILE_DESCRIPTOR_SET);
    let gw = Gateway::start(&config(
        backend.addr,
        &format!("{{ name: demo, descriptor_set_base64: \"{encoded}\" }}"),
    ))
    .await;
    assert_eq!(shelf_theme(&gw).await, "Fiction");
}

#[tokio::test]
async fn reflection_v1_from_tonic() {
    let backend = tonic_backend().await;
    let gw = Gateway::start(&config(
        backend.addr,
        "{ name: demo, reflection: { backend: demo } }",
    ))
    .await;
    assert_eq!(
        shelf_theme(&gw).await,
        "Fiction",
        "annotations survive reflection"
    );
    let echoed = gw
        .client
        .post(gw.url("/v1/echo"))
        .json(&serde_json::json!({"message": "r"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        echoed.json::<Value>().await.unwrap()["request"]["message"],
        "r"
    );
}

#[tokio::test]
async fn reflection_v1alpha_fallback_from_grpcio() {
    let peer = python_peer().await;
    let gw = Gateway::start(&config(peer.addr, "{ name: demo, reflection: { backend: demo, services: [demo.bookstore.v1.Bookstore, demo.echo.v1.Echo] } }")).await;
    assert_eq!(shelf_theme(&gw).await, "Fiction");
}

#[tokio::test]
async fn an_unreachable_reflection_source_refuses_the_config() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let err = Gateway::try_start(&config(
        closed,
        "{ name: demo, reflection: { backend: demo } }",
    ))
    .await
    .err()
    .expect("refused");
    assert!(format!("{err:#}").contains("reflection"), "{err:#}");
}
