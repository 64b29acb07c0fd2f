//! CORS answered by the gateway before authentication, and IP rules read through trusted proxies.
//! (A real browser's preflight is in `gateway-portal/ui-tests`, which runs Chromium.)

use serde_json::json;

use super::{API_KEY, config};
use crate::harness::{Gateway, expect_error, tonic_backend};

const CORS: &str = "{ kind: cors, allow_origins: ['https://app.example.com', 'https://*.partner.test'], allow_headers: [x-api-key, content-type], allow_credentials: true, max_age: 2m }";

#[tokio::test]
async fn preflights_are_answered_before_authentication() {
    let backend = tonic_backend().await;
    let policies = format!("[{CORS}, {{ kind: api_key }}]");
    let gw = Gateway::start(&config(backend.addr, &policies, "")).await;
    let preflight = |origin: &str, method: &str, headers: &str| {
        gw.client
            .request(reqwest::Method::OPTIONS, gw.url("/v1/echo"))
            .header("origin", origin)
            .header("access-control-request-method", method)
            .header("access-control-request-headers", headers)
            .send()
    };
    // No credential with a preflight (browsers send none), yet it is answered.
    let ok = preflight("https://app.example.com", "POST", "x-api-key, content-type")
        .await
        .unwrap();
    assert_eq!(ok.status(), 204);
    let h = ok.headers();
    assert_eq!(h["access-control-allow-origin"], "https://app.example.com");
    assert_eq!(h["access-control-allow-credentials"], "true");
    assert_eq!(h["access-control-max-age"], "120");
    assert!(
        h["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("POST")
    );
    assert_eq!(h["vary"], "Origin");
    let sub = preflight("https://eu.partner.test", "POST", "")
        .await
        .unwrap();
    assert_eq!(sub.status(), 204);

    expect_error(
        preflight("https://evil.test", "POST", "").await.unwrap(),
        403,
        "cors_rejected",
    )
    .await;
    expect_error(
        preflight("https://partner.test", "POST", "").await.unwrap(),
        403,
        "cors_rejected",
    )
    .await;
    expect_error(
        preflight("https://app.example.com", "POST", "x-secret")
            .await
            .unwrap(),
        403,
        "cors_rejected",
    )
    .await;
    // GET is a route of the API too, but DELETE is not allowed cross-origin (nor a route).
    let delete = preflight("https://app.example.com", "DELETE", "")
        .await
        .unwrap();
    assert!(delete.status().is_client_error());

    // An actual call: allowed origin gets the headers on success and on refusal alike.
    let call = gw
        .client
        .post(gw.url("/v1/echo"))
        .header("origin", "https://app.example.com")
        .header("x-api-key", API_KEY)
        .json(&json!({"message": "cors"}))
        .send()
        .await
        .unwrap();
    assert_eq!(call.status(), 200);
    assert_eq!(
        call.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    assert!(
        call.headers()["access-control-expose-headers"]
            .to_str()
            .unwrap()
            .contains("x-request-id")
    );
    let refused = gw
        .client
        .post(gw.url("/v1/echo"))
        .header("origin", "https://app.example.com")
        .json(&json!({"message": "cors"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        refused.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    expect_error(refused, 401, "unauthenticated").await;
    // A call from an origin not allowed is refused outright.
    let evil = gw
        .client
        .post(gw.url("/v1/echo"))
        .header("origin", "https://evil.test")
        .header("x-api-key", API_KEY)
        .json(&json!({"message": "cors"}))
        .send()
        .await
        .unwrap();
    expect_error(evil, 403, "cors_rejected").await;
}

#[tokio::test]
async fn a_misconfigured_cors_rule_is_refused_at_load() {
    let backend = tonic_backend().await;
    let bad = config(
        backend.addr,
        "[{ kind: cors, allow_origins: ['*'], allow_credentials: true }]",
        "",
    );
    let err = Gateway::try_start(&bad).await.err().expect("refused");
    assert!(format!("{err:#}").contains("allow_credentials"), "{err:#}");
}

#[tokio::test]
async fn ip_rules_see_the_client_behind_trusted_proxies_only() {
    let backend = tonic_backend().await;
    let policies = "[{ kind: ip_rules, allow: ['198.51.100.0/24', '2001:db8::/32'], deny: ['198.51.100.66'] }]";
    let trusting = config(
        backend.addr,
        policies,
        "trusted_proxies: ['127.0.0.1', '::1']",
    );
    let gw = Gateway::start(&trusting).await;
    let from = |forwarded: Option<&str>| {
        let mut request = gw
            .client
            .post(gw.url("/v1/echo"))
            .json(&json!({"message": "ip"}));
        if let Some(value) = forwarded {
            request = request.header("x-forwarded-for", value);
        }
        request.send()
    };
    assert_eq!(from(Some("198.51.100.7")).await.unwrap().status(), 200);
    assert_eq!(from(Some("2001:db8::5")).await.unwrap().status(), 200);
    // A client that prepends an allowed address to its own gains nothing: the proxy appended the truth.
    expect_error(
        from(Some("198.51.100.7, 203.0.113.9")).await.unwrap(),
        403,
        "ip_denied",
    )
    .await;
    expect_error(from(Some("198.51.100.66")).await.unwrap(), 403, "ip_denied").await;
    // Without a forwarded address the peer (127.0.0.1, a trusted proxy itself) is the client.
    expect_error(from(None).await.unwrap(), 403, "ip_denied").await;
    let forwarded = gw
        .client
        .post(gw.url("/v1/echo"))
        .header("forwarded", "for=\"[2001:db8::9]:4711\";proto=https")
        .json(&json!({"message": "ip"}))
        .send()
        .await
        .unwrap();
    assert_eq!(forwarded.status(), 200);

    // Not trusting the proxy: the headers are ignored, and 127.0.0.1 is not allowed.
    let untrusting = Gateway::start(&config(backend.addr, policies, "")).await;
    let spoofed = untrusting
        .client
        .post(untrusting.url("/v1/echo"))
        .header("x-forwarded-for", "198.51.100.7")
        .json(&json!({"message": "ip"}))
        .send()
        .await
        .unwrap();
    expect_error(spoofed, 403, "ip_denied").await;
}
