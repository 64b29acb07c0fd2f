//! A small in-test Dubbo provider on 127.0.0.1: it parses frames, records their headers, answers
//! heartbeats, and answers calls through a handler. A unit-level stand-in; real providers are
//! exercised by the integration suite.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use dubbo_codec::frame::{self, FLAG_EVENT, HESSIAN2, Header, STATUS_OK};
use dubbo_codec::hessian2::{Decoder, Encoder, Value};

/// A call as the provider saw it.
#[derive(Debug, Clone)]
pub(super) struct Request {
    pub id: u64,
    pub service: String,
    pub version: String,
    pub method: String,
    pub descriptor: String,
    pub arguments: Vec<Value>,
    pub attachments: Value,
}

pub(super) enum Answer {
    /// Raw frames to write (possibly answers to earlier requests, possibly malformed).
    Frames(Vec<Vec<u8>>),
    Silent,
    /// Drop the connection.
    Close,
}

type Handler = Arc<dyn Fn(&Request) -> Answer + Send + Sync>;
/// A connection's write queue and its task.
type Served = (mpsc::Sender<Vec<u8>>, JoinHandle<()>);

#[derive(Default)]
struct State {
    accepted: AtomicUsize,
    received: Mutex<Vec<Header>>,
    connections: Mutex<Vec<Served>>,
}

pub(super) struct FakeProvider {
    pub address: String,
    addr: SocketAddr,
    handler: Handler,
    state: Arc<State>,
    accept: Option<JoinHandle<()>>,
}

impl FakeProvider {
    pub async fn start(handler: impl Fn(&Request) -> Answer + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let mut provider = Self {
            address: addr.to_string(),
            addr,
            handler: Arc::new(handler),
            state: Arc::default(),
            accept: None,
        };
        provider.serve(listener);
        provider
    }

    /// Closes the listener and every connection, as a killed process would.
    pub fn kill(&mut self) {
        if let Some(accept) = self.accept.take() {
            accept.abort();
        }
        for (_, task) in lock(&self.state.connections).drain(..) {
            task.abort();
        }
    }

    /// Listens again on the same port.
    pub async fn restart(&mut self) {
        let listener = TcpListener::bind(self.addr).await.expect("rebind");
        self.serve(listener);
    }

    pub fn accepted(&self) -> usize {
        self.state.accepted.load(Ordering::SeqCst)
    }

    pub fn received(&self) -> Vec<Header> {
        lock(&self.state.received).clone()
    }

    /// Writes raw bytes on every open connection.
    pub async fn send_all(&self, bytes: Vec<u8>) {
        let senders: Vec<_> = lock(&self.state.connections)
            .iter()
            .map(|(tx, _)| tx.clone())
            .collect();
        for tx in senders {
            let _ = tx.send(bytes.clone()).await;
        }
    }

    fn serve(&mut self, listener: TcpListener) {
        let state = self.state.clone();
        let handler = self.handler.clone();
        self.accept = Some(tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                state.accepted.fetch_add(1, Ordering::SeqCst);
                let (tx, rx) = mpsc::channel(1024);
                let task = tokio::spawn(connection(
                    stream,
                    tx.clone(),
                    rx,
                    state.clone(),
                    handler.clone(),
                ));
                lock(&state.connections).push((tx, task));
            }
        }));
    }
}

impl Drop for FakeProvider {
    fn drop(&mut self) {
        self.kill();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

async fn connection(
    stream: TcpStream,
    tx: mpsc::Sender<Vec<u8>>,
    mut rx: mpsc::Receiver<Vec<u8>>,
    state: Arc<State>,
    handler: Handler,
) {
    let (mut read, mut write) = stream.into_split();
    let writer = tokio::spawn(async move {
        while let Some(bytes) = rx.recv().await {
            if bytes.is_empty() || write.write_all(&bytes).await.is_err() {
                break; // An empty buffer asks to close.
            }
        }
    });
    loop {
        let mut head = [0u8; frame::HEADER_LEN];
        if read.read_exact(&mut head).await.is_err() {
            break;
        }
        let Ok(header) = Header::decode(&head) else {
            break;
        };
        let mut body = vec![0u8; header.body_len as usize];
        if read.read_exact(&mut body).await.is_err() {
            break;
        }
        lock(&state.received).push(header);
        if header.is_event() {
            if header.is_request() && header.is_two_way() {
                let _ = tx
                    .send(frame::encode(
                        FLAG_EVENT | HESSIAN2,
                        STATUS_OK,
                        header.id,
                        b"N",
                    ))
                    .await;
            }
            continue;
        }
        let Some(request) = parse(header.id, &body) else {
            break;
        };
        match handler(&request) {
            Answer::Frames(frames) => {
                for frame in frames {
                    let _ = tx.send(frame).await;
                }
            }
            Answer::Silent => {}
            Answer::Close => break,
        }
    }
    let _ = tx.send(Vec::new()).await;
    let _ = writer.await;
}

fn parse(id: u64, body: &[u8]) -> Option<Request> {
    let mut decoder = Decoder::new(body);
    let mut values = Vec::new();
    while !decoder.is_empty() {
        values.push(decoder.read().ok()?);
    }
    let text = |v: &Value| v.as_str().map(str::to_string);
    if values.len() < 6 {
        return None;
    }
    let attachments = values.pop()?;
    Some(Request {
        id,
        service: text(&values[1])?,
        version: text(&values[2])?,
        method: text(&values[3])?,
        descriptor: text(&values[4])?,
        arguments: values.split_off(5),
        attachments,
    })
}

/// An OK answer: the result flag, then the values it announces.
pub(super) fn ok(id: u64, flag: i32, values: &[Value]) -> Vec<u8> {
    let mut body = Vec::new();
    let mut encoder = Encoder::new();
    encoder.write(&Value::Int(flag), &mut body);
    for value in values {
        encoder.write(value, &mut body);
    }
    frame::encode(HESSIAN2, STATUS_OK, id, &body)
}

/// A non-OK answer with a hessian2 string as its body.
pub(super) fn status(id: u64, status: u8, text: &str) -> Vec<u8> {
    let mut body = Vec::new();
    Encoder::new().write(&Value::String(text.into()), &mut body);
    frame::encode(HESSIAN2, status, id, &body)
}
