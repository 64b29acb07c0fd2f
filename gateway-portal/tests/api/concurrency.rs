//! Concurrent edit-and-publish calls: revisions stay monotonic, and once a published revision carries an
//! edit, every later one carries it (nodes serve every revision they are told of, so a revision that
//! drops an edit and the next that regains it would flap production).

use std::collections::BTreeSet;

use axum::http::StatusCode;
use serde_json::json;

use crate::harness::{Portal, echo_api, seed};

#[tokio::test]
async fn concurrent_publishes_never_drop_an_edit_an_earlier_revision_carried() {
    let portal = Portal::start().await;
    let admin = portal.admin().await;
    seed(&admin).await;
    // Routes to check make each publish's build take a while: the window a publish that read the
    // definitions without a lock left open (it dropped edits here before publishes were serialised).
    for i in 0..10 {
        let reply = admin
            .post(
                "/api/apis/generate",
                json!({"backend": "demo", "schema": "demo", "service": "demo.bookstore.v1.Bookstore", "name": format!("books-{i}"), "auto_route": false}),
            )
            .await;
        assert!(
            reply.status.is_success() || reply.status == StatusCode::CONFLICT,
            "{}",
            reply.text
        );
    }
    let mut calls = tokio::task::JoinSet::new();
    for i in 0..20 {
        let admin = admin.clone();
        calls.spawn(async move {
            let name = format!("echo-{i:02}");
            echo_api(&admin, &name).await;
            let reply = admin.post("/api/revisions", json!({"comment": name})).await;
            assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        });
    }
    while let Some(done) = calls.join_next().await {
        done.unwrap();
    }

    let listed = admin.get("/api/revisions?limit=100").await;
    let mut ids: Vec<i64> = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids.len(), 20);
    let mut carried: BTreeSet<String> = BTreeSet::new();
    for id in ids {
        let revision = admin.get(&format!("/api/revisions/{id}")).await;
        let apis: BTreeSet<String> = revision.body["config"]["apis"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].as_str().unwrap().to_string())
            .collect();
        let dropped: Vec<_> = carried.difference(&apis).collect();
        assert!(dropped.is_empty(), "revision {id} dropped {dropped:?}");
        carried = apis;
    }
    let echoes = carried
        .iter()
        .filter(|name| name.starts_with("echo-"))
        .count();
    assert_eq!(
        echoes, 20,
        "the last revision carries every edit: {carried:?}"
    );
}
