//! `dubbo-mock-provider --listen ADDR`: a Dubbo2 provider that costs almost nothing and never changes, the
//! backend of the Dubbo benchmark. Every request gets the same pre-encoded reply (a small User) under its
//! own id, whatever it asked; heartbeats are answered. Single-threaded, so the baseline the gateway is
//! compared against does not take a second core.

use std::borrow::Cow;
use std::net::SocketAddr;
use std::sync::Arc;

use clap::Parser;
use dubbo_codec::frame::STATUS_OK;
use gateway_demo::dubbo::reply::Reply;
use gateway_demo::dubbo::server::{self, Answer, Handler};
use gateway_demo::dubbo::users;

#[derive(Parser, Debug)]
struct Flags {
    #[arg(long, default_value = "127.0.0.1:20880")]
    listen: SocketAddr,
}

/// One reply body, encoded at start-up: answering a request copies bytes and nothing else.
struct FixedReply(Vec<u8>);

impl Handler for FixedReply {
    fn handle(&self, _body: &[u8]) -> Answer<'_> {
        Answer {
            status: STATUS_OK,
            body: Cow::Borrowed(&self.0),
        }
    }
}

fn main() -> anyhow::Result<()> {
    let flags = Flags::parse();
    let reply = FixedReply(Reply::Value(users::user(42)).encode());
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(async move {
            let listener = tokio::net::TcpListener::bind(flags.listen).await?;
            let shutdown = async {
                let _ = tokio::signal::ctrl_c().await;
            };
            server::serve(listener, shutdown, Arc::new(reply)).await
        })
}
