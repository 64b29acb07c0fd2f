//! `gateway-web --config FILE` (standalone) or `gateway-web --database-url URL` (Postgres mode): the
//! data plane as a process: flags, logging, runtime, signals.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

#[derive(Parser, Debug)]
#[command(version, about = "HTTP/JSON to gRPC gateway (data plane)")]
struct Flags {
    /// The definitions file (YAML); watched and reloaded on change. Standalone mode.
    #[arg(
        long,
        env = "GATEWAY_CONFIG",
        required_unless_present = "database_url",
        conflicts_with = "database_url"
    )]
    config: Option<PathBuf>,
    /// The definitions store (`postgres://user:password@host:port/db`). Postgres mode.
    #[arg(long, env = "GATEWAY_DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// Postgres mode: where the last good revision is persisted; the node boots from it when the
    /// store is unreachable.
    #[arg(
        long,
        env = "GATEWAY_SNAPSHOT_FILE",
        default_value = "./gateway-snapshot.json"
    )]
    snapshot_file: PathBuf,
    /// Postgres mode: how often the store is polled for a newer revision (the fallback to
    /// LISTEN/NOTIFY).
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    poll_interval: Duration,
    /// Address to listen on (HTTP/1.1 and h2c, or HTTPS with `--tls-cert`).
    #[arg(long, env = "GATEWAY_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Largest request body accepted, in bytes.
    #[arg(long, default_value_t = 4 << 20)]
    max_body_bytes: usize,
    /// Open connections one client address may hold; more are closed at once. 0 turns the cap off
    /// (behind a load balancer, whose few addresses carry every client).
    #[arg(long, default_value_t = 256)]
    max_connections_per_ip: usize,
    /// The longest a request's head may take to arrive (a client trickling headers is cut off).
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    header_read_timeout: Duration,
    /// Longest request target (path and query) accepted, in bytes; longer is a 414.
    #[arg(long, default_value_t = 8 << 10)]
    max_uri_bytes: usize,
    /// Largest request head (every header line together) accepted, in bytes; larger is a 431.
    #[arg(long, default_value_t = 32 << 10)]
    max_header_bytes: usize,
    /// Most header fields a request may have; more is a 431.
    #[arg(long, default_value_t = 100)]
    max_headers: usize,
    /// The longest a request's body may take to arrive (408 after).
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    body_read_timeout: Duration,
    /// How often the config file is checked for changes.
    #[arg(long, default_value = "1s", value_parser = humantime::parse_duration)]
    reload_interval: Duration,
    /// Runtime worker threads (default: one per core). Benchmarks pin one.
    #[arg(long, env = "GATEWAY_WORKERS")]
    workers: Option<usize>,
    /// Log as JSON lines instead of text.
    #[arg(long)]
    log_json: bool,
    /// The Redis every node shares (nonces, rate-limit counts, live-node count):
    /// `redis://[:password@]host:port[/db]`. Policies that need it follow their own rule when it is
    /// absent or down.
    #[arg(long, env = "GATEWAY_REDIS_URL", hide_env_values = true)]
    redis_url: Option<String>,
    /// Serve HTTPS with this certificate chain (PEM). Repeat with `--tls-key` for several: the
    /// client's SNI picks one, the first serves the rest. Files are reloaded when they change.
    #[arg(long)]
    tls_cert: Vec<PathBuf>,
    /// The private key (PEM) of the `--tls-cert` in the same position.
    #[arg(long)]
    tls_key: Vec<PathBuf>,
    /// Ask clients for a certificate issued by this CA (PEM): mTLS, for `client_certificate` policies.
    #[arg(long)]
    tls_client_ca: Option<PathBuf>,
    /// With `--tls-client-ca`: refuse clients without a certificate (by default it is optional).
    #[arg(long)]
    tls_require_client_cert: bool,
}

/// glibc's allocator was a sixth of the instructions per request (benchmarked with callgrind); mimalloc's
/// thread-local free lists suit a proxy's many short-lived buffers.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    let flags = Flags::parse();
    init_logging(flags.log_json);
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if let Some(workers) = flags.workers {
        runtime.worker_threads(workers.max(1));
    }
    runtime.enable_all().build()?.block_on(async move {
        let listener = tokio::net::TcpListener::bind(flags.listen).await?;
        let mut settings = match (flags.config, flags.database_url) {
            (_, Some(url)) => {
                let mut settings = gateway_web::Settings::postgres(url, flags.snapshot_file);
                if let Some(store) = settings.store.as_mut() {
                    store.poll_interval = flags.poll_interval;
                }
                settings
            }
            (Some(path), None) => gateway_web::Settings::new(path),
            (None, None) => anyhow::bail!("give --config FILE or --database-url URL"),
        };
        settings.max_body_bytes = flags.max_body_bytes;
        settings.connections = gateway_web::access::connections::ConnectionLimits {
            per_ip: flags.max_connections_per_ip,
            header_read_timeout: flags.header_read_timeout,
            body_read_timeout: flags.body_read_timeout,
            head: gateway_web::access::HeadLimits {
                max_uri_bytes: flags.max_uri_bytes,
                max_header_bytes: flags.max_header_bytes,
                max_headers: flags.max_headers,
            },
        };
        settings.reload_interval = flags.reload_interval;
        settings.redis_url = flags.redis_url.map(api_model::Secret);
        if flags.tls_cert.len() != flags.tls_key.len() {
            anyhow::bail!("give one --tls-key per --tls-cert, in the same order");
        }
        if !flags.tls_cert.is_empty() {
            settings.tls = Some(gateway_web::access::tls::TlsSettings {
                certificates: flags.tls_cert.into_iter().zip(flags.tls_key).collect(),
                client_ca: flags.tls_client_ca,
                require_client_certificate: flags.tls_require_client_cert,
            });
        } else if flags.tls_client_ca.is_some() {
            anyhow::bail!("--tls-client-ca needs --tls-cert and --tls-key");
        }
        // Opens the sealed secrets of published revisions; from the environment only, like the portal.
        settings.secret_key = gateway_web::stores::SecretKey::from_env()
            .map_err(anyhow::Error::msg)?
            .map(std::sync::Arc::new);
        gateway_web::run(settings, listener, shutdown_signal()).await
    })
}

fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    if json {
        builder.json().init()
    } else {
        builder.init()
    }
}

/// Ctrl-C or SIGTERM: stop accepting, let in-flight requests finish.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: draining in-flight requests");
}
