//! The reflection protocol on the wire, v1 and v1alpha, behind one version-free request/answer vocabulary.

use futures::StreamExt;
use futures::stream::BoxStream;
use tokio::sync::mpsc;
use tonic::Status;
use tonic::transport::Channel;

/// Descriptor responses carry whole files (grpc-go sends a file with all its dependencies at once), so
/// allow more than tonic's 4 MiB default, but not without bound.
const MAX_MESSAGE_BYTES: usize = 32 * 1024 * 1024;

/// The protocol versions we speak, newest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Version {
    V1,
    V1Alpha,
}

/// A question to the reflection server.
#[derive(Clone, Debug)]
pub(super) enum Ask {
    ListServices,
    FileContainingSymbol(String),
    FileByFilename(String),
}

/// The server's reply to one [`Ask`].
#[derive(Debug)]
pub(super) enum Answer {
    /// Serialized FileDescriptorProtos.
    Files(Vec<Vec<u8>>),
    Services(Vec<String>),
    /// An in-stream error: the server refused this ask but keeps the stream open (grpc-go, grpcio).
    Error(String),
    /// A reply kind we never ask for.
    Unexpected,
}

/// One bidirectional reflection stream: asks go in, answers come out in the same order.
pub(super) struct Stream {
    asks: mpsc::Sender<Ask>,
    answers: BoxStream<'static, Result<Answer, Status>>,
}

impl Stream {
    /// Opens the stream with `first` already queued: some servers (grpc-go) send no response headers
    /// until they have read a request, and opening waits for those headers.
    pub(super) async fn open(
        version: Version,
        channel: Channel,
        first: Ask,
    ) -> Result<Self, Status> {
        // Strictly one ask in flight, so a small buffer is plenty.
        let (asks, queued) = mpsc::channel(4);
        asks.send(first)
            .await
            .map_err(|_| Status::internal("request queue closed"))?;
        let answers = match version {
            Version::V1 => v1::open(channel, queued).await?,
            Version::V1Alpha => v1alpha::open(channel, queued).await?,
        };
        Ok(Stream { asks, answers })
    }

    /// The next answer; a `Status` means the server ended the stream (tonic does so on any error).
    pub(super) async fn answer(&mut self) -> Result<Answer, Status> {
        match self.answers.next().await {
            Some(answer) => answer,
            None => Err(Status::unavailable("server closed the reflection stream")),
        }
    }

    pub(super) async fn ask(&mut self, ask: Ask) -> Result<Answer, Status> {
        self.asks
            .send(ask)
            .await
            .map_err(|_| Status::unavailable("reflection stream already closed"))?;
        self.answer().await
    }
}

/// The two versions share one schema under two package names, so tonic-reflection generates two sets of
/// identical types; one macro writes the translation for both instead of two hand-kept copies.
macro_rules! adapter {
    ($version:ident) => {
        mod $version {
            use futures::StreamExt;
            use futures::stream::BoxStream;
            use tokio::sync::mpsc;
            use tokio_stream::wrappers::ReceiverStream;
            use tonic::Status;
            use tonic::transport::Channel;
            use tonic_reflection::pb::$version::server_reflection_client::ServerReflectionClient;
            use tonic_reflection::pb::$version::server_reflection_request::MessageRequest;
            use tonic_reflection::pb::$version::server_reflection_response::MessageResponse;
            use tonic_reflection::pb::$version::{
                ServerReflectionRequest, ServerReflectionResponse,
            };

            use super::{Answer, Ask, MAX_MESSAGE_BYTES};

            pub(super) async fn open(
                channel: Channel,
                asks: mpsc::Receiver<Ask>,
            ) -> Result<BoxStream<'static, Result<Answer, Status>>, Status> {
                let mut client = ServerReflectionClient::new(channel)
                    .max_decoding_message_size(MAX_MESSAGE_BYTES);
                let requests = ReceiverStream::new(asks).map(request);
                let answers = client.server_reflection_info(requests).await?.into_inner();
                Ok(answers.map(|reply| reply.map(answer)).boxed())
            }

            fn request(ask: Ask) -> ServerReflectionRequest {
                let message = match ask {
                    Ask::ListServices => MessageRequest::ListServices(String::new()),
                    Ask::FileContainingSymbol(symbol) => {
                        MessageRequest::FileContainingSymbol(symbol)
                    }
                    Ask::FileByFilename(name) => MessageRequest::FileByFilename(name),
                };
                ServerReflectionRequest {
                    host: String::new(),
                    message_request: Some(message),
                }
            }

            fn answer(response: ServerReflectionResponse) -> Answer {
                match response.message_response {
                    Some(MessageResponse::FileDescriptorResponse(files)) => {
                        Answer::Files(files.file_descriptor_proto)
                    }
                    Some(MessageResponse::ListServicesResponse(list)) => {
                        Answer::Services(list.service.into_iter().map(|s| s.name).collect())
                    }
                    Some(MessageResponse::ErrorResponse(error)) => {
                        let code = tonic::Code::from_i32(error.error_code);
                        Answer::Error(format!("{code:?}: {}", error.error_message))
                    }
                    Some(MessageResponse::AllExtensionNumbersResponse(_)) | None => {
                        Answer::Unexpected
                    }
                }
            }
        }
    };
}

adapter!(v1);
adapter!(v1alpha);
