//! Layer 4, invoke: protocol clients for backends. Clients are pooled per backend, shared across config
//! snapshots, and never block the runtime; a request never opens a connection of its own.
//!
//! - [`grpc`]: dynamic gRPC over tonic (no generated code): codec, channel pool, calls, status mapping.

pub mod grpc;
