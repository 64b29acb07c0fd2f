//! Editing definitions: validation, optimistic concurrency, route conflicts, pagination.

use axum::body::Body;
use axum::http::StatusCode;
use serde_json::json;

use crate::harness::{BOOKSTORE, ECHO, Portal, backend, count, demo_proto, seed};

#[tokio::test]
async fn a_stale_if_match_is_a_conflict_and_a_missing_one_is_428() {
    let portal = Portal::start().await;
    let alice = portal.admin().await;
    let bob = portal.admin().await;
    let created = alice.post("/api/backends", backend("b")).await;
    assert_eq!(created.status, StatusCode::CREATED);
    assert_eq!(created.headers["etag"], "\"1\"");
    assert_eq!(created.body["version"], 1);

    let got = bob.get("/api/backends/b").await;
    assert_eq!(got.headers["etag"], "\"1\"");
    // The GET body goes back as is (the portal's `version` key is ignored on input).
    let mut edited = got.body.clone();
    edited["endpoints"] = json!(["127.0.0.1:10"]);
    let first = alice
        .send(
            "PUT",
            "/api/backends/b",
            Some(edited.clone()),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    assert_eq!(first.headers["etag"], "\"2\"");
    let second = bob
        .send(
            "PUT",
            "/api/backends/b",
            Some(edited.clone()),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(second.status, StatusCode::CONFLICT);
    assert_eq!(second.body["code"], "conflict");
    let missing = bob.send("PUT", "/api/backends/b", Some(edited), &[]).await;
    assert_eq!(missing.status, StatusCode::PRECONDITION_REQUIRED);
    assert_eq!(
        bob.send("DELETE", "/api/backends/b", None, &[("if-match", "\"1\"")])
            .await
            .status,
        StatusCode::CONFLICT
    );
    assert_eq!(
        bob.send("DELETE", "/api/backends/b", None, &[])
            .await
            .status,
        StatusCode::PRECONDITION_REQUIRED
    );
    assert_eq!(
        bob.send("DELETE", "/api/backends/b", None, &[("if-match", "\"2\"")])
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        bob.get("/api/backends/b").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn malformed_json_is_a_400_in_the_one_error_shape() {
    let portal = Portal::start().await;
    let admin = portal.admin().await;
    let reply = admin
        .raw(
            "POST",
            "/api/backends",
            Body::from("{\"name\": "),
            "application/json",
            &[],
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.body["code"], "bad_request");
    assert!(
        reply.body["message"]
            .as_str()
            .unwrap()
            .contains("malformed JSON"),
        "{}",
        reply.text
    );
    assert!(reply.body["request_id"].is_string());
    let unknown = admin
        .post(
            "/api/backends",
            json!({"name": "b", "protocol": "grpc", "endpoint": "x"}),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST, "{}", unknown.text);
    let login = admin
        .raw(
            "POST",
            "/api/session",
            Body::from("nope"),
            "application/json",
            &[],
        )
        .await;
    assert_eq!(login.status, StatusCode::BAD_REQUEST);
    let invalid = admin
        .post(
            "/api/backends",
            json!({"name": "b", "protocol": "grpc", "endpoints": []}),
        )
        .await;
    assert_eq!(invalid.status, StatusCode::BAD_REQUEST);
    assert_eq!(invalid.body["code"], "invalid_definition");
    assert_eq!(
        invalid.body["details"][0]["field"], "endpoints",
        "{}",
        invalid.text
    );
    assert_eq!(count(&portal.db.pool, "backends").await, 0);
}

#[tokio::test]
async fn an_unknown_backend_is_a_400_naming_it() {
    let portal = Portal::start().await;
    let admin = portal.admin().await;
    seed(&admin).await;
    let reply = admin
        .post(
            "/api/apis",
            json!({"name": "a", "backend": "nowhere", "schema": "demo", "grpc": {"service": "demo.bookstore.v1.Bookstore"}}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
    assert!(
        reply.body["message"]
            .as_str()
            .unwrap()
            .contains("`nowhere`")
    );
    assert_eq!(reply.body["details"][0]["field"], "backend");
    assert_eq!(count(&portal.db.pool, "apis").await, 0);
}

#[tokio::test]
async fn an_invalid_path_template_is_a_400() {
    let portal = Portal::start().await;
    let admin = portal.admin().await;
    seed(&admin).await;
    let reply = admin
        .post(
            "/api/apis",
            json!({"name": "echo", "backend": "demo", "schema": "demo",
                   "grpc": {"service": "demo.echo.v1.Echo", "method": "Echo"},
                   "http": {"get": "/v1/echo/{message"}}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
    assert_eq!(reply.body["code"], "invalid_definition");
    assert!(
        reply.body["details"]
            .as_array()
            .is_some_and(|d| !d.is_empty())
    );
    // A template variable that is no field is found by the build too.
    let reply = admin
        .post(
            "/api/apis",
            json!({"name": "echo", "backend": "demo", "schema": "demo",
                   "grpc": {"service": "demo.echo.v1.Echo", "method": "Echo"},
                   "http": {"get": "/v1/echo/{nosuch}"}}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
    assert!(
        reply.body["message"].as_str().unwrap().contains("nosuch"),
        "{}",
        reply.text
    );
    assert_eq!(count(&portal.db.pool, "apis").await, 0);
}

#[tokio::test]
async fn a_proto_that_does_not_compile_is_a_400_naming_the_file() {
    let portal = Portal::start().await;
    let admin = portal.admin().await;
    let reply = admin
        .post(
            "/api/schemas",
            json!({"name": "bad", "proto": {"files": {"shop/v1/shop.proto": "syntax = \"proto3\";\npackage shop;\nmessage A { string x = 1 }\n"}}}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
    let message = reply.body["message"].as_str().unwrap();
    assert!(message.contains("shop/v1/shop.proto:3"), "{message}");
    assert_eq!(
        reply.body["details"][0]["field"],
        "proto.files.shop/v1/shop.proto"
    );
    let missing_import = admin
        .post(
            "/api/schemas",
            json!({"name": "bad", "proto": {"files": {"a.proto": "syntax = \"proto3\";\nimport \"b.proto\";\n"}}}),
        )
        .await;
    assert_eq!(missing_import.status, StatusCode::BAD_REQUEST);
    assert!(
        missing_import.body["message"]
            .as_str()
            .unwrap()
            .contains("a.proto"),
        "{}",
        missing_import.text
    );
    assert_eq!(count(&portal.db.pool, "schemas").await, 0);
}

#[tokio::test]
async fn a_duplicate_route_is_a_409_and_nothing_is_half_written() {
    let portal = Portal::start().await;
    let admin = portal.admin().await;
    seed(&admin).await;
    let first = admin
        .post(
            "/api/apis/generate",
            json!({"backend": "demo", "schema": "demo", "service": "demo.bookstore.v1.Bookstore"}),
        )
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let routes = count(&portal.db.pool, "api_routes").await;
    assert!(routes >= 11, "{routes}");
    let audit_before = count(&portal.db.pool, "audit_log").await;

    // A second API over the same service claims the same annotated routes.
    let second = admin
        .post("/api/apis/generate", json!({"backend": "demo", "schema": "demo", "service": "demo.bookstore.v1.Bookstore", "name": "copy"}))
        .await;
    assert_eq!(second.status, StatusCode::CONFLICT, "{}", second.text);
    assert_eq!(second.body["code"], "duplicate_route");
    assert!(
        second.body["message"]
            .as_str()
            .unwrap()
            .contains("demo.bookstore.v1.Bookstore")
    );
    // An explicit rule on one route only.
    let explicit = admin
        .post(
            "/api/apis",
            json!({"name": "echo", "backend": "demo", "schema": "demo",
                   "grpc": {"service": "demo.echo.v1.Echo", "method": "Echo"},
                   "http": {"get": "/v1/shelves"}}),
        )
        .await;
    assert_eq!(explicit.status, StatusCode::CONFLICT, "{}", explicit.text);
    assert_eq!(count(&portal.db.pool, "apis").await, 1);
    assert_eq!(count(&portal.db.pool, "api_routes").await, routes);
    assert_eq!(count(&portal.db.pool, "audit_log").await, audit_before);

    // The database refuses it too, whatever the application checks.
    let direct = sqlx::query(
        "INSERT INTO api_routes (api, host, method, path) VALUES ($1, '', 'GET', '/v1/shelves')",
    )
    .bind("demo.bookstore.v1.Bookstore")
    .execute(&portal.db.pool)
    .await;
    assert!(direct.is_err());

    // The same path on another host is another route.
    let other_host = admin
        .post(
            "/api/apis",
            json!({"name": "echo", "backend": "demo", "schema": "demo", "host": "echo.example",
                   "grpc": {"service": "demo.echo.v1.Echo", "method": "Echo"},
                   "http": {"get": "/v1/shelves"}}),
        )
        .await;
    assert_eq!(
        other_host.status,
        StatusCode::CREATED,
        "{}",
        other_host.text
    );
}

#[tokio::test]
async fn lists_are_paged() {
    let portal = Portal::start().await;
    let admin = portal.admin().await;
    for i in 0..7 {
        assert_eq!(
            admin
                .post("/api/backends", backend(&format!("b{i}")))
                .await
                .status,
            StatusCode::CREATED
        );
    }
    let page = admin.get("/api/backends?limit=3&offset=2").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.body["total"], 7);
    let names: Vec<&str> = page.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["b2", "b3", "b4"]);
    let last = admin.get("/api/backends?limit=3&offset=6").await;
    assert_eq!(last.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        admin.get("/api/backends?limit=0").await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        admin.get("/api/backends?offset=x").await.status,
        StatusCode::BAD_REQUEST
    );
    let audit = admin.get("/api/audit?limit=2").await;
    assert_eq!(audit.body["items"].as_array().unwrap().len(), 2);
    assert!(audit.body["total"].as_i64().unwrap() >= 7);
    assert_eq!(audit.body["items"][0]["action"], "backend.create");
    assert_eq!(audit.body["items"][0]["target"], "b6");
}

#[tokio::test]
async fn a_schema_is_pulled_by_reflection_from_a_live_backend() {
    let portal = Portal::start().await;
    let admin = portal.admin().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(reflection_server(listener, async {
        let _ = stopped.await;
    }));
    let live = json!({"name": "live", "protocol": "grpc", "endpoints": [address.to_string()]});
    assert_eq!(
        admin.post("/api/backends", live).await.status,
        StatusCode::CREATED
    );
    let pulled = admin
        .post(
            "/api/schemas",
            json!({"name": "pulled", "reflection": {"backend": "live", "services": ["demo.bookstore.v1.Bookstore"]}}),
        )
        .await;
    assert_eq!(pulled.status, StatusCode::CREATED, "{}", pulled.text);
    assert_eq!(pulled.body["kind"], "reflection");
    let services = pulled.body["services"].as_array().unwrap();
    let bookstore = services
        .iter()
        .find(|s| s["name"] == "demo.bookstore.v1.Bookstore")
        .unwrap();
    assert!(
        bookstore["methods"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["http"]["get"] == "/v1/shelves")
    );
    // An API over the pulled schema builds like one over an upload.
    let api = admin
        .post("/api/apis/generate", json!({"backend": "live", "schema": "pulled", "service": "demo.bookstore.v1.Bookstore"}))
        .await;
    assert_eq!(api.status, StatusCode::CREATED, "{}", api.text);

    let unknown = admin
        .post(
            "/api/schemas",
            json!({"name": "x", "reflection": {"backend": "nowhere"}}),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert!(
        unknown.body["message"]
            .as_str()
            .unwrap()
            .contains("`nowhere`")
    );
    assert_eq!(
        admin.post("/api/backends", backend("down")).await.status,
        StatusCode::CREATED
    );
    let down = admin
        .post(
            "/api/schemas",
            json!({"name": "x", "reflection": {"backend": "down"}}),
        )
        .await;
    assert_eq!(down.status, StatusCode::BAD_GATEWAY, "{}", down.text);
    assert_eq!(down.body["code"], "reflection_failed");
    let _ = stop.send(());
    let _ = server.await;
}

/// A gRPC server that only answers reflection (v1), describing the demo protos.
async fn reflection_server(
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) {
    let sources = [BOOKSTORE, ECHO].map(|f| (f.to_string(), demo_proto(f)));
    let pool = proto_registry::compile_sources(&sources, &[BOOKSTORE.into(), ECHO.into()]).unwrap();
    let set = pool.encode_to_vec();
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(&set)
        .build_v1()
        .unwrap();
    tonic::transport::Server::builder()
        .add_service(reflection)
        .serve_with_incoming_shutdown(
            tokio_stream::wrappers::TcpListenerStream::new(listener),
            shutdown,
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn an_api_is_edited_with_if_match_and_a_backend_rename_follows_into_it() {
    let portal = Portal::start().await;
    let admin = portal.admin().await;
    seed(&admin).await;
    let echo = json!({"name": "echo", "backend": "demo", "schema": "demo",
                      "grpc": {"service": "demo.echo.v1.Echo", "method": "Echo"},
                      "http": {"post": "/v1/echo", "body": "*"}});
    let created = admin.post("/api/apis", echo).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(
        created.body["routes"],
        json!([{"host": "", "method": "POST", "path": "/v1/echo"}])
    );

    let mut edited = admin.get("/api/apis/echo").await.body;
    edited["http"] = json!({"get": "/v1/echo/{message}", "additional_bindings": [{"post": "/v1/echo", "body": "*"}]});
    let updated = admin
        .send(
            "PUT",
            "/api/apis/echo",
            Some(edited.clone()),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.text);
    assert_eq!(updated.headers["etag"], "\"2\"");
    assert_eq!(count(&portal.db.pool, "api_routes").await, 2);
    let stale = admin
        .send(
            "PUT",
            "/api/apis/echo",
            Some(edited),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT);

    // Renaming the backend carries the new name into the API's spec (and the foreign key).
    let mut backend = admin.get("/api/backends/demo").await.body;
    backend["name"] = json!("renamed");
    let renamed = admin
        .send(
            "PUT",
            "/api/backends/demo",
            Some(backend),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.text);
    let api = admin.get("/api/apis/echo").await;
    assert_eq!(api.body["backend"], "renamed");
    // In use: the backend cannot be deleted, the API can.
    let refused = admin
        .send(
            "DELETE",
            "/api/backends/renamed",
            None,
            &[("if-match", "\"2\"")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
    assert_eq!(refused.body["code"], "in_use");
    let etag = api.headers["etag"].to_str().unwrap().to_string();
    let deleted = admin
        .send("DELETE", "/api/apis/echo", None, &[("if-match", &etag)])
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(count(&portal.db.pool, "api_routes").await, 0);
    let published = admin
        .post("/api/revisions", json!({"comment": "empty"}))
        .await;
    assert_eq!(published.status, StatusCode::CREATED, "{}", published.text);
}

/// Names are letters, digits and `._-` (usernames also `@`), at most 128: anything else is a 400 that
/// names the field; a NUL character anywhere in a request (body or URL) is a 400 too, never a 500 from
/// Postgres.
#[tokio::test]
async fn bad_names_and_nul_characters_are_400s_naming_the_field() {
    let portal = Portal::start().await;
    let alice = portal.admin().await;
    seed(&alice).await;
    let api = |name: &str| {
        json!({"name": name, "backend": "demo", "schema": "demo",
               "grpc": {"service": "demo.echo.v1.Echo", "method": "Echo"},
               "http": {"post": "/v1/names", "body": "*"}})
    };
    let long = "n".repeat(129);
    let cases: Vec<(&str, serde_json::Value, &str, &str)> = vec![
        ("/api/backends", backend("has space"), "name", "holds ` `"),
        ("/api/backends", backend("a/b"), "name", "holds `/`"),
        ("/api/backends", backend(&long), "name", "at most 128"),
        ("/api/apis", api("tab\there"), "name", "holds `\\t`"),
        (
            "/api/apis",
            api("-lead"),
            "name",
            "must start with a letter or a digit",
        ),
        (
            "/api/schemas",
            json!({"name": "naïve", "proto": {"files": {}}}),
            "name",
            "holds `ï`",
        ),
        (
            "/api/users",
            json!({"username": "bob smith", "password": "password-123", "role": "viewer"}),
            "username",
            "holds ` `",
        ),
    ];
    for (path, body, field, phrase) in cases {
        let reply = alice.post(path, body.clone()).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{path} {body}: {}",
            reply.text
        );
        assert_eq!(
            reply.body["details"][0]["field"], field,
            "{path} {body}: {}",
            reply.text
        );
        let problem = reply.body["details"][0]["problem"]
            .as_str()
            .unwrap_or_default();
        assert!(problem.contains(phrase), "{path} {body}: {problem}");
    }
    let mut with_group = api("grouped");
    with_group["group"] = json!("a group");
    let reply = alice.post("/api/apis", with_group).await;
    assert_eq!(reply.body["details"][0]["field"], "group", "{}", reply.text);
    // A username may be an address.
    let reply = alice
        .post(
            "/api/users",
            json!({"username": "bob@example.com", "password": "password-123", "role": "viewer"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);

    // NUL in a body string, deep inside, and in the URL.
    let mut nul = api("nul-description");
    nul["docs"] = json!({"summary": "a\u{0}b"});
    let reply = alice.post("/api/apis", nul).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
    assert_eq!(reply.body["code"], "bad_request");
    assert!(
        reply.body["message"]
            .as_str()
            .unwrap()
            .contains("NUL character (\\u0000) at `docs.summary`"),
        "{}",
        reply.text
    );
    let reply = alice.get("/api/apis/echo%00x").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
    assert!(
        reply.body["request_id"]
            .as_str()
            .is_some_and(|id| !id.is_empty())
    );
    let reply = alice.get("/api/apis?limit=1%00").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
    // Nothing of the refused requests was stored.
    let list = alice.get("/api/apis").await;
    assert_eq!(list.body["total"], 0, "{}", list.text);
}
