//! A failed Dubbo call → `GatewayError`: each way a call fails (no provider, timeout, a status byte, a
//! broken frame, a thrown exception) named as a kind; `error.rs` alone turns kinds into HTTP statuses.

use super::error::DubboError;
use crate::error::{ErrorKind, GatewayError};

/// `target` is `Interface.method`, for the message.
pub fn to_error(err: DubboError, target: &str) -> GatewayError {
    match err {
        DubboError::Timeout(after) => GatewayError::new(
            ErrorKind::DeadlineExceeded,
            format!(
                "{target} did not answer within {}",
                crate::error::readable(after)
            ),
        ),
        DubboError::NoProvider(what) => GatewayError::new(
            ErrorKind::BackendUnavailable,
            format!("no live provider: {what}"),
        ),
        DubboError::Unavailable(what) => GatewayError::new(
            ErrorKind::BackendUnavailable,
            format!("provider unreachable: {what}"),
        ),
        DubboError::Status { status, message } => GatewayError::new(
            status_kind(status),
            format!("{target}: provider answered status {status}: {message}"),
        ),
        DubboError::Protocol(what) => {
            GatewayError::new(ErrorKind::BadGateway, format!("{target}: {what}"))
        }
        DubboError::PayloadTooLarge(size) => GatewayError::new(
            ErrorKind::BadGateway,
            format!("{target}: a body of {size} bytes is over the backend's payload limit"),
        ),
    }
}

/// A response status other than OK (20).
fn status_kind(status: u8) -> ErrorKind {
    match status {
        // CLIENT_TIMEOUT, SERVER_TIMEOUT: the provider's own clock ran out.
        30 | 31 => ErrorKind::DeadlineExceeded,
        60 => ErrorKind::ServiceNotFound,
        70 => ErrorKind::ServiceError,
        // SERVER_THREADPOOL_EXHAUSTED: saturated, worth retrying elsewhere or later.
        100 => ErrorKind::BackendOverloaded,
        _ => ErrorKind::BackendError,
    }
}

/// A business exception the method threw: `class` and `message` as the provider sent them, `mapped`
/// the status the API's exception table gives the class (else the kind's default, 502).
pub fn exception_error(class: &str, message: &str, mapped: Option<u16>) -> GatewayError {
    let text = if class.is_empty() {
        message.to_string()
    } else {
        format!("{class}: {message}")
    };
    GatewayError::new(ErrorKind::BackendException { mapped }, text)
        .with_details(serde_json::json!([{ "exception": class, "message": message }]))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every status a provider can answer, by the status and code the client sees.
    #[test]
    fn provider_statuses_map_to_named_kinds() {
        let cases = [
            (30u8, 504, "deadline_exceeded"),
            (31, 504, "deadline_exceeded"),
            (40, 502, "backend_error"),
            (50, 502, "backend_error"),
            (60, 502, "service_not_found"),
            (70, 502, "service_error"),
            (80, 502, "backend_error"),
            (90, 502, "backend_error"),
            (100, 503, "provider_overloaded"),
        ];
        for (status, http, code) in cases {
            let err = to_error(
                DubboError::Status {
                    status,
                    message: "x".into(),
                },
                "I.m",
            );
            assert_eq!(
                (err.status().as_u16(), err.code()),
                (http, code),
                "{status}"
            );
        }
    }

    #[test]
    fn exceptions_take_the_mapped_status_or_502() {
        let mapped = exception_error("com.x.NotFound", "no user", Some(404));
        assert_eq!(mapped.status(), 404);
        assert_eq!(mapped.fault(), crate::error::Fault::Client);
        let unmapped = exception_error("com.x.Boom", "boom", None);
        assert_eq!(unmapped.status(), 502);
        assert_eq!(unmapped.code(), "backend_exception");
    }
}
