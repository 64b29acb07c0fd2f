//! A Dubbo2 provider on the gateway's hessian2 codec: the demo's `UserService`, and the pieces the
//! benchmark tools (`dubbo-mock-provider`, `dubbo-load`) are built from.
//!
//! Layout:
//! - [`frame`]: the 16-byte header and reading a frame without trusting its length.
//! - [`call`]: request bodies, decoded (provider) and encoded (load client).
//! - [`reply`]: response bodies: a result flag and a value, null or exception, or a status text.
//! - [`server`]: listener and connections for any [`server::Handler`]: pipelining, heartbeats, bad
//!   input.
//! - [`users`]: `org.apache.dubbo.demo.UserService:1.0.0` as a handler.

use std::future::Future;
use std::sync::Arc;

use tokio::net::TcpListener;

pub mod call;
pub mod frame;
pub mod reply;
pub mod server;
pub mod users;

/// Serves `org.apache.dubbo.demo.UserService` version 1.0.0 over Dubbo2 on `listener` until `shutdown`
/// completes.
pub async fn serve_dubbo(
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    tracing::info!(address = %listener.local_addr()?, "demo backend listening (Dubbo)");
    server::serve(listener, shutdown, Arc::new(users::UserService)).await
}
