//! Abuse defence over raw TCP: a client trickling its headers is cut off at the header timeout, one
//! trickling its body gets 408, one address cannot hold more connections than the cap, and request
//! rules refuse denied user agents and requests missing a required header.

use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{config, flaky_backend};
use crate::harness::{Gateway, expect_error};

fn tight(settings: &mut gateway_web::Settings) {
    settings.connections.header_read_timeout = Duration::from_millis(800);
    settings.connections.body_read_timeout = Duration::from_millis(800);
    settings.connections.per_ip = 4;
}

/// A connection from 127.0.0.2: an address of its own, apart from the harness client's pooled ones.
async fn connect_as_other(gw: &Gateway) -> TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.2:0".parse().unwrap()).unwrap();
    socket.connect(gw.addr).await.unwrap()
}

/// Reads until the server closes the connection (or 10 s pass); what it sent.
async fn read_to_close(stream: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn a_client_sending_headers_a_byte_at_a_time_is_cut_off() {
    let backend = flaky_backend().await;
    let gw = Gateway::start_tuned(&config(backend.addr, "[]", "[]", "[]"), tight).await;
    let mut stream = TcpStream::connect(gw.addr).await.unwrap();
    let started = Instant::now();
    let head = b"GET /v1/echo/hi HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaa";
    let mut cut_off = false;
    for byte in head {
        if stream.write_all(&[*byte]).await.is_err() {
            cut_off = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        if started.elapsed() > Duration::from_secs(3) {
            break;
        }
    }
    let rest = read_to_close(&mut stream).await;
    assert!(
        cut_off || started.elapsed() < Duration::from_secs(5),
        "the connection was held for {:?}",
        started.elapsed()
    );
    assert!(!rest.contains("200 OK"), "{rest}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "closed after {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_body_that_trickles_in_gets_408() {
    let backend = flaky_backend().await;
    let gw = Gateway::start_tuned(&config(backend.addr, "[]", "[]", "[]"), tight).await;
    let mut stream = TcpStream::connect(gw.addr).await.unwrap();
    stream
        .write_all(b"POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"message\"")
        .await
        .unwrap();
    let started = Instant::now();
    let mut answer = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut answer))
        .await
        .expect("answered in time")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]).into_owned();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"code\":\"request_timeout\""), "{answer}");
    assert!(started.elapsed() >= Duration::from_millis(700));
}

#[tokio::test]
async fn one_address_cannot_hold_more_connections_than_the_cap() {
    let backend = flaky_backend().await;
    let gw = Gateway::start_tuned(&config(backend.addr, "[]", "[]", "[]"), tight).await;
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(connect_as_other(&gw).await);
    }
    // Let the node accept all four before the fifth arrives.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut fifth = connect_as_other(&gw).await;
    let _ = fifth
        .write_all(b"GET /v1/echo/hi HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    let answer = read_to_close(&mut fifth).await;
    assert!(
        answer.is_empty(),
        "the fifth connection was served: {answer}"
    );
    // One closes: a new connection is served again.
    drop(held.pop());
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut again = connect_as_other(&gw).await;
    again
        .write_all(b"GET /v1/echo/hi HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let answer = read_to_close(&mut again).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[tokio::test]
async fn request_rules_refuse_denied_agents_and_missing_headers() {
    let backend = flaky_backend().await;
    let rules = "[{ kind: request_rules, deny_user_agents: ['*sqlmap*', 'curl/7.1*'], require_headers: [x-app-version] }]";
    let gw = Gateway::start(&config(backend.addr, rules, "[]", "[]")).await;
    let call = |agent: &'static str, version: bool| {
        let mut request = gw
            .client
            .post(gw.url("/v1/echo"))
            .header("user-agent", agent)
            .json(&json!({"message": "x"}));
        if version {
            request = request.header("x-app-version", "1.2");
        }
        request.send()
    };
    expect_error(
        call("sqlmap/1.7", true).await.unwrap(),
        403,
        "request_denied",
    )
    .await;
    expect_error(
        call("curl/7.10", true).await.unwrap(),
        403,
        "request_denied",
    )
    .await;
    expect_error(
        call("app/2.0", false).await.unwrap(),
        400,
        "invalid_argument",
    )
    .await;
    assert_eq!(call("curl/8.5", true).await.unwrap().status(), 200);
    assert_eq!(backend.calls(), 1);
}
