//! `DubboError`: every way a Dubbo call fails, named by cause so the caller can map it to a status once.

use std::time::Duration;

use dubbo_codec::frame::status_name;

#[derive(Debug, Clone, thiserror::Error)]
pub enum DubboError {
    /// No answer within the call's own timeout.
    #[error("no answer from the provider within {0:?}")]
    Timeout(Duration),
    /// No provider is listed for the call, or none of the listed ones is connected.
    #[error("no available provider for service `{0}`")]
    NoProvider(String),
    /// The connection failed or closed before an answer came.
    #[error("provider unavailable: {0}")]
    Unavailable(String),
    /// The provider answered with a status other than OK (20); the message is the body's text.
    #[error("provider answered status {status} ({}): {message}", status_name(*status))]
    Status { status: u8, message: String },
    /// A frame or body we could not make sense of.
    #[error("malformed Dubbo message: {0}")]
    Protocol(String),
    /// An outgoing body above the payload limit; it was not sent.
    #[error("request body of {0} bytes is above the payload limit")]
    PayloadTooLarge(usize),
}
