//! The node's connection to the shared Redis: made on first use (a node starts, and a revision
//! compiles, without it), kept by redis' `ConnectionManager` (which reconnects by itself), and bounded
//! in time on every call. While Redis is unreachable, calls fail at once for a short while instead of
//! each waiting out a timeout, and the change is logged once each way.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

/// How long one command may take before Redis counts as unreachable.
const COMMAND_TIMEOUT: Duration = Duration::from_millis(250);
/// After a failure, calls fail fast for this long before Redis is tried again.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// Redis could not answer in time, or is not configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unreachable;

pub struct RedisStore {
    client: redis::Client,
    manager: tokio::sync::Mutex<Option<ConnectionManager>>,
    /// Milliseconds since `epoch` before which calls fail fast.
    down_until: AtomicU64,
    epoch: Instant,
    healthy: AtomicBool,
    /// Shown in logs without its password.
    address: String,
    last_error: Mutex<String>,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("address", &self.address)
            .finish()
    }
}

impl RedisStore {
    /// Parses the URL (`redis://[:password@]host:port[/db]`, `rediss://` with TLS); connects later.
    pub fn new(url: &str) -> Result<RedisStore, String> {
        let client = redis::Client::open(url).map_err(|err| format!("redis url: {err}"))?;
        let info = client.get_connection_info();
        Ok(RedisStore {
            address: info.addr.to_string(),
            client,
            manager: tokio::sync::Mutex::new(None),
            down_until: AtomicU64::new(0),
            epoch: Instant::now(),
            healthy: AtomicBool::new(true),
            last_error: Mutex::new(String::new()),
        })
    }

    /// Runs one command within the timeout; a failure marks Redis down for [`RETRY_AFTER`].
    pub async fn query<T: redis::FromRedisValue>(
        &self,
        command: &redis::Cmd,
    ) -> Result<T, Unreachable> {
        let now = self.epoch.elapsed().as_millis() as u64;
        if now < self.down_until.load(Ordering::Relaxed) {
            return Err(Unreachable);
        }
        match tokio::time::timeout(COMMAND_TIMEOUT, self.run(command)).await {
            Ok(Ok(value)) => {
                if !self.healthy.swap(true, Ordering::Relaxed) {
                    tracing::info!(redis = %self.address, "redis reachable again");
                }
                Ok(value)
            }
            Ok(Err(err)) => Err(self.failed(err.to_string())),
            Err(_) => Err(self.failed(format!("no answer within {COMMAND_TIMEOUT:?}"))),
        }
    }

    async fn run<T: redis::FromRedisValue>(&self, command: &redis::Cmd) -> redis::RedisResult<T> {
        let mut manager = {
            let mut slot = self.manager.lock().await;
            match slot.as_ref() {
                Some(manager) => manager.clone(),
                None => {
                    let config = ConnectionManagerConfig::new()
                        .set_connection_timeout(COMMAND_TIMEOUT)
                        .set_response_timeout(COMMAND_TIMEOUT)
                        .set_number_of_retries(1);
                    let made =
                        ConnectionManager::new_with_config(self.client.clone(), config).await?;
                    *slot = Some(made.clone());
                    made
                }
            }
        };
        command.query_async(&mut manager).await
    }

    fn failed(&self, why: String) -> Unreachable {
        let until = self.epoch.elapsed() + RETRY_AFTER;
        self.down_until
            .store(until.as_millis() as u64, Ordering::Relaxed);
        if self.healthy.swap(false, Ordering::Relaxed) {
            tracing::warn!(redis = %self.address, error = %why, "redis unreachable; each policy now follows its rule for a store that is down");
        }
        *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = why;
        Unreachable
    }

    /// Whether the last call reached Redis (for `/readyz`).
    pub fn is_healthy(&self) -> bool {
        self.healthy.load(Ordering::Relaxed)
    }
}
