//! `kind: concurrency`: the bulkhead. A slot is held from here until the call returns (for a stream,
//! until its head is sent), so one slow API fills its own slots and queue, never the node's.

use std::sync::Arc;

use async_trait::async_trait;
use http::HeaderValue;

use super::{Interceptor, Next};
use crate::access::{Exchange, Reply};
use crate::error::{ErrorKind, GatewayError};
use crate::stores::Bulkhead;

pub struct Concurrency {
    pub bulkhead: Arc<Bulkhead>,
    /// What the refusal names: the API or the backend the bulkhead guards.
    pub scope: String,
}

#[async_trait]
impl Interceptor for Concurrency {
    async fn intercept(&self, exchange: Exchange, next: Next<'_>) -> Result<Reply, GatewayError> {
        let Some(_slot) = self.bulkhead.enter().await else {
            return Err(GatewayError::new(
                ErrorKind::Overloaded,
                format!(
                    "{} has as many calls in flight as it allows; try again shortly",
                    self.scope
                ),
            )
            .with_header(http::header::RETRY_AFTER, HeaderValue::from_static("1")));
        };
        next.run(exchange).await
    }
}
