//! Server streaming to HTTP: one JSON object per line (NDJSON), or Server-Sent Events when the client
//! asks for `text/event-stream`. An error after the first message can no longer change the status, so it
//! is written as a last `{"error": {...}}` line (or an `event: error`), never silently cut.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use futures::StreamExt;
use prost_reflect::DynamicMessage;
use tokio::time::Instant;
use tonic::Streaming;

use crate::access::{Exchange, Reply};
use crate::error::{ErrorKind, GatewayError};
use crate::invoke::grpc::status_to_error;
use crate::mapping::ResponsePlan;

#[derive(Clone, Copy)]
enum Framing {
    NdJson,
    Sse,
}

struct State {
    stream: Streaming<DynamicMessage>,
    plan: Arc<ResponsePlan>,
    deadline: Option<Instant>,
    framing: Framing,
    request_id: String,
    done: bool,
}

pub fn reply(
    exchange: &Exchange,
    stream: Streaming<DynamicMessage>,
    plan: Arc<ResponsePlan>,
    deadline: Option<Instant>,
) -> Reply {
    let sse = exchange
        .header("accept")
        .is_some_and(|accept| accept.contains("text/event-stream"));
    let framing = if sse { Framing::Sse } else { Framing::NdJson };
    let state = State {
        stream,
        plan,
        deadline,
        framing,
        request_id: exchange.request_id.clone(),
        done: false,
    };
    let chunks = futures::stream::unfold(state, |mut state| async move {
        if state.done {
            return None;
        }
        let next = match state.deadline {
            Some(deadline) => tokio::time::timeout_at(deadline, state.stream.next())
                .await
                .ok(),
            None => Some(state.stream.next().await),
        };
        let chunk = match next {
            None => state.fail(GatewayError::new(
                ErrorKind::DeadlineExceeded,
                "the stream did not finish in time",
            )),
            Some(None) => return None,
            Some(Some(Ok(message))) => match state.plan.render(&message) {
                Ok(json) => frame(state.framing, None, &json),
                Err(err) => state.fail(err),
            },
            Some(Some(Err(status))) => state.fail(status_to_error(&status)),
        };
        Some((Ok::<_, Infallible>(chunk), state))
    });
    let content_type = match framing {
        Framing::NdJson => "application/x-ndjson",
        Framing::Sse => "text/event-stream",
    };
    Reply::stream(content_type, chunks.boxed())
}

impl State {
    /// Ends the stream with an error record: `{"error": …}` around the very body an error response has.
    fn fail(&mut self, mut err: GatewayError) -> Bytes {
        self.done = true;
        err.request_id = Some(self.request_id.clone());
        let json = [&b"{\"error\":"[..], &err.body(), b"}"].concat();
        match self.framing {
            Framing::NdJson => frame(self.framing, None, &json),
            Framing::Sse => frame(self.framing, Some("error"), &json),
        }
    }
}

fn frame(framing: Framing, event: Option<&str>, json: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(json.len() + 16);
    match framing {
        Framing::NdJson => {
            out.extend_from_slice(json);
            out.push(b'\n');
        }
        Framing::Sse => {
            if let Some(event) = event {
                out.extend_from_slice(b"event: ");
                out.extend_from_slice(event.as_bytes());
                out.push(b'\n');
            }
            out.extend_from_slice(b"data: ");
            out.extend_from_slice(json);
            out.extend_from_slice(b"\n\n");
        }
    }
    Bytes::from(out)
}
