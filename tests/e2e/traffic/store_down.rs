//! Redis stopped mid-load: each limit follows its own rule (`local`: this node's share of the limit;
//! `fail_open`: everything; `fail_closed`: nothing, 503), nothing crashes, `/readyz` says so, and
//! counting goes back to Redis on its own when it returns.

use std::time::Duration;

use serde_json::json;

use super::{config, flaky_backend, fresh, on_redis};
use crate::harness::{Gateway, PrivateRedis, expect_error};

/// Statuses of `n` calls to `path`, in order.
async fn statuses(gw: &Gateway, path: &str, n: usize) -> Vec<u16> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let response = gw
            .client
            .post(gw.url(path))
            .json(&body_for(path))
            .send()
            .await
            .unwrap();
        out.push(response.status().as_u16());
    }
    out
}

/// A valid body for each API of the config.
fn body_for(path: &str) -> serde_json::Value {
    match path {
        "/v1/sleep" => json!({"millis": 0}),
        "/v1/fail" => json!({"code": 0}),
        _ => json!({"message": "x"}),
    }
}

fn count(statuses: &[u16], status: u16) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

#[tokio::test]
async fn each_limit_follows_its_rule_while_redis_is_down_and_recovers_when_it_returns() {
    let backend = flaky_backend().await;
    let mut redis = PrivateRedis::start().await;
    let limit = |rule: &str, name: &str| {
        format!(
            "[{{ kind: rate_limit, on_store_down: {rule}, limits: [{{ name: {}, limit: 10, every: 1h }}] }}]",
            fresh(name)
        )
    };
    let yaml = config(
        backend.addr,
        &limit("local", "local"),
        &limit("fail_open", "open"),
        &limit("fail_closed", "closed"),
    );
    let mut a = Gateway::start_tuned(&yaml, on_redis(&redis.url)).await;
    let b = Gateway::start_tuned(&yaml, on_redis(&redis.url)).await;
    // Both nodes count themselves in Redis (a heartbeat every 5 s): the `local` rule divides by 2.
    for node in [&a, &b] {
        assert_eq!(statuses(node, "/v1/echo", 1).await, [200]);
    }
    a.wait_until(|body| body["traffic"]["live_nodes"] == 2)
        .await
        .expect("node a counts two live nodes");
    // With Redis: the `fail_closed` API's limit is counted like any other.
    assert_eq!(count(&statuses(&a, "/v1/sleep", 12).await, 200), 10);

    redis.stop().await;
    let local = statuses(&a, "/v1/echo", 10).await;
    assert_eq!(
        count(&local, 200),
        5,
        "local: half of 10 on each of 2 nodes: {local:?}"
    );
    assert_eq!(count(&local, 429), 5);
    let open = statuses(&a, "/v1/fail", 15).await;
    assert_eq!(
        count(&open, 200),
        15,
        "fail_open admits everything: {open:?}"
    );
    let closed = a
        .client
        .post(a.url("/v1/sleep"))
        .json(&json!({"millis": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(closed.headers()["retry-after"], "1");
    expect_error(closed, 503, "rate_limit_unavailable").await;
    let ready = a.readyz().await;
    assert_eq!(
        ready["traffic"]["rate_limits"], "fallback (redis unreachable)",
        "{ready}"
    );
    assert!(
        ready["traffic"]["rate_limit_fallback_decisions"]
            .as_u64()
            .unwrap()
            >= 26
    );

    // Redis comes back (empty): counting returns to it by itself, within the store's retry pause.
    let _redis = PrivateRedis::start_on(redis.port).await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let mut back = Vec::new();
    for _ in 0..20 {
        back = statuses(&a, "/v1/sleep", 1).await;
        if back == [200] {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(back, [200], "fail_closed admits again once Redis answers");
    assert_eq!(a.readyz().await["traffic"]["rate_limits"], "redis");
}
