//! The centre of the global chain: finds the route in the snapshot and runs the API's own chain.

use async_trait::async_trait;

use crate::access::{Exchange, Lookup, Reply};
use crate::error::{ErrorKind, GatewayError};
use crate::interceptors::cors::is_preflight;
use crate::interceptors::{Endpoint, Next};
use crate::snapshot::Snapshot;

pub struct Router<'a> {
    pub snapshot: &'a Snapshot,
}

#[async_trait]
impl Endpoint for Router<'_> {
    async fn call(&self, mut exchange: Exchange) -> Result<Reply, GatewayError> {
        // A CORS preflight asks about another method: route it as that method, and let in only a chain
        // that answers preflights (others see the OPTIONS as what it is).
        let asked = is_preflight(&exchange)
            .then(|| exchange.header("access-control-request-method"))
            .flatten()
            .and_then(|m| http::Method::from_bytes(m.trim().as_bytes()).ok());
        if let Some(method) = asked
            && let Lookup::Found { target, values } =
                self.snapshot
                    .routes
                    .lookup(exchange.host.as_deref(), &method, &exchange.path)
            && target.api.answers_preflight
        {
            exchange.path_values = values;
            exchange.route = Some(target.label.clone());
            return Next::new(&target.api.chain, &target.call)
                .run(exchange)
                .await;
        }
        let found =
            self.snapshot
                .routes
                .lookup(exchange.host.as_deref(), &exchange.method, &exchange.path);
        match found {
            Lookup::Found { target, values } => {
                exchange.path_values = values;
                exchange.route = Some(target.label.clone());
                Next::new(&target.api.chain, &target.call)
                    .run(exchange)
                    .await
            }
            Lookup::MethodNotAllowed(allowed) => Err(GatewayError::new(
                ErrorKind::MethodNotAllowed(allowed),
                format!(
                    "method {} is not allowed on {}",
                    exchange.method, exchange.path
                ),
            )),
            Lookup::NotFound => Err(GatewayError::new(
                ErrorKind::RouteNotFound,
                format!(
                    "no API is published at {} {}",
                    exchange.method, exchange.path
                ),
            )),
        }
    }
}
