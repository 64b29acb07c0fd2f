//! Provider connections shared by every client and every config snapshot: a reload that keeps a
//! provider keeps its connections, and two APIs on the same provider share them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use super::provider::{LinkSettings, ProviderLink};

type Key = (String, LinkSettings);

#[derive(Clone, Default)]
pub struct DubboPool {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    links: Mutex<HashMap<Key, Arc<ProviderLink>>>,
    attempts: Arc<AtomicU64>,
}

impl DubboPool {
    /// Total TCP connect attempts made by this pool's reconnect loops (for tests and metrics).
    pub fn connect_attempts(&self) -> u64 {
        self.inner.attempts.load(Ordering::Relaxed)
    }

    /// Keeps the connections to these addresses and lets go of the rest; a dropped provider's
    /// connections close once no client still lists it.
    pub fn retain(&self, addresses: &[String]) {
        self.lock()
            .retain(|(address, _), _| addresses.contains(address));
    }

    /// The provider's connections, started (pre-warmed) on first use.
    pub(crate) fn link(&self, address: &str, settings: LinkSettings) -> Arc<ProviderLink> {
        let key = (address.to_string(), settings);
        self.lock()
            .entry(key)
            .or_insert_with(|| {
                Arc::new(ProviderLink::start(
                    address,
                    settings,
                    self.inner.attempts.clone(),
                ))
            })
            .clone()
    }

    /// A client stopped listing the provider (discovery removed it): close its connections now if no
    /// other client holds them, instead of waiting for the next [`DubboPool::retain`].
    pub(crate) fn release(&self, address: &str, settings: LinkSettings) {
        let mut links = self.lock();
        let key = (address.to_string(), settings);
        // Only the pool holds it, and new holders can only come through this lock.
        if links
            .get(&key)
            .is_some_and(|link| Arc::strong_count(link) == 1)
        {
            links.remove(&key);
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Key, Arc<ProviderLink>>> {
        // The map holds no invariant a panic could break; a poisoned lock is still usable.
        self.inner
            .links
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
