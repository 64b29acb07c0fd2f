//! `demo-backend --listen ADDR [--dubbo ADDR]`: the demo gRPC backend alone, on a single-threaded runtime,
//! for benchmarks (the baseline the gateway is compared against must not take a second core); with
//! `--dubbo`, the demo Dubbo2 `UserService` beside it, for the portal's local development stack.

use std::net::SocketAddr;

use clap::Parser;
use gateway_demo::stop::Stop;
use tokio::net::TcpListener;

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
            let dubbo = match flags.dubbo {
                Some(address) => Some(TcpListener::bind(address).await?),
                None => None,
            };
            // Ctrl-C, or either server ending, stops both.
            let stop = Stop::default();
            let grpc = stop.until_done(gateway_demo::serve_backend(listener, stop.signalled()));
            let dubbo = async {
                match dubbo {
                    Some(listener) => {
                        stop.until_done(gateway_demo::serve_dubbo(listener, stop.signalled()))
                            .await
                    }
                    None => Ok(()),
                }
            };
            let (grpc, dubbo, ()) = tokio::join!(grpc, dubbo, stop.on_ctrl_c());
            grpc.and(dubbo)
        })
}
