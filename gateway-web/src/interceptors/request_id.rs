//! Gives every request an id: the client's `X-Request-Id` when it sends a sane one, else a new UUID.
//! The id is echoed on every response, success or error, and written into every error body.

use async_trait::async_trait;
use http::HeaderValue;

use super::{Interceptor, Next};
use crate::access::request_id::{HEADER, accept_or_new};
use crate::access::{Exchange, Reply};
use crate::error::GatewayError;

pub struct RequestId;

#[async_trait]
impl Interceptor for RequestId {
    async fn intercept(
        &self,
        mut exchange: Exchange,
        next: Next<'_>,
    ) -> Result<Reply, GatewayError> {
        let id = accept_or_new(exchange.header(HEADER.as_str()));
        exchange.request_id.clone_from(&id);
        match next.run(exchange).await {
            Ok(mut reply) => {
                if let Ok(value) = HeaderValue::from_str(&id) {
                    reply.headers.insert(HEADER, value);
                }
                Ok(reply)
            }
            Err(mut err) => {
                err.request_id = Some(id);
                Err(err)
            }
        }
    }
}
