//! `client-cost --client hyper|reqwest --url URL --requests N`: N JSON POSTs over `--connections`
//! keep-alive connections, one request in flight on each, on one thread, with either the client the
//! gateway relays with (hyper's pooled client, built by the gateway's own code) or reqwest. Run under
//! callgrind at two request counts, the difference over the extra requests is the client's cost per
//! request without its setup (`bench/client_cost.sh`): the figure that chose the relay's client.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::ensure;
use bytes::Bytes;
use clap::{Parser, ValueEnum};
use futures::future::BoxFuture;
use http_body_util::BodyExt as _;

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Kind {
    Hyper,
    Reqwest,
}

#[derive(Parser, Debug)]
#[command(about = "HTTP client cost per request: the gateway's hyper client against reqwest")]
struct Flags {
    #[arg(long, value_enum)]
    client: Kind,
    #[arg(long)]
    url: String,
    #[arg(long, default_value_t = 10_000)]
    requests: u64,
    #[arg(long, default_value_t = 16)]
    connections: usize,
    #[arg(
        long,
        default_value = r#"{"message":"hello","number":42,"tags":["a","b"]}"#
    )]
    body: String,
}

type Call = Arc<dyn Fn() -> BoxFuture<'static, anyhow::Result<()>> + Send + Sync>;

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let flags = Flags::parse();
    let body = Bytes::from(flags.body.clone());
    let url: http::Uri = flags.url.parse()?;
    let call: Call = match flags.client {
        Kind::Hyper => {
            let client = gateway_web::invoke::http::client(
                &api_model::upstream::HttpBackend::default(),
                Duration::from_secs(5),
                Path::new("."),
            )
            .map_err(anyhow::Error::msg)?;
            Arc::new(move || {
                let request = http::Request::post(url.clone())
                    .header(http::header::CONTENT_TYPE, "application/json")
                    .body(axum::body::Body::from(body.clone()));
                let client = client.clone();
                Box::pin(async move {
                    let response = client.request(request?).await?;
                    ensure!(response.status() == 200, "answered {}", response.status());
                    response.into_body().collect().await?;
                    Ok(())
                })
            })
        }
        Kind::Reqwest => {
            let client = reqwest::Client::builder()
                .tcp_nodelay(true)
                .connect_timeout(Duration::from_secs(5))
                .build()?;
            let url = flags.url.clone();
            Arc::new(move || {
                let request = client
                    .post(&url)
                    .header(http::header::CONTENT_TYPE, "application/json")
                    .body(body.clone());
                Box::pin(async move {
                    let response = request.send().await?;
                    ensure!(response.status() == 200, "answered {}", response.status());
                    response.bytes().await?;
                    Ok(())
                })
            })
        }
    };

    let issued = Arc::new(AtomicU64::new(0));
    let started = std::time::Instant::now();
    let workers: Vec<_> = (0..flags.connections)
        .map(|_| {
            let (call, issued) = (call.clone(), issued.clone());
            tokio::spawn(async move {
                while issued.fetch_add(1, Ordering::Relaxed) < flags.requests {
                    call().await?;
                }
                anyhow::Ok(())
            })
        })
        .collect();
    for worker in workers {
        worker.await??;
    }
    let elapsed = started.elapsed();
    println!(
        "{{\"client\":\"{:?}\",\"requests\":{},\"seconds\":{:.3}}}",
        flags.client,
        flags.requests,
        elapsed.as_secs_f64()
    );
    Ok(())
}
