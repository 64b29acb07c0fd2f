//! The TLS accept loop. Accepting never waits on a handshake: each connection is handshaken (bounded in
//! time) and served on its own task, with what the handshake established (SNI, the client
//! certificate's SHA-256) and the peer address attached to every request. On shutdown the loop stops
//! accepting and waits for open connections to finish their requests.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;
use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt as _;

use super::config::{TlsSettings, server_config};
use crate::access::TlsInfo;

/// A client has this long to finish its handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long open connections get to finish once shutdown starts.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

pub async fn serve(
    listener: TcpListener,
    app: Router,
    settings: TlsSettings,
    reload_interval: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let config = Arc::new(ArcSwap::from_pointee(
        server_config(&settings).map_err(anyhow::Error::msg)?,
    ));
    let reloader = tokio::spawn(reload(settings, config.clone(), reload_interval));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let builder = Builder::new(TokioExecutor::new());
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    tracing::warn!(error = %err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = TlsAcceptor::from(config.load_full());
        let app = app.clone();
        let builder = builder.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(stream)) => stream,
                Ok(Err(err)) => {
                    tracing::debug!(%peer, error = %err, "TLS handshake failed");
                    return;
                }
                Err(_) => {
                    tracing::debug!(%peer, "TLS handshake timed out");
                    return;
                }
            };
            let (_, session) = stream.get_ref();
            let info = Arc::new(TlsInfo {
                server_name: session.server_name().map(str::to_string),
                client_certificate: session
                    .peer_certificates()
                    .and_then(|chain| chain.first())
                    .map(|leaf| crate::interceptors::auth::consumers::sha256(leaf.as_ref())),
            });
            let service = hyper::service::service_fn(
                move |mut request: hyper::Request<hyper::body::Incoming>| {
                    request
                        .extensions_mut()
                        .insert(ConnectInfo::<SocketAddr>(peer));
                    request.extensions_mut().insert(info.clone());
                    app.clone().oneshot(request)
                },
            );
            let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
            if let Err(err) = watcher.watch(connection.into_owned()).await {
                tracing::debug!(%peer, error = %err, "TLS connection ended with an error");
            }
        });
    }
    reloader.abort();
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            "some TLS connections were still open after {DRAIN_TIMEOUT:?}; closing them"
        );
    }
    Ok(())
}

/// Rebuilds the configuration when a file changes; a configuration that fails keeps the old one.
async fn reload(
    settings: TlsSettings,
    config: Arc<ArcSwap<rustls::ServerConfig>>,
    every: Duration,
) {
    let files = settings.files();
    let mut seen = stamps(&files);
    let mut interval = tokio::time::interval(every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        let now = stamps(&files);
        if now == seen {
            continue;
        }
        seen = now;
        match server_config(&settings) {
            Ok(fresh) => {
                config.store(Arc::new(fresh));
                tracing::info!("TLS certificates reloaded");
            }
            Err(err) => {
                tracing::error!(error = %err, "TLS certificates refused; still serving the previous ones")
            }
        }
    }
}

fn stamps(files: &[PathBuf]) -> Vec<Option<(SystemTime, u64)>> {
    files
        .iter()
        .map(|path| {
            std::fs::metadata(path)
                .ok()
                .and_then(|m| Some((m.modified().ok()?, m.len())))
        })
        .collect()
}
