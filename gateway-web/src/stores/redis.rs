//! The node's connection to the shared Redis: made on first use (a node starts, and a revision
//! compiles, without it), kept by redis' `ConnectionManager` (which reconnects by itself), and bounded
//! in time on every call. While Redis is unreachable, calls fail at once for a short while instead of
//! each waiting out a timeout, and the change is logged once each way.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::redis_target::{Connection, Target};

/// How long one command may take before Redis counts as unreachable.
const COMMAND_TIMEOUT: Duration = Duration::from_millis(250);
/// After a failure, calls fail fast for this long before Redis is tried again.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// Redis could not answer in time, or is not configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unreachable;

pub struct RedisStore {
    target: Target,
    /// The live connection, cloned per call (a handle: every clone shares the one connection).
    connection: Mutex<Option<Connection>>,
    /// Held while a connection is being made, so concurrent first calls make one.
    connecting: tokio::sync::Mutex<()>,
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
    /// Parses the URL (`redis://[:password@]host:port[/db]`, `rediss://` with TLS, or a cluster or
    /// sentinels as `redis_target` reads them); connects later.
    pub fn new(url: &str) -> Result<RedisStore, String> {
        let (target, address) = Target::parse(url)?;
        Ok(RedisStore {
            address,
            target,
            connection: Mutex::new(None),
            connecting: tokio::sync::Mutex::new(()),
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
        self.bounded(async {
            let mut connection = self.connection().await?;
            let result = command.query_async(&mut connection).await;
            self.after(&connection, &result);
            result
        })
        .await
    }

    /// Runs a Lua script (EVALSHA, loading it when Redis lacks it) within the same bounds as [`query`].
    pub async fn script<T: redis::FromRedisValue>(
        &self,
        invocation: &redis::ScriptInvocation<'_>,
    ) -> Result<T, Unreachable> {
        self.bounded(async {
            let mut connection = self.connection().await?;
            let result = invocation.invoke_async(&mut connection).await;
            self.after(&connection, &result);
            result
        })
        .await
    }

    /// Fails fast while Redis is marked down; otherwise runs `call` within the timeout and records
    /// the outcome (logging each switch between reachable and not once).
    async fn bounded<T>(
        &self,
        call: impl Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, Unreachable> {
        let now = self.epoch.elapsed().as_millis() as u64;
        if now < self.down_until.load(Ordering::Relaxed) {
            return Err(Unreachable);
        }
        match tokio::time::timeout(COMMAND_TIMEOUT, call).await {
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

    fn cached(&self) -> Option<Connection> {
        self.connection
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    async fn connection(&self) -> redis::RedisResult<Connection> {
        if let Some(connection) = self.cached() {
            return Ok(connection);
        }
        let _making = self.connecting.lock().await;
        if let Some(connection) = self.cached() {
            return Ok(connection);
        }
        let made = self.target.connect(COMMAND_TIMEOUT).await?;
        *self.connection.lock().unwrap_or_else(|p| p.into_inner()) = Some(made.clone());
        Ok(made)
    }

    /// A connection that cannot find its way back by itself (a sentinel's primary) is dropped after an
    /// error, so the next call asks where the primary is now.
    fn after<T>(&self, connection: &Connection, result: &redis::RedisResult<T>) {
        if result.is_err() && connection.is_disposable() {
            *self.connection.lock().unwrap_or_else(|p| p.into_inner()) = None;
        }
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
