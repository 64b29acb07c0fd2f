//! Rate limits counted in the shared Redis: three nodes admit the limit between them, exactly in the
//! exact mode and never over in the batched one; a day quota outlives the node that counted it; every
//! answer of a limited API says where the caller stands.

use std::time::Duration;

use futures::future::join_all;
use serde_json::json;

use super::{REDIS, config, flaky_backend, fresh, on_redis};
use crate::harness::{Gateway, expect_error};

/// Sends `total` echo calls spread round-robin over `nodes`, `concurrency` at a time; returns how many
/// were admitted and how many refused with 429.
async fn spread(nodes: &[&Gateway], total: usize, concurrency: usize) -> (usize, usize) {
    let mut admitted = 0;
    let mut refused = 0;
    let mut sent = 0;
    while sent < total {
        let batch = (total - sent).min(concurrency);
        let calls = (0..batch).map(|i| {
            let node = nodes[(sent + i) % nodes.len()];
            node.client
                .post(node.url("/v1/echo"))
                .json(&json!({"message": "x"}))
                .send()
        });
        for response in join_all(calls).await {
            match response.unwrap().status().as_u16() {
                200 => admitted += 1,
                429 => refused += 1,
                other => panic!("unexpected status {other}"),
            }
        }
        sent += batch;
    }
    (admitted, refused)
}

/// Waits until a fresh minute has at least 45 s left, so a test's calls all fall in one window.
async fn start_of_a_minute() {
    let second = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        % 60;
    if second > 15 {
        tokio::time::sleep(Duration::from_secs(60 - second)).await;
    }
}

#[tokio::test]
async fn three_nodes_on_one_redis_admit_the_limit_between_them() {
    let backend = flaky_backend().await;
    let name = fresh("three-nodes");
    let policy =
        format!("[{{ kind: rate_limit, limits: [{{ name: {name}, limit: 300, every: 1m }}] }}]");
    let yaml = config(backend.addr, &policy, "[]", "[]");
    let a = Gateway::start_tuned(&yaml, on_redis(REDIS)).await;
    let b = Gateway::start_tuned(&yaml, on_redis(REDIS)).await;
    let c = Gateway::start_tuned(&yaml, on_redis(REDIS)).await;
    start_of_a_minute().await;
    let (admitted, refused) = spread(&[&a, &b, &c], 900, 30).await;
    // Exact mode: one atomic script per decision, so not one more than the limit, not one fewer.
    assert_eq!(admitted, 300, "admitted {admitted}, refused {refused}");
    assert_eq!(refused, 600);
    assert_eq!(
        backend.calls(),
        300,
        "refused calls never reach the backend"
    );
}

#[tokio::test]
async fn batched_limits_never_admit_more_and_lose_at_most_a_lease_per_node() {
    let backend = flaky_backend().await;
    let name = fresh("batched");
    let policy = format!(
        "[{{ kind: rate_limit, mode: batched, batch: 20, limits: [{{ name: {name}, limit: 1000, every: 1m }}] }}]"
    );
    let yaml = config(backend.addr, &policy, "[]", "[]");
    let a = Gateway::start_tuned(&yaml, on_redis(REDIS)).await;
    let b = Gateway::start_tuned(&yaml, on_redis(REDIS)).await;
    let c = Gateway::start_tuned(&yaml, on_redis(REDIS)).await;
    start_of_a_minute().await;
    let (admitted, _) = spread(&[&a, &b, &c], 1500, 30).await;
    assert!(
        (1000 - 3 * 20..=1000).contains(&admitted),
        "admitted {admitted} of a 1000 limit with 3 nodes leasing 20"
    );
}

#[tokio::test]
async fn answers_carry_the_ratelimit_headers_and_a_refusal_says_when_to_come_back() {
    let backend = flaky_backend().await;
    let name = fresh("headers");
    let policy = format!(
        "[{{ kind: rate_limit, limits: [{{ name: {name}-burst, limit: 2, every: 10s }}, {{ name: {name}-day, limit: 100, every: 1d }}] }}]"
    );
    let gw =
        Gateway::start_tuned(&config(backend.addr, &policy, "[]", "[]"), on_redis(REDIS)).await;
    let call = || gw.client.get(gw.url("/v1/echo/hi")).send();
    let first = call().await.unwrap();
    assert_eq!(first.status(), 200);
    assert_eq!(
        first.headers()["ratelimit-policy"],
        format!("\"{name}-burst\";q=2;w=10, \"{name}-day\";q=100;w=86400").as_str()
    );
    let state = first.headers()["ratelimit"].to_str().unwrap().to_string();
    assert!(
        state.starts_with(&format!("\"{name}-burst\";r=1;t="))
            && state.contains(&format!("\"{name}-day\";r=99;t=")),
        "{state}"
    );
    assert_eq!(call().await.unwrap().status(), 200);
    let refused = call().await.unwrap();
    let retry_after: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    // At most the rest of this window and half the next, when the previous one weighs half.
    assert!((1..=15).contains(&retry_after), "Retry-After {retry_after}");
    assert!(
        refused.headers()["ratelimit"]
            .to_str()
            .unwrap()
            .contains(";r=0;"),
        "{:?}",
        refused.headers()
    );
    expect_error(refused, 429, "rate_limited").await;
    // A refused call did not count against the day.
    assert_eq!(backend.calls(), 2);
}

#[tokio::test]
async fn a_day_quota_survives_a_node_restart() {
    let backend = flaky_backend().await;
    let name = fresh("quota");
    let policy = format!(
        "[{{ kind: rate_limit, limits: [{{ name: {name}, limit: 5, every: 1d, per: [ip] }}] }}]"
    );
    let yaml = config(backend.addr, &policy, "[]", "[]");
    let first = Gateway::start_tuned(&yaml, on_redis(REDIS)).await;
    for _ in 0..3 {
        assert_eq!(
            first
                .client
                .get(first.url("/v1/echo/a"))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
    }
    drop(first);
    let second = Gateway::start_tuned(&yaml, on_redis(REDIS)).await;
    let statuses: Vec<u16> =
        join_all((0..3).map(|_| second.client.get(second.url("/v1/echo/b")).send()))
            .await
            .into_iter()
            .map(|r| r.unwrap().status().as_u16())
            .collect();
    let mut sorted = statuses.clone();
    sorted.sort();
    assert_eq!(sorted, [200, 200, 429], "{statuses:?}");
    let refused = second
        .client
        .get(second.url("/v1/echo/c"))
        .send()
        .await
        .unwrap();
    let retry_after: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        retry_after > 3600,
        "a day quota is back in hours, not {retry_after} s"
    );
}

#[tokio::test]
async fn limits_by_consumer_header_and_route_count_apart() {
    let backend = flaky_backend().await;
    let name = fresh("dims");
    let policy = format!(
        "[{{ kind: rate_limit, limits: [{{ name: {name}, limit: 1, every: 1h, per: [route, 'header:x-tenant'] }}] }}]"
    );
    let gw =
        Gateway::start_tuned(&config(backend.addr, &policy, "[]", "[]"), on_redis(REDIS)).await;
    let get = |tenant: &'static str| {
        gw.client
            .get(gw.url("/v1/echo/x"))
            .header("x-tenant", tenant)
            .send()
    };
    let post = |tenant: &'static str| {
        gw.client
            .post(gw.url("/v1/echo"))
            .header("x-tenant", tenant)
            .json(&json!({}))
            .send()
    };
    assert_eq!(get("t1").await.unwrap().status(), 200);
    assert_eq!(get("t1").await.unwrap().status(), 429);
    assert_eq!(
        get("t2").await.unwrap().status(),
        200,
        "another tenant has its own count"
    );
    assert_eq!(
        post("t1").await.unwrap().status(),
        200,
        "another route has its own count"
    );
    assert_eq!(post("t1").await.unwrap().status(), 429);
}

#[tokio::test]
async fn limits_that_cannot_work_are_refused_with_the_reason() {
    let backend = flaky_backend().await;
    for (policy, reason) in [
        (
            "[{ kind: rate_limit, limits: [{ limit: 0, every: 1m }] }]",
            "at least 1",
        ),
        (
            "[{ kind: rate_limit, limits: [{ limit: 5, every: 1m, per: [planet] }] }]",
            "planet",
        ),
        ("[{ kind: rate_limit, limits: [] }]", "empty"),
        (
            "[{ kind: circuit_breaker, failures: [sadness] }]",
            "sadness",
        ),
        ("[{ kind: retry, attempts: 50 }]", "attempts"),
        ("[{ kind: fallback, status: 99 }]", "99"),
    ] {
        let err = Gateway::try_start(&config(backend.addr, policy, "[]", "[]"))
            .await
            .err()
            .unwrap_or_else(|| panic!("{policy} was accepted"));
        assert!(format!("{err:#}").contains(reason), "{policy}: {err:#}");
    }
}
