//! Dubbo: the Dubbo2 TCP protocol with hessian2, our own (the Rust `dubbo` crate speaks neither).
//!
//! - `hessian2`: the value model and codec.
//! - `frame`: the 16-byte header and frame reading; `request` / `response`: the bodies.
//! - `connection`: one multiplexed connection (writer and reader tasks, pending calls by id, heartbeats).
//! - `provider`: a provider's connections, each kept up by one reconnect loop (`backoff`).
//! - `pool`: provider connections shared across clients and config snapshots.
//! - `discovery`: the live provider set; `client`: picks a provider and makes the call.
//!
//! **Invariant:** a call never opens a connection. Connections are made by one loop per provider slot,
//! with backoff; while a provider is down its calls fail fast or go to another provider.

mod backoff;
mod client;
mod connection;
mod discovery;
mod error;
mod frame;
pub mod hessian2;
mod pool;
mod provider;
pub mod registry;
mod request;
mod response;
#[cfg(test)]
mod tests;

pub use client::{Balance, ClientSettings, DubboClient, DubboReply, Invocation, Outcome};
pub use discovery::{Provider, ProviderSet};
pub use error::DubboError;
pub use pool::DubboPool;
