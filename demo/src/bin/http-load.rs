//! `http-load --url URL`: an HTTP/1.1 load generator for the policy benchmarks, where every request may
//! need to differ (a partner signature carries a fresh timestamp and nonce, which no off-the-shelf
//! tool here can make per request). Persistent connections, one request in flight on each; closed loop,
//! or with `--rate` a fixed total rate spread over the connections, latency measured from when each
//! request was written (as h2load does); or exactly `--requests` requests (for instruction counts). One
//! thread, pinned by whoever runs it. Prints one JSON line.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, ensure};
use base64::Engine as _;
use bytes::Bytes;
use clap::Parser;
use http_body_util::{BodyExt as _, Full};
use tokio::net::TcpStream;
use tokio::time::Instant;

#[derive(Parser, Debug, Clone)]
#[command(
    about = "HTTP/1.1 load generator that can sign every request (the gateway's partner scheme)"
)]
struct Flags {
    /// `http://host:port/path?query`.
    #[arg(long)]
    url: String,
    /// The request body (sent with POST); GET when absent.
    #[arg(long)]
    body: Option<String>,
    /// `name: value`, repeatable.
    #[arg(long = "header")]
    headers: Vec<String>,
    /// `APP_KEY:SECRET`: sign each request with the partner scheme (docs/signing.md), covering
    /// content-type.
    #[arg(long)]
    sign: Option<String>,
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// A fixed total rate in requests per second; closed loop when absent.
    #[arg(long)]
    rate: Option<f64>,
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    duration: Duration,
    #[arg(long, default_value = "1s", value_parser = humantime::parse_duration)]
    warmup: Duration,
    /// Send exactly this many requests (spread over the connections) and stop; no warm-up.
    #[arg(long)]
    requests: Option<u64>,
}

struct Target {
    authority: String,
    path_and_query: String,
    path: String,
    query: Vec<(String, String)>,
}

fn parse_target(url: &str) -> anyhow::Result<Target> {
    let rest = url.strip_prefix("http://").context("only http:// URLs")?;
    let (authority, path_and_query) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path_and_query = if path_and_query.is_empty() {
        "/"
    } else {
        path_and_query
    };
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let query = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let decode = |s: &str| {
                percent_encoding::percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (decode(k), decode(v))
        })
        .collect();
    Ok(Target {
        authority: authority.to_string(),
        path_and_query: path_and_query.to_string(),
        path: path.to_string(),
        query,
    })
}

/// Everything but the RFC 3986 unreserved characters is percent-encoded in the canonical query.
const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The partner scheme's headers for one request (the string to sign of docs/signing.md).
fn signature(
    target: &Target,
    body: &[u8],
    app_key: &str,
    secret: &ring::hmac::Key,
    nonce: u64,
) -> [(String, String); 5] {
    use percent_encoding::utf8_percent_encode;
    let mut pairs: Vec<(String, String)> = target
        .query
        .iter()
        .map(|(k, v)| {
            (
                utf8_percent_encode(k, UNRESERVED).to_string(),
                utf8_percent_encode(v, UNRESERVED).to_string(),
            )
        })
        .collect();
    pairs.sort();
    let query: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let timestamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis()
        .to_string();
    let nonce = format!("load-{}-{nonce:016x}", std::process::id());
    let digest = ring::digest::digest(&ring::digest::SHA256, body);
    let digest: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    let method = if body.is_empty() { "GET" } else { "POST" };
    let text = format!(
        "GW1-HMAC-SHA256\n{method}\n{}\n{}\ncontent-type:application/json\n{app_key}\n{timestamp}\n{nonce}\n{digest}",
        target.path,
        query.join("&")
    );
    let tag = ring::hmac::sign(secret, text.as_bytes());
    [
        ("x-app-key".into(), app_key.into()),
        ("x-timestamp".into(), timestamp),
        ("x-nonce".into(), nonce),
        ("x-signed-headers".into(), "content-type".into()),
        (
            "x-signature".into(),
            base64::engine::general_purpose::STANDARD.encode(tag.as_ref()),
        ),
    ]
}

#[derive(Default)]
struct Counts {
    sent: AtomicU64,
    ok: AtomicU64,
    failed: AtomicU64,
}

struct Shared {
    flags: Flags,
    target: Target,
    headers: Vec<(String, String)>,
    signing: Option<(String, ring::hmac::Key)>,
    nonce: AtomicU64,
    counts: Counts,
    latencies: std::sync::Mutex<Vec<u32>>,
}

async fn connection(
    shared: Arc<Shared>,
    index: usize,
    start: Instant,
    measure: Instant,
    end: Instant,
    quota: Option<u64>,
) -> anyhow::Result<()> {
    let stream = TcpStream::connect(&shared.target.authority).await?;
    stream.set_nodelay(true)?;
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    let body = Bytes::from(shared.flags.body.clone().unwrap_or_default());
    let interval = shared
        .flags
        .rate
        .map(|rate| Duration::from_secs_f64(shared.flags.connections as f64 / rate));
    // Connections start at spread phases, as independent clients do.
    let mut next = start
        + interval.map_or(Duration::ZERO, |i| {
            i.mul_f64(index as f64 / shared.flags.connections as f64)
        });
    let mut done = 0u64;
    let mut local = Vec::new();
    loop {
        if let Some(quota) = quota {
            if done >= quota {
                break;
            }
        } else if Instant::now() >= end {
            break;
        }
        if let Some(interval) = interval {
            tokio::time::sleep_until(next).await;
            next += interval;
        }
        let mut request = hyper::Request::builder()
            .method(if body.is_empty() { "GET" } else { "POST" })
            .uri(&shared.target.path_and_query)
            .header("host", &shared.target.authority);
        for (name, value) in &shared.headers {
            request = request.header(name, value);
        }
        if let Some((app_key, key)) = &shared.signing {
            let n = shared.nonce.fetch_add(1, Ordering::Relaxed);
            for (name, value) in signature(&shared.target, &body, app_key, key, n) {
                request = request.header(name, value);
            }
        }
        let request = request.body(Full::new(body.clone()))?;
        let sent = Instant::now();
        sender.ready().await?;
        let response = sender.send_request(request).await?;
        let status = response.status();
        let _ = response.into_body().collect().await?;
        let elapsed = sent.elapsed();
        done += 1;
        if quota.is_some() || sent >= measure {
            shared.counts.sent.fetch_add(1, Ordering::Relaxed);
            if status == 200 {
                shared.counts.ok.fetch_add(1, Ordering::Relaxed);
                local.push(elapsed.as_micros().min(u128::from(u32::MAX)) as u32);
            } else {
                shared.counts.failed.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    shared
        .latencies
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .extend(local);
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let flags = Flags::parse();
    ensure!(flags.connections > 0, "--connections must be at least 1");
    let target = parse_target(&flags.url)?;
    let headers = flags
        .headers
        .iter()
        .map(|h| {
            let (name, value) = h.split_once(':').context("a header is `name: value`")?;
            Ok((name.trim().to_string(), value.trim().to_string()))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let signing = match &flags.sign {
        Some(text) => {
            let (app_key, secret) = text.split_once(':').context("--sign is APP_KEY:SECRET")?;
            Some((
                app_key.to_string(),
                ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes()),
            ))
        }
        None => None,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let shared = Arc::new(Shared {
            flags: flags.clone(),
            target,
            headers,
            signing,
            nonce: AtomicU64::new(0),
            counts: Counts::default(),
            latencies: std::sync::Mutex::new(Vec::new()),
        });
        let start = Instant::now();
        let (measure, end) = match flags.requests {
            Some(_) => (start, start),
            None => (start + flags.warmup, start + flags.warmup + flags.duration),
        };
        let per = flags.requests.map(|n| n.div_ceil(flags.connections as u64));
        let mut tasks = Vec::new();
        for i in 0..flags.connections {
            tasks.push(tokio::spawn(connection(
                shared.clone(),
                i,
                start,
                measure,
                end,
                per,
            )));
        }
        for task in tasks {
            task.await??;
        }
        let seconds = if flags.requests.is_some() {
            start.elapsed().as_secs_f64()
        } else {
            flags.duration.as_secs_f64()
        };
        let mut latencies = shared
            .latencies
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        latencies.sort_unstable();
        let pick = |q: f64| {
            latencies
                .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
                .copied()
                .unwrap_or(0)
        };
        let ok = shared.counts.ok.load(Ordering::Relaxed);
        println!(
            "{}",
            serde_json::json!({
                "requests": shared.counts.sent.load(Ordering::Relaxed),
                "ok": ok,
                "failed": shared.counts.failed.load(Ordering::Relaxed),
                "rps": ok as f64 / seconds.max(1e-9),
                "p50_us": pick(0.50),
                "p99_us": pick(0.99),
            })
        );
        anyhow::Ok(())
    })
}
