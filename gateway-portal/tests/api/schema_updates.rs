//! Updating a schema: re-upload or re-pull, see what changed, and never hand nodes a broken binding.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::harness::{Client, ECHO, Portal, backend, demo_proto};

/// The demo echo proto with `edit` applied to its text (which must change it).
fn echo_proto(edit: impl Fn(String) -> String) -> String {
    let original = demo_proto(ECHO);
    let edited = edit(original.clone());
    assert_ne!(edited, original, "the edit changed nothing");
    edited
}

fn upload(text: String) -> Value {
    json!({"proto": {"files": {ECHO: text}}})
}

/// Adds a field nobody binds: compatible with every API.
fn with_note(text: String) -> String {
    text.replace(
        "  string tenant = 7;\n}",
        "  string tenant = 7;\n  string note = 8;\n}",
    )
}

/// Renames the field `sleep`'s path binds and drops `Fail`: breaks `sleep`, not `echo`.
fn breaking(text: String) -> String {
    with_note(text)
        .replace("  int32 millis = 1;", "  int32 duration_ms = 1;")
        .replace(
            "  rpc Fail(FailRequest) returns (google.protobuf.Empty);\n",
            "",
        )
}

fn rendered(reply: &Value) -> Vec<String> {
    reply["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{} {} {}",
                c["change"].as_str().unwrap(),
                c["element"].as_str().unwrap(),
                c["name"].as_str().unwrap()
            )
        })
        .collect()
}

async fn setup() -> (Portal, Client) {
    let portal = Portal::start().await;
    let admin = portal.admin().await;
    assert_eq!(
        admin.post("/api/backends", backend("demo")).await.status,
        StatusCode::CREATED
    );
    let created = admin
        .post(
            "/api/schemas",
            json!({"name": "echo", "proto": {"files": {ECHO: demo_proto(ECHO)}}}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    for api in [
        json!({"name": "echo", "backend": "demo", "schema": "echo",
               "grpc": {"service": "demo.echo.v1.Echo", "method": "Echo"},
               "http": {"post": "/v1/echo", "body": "*"}}),
        json!({"name": "sleep", "backend": "demo", "schema": "echo",
               "grpc": {"service": "demo.echo.v1.Echo", "method": "Sleep"},
               "http": {"get": "/v1/sleep/{millis}"}}),
    ] {
        let reply = admin.post("/api/apis", api).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    }
    (portal, admin)
}

#[tokio::test]
async fn an_update_shows_what_changed_and_is_refused_while_it_breaks_a_bound_api() {
    let (_portal, admin) = setup().await;
    let publish = admin.post("/api/revisions", json!({})).await;
    assert_eq!(publish.status, StatusCode::CREATED, "{}", publish.text);

    // The preview names every change and the API it breaks, and saves nothing.
    let preview = admin
        .post("/api/schemas/echo/preview", upload(echo_proto(breaking)))
        .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.text);
    assert_eq!(
        rendered(&preview.body),
        [
            "removed method demo.echo.v1.Echo.Fail",
            "added field demo.echo.v1.EchoRequest.note",
            "added field demo.echo.v1.SleepRequest.duration_ms",
            "removed field demo.echo.v1.SleepRequest.millis",
        ]
    );
    let broken = preview.body["broken"].as_array().unwrap();
    assert_eq!(broken.len(), 1, "{}", preview.text);
    assert_eq!(broken[0]["api"], "sleep");
    assert!(broken[0]["problems"].to_string().contains("millis"));
    assert_eq!(admin.get("/api/schemas/echo").await.body["version"], 1);

    // Saving it is refused, one detail per broken API, and the stored schema is untouched.
    let refused = admin
        .send(
            "PUT",
            "/api/schemas/echo",
            Some(upload(echo_proto(breaking))),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
    assert_eq!(refused.body["code"], "breaking_change");
    assert!(refused.body["request_id"].as_str().is_some());
    let fields: Vec<&str> = refused.body["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert!(
        !fields.is_empty() && fields.iter().all(|f| *f == "apis.sleep"),
        "{fields:?}"
    );
    let stored = admin.get("/api/schemas/echo").await;
    assert_eq!(stored.body["version"], 1);
    assert!(stored.text.contains("\"Fail\""));

    // A compatible change saves: version 2, its changes listed, nothing broken.
    let compatible = admin
        .send(
            "PUT",
            "/api/schemas/echo",
            Some(upload(echo_proto(with_note))),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(compatible.status, StatusCode::OK, "{}", compatible.text);
    assert_eq!(compatible.headers["etag"], "\"2\"");
    assert_eq!(
        rendered(&compatible.body),
        ["added field demo.echo.v1.EchoRequest.note"]
    );
    assert_eq!(compatible.body["broken"], json!([]));
    assert_eq!(
        admin
            .send(
                "PUT",
                "/api/schemas/echo",
                Some(upload(echo_proto(with_note))),
                &[("if-match", "\"1\"")]
            )
            .await
            .status,
        StatusCode::CONFLICT,
        "a stale If-Match"
    );
    let published = admin.post("/api/revisions", json!({})).await;
    assert_eq!(published.status, StatusCode::CREATED, "{}", published.text);
}

#[tokio::test]
async fn a_breaking_update_saved_on_purpose_blocks_publishing_until_the_api_is_fixed() {
    let (_portal, admin) = setup().await;
    let saved = admin
        .send(
            "PUT",
            "/api/schemas/echo?allow_breaking=true",
            Some(upload(echo_proto(breaking))),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text);
    assert_eq!(saved.body["broken"][0]["api"], "sleep");

    // The nodes never get the broken binding: the publish names it.
    let blocked = admin.post("/api/revisions", json!({})).await;
    assert_eq!(blocked.status, StatusCode::BAD_REQUEST, "{}", blocked.text);
    assert!(
        blocked.body["message"].as_str().unwrap().contains("sleep"),
        "{}",
        blocked.text
    );

    // Rebinding the API to the renamed field makes the revision build again.
    let api = admin.get("/api/apis/sleep").await;
    let mut fixed = api.body.clone();
    fixed["http"] = json!({"get": "/v1/sleep/{duration_ms}"});
    let edited = admin
        .send(
            "PUT",
            "/api/apis/sleep",
            Some(fixed),
            &[("if-match", &format!("\"{}\"", api.body["version"]))],
        )
        .await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.text);
    let published = admin.post("/api/revisions", json!({})).await;
    assert_eq!(published.status, StatusCode::CREATED, "{}", published.text);

    let unknown = admin
        .send(
            "PUT",
            "/api/schemas/echo?force=1",
            Some(upload(echo_proto(with_note))),
            &[],
        )
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST, "{}", unknown.text);
    let renamed = admin
        .send(
            "PUT",
            "/api/schemas/echo",
            Some(json!({"name": "other", "proto": {"files": {ECHO: demo_proto(ECHO)}}})),
            &[],
        )
        .await;
    assert_eq!(renamed.status, StatusCode::BAD_REQUEST, "{}", renamed.text);
    let uploaded_not_pulled = admin
        .send("PUT", "/api/schemas/echo", Some(json!({})), &[])
        .await;
    assert_eq!(uploaded_not_pulled.status, StatusCode::BAD_REQUEST);
    assert!(
        uploaded_not_pulled
            .text
            .contains("not pulled by reflection")
    );
}

#[tokio::test]
async fn a_pulled_schema_is_pulled_again_with_an_empty_body() {
    let portal = Portal::start().await;
    let admin = portal.admin().await;
    let first = Reflection::start(demo_proto(ECHO)).await;
    let live = json!({"name": "live", "protocol": "grpc", "endpoints": [first.address]});
    assert_eq!(
        admin.post("/api/backends", live.clone()).await.status,
        StatusCode::CREATED
    );
    let pulled = admin
        .post(
            "/api/schemas",
            json!({"name": "pulled", "reflection": {"backend": "live", "services": ["demo.echo.v1.Echo"]}}),
        )
        .await;
    assert_eq!(pulled.status, StatusCode::CREATED, "{}", pulled.text);

    // The backend is redeployed with a new field; the backend now points at it.
    let second = Reflection::start(echo_proto(with_note)).await;
    let mut moved = live;
    moved["endpoints"] = json!([second.address]);
    let reply = admin
        .send(
            "PUT",
            "/api/backends/live",
            Some(moved),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let preview = admin.post("/api/schemas/pulled/preview", json!({})).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.text);
    assert_eq!(
        rendered(&preview.body),
        ["added field demo.echo.v1.EchoRequest.note"]
    );
    let again = admin
        .send("PUT", "/api/schemas/pulled", Some(json!({})), &[])
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    assert_eq!(again.body["version"], 2);
    assert_eq!(again.body["kind"], "reflection");
    drop((first, second));
}

/// A gRPC server answering reflection (v1) for one version of the echo proto; stops on drop.
struct Reflection {
    address: String,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl Reflection {
    async fn start(echo: String) -> Reflection {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let pool =
            proto_registry::compile_sources(&[(ECHO.to_string(), echo)], &[ECHO.into()]).unwrap();
        let reflection = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(&pool.encode_to_vec())
            .build_v1()
            .unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(reflection)
                .serve_with_incoming_shutdown(
                    tokio_stream::wrappers::TcpListenerStream::new(listener),
                    async {
                        let _ = stopped.await;
                    },
                ),
        );
        Reflection {
            address,
            _stop: stop,
        }
    }
}
