//! `kind: ip_rules`: refuses clients outside the allowed blocks or inside the denied ones, by the
//! client address access established (the peer, or behind trusted proxies the address they forwarded).

use async_trait::async_trait;

use super::{Interceptor, Next};
use crate::access::{Exchange, Reply};
use crate::error::{ErrorKind, GatewayError};

pub struct IpRules {
    pub rules: api_model::policy::IpRules,
}

#[async_trait]
impl Interceptor for IpRules {
    async fn intercept(&self, exchange: Exchange, next: Next<'_>) -> Result<Reply, GatewayError> {
        match exchange.client_ip {
            Some(ip) if self.rules.permits(ip) => next.run(exchange).await,
            Some(ip) => Err(GatewayError::new(
                ErrorKind::IpDenied,
                format!("client address {ip} may not call this API"),
            )),
            // No address at all (a test without a socket): nothing to allow.
            None => Err(GatewayError::new(
                ErrorKind::IpDenied,
                "the client address is unknown, and this API allows only some",
            )),
        }
    }
}
