//! Authentication policies: how a request proves which consumer sent it. Several may apply to one
//! route; a request is authenticated by any one whose credential it presents (a credential presented
//! and wrong is refused, never skipped), and refused with `unauthenticated` when it presents none.
//! Whatever authenticates it, the consumer must hold a grant for the API (see `Consumer::grants`).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::secret::{Secret, SecretRef};

/// `kind: api_key`: a consumer's API key in a header or a query parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyAuth {
    /// The header carrying the key.
    #[serde(default = "default_key_header")]
    pub header: String,
    /// Also accept the key in this query parameter (for clients that cannot set headers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
}

fn default_key_header() -> String {
    "x-api-key".into()
}

/// What to do with a signature whose nonce cannot be checked against the shared store (Redis down or
/// not configured).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NonceFallback {
    /// Refuse with 503: a replay on another node cannot be ruled out.
    #[default]
    Refuse,
    /// Check the nonce against this node's own memory (a replay on the same node is still refused), and
    /// count each such acceptance.
    Local,
}

/// `kind: signature`: the gateway's partner scheme. HMAC-SHA256, with the consumer's shared secret,
/// over method, path, sorted query, the signed headers, app key, timestamp, nonce and the body's
/// SHA-256; a timestamp within `clock_skew`; a nonce never seen before on any node. `docs/signing.md`
/// is the partner's description, with client code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatureAuth {
    /// Headers every signature must cover, besides those the client chooses to (lowercase names).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signed_headers: Vec<String>,
    /// How far a timestamp may be from the gateway's clock, either way; also how long nonces are kept.
    #[serde(default = "default_skew", with = "humantime_serde")]
    pub clock_skew: Duration,
    #[serde(default)]
    pub on_store_down: NonceFallback,
}

fn default_skew() -> Duration {
    Duration::from_secs(300)
}

/// `kind: http_signature`: RFC 9421 HTTP Message Signatures, `hmac-sha256` with the consumer's shared
/// secret or `ed25519` with its public key, the consumer named by `keyid` (its app key).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSignatureAuth {
    /// Components every signature must cover; a request with a body must also cover `content-digest`.
    #[serde(default = "default_components")]
    pub required_components: Vec<String>,
    /// How old `created` may be (and how far ahead); also how long nonces are kept.
    #[serde(default = "default_skew", with = "humantime_serde")]
    pub clock_skew: Duration,
    /// Refuse signatures without a `nonce` parameter (a nonce that is sent is always replay-checked).
    #[serde(default)]
    pub require_nonce: bool,
    #[serde(default)]
    pub on_store_down: NonceFallback,
}

fn default_components() -> Vec<String> {
    ["@method", "@authority", "@path"]
        .map(String::from)
        .to_vec()
}

/// A key a JWT may be signed with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JwtKey {
    /// Matched against the token's `kid`; a key without one serves tokens without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// The one algorithm this key verifies (HS256/384/512, RS256, ES256, EdDSA): a key is never used
    /// with an algorithm the token chooses, which is what HS/RS confusion attacks rely on.
    pub alg: String,
    /// For HS*: the shared secret (one of `secret`, `secret_env`, `secret_encrypted`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_env: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_encrypted: Option<String>,
    /// For RS256, ES256, EdDSA: the public key in PEM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key_pem: Option<String>,
}

impl JwtKey {
    pub fn secret_ref(&self) -> Result<SecretRef<'_>, String> {
        SecretRef::of(&self.secret, &self.secret_env, &self.secret_encrypted)
    }
}

/// `kind: jwt`: a bearer token signed by a trusted issuer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JwtAuth {
    /// The header carrying `Bearer <token>`.
    #[serde(default = "default_authorization")]
    pub header: String,
    /// Required `iss`, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// The token's `aud` must name one of these, when set.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audiences: Vec<String>,
    /// Keys given inline.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<JwtKey>,
    /// A JWKS document, fetched off the hot path, cached, and fetched again on an unknown `kid`
    /// (at most once per `jwks_min_refresh`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_url: Option<String>,
    /// How often the JWKS is refreshed while every `kid` is known.
    #[serde(default = "default_jwks_refresh", with = "humantime_serde")]
    pub jwks_refresh: Duration,
    #[serde(default = "default_jwks_min_refresh", with = "humantime_serde")]
    pub jwks_min_refresh: Duration,
    /// Tolerance for `exp` and `nbf`.
    #[serde(default = "default_leeway", with = "humantime_serde")]
    pub leeway: Duration,
    /// The claim naming the consumer (`sub`, or `azp`/`client_id` for app tokens). When it names a
    /// consumer of the document, that consumer's grants apply; otherwise the token stands for a user,
    /// known by this claim only, unless `require_consumer`.
    #[serde(default = "default_consumer_claim")]
    pub consumer_claim: String,
    /// Refuse tokens whose consumer claim names no consumer.
    #[serde(default)]
    pub require_consumer: bool,
    /// Claims sent downstream: claim name → header (HTTP), metadata key (gRPC), attachment (Dubbo).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub forward_claims: BTreeMap<String, String>,
}

fn default_authorization() -> String {
    "authorization".into()
}

fn default_jwks_refresh() -> Duration {
    Duration::from_secs(600)
}

fn default_jwks_min_refresh() -> Duration {
    Duration::from_secs(30)
}

fn default_leeway() -> Duration {
    Duration::from_secs(60)
}

fn default_consumer_claim() -> String {
    "sub".into()
}

/// When the external service cannot be asked (down, slow, answering 5xx).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExternalAuthFallback {
    /// Refuse with 503.
    #[default]
    Refuse,
    /// Let the request through unauthenticated by this policy (another may still authenticate it).
    Skip,
}

/// `kind: external_auth`: a session or SSO check by an HTTP service of your own. The gateway sends it
/// the chosen request headers; a 2xx authenticates the request (its identity headers travel
/// downstream), a 401/403 is passed on as the refusal, anything else follows `on_error`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExternalAuth {
    /// `http://auth.internal/check`: asked with GET and the forwarded headers.
    pub url: String,
    /// Request headers sent to the service (`cookie`, `authorization`, ...). A request carrying none
    /// of them has presented no credential of this kind.
    pub forward_headers: Vec<String>,
    /// Headers of the service's 2xx answer passed downstream (the identity it vouches for).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identity_headers: Vec<String>,
    /// The answer header naming the consumer, when it names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumer_header: Option<String>,
    #[serde(default = "default_external_timeout", with = "humantime_serde")]
    pub timeout: Duration,
    /// How long a verdict is reused for the same forwarded headers (0: ask every time).
    #[serde(default = "default_cache_ttl", with = "humantime_serde")]
    pub cache_ttl: Duration,
    #[serde(default)]
    pub on_error: ExternalAuthFallback,
}

fn default_external_timeout() -> Duration {
    Duration::from_millis(500)
}

fn default_cache_ttl() -> Duration {
    Duration::from_secs(5)
}

/// `kind: client_certificate`: a TLS client certificate (mTLS) whose SHA-256 is a consumer's
/// `certificate` credential. Needs a TLS listener that asks for client certificates.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientCertificateAuth {}

/// The JWT algorithms a key may name.
pub const JWT_ALGORITHMS: [&str; 6] = ["HS256", "HS384", "HS512", "RS256", "ES256", "EdDSA"];

fn header_name_ok(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b))
}

impl ApiKeyAuth {
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if !header_name_ok(&self.header) {
            problems.push(format!("api_key: `{}` is not a header name", self.header));
        }
        if self.query.as_deref().is_some_and(str::is_empty) {
            problems.push("api_key: query is empty".into());
        }
        problems
    }
}

impl SignatureAuth {
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.clock_skew.is_zero() {
            problems.push("signature: clock_skew must be above zero".into());
        }
        for name in &self.signed_headers {
            if !header_name_ok(name) {
                problems.push(format!("signature: `{name}` is not a header name"));
            }
        }
        problems
    }
}

impl HttpSignatureAuth {
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.clock_skew.is_zero() {
            problems.push("http_signature: clock_skew must be above zero".into());
        }
        for component in &self.required_components {
            let derived = [
                "@method",
                "@target-uri",
                "@authority",
                "@scheme",
                "@request-target",
                "@path",
                "@query",
            ];
            let ok = if component.starts_with('@') {
                derived.contains(&component.as_str())
            } else {
                header_name_ok(component)
            };
            if !ok {
                problems.push(format!(
                    "http_signature: `{component}` is not a component the gateway can check"
                ));
            }
        }
        problems
    }
}

impl JwtAuth {
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.keys.is_empty() && self.jwks_url.is_none() {
            problems.push("jwt: give `keys`, a `jwks_url`, or both".into());
        }
        if let Some(url) = &self.jwks_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            problems.push(format!("jwt: jwks_url `{url}` is not an http(s) URL"));
        }
        for key in &self.keys {
            let name = key.kid.as_deref().unwrap_or("(no kid)");
            if !JWT_ALGORITHMS.contains(&key.alg.as_str()) {
                problems.push(format!(
                    "jwt: key {name}: alg `{}` is not one of {}",
                    key.alg,
                    JWT_ALGORITHMS.join(", ")
                ));
                continue;
            }
            let symmetric = key.alg.starts_with("HS");
            match (symmetric, key.secret_ref(), &key.public_key_pem) {
                (true, Ok(_), None) | (false, Err(_), Some(_)) => {}
                (true, _, _) => problems.push(format!(
                    "jwt: key {name}: {} needs exactly one of `secret`, `secret_env`, `secret_encrypted`, and no public key",
                    key.alg
                )),
                (false, _, _) => problems.push(format!(
                    "jwt: key {name}: {} needs `public_key_pem` and no secret",
                    key.alg
                )),
            }
        }
        if self.jwks_min_refresh.is_zero() {
            problems.push("jwt: jwks_min_refresh must be above zero".into());
        }
        if !header_name_ok(&self.header) {
            problems.push(format!("jwt: `{}` is not a header name", self.header));
        }
        for header in self.forward_claims.values() {
            if !header_name_ok(header) {
                problems.push(format!(
                    "jwt: forward_claims target `{header}` is not a header name"
                ));
            }
        }
        problems
    }
}

impl ExternalAuth {
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if !(self.url.starts_with("http://") || self.url.starts_with("https://")) {
            problems.push(format!(
                "external_auth: url `{}` is not an http(s) URL",
                self.url
            ));
        }
        if self.forward_headers.is_empty() {
            problems.push("external_auth: forward_headers is empty".into());
        }
        if self.timeout.is_zero() {
            problems.push("external_auth: timeout must be above zero".into());
        }
        for name in self
            .forward_headers
            .iter()
            .chain(&self.identity_headers)
            .chain(&self.consumer_header)
        {
            if !header_name_ok(name) {
                problems.push(format!("external_auth: `{name}` is not a header name"));
            }
        }
        problems
    }
}
