//! Static settings: what is fixed for the life of the process (listener limits, where definitions come
//! from), apart from the dynamic definitions themselves, which the file or the store supplies.

use std::path::PathBuf;
use std::time::Duration;

/// Static settings: fixed for the life of the process (dynamic config lives in the watched file or the
/// store).
#[derive(Debug, Clone)]
pub struct Settings {
    /// The standalone definitions file (YAML), watched for changes. Unused when `store` is set.
    pub config_path: PathBuf,
    /// Request bodies above this are refused with 413.
    pub max_body_bytes: usize,
    /// How often the config file is checked for changes.
    pub reload_interval: Duration,
    /// Postgres mode when set: definitions come from the store instead of `config_path`.
    pub store: Option<StoreSettings>,
    /// The Redis that nodes share (nonces; later limits and cache). Without it, policies that need
    /// it follow their rule for a store that is down. A `Secret`: the URL may hold a password.
    pub redis_url: Option<api_model::Secret>,
    /// Opens the sealed secrets of a revision (`GATEWAY_SECRET_KEY`).
    pub secret_key: Option<std::sync::Arc<crate::stores::SecretKey>>,
    /// Serve HTTPS (HTTP/2 and HTTP/1.1 by ALPN) instead of HTTP/1.1 and h2c.
    pub tls: Option<crate::access::tls::TlsSettings>,
    /// Per-connection defences: connections per client address, header and body read timeouts.
    pub connections: crate::access::connections::ConnectionLimits,
}

impl Settings {
    /// Standalone mode on a YAML file.
    pub fn new(config_path: impl Into<PathBuf>) -> Self {
        Settings {
            config_path: config_path.into(),
            max_body_bytes: 4 << 20,
            reload_interval: Duration::from_secs(1),
            store: None,
            redis_url: None,
            secret_key: None,
            tls: None,
            connections: Default::default(),
        }
    }

    /// Postgres mode: revisions from the store at `database_url`, the last good one kept in
    /// `snapshot_file`.
    pub fn postgres(database_url: impl Into<String>, snapshot_file: impl Into<PathBuf>) -> Self {
        Settings {
            store: Some(StoreSettings {
                database_url: database_url.into(),
                snapshot_file: snapshot_file.into(),
                poll_interval: Duration::from_secs(5),
            }),
            ..Settings::new(PathBuf::new())
        }
    }
}

/// The definitions store (Postgres mode).
#[derive(Clone)]
pub struct StoreSettings {
    /// `postgres://user:password@host:port/database`.
    pub database_url: String,
    /// Where the last good revision is persisted; the node boots from it when the store is down.
    pub snapshot_file: PathBuf,
    /// How often `max(id)` is polled, the fallback when a notification is missed.
    pub poll_interval: Duration,
}

impl std::fmt::Debug for StoreSettings {
    // The URL may carry a password: never print it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreSettings")
            .field("database_url", &"<redacted>")
            .field("snapshot_file", &self.snapshot_file)
            .field("poll_interval", &self.poll_interval)
            .finish()
    }
}
