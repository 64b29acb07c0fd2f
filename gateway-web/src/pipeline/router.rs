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
        if let Some(refusal) = exchange.refusal.take() {
            return Err(refusal);
        }
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
        let routes = &self.snapshot.routes;
        let found = routes.lookup(exchange.host.as_deref(), &exchange.method, &exchange.path);
        // HEAD is GET without the body (RFC 9110 9.3.2): every GET route answers it, and hyper sends
        // the answer's head only.
        let found = match found {
            Lookup::Found { .. } => found,
            other if exchange.method == http::Method::HEAD => {
                match routes.lookup(exchange.host.as_deref(), &http::Method::GET, &exchange.path) {
                    get @ Lookup::Found { .. } => get,
                    _ => other,
                }
            }
            other => other,
        };
        match found {
            Lookup::Found { target, values } => {
                exchange.path_values = values;
                exchange.route = Some(target.label.clone());
                Next::new(&target.api.chain, &target.call)
                    .run(exchange)
                    .await
            }
            Lookup::MethodNotAllowed(mut allowed) => {
                if allowed.contains(&http::Method::GET) && !allowed.contains(&http::Method::HEAD) {
                    allowed.push(http::Method::HEAD);
                }
                // OPTIONS is answered for every routed path: what it allows, no body. Not a CORS
                // preflight that got here: no policy of the route it asks about allows it, and a
                // 204 would read as a yes.
                allowed.push(http::Method::OPTIONS);
                allowed.sort_by(|a, b| a.as_str().cmp(b.as_str()));
                allowed.dedup();
                if exchange.method == http::Method::OPTIONS && !is_preflight(&exchange) {
                    return Ok(Reply::allowing(&allowed));
                }
                Err(GatewayError::new(
                    ErrorKind::MethodNotAllowed(allowed),
                    format!(
                        "method {} is not allowed on {}",
                        exchange.method, exchange.path
                    ),
                ))
            }
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
