//! `demo-backend --listen ADDR [--dubbo ADDR]`: the demo gRPC backend alone, on a single-threaded runtime,
//! for benchmarks (the baseline the gateway is compared against must not take a second core); with
//! `--dubbo`, the demo Dubbo2 `UserService` beside it, for the portal's local development stack.

use std::net::SocketAddr;

use clap::Parser;
use tokio::net::TcpListener;
use tokio::sync::watch;

#[derive(Parser, Debug)]
struct Flags {
    #[arg(long, default_value = "127.0.0.1:50051")]
    listen: SocketAddr,
    /// Also serve `org.apache.dubbo.demo.UserService` 1.0.0 over Dubbo2 here.
    #[arg(long)]
    dubbo: Option<SocketAddr>,
}

fn main() -> anyhow::Result<()> {
    let flags = Flags::parse();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(async move {
            let listener = TcpListener::bind(flags.listen).await?;
            let (stop, _) = watch::channel(false);
            let stopped = |stop: &watch::Sender<bool>| {
                let mut receiver = stop.subscribe();
                async move {
                    let _ = receiver.wait_for(|stopped| *stopped).await;
                }
            };
            let dubbo = match flags.dubbo {
                Some(address) => Some(TcpListener::bind(address).await?),
                None => None,
            };
            let grpc = gateway_demo::serve_backend(listener, stopped(&stop));
            let dubbo = async {
                match dubbo {
                    Some(listener) => gateway_demo::serve_dubbo(listener, stopped(&stop)).await,
                    None => Ok(()),
                }
            };
            let ctrl_c = async {
                let _ = tokio::signal::ctrl_c().await;
                stop.send_replace(true);
            };
            // Either server failing stops the other, so the process never lingers half up.
            let (grpc, dubbo, ()) = tokio::join!(
                async {
                    let result = grpc.await;
                    stop.send_replace(true);
                    result
                },
                async {
                    let result = dubbo.await;
                    if result.is_err() {
                        stop.send_replace(true);
                    }
                    result
                },
                async {
                    tokio::select! {
                        () = ctrl_c => {}
                        () = stopped(&stop) => {}
                    }
                },
            );
            grpc.and(dubbo)
        })
}
