//! Dynamic gRPC: any method described by a `prost_reflect` descriptor, over a pooled tonic channel.
//!
//! - `codec`: encodes and decodes `DynamicMessage`s for tonic.
//! - `pool`: one HTTP/2 channel per backend, reused across snapshots.
//! - `client`: unary and server-streaming calls with deadline and metadata.
//! - `status`: a non-OK `tonic::Status` → `GatewayError`, with `google.rpc.Status` details as JSON.

mod client;
mod codec;
mod pool;
mod status;

pub use client::{CallOptions, GrpcClient, UnaryReply};
pub use codec::DynamicCodec;
pub use pool::ChannelPool;
pub use status::status_to_error;
