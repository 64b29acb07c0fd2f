//! Plain HTTP upstreams: pools of endpoints behind one backend name, balanced, health-checked and
//! ejected when they keep failing, over hyper's pooled client.
//!
//! - `endpoint`: one endpoint and its health (active verdict, passive ejection, requests in flight).
//! - `balance`: round-robin (smooth weights), least-request (two choices), consistent hash (ring).
//! - `upstream`: an upstream's endpoints, balancer and client; the per-request `Lease`; health checks.
//! - `client`: the pooled client (keep-alive, HTTP/2, TLS with SNI and client certificates).
//! - `pool`: upstreams shared across snapshots.
//! - `dns`: endpoints from DNS, resolved again on the answers' TTL.
//! - `registry`: endpoints from a ZooKeeper registry, followed as it changes.
//! - `status`: relay failures → error kinds.
//! - `tunnel`: an upgraded (WebSocket) connection joined to the upstream's.

mod balance;
mod client;
mod dns;
mod endpoint;
mod pool;
pub mod registry;
pub mod status;
pub mod tunnel;
mod upstream;

pub use client::{HttpClient, client};
pub use endpoint::Endpoint;
pub use pool::UpstreamPool;
pub use upstream::{Lease, Upstream};
