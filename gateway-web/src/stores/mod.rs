//! What policies share beyond one snapshot and, through Redis, beyond one node: the Redis connection,
//! the nonce store, JWKS documents, the key that opens sealed secrets, when each credential was last
//! used. A snapshot's interceptors hold handles to these; nothing here is created per request, and
//! nothing connects until it is first used (compiling a revision does no I/O).

pub mod jwks;
pub mod nonces;
pub mod redis;
pub mod secret_key;
pub mod usage;

use std::sync::Arc;

pub use jwks::JwksRegistry;
pub use nonces::NonceStore;
pub use redis::RedisStore;
pub use secret_key::SecretKey;
pub use usage::CredentialUsage;

#[derive(Clone)]
pub struct Services {
    /// Opens `secret_encrypted` values; `None` when the node has no `GATEWAY_SECRET_KEY`.
    pub secret_key: Option<Arc<SecretKey>>,
    pub redis: Option<Arc<RedisStore>>,
    pub nonces: Arc<NonceStore>,
    pub jwks: JwksRegistry,
    /// For JWKS fetches and external authentication (not the hot path of ordinary calls).
    pub http: reqwest::Client,
    pub usage: Arc<CredentialUsage>,
}

impl Default for Services {
    /// No Redis, no secret key: what a check without a node behind it uses.
    fn default() -> Self {
        Services::new(None, None)
    }
}

impl Services {
    pub fn new(redis: Option<Arc<RedisStore>>, secret_key: Option<Arc<SecretKey>>) -> Self {
        Services {
            secret_key,
            nonces: Arc::new(NonceStore::new(redis.clone())),
            usage: Arc::new(CredentialUsage::new(redis.clone())),
            redis,
            jwks: JwksRegistry::default(),
            http: reqwest::Client::new(),
        }
    }
}
