//! Where the serving revision came from and whether the definitions store is reachable: written by the
//! reload task, read by `/readyz`, never by the hot path.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::SystemTime;

use arc_swap::ArcSwap;

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

    pub(crate) fn set_store(&self, store: StoreState) {
        let value = match store {
            StoreState::None => 0,
            StoreState::Connected => 1,
            StoreState::Unreachable => 2,
        };
        self.store.store(value, Ordering::Relaxed);
    }

    pub(crate) fn set_provenance(&self, provenance: Provenance) {
        self.provenance.store(Arc::new(Some(provenance)));
    }
}
