//! API keys, grants, and what reaches the backend: the consumer as the gateway established it, never
//! the key, never a consumer id the client wrote.

use serde_json::json;

use super::{API_KEY, backend_metadata, config};
use crate::harness::{Gateway, expect_error, tonic_backend};

const POLICIES: &str = "[{ kind: api_key, header: x-api-key, query: api_key }]";

#[tokio::test]
async fn a_valid_key_in_a_header_or_the_query_reaches_the_backend_as_the_consumer() {
    let backend = tonic_backend().await;
    let gw = Gateway::start(&config(backend.addr, POLICIES, "")).await;
    let reply: serde_json::Value = gw
        .client
        .post(gw.url("/v1/echo"))
        .header("x-api-key", API_KEY)
        .header("x-consumer-id", "someone-else")
        .json(&json!({"message": "hi"}))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(reply["request"]["message"], "hi");
    assert_eq!(
        backend_metadata(&reply, "x-consumer-id").as_deref(),
        Some("partner")
    );
    // The API forwards x-api-key, yet the key itself never reaches the backend.
    assert_eq!(backend_metadata(&reply, "x-api-key"), None, "{reply}");

    // In the query: accepted, and taken out before the query is mapped (it is no field of the message).
    let reply: serde_json::Value = gw
        .client
        .get(gw.url(&format!("/v1/echo/hello?api_key={API_KEY}")))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(reply["request"]["message"], "hello");
    assert_eq!(
        backend_metadata(&reply, "x-consumer-id").as_deref(),
        Some("partner")
    );
}

#[tokio::test]
async fn wrong_missing_expired_and_ungranted_keys_are_refused() {
    let backend = tonic_backend().await;
    let gw = Gateway::start(&config(backend.addr, POLICIES, "")).await;
    let post = |key: Option<&str>| {
        let mut request = gw
            .client
            .post(gw.url("/v1/echo"))
            .json(&json!({"message": "x"}));
        if let Some(key) = key {
            request = request.header("x-api-key", key);
        }
        request.send()
    };

    let missing = post(None).await.unwrap();
    assert_eq!(
        missing.headers()["www-authenticate"],
        "ApiKey header=\"x-api-key\""
    );
    expect_error(missing, 401, "unauthenticated").await;
    let body = expect_error(
        post(Some("not-a-key")).await.unwrap(),
        401,
        "unauthenticated",
    )
    .await;
    assert!(
        !body.to_string().contains("not-a-key"),
        "the refusal echoes no key: {body}"
    );
    expect_error(
        post(Some("test-apikey-expired-00001")).await.unwrap(),
        401,
        "unauthenticated",
    )
    .await;
    let body = expect_error(
        post(Some("test-apikey-outsider-0001")).await.unwrap(),
        403,
        "permission_denied",
    )
    .await;
    assert!(
        body["message"].as_str().unwrap_or("").contains("outsider"),
        "{body}"
    );
    expect_error(
        post(Some("test-apikey-disabled-0001")).await.unwrap(),
        403,
        "permission_denied",
    )
    .await;
    // Granted the API's group rather than the API.
    let grouped = post(Some("test-apikey-grouped-00001")).await.unwrap();
    assert_eq!(grouped.status(), 200);
}

#[tokio::test]
async fn without_a_policy_a_client_cannot_claim_to_be_a_consumer() {
    let backend = tonic_backend().await;
    let gw = Gateway::start(&config(backend.addr, POLICIES, "")).await;
    let reply: serde_json::Value = gw
        .client
        .post(gw.url("/v1/open"))
        .header("x-consumer-id", "partner")
        .json(&json!({"message": "hi"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(backend_metadata(&reply, "x-consumer-id"), None, "{reply}");
}
