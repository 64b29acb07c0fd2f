//! Deadlines: the API's timeout bounds every call; a client may shorten it, never lengthen it; the backend
//! learns the budget as `grpc-timeout`.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::{Gateway, demo_config, expect_error, tonic_backend};

#[tokio::test]
async fn the_api_timeout_gives_504_in_time() {
    let backend = tonic_backend().await;
    let gw = Gateway::start(&demo_config(backend.addr)).await;
    let started = Instant::now();
    let response = gw
        .client
        .post(gw.url("/v1/sleep"))
        .json(&json!({"millis": 3000}))
        .send()
        .await
        .unwrap();
    expect_error(response, 504, "deadline_exceeded").await;
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_millis(2500),
        "took {took:?} for a 1s timeout"
    );
}

#[tokio::test]
async fn the_backend_sees_the_remaining_budget() {
    let backend = tonic_backend().await;
    let gw = Gateway::start(&demo_config(backend.addr)).await;
    let body: Value = gw
        .client
        .post(gw.url("/v1/sleep"))
        .json(&json!({"millis": 1}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let sent = body["grpcTimeout"]
        .as_str()
        .expect("grpc-timeout reached the backend");
    let budget =
        gateway_web::interceptors::deadline::parse_grpc_timeout(sent).expect("valid grpc-timeout");
    assert!(
        budget <= Duration::from_secs(1) && budget > Duration::from_millis(500),
        "{sent}"
    );
}

#[tokio::test]
async fn clients_may_shorten_but_not_lengthen() {
    let backend = tonic_backend().await;
    let gw = Gateway::start(&demo_config(backend.addr)).await;

    let started = Instant::now();
    let response = gw
        .client
        .post(gw.url("/v1/sleep"))
        .header("x-timeout", "200ms")
        .json(&json!({"millis": 800}))
        .send()
        .await
        .unwrap();
    expect_error(response, 504, "deadline_exceeded").await;
    assert!(
        started.elapsed() < Duration::from_millis(700),
        "X-Timeout shortened the call"
    );

    let response = gw
        .client
        .post(gw.url("/v1/sleep"))
        .header("grpc-timeout", "150m")
        .json(&json!({"millis": 800}))
        .send()
        .await
        .unwrap();
    expect_error(response, 504, "deadline_exceeded").await;

    // Asking for 10 s on a 1 s API still ends at 1 s.
    let started = Instant::now();
    let response = gw
        .client
        .post(gw.url("/v1/sleep"))
        .header("x-timeout", "10s")
        .json(&json!({"millis": 3000}))
        .send()
        .await
        .unwrap();
    expect_error(response, 504, "deadline_exceeded").await;
    assert!(started.elapsed() < Duration::from_millis(2500));

    let response = gw
        .client
        .post(gw.url("/v1/sleep"))
        .header("x-timeout", "soon")
        .json(&json!({"millis": 1}))
        .send()
        .await
        .unwrap();
    expect_error(response, 400, "invalid_argument").await;
    let response = gw
        .client
        .post(gw.url("/v1/sleep"))
        .header("grpc-timeout", "5x")
        .json(&json!({"millis": 1}))
        .send()
        .await
        .unwrap();
    expect_error(response, 400, "invalid_argument").await;
}
