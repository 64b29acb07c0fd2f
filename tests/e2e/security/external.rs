//! External authentication against a session service the test runs: verdicts cached briefly, the
//! identity it vouches for passed downstream, its failure handled as the policy says.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use serde_json::json;

use super::{backend_metadata, config};
use crate::harness::{Gateway, expect_error, tonic_backend};

struct SessionService {
    url: String,
    calls: Arc<AtomicUsize>,
    broken: Arc<AtomicBool>,
}

/// 200 with `x-user-id: u-42` for cookie `session=good`, 401 otherwise; 500 while `broken`.
async fn session_service() -> SessionService {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/check", listener.local_addr().unwrap());
    let calls = Arc::new(AtomicUsize::new(0));
    let broken = Arc::new(AtomicBool::new(false));
    let (c, b) = (calls.clone(), broken.clone());
    let app = axum::Router::new().route(
        "/check",
        axum::routing::get(move |headers: axum::http::HeaderMap| {
            let (c, b) = (c.clone(), b.clone());
            async move {
                c.fetch_add(1, Ordering::SeqCst);
                if b.load(Ordering::SeqCst) {
                    return (
                        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                        [("x-user-id", "")],
                        "",
                    );
                }
                let good = headers
                    .get("cookie")
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.contains("session=good"));
                if good {
                    (axum::http::StatusCode::OK, [("x-user-id", "u-42")], "")
                } else {
                    (
                        axum::http::StatusCode::UNAUTHORIZED,
                        [("x-user-id", "")],
                        "",
                    )
                }
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    SessionService { url, calls, broken }
}

#[tokio::test]
async fn sessions_are_checked_cached_and_vouched_for_downstream() {
    let backend = tonic_backend().await;
    let service = session_service().await;
    let policies = format!(
        "[{{ kind: external_auth, url: '{}', forward_headers: [cookie], identity_headers: [x-user-id], consumer_header: x-user-id, cache_ttl: 300ms }}]",
        service.url
    );
    let gw = Gateway::start(&config(backend.addr, &policies, "")).await;
    let call = |cookie: &str| {
        gw.client
            .post(gw.url("/v1/echo"))
            .header("cookie", cookie)
            .json(&json!({"message": "session"}))
            .send()
    };
    for _ in 0..5 {
        let reply: serde_json::Value = call("session=good").await.unwrap().json().await.unwrap();
        assert_eq!(
            backend_metadata(&reply, "x-user-id").as_deref(),
            Some("u-42"),
            "{reply}"
        );
        assert_eq!(
            backend_metadata(&reply, "x-consumer-id").as_deref(),
            Some("u-42")
        );
        assert_eq!(
            backend_metadata(&reply, "cookie"),
            None,
            "the session cookie stays with the gateway"
        );
    }
    assert_eq!(
        service.calls.load(Ordering::SeqCst),
        1,
        "cached for five calls"
    );
    expect_error(call("session=bad").await.unwrap(), 401, "unauthenticated").await;
    let no_cookie = gw
        .client
        .post(gw.url("/v1/echo"))
        .json(&json!({"message": "x"}))
        .send()
        .await
        .unwrap();
    expect_error(no_cookie, 401, "unauthenticated").await;

    // The service fails: refused with 503 (after the cached verdict expires).
    service.broken.store(true, Ordering::SeqCst);
    tokio::time::sleep(std::time::Duration::from_millis(350)).await;
    expect_error(call("session=good").await.unwrap(), 503, "auth_unavailable").await;
}
