//! `kind: signature`: the gateway's partner scheme. A request carries `X-App-Key`, `X-Timestamp`
//! (milliseconds since the epoch), `X-Nonce`, optionally `X-Signed-Headers` (the headers it signs,
//! comma-separated), and `X-Signature`: base64 of HMAC-SHA256, with one of the consumer's shared
//! secrets, over `canonical::string_to_sign`. The timestamp must be within the clock-skew window, the
//! signature must verify (compared in constant time), and only then is the nonce recorded, so a forged
//! request cannot use up a partner's nonces.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use api_model::policy::NonceFallback;
use async_trait::async_trait;
use base64::Engine as _;
use http::HeaderName;
use ring::hmac;

use super::canonical::{Parts, string_to_sign};
use super::consumers::Consumers;
use super::{authenticated, check_nonce, consumer_identity, ensure_enabled};
use crate::access::{Exchange, Reply};
use crate::error::{ErrorKind, GatewayError};
use crate::interceptors::{Interceptor, Next};
use crate::stores::{CredentialUsage, NonceStore};

pub const APP_KEY: HeaderName = HeaderName::from_static("x-app-key");
pub const TIMESTAMP: HeaderName = HeaderName::from_static("x-timestamp");
pub const NONCE: HeaderName = HeaderName::from_static("x-nonce");
pub const SIGNED_HEADERS: HeaderName = HeaderName::from_static("x-signed-headers");
pub const SIGNATURE: HeaderName = HeaderName::from_static("x-signature");

pub struct Signature {
    /// Headers every signature must cover (lowercase).
    pub required_headers: Vec<String>,
    pub clock_skew: Duration,
    pub on_store_down: NonceFallback,
    pub consumers: Arc<Consumers>,
    pub nonces: Arc<NonceStore>,
    pub usage: Arc<CredentialUsage>,
}

fn invalid(message: impl Into<std::borrow::Cow<'static, str>>) -> GatewayError {
    GatewayError::new(ErrorKind::SignatureInvalid, message)
}

/// A header the signature needs, as text.
fn required<'a>(exchange: &'a Exchange, name: &HeaderName) -> Result<&'a str, GatewayError> {
    exchange
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| invalid(format!("a signed request needs the {name} header")))
}

/// A nonce is 8 to 128 characters of letters, digits, `-`, `_` and `.`.
fn nonce_ok(nonce: &str) -> bool {
    (8..=128).contains(&nonce.len())
        && nonce
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

impl Signature {
    async fn verify(&self, exchange: &mut Exchange) -> Result<super::Identity, GatewayError> {
        let app_key = required(exchange, &APP_KEY)?.to_string();
        let timestamp = required(exchange, &TIMESTAMP)?.to_string();
        let nonce = required(exchange, &NONCE)?.to_string();
        let signature = required(exchange, &SIGNATURE)?;
        let signature = base64::engine::general_purpose::STANDARD
            .decode(signature)
            .map_err(|_| invalid("X-Signature is not base64"))?;
        if !nonce_ok(&nonce) {
            return Err(invalid(
                "X-Nonce must be 8 to 128 letters, digits, '-', '_' or '.'",
            ));
        }
        let sent_at: u64 = timestamp
            .parse()
            .map_err(|_| invalid("X-Timestamp must be milliseconds since the Unix epoch"))?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis() as u64;
        let skew = self.clock_skew.as_millis() as u64;
        if sent_at.abs_diff(now) > skew {
            return Err(GatewayError::new(
                ErrorKind::SignatureExpired,
                format!(
                    "X-Timestamp is {} ms from the gateway's clock; the window is {} ms either way",
                    sent_at.abs_diff(now),
                    skew
                ),
            ));
        }
        let signed_headers = self.signed_headers(exchange)?;
        let consumer = self
            .consumers
            .by_app_key(&app_key)
            .cloned()
            .ok_or_else(|| invalid(format!("app key `{app_key}` is not known")))?;
        let body = exchange.body().await?;
        let text = string_to_sign(&Parts {
            method: exchange.method.as_str(),
            path: &exchange.path,
            query: &exchange.query,
            headers: &exchange.headers,
            signed_headers: &signed_headers,
            app_key: &app_key,
            timestamp: &timestamp,
            nonce: &nonce,
            body: &body,
        });
        // Every live secret is tried: during a rotation either one signs. `verify` compares in constant
        // time.
        let credential = consumer
            .live_hmac()
            .find(|secret| hmac::verify(&secret.key, text.as_bytes(), &signature).is_ok())
            .map(|secret| secret.id.clone())
            .ok_or_else(|| {
                invalid("the signature does not verify: check the string to sign and the secret")
            })?;
        ensure_enabled(&consumer)?;
        check_nonce(
            &self.nonces,
            &app_key,
            &nonce,
            self.clock_skew * 2,
            self.on_store_down,
        )
        .await?;
        Ok(consumer_identity(&consumer, "signature", &credential))
    }

    /// The headers signed: those the client lists, which must include the required ones.
    fn signed_headers(&self, exchange: &Exchange) -> Result<Vec<String>, GatewayError> {
        let listed = exchange
            .headers
            .get(&SIGNED_HEADERS)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).to_ascii_lowercase())
            .unwrap_or_default();
        let mut names: Vec<String> = listed
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_string)
            .collect();
        names.sort();
        names.dedup();
        for name in &names {
            if !exchange.headers.contains_key(name.as_str()) {
                return Err(invalid(format!(
                    "signed header `{name}` is not in the request"
                )));
            }
        }
        if let Some(missing) = self.required_headers.iter().find(|r| !names.contains(r)) {
            return Err(invalid(format!(
                "this API needs the signature to cover the `{missing}` header (list it in X-Signed-Headers)"
            )));
        }
        Ok(names)
    }
}

#[async_trait]
impl Interceptor for Signature {
    async fn intercept(
        &self,
        mut exchange: Exchange,
        next: Next<'_>,
    ) -> Result<Reply, GatewayError> {
        if !exchange.headers.contains_key(&SIGNATURE) && !exchange.headers.contains_key(&APP_KEY) {
            return next.run(exchange).await;
        }
        let identity = self.verify(&mut exchange).await?;
        for name in [APP_KEY, TIMESTAMP, NONCE, SIGNED_HEADERS, SIGNATURE] {
            exchange.headers.remove(name);
        }
        authenticated(&mut exchange, identity, &self.usage);
        next.run(exchange).await
    }
}
