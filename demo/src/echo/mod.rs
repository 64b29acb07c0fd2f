//! `demo.echo.v1.Echo`: reflects what reached the backend (message, metadata, deadline) and fails or streams
//! on request, so tests can observe the gateway from the far side.

mod trailer;

use std::collections::HashMap;
use std::pin::Pin;
use std::time::Duration;

use futures::Stream;
use tonic::metadata::{KeyAndValueRef, MetadataMap, MetadataValue};
use tonic::{Code, Request, Response, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::pb::echo::echo_server::{Echo, EchoServer};
use crate::pb::echo::{
    CountReply, CountRequest, EchoRequest, EchoResponse, FailRequest, SleepRequest, SleepResponse,
};
pub use trailer::WithTrailer;

/// The response header `Echo` sets; the Python peer says `grpcio`.
pub const SERVER_HEADER: (&str, &str) = ("x-echo-server", "tonic");
/// The trailer `Echo` sets.
pub const TRAILER: (&str, &str) = ("x-echo-trailer", "done");
/// The longest `Sleep` accepts, so a stray request cannot pin a task for long.
const MAX_SLEEP_MILLIS: i32 = 60_000;

/// The echo service. Stateless.
#[derive(Debug, Clone, Copy, Default)]
pub struct EchoService;

impl EchoService {
    /// The tonic server, wrapped so `Echo` responses carry the [`TRAILER`].
    pub fn into_server(self) -> WithTrailer<EchoServer<Self>> {
        WithTrailer::new(
            EchoServer::new(self),
            "/demo.echo.v1.Echo/Echo",
            TRAILER.0,
            TRAILER.1,
        )
    }
}

type CountStream = Pin<Box<dyn Stream<Item = Result<CountReply, Status>> + Send>>;

#[tonic::async_trait]
impl Echo for EchoService {
    async fn echo(&self, request: Request<EchoRequest>) -> Result<Response<EchoResponse>, Status> {
        let peer = request
            .remote_addr()
            .map(|addr| addr.to_string())
            .unwrap_or_default();
        let metadata = ascii_metadata(request.metadata());
        let mut response = Response::new(EchoResponse {
            request: Some(request.into_inner()),
            metadata,
            peer,
        });
        response
            .metadata_mut()
            .insert(SERVER_HEADER.0, MetadataValue::from_static(SERVER_HEADER.1));
        Ok(response)
    }

    /// Code 0 succeeds; codes outside 0..=16 become UNKNOWN.
    async fn fail(&self, request: Request<FailRequest>) -> Result<Response<()>, Status> {
        let FailRequest {
            code,
            message,
            with_details,
        } = request.into_inner();
        let code = Code::from_i32(code);
        if code == Code::Ok {
            return Ok(Response::new(()));
        }
        if !with_details {
            return Err(Status::new(code, message));
        }
        let mut details = ErrorDetails::with_error_info("DEMO_FAILURE", "demo", HashMap::new());
        details.add_bad_request_violation("code", "requested failure");
        Err(Status::with_error_details(code, message, details))
    }

    async fn sleep(
        &self,
        request: Request<SleepRequest>,
    ) -> Result<Response<SleepResponse>, Status> {
        let grpc_timeout = request
            .metadata()
            .get("grpc-timeout")
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let millis = request.get_ref().millis;
        if !(0..=MAX_SLEEP_MILLIS).contains(&millis) {
            return Err(Status::invalid_argument(format!(
                "millis must be within 0..={MAX_SLEEP_MILLIS}"
            )));
        }
        tokio::time::sleep(Duration::from_millis(millis.unsigned_abs().into())).await;
        Ok(Response::new(SleepResponse {
            grpc_timeout,
            slept_millis: millis,
        }))
    }

    type CountStream = CountStream;

    /// Streams 1..=n, `interval_ms` apart; when `fail_at` is within 1..=n the stream ends with ABORTED in
    /// place of that item.
    async fn count(&self, request: Request<CountRequest>) -> Result<Response<CountStream>, Status> {
        let CountRequest {
            n,
            interval_ms,
            fail_at,
        } = request.into_inner();
        if n < 0 || interval_ms < 0 || fail_at < 0 {
            return Err(Status::invalid_argument(
                "n, interval_ms and fail_at must not be negative",
            ));
        }
        let interval = Duration::from_millis(interval_ms.unsigned_abs().into());
        // `None` once the stream has ended, so `n = i32::MAX` cannot overflow.
        let replies = futures::stream::unfold(Some(1), move |next| async move {
            let i = next.filter(|i| *i <= n)?;
            if i > 1 && !interval.is_zero() {
                tokio::time::sleep(interval).await;
            }
            if i == fail_at {
                return Some((Err(Status::aborted(format!("failed at {i}"))), None));
            }
            Some((Ok(CountReply { i }), i.checked_add(1)))
        });
        Ok(Response::new(Box::pin(replies)))
    }
}

/// Every entry with an ASCII value, keys lowercased (HTTP/2 already lowercases them; this makes it a
/// promise).
fn ascii_metadata(metadata: &MetadataMap) -> HashMap<String, String> {
    metadata
        .iter()
        .filter_map(|entry| match entry {
            KeyAndValueRef::Ascii(key, value) => Some((
                key.as_str().to_ascii_lowercase(),
                value.to_str().ok()?.to_string(),
            )),
            KeyAndValueRef::Binary(..) => None,
        })
        .collect()
}
