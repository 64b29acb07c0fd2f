//! HTTP upstreams that hold a connection open: a WebSocket relayed after the chain admitted its
//! upgrade, and server-sent events passed through as they are written. The upstream is uvicorn
//! (`tests/peers/asgi_upstream.py`, WebSocket by the `websockets` library); the WebSocket client is
//! tungstenite, so neither end is ours.

use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use serde_json::Value;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Message};

use crate::harness::{Gateway, Peer, python};
use crate::security::sha256_hex;

const KEY: &str = "ws-test-key-5d1c0a9e7b";

async fn asgi_upstream(name: &str) -> Peer {
    Peer::start(&python(), &["tests/peers/asgi_upstream.py", "--name", name]).await
}

fn config(peer: &Peer) -> String {
    format!(
        r#"
backends:
  - {{ name: asgi, protocol: http, endpoints: ["http://{addr}"] }}
consumers:
  - name: app
    grants: [chat, events]
    credentials: [{{ kind: api_key, id: k, sha256: "{hash}" }}]
apis:
  - name: chat
    backend: asgi
    http: {{ get: /chat }}
    upstream: {{ path: /ws }}
    policies: [{{ kind: api_key }}]
  - name: events
    backend: asgi
    timeout: 2s
    http: {{ get: /feed }}
    upstream: {{ path: /events }}
"#,
        addr = peer.addr,
        hash = sha256_hex(KEY),
    )
}

fn in_flight(ready: &Value) -> u64 {
    ready["upstreams"][0]["endpoints"][0]["in_flight"]
        .as_u64()
        .unwrap_or(u64::MAX)
}

#[tokio::test]
async fn a_websocket_is_relayed_once_the_chain_admits_its_upgrade() {
    let peer = asgi_upstream("ws").await;
    let mut gw = Gateway::start(&config(&peer)).await;
    let url = gw.url("/chat").replacen("http://", "ws://", 1);

    // The upgrade request passes the policies first: without its key it is a 401, never a tunnel.
    match tokio_tungstenite::connect_async(url.as_str()).await {
        Err(tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 401);
            let body: Value = serde_json::from_slice(response.body().as_deref().unwrap()).unwrap();
            assert_eq!(body["code"], "unauthenticated", "{body}");
        }
        other => panic!("an upgrade without a key was not refused: {other:?}"),
    }

    let mut request = url.as_str().into_client_request().unwrap();
    request
        .headers_mut()
        .insert("x-api-key", KEY.parse().unwrap());
    let (mut socket, response) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert_eq!(response.status(), 101);
    assert!(response.headers().contains_key("x-request-id"));

    // Messages both ways, in order; a 1 MiB binary frame comes back whole.
    for i in 0..50 {
        socket.send(Message::text(format!("m{i}"))).await.unwrap();
    }
    for i in 0..50 {
        let message = socket.next().await.unwrap().unwrap();
        assert_eq!(message.into_text().unwrap().as_str(), format!("ws:m{i}"));
    }
    let big: Vec<u8> = (0..1u32 << 20).map(|i| (i % 251) as u8).collect();
    socket.send(Message::binary(big.clone())).await.unwrap();
    let echoed = socket.next().await.unwrap().unwrap().into_data();
    assert!(echoed == big, "the binary frame came back altered");

    // An open tunnel is a request in flight on its endpoint (least-request sees it).
    assert_eq!(in_flight(&gw.readyz().await), 1);

    // The upstream closes: the client sees its close code, and the endpoint's count drops.
    socket.send(Message::text("bye")).await.unwrap();
    let close = match socket.next().await {
        Some(Ok(Message::Close(frame))) => frame,
        Some(Ok(other)) => panic!("expected a close frame, got {other:?}"),
        Some(Err(err)) => panic!("the tunnel broke before the close frame: {err}"),
        None => panic!("the tunnel ended without a close frame"),
    };
    assert_eq!(close.map(|f| f.code), Some(CloseCode::Normal));
    // The client answers the close (tungstenite does so on its next read); the upstream then closes
    // its connection, and the tunnel ends even though this client keeps its own side open.
    while socket.next().await.is_some() {}
    gw.wait_until(|ready| in_flight(ready) == 0).await.unwrap();
    drop(socket);
}

#[tokio::test]
async fn server_sent_events_pass_through_as_they_are_written() {
    let peer = asgi_upstream("sse").await;
    let gw = Gateway::start(&config(&peer)).await;
    // Six events 400 ms apart: 2 s in all, as long as the API's timeout, which bounds only the wait
    // for the response head; the stream then runs as long as the upstream writes.
    let started = Instant::now();
    let mut response = gw
        .client
        .get(gw.url("/feed?count=6&gap_ms=400"))
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut text = String::new();
    let mut arrivals = Vec::new();
    while let Some(chunk) = response.chunk().await.unwrap() {
        text.push_str(std::str::from_utf8(&chunk).unwrap());
        while arrivals.len() < text.matches("\n\n").count() {
            arrivals.push(started.elapsed());
        }
    }
    let ticks: Vec<&str> = text.lines().filter(|l| l.starts_with("data: ")).collect();
    assert_eq!(ticks.len(), 6, "{text}");
    assert!(ticks[5].contains("\"tick\": 5"), "{text}");
    // Each event reached the client when the upstream wrote it, not at the end.
    assert!(
        arrivals[5] - arrivals[0] >= Duration::from_millis(1600),
        "events arrived together: {arrivals:?}"
    );
    assert!(arrivals[0] < Duration::from_millis(1500), "{arrivals:?}");
}
