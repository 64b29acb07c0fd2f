//! Provider discovery from a Dubbo registry: ZooKeeper nodes in, live `ProviderSet`s out.
//!
//! - `url`: one provider node name (a percent-encoded `dubbo://` URL) to a `Provider`.
//! - `session`: one ZooKeeper session per ensemble, reopened with backoff when it ends.
//! - `zookeeper`: one watcher per providers node, sessions and watchers shared across config
//!   snapshots through `Registries`.
//!
//! Registry layout (Dubbo's): `<root>/<interface>/providers/<url-encoded provider URL>`, root `/dubbo`
//! by default. Version and group stay in each `Provider`; the client filters by them.
//!
//! **Invariant:** a registry outage never empties a provider list; only a listing does.

mod session;
mod url;
mod zookeeper;

#[cfg(test)]
mod tests;

pub use url::{Wire, parse_provider_node};
pub use zookeeper::Registries;
