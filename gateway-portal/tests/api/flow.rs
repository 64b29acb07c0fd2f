//! The whole flow: backend → schema from a proto upload → generated APIs → publish → a revision row and a
//! NOTIFY a listening node would receive; then unpublish and restore.

use std::time::Duration;

use axum::http::StatusCode;
use serde_json::json;
use sqlx::postgres::PgListener;

use crate::harness::{Portal, count, echo_api, seed};

#[tokio::test]
async fn publish_notifies_and_restore_makes_a_new_revision() {
    let portal = Portal::start().await;
    let admin = portal.admin().await;
    let mut listener = PgListener::connect(&portal.db.url).await.unwrap();
    listener.listen("gateway_revisions").await.unwrap();

    seed(&admin).await;
    let schema = admin.get("/api/schemas/demo").await;
    assert_eq!(schema.status, StatusCode::OK);
    let services = schema.body["services"].as_array().unwrap();
    let bookstore = services
        .iter()
        .find(|s| s["name"] == "demo.bookstore.v1.Bookstore")
        .unwrap();
    let get_shelf = bookstore["methods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "GetShelf")
        .unwrap();
    assert_eq!(get_shelf["http"]["get"], "/v1/shelves/{shelf}");

    let generated = admin
        .post(
            "/api/apis/generate",
            json!({"backend": "demo", "schema": "demo", "service": "demo.bookstore.v1.Bookstore"}),
        )
        .await;
    assert_eq!(generated.status, StatusCode::CREATED, "{}", generated.text);
    let routes = generated.body["routes"].as_array().unwrap();
    assert!(
        routes
            .iter()
            .any(|r| r["method"] == "GET" && r["path"] == "/v1/books/{name=**}"),
        "{routes:?}"
    );
    let echo = admin
        .post("/api/apis/generate", json!({"backend": "demo", "schema": "demo", "service": "demo.echo.v1.Echo", "auto_route": true}))
        .await;
    assert_eq!(echo.status, StatusCode::CREATED, "{}", echo.text);
    assert!(
        echo.body["routes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["path"] == "/demo.echo.v1.Echo/Echo")
    );

    let published = admin
        .post("/api/revisions", json!({"comment": "first"}))
        .await;
    assert_eq!(published.status, StatusCode::CREATED, "{}", published.text);
    let first = published.body["id"].as_i64().unwrap();
    let note = tokio::time::timeout(Duration::from_secs(5), listener.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(note.payload(), first.to_string());

    let revision = admin.get(&format!("/api/revisions/{first}")).await;
    assert_eq!(revision.body["comment"], "first");
    assert_eq!(revision.body["created_by"], "admin");
    let config: api_model::Config =
        serde_json::from_value(revision.body["config"].clone()).unwrap();
    assert_eq!(config.apis.len(), 2);
    assert!(config.schemas[0].descriptor_set_base64.is_some());
    // The revision is self-contained: the nodes' own build accepts it.
    gateway_web::catalog::build(&config, "t".into(), &Default::default())
        .await
        .unwrap();

    // Unpublish Echo: the next revision leaves it out.
    let off = admin
        .send(
            "PUT",
            "/api/apis/demo.echo.v1.Echo/published",
            Some(json!({"published": false})),
            &[],
        )
        .await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.text);
    let second = admin
        .post("/api/revisions", json!({"comment": "no echo"}))
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    assert!(second > first);
    let note = tokio::time::timeout(Duration::from_secs(5), listener.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(note.payload(), second.to_string());
    let config: serde_json::Value =
        admin.get(&format!("/api/revisions/{second}")).await.body["config"].clone();
    assert_eq!(config["apis"].as_array().unwrap().len(), 1);

    // Restore the first: a third revision with the first's config.
    let restored = admin
        .send(
            "POST",
            &format!("/api/revisions/{first}/restore"),
            None,
            &[],
        )
        .await;
    assert_eq!(restored.status, StatusCode::CREATED, "{}", restored.text);
    let third = restored.body["id"].as_i64().unwrap();
    assert!(third > second);
    let note = tokio::time::timeout(Duration::from_secs(5), listener.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(note.payload(), third.to_string());
    let third_body = admin.get(&format!("/api/revisions/{third}")).await.body;
    assert_eq!(third_body["restored_from"], first);
    assert_eq!(
        third_body["config"],
        admin.get(&format!("/api/revisions/{first}")).await.body["config"]
    );

    let list = admin.get("/api/revisions?limit=2").await;
    assert_eq!(list.body["total"], 3);
    let ids: Vec<i64> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [third, second]);
    assert_eq!(
        admin.get("/api/revisions/999").await.status,
        StatusCode::NOT_FOUND
    );

    // Every write left an audit row.
    let actions: Vec<String> = sqlx::query_scalar("SELECT action FROM audit_log ORDER BY id")
        .fetch_all(&portal.db.pool)
        .await
        .unwrap();
    for action in [
        "backend.create",
        "schema.create",
        "api.create",
        "revision.publish",
        "api.unpublish",
        "revision.restore",
    ] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} in {actions:?}"
        );
    }
    // A schema in use cannot go.
    let delete = admin.send("DELETE", "/api/schemas/demo", None, &[]).await;
    assert_eq!(delete.status, StatusCode::CONFLICT);
    assert_eq!(count(&portal.db.pool, "schemas").await, 1);
    listener.unlisten_all().await.unwrap();
}

#[tokio::test]
async fn a_revision_that_does_not_build_is_refused() {
    let portal = Portal::start().await;
    let admin = portal.admin().await;
    seed(&admin).await;
    admin
        .post(
            "/api/apis/generate",
            json!({"backend": "demo", "schema": "demo", "service": "demo.bookstore.v1.Bookstore"}),
        )
        .await;
    // Break the stored API behind the portal's back, as a buggy older portal might have.
    sqlx::query("UPDATE apis SET spec = jsonb_set(spec, '{grpc,service}', '\"demo.Nope\"')")
        .execute(&portal.db.pool)
        .await
        .unwrap();
    let reply = admin.post("/api/revisions", json!({})).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
    assert!(
        reply.body["message"]
            .as_str()
            .unwrap()
            .contains("demo.Nope")
    );
    assert_eq!(count(&portal.db.pool, "revisions").await, 0);
}

#[tokio::test]
async fn a_restored_revision_is_the_working_state_the_next_publish_builds_on() {
    let portal = Portal::start().await;
    let admin = portal.admin().await;
    seed(&admin).await;
    let publish = || {
        let admin = admin.clone();
        async move {
            let reply = admin.post("/api/revisions", json!({})).await;
            assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
            reply.body["id"].as_i64().unwrap()
        }
    };
    let apis_of = |id: i64| {
        let admin = admin.clone();
        async move {
            let revision = admin.get(&format!("/api/revisions/{id}")).await;
            let mut names: Vec<String> = revision.body["config"]["apis"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["name"].as_str().unwrap().to_string())
                .collect();
            names.sort();
            names
        }
    };
    echo_api(&admin, "first").await;
    let one = publish().await;
    echo_api(&admin, "second").await;
    let two = publish().await;
    assert_eq!(apis_of(two).await, ["first", "second"]);

    let restored = admin
        .post(&format!("/api/revisions/{one}/restore"), json!({}))
        .await;
    assert_eq!(restored.status, StatusCode::CREATED, "{}", restored.text);
    let three = restored.body["id"].as_i64().unwrap();
    assert_eq!(apis_of(three).await, ["first"]);
    // The API the restore left out is a draft now, not lost, and not published again by accident.
    let second = admin.get("/api/apis/second").await;
    assert_eq!(second.status, StatusCode::OK);
    assert_eq!(second.body["published"], false, "{}", second.text);
    let four = publish().await;
    assert_eq!(
        apis_of(four).await,
        ["first"],
        "the next publish keeps the restored state"
    );
}
