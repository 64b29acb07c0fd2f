//! A gRPC route's call: map the exchange to a request message, call the backend, map the reply.

use std::sync::Arc;

use http::HeaderName;
use http::uri::PathAndQuery;
use prost_reflect::MessageDescriptor;
use tonic::metadata::MetadataMap;

use super::{read_body, streaming};
use crate::access::identity::CONSUMER_HEADER;
use crate::access::request_id;
use crate::access::{Exchange, Reply};
use crate::error::GatewayError;
use crate::invoke::grpc::{CallOptions, GrpcClient, status_to_error};
use crate::mapping::{RequestInput, RequestPlan, ResponsePlan};

/// Everything one (method, HTTP binding) pair needs per request, resolved when the snapshot was compiled.
pub struct GrpcPlan {
    /// `/package.Service/Method`.
    pub path: PathAndQuery,
    pub output: MessageDescriptor,
    pub server_streaming: bool,
    pub request: RequestPlan,
    pub response: Arc<ResponsePlan>,
    /// Request headers passed on as metadata (lowercase).
    pub forward_headers: Arc<[HeaderName]>,
    /// Response metadata returned as headers (lowercase).
    pub return_metadata: Arc<[HeaderName]>,
    /// The API's constant metadata (`tri-service-version`, say), sent on every call.
    pub constant_metadata: Arc<[(HeaderName, http::HeaderValue)]>,
}

/// The plan and the backend's pooled client.
pub struct GrpcCall {
    pub plan: GrpcPlan,
    pub client: GrpcClient,
}

impl GrpcCall {
    pub async fn call(&self, mut exchange: Exchange) -> Result<Reply, GatewayError> {
        let plan = &self.plan;
        let (body, content_type) = read_body(&mut exchange).await?;
        let message =
            plan.request
                .build(&RequestInput::of(&exchange, content_type.as_deref(), &body))?;
        let options = CallOptions {
            timeout: exchange.remaining()?,
            metadata: plan.metadata(&exchange),
        };

        if plan.server_streaming {
            let (_, stream) = self
                .client
                .server_streaming(plan.path.clone(), plan.output.clone(), message, options)
                .await
                .map_err(|status| status_to_error(&status))?;
            let deadline = options_deadline(&exchange);
            return Ok(streaming::reply(
                &exchange,
                stream,
                plan.response.clone(),
                deadline,
            ));
        }

        let reply = self
            .client
            .unary(plan.path.clone(), plan.output.clone(), message, options)
            .await
            .map_err(|status| status_to_error(&status))?;
        let mut http_reply = Reply::json(plan.response.render(&reply.message)?);
        if !plan.return_metadata.is_empty() {
            let headers = reply.metadata.into_headers();
            for name in plan.return_metadata.iter() {
                for value in headers.get_all(name) {
                    http_reply.headers.append(name.clone(), value.clone());
                }
            }
        }
        Ok(http_reply)
    }
}

impl GrpcPlan {
    /// The request id always travels (so backend logs can be joined), and the caller's identity when a
    /// policy established one; other headers only when configured.
    fn metadata(&self, exchange: &Exchange) -> MetadataMap {
        let mut headers = http::HeaderMap::with_capacity(self.forward_headers.len() + 1);
        if let Ok(mut id) = http::HeaderValue::from_str(&exchange.request_id) {
            // Unique per call: "never indexed" keeps HPACK from inserting each id into the connection's
            // header table only to evict it (and another entry) a few calls later.
            id.set_sensitive(true);
            headers.insert(request_id::HEADER, id);
        }
        for name in self.forward_headers.iter() {
            for value in exchange.headers.get_all(name) {
                headers.append(name.clone(), value.clone());
            }
        }
        // The operator's constants replace what a client forwarded under the same name.
        for (name, value) in self.constant_metadata.iter() {
            headers.insert(name.clone(), value.clone());
        }
        // Who the caller is travels only as the gateway established it, never as the client wrote it.
        headers.remove(CONSUMER_HEADER);
        if let Some(identity) = &exchange.identity {
            for (name, value) in identity.downstream() {
                headers.insert(name, value);
            }
        }
        MetadataMap::from_headers(headers)
    }
}

fn options_deadline(exchange: &Exchange) -> Option<tokio::time::Instant> {
    exchange
        .timeout
        .map(|timeout| tokio::time::Instant::from_std(exchange.received + timeout))
}
