//! Endpoints from a ZooKeeper registry: the HTTP providers a service registers (`http://`,
//! `https://`, Dubbo's `rest://`), followed through the same watchers the Dubbo clients use. Each
//! listing replaces the endpoint set at once; an address that stays keeps its health. A registry
//! outage keeps the last listing (the watcher's invariant); only a listing empties the pool.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use super::endpoint::Endpoint;
use super::upstream::Upstream;
use crate::invoke::dubbo::{Provider, ProviderSet};

/// How often a follower checks that its upstream still exists while the listing stays the same.
const LIVENESS: Duration = Duration::from_secs(5);

/// Applies the current listing now, then every change, until the upstream is dropped.
pub fn follow(upstream: &Arc<Upstream>, providers: ProviderSet, weights: BTreeMap<String, u32>) {
    apply(upstream, &providers.current(), &weights);
    let weak = Arc::downgrade(upstream);
    let mut changes = providers.receiver();
    tokio::spawn(async move {
        loop {
            let changed = tokio::time::timeout(LIVENESS, changes.changed()).await;
            let Some(upstream) = weak.upgrade() else {
                return;
            };
            match changed {
                Ok(Ok(())) => {
                    let listing = changes.borrow_and_update().clone();
                    apply(&upstream, &listing, &weights);
                }
                // The watcher is gone: keep the last listing.
                Ok(Err(_)) => return,
                Err(_) => {}
            }
        }
    });
}

fn apply(upstream: &Upstream, listing: &[Provider], weights: &BTreeMap<String, u32>) {
    let endpoints: Vec<Endpoint> = listing
        .iter()
        .filter_map(|provider| {
            let scheme = if provider.tls { "https" } else { "http" };
            let address = format!("{scheme}://{}", provider.address);
            let weight = weights.get(&address).copied().unwrap_or(1);
            Endpoint::parse(&address, weight)
                .map_err(
                    |err| tracing::warn!(backend = %upstream.name, %err, "a registered provider"),
                )
                .ok()
        })
        .collect();
    tracing::info!(backend = %upstream.name,
        endpoints = ?endpoints.iter().map(|e| e.address.as_str()).collect::<Vec<_>>(),
        "the registry listed the endpoints");
    upstream.replace_endpoints(endpoints);
}
