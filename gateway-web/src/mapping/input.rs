//! What the mapping reads of one HTTP request ([`RequestInput`]), built in one place from the exchange,
//! and how its body was read ([`Media`]).

use crate::access::Exchange;

/// The parts of one HTTP request the mapping reads.
pub struct RequestInput<'a> {
    /// Values in template variable order.
    pub path_values: &'a [String],
    /// Decoded; repeated keys kept in order.
    pub query: &'a [(String, String)],
    pub headers: &'a http::HeaderMap,
    /// Media type essence, lowercased, e.g. `application/json`.
    pub content_type: Option<&'a str>,
    pub body: &'a [u8],
}

impl<'a> RequestInput<'a> {
    /// The exchange's parts after routing (path values set) and its body, read by the caller.
    pub fn of(exchange: &'a Exchange, content_type: Option<&'a str>, body: &'a [u8]) -> Self {
        RequestInput {
            path_values: &exchange.path_values,
            query: &exchange.query,
            headers: &exchange.headers,
            content_type,
            body,
        }
    }
}

/// How a non-empty body is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Media {
    Json,
    Form,
}
