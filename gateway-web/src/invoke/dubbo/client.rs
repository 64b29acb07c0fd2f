//! The client of one Dubbo service: picks a connected provider that matches the call (round robin or
//! random), sends the call over that provider's shared connection and decodes the answer. It follows
//! the provider set as it changes, connecting to new providers at once and releasing removed ones.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use arc_swap::ArcSwap;
use tokio::task::JoinHandle;

use super::backoff::random_below;
use super::call::{DubboReply, Invocation};
use super::discovery::{Provider, ProviderSet};
use super::error::DubboError;
use super::pool::DubboPool;
use super::provider::{LinkSettings, ProviderLink};
use super::{request, response};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Balance {
    #[default]
    RoundRobin,
    Random,
}

#[derive(Debug, Clone)]
pub struct ClientSettings {
    /// Connections kept to each provider (calls are multiplexed over them).
    pub connections_per_provider: usize,
    /// Write-idleness before a heartbeat; three times this without reading anything closes the
    /// connection. Zero disables heartbeats.
    pub heartbeat: Duration,
    /// Largest body sent or accepted.
    pub payload_limit: usize,
    pub connect_timeout: Duration,
    /// Reconnect waits grow from `backoff_min` to `backoff_max`, with full jitter.
    pub backoff_min: Duration,
    pub backoff_max: Duration,
    pub balance: Balance,
}

impl Default for ClientSettings {
    fn default() -> Self {
        Self {
            connections_per_provider: 1,
            heartbeat: Duration::from_secs(60),
            payload_limit: 8 * 1024 * 1024,
            connect_timeout: Duration::from_secs(2),
            backoff_min: Duration::from_millis(100),
            backoff_max: Duration::from_secs(1),
            balance: Balance::RoundRobin,
        }
    }
}

impl ClientSettings {
    fn link(&self) -> LinkSettings {
        LinkSettings {
            connections: self.connections_per_provider.max(1),
            heartbeat: self.heartbeat,
            payload_limit: self.payload_limit,
            connect_timeout: self.connect_timeout,
            backoff_min: self.backoff_min,
            backoff_max: self.backoff_max,
        }
    }
}

#[derive(Clone)]
pub struct DubboClient {
    inner: Arc<Inner>,
}

struct Inner {
    pool: DubboPool,
    settings: ClientSettings,
    link: LinkSettings,
    /// The providers of the current set, each with its connections.
    live: ArcSwap<Vec<Live>>,
    next: AtomicUsize,
    /// Follows the provider set; aborted when the last clone of the client goes.
    watcher: Mutex<Option<JoinHandle<()>>>,
}

struct Live {
    provider: Provider,
    link: Arc<ProviderLink>,
}

impl DubboClient {
    /// Connects to every provider of the set right away. Must be called within a Tokio runtime.
    pub fn new(providers: ProviderSet, pool: DubboPool, settings: ClientSettings) -> Self {
        let link = settings.link();
        let inner = Arc::new(Inner {
            pool,
            settings,
            link,
            live: ArcSwap::from_pointee(Vec::new()),
            next: AtomicUsize::new(0),
            watcher: Mutex::new(None),
        });
        let mut rx = providers.receiver();
        let first = rx.borrow_and_update().clone();
        inner.sync(&first);
        let weak = Arc::downgrade(&inner);
        let watcher = tokio::spawn(async move {
            while rx.changed().await.is_ok() {
                let current = rx.borrow_and_update().clone();
                let Some(inner) = Weak::upgrade(&weak) else {
                    break;
                };
                inner.sync(&current);
            }
        });
        *inner.watcher.lock().unwrap_or_else(|p| p.into_inner()) = Some(watcher);
        Self { inner }
    }

    pub async fn invoke(&self, call: Invocation) -> Result<DubboReply, DubboError> {
        let (provider, connection) = self.inner.pick(&call)?;
        let version = call.version.as_deref().or(provider.version.as_deref());
        let group = call.group.as_deref().or(provider.group.as_deref());
        let frame = request::encode(&call, version, group, self.inner.settings.payload_limit)?;
        let answer = connection.call(frame, call.timeout).await?;
        response::decode(&answer)
    }

    /// Calls waiting for an answer on this client's providers.
    #[cfg(test)]
    pub(crate) fn pending(&self) -> usize {
        self.inner
            .live
            .load()
            .iter()
            .map(|live| live.link.pending())
            .sum()
    }

    /// Providers of the set with an open connection.
    #[cfg(test)]
    pub(crate) fn connected(&self) -> usize {
        self.inner
            .live
            .load()
            .iter()
            .filter(|live| live.link.is_connected())
            .count()
    }
}

impl Inner {
    /// A connected provider matching the call. When none is connected the call fails at once: the
    /// reconnect loops are already running, and waiting here would hold the caller for nothing.
    fn pick(
        &self,
        call: &Invocation,
    ) -> Result<(Provider, super::connection::Connection), DubboError> {
        let live = self.live.load();
        let candidates: Vec<&Live> = live
            .iter()
            .filter(|l| {
                l.provider
                    .matches(call.version.as_deref(), call.group.as_deref())
            })
            .filter(|l| l.link.is_connected())
            .collect();
        if candidates.is_empty() {
            return Err(DubboError::NoProvider(call.service.clone()));
        }
        let start = match self.settings.balance {
            Balance::RoundRobin => self.next.fetch_add(1, Ordering::Relaxed),
            Balance::Random => random_below(candidates.len() as u64) as usize,
        };
        // A connection can drop between the check and here; the next candidate then serves.
        (0..candidates.len())
            .find_map(|offset| {
                let live = candidates[(start + offset) % candidates.len()];
                live.link.connection().map(|c| (live.provider.clone(), c))
            })
            .ok_or_else(|| DubboError::NoProvider(call.service.clone()))
    }

    /// Brings the live list in line with the provider set: new addresses get (pooled, pre-warmed)
    /// connections, removed ones are released.
    fn sync(&self, providers: &[Provider]) {
        let old = self.live.load_full();
        let live: Vec<Live> = providers
            .iter()
            .map(|provider| {
                let known = old.iter().find(|l| l.provider.address == provider.address);
                let link = match known {
                    // Listed again by the registry: if it is down, it is worth a try now.
                    Some(known) => {
                        known.link.wake();
                        known.link.clone()
                    }
                    None => self.pool.link(&provider.address, self.link),
                };
                Live {
                    provider: provider.clone(),
                    link,
                }
            })
            .collect();
        let removed: Vec<String> = old
            .iter()
            .filter(|l| !providers.iter().any(|p| p.address == l.provider.address))
            .map(|l| l.provider.address.clone())
            .collect();
        self.live.store(Arc::new(live));
        drop(old);
        for address in removed {
            self.pool.release(&address, self.link);
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(watcher) = self
            .watcher
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            watcher.abort();
        }
    }
}
