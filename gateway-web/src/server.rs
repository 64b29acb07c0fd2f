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
use axum::serve::ListenerExt;

use crate::catalog::{BuildContext, Snapshot};
use crate::interceptors::Interceptor;
use crate::interceptors::request_id::RequestId;
use crate::{pipeline, reload};

/// Static settings: fixed for the life of the process (dynamic config lives in the watched file or the
/// store).
#[derive(Debug, Clone)]
pub struct Settings {
    /// The standalone definitions file (YAML), watched for changes. Unused when `store` is set.
    pub config_path: PathBuf,
    /// Request bodies above this are refused with 413.
    pub max_body_bytes: usize,
    /// How often the config file is checked for changes.
    pub reload_interval: Duration,
    /// Postgres mode when set: definitions come from the store instead of `config_path`.
    pub store: Option<StoreSettings>,
}

impl Settings {
    /// Standalone mode on a YAML file.
    pub fn new(config_path: impl Into<PathBuf>) -> Self {
        Settings {
            config_path: config_path.into(),
            max_body_bytes: 4 << 20,
            reload_interval: Duration::from_secs(1),
            store: None,
        }
    }

    /// Postgres mode: revisions from the store at `database_url`, the last good one kept in
    /// `snapshot_file`.
    pub fn postgres(database_url: impl Into<String>, snapshot_file: impl Into<PathBuf>) -> Self {
        Settings {
            store: Some(StoreSettings {
                database_url: database_url.into(),
                snapshot_file: snapshot_file.into(),
                poll_interval: Duration::from_secs(5),
            }),
            ..Settings::new(PathBuf::new())
        }
    }
}

/// The definitions store (Postgres mode).
#[derive(Clone)]
pub struct StoreSettings {
    /// `postgres://user:password@host:port/database`.
    pub database_url: String,
    /// Where the last good revision is persisted; the node boots from it when the store is down.
    pub snapshot_file: PathBuf,
    /// How often `max(id)` is polled, the fallback when a notification is missed.
    pub poll_interval: Duration,
}

impl std::fmt::Debug for StoreSettings {
    // The URL may carry a password: never print it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreSettings")
            .field("database_url", &"<redacted>")
            .field("snapshot_file", &self.snapshot_file)
            .field("poll_interval", &self.poll_interval)
            .finish()
    }
}

/// Shared by every request: the current snapshot and what builds the next one.
pub struct GatewayState {
    pub settings: Settings,
    pub snapshot: ArcSwap<Snapshot>,
    /// Interceptors that run before routing, for every request.
    pub global_chain: Vec<Arc<dyn Interceptor>>,
    pub build_context: BuildContext,
    /// Where the serving revision came from and whether the store is reachable, for `/readyz`.
    pub source: reload::SourceStatus,
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
            source: reload::SourceStatus::default(),
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

/// Ready once a revision is loaded; reports which one, how old it is (since it was published when the
/// store says, else since it was built), where it came from, and whether the store is reachable.
async fn readyz(State(state): State<Arc<GatewayState>>) -> Response {
    let snapshot = state.snapshot.load();
    let provenance = state
        .source
        .provenance()
        .filter(|p| p.revision == snapshot.revision);
    let since = provenance
        .as_ref()
        .and_then(|p| p.published_at)
        .unwrap_or(snapshot.built_at);
    let age = since.elapsed().unwrap_or_default().as_secs();
    let source = provenance.map(|p| p.origin.as_str());
    let mut body = serde_json::json!({
        "status": if snapshot.revision.is_empty() { "loading" } else { "ready" },
        "revision": snapshot.revision,
        "age_seconds": age,
        "apis": snapshot.api_count,
        "routes": snapshot.routes.len(),
        // Reconnects with backoff, never per call: this stays small while a provider is down.
        "dubbo_connect_attempts": state.build_context.dubbo.connect_attempts(),
        "source": source,
    });
    if let Some(store) = state.source.store().as_str() {
        body["store"] = store.into();
    }
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

/// Loads the definitions (refusing to start on a bad file, or with neither a store nor a snapshot file
/// to boot from), then serves until `shutdown`, then drains.
pub async fn run(
    settings: Settings,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let state = Arc::new(GatewayState::new(settings));
    let watcher = reload::start(&state).await?;
    let local = listener.local_addr()?;
    tracing::info!(address = %local, "gateway listening (HTTP/1.1 and h2c)");
    let service = app(state).into_make_service_with_connect_info::<SocketAddr>();
    // Without TCP_NODELAY an HTTP/2 reply written as HEADERS then DATA waits on the client's delayed ACK
    // (up to 40 ms on Linux); every serious proxy turns Nagle off on both sides.
    let listener = listener.tap_io(|tcp| {
        if let Err(err) = tcp.set_nodelay(true) {
            tracing::debug!(error = %err, "could not set TCP_NODELAY");
        }
    });
    let served = axum::serve(listener, service)
        .with_graceful_shutdown(shutdown)
        .await;
    watcher.abort();
    served?;
    Ok(())
}
