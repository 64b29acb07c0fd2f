//! The centre of every API's chain: mapping → invoke → mapping, one file per protocol. A route holds a
//! [`Call`], a closed enum matched here and nowhere else, so a protocol is one arm and one file.
//!
//! Each protocol's call is its plan (everything resolved when the snapshot was compiled: mapping plans,
//! method paths, header names, the exception table) plus its pooled client, attached when the snapshot
//! was instantiated.
//!
//! - `grpc`: JSON → request message → unary or server-streaming call → JSON (`streaming`: NDJSON/SSE).
//! - `dubbo`: typed, named arguments → direct or generic invocation → JSON, or the mapped exception.
//! - `http`: the request relayed to an upstream pool (rewritten, headers edited), streamed both ways.

mod dubbo;
mod grpc;
mod http;
mod streaming;

use async_trait::async_trait;
use bytes::Bytes;

pub use dubbo::{DubboCall, DubboPlan};
pub use grpc::{GrpcCall, GrpcPlan};
pub use http::{HttpCall, HttpPlan};

use crate::access::{Exchange, Reply};
use crate::error::GatewayError;
use crate::interceptors::Endpoint;

/// What a route calls.
pub enum Call {
    Grpc(GrpcCall),
    Dubbo(DubboCall),
    Http(HttpCall),
}

#[async_trait]
impl Endpoint for Call {
    async fn call(&self, exchange: Exchange) -> Result<Reply, GatewayError> {
        match self {
            Call::Grpc(call) => call.call(exchange).await,
            Call::Dubbo(call) => call.call(exchange).await,
            Call::Http(call) => call.call(exchange).await,
        }
    }
}

/// The body (read once, within the size limit) and its media type: what every protocol's mapping reads
/// besides the exchange's head.
async fn read_body(exchange: &mut Exchange) -> Result<(Bytes, Option<String>), GatewayError> {
    let body = exchange.body().await?;
    Ok((body, exchange.content_type()))
}
