//! The connections to one provider address. Each connection slot has exactly one task that keeps it up:
//! connect, serve until closed, wait a backoff, connect again. Calls never connect; while a slot is down
//! they see it as absent and go elsewhere or fail fast.
//!
//! While no slot is up, only the first one probes the provider (one connect attempt per backoff, never
//! one per slot); the others wait for it. A connect that succeeds, or a registry event naming the
//! address ([`ProviderLink::wake`]), starts every waiting slot at once with its backoff reset, so a
//! provider that comes back is used within the capped wait (1 s by default).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use arc_swap::ArcSwapOption;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep, timeout};

use super::backoff::Backoff;
use super::connection::{self, Connection, Limits};

/// A connection that stayed up this long proves the provider healthy: the next failure starts the
/// backoff over. Shorter ones (a provider that accepts and drops) keep backing off.
const HEALTHY_AFTER: Duration = Duration::from_secs(1);

/// How connections to a provider are made and kept; providers with equal settings share connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct LinkSettings {
    pub connections: usize,
    pub heartbeat: Duration,
    pub payload_limit: usize,
    pub connect_timeout: Duration,
    pub backoff_min: Duration,
    pub backoff_max: Duration,
}

pub(crate) struct ProviderLink {
    slots: Vec<Arc<ArcSwapOption<Connection>>>,
    next: AtomicUsize,
    /// Bumped when a slot connects or the registry names the address again: waiting slots go.
    wake: watch::Sender<u64>,
    /// Aborted on drop: a provider nobody uses any more stops reconnecting and closes its sockets.
    tasks: Vec<JoinHandle<()>>,
}

impl ProviderLink {
    /// Starts connecting right away (pre-warm), one task per connection slot. Must be called within
    /// a Tokio runtime.
    pub fn start(address: &str, settings: LinkSettings, attempts: Arc<AtomicU64>) -> Self {
        let slots: Vec<_> = (0..settings.connections.max(1))
            .map(|_| Arc::new(ArcSwapOption::empty()))
            .collect();
        let (wake, _) = watch::channel(0);
        let tasks = (0..slots.len())
            .map(|index| {
                tokio::spawn(keep_connected(Slot {
                    address: address.to_string(),
                    index,
                    slots: slots.clone(),
                    settings,
                    attempts: attempts.clone(),
                    wake: wake.clone(),
                }))
            })
            .collect();
        Self {
            slots,
            next: AtomicUsize::new(0),
            wake,
            tasks,
        }
    }

    /// The registry lists this address (again): a slot waiting out its backoff connects now. Costs
    /// nothing when every slot is up.
    pub fn wake(&self) {
        if self.slots.iter().any(|slot| slot.load().is_none()) {
            self.wake.send_modify(|generation| *generation += 1);
        }
    }

    pub fn is_connected(&self) -> bool {
        self.slots
            .iter()
            .any(|slot| slot.load().as_ref().is_some_and(|c| c.is_open()))
    }

    /// An open connection, round robin over the slots that have one.
    pub fn connection(&self) -> Option<Connection> {
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        (0..self.slots.len()).find_map(|offset| {
            let slot = &self.slots[(start + offset) % self.slots.len()];
            slot.load()
                .as_ref()
                .filter(|connection| connection.is_open())
                .map(|connection| Connection::clone(connection))
        })
    }

    /// Calls waiting on this provider's connections.
    #[cfg(test)]
    pub fn pending(&self) -> usize {
        self.slots
            .iter()
            .filter_map(|slot| slot.load_full())
            .map(|connection| connection.pending())
            .sum()
    }
}

impl Drop for ProviderLink {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// One connection slot's view of its link.
struct Slot {
    address: String,
    index: usize,
    slots: Vec<Arc<ArcSwapOption<Connection>>>,
    settings: LinkSettings,
    attempts: Arc<AtomicU64>,
    wake: watch::Sender<u64>,
}

impl Slot {
    fn provider_up(&self) -> bool {
        self.slots
            .iter()
            .any(|slot| slot.load().as_ref().is_some_and(|c| c.is_open()))
    }
}

/// The one reconnect loop of a slot. It runs until the link is dropped.
async fn keep_connected(slot: Slot) {
    let Slot {
        ref address,
        settings,
        ..
    } = slot;
    let limits = Limits {
        heartbeat: settings.heartbeat,
        payload_limit: settings.payload_limit,
    };
    let mut woken = slot.wake.subscribe();
    let mut backoff = Backoff::new(settings.backoff_min, settings.backoff_max);
    // Logged at warn once per outage, then at debug, so a provider that is down does not flood logs.
    let mut outage_reported = false;
    loop {
        slot.attempts.fetch_add(1, Ordering::Relaxed);
        match timeout(settings.connect_timeout, TcpStream::connect(address)).await {
            Ok(Ok(stream)) => {
                // Requests are small and latency-bound; batching already happens in the writer.
                let _ = stream.set_nodelay(true);
                let (connection, driver) = connection::start(stream, limits);
                slot.slots[slot.index].store(Some(Arc::new(connection)));
                // The provider answers: the slots waiting for this one connect now.
                slot.wake.send_modify(|generation| *generation += 1);
                tracing::info!(%address, "dubbo provider connected");
                outage_reported = false;
                let up_since = Instant::now();
                let reason = driver.closed().await;
                slot.slots[slot.index].store(None);
                tracing::warn!(%address, %reason, "dubbo provider connection closed; reconnecting");
                if up_since.elapsed() >= HEALTHY_AFTER {
                    backoff.reset();
                }
            }
            Ok(Err(err)) if !outage_reported => {
                outage_reported = true;
                tracing::warn!(%address, error = %err, "dubbo provider unreachable; retrying with backoff");
            }
            Ok(Err(err)) => {
                tracing::debug!(%address, error = %err, "dubbo provider still unreachable")
            }
            Err(_) => tracing::debug!(%address, "dubbo provider connect timed out"),
        }
        // Seen before the check below, so a wake sent after it is never missed.
        woken.borrow_and_update();
        if slot.index == 0 || slot.provider_up() {
            tokio::select! {
                () = sleep(backoff.next_wait()) => {}
                Ok(()) = woken.changed() => backoff.reset(),
            }
        } else {
            match woken.changed().await {
                // The first slot reached the provider (or the registry named it): no backoff to wait.
                Ok(()) => backoff.reset(),
                Err(_) => sleep(backoff.next_wait()).await,
            }
        }
    }
}
