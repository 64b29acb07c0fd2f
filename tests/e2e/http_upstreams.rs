//! HTTP upstreams: requests relayed to real HTTP servers (the Python standard library's threading
//! server, `tests/peers/http_upstream.py`): path rewrites, header edits and forwarding, weighted
//! balancing, ejection of an endpoint that refuses connections, a body streamed past the node's
//! buffering limit.

use std::collections::HashMap;

use serde_json::Value;

use crate::harness::{Gateway, Peer, expect_error, free_port, python};

async fn upstream(name: &str) -> Peer {
    Peer::start(&python(), &["tests/peers/http_upstream.py", "--name", name]).await
}

/// `"a", "b"`: endpoints as the inside of a YAML flow list.
pub fn yaml_list(endpoints: &[String]) -> String {
    endpoints
        .iter()
        .map(|e| format!("\"{e}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

fn config(endpoints: &[String], http: &str, api: &str) -> String {
    let endpoints = yaml_list(endpoints);
    format!(
        r#"
backends:
  - name: users
    protocol: http
    endpoints: [{endpoints}]
    http: {http}
apis:
  - name: users
    backend: users
    timeout: 5s
{api}
"#
    )
}

#[tokio::test]
async fn a_request_is_rewritten_and_relayed_as_a_proxy_must() {
    let peer = upstream("a").await;
    let address = format!("http://{}", peer.addr);
    let api = r#"    http:
      post: /api/v1/users/{id}
      additional_bindings: [{ get: "/api/v1/users/{id}" }]
    upstream:
      path: /users/{id}
      request_headers:
        set: { x-user-id: "{path.id}", x-source: gateway }
        remove: [x-internal]
      response_headers:
        set: { x-relayed: "yes" }
        remove: [x-served-by]"#;
    let gw = Gateway::start(&config(std::slice::from_ref(&address), "{}", api)).await;

    let response = gw
        .client
        .post(gw.url("/api/v1/users/a%2Fb?q=1&q=2"))
        .header("connection", "x-hop")
        .header("x-hop", "hop-by-hop")
        .header("x-internal", "secret")
        .header("x-consumer-id", "forged")
        .body("hello upstream")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-relayed"], "yes");
    assert!(response.headers().get("x-served-by").is_none());
    assert!(
        response.headers().get("x-upstream-hop").is_none(),
        "a field the upstream's Connection names stays on its hop"
    );
    let seen: Value = response.json().await.unwrap();
    assert_eq!(seen["method"], "POST");
    assert_eq!(seen["path"], "/users/a%2Fb?q=1&q=2", "{seen}");
    assert_eq!(seen["body_bytes"], 14);
    let headers = &seen["headers"];
    assert_eq!(headers["x-user-id"], "a/b", "{seen}");
    assert_eq!(headers["x-source"], "gateway");
    assert_eq!(headers["host"], peer.addr.to_string());
    assert_eq!(headers["x-forwarded-for"], "127.0.0.1");
    assert_eq!(headers["x-forwarded-proto"], "http");
    assert!(
        headers["forwarded"]
            .as_str()
            .unwrap()
            .starts_with("for=127.0.0.1;proto=http")
    );
    assert!(
        headers["x-request-id"]
            .as_str()
            .is_some_and(|id| !id.is_empty())
    );
    for absent in ["x-hop", "x-internal", "x-consumer-id"] {
        assert!(
            headers.get(absent).is_none(),
            "{absent} reached the upstream: {seen}"
        );
    }

    // HEAD passes as HEAD; a method the rule does not bind is refused here.
    let head = gw
        .client
        .head(gw.url("/api/v1/users/7"))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    let delete = gw
        .client
        .delete(gw.url("/api/v1/users/7"))
        .send()
        .await
        .unwrap();
    expect_error(delete, 405, "method_not_allowed").await;

    // The upstream's own 5xx passes through as it is: it is an answer, not a relay failure.
    let api = r#"    http: { get: "/s/{code}" }
    upstream: { path: "/status/{code}" }"#;
    let mut gw = gw;
    gw.write_config(&config(&[address], "{}", api));
    gw.wait_until(|body| body["routes"] == 1).await.unwrap();
    let answer = gw.client.get(gw.url("/s/503")).send().await.unwrap();
    assert_eq!(answer.status(), 503);
    assert_eq!(answer.json::<Value>().await.unwrap()["name"], "a");
}

#[tokio::test]
async fn weights_spread_requests_three_to_one() {
    let (a, b) = (upstream("a").await, upstream("b").await);
    let (ea, eb) = (format!("http://{}", a.addr), format!("http://{}", b.addr));
    let http = format!("{{ weights: {{ \"{ea}\": 3 }} }}");
    let api = "    http: { get: /who }\n    upstream: {}";
    let gw = Gateway::start(&config(&[ea, eb], &http, api)).await;
    let mut served: HashMap<String, usize> = HashMap::new();
    for _ in 0..400 {
        let body: Value = gw
            .client
            .get(gw.url("/who"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        *served
            .entry(body["name"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    let share_a = served.get("a").copied().unwrap_or(0) as f64 / 400.0;
    assert!((share_a - 0.75).abs() <= 0.05, "{served:?}");
}

#[tokio::test]
async fn an_endpoint_that_refuses_connections_is_ejected() {
    let live = upstream("live").await;
    let dead = format!("http://127.0.0.1:{}", free_port());
    let http = "{ outlier: { consecutive_failures: 2, base_ejection: 30s } }";
    let api = "    http: { get: /who }\n    upstream: {}";
    let endpoints = [format!("http://{}", live.addr), dead.clone()];
    let gw = Gateway::start(&config(&endpoints, http, api)).await;
    let mut refused = 0;
    for _ in 0..20 {
        let response = gw.client.get(gw.url("/who")).send().await.unwrap();
        if response.status() == 502 {
            let body = expect_error(response, 502, "backend_unavailable").await;
            assert!(
                body["message"].as_str().unwrap().contains(&dead[7..]),
                "{body}"
            );
            refused += 1;
        } else {
            assert_eq!(response.status(), 200);
        }
    }
    assert_eq!(refused, 2, "two failures eject it; nothing more reaches it");
    let ready = gw.readyz().await;
    let endpoints = ready["upstreams"][0]["endpoints"]
        .as_array()
        .unwrap()
        .clone();
    let health: Vec<_> = endpoints
        .iter()
        .map(|e| e["health"].as_str().unwrap())
        .collect();
    assert_eq!(health, vec!["healthy", "ejected"], "{ready}");

    // A pool with no endpoint left answers 503 at once.
    let only_dead = Gateway::start(&config(&[dead], http, api)).await;
    for _ in 0..2 {
        let response = only_dead
            .client
            .get(only_dead.url("/who"))
            .send()
            .await
            .unwrap();
        expect_error(response, 502, "backend_unavailable").await;
    }
    let response = only_dead
        .client
        .get(only_dead.url("/who"))
        .send()
        .await
        .unwrap();
    expect_error(response, 503, "no_healthy_upstream").await;
}

#[tokio::test]
async fn a_body_above_the_buffering_limit_streams_through() {
    let peer = upstream("a").await;
    let api = "    http: { put: \"/files/{name}\" }\n    upstream: { max_request_body: 67108864 }";
    let gw = Gateway::start_tuned(
        &config(&[format!("http://{}", peer.addr)], "{}", api),
        |s| {
            s.max_body_bytes = 1 << 20;
        },
    )
    .await;
    let size = 48 << 20;
    let chunks =
        futures::stream::iter((0..48).map(|_| Ok::<_, std::io::Error>(vec![b'x'; 1 << 20])));
    let response = gw
        .client
        .put(gw.url("/files/big"))
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let seen: Value = response.json().await.unwrap();
    assert_eq!(seen["body_bytes"], size);

    let over = gw
        .client
        .put(gw.url("/files/big"))
        .header("content-length", (80u64 << 20).to_string())
        .body(vec![b'x'; 80 << 20])
        .send()
        .await
        .unwrap();
    expect_error(over, 413, "payload_too_large").await;
}
