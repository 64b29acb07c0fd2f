//! What policies share beyond one snapshot and, through Redis, beyond one node: the Redis connection,
//! the nonce store, JWKS documents, the key that opens sealed secrets, when each credential was last
//! used, rate-limit counts, and the bulkheads, breakers and retry budgets of this node. A snapshot's interceptors hold handles to these; nothing here is created per request, and
//! nothing connects until it is first used (compiling a revision does no I/O).

pub mod breaker;
pub mod bulkhead;
pub mod jwks;
pub mod limiter;
pub mod nonces;
pub mod redis;
pub mod redis_target;
pub mod retry_budget;
pub mod secret_key;
pub mod shared_state;
pub mod usage;

use std::sync::Arc;

pub use breaker::Breaker;
pub use bulkhead::Bulkhead;
pub use jwks::JwksRegistry;
pub use limiter::Limiter;
pub use nonces::NonceStore;
pub use redis::RedisStore;
pub use retry_budget::RetryBudget;
pub use secret_key::SecretKey;
pub use shared_state::Registry;
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
    /// Rate-limit decisions (Redis, or the local fallback).
    pub limiter: Arc<Limiter>,
    /// Bulkheads, breakers and retry budgets by name; they outlive snapshots.
    pub bulkheads: Arc<Registry<Bulkhead>>,
    pub breakers: Arc<Registry<Breaker>>,
    pub retry_budgets: Arc<Registry<RetryBudget>>,
}

/// The `traffic` section of `/readyz`: how limits are being counted, and every breaker and bulkhead
/// of this node.
pub fn traffic_status(services: &Services) -> serde_json::Value {
    use std::sync::atomic::Ordering::Relaxed;
    let limiter = &services.limiter;
    let breakers: Vec<_> = services
        .breakers
        .all()
        .into_iter()
        .map(|(name, breaker)| {
            let (calls, failures, slow) = breaker.window();
            serde_json::json!({
                "name": name.split(" Circuit").next().unwrap_or(&name),
                "state": breaker.state(),
                "times_opened": breaker.times_opened(),
                "window": { "calls": calls, "failures": failures, "slow": slow },
            })
        })
        .collect();
    let bulkheads: Vec<_> = services
        .bulkheads
        .all()
        .into_iter()
        .map(|(name, bulkhead)| {
            serde_json::json!({
                "name": name.split(" Concurrency").next().unwrap_or(&name),
                "in_flight": bulkhead.in_flight(),
                "refused": bulkhead.refused.load(Relaxed),
            })
        })
        .collect();
    serde_json::json!({
        "rate_limits": if !limiter.has_store() { "local (no redis configured)" } else if limiter.is_degraded() { "fallback (redis unreachable)" } else { "redis" },
        "rate_limit_fallback_decisions": limiter.fallbacks.load(Relaxed),
        "live_nodes": limiter.live_nodes.load(Relaxed),
        "breakers": breakers,
        "bulkheads": bulkheads,
    })
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
            limiter: Arc::new(Limiter::new(redis.clone())),
            bulkheads: Arc::default(),
            breakers: Arc::default(),
            retry_budgets: Arc::default(),
            redis,
            jwks: JwksRegistry::default(),
            http: reqwest::Client::new(),
        }
    }
}
