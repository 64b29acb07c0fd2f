//! nginx as the HTTP upstream (`tests/peers/nginx_upstream.sh`, Debian's nginx serving files): what
//! a proxy must pass through untouched does — a 5 MiB download byte for byte, a conditional request's
//! 304 with no body, a range request's 206, a HEAD's headers without a body, nginx's own 404 — and
//! the upstream sees the gateway's Host and forwarding headers.

use crate::harness::{Gateway, Peer};

const SIZE: usize = 5 << 20;

#[tokio::test]
async fn conditional_range_and_head_requests_relay_as_nginx_answers_them() {
    let dir = tempfile::tempdir().unwrap();
    let dir_arg = dir.path().display().to_string();
    let nginx = Peer::start(
        "bash",
        &["tests/peers/nginx_upstream.sh", "--dir", &dir_arg],
    )
    .await;
    let config = format!(
        r#"
backends:
  - {{ name: web, protocol: http, endpoints: ["http://{addr}"] }}
apis:
  - {{ name: files, backend: web, http: {{ get: "/static/{{name}}" }}, upstream: {{ path: "/files/{{name}}" }} }}
  - {{ name: echo, backend: web, http: {{ get: /echo }}, upstream: {{}} }}
"#,
        addr = nginx.addr
    );
    let gw = Gateway::start(&config).await;
    let big = std::fs::read(dir.path().join("files/big.bin")).unwrap();
    assert_eq!(big.len(), SIZE);

    let response = gw
        .client
        .get(gw.url("/static/big.bin"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-length"], SIZE.to_string());
    let etag = response.headers()["etag"].clone();
    let body = response.bytes().await.unwrap();
    assert!(body == big, "the download differs from the file");

    let not_modified = gw
        .client
        .get(gw.url("/static/big.bin"))
        .header("if-none-match", etag.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(not_modified.status(), 304);
    assert_eq!(not_modified.headers()["etag"], etag);
    assert!(not_modified.bytes().await.unwrap().is_empty());

    let range = gw
        .client
        .get(gw.url("/static/big.bin"))
        .header("range", "bytes=100-199")
        .send()
        .await
        .unwrap();
    assert_eq!(range.status(), 206);
    assert_eq!(
        range.headers()["content-range"],
        format!("bytes 100-199/{SIZE}")
    );
    assert_eq!(&range.bytes().await.unwrap()[..], &big[100..200]);

    let head = gw
        .client
        .head(gw.url("/static/big.bin"))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()["content-length"], SIZE.to_string());
    assert!(head.bytes().await.unwrap().is_empty());

    let missing = gw
        .client
        .get(gw.url("/static/none.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404, "nginx's own 404 passes as it is");
    assert!(missing.text().await.unwrap().contains("nginx"));

    let echo = gw
        .client
        .get(gw.url("/echo?a=1"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        echo.trim(),
        format!("uri=/echo?a=1 host={} xff=127.0.0.1", nginx.addr)
    );
}
