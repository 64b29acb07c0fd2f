//! `run(settings, listener, shutdown)`: serves HTTP/1.1 and h2c on one listener until `shutdown`
//! resolves, then drains in-flight requests. Tests call it on `127.0.0.1:0`.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use crate::access::connections::accept_loop;
use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::error::NOT_READY;
use crate::settings::Settings;
use crate::state::GatewayState;
use crate::{pipeline, reload};

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
    let services = &state.build_context.services;
    body["security"] = serde_json::json!({
        "redis": services.redis.as_ref().map(|r| if r.is_healthy() { "reachable" } else { "unreachable" }),
        // Signed requests accepted on this node's memory alone while Redis was unreachable, and those
        // refused for it: a replay on another node could not be ruled out.
        "nonces_accepted_locally": services.nonces.local_acceptances.load(std::sync::atomic::Ordering::Relaxed),
        "nonce_refusals": services.nonces.refusals.load(std::sync::atomic::Ordering::Relaxed),
    });
    body["traffic"] = crate::stores::traffic_status(services);
    body["upstreams"] = state.build_context.upstreams.status();
    let mut response = axum::Json(body).into_response();
    if snapshot.revision.is_empty() {
        *response.status_mut() = NOT_READY;
    }
    response
}

/// Loads the definitions (refusing to start on a bad file, or with neither a store nor a snapshot file
/// to boot from), then serves until `shutdown`, then drains.
pub async fn run(
    settings: Settings,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let tls = settings.tls.clone();
    let reload_interval = settings.reload_interval;
    let state = Arc::new(GatewayState::new(settings)?);
    let watcher = reload::start(&state).await?;
    let local = listener.local_addr()?;
    let limits = state.settings.connections;
    let served = match tls {
        Some(tls) => {
            tracing::info!(address = %local, "gateway listening (HTTPS: HTTP/2 and HTTP/1.1 by ALPN)");
            crate::access::tls::serve(listener, app(state), tls, limits, reload_interval, shutdown)
                .await
        }
        None => {
            tracing::info!(address = %local, "gateway listening (HTTP/1.1 and h2c)");
            accept_loop(listener, app(state), limits, shutdown, |tcp, connection| {
                connection.serve(tcp, None)
            })
            .await;
            Ok(())
        }
    };
    watcher.abort();
    served
}
