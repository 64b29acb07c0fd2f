//! `kind: request_rules`: refuses requests by their shape (a denied `User-Agent`, a missing required
//! header) before any credential is checked or any count is spent.

use async_trait::async_trait;
use http::HeaderName;

use super::{Interceptor, Next};
use crate::access::{Exchange, Reply};
use crate::error::{ErrorKind, GatewayError};

pub struct RequestRules {
    /// `*` patterns, matched without regard to case.
    pub deny_user_agents: Vec<String>,
    pub require_headers: Vec<HeaderName>,
}

#[async_trait]
impl Interceptor for RequestRules {
    async fn intercept(&self, exchange: Exchange, next: Next<'_>) -> Result<Reply, GatewayError> {
        let agent = exchange.header("user-agent").unwrap_or("");
        if let Some(pattern) = self
            .deny_user_agents
            .iter()
            .find(|pattern| api_model::policy::glob_matches(pattern, agent))
        {
            return Err(GatewayError::new(
                ErrorKind::RequestDenied,
                format!("this API refuses the user agent (rule `{pattern}`)"),
            ));
        }
        if let Some(missing) = self
            .require_headers
            .iter()
            .find(|name| !exchange.headers.contains_key(*name))
        {
            return Err(GatewayError::invalid_argument(format!(
                "this API needs the `{missing}` header"
            )));
        }
        next.run(exchange).await
    }
}
