//! `kind: retry`: calls again what surely was not processed (nothing reached the backend, gRPC
//! UNAVAILABLE, a Dubbo provider that refused as overloaded), and, when the policy allows it and the
//! HTTP method is idempotent, what failed after reaching it. Within a budget shared by every call of the
//! scope (retries add at most `budget` extra load), with full-jitter exponential backoff, and never past
//! the caller's deadline: a wait that would end after it is not taken.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use http::Method;

use super::outcome::{FailureClass, classify, classify_answer, not_processed};
use super::{Interceptor, Next};
use crate::access::{Exchange, Reply};
use crate::error::GatewayError;
use crate::stores::RetryBudget;

pub struct Retry {
    pub attempts: u32,
    pub backoff: Duration,
    pub max_backoff: Duration,
    pub idempotent_failures: bool,
    pub budget: Arc<RetryBudget>,
}

impl Retry {
    fn may_repeat(&self, err: &GatewayError, method: &Method) -> bool {
        not_processed(err) || self.may_repeat_failure(classify(err), method)
    }

    /// A failure the backend may have seen: repeated only for idempotent methods, when allowed.
    fn may_repeat_failure(&self, class: Option<FailureClass>, method: &Method) -> bool {
        let idempotent = matches!(
            *method,
            Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
        );
        // A timeout here is the whole deadline's: nothing is left to retry in.
        self.idempotent_failures
            && idempotent
            && matches!(
                class,
                Some(FailureClass::BackendError | FailureClass::Unavailable)
            )
    }

    /// Full jitter: uniform in [0, min(max_backoff, backoff × 2^retry)].
    fn wait(&self, retry: u32) -> Duration {
        let ceiling = self
            .backoff
            .saturating_mul(1u32 << retry.min(16))
            .min(self.max_backoff);
        ceiling.mul_f64(fastrand::f64())
    }
}

#[async_trait]
impl Interceptor for Retry {
    async fn intercept(
        &self,
        mut exchange: Exchange,
        next: Next<'_>,
    ) -> Result<Reply, GatewayError> {
        self.budget.deposit();
        if self.attempts <= 1 {
            return next.run(exchange).await;
        }
        // A retry sends the same body again: read it now (the call would read it anyway).
        exchange.body().await?;
        let mut retry = 0;
        loop {
            let again = exchange.try_clone();
            let method = exchange.method.clone();
            let outcome = next.run(exchange).await;
            // An upstream's 5xx answer is repeated as its class would be as an error; when it is
            // not repeated, the client gets the answer itself.
            let repeatable = match &outcome {
                Ok(reply) => self.may_repeat_failure(classify_answer(reply), &method),
                Err(err) => self.may_repeat(err, &method),
            };
            if outcome.is_ok() && !repeatable {
                return outcome;
            }
            retry += 1;
            let Some(copy) = again else {
                return outcome;
            };
            if retry >= self.attempts || !repeatable {
                return outcome;
            }
            // Everything that could stop the retry is decided while the answer is still here to
            // return.
            let wait = self.wait(retry - 1);
            let left = copy.remaining().ok().flatten();
            if left.is_some_and(|left| left <= wait) || copy.remaining().is_err() {
                return outcome;
            }
            let code = match &outcome {
                Ok(reply) => format!("upstream {}", reply.status.as_u16()),
                Err(err) => err.code().to_string(),
            };
            if !self.budget.withdraw() {
                tracing::debug!(%code, "not retried: the retry budget is spent");
                return outcome;
            }
            tracing::debug!(%code, attempt = retry + 1, "retrying");
            drop(outcome);
            tokio::time::sleep(wait).await;
            exchange = copy;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn retry(idempotent_failures: bool) -> Retry {
        Retry {
            attempts: 3,
            backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(50),
            idempotent_failures,
            budget: Arc::new(RetryBudget::new(0.1, 10)),
        }
    }

    #[test]
    fn only_what_was_not_processed_is_repeated_unless_idempotent_failures_are_allowed() {
        let unreachable = GatewayError::new(ErrorKind::BackendUnavailable, "down");
        let unavailable = GatewayError::new(ErrorKind::Backend(tonic::Code::Unavailable), "busy");
        let internal = GatewayError::new(ErrorKind::Backend(tonic::Code::Internal), "boom");
        let invalid = GatewayError::new(ErrorKind::Backend(tonic::Code::InvalidArgument), "bad");
        let timeout = GatewayError::new(ErrorKind::DeadlineExceeded, "late");
        let strict = retry(false);
        assert!(strict.may_repeat(&unreachable, &Method::POST));
        assert!(strict.may_repeat(&unavailable, &Method::POST));
        assert!(!strict.may_repeat(&internal, &Method::GET));
        let lenient = retry(true);
        assert!(lenient.may_repeat(&internal, &Method::GET));
        assert!(lenient.may_repeat(&internal, &Method::PUT));
        assert!(
            !lenient.may_repeat(&internal, &Method::POST),
            "POST may not be repeated"
        );
        assert!(
            !lenient.may_repeat(&invalid, &Method::GET),
            "a client mistake stays one"
        );
        assert!(
            !lenient.may_repeat(&timeout, &Method::GET),
            "no time is left after a timeout"
        );
    }

    #[test]
    fn backoff_is_jittered_below_a_doubling_ceiling() {
        let policy = retry(false);
        for attempt in 0..6 {
            let ceiling = Duration::from_millis(20 << attempt).min(Duration::from_millis(50));
            for _ in 0..100 {
                assert!(policy.wait(attempt) <= ceiling);
            }
        }
        let waits: std::collections::HashSet<_> = (0..20).map(|_| policy.wait(1)).collect();
        assert!(waits.len() > 10, "jittered, not fixed");
    }
}
