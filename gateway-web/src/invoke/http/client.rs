//! The pooled HTTP client of one upstream: hyper's keep-alive pool over a TCP connector with
//! `TCP_NODELAY` and the backend's connect timeout, TLS by rustls (SNI, optional client certificate,
//! HTTP/2 by ALPN) for `https://` endpoints, prior-knowledge HTTP/2 (h2c) when the backend says so.
//!
//! hyper's client rather than reqwest on the hot path: it takes the request's body as it is (streamed,
//! no re-wrapping) and costs fewer instructions per relay (BENCHMARKS.md has both figures).

use std::path::Path;
use std::time::Duration;

use api_model::upstream::{HttpBackend, HttpVersion, UpstreamTls};
use axum::body::Body;
use hyper_rustls::{ConfigBuilderExt, HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use rustls::pki_types::ServerName;

use crate::access::tls::{certificates, private_key};

pub type HttpClient = Client<HttpsConnector<HttpConnector>, Body>;

/// Makes the client. Reads the TLS files (relative to `base_dir`), so it runs when a snapshot is
/// instantiated, never per request.
pub fn client(
    settings: &HttpBackend,
    connect_timeout: Duration,
    base_dir: &Path,
) -> Result<HttpClient, String> {
    let mut tcp = HttpConnector::new();
    tcp.enforce_http(false);
    tcp.set_nodelay(true);
    tcp.set_connect_timeout(Some(connect_timeout));
    tcp.set_keepalive(Some(Duration::from_secs(60)));

    let tls = tls_config(settings.tls.as_ref(), base_dir)?;
    let builder = HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http();
    let builder = match settings.tls.as_ref().and_then(|t| t.server_name.clone()) {
        Some(name) => {
            let name = ServerName::try_from(name.clone())
                .map_err(|err| format!("tls.server_name `{name}`: {err}"))?;
            builder.with_server_name_resolver(hyper_rustls::FixedServerNameResolver::new(name))
        }
        None => builder,
    };
    // The builder sets ALPN to match what it enables.
    let connector = match settings.version {
        HttpVersion::Auto => builder.enable_all_versions().wrap_connector(tcp),
        HttpVersion::Http1 => builder.enable_http1().wrap_connector(tcp),
        HttpVersion::Http2 => builder.enable_http2().wrap_connector(tcp),
    };

    let mut client = Client::builder(TokioExecutor::new());
    client
        .pool_idle_timeout(settings.idle_timeout)
        .pool_max_idle_per_host(settings.max_idle_per_endpoint)
        .pool_timer(TokioTimer::new())
        .timer(TokioTimer::new());
    if settings.version == HttpVersion::Http2 {
        client
            .http2_only(true)
            .http2_keep_alive_interval(Duration::from_secs(30))
            .http2_keep_alive_timeout(Duration::from_secs(10));
    }
    Ok(client.build(connector))
}

/// The rustls client configuration: the CA file's roots or the system's, and the client certificate.
fn tls_config(tls: Option<&UpstreamTls>, base_dir: &Path) -> Result<rustls::ClientConfig, String> {
    let builder = rustls::ClientConfig::builder();
    let builder = match tls.and_then(|t| t.ca_file.as_deref()) {
        Some(file) => {
            let mut roots = rustls::RootCertStore::empty();
            for cert in certificates(&base_dir.join(file))? {
                roots
                    .add(cert)
                    .map_err(|err| format!("tls.ca_file {file}: {err}"))?;
            }
            builder.with_root_certificates(roots)
        }
        None => builder
            .with_native_roots()
            .map_err(|err| format!("the system's root certificates: {err}"))?,
    };
    let config = match tls.and_then(|t| t.certificate_file.as_deref().zip(t.key_file.as_deref())) {
        Some((cert, key)) => builder
            .with_client_auth_cert(
                certificates(&base_dir.join(cert))?,
                private_key(&base_dir.join(key))?,
            )
            .map_err(|err| format!("tls client certificate: {err}"))?,
        None => builder.with_no_client_auth(),
    };
    Ok(config)
}
