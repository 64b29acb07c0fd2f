//! Retries: a call that surely was not processed is sent again and succeeds; retries never add more
//! than their budget to the backend's load (the backend counts what it receives); a call that may have
//! been processed is not repeated unless its method is idempotent and the policy says so.

use std::sync::atomic::Ordering;

use super::{config, echo, flaky_backend};
use crate::harness::Gateway;
use crate::harness::expect_error;

#[tokio::test]
async fn an_unavailable_backend_is_tried_again_and_the_caller_never_sees_it() {
    let backend = flaky_backend().await;
    let gw = Gateway::start(&config(
        backend.addr,
        "[{ kind: retry, attempts: 3 }]",
        "[]",
        "[]",
    ))
    .await;
    backend
        .fail_next
        .store(2, std::sync::atomic::Ordering::SeqCst);
    let response = echo(&gw).await;
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
    assert_eq!(backend.calls(), 3, "two failures, then the answer");
}

#[tokio::test]
async fn retries_never_exceed_their_budget() {
    let backend = flaky_backend().await;
    let policy = "[{ kind: retry, attempts: 3, budget: 0.1, min_per_second: 0, backoff: 1ms, max_backoff: 2ms }]";
    let gw = Gateway::start(&config(backend.addr, policy, "[]", "[]")).await;
    backend.set_failing(true);
    for _ in 0..200 {
        let response = echo(&gw).await;
        assert_eq!(response.status(), 503);
    }
    let calls = backend.calls();
    // 200 calls earn 20 retries; without the budget it would be 600 calls.
    assert!(
        (210..=221).contains(&calls),
        "{calls} backend calls for 200 requests"
    );
}

#[tokio::test]
async fn calls_that_may_have_run_are_repeated_only_when_idempotent_and_allowed() {
    let backend = flaky_backend().await;
    let lenient = "[{ kind: retry, attempts: 3, idempotent_failures: true, backoff: 1ms }]";
    let gw = Gateway::start(&config(backend.addr, lenient, "[]", "[]")).await;
    // INTERNAL: the call reached the backend and may have run.
    backend.fail_with.store(13, Ordering::SeqCst);
    backend.fail_next.store(1, Ordering::SeqCst);
    let get = gw.client.get(gw.url("/v1/echo/x")).send().await.unwrap();
    assert_eq!(get.status(), 200, "a GET is idempotent: tried again");
    assert_eq!(backend.calls(), 2);
    backend.fail_next.store(1, Ordering::SeqCst);
    expect_error(echo(&gw).await, 500, "internal").await;
    assert_eq!(backend.calls(), 3, "a POST is not repeated");

    // Without `idempotent_failures`, not even the GET is.
    let strict = Gateway::start(&config(
        backend.addr,
        "[{ kind: retry, attempts: 3, backoff: 1ms }]",
        "[]",
        "[]",
    ))
    .await;
    backend.fail_next.store(1, Ordering::SeqCst);
    let get = strict
        .client
        .get(strict.url("/v1/echo/x"))
        .send()
        .await
        .unwrap();
    expect_error(get, 500, "internal").await;
    assert_eq!(backend.calls(), 4);
}
