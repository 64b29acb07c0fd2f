//! The grant check, right after authentication: a request no authentication policy identified is
//! refused (401, with `WWW-Authenticate` naming every scheme the route accepts), and a registered
//! consumer may call only the APIs (or API groups) it was granted (403). Identities that are not
//! registered consumers (a JWT user, an SSO session) are not subject to grants.

use std::sync::Arc;

use async_trait::async_trait;

use super::auth::consumers::Consumers;
use super::{Interceptor, Next};
use crate::access::{Exchange, Reply};
use crate::error::{ErrorKind, GatewayError};

pub struct Grants {
    pub api: String,
    pub group: Option<String>,
    pub consumers: Arc<Consumers>,
    pub challenge: Arc<str>,
}

#[async_trait]
impl Interceptor for Grants {
    async fn intercept(&self, exchange: Exchange, next: Next<'_>) -> Result<Reply, GatewayError> {
        let Some(identity) = &exchange.identity else {
            return Err(GatewayError::unauthenticated(
                &self.challenge,
                format!("API `{}` needs a credential", self.api),
            ));
        };
        if let Some(name) = &identity.consumer {
            let granted = self
                .consumers
                .by_name(name)
                .is_some_and(|c| c.granted(&self.api, self.group.as_deref()));
            if !granted {
                return Err(GatewayError::new(
                    ErrorKind::PermissionDenied,
                    format!("consumer `{name}` has no grant for API `{}`", self.api),
                ));
            }
        }
        next.run(exchange).await
    }
}
