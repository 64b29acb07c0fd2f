//! Every client mistake is a 4xx in the one JSON error shape; backend faults are 502/503/504; never a 500
//! for the client's mistake, never a panic.

use serde_json::json;

use crate::harness::{Gateway, demo_config, expect_error, tonic_backend};

#[tokio::test]
async fn routing_mistakes() {
    let backend = tonic_backend().await;
    let gw = Gateway::start(&demo_config(backend.addr)).await;

    expect_error(
        gw.client.get(gw.url("/nope")).send().await.unwrap(),
        404,
        "route_not_found",
    )
    .await;
    expect_error(
        gw.client
            .get(gw.url("/v1/shelves/1/"))
            .send()
            .await
            .unwrap(),
        404,
        "route_not_found",
    )
    .await;

    let wrong = gw.client.put(gw.url("/v1/shelves")).send().await.unwrap();
    let allow = wrong
        .headers()
        .get("allow")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    expect_error(wrong, 405, "method_not_allowed").await;
    assert_eq!(
        allow, "GET, HEAD, OPTIONS, POST",
        "Allow lists the methods the path has (HEAD with every GET, OPTIONS everywhere)"
    );
    let options = gw
        .client
        .request(http::Method::OPTIONS, gw.url("/v1/shelves"))
        .send()
        .await
        .unwrap();
    assert_eq!(options.status(), 204);
    assert_eq!(options.headers()["allow"], "GET, HEAD, OPTIONS, POST");
    assert!(options.headers().contains_key("x-request-id"));
    // No route at all is still a 404, whatever the method.
    let nowhere = gw
        .client
        .request(http::Method::OPTIONS, gw.url("/nope"))
        .send()
        .await
        .unwrap();
    expect_error(nowhere, 404, "route_not_found").await;
}

#[tokio::test]
async fn head_is_answered_for_every_get_route_without_a_body() {
    let backend = tonic_backend().await;
    let gw = Gateway::start(&demo_config(backend.addr)).await;
    let got = gw.client.get(gw.url("/v1/shelves/1")).send().await.unwrap();
    let head = gw
        .client
        .head(gw.url("/v1/shelves/1"))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(
        head.headers()["content-type"],
        got.headers()["content-type"]
    );
    assert!(head.headers().contains_key("x-request-id"));
    assert!(head.bytes().await.unwrap().is_empty(), "no body");
    assert!(!got.bytes().await.unwrap().is_empty());
    // A path with no GET route has no HEAD either.
    let post_only = gw.client.head(gw.url("/v1/echo")).send().await.unwrap();
    assert_eq!(post_only.status(), 405);
    // The connection the HEAD answer went over still serves (no body was left unread on it).
    assert_eq!(
        gw.client
            .get(gw.url("/v1/shelves/1"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn body_mistakes_are_400_and_name_the_problem() {
    let backend = tonic_backend().await;
    let gw = Gateway::start(&demo_config(backend.addr)).await;
    let cases: &[(&str, &str)] = &[
        (r#"{"message": "x""#, "malformed"),
        (r#"{"mesage": "x"}"#, "mesage"),
        (r#"{"message": 5}"#, "message"),
        (r#"{"number": "9223372036854775808"}"#, "number"),
        (r#"{"color": "PURPLE"}"#, "PURPLE"),
        (r#"{"nested": {"zz": 1}}"#, "zz"),
        (r#"[1, 2]"#, "sequence"),
    ];
    for (body, phrase) in cases {
        let response = gw
            .client
            .post(gw.url("/v1/echo"))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let error = expect_error(response, 400, "invalid_argument").await;
        let message = error["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(phrase),
            "{body}: expected `{phrase}` in `{message}`"
        );
    }
}

#[tokio::test]
async fn query_and_path_mistakes() {
    let backend = tonic_backend().await;
    let gw = Gateway::start(&demo_config(backend.addr)).await;
    let cases: &[(&str, &str)] = &[
        ("/v1/shelves/abc", "shelf"),
        ("/v1/shelves/99999999999999999999", "shelf"),
        ("/v1/shelves/1/books?page_size=lots", "page_size"),
        ("/v1/shelves/1/books?filter.genre=NOVEL", "NOVEL"),
        ("/v1/shelves/1/books?bogus=1", "bogus"),
        ("/v1/shelves/1/books?page_size=1&page_size=2", "page_size"),
    ];
    for (path, phrase) in cases {
        let error = expect_error(
            gw.client.get(gw.url(path)).send().await.unwrap(),
            400,
            "invalid_argument",
        )
        .await;
        let message = error["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(phrase),
            "{path}: expected `{phrase}` in `{message}`"
        );
    }
}

#[tokio::test]
async fn media_type_and_size_limits() {
    let backend = tonic_backend().await;
    let gw = Gateway::start(&demo_config(backend.addr)).await;
    let xml = gw
        .client
        .post(gw.url("/v1/echo"))
        .header("content-type", "application/xml")
        .body("<a/>")
        .send()
        .await
        .unwrap();
    expect_error(xml, 415, "unsupported_media_type").await;

    // The harness sets a 64 KiB limit.
    let big = json!({"message": "x".repeat(100 * 1024)});
    let response = gw
        .client
        .post(gw.url("/v1/echo"))
        .json(&big)
        .send()
        .await
        .unwrap();
    expect_error(response, 413, "payload_too_large").await;

    let chunked = reqwest::Body::wrap_stream(futures::stream::iter(
        (0..100).map(|_| Ok::<_, std::io::Error>(bytes::Bytes::from(vec![b' '; 1024]))),
    ));
    let response = gw
        .client
        .post(gw.url("/v1/echo"))
        .header("content-type", "application/json")
        .body(chunked)
        .send()
        .await
        .unwrap();
    expect_error(response, 413, "payload_too_large").await;

    let no_body_route = gw
        .client
        .get(gw.url("/v1/shelves/1"))
        .body("{}")
        .send()
        .await
        .unwrap();
    expect_error(no_body_route, 400, "invalid_argument").await;
}

#[tokio::test]
async fn an_unreachable_backend_is_503() {
    // A port that was just free: nothing listens there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let gw = Gateway::start(&demo_config(closed)).await;
    let response = gw.client.get(gw.url("/v1/shelves/1")).send().await.unwrap();
    let body = expect_error(response, 503, "backend_unavailable").await;
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("unreachable"),
        "{body}"
    );
}

#[tokio::test]
async fn hostile_paths_never_crash_the_gateway() {
    let backend = tonic_backend().await;
    let gw = Gateway::start(&demo_config(backend.addr)).await;
    let long = format!("/v1/shelves/{}", "9".repeat(10_000));
    for path in [
        "/%",
        "/v1/shelves/%zz",
        "/v1/shelves/%F0%28%8C%28",
        "/v1/{name}",
        "/v1/shelves/1:",
        &long,
        "/v1//books",
    ] {
        let response = gw.client.get(gw.url(path)).send().await.unwrap();
        let status = response.status().as_u16();
        assert!((400..500).contains(&status), "{path}: {status}");
    }
    // Still serving afterwards.
    assert_eq!(
        gw.client
            .get(gw.url("/v1/shelves/1"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn a_bad_initial_config_is_refused_with_a_clear_reason() {
    let backend = tonic_backend().await;
    let broken = demo_config(backend.addr).replacen("method: Echo }", "method: Ekho }", 1);
    let err = Gateway::try_start(&broken).await.err().expect("refused");
    assert!(format!("{err:#}").contains("no method `Ekho`"), "{err:#}");
}

#[tokio::test]
async fn text_that_is_not_utf8_once_percent_decoded_is_refused_not_replaced() {
    let backend = tonic_backend().await;
    let gw = Gateway::start(&demo_config(backend.addr)).await;
    for path in [
        "/v1/echo/%FF",
        "/v1/echo/caf%C3",
        "/v1/echo/x?tenant=%FE",
        "/v1/echo/x?%C0=1",
    ] {
        let body = expect_error(
            gw.client.get(gw.url(path)).send().await.unwrap(),
            400,
            "invalid_argument",
        )
        .await;
        assert!(
            body["message"].as_str().unwrap().contains("not UTF-8"),
            "{path}: {body}"
        );
    }
    // Valid UTF-8, percent-encoded, arrives as the text it encodes.
    let reply: serde_json::Value = gw
        .client
        .get(gw.url("/v1/echo/caf%C3%A9"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(reply["request"]["message"], "café");
}

/// A request target or head above the node's limits (8 KiB, 32 KiB and 100 fields by default, in line
/// with nginx and Envoy) is refused in the error shape with a request id, not forwarded; one far above
/// them (past the 160 KiB hyper reads a head into) is refused by hyper itself.
#[tokio::test]
async fn oversized_request_heads_are_refused_in_the_error_shape() {
    let backend = tonic_backend().await;
    let gw = Gateway::start(&demo_config(backend.addr)).await;
    let get = |path: String| gw.client.get(gw.url(&path)).send();

    let near = get(format!("/v1/shelves/{}", "9".repeat(8_000)))
        .await
        .unwrap();
    assert_ne!(near.status(), 414, "8,000 bytes is within the limit");
    for length in [9_000, 60_000] {
        let response = get(format!("/v1/shelves/{}", "9".repeat(length)))
            .await
            .unwrap();
        let body = expect_error(response, 414, "uri_too_long").await;
        assert!(
            body["message"].as_str().unwrap().contains("at most 8192"),
            "{body}"
        );
    }

    let big_header = gw
        .client
        .get(gw.url("/v1/shelves/1"))
        .header("x-big", "h".repeat(40_000))
        .send()
        .await
        .unwrap();
    let body = expect_error(big_header, 431, "headers_too_large").await;
    assert!(
        body["message"].as_str().unwrap().contains("at most 32768"),
        "{body}"
    );

    let mut many = gw.client.get(gw.url("/v1/shelves/1"));
    for n in 0..120 {
        many = many.header(format!("x-h{n}"), "v");
    }
    let body = expect_error(many.send().await.unwrap(), 431, "headers_too_large").await;
    assert!(
        body["message"].as_str().unwrap().contains("at most 100"),
        "{body}"
    );

    let huge = gw
        .client
        .get(gw.url("/v1/shelves/1"))
        .header("x-huge", "h".repeat(420_000))
        .send()
        .await;
    if let Ok(response) = huge {
        assert_eq!(response.status(), 431, "420 KB of header");
    } // hyper may also close the connection mid-send.

    let fine = get("/v1/shelves/1".into()).await.unwrap();
    assert_eq!(fine.status(), 200, "still serving");
}
