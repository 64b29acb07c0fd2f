//! When each credential was last used, for the portal to show: a successful authentication records
//! the credential's id in the Redis hash `gw:credential_last_used` (unix milliseconds), at most once a
//! minute per credential per node, in the background. Redis down: nothing is recorded, nothing fails.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::redis::RedisStore;

/// The Redis hash the portal reads.
pub const KEY: &str = "gw:credential_last_used";
const EVERY: Duration = Duration::from_secs(60);

pub struct CredentialUsage {
    redis: Option<Arc<RedisStore>>,
    written: Mutex<HashMap<String, Instant>>,
}

impl CredentialUsage {
    pub fn new(redis: Option<Arc<RedisStore>>) -> Self {
        CredentialUsage {
            redis,
            written: Mutex::new(HashMap::new()),
        }
    }

    pub fn touch(&self, credential: &str) {
        let Some(redis) = &self.redis else {
            return;
        };
        if credential.is_empty() {
            return;
        }
        {
            let mut written = self.written.lock().unwrap_or_else(|p| p.into_inner());
            if written
                .get(credential)
                .is_some_and(|at| at.elapsed() < EVERY)
            {
                return;
            }
            written.insert(credential.to_string(), Instant::now());
        }
        let redis = redis.clone();
        let credential = credential.to_string();
        let millis = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis() as u64;
        tokio::spawn(async move {
            let mut command = redis::cmd("HSET");
            command.arg(KEY).arg(&credential).arg(millis);
            let _ = redis.query::<i64>(&command).await;
        });
    }
}
