//! `Reply`: what the layers below hand back to access, a whole body or a stream of chunks.

use std::convert::Infallible;

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::stream::BoxStream;
use http::{HeaderMap, HeaderValue, StatusCode, header};

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: ReplyBody,
}

pub enum ReplyBody {
    Full(Bytes),
    /// Server streaming: chunks are written as they come (NDJSON lines or SSE events).
    Stream(BoxStream<'static, Result<Bytes, Infallible>>),
    /// An HTTP upstream's body, relayed as it arrives; an error mid-way cuts the connection, as a
    /// proxy must when it cannot finish a message it started.
    Relay(Body),
}

impl Reply {
    /// A 200 with a JSON body.
    pub fn json(body: impl Into<Bytes>) -> Self {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        Reply {
            status: StatusCode::OK,
            headers,
            body: ReplyBody::Full(body.into()),
        }
    }

    /// A 204 with no body (a CORS preflight's answer).
    pub fn empty_no_content() -> Self {
        Reply {
            status: StatusCode::NO_CONTENT,
            headers: HeaderMap::new(),
            body: ReplyBody::Full(Bytes::new()),
        }
    }

    /// The answer to an `OPTIONS` for a routed path: 204 and the methods it allows.
    pub fn allowing(methods: &[http::Method]) -> Self {
        let mut reply = Reply::empty_no_content();
        let allow = methods
            .iter()
            .map(http::Method::as_str)
            .collect::<Vec<_>>()
            .join(", ");
        if let Ok(value) = HeaderValue::from_str(&allow) {
            reply.headers.insert(header::ALLOW, value);
        }
        reply
    }

    /// A 200 that streams, with the given media type.
    pub fn stream(
        content_type: &'static str,
        chunks: BoxStream<'static, Result<Bytes, Infallible>>,
    ) -> Self {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        Reply {
            status: StatusCode::OK,
            headers,
            body: ReplyBody::Stream(chunks),
        }
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let body = match self.body {
            ReplyBody::Full(bytes) => Body::from(bytes),
            ReplyBody::Stream(chunks) => Body::from_stream(chunks),
            ReplyBody::Relay(body) => body,
        };
        let mut response = (self.status, body).into_response();
        response.headers_mut().extend(self.headers);
        response
    }
}
