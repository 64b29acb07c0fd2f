//! Authentication interceptors, one file per mechanism, all at the authentication stage. Each looks for
//! its own credential: absent, it passes the request on untouched (another mechanism may authenticate
//! it); present and wrong, it refuses; present and right, it records the [`Identity`] and removes the
//! credential from the request, so a backend never sees a key, token or signature. The grant check
//! (`super::grants`) that follows refuses a request no mechanism authenticated.
//!
//! - `consumers`: the revision's consumers, indexed by app key, API-key hash and certificate hash.
//! - `api_key`, `signature` (the gateway's partner scheme, string to sign in `canonical`),
//!   `http_signature` (RFC 9421, structured fields in `structured`, `Content-Digest` in `digest`),
//!   `jwt` (with `verified_tokens`, the tokens it verified, reused until they expire), `external`,
//!   `certificate` (mTLS).

pub mod api_key;
pub mod canonical;
pub mod certificate;
pub mod consumers;
pub mod digest;
pub mod external;
pub mod http_signature;
pub mod jwt;
pub mod signature;
pub mod structured;
pub mod verified_tokens;

use std::sync::Arc;
use std::time::Duration;

use api_model::policy::NonceFallback;

use crate::access::{Exchange, Identity};
use crate::error::{ErrorKind, GatewayError};
use crate::stores::nonces::Verdict;
use crate::stores::{CredentialUsage, NonceStore};

/// Records who the request is. A request that presents two credentials keeps the first identity; the
/// second was still verified (a wrong credential is refused whatever else came with it).
fn authenticated(exchange: &mut Exchange, identity: Identity, usage: &CredentialUsage) {
    authenticated_as(exchange, Arc::new(identity), usage);
}

/// The same, with an identity already shared (a verdict reused from a cache).
fn authenticated_as(exchange: &mut Exchange, identity: Arc<Identity>, usage: &CredentialUsage) {
    usage.touch(&identity.credential);
    if exchange.identity.is_none() {
        exchange.identity = Some(identity);
    }
}

/// An identity for a registered consumer.
fn consumer_identity(
    consumer: &consumers::ConsumerEntry,
    method: &'static str,
    credential: &str,
) -> Identity {
    Identity {
        consumer: Some(consumer.name.clone()),
        subject: consumer.name.clone(),
        method,
        credential: credential.to_string(),
        downstream: Vec::new(),
    }
}

/// A disabled consumer is refused whatever it presents.
fn ensure_enabled(consumer: &consumers::ConsumerEntry) -> Result<(), GatewayError> {
    if consumer.enabled {
        Ok(())
    } else {
        Err(GatewayError::new(
            ErrorKind::PermissionDenied,
            format!("consumer `{}` is disabled", consumer.name),
        ))
    }
}

/// Records a signature's nonce for `window`: refused when seen before on any node, and, when the
/// shared store cannot say, as the policy's fallback decides.
async fn check_nonce(
    nonces: &NonceStore,
    app_key: &str,
    nonce: &str,
    window: Duration,
    fallback: NonceFallback,
) -> Result<(), GatewayError> {
    match nonces.check(app_key, nonce, window, fallback).await {
        Ok(Verdict::Fresh) => Ok(()),
        Ok(Verdict::Replayed) => Err(GatewayError::new(
            ErrorKind::NonceReplayed,
            "this nonce was already used: every signed request needs a new one",
        )),
        Err(_) => Err(GatewayError::new(
            ErrorKind::AuthUnavailable,
            "the nonce store is unreachable, so a replay cannot be ruled out; retry shortly",
        )),
    }
}
