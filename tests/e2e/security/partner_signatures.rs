//! The gateway's partner scheme, signed by the client code `docs/signing.md` prints (Python, curl +
//! openssl, Java, Go), against two nodes that share Redis, and a node whose Redis stops.

use std::collections::HashMap;

use super::{REDIS, SECRET, config, doc_block, secret_2};
use crate::harness::{Gateway, PrivateRedis, expect_error, python, tonic_backend};

const POLICIES: &str = "[{ kind: signature, signed_headers: [content-type] }]";
const BODY: &str = r#"{"message":"signed"}"#;

fn shared_redis(settings: &mut gateway_web::Settings) {
    settings.redis_url = Some(api_model::Secret(REDIS.into()));
}

/// The headers the documented Python client signs `POST url BODY` with.
async fn signed_headers(url: &str, body: &str, secret: &str) -> HashMap<String, String> {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("sign.py");
    std::fs::write(&script, doc_block("python")).unwrap();
    let output = tokio::process::Command::new(python())
        .arg(&script)
        .args(["POST", url, body])
        .env("APP_KEY", "partner-1")
        .env("APP_SECRET", secret)
        .env("PRINT_HEADERS", "1")
        .output()
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

async fn send(
    gw: &Gateway,
    path: &str,
    headers: &HashMap<String, String>,
    body: &str,
) -> reqwest::Response {
    let mut request = gw.client.post(gw.url(path)).body(body.to_string());
    for (name, value) in headers {
        request = request.header(name, value);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn a_signed_call_is_accepted_once_on_any_node() {
    let backend = tonic_backend().await;
    let yaml = config(backend.addr, POLICIES, "");
    let one = Gateway::start_tuned(&yaml, shared_redis).await;
    let two = Gateway::start_tuned(&yaml, shared_redis).await;

    let headers = signed_headers(&one.url("/v1/echo?tags=b&tags=x+y&number=1"), BODY, SECRET).await;
    let first = send(&one, "/v1/echo?tags=b&tags=x+y&number=1", &headers, BODY).await;
    assert_eq!(first.status(), 200, "{}", first.text().await.unwrap());
    // The same signed request on the other node: the nonce is already in Redis.
    expect_error(
        send(&two, "/v1/echo?tags=b&tags=x+y&number=1", &headers, BODY).await,
        401,
        "nonce_replayed",
    )
    .await;
    // The same query in another order and encoding is the same canonical query.
    let again = signed_headers(&one.url("/v1/echo?tags=b&tags=x+y&number=1"), BODY, SECRET).await;
    let reordered = send(&two, "/v1/echo?number=1&tags=b&tags=x%20y", &again, BODY).await;
    assert_eq!(
        reordered.status(),
        200,
        "{}",
        reordered.text().await.unwrap()
    );
}

#[tokio::test]
async fn tampering_skew_wrong_secrets_and_missing_parts_are_refused() {
    let backend = tonic_backend().await;
    let gw = Gateway::start_tuned(&config(backend.addr, POLICIES, ""), shared_redis).await;
    let url = gw.url("/v1/echo?number=1");
    let fresh = || signed_headers(&url, BODY, SECRET);

    // Body, query value and a signed header changed after signing.
    expect_error(
        send(
            &gw,
            "/v1/echo?number=1",
            &fresh().await,
            r#"{"message":"SIGNED"}"#,
        )
        .await,
        401,
        "signature_invalid",
    )
    .await;
    expect_error(
        send(&gw, "/v1/echo?number=2", &fresh().await, BODY).await,
        401,
        "signature_invalid",
    )
    .await;
    let mut header = fresh().await;
    header.insert(
        "Content-Type".into(),
        "application/json; charset=utf-8".into(),
    );
    expect_error(
        send(&gw, "/v1/echo?number=1", &header, BODY).await,
        401,
        "signature_invalid",
    )
    .await;
    // A wrong secret, and another consumer's secret for this app key.
    expect_error(
        send(
            &gw,
            "/v1/echo?number=1",
            &signed_headers(&url, BODY, "wrong").await,
            BODY,
        )
        .await,
        401,
        "signature_invalid",
    )
    .await;
    let theirs = signed_headers(&url, BODY, &format!("{SECRET}-outsider")).await;
    expect_error(
        send(&gw, "/v1/echo?number=1", &theirs, BODY).await,
        401,
        "signature_invalid",
    )
    .await;
    // Ten minutes off.
    let mut skewed = fresh().await;
    let ts: u64 = skewed["X-Timestamp"].parse().unwrap();
    skewed.insert("X-Timestamp".into(), (ts - 600_000).to_string());
    expect_error(
        send(&gw, "/v1/echo?number=1", &skewed, BODY).await,
        401,
        "signature_expired",
    )
    .await;
    // Each part missing.
    for part in ["X-App-Key", "X-Timestamp", "X-Nonce", "X-Signature"] {
        let mut missing = fresh().await;
        missing.remove(part);
        let body = expect_error(
            send(&gw, "/v1/echo?number=1", &missing, BODY).await,
            401,
            "signature_invalid",
        )
        .await;
        let message = body["message"].as_str().unwrap_or("").to_ascii_lowercase();
        assert!(
            message.contains(&part.to_ascii_lowercase()),
            "{part}: {body}"
        );
    }
    // The API requires content-type to be signed.
    let mut unsigned = fresh().await;
    unsigned.remove("X-Signed-Headers");
    expect_error(
        send(&gw, "/v1/echo?number=1", &unsigned, BODY).await,
        401,
        "signature_invalid",
    )
    .await;
}

#[tokio::test]
async fn during_a_rotation_both_secrets_sign_and_a_revoked_one_does_not() {
    let backend = tonic_backend().await;
    let gw = Gateway::start_tuned(&config(backend.addr, POLICIES, ""), shared_redis).await;
    let url = gw.url("/v1/echo");
    for secret in [SECRET.to_string(), secret_2()] {
        let ok = send(
            &gw,
            "/v1/echo",
            &signed_headers(&url, BODY, &secret).await,
            BODY,
        )
        .await;
        assert_eq!(ok.status(), 200, "{}", ok.text().await.unwrap());
    }
    // The first secret revoked: the next revision lists only the second.
    let revoked = config(backend.addr, POLICIES, "").replace(
        &format!("      - {{ kind: hmac, id: secret-1, secret: \"{SECRET}\" }}\n"),
        "",
    );
    assert_ne!(revoked, config(backend.addr, POLICIES, ""));
    let mut gw = gw;
    gw.write_config(&revoked);
    gw.wait_for_revision(&gateway_web::reload::revision_of(&revoked))
        .await
        .unwrap();
    expect_error(
        send(
            &gw,
            "/v1/echo",
            &signed_headers(&url, BODY, SECRET).await,
            BODY,
        )
        .await,
        401,
        "signature_invalid",
    )
    .await;
    let ok = send(
        &gw,
        "/v1/echo",
        &signed_headers(&url, BODY, &secret_2()).await,
        BODY,
    )
    .await;
    assert_eq!(ok.status(), 200);
}

#[tokio::test]
async fn with_redis_down_each_policy_does_what_it_says() {
    let backend = tonic_backend().await;
    let mut redis = PrivateRedis::start().await;
    let refuse = config(backend.addr, POLICIES, "");
    let local = config(
        backend.addr,
        "[{ kind: signature, signed_headers: [content-type], on_store_down: local }]",
        "",
    );
    let url = redis.url.clone();
    let tune =
        move |s: &mut gateway_web::Settings| s.redis_url = Some(api_model::Secret(url.clone()));
    let strict = Gateway::start_tuned(&refuse, tune.clone()).await;
    let lenient = Gateway::start_tuned(&local, tune).await;
    let call = |gw: &Gateway| {
        let url = gw.url("/v1/echo");
        async move { signed_headers(&url, BODY, SECRET).await }
    };
    assert_eq!(
        send(&strict, "/v1/echo", &call(&strict).await, BODY)
            .await
            .status(),
        200
    );

    redis.stop().await;
    expect_error(
        send(&strict, "/v1/echo", &call(&strict).await, BODY).await,
        503,
        "auth_unavailable",
    )
    .await;
    let headers = call(&lenient).await;
    assert_eq!(
        send(&lenient, "/v1/echo", &headers, BODY).await.status(),
        200
    );
    // Local memory still catches a replay on the same node.
    expect_error(
        send(&lenient, "/v1/echo", &headers, BODY).await,
        401,
        "nonce_replayed",
    )
    .await;
    let ready = lenient.readyz().await;
    assert_eq!(ready["security"]["nonces_accepted_locally"], 1, "{ready}");
    assert_eq!(ready["security"]["redis"], "unreachable", "{ready}");
}

/// The curl + openssl, Java and Go clients of the document, run as printed.
#[tokio::test]
async fn the_documented_clients_in_other_languages_call_successfully() {
    let backend = tonic_backend().await;
    let gw = Gateway::start_tuned(&config(backend.addr, POLICIES, ""), shared_redis).await;
    let dir = tempfile::tempdir().unwrap();
    let env = |command: &mut tokio::process::Command| {
        command
            .env("APP_KEY", "partner-1")
            .env("APP_SECRET", SECRET)
            .env("GATEWAY", gw.url(""))
            .current_dir(dir.path());
    };
    let check = |what: &str, output: std::process::Output| {
        let text = String::from_utf8_lossy(&output.stdout).to_string();
        assert!(
            output.status.success(),
            "{what}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            text.contains("signed") || text.contains("hello"),
            "{what} printed {text}"
        );
        assert!(!text.contains("\"code\""), "{what} was refused: {text}");
    };

    std::fs::write(dir.path().join("sign.sh"), doc_block("sh")).unwrap();
    let mut sh = tokio::process::Command::new("sh");
    sh.arg("sign.sh");
    env(&mut sh);
    check("curl", sh.output().await.unwrap());

    std::fs::write(dir.path().join("Sign.java"), doc_block("java")).unwrap();
    let mut java = tokio::process::Command::new("java");
    java.args(["Sign.java", &gw.url("/v1/echo?tags=b&number=1"), BODY]);
    env(&mut java);
    check("java", java.output().await.unwrap());

    std::fs::write(dir.path().join("sign.go"), doc_block("go")).unwrap();
    let mut go = tokio::process::Command::new("go");
    go.args([
        "run",
        "sign.go",
        &gw.url("/v1/echo?tags=x+y&number=2"),
        BODY,
    ])
    .env("GOCACHE", dir.path().join("gocache"))
    .env("GOPATH", dir.path().join("gopath"))
    .env("GO111MODULE", "off");
    env(&mut go);
    check("go", go.output().await.unwrap());
}
