//! A protocol upgrade (WebSocket) relayed: once the upstream has answered 101 and the client has
//! been told so, the two connections are joined byte for byte until either side closes. The gateway
//! does not read the frames; what it had to check, it checked on the upgrade request.

use std::time::Duration;

use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use super::Lease;

/// Once one side has closed, how long the other may go on sending before the tunnel is dropped (as
/// nginx lingers 5 s): a peer that never closes its half must not hold the tunnel forever.
const CLOSE_GRACE: Duration = Duration::from_secs(5);

/// Joins the client's upgraded connection to the upstream's, holding the endpoint's lease for as
/// long as the tunnel is open (least-request counts an open WebSocket as a request in flight).
pub async fn join(client: OnUpgrade, upstream: OnUpgrade, lease: Lease) {
    let endpoint = lease.endpoint().address.clone();
    let (client, upstream) = match tokio::try_join!(client, upstream) {
        Ok(both) => both,
        Err(err) => {
            tracing::debug!(%endpoint, error = %err, "an upgraded connection did not open");
            return;
        }
    };
    let (client_read, client_write) = tokio::io::split(TokioIo::new(client));
    let (upstream_read, upstream_write) = tokio::io::split(TokioIo::new(upstream));
    let up = pipe(client_read, upstream_write);
    let down = pipe(upstream_read, client_write);
    tokio::pin!(up, down);
    let (first, rest) = tokio::select! {
        first = &mut up => (first, tokio::time::timeout(CLOSE_GRACE, &mut down).await),
        first = &mut down => (first, tokio::time::timeout(CLOSE_GRACE, &mut up).await),
    };
    match (first, rest) {
        (Ok(_), Ok(Ok(_))) => tracing::debug!(%endpoint, "tunnel closed"),
        (Ok(_), Err(_)) => tracing::debug!(%endpoint, "tunnel dropped: one side never closed"),
        (Err(err), _) | (_, Ok(Err(err))) => {
            tracing::debug!(%endpoint, error = %err, "tunnel ended with an error");
        }
    }
    drop(lease);
}

/// Copies one direction until its reader ends, then passes the end on (a half close).
async fn pipe(
    mut from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
) -> std::io::Result<u64> {
    let copied = tokio::io::copy(&mut from, &mut to).await?;
    to.shutdown().await?;
    Ok(copied)
}
