//! `GatewayState`: what every request shares (the serving snapshot, the global chain) and what builds
//! the next snapshot (the settings, the pooled connections, where the serving revision came from).

use std::path::PathBuf;
use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::catalog::BuildContext;
use crate::interceptors::{Interceptor, chain};
use crate::settings::Settings;
use crate::snapshot::Snapshot;
use crate::source_status::SourceStatus;
use crate::stores::{RedisStore, Services};

/// Shared by every request: the current snapshot and what builds the next one.
pub struct GatewayState {
    pub settings: Settings,
    pub snapshot: ArcSwap<Snapshot>,
    /// Interceptors that run before routing, for every request.
    pub global_chain: Vec<Arc<dyn Interceptor>>,
    pub build_context: BuildContext,
    /// Where the serving revision came from and whether the store is reachable, for `/readyz`.
    pub source: SourceStatus,
}

impl GatewayState {
    /// Fails only on settings that cannot work (a Redis URL that does not parse).
    pub fn new(settings: Settings) -> anyhow::Result<Self> {
        let redis = match &settings.redis_url {
            Some(url) => Some(Arc::new(
                RedisStore::new(url.expose()).map_err(anyhow::Error::msg)?,
            )),
            None => None,
        };
        let services = Services::new(redis, settings.secret_key.clone());
        let base_dir = settings
            .config_path
            .parent()
            .map(|dir| {
                if dir.as_os_str().is_empty() {
                    PathBuf::from(".")
                } else {
                    dir.to_path_buf()
                }
            })
            .unwrap_or_else(|| PathBuf::from("."));
        Ok(GatewayState {
            settings,
            snapshot: ArcSwap::from_pointee(Snapshot::empty()),
            global_chain: chain::global_chain(),
            build_context: BuildContext {
                base_dir,
                services,
                ..BuildContext::default()
            },
            source: SourceStatus::default(),
        })
    }
}
