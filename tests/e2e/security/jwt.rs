//! JWTs issued by PyJWT: inline HS256 secrets and RS256/ES256/EdDSA keys from a JWKS the test serves
//! and rotates, with the attacks that have broken other gateways (`alg: none`, HS/RS key confusion).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use serde_json::json;

use super::{backend_metadata, config, signer};
use crate::harness::{Gateway, expect_error, tonic_backend};

const HS_SECRET: &str = "test-jwt-secret-5d1e0c9a7b3f";

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn claims(sub: &str, extra: serde_json::Value) -> String {
    let mut claims = json!({"sub": sub, "iss": "https://issuer.test", "aud": "gateway", "exp": now() + 300, "scope": "read"});
    if let (Some(base), Some(extra)) = (claims.as_object_mut(), extra.as_object()) {
        base.extend(extra.clone());
    }
    claims.to_string()
}

async fn call(gw: &Gateway, token: &str) -> reqwest::Response {
    gw.client
        .post(gw.url("/v1/echo"))
        .bearer_auth(token)
        .json(&json!({"message": "jwt"}))
        .send()
        .await
        .unwrap()
}

/// A JWKS document that can be swapped, counting its fetches.
struct Issuer {
    url: String,
    document: Arc<std::sync::Mutex<String>>,
    fetches: Arc<AtomicUsize>,
}

async fn issuer(document: serde_json::Value) -> Issuer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    let shared = Arc::new(std::sync::Mutex::new(document.to_string()));
    let fetches = Arc::new(AtomicUsize::new(0));
    let (doc, count) = (shared.clone(), fetches.clone());
    let app = axum::Router::new().route(
        "/jwks.json",
        axum::routing::get(move || {
            let (doc, count) = (doc.clone(), count.clone());
            async move {
                count.fetch_add(1, Ordering::SeqCst);
                let body = doc.lock().unwrap().clone();
                ([("content-type", "application/json")], body)
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    Issuer {
        url,
        document: shared,
        fetches,
    }
}

fn jwk(keys: &serde_json::Value, kind: &str, kid: &str, alg: &str) -> serde_json::Value {
    let mut jwk = keys[kind]["jwk"].clone();
    jwk["kid"] = json!(kid);
    jwk["alg"] = json!(alg);
    jwk
}

#[tokio::test]
async fn inline_hs256_tokens_authenticate_and_their_claims_travel() {
    let backend = tonic_backend().await;
    let policies = format!(
        "[{{ kind: jwt, issuer: 'https://issuer.test', audiences: [gateway], keys: [{{ alg: HS256, secret: '{HS_SECRET}' }}], forward_claims: {{ scope: x-user-scope }} }}]"
    );
    let gw = Gateway::start(&config(backend.addr, &policies, "")).await;

    let token = signer(&["jwt", "HS256", HS_SECRET, &claims("partner", json!({}))]).await;
    let response = call(&gw, &token).await;
    assert_eq!(response.status(), 200);
    let reply: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        backend_metadata(&reply, "x-consumer-id").as_deref(),
        Some("partner")
    );
    assert_eq!(
        backend_metadata(&reply, "x-user-scope").as_deref(),
        Some("read")
    );
    assert_eq!(
        backend_metadata(&reply, "authorization"),
        None,
        "the token itself never travels: {reply}"
    );

    // A user, not a registered consumer: authenticated, no grants apply.
    let user = signer(&["jwt", "HS256", HS_SECRET, &claims("alice", json!({}))]).await;
    let reply: serde_json::Value = call(&gw, &user).await.json().await.unwrap();
    assert_eq!(
        backend_metadata(&reply, "x-consumer-id").as_deref(),
        Some("alice")
    );
    // A registered consumer without a grant.
    let outsider = signer(&["jwt", "HS256", HS_SECRET, &claims("outsider", json!({}))]).await;
    expect_error(call(&gw, &outsider).await, 403, "permission_denied").await;

    for (what, token) in [
        (
            "expired",
            signer(&[
                "jwt",
                "HS256",
                HS_SECRET,
                &claims("partner", json!({"exp": now() - 600})),
            ])
            .await,
        ),
        (
            "not yet",
            signer(&[
                "jwt",
                "HS256",
                HS_SECRET,
                &claims("partner", json!({"nbf": now() + 600})),
            ])
            .await,
        ),
        (
            "wrong audience",
            signer(&[
                "jwt",
                "HS256",
                HS_SECRET,
                &claims("partner", json!({"aud": "elsewhere"})),
            ])
            .await,
        ),
        (
            "wrong issuer",
            signer(&[
                "jwt",
                "HS256",
                HS_SECRET,
                &claims("partner", json!({"iss": "https://evil.test"})),
            ])
            .await,
        ),
        (
            "wrong secret",
            signer(&[
                "jwt",
                "HS256",
                "another-secret-of-32-bytes-xxxxx",
                &claims("partner", json!({})),
            ])
            .await,
        ),
        ("garbage", "not.a.token".to_string()),
    ] {
        let response = call(&gw, &token).await;
        assert_eq!(
            response.headers()["www-authenticate"],
            "Bearer realm=\"gateway\"",
            "{what}"
        );
        expect_error(response, 401, "unauthenticated").await;
    }
    // `alg: none`, which a careless verifier accepts unsigned.
    let b64 = |v: serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let unsigned = format!(
        "{}.{}.",
        b64(json!({"alg": "none", "typ": "JWT"})),
        b64(serde_json::from_str(&claims("partner", json!({}))).unwrap())
    );
    expect_error(call(&gw, &unsigned).await, 401, "unauthenticated").await;
}

#[tokio::test]
async fn jwks_keys_verify_their_own_algorithm_only_and_rotate() {
    let backend = tonic_backend().await;
    let keys: serde_json::Value = serde_json::from_str(&signer(&["keys"]).await).unwrap();
    let issuer = issuer(json!({"keys": [jwk(&keys, "rsa", "rsa-1", "RS256"), jwk(&keys, "ec", "ec-1", "ES256"), jwk(&keys, "ed25519", "ed-1", "EdDSA")]})).await;
    let policies = format!(
        "[{{ kind: jwt, issuer: 'https://issuer.test', audiences: [gateway], jwks_url: '{}', jwks_min_refresh: 300ms }}]",
        issuer.url
    );
    let gw = Gateway::start(&config(backend.addr, &policies, "")).await;
    let private = |kind: &str| keys[kind]["private_pem"].as_str().unwrap().to_string();

    for (alg, kind, kid) in [
        ("RS256", "rsa", "rsa-1"),
        ("ES256", "ec", "ec-1"),
        ("EdDSA", "ed25519", "ed-1"),
    ] {
        let token = signer(&[
            "jwt",
            alg,
            &private(kind),
            &claims("partner", json!({})),
            kid,
        ])
        .await;
        let response = call(&gw, &token).await;
        assert_eq!(
            response.status(),
            200,
            "{alg}: {}",
            response.text().await.unwrap()
        );
    }
    // HS/RS confusion: an HS256 token whose "secret" is the RSA public key, under the RSA key's kid.
    let public = keys["rsa"]["public_pem"].as_str().unwrap();
    let confused = signer(&[
        "forged-hs256",
        public,
        &claims("partner", json!({})),
        "rsa-1",
    ])
    .await;
    expect_error(call(&gw, &confused).await, 401, "unauthenticated").await;
    // A token signed by the EC key but naming the RSA key's kid.
    let mislabelled = signer(&[
        "jwt",
        "ES256",
        &private("ec"),
        &claims("partner", json!({})),
        "rsa-1",
    ])
    .await;
    expect_error(call(&gw, &mislabelled).await, 401, "unauthenticated").await;

    // Rotation: a new key the document does not list yet is refused, then accepted once it does.
    let rotated = signer(&[
        "jwt",
        "RS256",
        &private("rsa"),
        &claims("partner", json!({})),
        "rsa-2",
    ])
    .await;
    expect_error(call(&gw, &rotated).await, 401, "unauthenticated").await;
    *issuer.document.lock().unwrap() =
        json!({"keys": [jwk(&keys, "rsa", "rsa-2", "RS256")]}).to_string();
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let response = call(&gw, &rotated).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());

    // A flood of unknown kids costs the issuer at most one fetch per jwks_min_refresh.
    let kids: Vec<String> = (0..30).map(|i| format!("made-up-{i}")).collect();
    let flood = signer(&[
        "jwt-many",
        "RS256",
        &private("rsa"),
        &claims("partner", json!({})),
        &kids.join(","),
    ])
    .await;
    let before = issuer.fetches.load(Ordering::SeqCst);
    let started = std::time::Instant::now();
    for token in flood.lines() {
        expect_error(call(&gw, token).await, 401, "unauthenticated").await;
    }
    let fetched = issuer.fetches.load(Ordering::SeqCst) - before;
    // One fetch per 300 ms at most, whatever the number of tokens.
    let allowed = 1 + (started.elapsed().as_millis() / 300) as usize;
    assert!(
        fetched <= allowed,
        "{fetched} fetches for 30 unknown kids in {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_token_verified_once_is_reused_only_until_it_expires() {
    let backend = tonic_backend().await;
    let policies = format!(
        "[{{ kind: jwt, leeway: 0s, issuer: 'https://issuer.test', audiences: [gateway], keys: [{{ alg: HS256, secret: '{HS_SECRET}' }}], forward_claims: {{ scope: x-scope }} }}]"
    );
    let gw = Gateway::start(&config(backend.addr, &policies, "")).await;
    // Valid for two more seconds: accepted twice (the second time from the node's verdict, with the
    // same identity and claims downstream), refused once it has expired, verdict or not.
    let token = signer(&[
        "jwt",
        "HS256",
        HS_SECRET,
        &claims("alice", json!({"exp": now() + 2})),
    ])
    .await;
    for _ in 0..2 {
        let reply: serde_json::Value = call(&gw, &token).await.json().await.unwrap();
        assert_eq!(
            backend_metadata(&reply, "x-consumer-id").as_deref(),
            Some("alice")
        );
        assert_eq!(backend_metadata(&reply, "x-scope").as_deref(), Some("read"));
    }
    tokio::time::sleep(Duration::from_millis(3100)).await;
    expect_error(call(&gw, &token).await, 401, "unauthenticated").await;
}
