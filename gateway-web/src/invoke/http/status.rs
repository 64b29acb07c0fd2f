//! Every way relaying to an HTTP upstream fails → a named `GatewayError` kind: no connection (502,
//! safe to retry), a connection broken after the request went (502), a request body over its limit
//! (413), a client whose body stopped arriving (400, and no mark against the endpoint).

use std::error::Error as _;

use crate::error::{ErrorKind, GatewayError};

pub fn to_error(
    err: &hyper_util::client::legacy::Error,
    backend: &str,
    endpoint: &str,
) -> GatewayError {
    let mut source = err.source();
    while let Some(cause) = source {
        if cause
            .downcast_ref::<http_body_util::LengthLimitError>()
            .is_some()
        {
            return GatewayError::new(
                ErrorKind::PayloadTooLarge,
                "the request body is larger than this API relays",
            );
        }
        // hyper's "user" errors are ours to send: the request body failed as it was read from the
        // client (who went away, or broke its own framing), not the upstream.
        if cause
            .downcast_ref::<hyper::Error>()
            .is_some_and(hyper::Error::is_user)
        {
            return GatewayError::invalid_argument(format!(
                "the request body stopped arriving before it was relayed whole: {}",
                innermost(err)
            ));
        }
        source = cause.source();
    }
    let cause = innermost(err);
    if err.is_connect() {
        return GatewayError::new(
            ErrorKind::UpstreamFailed { sent: false },
            format!("backend `{backend}`: could not connect to {endpoint}: {cause}"),
        );
    }
    GatewayError::new(
        ErrorKind::UpstreamFailed { sent: true },
        format!("backend `{backend}`: {endpoint} broke the exchange: {cause}"),
    )
}

/// The deepest cause's text: hyper's outer errors say only "client error (Connect)".
fn innermost(err: &(dyn std::error::Error + 'static)) -> String {
    let mut deepest: &(dyn std::error::Error + 'static) = err;
    while let Some(next) = deepest.source() {
        deepest = next;
    }
    deepest.to_string()
}
