//! `run(settings, listener, shutdown)`: serves HTTP/1.1 and h2c on one listener until `shutdown`
//! resolves, then drains in-flight requests. Tests call it on `127.0.0.1:0`.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::catalog::{BuildContext, Snapshot};
use crate::interceptors::Interceptor;
use crate::interceptors::request_id::RequestId;
use crate::{pipeline, reload};

/// Static settings: fixed for the life of the process (dynamic config lives in the watched file).
#[derive(Debug, Clone)]
pub struct Settings {
    /// The standalone definitions file (YAML), watched for changes.
    pub config_path: PathBuf,
    /// Request bodies above this are refused with 413.
    pub max_body_bytes: usize,
    /// How often the config file is checked for changes.
    pub reload_interval: Duration,
}

impl Settings {
    pub fn new(config_path: impl Into<PathBuf>) -> Self {
        Settings {
            config_path: config_path.into(),
            max_body_bytes: 4 << 20,
            reload_interval: Duration::from_secs(1),
        }
    }
}

/// Shared by every request: the current snapshot and what builds the next one.
pub struct GatewayState {
    pub settings: Settings,
    pub snapshot: ArcSwap<Snapshot>,
    /// Interceptors that run before routing, for every request.
    pub global_chain: Vec<Arc<dyn Interceptor>>,
    pub build_context: BuildContext,
}

impl GatewayState {
    pub fn new(settings: Settings) -> Self {
        let base_dir = settings
            .config_path
            .parent()
            .map(|dir| {
                if dir.as_os_str().is_empty() {
                    PathBuf::from(".")
                } else {
                    dir.to_path_buf()
                }
            })
            .unwrap_or_else(|| PathBuf::from("."));
        GatewayState {
            settings,
            snapshot: ArcSwap::from_pointee(Snapshot::empty()),
            global_chain: vec![Arc::new(RequestId)],
            build_context: BuildContext {
                base_dir,
                ..BuildContext::default()
            },
        }
    }
}

/// The HTTP application: health endpoints, and every other path through the pipeline.
pub fn app(state: Arc<GatewayState>) -> Router {
    Router::new()
        .route(
            "/healthz",
            get(|| async { axum::Json(serde_json::json!({ "status": "ok" })) }),
        )
        .route("/readyz", get(readyz))
        .fallback(gateway)
        .with_state(state)
}

async fn gateway(State(state): State<Arc<GatewayState>>, request: Request) -> Response {
    // Present when served by `run`; absent when a test drives `app()` without a socket.
    let remote = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    pipeline::handle(state, remote, request).await
}

/// Ready once a revision is loaded; reports which one and how old it is.
async fn readyz(State(state): State<Arc<GatewayState>>) -> Response {
    let snapshot = state.snapshot.load();
    let age = snapshot.built_at.elapsed().unwrap_or_default().as_secs();
    let body = serde_json::json!({
        "status": if snapshot.revision.is_empty() { "loading" } else { "ready" },
        "revision": snapshot.revision,
        "age_seconds": age,
        "apis": snapshot.api_count,
        "routes": snapshot.routes.len(),
        // Reconnects with backoff, never per call: this stays small while a provider is down.
        "dubbo_connect_attempts": state.build_context.dubbo.connect_attempts(),
    });
    let status = if snapshot.revision.is_empty() {
        503
    } else {
        200
    };
    (
        http::StatusCode::from_u16(status).unwrap_or_default(),
        axum::Json(body),
    )
        .into_response()
}

/// Loads the config (refusing to start on a bad one), then serves until `shutdown`, then drains.
pub async fn run(
    settings: Settings,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let state = Arc::new(GatewayState::new(settings));
    reload::load_initial(&state).await?;
    let watcher = tokio::spawn(reload::watch(state.clone()));
    let local = listener.local_addr()?;
    tracing::info!(address = %local, "gateway listening (HTTP/1.1 and h2c)");
    let service = app(state).into_make_service_with_connect_info::<SocketAddr>();
    let served = axum::serve(listener, service)
        .with_graceful_shutdown(shutdown)
        .await;
    watcher.abort();
    served?;
    Ok(())
}
