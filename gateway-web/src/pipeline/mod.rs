//! The life of a request, top to bottom:
//!
//! ```text
//! access      Exchange::from_request_behind     parse the head, the client address behind trusted
//!                                               proxies; the body is read later, on demand
//! global      [request_id]                      every response, even a 404, carries an id
//! route       router::Router                    snapshot route table → 404 / 405 / the API
//! api chain   [..., deadline]                   built once per API; the order is interceptors::chain's
//! call        call::Call (Grpc | Dubbo)         mapping → invoke → mapping
//! ```
//!
//! The snapshot is loaded once per request, so a reload mid-request never changes what it sees.

mod router;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::Request;

use crate::access::Exchange;
use crate::error::Fault;
use crate::interceptors::Next;
use crate::state::GatewayState;

pub async fn handle(
    state: Arc<GatewayState>,
    remote: Option<SocketAddr>,
    request: Request<Body>,
) -> Response {
    let snapshot = state.snapshot.load_full();
    let mut exchange = Exchange::from_request_behind(
        request,
        state.settings.max_body_bytes,
        remote,
        &snapshot.trusted_proxies,
    );
    exchange.set_body_timeout(state.settings.connections.body_read_timeout);
    exchange.refuse_oversized_head(&state.settings.connections.head);
    let router = router::Router {
        snapshot: &snapshot,
    };
    match Next::new(&state.global_chain, &router).run(exchange).await {
        Ok(reply) => reply.into_response(),
        Err(err) => {
            if err.fault() != Fault::Client {
                tracing::warn!(code = err.code(), message = %err.message, request_id = ?err.request_id, "request failed");
            }
            err.to_response()
        }
    }
}
