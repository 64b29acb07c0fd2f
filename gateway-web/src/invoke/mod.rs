//! Layer 4, invoke: protocol clients for backends. Clients are pooled per backend, shared across config
//! snapshots, and never block the runtime; a request never opens a connection of its own.
//!
//! - [`dubbo`]: the Dubbo2 protocol and hessian2 codec, provider connections, discovery.
//! - [`grpc`]: dynamic gRPC over tonic (no generated code): codec, channel pool, calls, status mapping.
//! - [`http`]: plain HTTP upstreams: endpoint pools, balancing, health, the pooled client.

pub mod dubbo;
pub mod grpc;
pub mod http;
