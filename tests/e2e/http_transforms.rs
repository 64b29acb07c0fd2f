//! JSON body edits on an HTTP relay, against the Python standard library's HTTP server
//! (`tests/peers/http_upstream.py`, whose `/mirror` answers with the body it received): fields removed,
//! renamed and wrapped on the way up and on the way back; bodies that are not JSON, not valid, or
//! larger than the edit's limit pass untouched, whether their length is declared or streamed.

use serde_json::{Value, json};

use crate::harness::{Gateway, Peer, python};

const CONFIG: &str = r#"
backends:
  - { name: m, protocol: http, endpoints: ["http://UPSTREAM"] }
apis:
  - name: up
    backend: m
    http: { post: /v1/users }
    upstream:
      path: /mirror/up
      request_body: { remove: [password], rename: { userName: user.name }, wrap: data }
  - name: down
    backend: m
    http: { post: /v1/echo }
    upstream:
      path: /mirror/down
      response_body: { remove: [internal], rename: { data.id: id } }
  - name: slow
    backend: m
    timeout: 1s
    http: { post: /v1/slow }
    upstream: { path: /mirror/slow, request_body: { remove: [a] } }
  - name: small
    backend: m
    http: { post: /v1/small }
    upstream:
      path: /mirror/small
      request_body: { remove: [a], max_bytes: 64 }
"#;

async fn gateway() -> (Peer, Gateway) {
    let peer = Peer::start(&python(), &["tests/peers/http_upstream.py", "--name", "m"]).await;
    let gw = Gateway::start(&CONFIG.replace("UPSTREAM", &peer.addr.to_string())).await;
    (peer, gw)
}

/// Posts `body` with `content_type`, streamed (no length) when `chunked`; the status, what the
/// upstream said it received, and the answer's body.
async fn post(
    gw: &Gateway,
    path: &str,
    content_type: &str,
    body: &str,
    chunked: bool,
) -> (u16, usize, String) {
    let request = gw
        .client
        .post(gw.url(path))
        .header("content-type", content_type);
    let request = if chunked {
        let chunks = body
            .as_bytes()
            .chunks(7)
            .map(|c| Ok::<_, std::io::Error>(c.to_vec()))
            .collect::<Vec<_>>();
        request.body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
    } else {
        request.body(body.to_string())
    };
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let received = response
        .headers()
        .get("x-received-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(usize::MAX);
    let length = response.headers().get("content-length").cloned();
    let text = response.text().await.unwrap();
    if let Some(length) = length {
        assert_eq!(
            length.to_str().unwrap(),
            text.len().to_string(),
            "Content-Length follows the edit"
        );
    }
    (status, received, text)
}

#[tokio::test]
async fn a_request_body_is_edited_on_the_way_up() {
    let (_peer, gw) = gateway().await;
    let body =
        r#"{"userName": "ana", "password": "p4ss", "age": 30, "id": 12345678901234567890123}"#;
    for chunked in [false, true] {
        let (status, received, text) = post(
            &gw,
            "/v1/users",
            "application/json; charset=utf-8",
            body,
            chunked,
        )
        .await;
        assert_eq!(status, 200, "{text}");
        // Untouched values keep their text: a number beyond 64 bits, the members' order.
        assert_eq!(
            text,
            r#"{"data":{"age":30,"id":12345678901234567890123,"user":{"name":"ana"}}}"#
        );
        assert_eq!(received, text.len());
    }
}

#[tokio::test]
async fn a_response_body_is_edited_on_the_way_back() {
    let (_peer, gw) = gateway().await;
    let body = r#"{"data": {"id": 7, "name": "x"}, "internal": "do not show"}"#;
    let (status, received, text) = post(&gw, "/v1/echo", "application/json", body, false).await;
    assert_eq!(status, 200);
    assert_eq!(received, body.len(), "the request went up as it was");
    let answer: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(answer, json!({"data": {"name": "x"}, "id": 7}));
}

#[tokio::test]
async fn bodies_that_cannot_or_should_not_be_edited_pass_untouched() {
    let (_peer, gw) = gateway().await;
    let cases = [
        (
            "/v1/users",
            "text/plain",
            r#"{"userName": "ana"}"#.to_string(),
        ),
        (
            "/v1/users",
            "application/json",
            r#"{"userName": "ana", "#.to_string(),
        ),
        ("/v1/users", "application/json", "[1, 2, 3]".to_string()),
        (
            "/v1/small",
            "application/json",
            format!(r#"{{"a": 1, "pad": "{}"}}"#, "x".repeat(100)),
        ),
    ];
    for (path, content_type, body) in cases {
        for chunked in [false, true] {
            let (status, received, text) = post(&gw, path, content_type, &body, chunked).await;
            assert_eq!(status, 200, "{path} {body}");
            let expected = if body.starts_with('[') {
                // Not an object: nothing to remove or rename, but still wrapped.
                format!(r#"{{"data":{body}}}"#)
            } else {
                body.clone()
            };
            assert_eq!(text, expected, "{path} {content_type} chunked={chunked}");
            assert_eq!(received, expected.len());
        }
    }
    // Under the limit the same API edits.
    let (_, _, text) = post(
        &gw,
        "/v1/small",
        "application/json",
        r#"{"a": 1, "b": 2}"#,
        true,
    )
    .await;
    assert_eq!(text, r#"{"b": 2}"#.replace(' ', ""));
}

#[tokio::test]
async fn a_body_trickled_to_an_edit_is_cut_off_with_a_408() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (_peer, gw) = gateway().await;
    let mut stream = tokio::net::TcpStream::connect(gw.addr).await.unwrap();
    let head = "POST /v1/slow HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\n\
                Content-Length: 100\r\n\r\n{\"a\": ";
    stream.write_all(head.as_bytes()).await.unwrap();
    let started = std::time::Instant::now();
    let mut answer = vec![0u8; 4096];
    let n = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read(&mut answer))
        .await
        .expect("no answer while the body never came")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]).to_string();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"request_timeout\""), "{answer}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}
