//! Server streaming as NDJSON, or SSE on `Accept: text/event-stream`; errors after the first message end
//! the stream with an error record; grpc-gateway's `{"result": …}` framing where an API asks for it.

use serde_json::Value;

use crate::harness::{Gateway, demo_config, tonic_backend};

#[tokio::test]
async fn ndjson_one_message_per_line() {
    let backend = tonic_backend().await;
    let gw = Gateway::start(&demo_config(backend.addr)).await;
    let response = gw.client.get(gw.url("/v1/count/5")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/x-ndjson");
    let text = response.text().await.unwrap();
    let items: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(items.len(), 5, "{text}");
    assert_eq!(items[4]["i"], 5);
}

#[tokio::test]
async fn sse_when_asked() {
    let backend = tonic_backend().await;
    let gw = Gateway::start(&demo_config(backend.addr)).await;
    let response = gw
        .client
        .get(gw.url("/v1/count/3"))
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let text = response.text().await.unwrap();
    let events: Vec<&str> = text.split("\n\n").filter(|e| !e.is_empty()).collect();
    assert_eq!(events.len(), 3, "{text}");
    assert!(events.iter().all(|e| e.starts_with("data: {")), "{text}");
}

#[tokio::test]
async fn a_failure_mid_stream_ends_with_an_error_record() {
    let backend = tonic_backend().await;
    let gw = Gateway::start(&demo_config(backend.addr)).await;
    let text = gw
        .client
        .get(gw.url("/v1/count/10?fail_at=3"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let items: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(items.len(), 3, "two items then the error: {text}");
    assert_eq!(items[2]["error"]["code"], "aborted");
    assert!(
        items[2]["error"]["request_id"]
            .as_str()
            .is_some_and(|id| !id.is_empty())
    );
}

#[tokio::test]
async fn a_stream_past_its_deadline_is_cut_with_an_error() {
    let backend = tonic_backend().await;
    let gw = Gateway::start(&demo_config(backend.addr)).await;
    // 20 items 300 ms apart take 6 s; the API allows 3 s.
    let text = gw
        .client
        .get(gw.url("/v1/count/20?interval_ms=300"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let last: Value = serde_json::from_str(text.lines().last().unwrap_or("{}")).unwrap();
    assert_eq!(last["error"]["code"], "deadline_exceeded", "{text}");
    assert!(text.lines().count() < 20);
}

/// grpc-gateway's framing, chosen per API: `{"result": …}` lines, and its error record (a
/// `google.rpc.Status` with the numeric code) when the backend fails mid-stream.
#[tokio::test]
async fn grpc_gateway_framing_when_the_api_asks() {
    let backend = tonic_backend().await;
    let config = demo_config(backend.addr)
        + r#"  - name: count-grpc-gateway
    backend: demo
    grpc: { service: demo.echo.v1.Echo, method: Count }
    http: { get: "/v2/count/{n}" }
    json: { stream: grpc_gateway }
"#;
    let gw = Gateway::start(&config).await;
    let response = gw
        .client
        .get(gw.url("/v2/count/10?fail_at=3"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let text = response.text().await.unwrap();
    let items: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(items.len(), 3, "two results then the error: {text}");
    assert_eq!(items[0], serde_json::json!({"result": {"i": 1}}), "{text}");
    assert_eq!(items[1]["result"]["i"], 2, "{text}");
    let error = &items[2]["error"];
    assert_eq!(error["code"], 10, "ABORTED as its number: {text}");
    assert!(
        error["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{text}"
    );
    assert_eq!(error["details"], serde_json::json!([]), "{text}");

    // The same API still answers SSE to a client that asks for it, and the default API keeps NDJSON.
    let sse = gw
        .client
        .get(gw.url("/v2/count/2"))
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(sse.headers()["content-type"], "text/event-stream");
    let plain = gw.client.get(gw.url("/v1/count/1")).send().await.unwrap();
    assert_eq!(plain.text().await.unwrap().trim(), r#"{"i":1}"#);
}
