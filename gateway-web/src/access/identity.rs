//! `Identity`: who a request was authenticated as, set by an authentication interceptor and read by
//! the grant check, later policies (limits by consumer) and the call, which sends it downstream.

use http::{HeaderName, HeaderValue};

/// The header (HTTP), metadata key (gRPC) and attachment (Dubbo) carrying the consumer's id.
pub const CONSUMER_HEADER: HeaderName = HeaderName::from_static("x-consumer-id");

#[derive(Debug, Clone)]
pub struct Identity {
    /// The registered consumer, when the credential belongs to one (its grants then apply).
    pub consumer: Option<String>,
    /// Who the request is: the consumer's name, or a token's subject.
    pub subject: String,
    /// How it proved it: `api_key`, `signature`, `http_signature`, `jwt`, `external_auth`,
    /// `certificate`.
    pub method: &'static str,
    /// The credential that proved it (its id), for logs and last-used times; never the secret.
    pub credential: String,
    /// What travels downstream besides [`CONSUMER_HEADER`]: forwarded claims, identity headers an
    /// external service vouched for.
    pub downstream: Vec<(HeaderName, HeaderValue)>,
}

impl Identity {
    /// Every (name, value) the backend receives about the caller, the consumer id first.
    pub fn downstream(&self) -> impl Iterator<Item = (HeaderName, HeaderValue)> + '_ {
        let id = HeaderValue::from_str(&self.subject).ok();
        id.map(|id| (CONSUMER_HEADER, id))
            .into_iter()
            .chain(self.downstream.iter().cloned())
    }
}
