//! One HTTP/2 channel per backend, kept across config snapshots so a reload never reconnects (and never
//! fails an in-flight call) for a backend whose endpoints did not change.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use api_model::Backend;
use tonic::transport::{Channel, Endpoint};

/// Identifies a channel: same endpoints and settings share one.
#[derive(Clone, PartialEq, Eq, Hash)]
struct ChannelKey {
    endpoints: Vec<String>,
    connect_timeout: Duration,
}

#[derive(Clone, Default)]
pub struct ChannelPool {
    channels: Arc<Mutex<HashMap<ChannelKey, Channel>>>,
}

impl ChannelPool {
    /// The backend's channel, made on first use. A single endpoint is dialled right away (pre-warmed) when
    /// it answers within the connect timeout; otherwise the channel connects lazily and retries per call,
    /// so a backend that is down at publish time does not block or fail the snapshot.
    pub async fn channel(&self, backend: &Backend) -> Result<Channel, String> {
        let key = ChannelKey {
            endpoints: backend.endpoints.clone(),
            connect_timeout: backend.connect_timeout,
        };
        if let Some(channel) = self.lock().get(&key) {
            return Ok(channel.clone());
        }
        let endpoints = backend
            .endpoints
            .iter()
            .map(|address| endpoint(address, backend.connect_timeout))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|err| format!("backend `{}`: {err}", backend.name))?;
        let channel = match endpoints.as_slice() {
            [single] => match single.connect().await {
                Ok(channel) => channel,
                Err(err) => {
                    tracing::warn!(backend = %backend.name, error = %err, "backend not reachable yet; will connect on demand");
                    single.connect_lazy()
                }
            },
            _ => Channel::balance_list(endpoints.into_iter()),
        };
        // Another build may have raced us to the same key; keep the first so all callers share it.
        Ok(self.lock().entry(key).or_insert(channel).clone())
    }

    /// Whether every endpoint of the backend is a valid address (the pure half of [`Self::channel`]).
    pub fn check(backend: &Backend) -> Result<(), String> {
        for address in &backend.endpoints {
            endpoint(address, backend.connect_timeout)
                .map_err(|err| format!("backend `{}`: {err}", backend.name))?;
        }
        Ok(())
    }

    /// Drops channels no backend of the current snapshot uses.
    pub fn retain(&self, backends: &[Backend]) {
        let keep: Vec<ChannelKey> = backends
            .iter()
            .map(|b| ChannelKey {
                endpoints: b.endpoints.clone(),
                connect_timeout: b.connect_timeout,
            })
            .collect();
        self.lock().retain(|key, _| keep.contains(key));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ChannelKey, Channel>> {
        // The map holds no invariant a panic could break; a poisoned lock is still usable.
        self.channels
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn endpoint(address: &str, connect_timeout: Duration) -> Result<Endpoint, String> {
    let uri = if address.contains("://") {
        address.to_string()
    } else {
        format!("http://{address}")
    };
    Endpoint::from_shared(uri)
        .map(|e| {
            e.connect_timeout(connect_timeout)
                .tcp_nodelay(true)
                .http2_keep_alive_interval(Duration::from_secs(30))
                .keep_alive_timeout(Duration::from_secs(10))
                .keep_alive_while_idle(true)
        })
        .map_err(|err| format!("invalid endpoint `{address}`: {err}"))
}
