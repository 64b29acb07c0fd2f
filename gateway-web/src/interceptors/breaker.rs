//! `kind: circuit_breaker`: in front of the call, inside retries and the deadline, so it sees each
//! attempt. An open breaker refuses at once with 503 `circuit_open` (or the API's fallback answers).
//! A call the deadline cuts off never returns here: the guard records it when it is dropped, as a
//! timeout if the deadline passed, and as nothing if the client went away.

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;

use super::outcome::{FailureClass, classify, classify_answer, is_backend_fault};
use super::{Interceptor, Next};
use crate::access::{Exchange, Reply};
use crate::error::{ErrorKind, GatewayError};
use crate::stores::Breaker;
use crate::stores::breaker::Ticket;

pub struct CircuitBreaker {
    pub breaker: Arc<Breaker>,
    /// The classes counted as failures; `any` counts every backend fault.
    pub failures: Vec<FailureClass>,
    pub any: bool,
    /// gRPC statuses counted by name (`grpc:RESOURCE_EXHAUSTED`).
    pub codes: Vec<tonic::Code>,
    /// What the refusal names.
    pub scope: String,
}

impl CircuitBreaker {
    fn counts(&self, err: &GatewayError) -> bool {
        if self.any {
            return is_backend_fault(err);
        }
        if let crate::error::ErrorKind::Backend(code) = &err.kind
            && self.codes.contains(code)
        {
            return true;
        }
        classify(err).is_some_and(|class| self.failures.contains(&class))
    }

    /// An upstream's own 5xx answer counts as its class would as an error.
    fn counts_answer(&self, reply: &Reply) -> bool {
        classify_answer(reply).is_some_and(|class| self.any || self.failures.contains(&class))
    }
}

/// Reports the call's outcome exactly once, even when the call is dropped mid-way.
struct Pending<'a> {
    breaker: &'a Breaker,
    ticket: Option<Ticket>,
    deadline: Option<Instant>,
    timeouts_count: bool,
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        if let Some(ticket) = self.ticket.take() {
            let timed_out = self.deadline.is_some_and(|at| Instant::now() >= at);
            if timed_out {
                self.breaker.finish(ticket, self.timeouts_count);
            } else {
                self.breaker.abandon(ticket);
            }
        }
    }
}

#[async_trait]
impl Interceptor for CircuitBreaker {
    async fn intercept(&self, exchange: Exchange, next: Next<'_>) -> Result<Reply, GatewayError> {
        let Some(ticket) = self.breaker.admit() else {
            return Err(GatewayError::new(
                ErrorKind::CircuitOpen,
                format!(
                    "the circuit breaker of {} is open: the backend failed too often and is not called for now",
                    self.scope
                ),
            ));
        };
        let mut pending = Pending {
            breaker: &self.breaker,
            ticket: Some(ticket),
            deadline: exchange.timeout.map(|t| exchange.received + t),
            timeouts_count: self.any || self.failures.contains(&FailureClass::Timeout),
        };
        let result = next.run(exchange).await;
        let failed = match &result {
            Ok(reply) => self.counts_answer(reply),
            Err(err) => self.counts(err),
        };
        if let Some(ticket) = pending.ticket.take() {
            self.breaker.finish(ticket, failed);
        }
        result
    }
}
