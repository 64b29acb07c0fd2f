//! gateway-web: the data plane. An HTTP/JSON request passes four layers, top to bottom:
//!
//! 1. [`access`]: parse the HTTP request into an [`access::Exchange`], find its route.
//! 2. [`interceptors`]: the onion around the call (request id, deadline; later auth, limits, breakers, canary).
//! 3. [`mapping`]: HTTP path/query/headers/body → request message, and the reply message → JSON.
//! 4. [`invoke`]: the backend call (gRPC through pooled HTTP/2 channels).
//!
//! [`pipeline`] wires the four together for one request in a few dozen lines. [`catalog`] builds published
//! definitions (`api_model::Config`) into an immutable [`catalog::Snapshot`], off the hot path; [`reload`]
//! watches the config file and swaps snapshots atomically. [`server`] is `run(settings, listener, shutdown)`.
//! [`error`] is the only place an error becomes an HTTP status.

pub mod access;
pub mod call;
pub mod catalog;
pub mod error;
pub mod interceptors;
pub mod invoke;
pub mod mapping;
pub mod pipeline;
pub mod reload;
pub mod server;
pub mod settings;
pub mod snapshot;
pub mod source_status;
pub mod state;
pub mod stores;

pub use server::{app, run};
pub use settings::Settings;
