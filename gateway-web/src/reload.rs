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
use std::time::SystemTime;

use tokio::task::JoinHandle;

use crate::snapshot::Snapshot;
use crate::source_status::{Origin, Provenance};
use crate::state::GatewayState;

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
