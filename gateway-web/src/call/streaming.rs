//! Server streaming to HTTP: one JSON object per line (NDJSON), or Server-Sent Events when the client
//! asks for `text/event-stream`. An error after the first message can no longer change the status, so it
//! is written as a last `{"error": {...}}` line (or an `event: error`), never silently cut. An API may ask
//! for grpc-gateway's framing instead (`json.stream: grpc_gateway`): `{"result": …}` per message and
//! `{"error": {"code": <gRPC code>, "message", "details"}}`, so grpc-gateway's clients move over unchanged.

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
use api_model::StreamFormat;

#[derive(Clone, Copy)]
enum Framing {
    NdJson,
    Sse,
    GrpcGateway,
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
    let framing = match (sse, plan.stream_format()) {
        (true, _) => Framing::Sse,
        (false, StreamFormat::Ndjson) => Framing::NdJson,
        (false, StreamFormat::GrpcGateway) => Framing::GrpcGateway,
    };
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
        // grpc-gateway's JSON marshaler names its stream this way.
        Framing::GrpcGateway => "application/json",
    };
    Reply::stream(content_type, chunks.boxed())
}

impl State {
    /// Ends the stream with an error record: `{"error": …}` around the very body an error response has.
    fn fail(&mut self, mut err: GatewayError) -> Bytes {
        self.done = true;
        err.request_id = Some(self.request_id.clone());
        match self.framing {
            Framing::NdJson => frame(self.framing, None, &error_record(&err.body())),
            Framing::Sse => frame(self.framing, Some("error"), &error_record(&err.body())),
            Framing::GrpcGateway => {
                let mut line = error_record(&grpc_gateway_status(&err));
                line.push(b'\n');
                Bytes::from(line)
            }
        }
    }
}

/// `{"error": <body>}`.
fn error_record(body: &[u8]) -> Vec<u8> {
    [&b"{\"error\":"[..], body, b"}"].concat()
}

/// The error as grpc-gateway writes it mid-stream: a `google.rpc.Status` in proto3 JSON.
fn grpc_gateway_status(err: &GatewayError) -> Vec<u8> {
    let code = match &err.kind {
        ErrorKind::Backend(code) => *code,
        ErrorKind::DeadlineExceeded => tonic::Code::DeadlineExceeded,
        _ => tonic::Code::Internal,
    };
    let details = match &err.details {
        Some(serde_json::Value::Array(list)) => serde_json::Value::Array(list.clone()),
        _ => serde_json::Value::Array(Vec::new()),
    };
    let status = serde_json::json!({
        "code": code as i32,
        "message": err.message,
        "details": details,
    });
    serde_json::to_vec(&status).unwrap_or_else(|_| b"{\"code\":13}".to_vec())
}

fn frame(framing: Framing, event: Option<&str>, json: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(json.len() + 16);
    match framing {
        Framing::NdJson => {
            out.extend_from_slice(json);
            out.push(b'\n');
        }
        Framing::GrpcGateway => {
            out.extend_from_slice(b"{\"result\":");
            out.extend_from_slice(json);
            out.extend_from_slice(b"}\n");
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
