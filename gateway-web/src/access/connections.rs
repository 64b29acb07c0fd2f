//! The accept loop both listeners share (plain HTTP and TLS): a cap on open connections per client
//! address, a deadline for each request's head (a client sending its headers a byte a second is cut
//! off instead of holding a connection for minutes), `TCP_NODELAY`, and a graceful drain on shutdown.
//! What a connection carries into each request (the peer address, TLS facts) is attached here.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt as _;

use super::TlsInfo;
use super::exchange::HeadLimits;

/// How long open connections get to finish once shutdown starts.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Open connections one client address may hold; more are closed at once. 0: no cap (behind a
    /// load balancer every connection comes from its few addresses).
    pub per_ip: usize,
    /// The longest a request's head may take to arrive (HTTP/1.1). hyper starts the clock when the
    /// connection is ready for its next request, so this also bounds an idle keep-alive connection.
    pub header_read_timeout: Duration,
    /// The longest a request's body may take to arrive once it is read (408 after).
    pub body_read_timeout: Duration,
    /// The largest request head, checked where the refusal can carry the error shape.
    pub head: HeadLimits,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            per_ip: 256,
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(10),
            head: HeadLimits::default(),
        }
    }
}

/// Open connections by client address.
#[derive(Default)]
struct OpenConnections(Mutex<HashMap<IpAddr, usize>>);

/// One counted connection; uncounted when dropped.
struct Counted {
    open: Arc<OpenConnections>,
    ip: IpAddr,
}

impl OpenConnections {
    fn enter(self: &Arc<Self>, ip: IpAddr, cap: usize) -> Option<Counted> {
        let mut open = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let count = open.entry(ip).or_insert(0);
        if *count >= cap {
            return None;
        }
        *count += 1;
        Some(Counted {
            open: self.clone(),
            ip,
        })
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        let mut open = self.open.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = open.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

/// What serving one accepted connection needs.
pub struct Connection {
    pub app: Router,
    pub peer: SocketAddr,
    builder: Builder<TokioExecutor>,
    watcher: Watcher,
}

impl Connection {
    /// Serves HTTP/1.1 and HTTP/2 on `io` until the client closes it or shutdown drains it.
    pub async fn serve<I>(self, io: I, tls: Option<Arc<TlsInfo>>)
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let peer = self.peer;
        let app = self.app;
        let service = hyper::service::service_fn(
            move |mut request: hyper::Request<hyper::body::Incoming>| {
                request
                    .extensions_mut()
                    .insert(ConnectInfo::<SocketAddr>(peer));
                if let Some(info) = &tls {
                    request.extensions_mut().insert(info.clone());
                }
                app.clone().oneshot(request)
            },
        );
        let connection = self
            .builder
            .serve_connection_with_upgrades(TokioIo::new(io), service);
        if let Err(err) = self.watcher.watch(connection.into_owned()).await {
            tracing::debug!(%peer, error = %err, "connection ended with an error");
        }
    }
}

/// Accepts until `shutdown`, hands each connection within the caps to `serve` on its own task, then
/// drains.
pub async fn accept_loop<F, Fut>(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
    serve: F,
) where
    F: Fn(TcpStream, Connection) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let graceful = GracefulShutdown::new();
    let mut builder = Builder::new(TokioExecutor::new());
    // hyper refuses a head beyond its buffer itself, with a bare 431 and no body; the buffer leaves room
    // (four times the node's own limits: 160 KiB by default, the most one connection's head can hold)
    // so that a head well over them still reaches `refuse_oversized_head` and is answered in the error
    // shape, with a request id.
    let head_room = (4 * (limits.head.max_uri_bytes + limits.head.max_header_bytes)).max(64 << 10);
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(head_room.max(8 << 10))
        .max_headers(limits.head.max_headers * 2);
    builder
        .http2()
        .max_header_list_size(u32::try_from(head_room).unwrap_or(u32::MAX));
    let open = Arc::new(OpenConnections::default());
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors, say: back off rather than spin.
                    tracing::warn!(error = %err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let counted = match limits.per_ip {
            0 => None,
            cap => match open.enter(peer.ip(), cap) {
                Some(counted) => Some(counted),
                None => {
                    tracing::debug!(%peer, cap, "connection refused: too many open from this address");
                    drop(tcp);
                    continue;
                }
            },
        };
        // Without TCP_NODELAY an HTTP/2 reply written as HEADERS then DATA waits on the client's
        // delayed ACK (up to 40 ms on Linux); every serious proxy turns Nagle off on both sides.
        if let Err(err) = tcp.set_nodelay(true) {
            tracing::debug!(error = %err, "could not set TCP_NODELAY");
        }
        let connection = Connection {
            app: app.clone(),
            peer,
            builder: builder.clone(),
            watcher: graceful.watcher(),
        };
        let served = serve(tcp, connection);
        tokio::spawn(async move {
            served.await;
            drop(counted);
        });
    }
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("some connections were still open after {DRAIN_TIMEOUT:?}; closing them");
    }
}
