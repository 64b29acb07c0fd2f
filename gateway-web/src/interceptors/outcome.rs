//! How a failed call is classed by the policies that react to failures: which failures a breaker
//! counts, which a fallback answers, which a retry may repeat. One table, so the three agree.

use crate::access::{Reply, ReplyBody};
use crate::error::{ErrorKind, Fault, GatewayError};

/// The classes a definition names (`failures:` of a breaker, `on:` of a fallback).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureClass {
    /// No connection, gRPC UNAVAILABLE, a Dubbo provider that refused the call as overloaded.
    Unavailable,
    /// The deadline passed, here or at the backend.
    Timeout,
    /// A 5xx-like backend fault: INTERNAL, UNKNOWN, DATA_LOSS, a Dubbo service error, a broken reply.
    BackendError,
    /// The breaker refused the call.
    CircuitOpen,
    /// The bulkhead refused the call.
    Overloaded,
}

impl FailureClass {
    pub fn parse(name: &str) -> Option<FailureClass> {
        Some(match name {
            "unavailable" => FailureClass::Unavailable,
            "timeout" => FailureClass::Timeout,
            "backend_error" => FailureClass::BackendError,
            "circuit_open" => FailureClass::CircuitOpen,
            "overloaded" => FailureClass::Overloaded,
            _ => return None,
        })
    }
}

/// The class of an error, `None` for what is nobody's failure but the client's (a bad argument, a
/// refused credential, a NOT_FOUND) or a business exception the API maps.
pub fn classify(err: &GatewayError) -> Option<FailureClass> {
    use tonic::Code;
    Some(match &err.kind {
        ErrorKind::BackendUnavailable
        | ErrorKind::BackendOverloaded
        | ErrorKind::UpstreamFailed { .. }
        | ErrorKind::NoHealthyUpstream
        | ErrorKind::Backend(Code::Unavailable) => FailureClass::Unavailable,
        ErrorKind::DeadlineExceeded | ErrorKind::Backend(Code::DeadlineExceeded) => {
            FailureClass::Timeout
        }
        ErrorKind::Backend(Code::Internal | Code::Unknown | Code::DataLoss)
        | ErrorKind::BadGateway
        | ErrorKind::ServiceError
        | ErrorKind::ServiceNotFound
        | ErrorKind::BackendError => FailureClass::BackendError,
        ErrorKind::CircuitOpen => FailureClass::CircuitOpen,
        ErrorKind::Overloaded => FailureClass::Overloaded,
        _ => return None,
    })
}

/// The class of an HTTP upstream's own 5xx answer, which the relay passes on as it is (not as an
/// error): 503 is `unavailable`, 504 `timeout`, any other 5xx `backend_error`. `None` for every other
/// reply, so a breaker, a retry and a fallback treat an upstream that answers 500 as they treat a
/// gRPC INTERNAL.
pub fn classify_answer(reply: &Reply) -> Option<FailureClass> {
    if !matches!(reply.body, ReplyBody::Relay(_)) || !reply.status.is_server_error() {
        return None;
    }
    Some(match reply.status.as_u16() {
        503 => FailureClass::Unavailable,
        504 => FailureClass::Timeout,
        _ => FailureClass::BackendError,
    })
}

/// Whether the backend surely did not process the call: nothing reached it, or it refused before
/// running it. What a retry may always repeat.
pub fn not_processed(err: &GatewayError) -> bool {
    matches!(
        err.kind,
        ErrorKind::BackendUnavailable
            | ErrorKind::BackendOverloaded
            | ErrorKind::NoHealthyUpstream
            | ErrorKind::UpstreamFailed { sent: false }
            | ErrorKind::Backend(tonic::Code::Unavailable)
    )
}

/// Whether the error is the backend's (any class), for `failures: [any]`.
pub fn is_backend_fault(err: &GatewayError) -> bool {
    err.fault() == Fault::Backend
        && !matches!(
            err.kind,
            ErrorKind::CircuitOpen | ErrorKind::Overloaded | ErrorKind::RateLimitUnavailable
        )
}
