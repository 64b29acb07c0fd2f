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
        request.set_timeout(whole_millis(timeout));
    }
    request
}

/// The remaining time rounded down to whole milliseconds. Sent in microseconds, `grpc-timeout` would be
/// a new value on every call, and HPACK would insert each one into the connection's header table and
/// evict another; in milliseconds most calls of an API send the same text, which HPACK then sends as a
/// one-byte index (with never-indexed request ids, a third less header-encoding work: BENCHMARKS.md).
/// Under a millisecond is kept as is, so a nearly spent budget never becomes zero.
fn whole_millis(timeout: Duration) -> Duration {
    let millis = timeout.as_millis();
    if millis == 0 {
        return timeout;
    }
    Duration::from_millis(u64::try_from(millis).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_travel_in_whole_milliseconds() {
        let sent = |d| {
            let options = CallOptions {
                timeout: Some(d),
                metadata: MetadataMap::new(),
            };
            let request = request(DynamicMessage::new(prost_types_empty()), options);
            request
                .metadata()
                .get("grpc-timeout")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        // Two calls a few hundred microseconds apart carry the same header text.
        assert_eq!(
            sent(Duration::from_micros(29_999_812)),
            Some("29999000u".into())
        );
        assert_eq!(
            sent(Duration::from_micros(29_999_377)),
            Some("29999000u".into())
        );
        // A budget under a millisecond is not rounded away to nothing.
        assert_eq!(sent(Duration::from_micros(420)), Some("420000n".into()));
    }

    fn prost_types_empty() -> MessageDescriptor {
        prost_reflect::DescriptorPool::global()
            .get_message_by_name("google.protobuf.Empty")
            .expect("the global pool holds the well-known types")
    }
}
