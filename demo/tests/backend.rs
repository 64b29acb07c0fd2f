//! The backend over a real socket (generated clients against `serve_backend` on 127.0.0.1:0), and the demo
//! config checked against the API model.

use std::time::Duration;

use futures::StreamExt;
use gateway_demo::pb::bookstore::{CreateShelfRequest, GetBookRequest, Shelf};
use gateway_demo::pb::echo::{CountRequest, EchoRequest, FailRequest, SleepRequest};
use gateway_demo::{BookstoreClient, EchoClient};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::Channel;
use tonic::{Code, Request};
use tonic_reflection::pb::{v1, v1alpha};
use tonic_types::StatusExt;

/// A backend on an ephemeral port, stopped (and checked for a clean exit) by [`Backend::stop`].
struct Backend {
    channel: Channel,
    stop: oneshot::Sender<()>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl Backend {
    async fn start() -> Backend {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("binds");
        let addr = listener.local_addr().expect("has an address");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(gateway_demo::serve_backend(listener, async {
            let _ = stopped.await;
        }));
        let channel = Channel::from_shared(format!("http://{addr}"))
            .expect("valid uri")
            .connect()
            .await;
        Backend {
            channel: channel.expect("connects"),
            stop,
            task,
        }
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        self.task
            .await
            .expect("joins")
            .expect("serves until shutdown");
    }
}

#[tokio::test]
async fn get_book_returns_seed_data_and_not_found() {
    let backend = Backend::start().await;
    let mut client = BookstoreClient::new(backend.channel.clone());

    let dune = client
        .get_book(GetBookRequest {
            name: "shelves/1/books/1".into(),
        })
        .await;
    let dune = dune.expect("found").into_inner();
    assert_eq!(
        (dune.title.as_str(), dune.author.as_str()),
        ("Dune", "Frank Herbert")
    );
    assert_eq!(dune.pages, Some(412));

    let missing = client
        .get_book(GetBookRequest {
            name: "shelves/1/books/99".into(),
        })
        .await;
    assert_eq!(missing.expect_err("missing").code(), Code::NotFound);

    let no_theme = client
        .create_shelf(CreateShelfRequest {
            shelf: Some(Shelf::default()),
        })
        .await;
    let no_theme = no_theme.expect_err("invalid");
    assert_eq!(no_theme.code(), Code::InvalidArgument);
    let details = no_theme.get_error_details();
    let violations = details.bad_request().map(|b| b.field_violations.len());
    assert_eq!(violations, Some(1));
    backend.stop().await;
}

#[tokio::test]
async fn echo_reflects_metadata_and_sets_header_and_trailer() {
    let backend = Backend::start().await;
    let mut client = EchoClient::new(backend.channel.clone());
    let mut request = Request::new(EchoRequest {
        message: "hi".into(),
        number: 7,
        ..Default::default()
    });
    request
        .metadata_mut()
        .insert("x-tenant", "acme".parse().expect("ascii"));

    let response = client.echo(request).await.expect("echoes");
    let server = response
        .metadata()
        .get("x-echo-server")
        .and_then(|v| v.to_str().ok());
    assert_eq!(server, Some("tonic"));
    // tonic merges the trailers into a unary response's metadata.
    let trailer = response
        .metadata()
        .get("x-echo-trailer")
        .and_then(|v| v.to_str().ok());
    assert_eq!(trailer, Some("done"));
    let body = response.into_inner();
    let echoed = body.request.expect("request echoed");
    assert_eq!((echoed.message.as_str(), echoed.number), ("hi", 7));
    assert_eq!(
        body.metadata.get("x-tenant").map(String::as_str),
        Some("acme")
    );
    assert!(body.peer.starts_with("127.0.0.1:"), "{}", body.peer);
    backend.stop().await;
}

#[tokio::test]
async fn fail_sleep_and_count_behave_as_documented() {
    let backend = Backend::start().await;
    let mut client = EchoClient::new(backend.channel.clone());

    let failed = client
        .fail(FailRequest {
            code: Code::PermissionDenied as i32,
            message: "nope".into(),
            with_details: true,
        })
        .await
        .expect_err("fails");
    assert_eq!(
        (failed.code(), failed.message()),
        (Code::PermissionDenied, "nope")
    );
    let details = failed.get_error_details();
    assert_eq!(
        details.error_info().map(|i| i.reason.as_str()),
        Some("DEMO_FAILURE")
    );
    assert!(details.bad_request().is_some());

    let mut sleep = Request::new(SleepRequest { millis: 5 });
    sleep.set_timeout(Duration::from_secs(5));
    let slept = client.sleep(sleep).await.expect("sleeps").into_inner();
    assert_eq!(slept.slept_millis, 5);
    assert!(
        !slept.grpc_timeout.is_empty(),
        "grpc-timeout reached the handler"
    );

    let stream = client
        .count(CountRequest {
            n: 5,
            interval_ms: 0,
            fail_at: 3,
        })
        .await
        .expect("streams");
    let items: Vec<_> = stream.into_inner().collect().await;
    let (ok, err): (Vec<_>, Vec<_>) = items.into_iter().partition(Result::is_ok);
    let ok: Vec<i32> = ok.into_iter().flatten().map(|reply| reply.i).collect();
    assert_eq!(ok, [1, 2]);
    let err: Vec<_> = err.into_iter().filter_map(Result::err).collect();
    assert_eq!(err.len(), 1);
    assert_eq!(
        (err[0].code(), err[0].message()),
        (Code::Aborted, "failed at 3")
    );
    backend.stop().await;
}

/// The service names a reflection client of version `$v` (`v1` or `v1alpha`) lists; the two versions are
/// separate generated types with the same shape.
macro_rules! list_services {
    ($v:ident, $channel:expr) => {{
        let mut client = $v::server_reflection_client::ServerReflectionClient::new($channel);
        let request = $v::ServerReflectionRequest {
            message_request: Some($v::server_reflection_request::MessageRequest::ListServices(
                String::new(),
            )),
            ..Default::default()
        };
        let mut responses = client
            .server_reflection_info(futures::stream::iter([request]))
            .await
            .expect("answers");
        let response = responses
            .get_mut()
            .message()
            .await
            .expect("reads")
            .expect("one response");
        match response.message_response {
            Some($v::server_reflection_response::MessageResponse::ListServicesResponse(list)) => {
                list.service.into_iter().map(|s| s.name).collect::<Vec<_>>()
            }
            other => panic!("unexpected response {other:?}"),
        }
    }};
}

#[tokio::test]
async fn reflection_lists_both_services_in_v1_and_v1alpha() {
    let backend = Backend::start().await;
    let expected = ["demo.bookstore.v1.Bookstore", "demo.echo.v1.Echo"];
    for names in [
        list_services!(v1, backend.channel.clone()),
        list_services!(v1alpha, backend.channel.clone()),
    ] {
        assert!(
            expected.iter().all(|e| names.iter().any(|n| n == e)),
            "{names:?}"
        );
    }
    backend.stop().await;
}

#[test]
fn descriptor_set_keeps_http_annotations() {
    let needle = b"/v1/{name=shelves/*/books/*}:move";
    assert!(
        gateway_demo::FILE_DESCRIPTOR_SET
            .windows(needle.len())
            .any(|w| w == needle)
    );
}

#[test]
fn demo_config_is_valid() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("gateway.yaml");
    let text = std::fs::read_to_string(&path).expect("readable");
    let config = api_model::Config::from_yaml(&text).expect("parses");
    config.validate().expect("valid");
    let proto = config.schemas[0].proto.as_ref().expect("proto schema");
    for file in &proto.files {
        assert!(
            path.with_file_name(&proto.import_paths[0])
                .join(file)
                .is_file(),
            "{file} exists"
        );
    }
    assert_eq!(proto.files, gateway_demo::PROTO_FILES);
}
