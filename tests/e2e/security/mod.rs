//! The security policies end to end, against independent signers: PyJWT and the two RFC 9421 libraries
//! from PyPI, the partner scheme's own client code exactly as `docs/signing.md` prints it (Python,
//! curl + openssl, Java, Go), real Redis (shared, and a private one stopped mid-test), and small HTTP
//! servers of the test's own for JWKS and external authentication.

mod api_keys;
mod cors_and_ips;
mod external;
mod http_signatures;
mod jwt;
mod partner_signatures;
mod tls;

use std::net::SocketAddr;
use std::process::Stdio;

use crate::harness::{proto_dir, python, repo_root};

/// The Redis every node of a test shares (started by `.ci/run` when down).
pub const REDIS: &str = "redis://127.0.0.1:6379";

/// A shared secret used only by these tests; `scripts/check-logs.sh` checks that no log line of the
/// suite holds it (nor the other values of `tests/peers/test-secrets.txt`).
pub const SECRET: &str = "test-secret-3f9c1d7be2a44f0e";

/// The partner's second secret comes from the node's environment (`secret_env`): from a variable the
/// test can read but, without `unsafe`, not set, so `HOME`.
pub fn secret_2() -> String {
    std::env::var("HOME").expect("HOME is set")
}
/// An API key used only by these tests (its SHA-256 is what the config holds).
pub const API_KEY: &str = "test-apikey-6e0d8b0c5f2a4b17";

pub fn sha256_hex(text: &str) -> String {
    use std::fmt::Write as _;
    let digest = ring_digest(text.as_bytes());
    digest.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

fn ring_digest(bytes: &[u8]) -> Vec<u8> {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes).to_vec()
}

/// The echo API behind `policies`, with the test consumers: `partner` (granted `echo`, key
/// [`API_KEY`], secrets [`SECRET`] and [`secret_2`]), `outsider` (granted nothing), `disabled`, and
/// `grouped` (granted the API's group). `extra` is appended to the document.
pub fn config(backend: SocketAddr, policies: &str, extra: &str) -> String {
    let key_hash = sha256_hex(API_KEY);
    let outsider_hash = sha256_hex("test-apikey-outsider-0001");
    let disabled_hash = sha256_hex("test-apikey-disabled-0001");
    let grouped_hash = sha256_hex("test-apikey-grouped-00001");
    let expired_hash = sha256_hex("test-apikey-expired-00001");
    format!(
        r#"
backends: [{{ name: demo, protocol: grpc, endpoints: ["{backend}"] }}]
schemas: [{{ name: demo, proto: {{ files: [demo/echo/v1/echo.proto], import_paths: ["{protos}"] }} }}]
consumers:
  - name: partner
    app_key: partner-1
    grants: [echo]
    credentials:
      - {{ kind: api_key, id: key-1, sha256: "{key_hash}" }}
      - {{ kind: api_key, id: key-expired, sha256: "{expired_hash}", expires_at: "2020-01-01T00:00:00Z" }}
      - {{ kind: hmac, id: secret-1, secret: "{SECRET}" }}
      - {{ kind: hmac, id: secret-2, secret_env: HOME }}
  - name: outsider
    credentials: [{{ kind: api_key, id: key-o, sha256: "{outsider_hash}" }}, {{ kind: hmac, id: secret-o, secret: "{SECRET}-outsider" }}]
  - name: disabled
    enabled: false
    grants: [echo]
    credentials: [{{ kind: api_key, id: key-d, sha256: "{disabled_hash}" }}]
  - name: grouped
    grants: ["group:partner-apis"]
    credentials: [{{ kind: api_key, id: key-g, sha256: "{grouped_hash}" }}]
apis:
  - name: echo
    group: partner-apis
    backend: demo
    grpc: {{ service: demo.echo.v1.Echo, method: Echo }}
    http: {{ post: /v1/echo, body: "*", additional_bindings: [{{ get: "/v1/echo/{{message}}" }}] }}
    # Beside `body: "*"` no query parameter is mapped unless a binding says so; the signing suites
    # sign query strings, and these carry them to the backend.
    mapping: [{{ from: query.number, to: number }}, {{ from: query.tags, to: tags }}]
    forward_headers: [x-api-key, authorization, x-consumer-id, x-signature, x-user-id, cookie]
    policies: {policies}
  - name: open
    backend: demo
    grpc: {{ service: demo.echo.v1.Echo, method: Echo }}
    http: {{ post: /v1/open, body: "*" }}
    forward_headers: [x-consumer-id]
{extra}
"#,
        protos = proto_dir()
    )
}

/// Runs `tests/peers/signers.py` and returns what it printed.
pub async fn signer(args: &[&str]) -> String {
    let output = tokio::process::Command::new(python())
        .arg("tests/peers/signers.py")
        .args(args)
        .current_dir(repo_root())
        .stderr(Stdio::inherit())
        .output()
        .await
        .expect("runs the signer");
    assert!(output.status.success(), "signer {args:?} failed");
    String::from_utf8(output.stdout)
        .expect("utf-8")
        .trim()
        .to_string()
}

/// A fenced code block of `docs/signing.md`, by its language: what partners copy.
pub fn doc_block(language: &str) -> String {
    let text =
        std::fs::read_to_string(repo_root().join("docs/signing.md")).expect("docs/signing.md");
    let fence = format!("```{language}\n");
    let start = text
        .find(&fence)
        .map(|at| at + fence.len())
        .expect("the block");
    let end = text[start..].find("\n```").expect("the block's end");
    text[start..start + end].to_string() + "\n"
}

/// What the echo backend saw, from its reply.
pub fn backend_metadata(reply: &serde_json::Value, key: &str) -> Option<String> {
    reply["metadata"][key].as_str().map(str::to_string)
}
