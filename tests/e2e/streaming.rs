//! Server streaming as NDJSON, or SSE on `Accept: text/event-stream`; errors after the first message end
//! the stream with an error record.

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
