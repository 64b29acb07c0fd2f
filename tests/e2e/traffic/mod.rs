//! Traffic control end to end: limits counted in real Redis across several nodes (and a private Redis
//! stopped mid-load), bulkheads against a backend that sleeps, breakers and retries against a backend
//! that fails and recovers on command and counts the calls it receives, and the listener's defences
//! against slow and greedy clients over raw TCP.

mod abuse;
mod breakers;
mod bulkheads;
mod limits;
mod retries;
mod store_down;
mod topologies;

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use gateway_demo::echo::EchoService;
use gateway_demo::pb::echo::echo_server::{Echo, EchoServer};
use gateway_demo::pb::echo::{
    CountRequest, EchoRequest, EchoResponse, FailRequest, SleepRequest, SleepResponse,
};
use tokio::sync::oneshot;
use tonic::{Request, Response, Status};

use crate::harness::proto_dir;

/// The Redis every node of a test shares (started by `.ci/run` when down).
pub const REDIS: &str = "redis://127.0.0.1:6379";

/// A name no earlier run used: limit counts live in the shared Redis between runs.
pub fn fresh(prefix: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{prefix}-{nanos}")
}

/// An echo backend that counts the `Echo` calls reaching it and fails them while `failing` is set (or
/// for the next `fail_next` calls), with UNAVAILABLE unless `fail_with` names another code; the other
/// methods are the demo's.
#[derive(Clone, Default)]
struct Flaky {
    calls: Arc<AtomicU64>,
    failing: Arc<AtomicBool>,
    fail_next: Arc<AtomicU64>,
    /// A gRPC code; 0 means UNAVAILABLE.
    fail_with: Arc<std::sync::atomic::AtomicI32>,
}

pub struct FlakyBackend {
    pub addr: SocketAddr,
    pub calls: Arc<AtomicU64>,
    pub failing: Arc<AtomicBool>,
    pub fail_next: Arc<AtomicU64>,
    pub fail_with: Arc<std::sync::atomic::AtomicI32>,
    _stop: oneshot::Sender<()>,
}

impl FlakyBackend {
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::SeqCst)
    }

    pub fn set_failing(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }
}

pub async fn flaky_backend() -> FlakyBackend {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let flaky = Flaky::default();
    let (stop, stopped) = oneshot::channel::<()>();
    let service = EchoServer::new(flaky.clone());
    tokio::spawn(async move {
        let _ = tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming_shutdown(
                tokio_stream::wrappers::TcpListenerStream::new(listener),
                async {
                    let _ = stopped.await;
                },
            )
            .await;
    });
    FlakyBackend {
        addr,
        calls: flaky.calls,
        failing: flaky.failing,
        fail_next: flaky.fail_next,
        fail_with: flaky.fail_with,
        _stop: stop,
    }
}

type CountStream =
    Pin<Box<dyn futures::Stream<Item = Result<gateway_demo::pb::echo::CountReply, Status>> + Send>>;

#[tonic::async_trait]
impl Echo for Flaky {
    async fn echo(&self, request: Request<EchoRequest>) -> Result<Response<EchoResponse>, Status> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let failing_once = self
            .fail_next
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if failing_once || self.failing.load(Ordering::SeqCst) {
            let code = match self.fail_with.load(Ordering::SeqCst) {
                0 => tonic::Code::Unavailable,
                code => tonic::Code::from_i32(code),
            };
            return Err(Status::new(code, "the flaky backend is failing"));
        }
        EchoService.echo(request).await
    }

    async fn fail(&self, request: Request<FailRequest>) -> Result<Response<()>, Status> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        EchoService.fail(request).await
    }

    async fn sleep(
        &self,
        request: Request<SleepRequest>,
    ) -> Result<Response<SleepResponse>, Status> {
        EchoService.sleep(request).await
    }

    type CountStream = CountStream;

    async fn count(
        &self,
        request: Request<CountRequest>,
    ) -> Result<Response<Self::CountStream>, Status> {
        let stream = EchoService.count(request).await?.into_inner();
        Ok(Response::new(Box::pin(stream)))
    }
}

/// Echo (`POST /v1/echo`, `GET /v1/echo/{message}`), Fail (`POST /v1/fail`) and Sleep
/// (`POST /v1/sleep`) on `backend`, each API with its own policies, keyed by API name in `policies`.
pub fn config(backend: SocketAddr, echo: &str, fail: &str, sleep: &str) -> String {
    format!(
        r#"
backends: [{{ name: demo, protocol: grpc, endpoints: ["{backend}"] }}]
schemas: [{{ name: demo, proto: {{ files: [demo/echo/v1/echo.proto], import_paths: ["{protos}"] }} }}]
apis:
  - name: echo
    backend: demo
    grpc: {{ service: demo.echo.v1.Echo, method: Echo }}
    http: {{ post: /v1/echo, body: "*", additional_bindings: [{{ get: "/v1/echo/{{message}}" }}] }}
    policies: {echo}
  - name: fail
    backend: demo
    grpc: {{ service: demo.echo.v1.Echo, method: Fail }}
    http: {{ post: /v1/fail, body: "*" }}
    policies: {fail}
  - name: sleep
    backend: demo
    grpc: {{ service: demo.echo.v1.Echo, method: Sleep }}
    http: {{ post: /v1/sleep, body: "*" }}
    timeout: 10s
    policies: {sleep}
"#,
        protos = proto_dir()
    )
}

/// One `POST /v1/echo`.
pub async fn echo(gw: &crate::harness::Gateway) -> reqwest::Response {
    gw.client
        .post(gw.url("/v1/echo"))
        .json(&serde_json::json!({"message": "x"}))
        .send()
        .await
        .unwrap()
}

/// Settings for a node on `redis`.
pub fn on_redis(redis: &str) -> impl FnOnce(&mut gateway_web::Settings) + '_ {
    move |settings| settings.redis_url = Some(api_model::Secret(redis.into()))
}
