//! Bulkheads: one API whose backend sleeps fills its own slots and queue, and is refused 503
//! `overloaded` beyond them, while another API on the same node and backend keeps its latency.

use std::time::{Duration, Instant};

use futures::future::join_all;
use serde_json::json;

use super::{config, echo, flaky_backend};
use crate::harness::{Gateway, expect_error};

async fn echo_latency(gw: &Gateway, n: usize) -> Duration {
    let mut took = Vec::with_capacity(n);
    for _ in 0..n {
        let started = Instant::now();
        let response = echo(gw).await;
        assert_eq!(response.status(), 200);
        took.push(started.elapsed());
    }
    took.sort();
    took[n / 2]
}

#[tokio::test]
async fn a_slow_api_fills_its_own_bulkhead_and_the_others_stay_fast() {
    let backend = flaky_backend().await;
    let bulkhead = "[{ kind: concurrency, max_in_flight: 4, max_queue: 2, queue_timeout: 50ms }]";
    let gw = Gateway::start(&config(backend.addr, "[]", "[]", bulkhead)).await;
    let before = echo_latency(&gw, 30).await;

    // 40 callers of the slow API at once: 4 run, 2 wait 50 ms in the queue, every other is refused.
    let slow = join_all((0..40).map(|_| {
        gw.client
            .post(gw.url("/v1/sleep"))
            .json(&json!({"millis": 1500}))
            .send()
    }));
    let meanwhile = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let ready = gw.readyz().await;
        (echo_latency(&gw, 30).await, ready)
    };
    let (slow, (during, ready)) = tokio::join!(slow, meanwhile);
    let mut ok = 0;
    for response in slow {
        let response = response.unwrap();
        if response.status() == 200 {
            ok += 1;
        } else {
            assert_eq!(response.headers()["retry-after"], "1");
            expect_error(response, 503, "overloaded").await;
        }
    }
    assert_eq!(ok, 4, "only the bulkhead's slots ran");
    assert_eq!(ready["traffic"]["bulkheads"][0]["in_flight"], 4, "{ready}");
    assert!(
        during < before * 3 + Duration::from_millis(20),
        "echo p50 went from {before:?} to {during:?} while the slow API was saturated"
    );
}
