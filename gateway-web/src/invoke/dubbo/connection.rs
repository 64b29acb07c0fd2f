//! One multiplexed connection to a provider. Calls share it through request ids: a writer task drains a
//! queue (several queued frames go out in one write), a reader task completes pending calls by id and
//! answers the provider's heartbeats. When either task ends, every pending call fails at once.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::{Instant, timeout, timeout_at};

use super::error::DubboError;
use dubbo_codec::frame::{self, FLAG_EVENT, FLAG_REQUEST, FLAG_TWO_WAY, HESSIAN2, STATUS_OK};

use super::frame::{Frame, read_frame};

/// Frames queued for the writer; bounded so a stalled provider pushes back on callers (who time out)
/// instead of growing memory.
const QUEUE_DEPTH: usize = 1024;
/// One write carries at most this much, so a burst does not build one giant buffer.
const MAX_BATCH: usize = 256 * 1024;

/// The hessian2 string "R": Java Dubbo's readonly event.
const READONLY_EVENT: &[u8] = b"\x01R";

type Answer = Result<Frame, DubboError>;

/// What a connection needs to know about its limits.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Write-idleness before a heartbeat; read silence of three times this closes. Zero disables both.
    pub heartbeat: Duration,
    /// The largest body accepted from the provider.
    pub payload_limit: usize,
}

struct Shared {
    /// `None` once closed, so no call can register after the close drained the map.
    pending: Mutex<Option<HashMap<u64, oneshot::Sender<Answer>>>>,
    outgoing: mpsc::Sender<Vec<u8>>,
    next_id: AtomicU64,
    /// Whether new calls may use the connection: false once closed, or once the provider announced
    /// a graceful shutdown (calls already sent are still answered).
    usable: AtomicBool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Option<HashMap<u64, oneshot::Sender<Answer>>>> {
        // Nothing held under this lock can panic half-way; a poisoned map is still consistent.
        self.pending
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn take(&self, id: u64) -> Option<oneshot::Sender<Answer>> {
        self.lock().as_mut().and_then(|pending| pending.remove(&id))
    }

    fn close(&self, reason: &str) {
        self.usable.store(false, Ordering::Relaxed);
        let drained = self.lock().take();
        for (_, waiter) in drained.into_iter().flatten() {
            let _ = waiter.send(Err(DubboError::Unavailable(reason.to_string())));
        }
    }

    fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }
}

/// A handle to a connection; cheap to clone.
#[derive(Clone)]
pub(crate) struct Connection {
    shared: Arc<Shared>,
}

impl Connection {
    /// Whether new calls may be sent here; lock-free, as every call asks.
    pub fn is_open(&self) -> bool {
        self.shared.usable.load(Ordering::Relaxed)
    }

    /// Calls waiting for an answer.
    #[cfg(test)]
    pub fn pending(&self) -> usize {
        self.shared.lock().as_ref().map_or(0, HashMap::len)
    }

    /// Sends a two-way request and waits for its answer. `frame` holds the body after
    /// [`frame::HEADER_LEN`] bytes of room, which are filled here with this call's id.
    pub async fn call(&self, mut frame: Vec<u8>, within: Duration) -> Answer {
        let deadline = Instant::now() + within;
        let id = self.shared.next_id();
        let (tx, rx) = oneshot::channel();
        match self.shared.lock().as_mut() {
            Some(pending) => pending.insert(id, tx),
            None => return Err(DubboError::Unavailable("connection closed".into())),
        };
        // Whether the call is answered, times out or is dropped by its caller, the entry goes.
        let _entry = PendingEntry {
            shared: &self.shared,
            id,
        };
        frame::fill_header(&mut frame, FLAG_REQUEST | FLAG_TWO_WAY | HESSIAN2, 0, id);
        match timeout_at(deadline, self.shared.outgoing.send(frame)).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => return Err(DubboError::Unavailable("connection closed".into())),
            Err(_) => return Err(DubboError::Timeout(within)),
        }
        match timeout_at(deadline, rx).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(_)) => Err(DubboError::Unavailable(
                "connection closed before an answer".into(),
            )),
            Err(_) => Err(DubboError::Timeout(within)),
        }
    }
}

struct PendingEntry<'a> {
    shared: &'a Shared,
    id: u64,
}

impl Drop for PendingEntry<'_> {
    fn drop(&mut self) {
        self.shared.take(self.id);
    }
}

/// The running tasks of a connection. Dropping it stops them and fails the pending calls.
pub(crate) struct Driver {
    shared: Arc<Shared>,
    reader: JoinHandle<String>,
    writer: JoinHandle<String>,
}

impl Driver {
    /// Waits until the connection ends, for whatever reason, and says why.
    pub async fn closed(mut self) -> String {
        let ended = tokio::select! {
            ended = &mut self.reader => ended,
            ended = &mut self.writer => ended,
        };
        let reason = ended.unwrap_or_else(|err| format!("connection task failed: {err}"));
        self.shared.close(&reason);
        reason
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.reader.abort();
        self.writer.abort();
        self.shared.close("connection released");
    }
}

/// Starts the reader and writer tasks over a connected stream.
pub(crate) fn start(stream: TcpStream, limits: Limits) -> (Connection, Driver) {
    let (read_half, write_half) = stream.into_split();
    let (outgoing, queue) = mpsc::channel(QUEUE_DEPTH);
    let shared = Arc::new(Shared {
        pending: Mutex::new(Some(HashMap::new())),
        outgoing,
        next_id: AtomicU64::new(1),
        usable: AtomicBool::new(true),
    });
    let reader = tokio::spawn(read_loop(read_half, shared.clone(), limits));
    let writer = tokio::spawn(write_loop(
        write_half,
        queue,
        shared.clone(),
        limits.heartbeat,
    ));
    let connection = Connection {
        shared: shared.clone(),
    };
    (
        connection,
        Driver {
            shared,
            reader,
            writer,
        },
    )
}

async fn read_loop(mut read: OwnedReadHalf, shared: Arc<Shared>, limits: Limits) -> String {
    let silence = limits.heartbeat.saturating_mul(3);
    loop {
        let next = read_frame(&mut read, limits.payload_limit);
        let read = if silence.is_zero() {
            next.await
        } else {
            match timeout(silence, next).await {
                Ok(read) => read,
                Err(_) => return format!("nothing read for {silence:?}"),
            }
        };
        let frame = match read {
            Ok(frame) => frame,
            Err(err) => return err.to_string(),
        };
        let header = frame.header;
        if header.is_request() {
            // Java Dubbo announces a graceful shutdown with a one-way "R" (readonly) event: stop
            // sending new calls here, keep reading the answers to those already sent.
            if header.is_event() && frame.body == READONLY_EVENT {
                shared.usable.store(false, Ordering::Relaxed);
                tracing::info!("dubbo provider is shutting down; no new calls on this connection");
            }
            // Otherwise a provider only sends us heartbeats: a two-way one gets its answer, so a
            // provider that checks liveness keeps the connection.
            if header.is_event() && header.is_two_way() {
                let answer = frame::encode(
                    FLAG_EVENT | HESSIAN2,
                    STATUS_OK,
                    header.id,
                    frame::HEARTBEAT_BODY,
                );
                // Never wait here: a reader blocked on a full queue would stop reading, and a provider
                // blocked on its own writes would never drain ours. A skipped answer costs nothing
                // while the queue is that busy.
                let _ = shared.outgoing.try_send(answer);
            }
            continue;
        }
        if header.is_event() {
            // Answers to our heartbeats, or unsolicited events: reading them was the point.
            continue;
        }
        // An answer for a call that already timed out finds no entry and is dropped.
        if let Some(waiter) = shared.take(header.id) {
            let _ = waiter.send(Ok(frame));
        }
    }
}

async fn write_loop(
    mut write: OwnedWriteHalf,
    mut queue: mpsc::Receiver<Vec<u8>>,
    shared: Arc<Shared>,
    heartbeat: Duration,
) -> String {
    let mut batch = Vec::new();
    loop {
        let next = if heartbeat.is_zero() {
            queue.recv().await
        } else {
            match timeout(heartbeat, queue.recv()).await {
                Ok(next) => next,
                Err(_) => Some(heartbeat_request(shared.next_id())),
            }
        };
        let Some(first) = next else {
            return "connection released".into();
        };
        // A lone frame is written as it is; several queued ones are gathered into one write.
        let written = match queue.try_recv() {
            Err(_) => write.write_all(&first).await,
            Ok(second) => {
                batch.clear();
                batch.extend_from_slice(&first);
                batch.extend_from_slice(&second);
                while batch.len() < MAX_BATCH {
                    match queue.try_recv() {
                        Ok(more) => batch.extend_from_slice(&more),
                        Err(_) => break,
                    }
                }
                write.write_all(&batch).await
            }
        };
        if let Err(err) = written {
            return format!("write failed: {err}");
        }
        // One large body should not pin its buffer for the life of the connection.
        if batch.capacity() > MAX_BATCH * 2 {
            batch = Vec::new();
        }
    }
}

fn heartbeat_request(id: u64) -> Vec<u8> {
    frame::encode(
        FLAG_REQUEST | FLAG_TWO_WAY | FLAG_EVENT | HESSIAN2,
        0,
        id,
        frame::HEARTBEAT_BODY,
    )
}
