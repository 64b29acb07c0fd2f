//! TLS on the shared accept loop: each connection is handshaken (bounded in time) on its own task, so
//! accepting never waits on a handshake, and served with what the handshake established (SNI, the
//! client certificate's SHA-256) attached to every request.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;
use axum::Router;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use super::config::{TlsSettings, server_config};
use crate::access::TlsInfo;
use crate::access::connections::{ConnectionLimits, accept_loop};

/// A client has this long to finish its handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

pub async fn serve(
    listener: TcpListener,
    app: Router,
    settings: TlsSettings,
    limits: ConnectionLimits,
    reload_interval: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let config = Arc::new(ArcSwap::from_pointee(
        server_config(&settings).map_err(anyhow::Error::msg)?,
    ));
    let reloader = tokio::spawn(reload(settings, config.clone(), reload_interval));
    accept_loop(listener, app, limits, shutdown, |tcp, connection| {
        let acceptor = TlsAcceptor::from(config.load_full());
        async move {
            let peer = connection.peer;
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
            connection.serve(stream, Some(info)).await;
        }
    })
    .await;
    reloader.abort();
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
