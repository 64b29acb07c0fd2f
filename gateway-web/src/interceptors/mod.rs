//! Layer 2, interceptors: the onion every request passes through before mapping and invoke.
//!
//! An [`Interceptor`] sees the exchange on the way in and the result on the way out (a breaker or a
//! limiter's permit needs both), and calls [`Next::run`] to go deeper, or answers by itself.
//! Two chains run per request (see `pipeline`), both in the order [`chain`] fixes:
//! - the global chain, before routing: [`request_id`] (so even a 404 carries an id);
//! - the API's chain, after routing, built once per route when a snapshot is compiled from the policies
//!   that apply to it: [`cors`], [`ip_rules`], [`request_rules`], [`auth`] (one file per mechanism),
//!   [`grants`], [`rate_limit`], [`fallback`], [`concurrency`], [`deadline`], [`retry`], [`breaker`];
//!   each policy is one file here and one arm in `chain`. [`outcome`] classes failures for the last
//!   three.

pub mod auth;
pub mod breaker;
pub mod chain;
pub mod concurrency;
pub mod cors;
pub mod deadline;
pub mod fallback;
pub mod grants;
pub mod ip_rules;
pub mod outcome;
pub mod rate_limit;
pub mod request_id;
pub mod request_rules;
pub mod retry;

use std::sync::Arc;

use async_trait::async_trait;

use crate::access::{Exchange, Reply};
use crate::error::GatewayError;

#[async_trait]
pub trait Interceptor: Send + Sync + 'static {
    async fn intercept(&self, exchange: Exchange, next: Next<'_>) -> Result<Reply, GatewayError>;
}

/// What sits at the centre of a chain: the router for the global chain, an operation for an API's chain.
#[async_trait]
pub trait Endpoint: Send + Sync {
    async fn call(&self, exchange: Exchange) -> Result<Reply, GatewayError>;
}

/// The rest of the chain, then the endpoint.
#[derive(Clone, Copy)]
pub struct Next<'a> {
    rest: &'a [Arc<dyn Interceptor>],
    endpoint: &'a dyn Endpoint,
}

impl<'a> Next<'a> {
    pub fn new(chain: &'a [Arc<dyn Interceptor>], endpoint: &'a dyn Endpoint) -> Self {
        Next {
            rest: chain,
            endpoint,
        }
    }

    pub async fn run(self, exchange: Exchange) -> Result<Reply, GatewayError> {
        match self.rest.split_first() {
            Some((first, rest)) => {
                first
                    .intercept(
                        exchange,
                        Next {
                            rest,
                            endpoint: self.endpoint,
                        },
                    )
                    .await
            }
            None => self.endpoint.call(exchange).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    struct Record(&'static str, Arc<Mutex<Vec<String>>>);

    #[async_trait]
    impl Interceptor for Record {
        async fn intercept(
            &self,
            exchange: Exchange,
            next: Next<'_>,
        ) -> Result<Reply, GatewayError> {
            self.1
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(format!("in {}", self.0));
            let result = next.run(exchange).await;
            self.1
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(format!("out {}", self.0));
            result
        }
    }

    struct Answer(Arc<Mutex<Vec<String>>>);

    #[async_trait]
    impl Endpoint for Answer {
        async fn call(&self, _: Exchange) -> Result<Reply, GatewayError> {
            self.0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push("endpoint".into());
            Ok(Reply::json("{}"))
        }
    }

    #[tokio::test]
    async fn interceptors_wrap_the_endpoint_in_order() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let chain: Vec<Arc<dyn Interceptor>> = vec![
            Arc::new(Record("a", log.clone())),
            Arc::new(Record("b", log.clone())),
        ];
        let endpoint = Answer(log.clone());
        let exchange = Exchange::for_test(http::Method::GET, "/", "");
        Next::new(&chain, &endpoint)
            .run(exchange)
            .await
            .expect("ok");
        let log = log.lock().unwrap_or_else(|e| e.into_inner()).clone();
        assert_eq!(log, ["in a", "in b", "endpoint", "out b", "out a"]);
    }
}
