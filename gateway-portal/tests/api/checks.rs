//! What the portal's checks do not do: open connections. Validating and publishing definitions runs the
//! nodes' compiler (`gateway_web::catalog::check`), which must never dial a backend or a registry: a
//! portal that connects to every backend it is told about is a scanner, and a slow backend would hold
//! up every save.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::http::StatusCode;
use serde_json::json;
use tokio::net::TcpListener;

use crate::harness::{ECHO, Portal, demo_proto};

/// A listener that counts the connections made to it.
async fn counting_listener() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    (address, accepted)
}

#[tokio::test]
async fn saving_and_publishing_definitions_opens_no_connection() {
    let portal = Portal::start().await;
    let admin = portal.admin().await;
    let (listening, accepted) = counting_listener().await;
    // Port 1 refuses connections: a check that dialled would fail or stall on it.
    let refusing = "127.0.0.1:1";
    for backend in [
        json!({"name": "grpc-live", "protocol": "grpc", "endpoints": [listening]}),
        json!({"name": "grpc-refusing", "protocol": "grpc", "endpoints": [refusing]}),
        json!({"name": "dubbo-static", "protocol": "dubbo", "endpoints": [listening]}),
        json!({"name": "dubbo-registry", "protocol": "dubbo",
               "dubbo": {"zookeeper": {"address": listening}}}),
    ] {
        let reply = admin.post("/api/backends", backend).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    }
    let reply = admin
        .post(
            "/api/schemas",
            json!({"name": "echo", "proto": {"files": {ECHO: demo_proto(ECHO)}, "compile": [ECHO]}}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);

    let dubbo = |name: &str, backend: &str, path: &str| {
        json!({"name": name, "backend": backend,
               "dubbo": {"interface": "org.apache.dubbo.demo.UserService", "method": "getUser",
                         "params": [{"name": "id", "type": "long", "from": "path.id"}]},
               "http": {"get": path}})
    };
    for api in [
        json!({"name": "echo-live", "backend": "grpc-live", "schema": "echo",
               "grpc": {"service": "demo.echo.v1.Echo", "method": "Echo"},
               "http": {"post": "/v1/live/echo", "body": "*"}, "policies": []}),
        json!({"name": "echo-refusing", "backend": "grpc-refusing", "schema": "echo",
               "grpc": {"service": "demo.echo.v1.Echo", "method": "Echo"},
               "http": {"post": "/v1/refusing/echo", "body": "*"}}),
        dubbo("users-static", "dubbo-static", "/v1/static/users/{id}"),
        dubbo(
            "users-registry",
            "dubbo-registry",
            "/v1/registry/users/{id}",
        ),
    ] {
        let started = std::time::Instant::now();
        let reply = admin.post("/api/apis", api).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        // A registry session or a connect timeout would take seconds.
        assert!(
            started.elapsed().as_secs() < 2,
            "saving took {:?}",
            started.elapsed()
        );
    }
    let published = admin
        .post("/api/revisions", json!({"comment": "no I/O"}))
        .await;
    assert_eq!(published.status, StatusCode::CREATED, "{}", published.text);

    // Give a connection attempt made in the background time to land.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        0,
        "the portal dialled a backend"
    );
}

#[tokio::test]
async fn an_unknown_policy_kind_is_refused_naming_it() {
    let portal = Portal::start().await;
    let admin = portal.admin().await;
    let reply = admin
        .post(
            "/api/backends",
            json!({"name": "b", "protocol": "grpc", "endpoints": ["127.0.0.1:1"]}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let reply = admin
        .post(
            "/api/apis",
            json!({"name": "a", "backend": "b", "grpc": {"service": "x.Y"},
                   "policies": [{"kind": "teleport"}]}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
    assert!(reply.text.contains("teleport"), "{}", reply.text);
}
