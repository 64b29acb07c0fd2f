//! Gives every request an id: the client's `X-Request-Id` when it sends a sane one, else a new UUID.
//! The id is echoed on every response, success or error, and written into every error body.

use async_trait::async_trait;
use http::{HeaderName, HeaderValue};

use super::{Interceptor, Next};
use crate::access::{Exchange, Reply};
use crate::error::GatewayError;

pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// Longest client-supplied id accepted; longer ones are replaced so logs cannot be flooded through it.
const MAX_LEN: usize = 128;

pub struct RequestId;

#[async_trait]
impl Interceptor for RequestId {
    async fn intercept(
        &self,
        mut exchange: Exchange,
        next: Next<'_>,
    ) -> Result<Reply, GatewayError> {
        let id = exchange
            .header(HEADER.as_str())
            .filter(|id| is_acceptable(id))
            .map(str::to_string)
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
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

fn is_acceptable(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:/+=".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sane_ids_are_accepted() {
        assert!(is_acceptable("3f2c-abc_1.2"));
        assert!(!is_acceptable(""));
        assert!(!is_acceptable("has space"));
        assert!(!is_acceptable(&"x".repeat(200)));
    }
}
