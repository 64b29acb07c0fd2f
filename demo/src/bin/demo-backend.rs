//! `demo-backend --listen ADDR`: the demo gRPC backend alone, on a single-threaded runtime, for benchmarks
//! (the baseline the gateway is compared against must not take a second core).

use std::net::SocketAddr;

use clap::Parser;

#[derive(Parser, Debug)]
struct Flags {
    #[arg(long, default_value = "127.0.0.1:50051")]
    listen: SocketAddr,
}

fn main() -> anyhow::Result<()> {
    let flags = Flags::parse();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(async move {
            let listener = tokio::net::TcpListener::bind(flags.listen).await?;
            let shutdown = async {
                let _ = tokio::signal::ctrl_c().await;
            };
            gateway_demo::serve_backend(listener, shutdown).await
        })
}
