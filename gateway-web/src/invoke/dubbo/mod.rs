//! Dubbo: the Dubbo2 TCP protocol with hessian2, our own (the Rust `dubbo` crate speaks neither). The
//! bytes are the `dubbo-codec` crate's; this folder is the client around them.
//!
//! - `call`: what one call sends ([`Invocation`]) and gets back ([`DubboReply`]).
//! - `frame`: reading whole frames off a connection; `request` / `response`: calls as frames and back.
//! - `generic`: the `$invoke` wire form of a generic call.
//! - `status`: every way a call fails, as a named `GatewayError` kind.
//! - `connection`: one multiplexed connection (writer and reader tasks, pending calls by id, heartbeats).
//! - `provider`: a provider's connections, each kept up by one reconnect loop (`backoff`).
//! - `pool`: provider connections shared across clients and config snapshots.
//! - `discovery`: the live provider set; `client`: picks a provider and makes the call.
//!
//! **Invariant:** a call never opens a connection. Connections are made by one loop per provider slot,
//! with backoff; while a provider is down its calls fail fast or go to another provider.

mod backoff;
mod call;
mod client;
mod connection;
mod discovery;
mod error;
mod frame;
pub mod generic;
mod pool;
mod provider;
pub mod registry;
mod request;
mod response;
pub mod status;
#[cfg(test)]
mod tests;

pub use call::{DubboReply, Invocation, Outcome};
pub use client::{Balance, ClientSettings, DubboClient};
pub use discovery::{Provider, ProviderSet};
pub use error::DubboError;
pub use pool::DubboPool;
