//! Upstreams shared across snapshots: a reload that leaves a backend's definition unchanged keeps its
//! connections, its ejections and its health-check verdicts.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use api_model::Backend;

use super::client::client;
use super::upstream::Upstream;

#[derive(Clone, Default)]
pub struct UpstreamPool {
    /// By the backend's whole definition (as JSON): any change makes a new upstream.
    upstreams: Arc<Mutex<HashMap<String, Arc<Upstream>>>>,
}

impl UpstreamPool {
    /// The backend's upstream, made (client, health checks) on first use.
    pub fn upstream(&self, backend: &Backend, base_dir: &Path) -> Result<Arc<Upstream>, String> {
        let key = key(backend);
        if let Some(upstream) = self.lock().get(&key) {
            return Ok(upstream.clone());
        }
        let settings = backend.http.clone().unwrap_or_default();
        let made = client(&settings, backend.connect_timeout, base_dir)
            .and_then(|client| Upstream::new(backend, client))
            .map(Arc::new)
            .map_err(|err| format!("backend `{}`: {err}", backend.name))?;
        // Another build may have raced us to the same key: keep the first, and check only it.
        let mut upstreams = self.lock();
        if let Some(first) = upstreams.get(&key) {
            return Ok(first.clone());
        }
        upstreams.insert(key, made.clone());
        drop(upstreams);
        if let Some(check) = settings.health_check {
            made.spawn_health_checks(check);
        }
        if let Some(dns) = settings.dns {
            super::dns::spawn(&made, dns);
        }
        Ok(made)
    }

    /// Whether every endpoint parses: the pure half of [`Self::upstream`], which compiling runs.
    pub fn check(backend: &Backend) -> Result<(), String> {
        for address in &backend.endpoints {
            super::endpoint::Endpoint::parse(address, 1)
                .map_err(|err| format!("backend `{}`: {err}", backend.name))?;
        }
        Ok(())
    }

    /// Drops upstreams no backend of the current snapshot uses (their health checks stop with them).
    pub fn retain(&self, backends: &[Backend]) {
        let keep: Vec<String> = backends.iter().map(key).collect();
        self.lock().retain(|key, _| keep.contains(key));
    }

    /// Every upstream's endpoints and health, for `/readyz`.
    pub fn status(&self) -> serde_json::Value {
        let mut upstreams: Vec<_> = self.lock().values().cloned().collect();
        upstreams.sort_by(|a, b| a.name.cmp(&b.name));
        upstreams.iter().map(|u| u.status()).collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Upstream>>> {
        // The map holds no invariant a panic could break.
        self.upstreams.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn key(backend: &Backend) -> String {
    serde_json::to_string(backend).unwrap_or_else(|_| backend.name.clone())
}
