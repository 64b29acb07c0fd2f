//! RFC 9421 signatures made by `requests-http-signature` (the whole call) and `http-message-signatures`
//! (headers, to replay and tamper with), HMAC and Ed25519.

use std::collections::HashMap;

use super::{REDIS, SECRET, config, signer};
use crate::harness::{Gateway, expect_error, tonic_backend};

const POLICIES: &str = "[{ kind: http_signature }]";
const BODY: &str = r#"{"message":"rfc9421"}"#;

/// `partner`'s Ed25519 credential, from a fresh key pair, added to the config.
fn with_ed25519(yaml: &str, public_base64: &str) -> String {
    let anchor = "      - { kind: hmac, id: secret-2, secret_env: HOME }\n";
    assert!(yaml.contains(anchor));
    yaml.replace(
        anchor,
        &format!(
            "{anchor}      - {{ kind: ed25519, id: ed-1, public_key: \"{public_base64}\" }}\n"
        ),
    )
}

async fn headers(args: &[&str]) -> HashMap<String, String> {
    let printed: serde_json::Value = serde_json::from_str(&signer(args).await).unwrap();
    serde_json::from_value(printed["headers"].clone()).unwrap()
}

async fn send(
    gw: &Gateway,
    path: &str,
    headers: &HashMap<String, String>,
    body: &str,
) -> reqwest::Response {
    let mut request = gw.client.post(gw.url(path)).body(body.to_string());
    for (name, value) in headers {
        if name.eq_ignore_ascii_case("content-length") {
            continue;
        }
        request = request.header(name, value);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn stock_libraries_sign_calls_the_gateway_accepts() {
    let backend = tonic_backend().await;
    let keys: serde_json::Value = serde_json::from_str(&signer(&["keys"]).await).unwrap();
    let ed = &keys["ed25519"];
    let yaml = with_ed25519(
        &config(backend.addr, POLICIES, ""),
        ed["raw_public_base64"].as_str().unwrap(),
    );
    let gw = Gateway::start_tuned(&yaml, |s| {
        s.redis_url = Some(api_model::Secret(REDIS.into()))
    })
    .await;
    let url = gw.url("/v1/echo?number=1");
    for (alg, key) in [
        ("hmac-sha256", SECRET),
        ("ed25519", ed["private_pem"].as_str().unwrap()),
    ] {
        let printed: serde_json::Value = serde_json::from_str(
            &signer(&[
                "request",
                "POST",
                &url,
                BODY,
                "partner-1",
                alg,
                key,
                "--nonce",
            ])
            .await,
        )
        .unwrap();
        assert_eq!(printed["status"], 200, "{alg}: {printed}");
        let reply: serde_json::Value =
            serde_json::from_str(printed["body"].as_str().unwrap()).unwrap();
        assert_eq!(reply["metadata"]["x-consumer-id"], "partner", "{reply}");
    }
    // A GET without a body, signed over @method @authority @path.
    let get = headers(&[
        "rfc9421",
        "GET",
        &gw.url("/v1/echo/plain"),
        "",
        "partner-1",
        "hmac-sha256",
        SECRET,
        "--components=@method,@authority,@path",
    ])
    .await;
    let mut request = gw.client.get(gw.url("/v1/echo/plain"));
    for (name, value) in &get {
        request = request.header(name, value);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
}

#[tokio::test]
async fn replays_tampering_and_stale_signatures_are_refused() {
    let backend = tonic_backend().await;
    let yaml = config(
        backend.addr,
        "[{ kind: http_signature, require_nonce: true }]",
        "",
    );
    let redis = |s: &mut gateway_web::Settings| s.redis_url = Some(api_model::Secret(REDIS.into()));
    let one = Gateway::start_tuned(&yaml, redis).await;
    let two = Gateway::start_tuned(&yaml, redis).await;
    // Both nodes are addressed as one host, as behind a load balancer: the signature covers @authority.
    let signed = |gw: &Gateway, extra: Vec<String>| {
        let url = gw.url("/v1/echo");
        async move {
            let mut args = vec![
                "rfc9421".to_string(),
                "POST".into(),
                url,
                BODY.into(),
                "partner-1".into(),
                "hmac-sha256".into(),
                SECRET.into(),
                "--nonce".into(),
            ];
            args.extend(extra);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            headers(&args).await
        }
    };
    let first = signed(&one, vec![]).await;
    assert_eq!(send(&one, "/v1/echo", &first, BODY).await.status(), 200);
    let mut on_two = first.clone();
    // The same request as the other node sees it: only Host differs, which the signature covers, so
    // replay it with the Host the signature named.
    on_two.insert("Host".into(), one.addr.to_string());
    expect_error(
        send(&two, "/v1/echo", &on_two, BODY).await,
        401,
        "nonce_replayed",
    )
    .await;

    let fresh = signed(&one, vec![]).await;
    expect_error(
        send(&one, "/v1/echo", &fresh, r#"{"message":"tampered"}"#).await,
        401,
        "signature_invalid",
    )
    .await;
    let stale = signed(
        &one,
        vec![format!(
            "--created={}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs()
                - 900
        )],
    )
    .await;
    expect_error(
        send(&one, "/v1/echo", &stale, BODY).await,
        401,
        "signature_expired",
    )
    .await;
    let unknown = headers(&[
        "rfc9421",
        "POST",
        &one.url("/v1/echo"),
        BODY,
        "nobody",
        "hmac-sha256",
        SECRET,
        "--nonce",
    ])
    .await;
    expect_error(
        send(&one, "/v1/echo", &unknown, BODY).await,
        401,
        "signature_invalid",
    )
    .await;
    let wrong = headers(&[
        "rfc9421",
        "POST",
        &one.url("/v1/echo"),
        BODY,
        "partner-1",
        "hmac-sha256",
        "not-the-secret",
        "--nonce",
    ])
    .await;
    expect_error(
        send(&one, "/v1/echo", &wrong, BODY).await,
        401,
        "signature_invalid",
    )
    .await;
    // Without a nonce, where the policy requires one.
    let no_nonce = headers(&[
        "rfc9421",
        "POST",
        &one.url("/v1/echo"),
        BODY,
        "partner-1",
        "hmac-sha256",
        SECRET,
    ])
    .await;
    expect_error(
        send(&one, "/v1/echo", &no_nonce, BODY).await,
        401,
        "signature_invalid",
    )
    .await;
    // A body the signature does not cover through content-digest.
    let uncovered = headers(&[
        "rfc9421",
        "POST",
        &one.url("/v1/echo"),
        "",
        "partner-1",
        "hmac-sha256",
        SECRET,
        "--nonce",
    ])
    .await;
    expect_error(
        send(&one, "/v1/echo", &uncovered, BODY).await,
        401,
        "signature_invalid",
    )
    .await;
}
