//! Migrations, login/logout, CSRF and roles.

use axum::http::StatusCode;
use serde_json::json;

use crate::harness::{ADMIN_PASSWORD, Portal, TestDb, backend, count, seed};

#[tokio::test]
async fn migrations_apply_to_an_empty_database_and_twice_is_harmless() {
    let db = TestDb::new().await;
    gateway_portal::db::migrate(&db.pool).await.unwrap();
    gateway_portal::db::migrate(&db.pool).await.unwrap();
    for table in [
        "revisions",
        "backends",
        "schemas",
        "apis",
        "api_routes",
        "apps",
        "app_credentials",
        "admin_users",
        "sessions",
        "audit_log",
    ] {
        assert_eq!(count(&db.pool, table).await, 0, "{table}");
    }
    assert!(
        gateway_portal::db::bootstrap_admin(&db.pool, "x-password-long")
            .await
            .unwrap()
    );
    assert!(
        !gateway_portal::db::bootstrap_admin(&db.pool, "y-password-long")
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn behind_a_tls_proxy_the_session_cookie_is_secure() {
    let portal = Portal::start().await;
    let client = portal.client();
    let login = json!({"username": "admin", "password": ADMIN_PASSWORD});
    for forwarded in [
        ("x-forwarded-proto", "https"),
        ("forwarded", "for=192.0.2.60;proto=https;by=203.0.113.43"),
    ] {
        let ok = client
            .send("POST", "/api/session", Some(login.clone()), &[forwarded])
            .await;
        assert_eq!(ok.status, StatusCode::OK);
        let cookie = ok.headers["set-cookie"].to_str().unwrap();
        assert!(cookie.ends_with("; Secure"), "{forwarded:?}: {cookie}");
    }
    let plain = client
        .send(
            "POST",
            "/api/session",
            Some(login),
            &[("x-forwarded-proto", "http")],
        )
        .await;
    let cookie = plain.headers["set-cookie"].to_str().unwrap();
    assert!(!cookie.contains("Secure"), "{cookie}");
}

#[tokio::test]
async fn login_session_and_logout() {
    let portal = Portal::start().await;
    let mut client = portal.client();
    assert_eq!(
        client.get("/api/session").await.status,
        StatusCode::UNAUTHORIZED
    );
    let wrong = client.login("admin", "nope").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.body["code"], "bad_credentials");
    assert!(
        wrong.body["request_id"]
            .as_str()
            .is_some_and(|id| !id.is_empty())
    );

    let ok = client.login("admin", ADMIN_PASSWORD).await;
    assert_eq!(ok.status, StatusCode::OK);
    let cookie = ok.headers["set-cookie"].to_str().unwrap();
    for part in ["portal_session=", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(part), "{cookie}");
    }
    // Over plain HTTP a Secure cookie would never be sent back, so it is not marked Secure here.
    assert!(!cookie.contains("Secure"), "{cookie}");
    assert_eq!(ok.body["role"], "admin");
    let session = client.get("/api/session").await;
    assert_eq!(session.status, StatusCode::OK);
    assert_eq!(session.body["username"], "admin");
    assert_eq!(session.body["csrf_token"], ok.body["csrf_token"]);

    let out = client.send("DELETE", "/api/session", None, &[]).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert_eq!(
        client.get("/api/session").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        client.get("/api/backends").await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn writes_without_the_csrf_token_are_refused() {
    let portal = Portal::start().await;
    let mut client = portal.admin().await;
    client.csrf = None;
    let reply = client.post("/api/backends", backend("b")).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.body["code"], "csrf");
    client.csrf = Some("wrong".into());
    assert_eq!(
        client.post("/api/backends", backend("b")).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(count(&portal.db.pool, "backends").await, 0);
    // Reads need no token.
    assert_eq!(client.get("/api/backends").await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_viewer_can_read_but_change_nothing() {
    let portal = Portal::start().await;
    let admin = portal.admin().await;
    seed(&admin).await;
    let api = admin
        .post(
            "/api/apis/generate",
            json!({"backend": "demo", "schema": "demo", "service": "demo.bookstore.v1.Bookstore"}),
        )
        .await;
    assert_eq!(api.status, StatusCode::CREATED, "{}", api.text);
    assert_eq!(
        admin.post("/api/revisions", json!({})).await.status,
        StatusCode::CREATED
    );

    let viewer = portal.user("vera", "viewer").await;
    for path in [
        "/api/backends",
        "/api/schemas",
        "/api/apis",
        "/api/revisions",
        "/api/audit",
        "/api/export",
    ] {
        assert_eq!(viewer.get(path).await.status, StatusCode::OK, "{path}");
    }
    let if_match = [("if-match", "\"1\"")];
    let writes: Vec<(&str, &str, Option<serde_json::Value>)> = vec![
        ("POST", "/api/backends", Some(backend("x"))),
        ("PUT", "/api/backends/demo", Some(backend("demo"))),
        ("DELETE", "/api/backends/demo", None),
        (
            "POST",
            "/api/schemas",
            Some(json!({"name": "s", "descriptor_set_base64": ""})),
        ),
        ("DELETE", "/api/schemas/demo", None),
        (
            "POST",
            "/api/apis",
            Some(json!({"name": "a", "backend": "demo"})),
        ),
        (
            "POST",
            "/api/apis/generate",
            Some(json!({"backend": "demo", "schema": "demo", "service": "x"})),
        ),
        (
            "PUT",
            "/api/apis/demo.bookstore.v1.Bookstore",
            Some(json!({"name": "a", "backend": "demo"})),
        ),
        ("DELETE", "/api/apis/demo.bookstore.v1.Bookstore", None),
        (
            "PUT",
            "/api/apis/demo.bookstore.v1.Bookstore/published",
            Some(json!({"published": false})),
        ),
        ("POST", "/api/revisions", Some(json!({}))),
        ("POST", "/api/revisions/1/restore", None),
        ("POST", "/api/import", Some(json!("backends: []"))),
        (
            "POST",
            "/api/users",
            Some(json!({"username": "u", "password": "password-1", "role": "admin"})),
        ),
    ];
    for (method, path, body) in writes {
        let reply = viewer.send(method, path, body, &if_match).await;
        assert_eq!(
            reply.status,
            StatusCode::FORBIDDEN,
            "{method} {path}: {}",
            reply.text
        );
        assert_eq!(reply.body["code"], "forbidden", "{method} {path}");
    }
    assert_eq!(viewer.get("/api/users").await.status, StatusCode::FORBIDDEN);
    assert_eq!(count(&portal.db.pool, "backends").await, 1);
    assert_eq!(count(&portal.db.pool, "revisions").await, 1);
    // Logging out is not a change to definitions: a viewer may.
    assert_eq!(
        viewer
            .send("DELETE", "/api/session", None, &[])
            .await
            .status,
        StatusCode::NO_CONTENT
    );

    // A publisher edits but does not manage users.
    let publisher = portal.user("pat", "publisher").await;
    assert_eq!(
        publisher.post("/api/backends", backend("p")).await.status,
        StatusCode::CREATED
    );
    let reply = publisher
        .post(
            "/api/users",
            json!({"username": "u", "password": "password-1", "role": "admin"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
}
