//! The demo backends: over gRPC a bookstore whose `google.api.http` annotations cover every HTTP-rule
//! feature, and an echo service without annotations that reflects what it received; over Dubbo2 a small
//! `UserService`. The same gRPC backend serves the demo command and the gateway's end-to-end tests.
//!
//! Layout:
//! - [`pb`]: the generated messages, clients and servers (tonic/prost, from `proto/` via protox).
//! - [`bookstore`]: the `demo.bookstore.v1.Bookstore` service over in-memory state.
//! - [`echo`]: the `demo.echo.v1.Echo` service.
//! - [`serve_backend`]: both services plus gRPC reflection (v1 and v1alpha) on one listener.
//! - [`dubbo`]: a Dubbo2 provider on the gateway's hessian2 codec; [`serve_dubbo`] serves the demo's
//!   `org.apache.dubbo.demo.UserService`, and the benchmark tools reuse its parts.
//! - [`inventory`]: a plain HTTP stock API (JSON and server-sent events) the gateway relays to.
//! - [`stop`]: the stop signal the demo binaries share between their servers.

use std::future::Future;
use std::path::PathBuf;

use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::transport::Server;

pub mod bookstore;
pub mod dubbo;
pub mod echo;
pub mod inventory;
pub mod stop;

pub use dubbo::serve_dubbo;
pub use inventory::serve_inventory;

/// Generated code, one module per proto package.
pub mod pb {
    /// `demo.bookstore.v1`.
    pub mod bookstore {
        include!(concat!(env!("OUT_DIR"), "/demo.bookstore.v1.rs"));
    }
    /// `demo.echo.v1`.
    pub mod echo {
        include!(concat!(env!("OUT_DIR"), "/demo.echo.v1.rs"));
    }
}

pub use pb::bookstore::bookstore_client::BookstoreClient;
pub use pb::echo::echo_client::EchoClient;

/// The encoded `FileDescriptorSet` of both demo protos and everything they import, with source info and
/// custom options (`google.api.http`) intact.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/demo_descriptor.bin"));

/// The `.proto` files, relative to this directory: `demo/bookstore/v1/bookstore.proto`,
/// `demo/echo/v1/echo.proto`.
pub const PROTO_FILES: &[&str] = &[
    "demo/bookstore/v1/bookstore.proto",
    "demo/echo/v1/echo.proto",
];

/// The absolute path of `demo/proto`, the import root of [`PROTO_FILES`].
pub fn proto_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("proto")
}

/// Serves Bookstore (fresh seeded state), Echo and gRPC reflection (v1 and v1alpha) on `listener` until
/// `shutdown` completes.
pub async fn serve_backend(
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(FILE_DESCRIPTOR_SET)
    };
    tracing::info!(address = %listener.local_addr()?, "demo backend listening (gRPC)");
    Server::builder()
        .add_service(bookstore::BookstoreService::seeded().into_server())
        .add_service(echo::EchoService.into_server())
        .add_service(reflection().build_v1()?)
        .add_service(reflection().build_v1alpha()?)
        .serve_with_incoming_shutdown(TcpListenerStream::new(listener), shutdown)
        .await?;
    Ok(())
}
