//! A Dubbo2 provider's listener and connections, shared by the demo `UserService` and the benchmark's
//! mock provider: frames in, one answer per two-way request out under the request's id, heartbeats
//! answered, nothing trusted.
//!
//! Requests on a connection are answered in order as they are read, and answers are flushed only when no
//! whole request is waiting in the read buffer, so a client that pipelines many ids gets them back in
//! few writes. Handlers are in-memory and immediate; a slow one would hold up its connection only.

use std::borrow::Cow;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncWriteExt, BufReader, BufWriter};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

use dubbo_codec::frame::{
    self, FLAG_EVENT, HEARTBEAT_BODY, HESSIAN2, Header, PAYLOAD_LIMIT, STATUS_BAD_REQUEST,
    STATUS_OK,
};

use super::reply::Reply;
use super::wire::read_frame;

/// Java's default: a connection that sends nothing (not even a heartbeat) for three heartbeat periods
/// of 60 s is dead, and holding it would only hold memory.
const IDLE_TIMEOUT: Duration = Duration::from_secs(180);

/// Answers request bodies. Called for one-way requests too; their answers are dropped.
pub trait Handler: Send + Sync + 'static {
    fn handle(&self, body: &[u8]) -> Answer<'_>;
}

/// An encoded answer: the frame's status and body.
pub struct Answer<'a> {
    pub status: u8,
    /// Borrowed when the handler keeps a pre-encoded body, so answering costs no encoding.
    pub body: Cow<'a, [u8]>,
}

impl From<Reply> for Answer<'static> {
    fn from(reply: Reply) -> Self {
        Answer {
            status: reply.status(),
            body: Cow::Owned(reply.encode()),
        }
    }
}

/// Serves `handler` on `listener` until `shutdown` completes, then closes every connection.
pub async fn serve<H: Handler>(
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
    handler: Arc<H>,
) -> anyhow::Result<()> {
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(connection(stream, handler.clone()));
                }
                // Out of file descriptors, or a connection reset while queued: the listener itself is
                // fine, so wait a moment (not to spin on EMFILE) and go on.
                Err(err) => {
                    tracing::warn!(%err, "dubbo accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            // Reaps finished connections so the set does not grow with every client ever seen.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.shutdown().await;
    Ok(())
}

async fn connection<H: Handler>(mut stream: TcpStream, handler: Arc<H>) {
    // Answers are small and flushed deliberately; Nagle would only add latency.
    let _ = stream.set_nodelay(true);
    let peer = stream.peer_addr().ok();
    let (read, write) = stream.split();
    let mut reader = BufReader::new(read);
    let mut writer = BufWriter::new(write);
    let mut body = Vec::new();
    loop {
        let read = read_frame(&mut reader, PAYLOAD_LIMIT, &mut body);
        let header = match tokio::time::timeout(IDLE_TIMEOUT, read).await {
            Ok(Ok(Some(header))) => header,
            Ok(Ok(None)) => break,
            Ok(Err(err)) => {
                tracing::debug!(?peer, %err, "closing a dubbo connection");
                break;
            }
            Err(_) => {
                tracing::debug!(?peer, "closing an idle dubbo connection");
                break;
            }
        };
        if let Some((flag, answer)) = respond(&header, &body, &*handler) {
            let head = frame::Header {
                flag,
                status: answer.status,
                id: header.id,
                body_len: u32::try_from(answer.body.len()).unwrap_or(u32::MAX),
            };
            let written = async {
                writer.write_all(&head.encode()).await?;
                writer.write_all(&answer.body).await
            };
            if written.await.is_err() {
                return;
            }
        }
        if !frame::starts_with_whole_frame(reader.buffer()) && writer.flush().await.is_err() {
            return;
        }
    }
    // Answers already made still go out before the close.
    let _ = writer.flush().await;
}

/// The answer to one frame and its flag, or `None` when it wants none: one-way requests, and responses
/// (a client's answer to a heartbeat we never sent).
fn respond<'h>(
    header: &Header,
    body: &[u8],
    handler: &'h impl Handler,
) -> Option<(u8, Answer<'h>)> {
    if !header.is_request() {
        return None;
    }
    if header.is_event() {
        // Heartbeats (and read-only notices, which want no answer) carry a null; the answer echoes it.
        let answer = Answer {
            status: STATUS_OK,
            body: Cow::Borrowed(HEARTBEAT_BODY),
        };
        return header
            .is_two_way()
            .then_some((FLAG_EVENT | HESSIAN2, answer));
    }
    let answer = match header.serialization() {
        HESSIAN2 => handler.handle(body),
        other => Reply::Status(
            STATUS_BAD_REQUEST,
            format!("serialization id {other} is not supported, only hessian2 (2)"),
        )
        .into(),
    };
    header.is_two_way().then_some((HESSIAN2, answer))
}
