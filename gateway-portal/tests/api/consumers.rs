//! Apps, credentials and grants, through the admin API and on to a real gateway node in Postgres mode:
//! a key issued in the portal works on the node, a revoked one stops working at once, a shared secret
//! sealed by the portal opens on a node that has the same key, and no secret is ever stored or shown
//! twice.

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use serde_json::json;
use sqlx::Row;

use crate::harness::{Client, ECHO, Portal, demo_proto};

const KEY: &str = "bdHkQ0k1y8d0aZ1bQnS9x2Yk6c3Wq0m8Jv5Tq2Rp4Lc=";

fn sealing() -> Arc<gateway_web::stores::SecretKey> {
    Arc::new(gateway_web::stores::SecretKey::from_base64(KEY).unwrap())
}

/// A backend at `backend`, the echo schema, an echo API behind `policies`, and one revision published.
async fn publish_echo(admin: &Client, backend: &str, policies: serde_json::Value) {
    let reply = admin
        .post(
            "/api/backends",
            json!({"name": "demo", "protocol": "grpc", "endpoints": [backend]}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let reply = admin
        .post("/api/schemas", json!({"name": "echo", "proto": {"files": {ECHO: demo_proto(ECHO)}, "compile": [ECHO]}}))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let reply = admin
        .post(
            "/api/apis",
            json!({"name": "echo", "backend": "demo", "schema": "echo",
                   "grpc": {"service": "demo.echo.v1.Echo", "method": "Echo"},
                   "http": {"post": "/v1/echo", "body": "*"}, "policies": policies}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let reply = admin
        .post("/api/revisions", json!({"comment": "echo"}))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
}

/// A gateway node on the portal's database, as `gateway-web --database-url` runs one.
struct Node {
    addr: std::net::SocketAddr,
    _stop: tokio::sync::oneshot::Sender<()>,
    _dir: tempfile::TempDir,
}

/// The Redis nodes share (started by `.ci/run` when down): where they record credential use.
const REDIS: &str = "redis://127.0.0.1:6379";

fn redis() -> Arc<gateway_web::stores::RedisStore> {
    Arc::new(gateway_web::stores::RedisStore::new(REDIS).unwrap())
}

async fn node(database: &str, key: Option<Arc<gateway_web::stores::SecretKey>>) -> Node {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = gateway_web::Settings::postgres(database, dir.path().join("snapshot.json"));
    settings.secret_key = key;
    settings.redis_url = Some(api_model::Secret(REDIS.into()));
    if let Some(store) = settings.store.as_mut() {
        store.poll_interval = Duration::from_millis(200);
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(gateway_web::run(settings, listener, async {
        let _ = stopped.await;
    }));
    Node {
        addr,
        _stop: stop,
        _dir: dir,
    }
}

async fn backend() -> (String, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(gateway_demo::serve_backend(listener, async {
        let _ = stopped.await;
    }));
    (addr, stop)
}

/// POSTs to the node until `expected` comes back (a revision takes a moment to arrive), or fails.
async fn until_status(node: &Node, key: &str, expected: u16) -> reqwest::Response {
    let client = reqwest::Client::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let response = client
            .post(format!("http://{}/v1/echo", node.addr))
            .header("x-api-key", key)
            .json(&json!({"message": "from the portal"}))
            .send()
            .await;
        if let Ok(response) = response
            && response.status().as_u16() == expected
        {
            return response;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the node never answered {expected}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn an_issued_key_works_on_a_node_and_a_revoked_one_stops_at_once() {
    let portal = Portal::start_with(|state| {
        state.services = gateway_web::stores::Services::new(Some(redis()), None);
    })
    .await;
    let admin = portal.admin().await;
    let (address, _backend) = backend().await;
    publish_echo(&admin, &address, json!([{"kind": "api_key"}])).await;
    let node = node(&portal.db.url, None).await;

    let app = admin
        .post("/api/apps", json!({"name": "partner", "grants": ["echo"]}))
        .await;
    assert_eq!(app.status, StatusCode::CREATED, "{}", app.text);
    let issued = admin
        .post(
            "/api/apps/partner/credentials",
            json!({"kind": "api_key", "label": "prod"}),
        )
        .await;
    assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.text);
    assert_eq!(issued.headers["cache-control"], "no-store");
    let secret = issued.body["secret"].as_str().unwrap().to_string();
    let credential = issued.body["credential"]["id"]
        .as_str()
        .unwrap()
        .to_string();

    // Shown once: neither the app nor any table holds the key.
    let shown = admin.get("/api/apps/partner").await;
    assert!(!shown.text.contains(&secret), "{}", shown.text);
    let dump: String = sqlx::query_scalar(
        "SELECT string_agg(t::text, ' ') FROM (SELECT * FROM app_credentials) t",
    )
    .fetch_one(&portal.db.pool)
    .await
    .unwrap();
    assert!(!dump.contains(&secret));
    let revisions: String =
        sqlx::query_scalar("SELECT string_agg(config::text, ' ') FROM revisions")
            .fetch_one(&portal.db.pool)
            .await
            .unwrap();
    assert!(!revisions.contains(&secret), "a revision holds the key");

    let ok = until_status(&node, &secret, 200).await;
    let reply: serde_json::Value = ok.json().await.unwrap();
    assert_eq!(reply["metadata"]["x-consumer-id"], "partner");
    // The node recorded the use in Redis; the portal shows when.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let shown = admin.get("/api/apps/partner").await;
        if shown.body["credentials"][0]["last_used_at"].is_string() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "last use never shown: {}",
            shown.text
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let revoked = admin
        .send(
            "DELETE",
            &format!("/api/apps/partner/credentials/{credential}"),
            None,
            &[],
        )
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT, "{}", revoked.text);
    let started = std::time::Instant::now();
    until_status(&node, &secret, 401).await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "revocation took {:?}",
        started.elapsed()
    );
    let shown = admin.get("/api/apps/partner").await;
    assert!(
        shown.body["credentials"][0]["revoked_at"].is_string(),
        "{}",
        shown.text
    );

    // Disabling the app refuses its next key too.
    let another = admin
        .post("/api/apps/partner/credentials", json!({"kind": "api_key"}))
        .await;
    let key = another.body["secret"].as_str().unwrap().to_string();
    until_status(&node, &key, 200).await;
    let current = admin.get("/api/apps/partner").await;
    let etag = current.headers["etag"].to_str().unwrap().to_string();
    let disabled = admin
        .send(
            "PUT",
            "/api/apps/partner",
            Some(json!({"name": "partner", "enabled": false, "grants": ["echo"]})),
            &[("if-match", &etag)],
        )
        .await;
    assert_eq!(disabled.status, StatusCode::OK, "{}", disabled.text);
    until_status(&node, &key, 403).await;
}

#[tokio::test]
async fn shared_secrets_are_sealed_two_at_most_and_open_on_a_node_with_the_key() {
    let portal = Portal::start_with(|state| {
        state.services = gateway_web::stores::Services::new(None, Some(sealing()));
    })
    .await;
    let admin = portal.admin().await;
    let (address, _backend) = backend().await;
    publish_echo(
        &admin,
        &address,
        json!([{"kind": "signature", "on_store_down": "local"}]),
    )
    .await;
    let created = admin
        .post(
            "/api/apps",
            json!({"name": "partner", "app_key": "pk-1", "grants": ["echo"]}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let first = admin
        .post("/api/apps/partner/credentials", json!({"kind": "hmac"}))
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let secret = first.body["secret"].as_str().unwrap().to_string();
    assert_eq!(
        first.body["credential"]["hint"],
        format!("…{}", &secret[secret.len() - 4..])
    );
    let second = admin
        .post("/api/apps/partner/credentials", json!({"kind": "hmac"}))
        .await;
    assert_eq!(second.status, StatusCode::CREATED);
    let third = admin
        .post("/api/apps/partner/credentials", json!({"kind": "hmac"}))
        .await;
    assert_eq!(third.status, StatusCode::CONFLICT, "{}", third.text);

    let sealed: Vec<u8> =
        sqlx::query("SELECT secret_encrypted FROM app_credentials ORDER BY id LIMIT 1")
            .fetch_one(&portal.db.pool)
            .await
            .unwrap()
            .get(0);
    assert!(!String::from_utf8_lossy(&sealed).contains(&secret));
    assert_eq!(
        sealing().open(&String::from_utf8_lossy(&sealed)).unwrap(),
        secret
    );

    // A node with the key verifies a signature made with the secret the portal issued.
    let node = node(&portal.db.url, Some(sealing())).await;
    let client = reqwest::Client::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let body = br#"{"message":"signed"}"#;
        let ts = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis()
            .to_string();
        let nonce = uuid::Uuid::new_v4().to_string();
        let digest: String = {
            use sha2::Digest as _;
            sha2::Sha256::digest(body)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect()
        };
        let text = format!("GW1-HMAC-SHA256\nPOST\n/v1/echo\n\npk-1\n{ts}\n{nonce}\n{digest}");
        let signature = {
            use base64::Engine as _;
            let key = hmac_sha256(secret.as_bytes(), text.as_bytes());
            base64::engine::general_purpose::STANDARD.encode(key)
        };
        let response = client
            .post(format!("http://{}/v1/echo", node.addr))
            .header("x-app-key", "pk-1")
            .header("x-timestamp", &ts)
            .header("x-nonce", &nonce)
            .header("x-signature", &signature)
            .body(body.to_vec())
            .send()
            .await;
        if response.as_ref().is_ok_and(|r| r.status() == 200) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never accepted: {:?}",
            response.map(|r| r.status())
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// HMAC-SHA256, written out (the test has no HMAC crate of its own to lean on).
fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    use sha2::Digest as _;
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&sha2::Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let inner: Vec<u8> = block
        .iter()
        .map(|b| b ^ 0x36)
        .chain(message.iter().copied())
        .collect();
    let inner = sha2::Sha256::digest(&inner);
    let outer: Vec<u8> = block
        .iter()
        .map(|b| b ^ 0x5c)
        .chain(inner.iter().copied())
        .collect();
    sha2::Sha256::digest(&outer).to_vec()
}

#[tokio::test]
async fn without_a_sealing_key_no_shared_secret_is_issued() {
    let portal = Portal::start().await;
    let admin = portal.admin().await;
    admin.post("/api/apps", json!({"name": "partner"})).await;
    let refused = admin
        .post("/api/apps/partner/credentials", json!({"kind": "hmac"}))
        .await;
    assert_eq!(
        refused.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        refused.text
    );
    assert_eq!(refused.body["code"], "not_configured");
    let bad = admin
        .post(
            "/api/apps/partner/credentials",
            json!({"kind": "telepathy"}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let ungranted = admin
        .post(
            "/api/apps",
            json!({"name": "other", "grants": ["no-such-api"]}),
        )
        .await;
    assert_eq!(
        ungranted.status,
        StatusCode::BAD_REQUEST,
        "{}",
        ungranted.text
    );
    let viewer = portal.user("watcher", "viewer").await;
    let denied = viewer
        .post("/api/apps/partner/credentials", json!({"kind": "api_key"}))
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
}
