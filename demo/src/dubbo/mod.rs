//! A Dubbo2 provider on the project's codec (`dubbo-codec`): the demo's `UserService`, and the pieces the
//! benchmark tools (`dubbo-mock-provider`, `dubbo-load`) are built from.
//!
//! Layout:
//! - [`wire`]: reading a frame off a stream without trusting its length.
//! - [`reply`]: what a provider answers: an outcome, or a failed status with its text.
//! - [`server`]: listener and connections for any [`server::Handler`]: pipelining, heartbeats, bad
//!   input.
//! - [`users`]: `org.apache.dubbo.demo.UserService:1.0.0` as a handler.

use std::future::Future;
use std::sync::Arc;

use tokio::net::TcpListener;

pub mod reply;
pub mod server;
pub mod users;
pub mod wire;

/// Serves `org.apache.dubbo.demo.UserService` version 1.0.0 over Dubbo2 on `listener` until `shutdown`
/// completes.
pub async fn serve_dubbo(
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    tracing::info!(address = %listener.local_addr()?, "demo backend listening (Dubbo)");
    server::serve(listener, shutdown, Arc::new(users::UserService)).await
}
