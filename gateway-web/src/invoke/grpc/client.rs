//! Unary and server-streaming calls of any method, with deadline and metadata.

use std::time::Duration;

use http::uri::PathAndQuery;
use prost_reflect::{DynamicMessage, MessageDescriptor};
use tonic::metadata::MetadataMap;
use tonic::transport::Channel;
use tonic::{Request, Status, Streaming};

use super::codec::DynamicCodec;

#[derive(Clone)]
pub struct GrpcClient {
    channel: Channel,
}

/// Per-call settings the interceptors and mapping decided.
#[derive(Default)]
pub struct CallOptions {
    /// Sent as `grpc-timeout` and enforced by the channel.
    pub timeout: Option<Duration>,
    pub metadata: MetadataMap,
}

pub struct UnaryReply {
    pub message: DynamicMessage,
    /// Response headers and trailers, merged.
    pub metadata: MetadataMap,
}

impl GrpcClient {
    pub fn new(channel: Channel) -> Self {
        GrpcClient { channel }
    }

    pub async fn unary(
        &self,
        path: PathAndQuery,
        output: MessageDescriptor,
        message: DynamicMessage,
        options: CallOptions,
    ) -> Result<UnaryReply, Status> {
        let mut grpc = tonic::client::Grpc::new(self.channel.clone());
        grpc.ready()
            .await
            .map_err(|err| Status::unavailable(format!("backend not ready: {err}")))?;
        let response = grpc
            .unary(request(message, options), path, DynamicCodec::new(output))
            .await?;
        let (metadata, message, _) = response.into_parts();
        Ok(UnaryReply { message, metadata })
    }

    pub async fn server_streaming(
        &self,
        path: PathAndQuery,
        output: MessageDescriptor,
        message: DynamicMessage,
        options: CallOptions,
    ) -> Result<(MetadataMap, Streaming<DynamicMessage>), Status> {
        let mut grpc = tonic::client::Grpc::new(self.channel.clone());
        grpc.ready()
            .await
            .map_err(|err| Status::unavailable(format!("backend not ready: {err}")))?;
        let response = grpc
            .server_streaming(request(message, options), path, DynamicCodec::new(output))
            .await?;
        let (metadata, stream, _) = response.into_parts();
        Ok((metadata, stream))
    }
}

fn request(message: DynamicMessage, options: CallOptions) -> Request<DynamicMessage> {
    let mut request = Request::new(message);
    *request.metadata_mut() = options.metadata;
    if let Some(timeout) = options.timeout {
        request.set_timeout(timeout);
    }
    request
}
