//! Nonces seen within a signature's validity window, so a signed request is accepted once on any node.
//! The shared record is Redis: `SET gw:nonce:<app>:<nonce> 1 NX PX <window>`, one round trip that both
//! checks and records. When Redis cannot be reached each policy says what happens: refuse, or check
//! against this node's own memory (a replay on this node is still caught; one on another node is not,
//! and every such acceptance is counted).

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use api_model::policy::NonceFallback;

use super::redis::RedisStore;

/// Most nonces the local fallback keeps; beyond it, expired ones are dropped, and if none is, the
/// fallback refuses rather than grow without bound.
const LOCAL_CAPACITY: usize = 1_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Fresh,
    Replayed,
}

/// Neither Redis nor (by the policy) the local memory could decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreDown;

#[derive(Default)]
pub struct NonceStore {
    redis: Option<std::sync::Arc<RedisStore>>,
    local: Mutex<HashMap<String, Instant>>,
    /// Nonces accepted on local memory alone because Redis was unreachable.
    pub local_acceptances: AtomicU64,
    /// Requests refused because Redis was unreachable and the policy said refuse.
    pub refusals: AtomicU64,
}

impl NonceStore {
    pub fn new(redis: Option<std::sync::Arc<RedisStore>>) -> Self {
        NonceStore {
            redis,
            ..NonceStore::default()
        }
    }

    /// Records `nonce` of `app` for `window`, saying whether it was new.
    pub async fn check(
        &self,
        app: &str,
        nonce: &str,
        window: Duration,
        fallback: NonceFallback,
    ) -> Result<Verdict, StoreDown> {
        let key = format!("gw:nonce:{app}:{nonce}");
        if let Some(redis) = &self.redis {
            let mut command = redis::cmd("SET");
            command
                .arg(&key)
                .arg(1)
                .arg("NX")
                .arg("PX")
                .arg(window.as_millis().max(1) as u64);
            if let Ok(set) = redis.query::<Option<String>>(&command).await {
                return Ok(if set.is_some() {
                    Verdict::Fresh
                } else {
                    Verdict::Replayed
                });
            }
        }
        match fallback {
            NonceFallback::Refuse => {
                self.refusals.fetch_add(1, Ordering::Relaxed);
                Err(StoreDown)
            }
            NonceFallback::Local => {
                let verdict = self.check_locally(key, window)?;
                if verdict == Verdict::Fresh {
                    self.local_acceptances.fetch_add(1, Ordering::Relaxed);
                }
                Ok(verdict)
            }
        }
    }

    fn check_locally(&self, key: String, window: Duration) -> Result<Verdict, StoreDown> {
        let now = Instant::now();
        let mut seen = self.local.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(expires) = seen.get(&key)
            && *expires > now
        {
            return Ok(Verdict::Replayed);
        }
        if seen.len() >= LOCAL_CAPACITY {
            seen.retain(|_, expires| *expires > now);
            if seen.len() >= LOCAL_CAPACITY {
                return Err(StoreDown);
            }
        }
        seen.insert(key, now + window);
        Ok(Verdict::Fresh)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn without_redis_the_policy_decides() {
        let store = NonceStore::new(None);
        let window = Duration::from_secs(60);
        assert_eq!(
            store
                .check("app", "n1", window, NonceFallback::Refuse)
                .await,
            Err(StoreDown)
        );
        assert_eq!(
            store.check("app", "n1", window, NonceFallback::Local).await,
            Ok(Verdict::Fresh)
        );
        assert_eq!(
            store.check("app", "n1", window, NonceFallback::Local).await,
            Ok(Verdict::Replayed)
        );
        // The same nonce from another app is its own.
        assert_eq!(
            store
                .check("other", "n1", window, NonceFallback::Local)
                .await,
            Ok(Verdict::Fresh)
        );
        assert_eq!(store.local_acceptances.load(Ordering::Relaxed), 2);
        assert_eq!(store.refusals.load(Ordering::Relaxed), 1);
    }
}
