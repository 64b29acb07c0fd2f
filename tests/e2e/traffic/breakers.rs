//! Circuit breakers against a real backend that fails and recovers: closed → open (refusing at once,
//! the backend not called) → half open (one probe) → open again for longer → half open → closed; the
//! state at `/readyz`; a fallback answering for an open breaker; client mistakes never opening it.

use std::time::{Duration, Instant};

use serde_json::json;

use super::{config, echo, flaky_backend};
use crate::harness::{Gateway, expect_error};

const BREAKER: &str = "{ kind: circuit_breaker, minimum_calls: 4, failure_rate: 0.5, open: 400ms, max_open: 2s, window: 30s }";

fn breaker_state(ready: &serde_json::Value) -> String {
    ready["traffic"]["breakers"][0]["state"]
        .as_str()
        .unwrap_or("none")
        .to_string()
}

#[tokio::test]
async fn a_breaker_opens_probes_and_closes_against_a_failing_then_recovering_backend() {
    let backend = flaky_backend().await;
    let gw = Gateway::start(&config(backend.addr, &format!("[{BREAKER}]"), "[]", "[]")).await;
    assert_eq!(echo(&gw).await.status(), 200);
    backend.set_failing(true);
    // Closed: failures pass through as what they are until the window holds enough of them.
    for _ in 0..3 {
        expect_error(echo(&gw).await, 503, "unavailable").await;
    }
    assert_eq!(
        breaker_state(&gw.readyz().await),
        "open",
        "2 of 4... then 3 of 4 failed"
    );
    let calls = backend.calls();
    let started = Instant::now();
    let refused = echo(&gw).await;
    assert!(
        started.elapsed() < Duration::from_millis(100),
        "an open breaker answers at once"
    );
    expect_error(refused, 503, "circuit_open").await;
    assert_eq!(
        backend.calls(),
        calls,
        "an open breaker does not call the backend"
    );

    // Half open after the open time: one probe reaches the backend, fails, and reopens it for longer.
    tokio::time::sleep(Duration::from_millis(450)).await;
    expect_error(echo(&gw).await, 503, "unavailable").await;
    assert_eq!(backend.calls(), calls + 1, "one probe");
    expect_error(echo(&gw).await, 503, "circuit_open").await;
    tokio::time::sleep(Duration::from_millis(450)).await;
    expect_error(echo(&gw).await, 503, "circuit_open").await;

    // The backend recovers; after the doubled open time a probe succeeds and the breaker closes.
    backend.set_failing(false);
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert_eq!(echo(&gw).await.status(), 200);
    let ready = gw.readyz().await;
    assert_eq!(breaker_state(&ready), "closed", "{ready}");
    assert_eq!(ready["traffic"]["breakers"][0]["times_opened"], 2);
    for _ in 0..10 {
        assert_eq!(echo(&gw).await.status(), 200);
    }
}

#[tokio::test]
async fn a_fallback_answers_for_an_open_breaker_and_says_so() {
    let backend = flaky_backend().await;
    let fallback = r#"{ kind: fallback, status: 200, headers: { x-degraded: "yes" }, body: { message: "cached answer" }, on: [circuit_open] }"#;
    let gw = Gateway::start(&config(
        backend.addr,
        &format!("[{BREAKER}, {fallback}]"),
        "[]",
        "[]",
    ))
    .await;
    backend.set_failing(true);
    for _ in 0..4 {
        // `unavailable` is not among the fallback's classes: the failure shows.
        expect_error(echo(&gw).await, 503, "unavailable").await;
    }
    let answer = echo(&gw).await;
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.headers()["x-gateway-fallback"], "true");
    assert_eq!(answer.headers()["x-degraded"], "yes");
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(body, json!({"message": "cached answer"}));
}

#[tokio::test]
async fn client_mistakes_never_open_a_breaker() {
    let backend = flaky_backend().await;
    let gw = Gateway::start(&config(backend.addr, "[]", &format!("[{BREAKER}]"), "[]")).await;
    // INVALID_ARGUMENT and NOT_FOUND from the backend are the client's: not counted by default.
    for code in [3, 5, 3, 5, 3, 5] {
        let response = gw
            .client
            .post(gw.url("/v1/fail"))
            .json(&json!({"code": code}))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_client_error());
    }
    assert_eq!(breaker_state(&gw.readyz().await), "closed");
    // UNAVAILABLE is counted: 6 of 12 calls in the window.
    for _ in 0..6 {
        let _ = gw
            .client
            .post(gw.url("/v1/fail"))
            .json(&json!({"code": 14}))
            .send()
            .await
            .unwrap();
    }
    assert_eq!(breaker_state(&gw.readyz().await), "open");
}

#[tokio::test]
async fn a_status_named_by_the_policy_counts_as_a_failure() {
    let backend = flaky_backend().await;
    let named = BREAKER.replace(" }", ", failures: ['grpc:RESOURCE_EXHAUSTED'] }");
    let gw = Gateway::start(&config(backend.addr, "[]", &format!("[{named}]"), "[]")).await;
    for _ in 0..4 {
        let response = gw
            .client
            .post(gw.url("/v1/fail"))
            .json(&json!({"code": 8, "message": "quota"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 429);
    }
    assert_eq!(breaker_state(&gw.readyz().await), "open");
    expect_error(
        gw.client
            .post(gw.url("/v1/fail"))
            .json(&json!({"code": 0}))
            .send()
            .await
            .unwrap(),
        503,
        "circuit_open",
    )
    .await;
}
