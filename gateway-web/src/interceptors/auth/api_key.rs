//! `kind: api_key`: the key in a header (default `x-api-key`) or a query parameter, looked up by its
//! SHA-256 among the consumers' keys (the keys themselves are stored nowhere).

use std::sync::Arc;

use async_trait::async_trait;
use http::HeaderName;

use super::consumers::{Consumers, sha256};
use super::{authenticated, consumer_identity, ensure_enabled};
use crate::access::{Exchange, Reply};
use crate::error::GatewayError;
use crate::interceptors::{Interceptor, Next};
use crate::stores::CredentialUsage;

pub struct ApiKey {
    pub header: HeaderName,
    pub query: Option<String>,
    pub consumers: Arc<Consumers>,
    pub usage: Arc<CredentialUsage>,
    /// What a refusal names, so a client knows where the key goes.
    pub challenge: Arc<str>,
}

impl ApiKey {
    /// The key the request presents, and removes it: header first, then the query parameter.
    fn take(&self, exchange: &mut Exchange) -> Option<String> {
        if let Some(value) = exchange.headers.remove(&self.header) {
            return Some(String::from_utf8_lossy(value.as_bytes()).into_owned());
        }
        let name = self.query.as_deref()?;
        let at = exchange.query.iter().position(|(key, _)| key == name)?;
        let (_, key) = exchange.query.remove(at);
        // A key given twice is one key too many to say which was meant.
        exchange.query.retain(|(key, _)| key != name);
        Some(key)
    }
}

#[async_trait]
impl Interceptor for ApiKey {
    async fn intercept(
        &self,
        mut exchange: Exchange,
        next: Next<'_>,
    ) -> Result<Reply, GatewayError> {
        let Some(key) = self.take(&mut exchange) else {
            return next.run(exchange).await;
        };
        let found = self
            .consumers
            .by_api_key(&sha256(key.trim().as_bytes()))
            .filter(|found| found.credential.is_live());
        let Some(found) = found else {
            return Err(GatewayError::unauthenticated(
                &self.challenge,
                "the API key is not valid (unknown, revoked or expired)",
            ));
        };
        ensure_enabled(&found.consumer)?;
        let identity = consumer_identity(&found.consumer, "api_key", &found.credential.id);
        authenticated(&mut exchange, identity, &self.usage);
        next.run(exchange).await
    }
}
