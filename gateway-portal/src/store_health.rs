//! Whether Postgres answers, known within a second, so that an outage is a prompt 503 and not a hang.
//!
//! Left to itself, sqlx retries a refused connection until the pool's acquire timeout, and a host that
//! does not answer at all holds each request until then too: every click in the portal would wait and
//! end in a 500. Instead one task keeps a connection of its own (outside the pool, so a busy pool never
//! looks like an outage) and pings it four times a second. While the pings fail, API requests are
//! answered `503 store_unavailable` at once; a request already waiting on the store when the outage is
//! seen gets the same answer (its transaction, never committed, rolls back). The first ping that
//! succeeds again lets requests through, and the pool reconnects by itself.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{Connection, PgPool};
use tokio::sync::watch;

use crate::error::ApiError;

const PROBE_EVERY: Duration = Duration::from_millis(250);
/// A ping slower than this counts as failed: a host that swallows packets is down too.
const PROBE_TIMEOUT: Duration = Duration::from_millis(500);

/// A view of the store's health; cheap to clone into every request.
#[derive(Clone)]
pub struct StoreHealth {
    down: watch::Receiver<bool>,
}

impl StoreHealth {
    /// Starts watching the store `pool` connects to. Outside a Tokio runtime (nothing to watch with)
    /// the store always counts as up, and requests meet sqlx's own timeouts.
    pub fn watch(pool: &PgPool) -> StoreHealth {
        let (report, down) = watch::channel(false);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let options = (*pool.connect_options()).clone();
            runtime.spawn(probe_loop(options, report));
        }
        StoreHealth { down }
    }

    pub fn is_down(&self) -> bool {
        *self.down.borrow()
    }
}

async fn probe_loop(options: PgConnectOptions, report: watch::Sender<bool>) {
    let mut connection: Option<PgConnection> = None;
    let mut tick = tokio::time::interval(PROBE_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // Ends when the last `StoreHealth` (the app state) is dropped.
    while !report.is_closed() {
        tick.tick().await;
        let up = tokio::time::timeout(PROBE_TIMEOUT, ping(&mut connection, &options))
            .await
            .unwrap_or(false);
        if !up {
            // A ping cut short leaves the connection mid-protocol; the next probe opens a fresh one.
            connection = None;
        }
        report.send_if_modified(|down| {
            if *down != up {
                return false;
            }
            *down = !up;
            if up {
                tracing::info!("Postgres answers again; the portal serves requests");
            } else {
                tracing::warn!("Postgres does not answer; API requests get 503 until it does");
            }
            true
        });
    }
}

async fn ping(connection: &mut Option<PgConnection>, options: &PgConnectOptions) -> bool {
    if connection.is_none() {
        *connection = PgConnection::connect_with(options).await.ok();
    }
    match connection {
        Some(connection) => connection.ping().await.is_ok(),
        None => false,
    }
}

/// Middleware for the routes that use the store: 503 at once while it is down, and for a request
/// still waiting on it when an outage is seen.
pub async fn gate(State(health): State<StoreHealth>, request: Request, next: Next) -> Response {
    if health.is_down() {
        return ApiError::store_unavailable().into_response();
    }
    let mut down = health.down.clone();
    tokio::select! {
        response = next.run(request) => response,
        Ok(_) = down.wait_for(|down| *down) => ApiError::store_unavailable().into_response(),
    }
}
