//! Where definitions come from, and how a new revision replaces the serving one. Two sources:
//!
//! - `file`: standalone mode. A YAML file, polled (and checked at once on SIGHUP); the revision is a
//!   content hash.
//! - `postgres`: the definitions store. The newest row of `revisions` at start, then LISTEN on
//!   `gateway_revisions` with polling as a fallback; the revision is the row id. Every revision that built
//!   is persisted to a local snapshot file (`snapshot_file`), which boots the node when Postgres is down.
//!
//! Either way a revision is built off the hot path and swapped in atomically; one that fails to build is
//! refused with one log line and the serving snapshot stays; in-flight requests finish on the snapshot
//! they started with.

mod file;
mod postgres;
mod snapshot_file;

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::SystemTime;

use arc_swap::ArcSwap;
use tokio::task::JoinHandle;

use crate::catalog::Snapshot;
use crate::server::GatewayState;

pub use file::revision_of;

/// Loads the first revision (or refuses to start, saying why), then returns the task that keeps the
/// node current until it is aborted.
pub async fn start(state: &Arc<GatewayState>) -> anyhow::Result<JoinHandle<()>> {
    match state.settings.store.clone() {
        None => {
            file::load_initial(state).await?;
            Ok(tokio::spawn(file::watch(state.clone())))
        }
        Some(store) => postgres::start(state.clone(), store).await,
    }
}

/// Where the serving revision came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The standalone YAML file.
    File,
    /// The Postgres store.
    Postgres,
    /// The local copy of the last good revision, because Postgres was unreachable (or refused it).
    SnapshotFile,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::File => "file",
            Origin::Postgres => "postgres",
            Origin::SnapshotFile => "snapshot-file",
        }
    }
}

/// What `/readyz` reports about the source besides the snapshot itself.
#[derive(Debug, Clone)]
pub struct Provenance {
    pub revision: String,
    pub origin: Origin,
    /// When the revision was published (the store's `created_at`), when known.
    pub published_at: Option<SystemTime>,
}

/// The state of the definitions store, for `/readyz`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreState {
    /// Standalone mode: there is no store.
    None,
    Connected,
    Unreachable,
}

impl StoreState {
    pub fn as_str(self) -> Option<&'static str> {
        match self {
            StoreState::None => None,
            StoreState::Connected => Some("connected"),
            StoreState::Unreachable => Some("unreachable"),
        }
    }
}

/// Shared between the source task (writer) and `/readyz` (reader); never read by the hot path.
pub struct SourceStatus {
    provenance: ArcSwap<Option<Provenance>>,
    store: AtomicU8,
}

impl Default for SourceStatus {
    fn default() -> Self {
        SourceStatus {
            provenance: ArcSwap::from_pointee(None),
            store: AtomicU8::new(0),
        }
    }
}

impl SourceStatus {
    pub fn provenance(&self) -> Option<Provenance> {
        self.provenance.load().as_ref().clone()
    }

    pub fn store(&self) -> StoreState {
        match self.store.load(Ordering::Relaxed) {
            1 => StoreState::Connected,
            2 => StoreState::Unreachable,
            _ => StoreState::None,
        }
    }

    fn set_store(&self, store: StoreState) {
        let value = match store {
            StoreState::None => 0,
            StoreState::Connected => 1,
            StoreState::Unreachable => 2,
        };
        self.store.store(value, Ordering::Relaxed);
    }

    fn set_provenance(&self, provenance: Provenance) {
        self.provenance.store(Arc::new(Some(provenance)));
    }
}

/// Swaps in a built snapshot and records where it came from.
fn publish(
    state: &GatewayState,
    snapshot: Snapshot,
    origin: Origin,
    published_at: Option<SystemTime>,
) {
    let revision = snapshot.revision.clone();
    state.snapshot.store(Arc::new(snapshot));
    state.source.set_provenance(Provenance {
        revision,
        origin,
        published_at,
    });
}
