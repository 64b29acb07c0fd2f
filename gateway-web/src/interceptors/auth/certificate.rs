//! `kind: client_certificate`: a TLS client certificate (mTLS) as the credential. The listener has
//! already checked the certificate against its CA; here its SHA-256 names a consumer's `certificate`
//! credential.

use std::sync::Arc;

use async_trait::async_trait;

use super::consumers::Consumers;
use super::{authenticated, consumer_identity, ensure_enabled};
use crate::access::{Exchange, Reply};
use crate::error::GatewayError;
use crate::interceptors::{Interceptor, Next};
use crate::stores::CredentialUsage;

pub struct ClientCertificate {
    pub consumers: Arc<Consumers>,
    pub usage: Arc<CredentialUsage>,
    pub challenge: Arc<str>,
}

#[async_trait]
impl Interceptor for ClientCertificate {
    async fn intercept(
        &self,
        mut exchange: Exchange,
        next: Next<'_>,
    ) -> Result<Reply, GatewayError> {
        let Some(digest) = exchange.tls.as_ref().and_then(|tls| tls.client_certificate) else {
            return next.run(exchange).await;
        };
        let found = self
            .consumers
            .by_certificate(&digest)
            .filter(|found| found.credential.is_live());
        let Some(found) = found else {
            return Err(GatewayError::unauthenticated(
                &self.challenge,
                "the client certificate belongs to no consumer (or its credential was revoked)",
            ));
        };
        ensure_enabled(&found.consumer)?;
        let identity = consumer_identity(&found.consumer, "certificate", &found.credential.id);
        authenticated(&mut exchange, identity, &self.usage);
        next.run(exchange).await
    }
}
