//! The demo's plain HTTP service: a small stock-keeping API the gateway relays to (not translates), run
//! as two instances so the demo shows balancing. Each answer names the instance that served it.
//!
//! - `GET /items/{sku}`: the item's stock as JSON, or a 404 JSON error for an unknown SKU.
//! - `GET /items/{sku}/events?count=N`: `N` server-sent events a quarter second apart, streamed.
//! - `GET /healthz`: the gateway's active health check.

use std::convert::Infallible;
use std::future::Future;
use std::time::Duration;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use bytes::Bytes;
use tokio::net::TcpListener;

/// The SKUs in stock and how many of each.
const STOCK: &[(&str, u32)] = &[("dune", 12), ("solaris", 3), ("foundation", 0)];

/// At most this many events per stream, so a typo cannot hold a connection open for long.
const MAX_EVENTS: u32 = 20;

/// Serves the inventory API as instance `name` on `listener` until `shutdown` completes.
pub async fn serve_inventory(
    name: &'static str,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    tracing::info!(address = %listener.local_addr()?, instance = name, "demo inventory listening (HTTP)");
    let app = Router::new()
        .route("/items/{sku}", get(item))
        .route("/items/{sku}/events", get(events))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(name);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}

async fn item(State(instance): State<&'static str>, Path(sku): Path<String>) -> Response {
    let mut response = match STOCK.iter().find(|(known, _)| *known == sku) {
        Some((sku, count)) => Json(serde_json::json!({
            "sku": sku,
            "inStock": count,
            "available": *count > 0,
        }))
        .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(serde_json::json!({ "error": format!("no item {sku:?}") })),
        )
            .into_response(),
    };
    response
        .headers_mut()
        .insert("x-served-by", HeaderValue::from_static(instance));
    response
}

async fn events(
    State(instance): State<&'static str>,
    Path(sku): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let count = query
        .as_deref()
        .and_then(|q| q.split('&').find_map(|pair| pair.strip_prefix("count=")))
        .and_then(|n| n.parse::<u32>().ok())
        .unwrap_or(3)
        .min(MAX_EVENTS);
    let stream = futures::stream::unfold(0, move |sent| {
        let sku = sku.clone();
        async move {
            if sent == count {
                return None;
            }
            if sent > 0 {
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            let event = format!(
                "id: {sent}\nevent: stock\ndata: {{\"sku\":{sku:?},\"tick\":{sent},\"servedBy\":{instance:?}}}\n\n"
            );
            Some((Ok::<_, Infallible>(Bytes::from(event)), sent + 1))
        }
    });
    (
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        axum::body::Body::from_stream(stream),
    )
        .into_response()
}
