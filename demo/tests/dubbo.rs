//! The demo Dubbo provider over a real socket: the gateway's own `DubboClient` calling `serve_dubbo`
//! on 127.0.0.1:0, and raw frames for what a well-behaved client never sends (pipelining, heartbeats,
//! garbage, bad magic, oversized bodies).

use std::time::Duration;

use dubbo_codec::frame::{
    self, FLAG_EVENT, FLAG_REQUEST, FLAG_TWO_WAY, HEADER_LEN, HESSIAN2, Header, STATUS_OK,
};
use dubbo_codec::hessian2::{Decoder, Value};
use dubbo_codec::request::{self as call, Call};
use gateway_demo::dubbo::users::{SERVICE, VERSION};
use gateway_demo::dubbo::wire::read_frame;
use gateway_web::invoke::dubbo::{
    ClientSettings, DubboClient, DubboError, DubboPool, Invocation, Outcome, Provider, ProviderSet,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// `serve_dubbo` on an ephemeral port, stopped (and checked for a clean exit) by [`Provider::stop`].
struct DemoProvider {
    address: String,
    stop: oneshot::Sender<()>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl DemoProvider {
    async fn start() -> DemoProvider {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("binds");
        let address = listener.local_addr().expect("has an address").to_string();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(gateway_demo::serve_dubbo(listener, async {
            let _ = stopped.await;
        }));
        DemoProvider {
            address,
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

    async fn connect(&self) -> TcpStream {
        TcpStream::connect(&self.address).await.expect("connects")
    }
}

fn invocation(method: &str, parameter_types: &[&str], arguments: Vec<Value>) -> Invocation {
    Invocation {
        service: SERVICE.into(),
        version: Some(VERSION.into()),
        group: None,
        method: method.into(),
        parameter_types: parameter_types.iter().map(|t| t.to_string()).collect(),
        arguments,
        attachments: Vec::new(),
        timeout: Duration::from_secs(5),
    }
}

/// The client connects in the background and fails calls fast until then: retry until it is up.
async fn invoke(client: &DubboClient, call: Invocation) -> Result<Outcome, DubboError> {
    for _ in 0..500 {
        match client.invoke(call.clone()).await {
            Err(DubboError::NoProvider(_)) => tokio::time::sleep(Duration::from_millis(10)).await,
            other => return other.map(|reply| reply.outcome),
        }
    }
    panic!("the client never connected");
}

fn field<'v>(value: &'v Value, name: &str) -> Option<&'v Value> {
    match value {
        Value::Object(object) => object.field(name),
        _ => None,
    }
}

#[tokio::test]
async fn the_gateway_client_calls_every_method() {
    let provider = DemoProvider::start().await;
    let set = ProviderSet::fixed(vec![Provider {
        address: provider.address.clone(),
        version: None,
        group: None,
        tls: false,
    }]);
    let client = DubboClient::new(set, DubboPool::default(), ClientSettings::default());

    let alice = invoke(
        &client,
        invocation("getUser", &["long"], vec![Value::Long(1)]),
    )
    .await;
    let Ok(Outcome::Value(alice)) = alice else {
        panic!("{alice:?}");
    };
    let Value::Object(object) = &alice else {
        panic!("{alice:?}");
    };
    assert_eq!(object.class, "org.apache.dubbo.demo.User");
    let names: Vec<&str> = object.fields.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["id", "name", "age", "createdAt", "balance", "tags", "role"]
    );
    assert_eq!(field(&alice, "id"), Some(&Value::Long(1)));
    assert_eq!(field(&alice, "name"), Some(&Value::String("alice".into())));
    assert_eq!(field(&alice, "age"), Some(&Value::Int(30)));
    assert_eq!(
        field(&alice, "createdAt"),
        Some(&Value::Date(1_704_164_645_678))
    );
    let balance = field(&alice, "balance").and_then(|b| field(b, "value"));
    assert_eq!(balance, Some(&Value::String("1234.56".into())));
    let role = field(&alice, "role").and_then(|r| field(r, "name"));
    assert_eq!(role, Some(&Value::String("ADMIN".into())));
    let Some(Value::List(tags)) = field(&alice, "tags") else {
        panic!("{alice:?}");
    };
    assert_eq!(
        tags.items,
        [Value::String("admin".into()), Value::String("early".into())]
    );

    let other = invoke(
        &client,
        invocation("getUser", &["long"], vec![Value::Long(42)]),
    )
    .await;
    assert!(
        matches!(&other, Ok(Outcome::Value(user)) if field(user, "name") == Some(&Value::String("user-42".into()))),
        "{other:?}"
    );

    let missing = invoke(
        &client,
        invocation("getUser", &["long"], vec![Value::Long(404)]),
    )
    .await;
    let Ok(Outcome::Exception(Value::Object(thrown))) = &missing else {
        panic!("{missing:?}");
    };
    assert_eq!(thrown.class, "java.lang.IllegalArgumentException");
    assert_eq!(
        thrown.field("detailMessage"),
        Some(&Value::String("no user 404".into()))
    );

    let greet = invocation(
        "greet",
        &["java.lang.String"],
        vec![Value::String("bob".into())],
    );
    assert_eq!(
        invoke(&client, greet).await.ok(),
        Some(Outcome::Value(Value::String("hello, bob".into())))
    );
    assert_eq!(
        invoke(&client, invocation("ping", &[], vec![])).await.ok(),
        Some(Outcome::Value(Value::String("pong".into())))
    );

    let unknown = invoke(&client, invocation("noSuchMethod", &[], vec![])).await;
    assert!(
        matches!(&unknown, Err(DubboError::Status { status: 70, message }) if message.contains("noSuchMethod")),
        "{unknown:?}"
    );
    let overload = invoke(
        &client,
        invocation(
            "getUser",
            &["java.lang.String"],
            vec![Value::String("1".into())],
        ),
    )
    .await;
    assert!(
        matches!(&overload, Err(DubboError::Status { status: 70, .. })),
        "dispatch looks at the parameter types too: {overload:?}"
    );

    // Concurrent calls share the client's one connection.
    let calls = (0..200).map(|i| {
        let client = client.clone();
        tokio::spawn(async move {
            let id = Value::Long(1000 + i);
            (
                i,
                invoke(&client, invocation("getUser", &["long"], vec![id])).await,
            )
        })
    });
    for joined in futures::future::join_all(calls).await {
        let (i, reply) = joined.expect("task");
        let Ok(Outcome::Value(user)) = &reply else {
            panic!("call {i}: {reply:?}");
        };
        assert_eq!(field(user, "id"), Some(&Value::Long(1000 + i)));
    }
    drop(client);
    provider.stop().await;
}

fn get_user(id: i64) -> Vec<u8> {
    call::encode(&Call {
        dubbo_version: "2.0.2".into(),
        service: SERVICE.into(),
        version: VERSION.into(),
        method: "getUser".into(),
        descriptor: "J".into(),
        arguments: vec![Value::Long(id)],
        attachments: Vec::new(),
    })
}

const TWO_WAY: u8 = FLAG_REQUEST | FLAG_TWO_WAY | HESSIAN2;

async fn read(stream: &mut TcpStream) -> (Header, Vec<u8>) {
    let mut body = Vec::new();
    let read = read_frame(stream, frame::PAYLOAD_LIMIT, &mut body);
    let header = tokio::time::timeout(Duration::from_secs(5), read).await;
    match header {
        Ok(Ok(Some(header))) => (header, body),
        other => panic!("no answer: {other:?}"),
    }
}

/// The connection is closed by the provider: a read gives EOF (or a reset) within a few seconds.
async fn expect_closed(stream: &mut TcpStream) {
    let mut byte = [0u8; 1];
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut byte)).await;
    assert!(
        matches!(read, Ok(Ok(0)) | Ok(Err(_))),
        "still open: {read:?}"
    );
}

#[tokio::test]
async fn pipelined_requests_and_heartbeats_are_answered_under_their_ids() {
    let provider = DemoProvider::start().await;
    let mut stream = provider.connect().await;
    // A hundred calls and a heartbeat in one write, a one-way call among them.
    let mut burst = Vec::new();
    for id in 0..100u64 {
        burst.extend(frame::encode(TWO_WAY, 0, id, &get_user(id as i64 + 5000)));
    }
    burst.extend(frame::encode(FLAG_REQUEST | HESSIAN2, 0, 500, &get_user(1)));
    burst.extend(frame::encode(
        FLAG_REQUEST | FLAG_TWO_WAY | FLAG_EVENT | HESSIAN2,
        0,
        777,
        b"N",
    ));
    stream.write_all(&burst).await.expect("writes");
    for id in 0..100u64 {
        let (header, body) = read(&mut stream).await;
        assert_eq!((header.id, header.status), (id, STATUS_OK));
        assert!(!header.is_request() && !header.is_event());
        let mut decoder = Decoder::new(&body);
        assert_eq!(decoder.read().ok(), Some(Value::Int(1)));
        let user = decoder.read().expect("a user");
        assert_eq!(field(&user, "id"), Some(&Value::Long(id as i64 + 5000)));
    }
    // The one-way call got no answer: next is the heartbeat's.
    let (header, body) = read(&mut stream).await;
    assert_eq!((header.id, header.status), (777, STATUS_OK));
    assert!(header.is_event() && !header.is_request());
    assert_eq!(body, b"N");
    drop(stream);
    provider.stop().await;
}

#[tokio::test]
async fn bad_bodies_are_answered_and_bad_frames_close_the_connection() {
    let provider = DemoProvider::start().await;
    let mut stream = provider.connect().await;
    // Garbage inside a well-formed frame: BAD_REQUEST, and the connection goes on.
    for (id, flag, body) in [
        (1, TWO_WAY, &b"\xff\xfe\xfd"[..]),
        (2, TWO_WAY, b""),
        // Another serialization (e.g. fastjson2, 23): refused, not misread.
        (3, FLAG_REQUEST | FLAG_TWO_WAY | 23, b"{}"),
    ] {
        stream
            .write_all(&frame::encode(flag, 0, id, body))
            .await
            .expect("writes");
        let (header, body) = read(&mut stream).await;
        assert_eq!((header.id, header.status), (id, 40), "{body:02x?}");
    }
    stream
        .write_all(&frame::encode(TWO_WAY, 0, 4, &get_user(7)))
        .await
        .expect("writes");
    assert_eq!(read(&mut stream).await.0.status, STATUS_OK);

    // Bad magic: the stream can no longer be split into frames.
    let mut bad = frame::encode(TWO_WAY, 0, 5, &get_user(7));
    bad[0] = 0xca;
    stream.write_all(&bad).await.expect("writes");
    expect_closed(&mut stream).await;

    // A body above the payload limit is refused before it is read.
    let mut huge = provider.connect().await;
    let header = Header {
        flag: TWO_WAY,
        status: 0,
        id: 6,
        body_len: u32::MAX,
    };
    huge.write_all(&header.encode()).await.expect("writes");
    expect_closed(&mut huge).await;

    // A truncated header, then silence from the client's side: closed on EOF, nothing answered.
    let mut truncated = provider.connect().await;
    truncated
        .write_all(&header.encode()[..HEADER_LEN / 2])
        .await
        .expect("writes");
    truncated.shutdown().await.expect("half-closes");
    expect_closed(&mut truncated).await;

    // The provider still serves new connections.
    let mut fresh = provider.connect().await;
    fresh
        .write_all(&frame::encode(TWO_WAY, 0, 8, &get_user(8)))
        .await
        .expect("writes");
    assert_eq!(read(&mut fresh).await.0.status, STATUS_OK);
    provider.stop().await;
}

#[tokio::test]
async fn shutdown_closes_open_connections() {
    let provider = DemoProvider::start().await;
    let mut stream = provider.connect().await;
    stream
        .write_all(&frame::encode(TWO_WAY, 0, 1, &get_user(1)))
        .await
        .expect("writes");
    assert_eq!(read(&mut stream).await.0.status, STATUS_OK);
    provider.stop().await;
    expect_closed(&mut stream).await;
}
