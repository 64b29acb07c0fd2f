//! Reflection pulls against real tonic reflection servers on 127.0.0.1:0, one per protocol version.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Channel, Endpoint, Server};
use tonic_reflection::server::Builder;

use super::*;
use crate::compile::compile_sources;
use crate::compile::tests::{http_get, shop_sources};

const SHOP: &str = "shop.v1.ShopService";
const PATIENCE: Duration = Duration::from_secs(10);

/// A reflection server that stops when dropped.
struct Reflector {
    addr: SocketAddr,
    _stop: oneshot::Sender<()>,
}

impl Reflector {
    async fn start(version: Version, descriptor_set: Vec<u8>) -> Self {
        // The builder borrows the bytes for as long as the service lives; a test can afford the leak.
        let bytes: &'static [u8] = descriptor_set.leak();
        let builder = Builder::configure().register_encoded_file_descriptor_set(bytes);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let mut server = Server::builder();
        let router = match version {
            Version::V1 => server.add_service(builder.build_v1().unwrap()),
            Version::V1Alpha => server.add_service(builder.build_v1alpha().unwrap()),
        };
        tokio::spawn(
            router.serve_with_incoming_shutdown(TcpIncoming::from(listener), async {
                let _ = stopped.await;
            }),
        );
        Reflector { addr, _stop: stop }
    }

    fn channel(&self) -> Channel {
        Endpoint::from_shared(format!("http://{}", self.addr))
            .unwrap()
            .connect_lazy()
    }
}

/// The shop service with every file it imports, as `protoc --include_imports` would write it.
fn shop_set() -> Vec<u8> {
    compile_sources(&shop_sources(), &["shop/v1/service.proto".into()])
        .unwrap()
        .encode_to_vec()
}

#[tokio::test]
async fn v1alpha_only_server_is_reached_by_falling_back() {
    let server = Reflector::start(Version::V1Alpha, shop_set()).await;
    let pool = fetch_by_reflection(server.channel(), &[], PATIENCE)
        .await
        .unwrap();
    assert_eq!(
        pool.services()
            .map(|s| s.full_name().to_owned())
            .collect::<Vec<_>>(),
        [SHOP]
    );
    // The option survives the trip as bytes: tonic serves files verbatim and we never re-encode them.
    assert_eq!(
        http_get(&pool, SHOP, "GetItem").as_deref(),
        Some("/v1/items/{id}")
    );
}

#[tokio::test]
async fn v1_server_with_a_named_service() {
    let server = Reflector::start(Version::V1, shop_set()).await;
    let pool = fetch_by_reflection(server.channel(), &[SHOP.into()], PATIENCE)
        .await
        .unwrap();
    assert!(pool.get_message_by_name("shop.v1.Item").is_some());
    assert_eq!(
        http_get(&pool, SHOP, "GetItem").as_deref(),
        Some("/v1/items/{id}")
    );
}

#[tokio::test]
async fn an_unknown_service_is_named_in_the_error() {
    let server = Reflector::start(Version::V1, shop_set()).await;
    let wanted = [SHOP.to_owned(), "shop.v1.Nope".to_owned()];
    let err = fetch_by_reflection(server.channel(), &wanted, PATIENCE)
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with("reflection: service shop.v1.Nope: "),
        "{text}"
    );
    assert!(text.contains("not found"), "{text}");
}

#[tokio::test]
async fn builtins_the_server_lacks_are_filled_in() {
    // Only the shop's own files: the server cannot answer for google/api/annotations.proto & co, and
    // tonic ends the stream when asked, so this also checks that server files are asked for first.
    let pool = compile_sources(&shop_sources(), &["shop/v1/service.proto".into()]).unwrap();
    let mut set = Vec::new();
    for name in ["shop/v1/types.proto", "shop/v1/service.proto"] {
        let file = pool.get_file_by_name(name).unwrap().encode_to_vec();
        prost::encoding::bytes::encode(1, &file, &mut set);
    }
    let server = Reflector::start(Version::V1, set).await;
    let pulled = fetch_by_reflection(server.channel(), &[SHOP.into()], PATIENCE)
        .await
        .unwrap();
    assert!(pulled.get_message_by_name("shop.v1.Item").is_some());
    assert!(pulled.get_file_by_name("google/api/http.proto").is_some());
    assert_eq!(
        http_get(&pulled, SHOP, "GetItem").as_deref(),
        Some("/v1/items/{id}")
    );
}

#[tokio::test]
async fn a_silent_server_times_out() {
    // Accepts connections and never speaks HTTP/2.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let held = tokio::spawn(async move {
        let mut sockets = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            sockets.push(socket);
        }
    });
    let channel = Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect_lazy();
    let limit = Duration::from_millis(300);
    let err = fetch_by_reflection(channel, &[], limit).await.unwrap_err();
    assert!(
        matches!(err, SchemaError::Timeout(after) if after == limit),
        "{err}"
    );
    held.abort();
}

#[tokio::test]
async fn an_unreachable_server_is_an_error_not_a_hang() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let channel = Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect_lazy();
    let err = fetch_by_reflection(channel, &[], PATIENCE)
        .await
        .unwrap_err();
    assert!(matches!(err, SchemaError::Reflection { .. }), "{err}");
}
