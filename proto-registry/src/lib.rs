//! Service schemas, bytes in and descriptors out: .proto sources, binary descriptor sets and gRPC
//! reflection all end as a `prost_reflect::DescriptorPool`.
//!
//! # Layout
//!
//! - `error`: `SchemaError`, one line per failure naming the file or service at fault.
//! - `builtin_files`: google/api, google/rpc and the well-known types, embedded, and their resolver.
//! - `builtin`: those files compiled once into the built-in pool.
//! - `compile`: .proto files from disk or from memory, compiled in process by protox.
//! - `descriptor_set`: binary FileDescriptorSets, topped up with built-ins they import but lack.
//! - `reflection`: pulls from a live server over grpc.reflection.v1, falling back to v1alpha.
//! - `diff`: what changed between two versions of a schema (services, methods, fields, enum values).
//!
//! **Architecture Invariant:** every entry point returns a linked pool in which the google.api.http
//! extension is readable on methods (options are kept as bytes, never decoded through `prost_types`).

// A failed unwrap is how a test reports a broken expectation; outside tests the lint stands.
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod builtin;
mod builtin_files;
mod compile;
mod descriptor_set;
mod diff;
mod error;
mod reflection;

pub use builtin::builtin_pool;
pub use compile::{compile_files, compile_sources};
pub use descriptor_set::decode_descriptor_set;
pub use diff::{Change, SchemaChange, diff};
pub use error::SchemaError;
pub use reflection::fetch_by_reflection;
