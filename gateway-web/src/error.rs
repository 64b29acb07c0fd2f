//! `GatewayError`: every refusal and failure, who is at fault, and the one place it becomes an HTTP
//! response with the JSON shape `{"code", "message", "request_id", "details"?}`.

use std::borrow::Cow;

use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderValue, StatusCode, header};
use serde::Serialize;

use crate::access::request_id::HEADER as REQUEST_ID;

/// What went wrong, closed so that one `match` decides the HTTP status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// No route matches the path (404).
    RouteNotFound,
    /// The path matches, the method does not; carries the allowed methods (405 + `Allow`).
    MethodNotAllowed(Vec<http::Method>),
    /// The client sent something the API cannot accept (400).
    InvalidArgument,
    /// A body in a media type the API does not read (415).
    UnsupportedMediaType,
    /// A body above the configured limit (413).
    PayloadTooLarge,
    /// A request target (path and query) above the node's limit (414).
    UriTooLong,
    /// A request head (every header line) above the node's limit, or with too many fields (431).
    HeadersTooLarge,
    /// The request body did not arrive within the node's body read timeout (408).
    RequestTimeout,
    /// The backend answered with a gRPC status other than OK.
    Backend(tonic::Code),
    /// No connection to the backend could be made (503).
    BackendUnavailable,
    /// The backend broke the protocol (502).
    BadGateway,
    /// The backend's method threw (a Dubbo business exception). `mapped` is the status the API's
    /// exception table gives the class, if any (validated when the API was built); else 502.
    BackendException { mapped: Option<u16> },
    /// The provider has no such service or method (Dubbo status 60) (502).
    ServiceNotFound,
    /// The provider failed to run the call (Dubbo status 70) (502).
    ServiceError,
    /// The provider refused the call because it is saturated (Dubbo status 100) (503).
    BackendOverloaded,
    /// The provider answered with a failure status of no more specific kind (502).
    BackendError,
    /// An HTTP upstream refused the connection or broke it (502, `backend_unavailable`, as nginx and
    /// Envoy answer). `sent` says whether the request may have reached it: a refused connection did
    /// not, so a retry is always safe; a reset after sending is not.
    UpstreamFailed { sent: bool },
    /// Every endpoint of an HTTP upstream is ejected or failed its health check (503).
    NoHealthyUpstream,
    /// The call's deadline passed before the backend answered (504).
    DeadlineExceeded,
    /// No credential, or one that proves nothing (401). `challenge` is the `WWW-Authenticate` value
    /// naming the schemes the API accepts.
    Unauthenticated { challenge: std::sync::Arc<str> },
    /// A signature that does not verify, or a signed request that lacks a signed part (401).
    SignatureInvalid,
    /// A signature whose timestamp is outside the clock-skew window (401).
    SignatureExpired,
    /// A signature's nonce was seen before, on this node or another (401).
    NonceReplayed,
    /// An authenticated consumer without a grant for the API, or a disabled one (403).
    PermissionDenied,
    /// The client address is not allowed (403).
    IpDenied,
    /// A cross-origin request from an origin, or with a method or header, the API does not allow (403).
    CorsRejected,
    /// A store or service authentication depends on is unreachable and the API says refuse (503).
    AuthUnavailable,
    /// A rate limit or quota is spent (429, with `Retry-After` and the `RateLimit` headers).
    RateLimited,
    /// Redis cannot count and the limit says refuse while it cannot (`fail_closed`) (503).
    RateLimitUnavailable,
    /// The API's bulkhead and its queue are full (503, with `Retry-After`).
    Overloaded,
    /// The breaker in front of the backend is open: refused without calling it (503).
    CircuitOpen,
    /// The request's shape is refused by the API's request rules (a denied user agent) (403).
    RequestDenied,
    /// A fault of the gateway itself (500). Never used for a client's mistake.
    Internal,
}

/// Who caused an error; logs and metrics group by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Client,
    Gateway,
    Backend,
}

#[derive(Debug, Clone)]
pub struct GatewayError {
    pub kind: ErrorKind,
    pub message: Cow<'static, str>,
    /// Structured details (e.g. the backend's `google.rpc.Status.details` as proto3 JSON).
    pub details: Option<serde_json::Value>,
    /// Set by the request-id interceptor on the way out, so every error body can carry it.
    pub request_id: Option<String>,
    /// Headers an interceptor adds to the answer on its way out (CORS on a refusal, say). Boxed: most
    /// errors carry none, and the error travels through every layer.
    pub headers: Option<Box<http::HeaderMap>>,
}

impl GatewayError {
    pub fn new(kind: ErrorKind, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            kind,
            message: message.into(),
            details: None,
            request_id: None,
            headers: None,
        }
    }

    pub fn invalid_argument(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::InvalidArgument, message)
    }

    pub fn internal(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }

    /// A refusal for lack of a credential, naming the schemes that would do.
    pub fn unauthenticated(
        challenge: &std::sync::Arc<str>,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self::new(
            ErrorKind::Unauthenticated {
                challenge: challenge.clone(),
            },
            message,
        )
    }

    /// Adds a header to the error's answer (replacing one of the same name).
    pub fn with_header(mut self, name: http::HeaderName, value: HeaderValue) -> Self {
        self.headers
            .get_or_insert_with(Default::default)
            .insert(name, value);
        self
    }

    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = Some(details);
        self
    }

    pub fn fault(&self) -> Fault {
        match self.kind {
            ErrorKind::RouteNotFound
            | ErrorKind::MethodNotAllowed(_)
            | ErrorKind::InvalidArgument
            | ErrorKind::UnsupportedMediaType
            | ErrorKind::PayloadTooLarge
            | ErrorKind::UriTooLong
            | ErrorKind::HeadersTooLarge
            | ErrorKind::RequestTimeout
            | ErrorKind::Unauthenticated { .. }
            | ErrorKind::SignatureInvalid
            | ErrorKind::SignatureExpired
            | ErrorKind::NonceReplayed
            | ErrorKind::PermissionDenied
            | ErrorKind::IpDenied
            | ErrorKind::CorsRejected
            | ErrorKind::RateLimited
            | ErrorKind::RequestDenied => Fault::Client,
            ErrorKind::Internal => Fault::Gateway,
            // An exception the API maps to a 4xx is, by the API owner's word, the client's mistake.
            ErrorKind::BackendException {
                mapped: Some(status),
            } if (400..500).contains(&status) => Fault::Client,
            ErrorKind::Backend(_)
            | ErrorKind::BackendUnavailable
            | ErrorKind::BadGateway
            | ErrorKind::UpstreamFailed { .. }
            | ErrorKind::NoHealthyUpstream
            | ErrorKind::BackendException { .. }
            | ErrorKind::ServiceNotFound
            | ErrorKind::ServiceError
            | ErrorKind::BackendOverloaded
            | ErrorKind::BackendError
            | ErrorKind::DeadlineExceeded
            | ErrorKind::AuthUnavailable
            | ErrorKind::RateLimitUnavailable
            | ErrorKind::Overloaded
            | ErrorKind::CircuitOpen => Fault::Backend,
        }
    }

    pub fn status(&self) -> StatusCode {
        match &self.kind {
            ErrorKind::RouteNotFound => StatusCode::NOT_FOUND,
            ErrorKind::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ErrorKind::InvalidArgument => StatusCode::BAD_REQUEST,
            ErrorKind::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorKind::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorKind::UriTooLong => StatusCode::URI_TOO_LONG,
            ErrorKind::HeadersTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            ErrorKind::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            ErrorKind::Backend(code) => grpc_to_http(*code),
            ErrorKind::BackendUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorKind::BadGateway | ErrorKind::UpstreamFailed { .. } => StatusCode::BAD_GATEWAY,
            ErrorKind::NoHealthyUpstream => StatusCode::SERVICE_UNAVAILABLE,
            ErrorKind::BackendException { mapped } => mapped
                .and_then(|status| StatusCode::from_u16(status).ok())
                .unwrap_or(StatusCode::BAD_GATEWAY),
            ErrorKind::ServiceNotFound | ErrorKind::ServiceError | ErrorKind::BackendError => {
                StatusCode::BAD_GATEWAY
            }
            ErrorKind::BackendOverloaded
            | ErrorKind::AuthUnavailable
            | ErrorKind::RateLimitUnavailable
            | ErrorKind::Overloaded
            | ErrorKind::CircuitOpen => StatusCode::SERVICE_UNAVAILABLE,
            ErrorKind::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ErrorKind::Unauthenticated { .. }
            | ErrorKind::SignatureInvalid
            | ErrorKind::SignatureExpired
            | ErrorKind::NonceReplayed => StatusCode::UNAUTHORIZED,
            ErrorKind::PermissionDenied
            | ErrorKind::IpDenied
            | ErrorKind::CorsRejected
            | ErrorKind::RequestDenied => StatusCode::FORBIDDEN,
            ErrorKind::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
            ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable, machine-readable `code` of the JSON body.
    pub fn code(&self) -> &'static str {
        match &self.kind {
            ErrorKind::RouteNotFound => "route_not_found",
            ErrorKind::MethodNotAllowed(_) => "method_not_allowed",
            ErrorKind::InvalidArgument => "invalid_argument",
            ErrorKind::UnsupportedMediaType => "unsupported_media_type",
            ErrorKind::PayloadTooLarge => "payload_too_large",
            ErrorKind::UriTooLong => "uri_too_long",
            ErrorKind::HeadersTooLarge => "headers_too_large",
            ErrorKind::RequestTimeout => "request_timeout",
            ErrorKind::Backend(code) => grpc_code_name(*code),
            ErrorKind::BackendUnavailable => "backend_unavailable",
            ErrorKind::BadGateway => "bad_gateway",
            ErrorKind::UpstreamFailed { .. } => "backend_unavailable",
            ErrorKind::NoHealthyUpstream => "no_healthy_upstream",
            ErrorKind::BackendException { .. } => "backend_exception",
            ErrorKind::ServiceNotFound => "service_not_found",
            ErrorKind::ServiceError => "service_error",
            ErrorKind::BackendOverloaded => "provider_overloaded",
            ErrorKind::BackendError => "backend_error",
            ErrorKind::DeadlineExceeded => "deadline_exceeded",
            ErrorKind::Unauthenticated { .. } => "unauthenticated",
            ErrorKind::SignatureInvalid => "signature_invalid",
            ErrorKind::SignatureExpired => "signature_expired",
            ErrorKind::NonceReplayed => "nonce_replayed",
            ErrorKind::PermissionDenied => "permission_denied",
            ErrorKind::IpDenied => "ip_denied",
            ErrorKind::CorsRejected => "cors_rejected",
            ErrorKind::AuthUnavailable => "auth_unavailable",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::RateLimitUnavailable => "rate_limit_unavailable",
            ErrorKind::Overloaded => "overloaded",
            ErrorKind::CircuitOpen => "circuit_open",
            ErrorKind::RequestDenied => "request_denied",
            ErrorKind::Internal => "internal",
        }
    }

    /// The JSON error body: the one shape every refusal and failure has, in a whole response or as the
    /// last record of a stream. The request id is always present: the request-id interceptor sets it on
    /// every error that passes through it, and the pipeline on the rest.
    pub fn body(&self) -> Vec<u8> {
        #[derive(Serialize)]
        struct Body<'a> {
            code: &'a str,
            message: &'a str,
            request_id: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            details: Option<&'a serde_json::Value>,
        }
        let body = Body {
            code: self.code(),
            message: &self.message,
            request_id: self.request_id.as_deref().unwrap_or(""),
            details: self.details.as_ref(),
        };
        // Serialising a struct of strings and a `Value` cannot fail; the fallback keeps this total anyway.
        serde_json::to_vec(&body).unwrap_or_else(|_| b"{\"code\":\"internal\"}".to_vec())
    }

    /// Renders the error as an HTTP response: the status, the JSON body, `Allow` on a 405, the request id.
    pub fn to_response(&self) -> Response {
        let bytes = self.body();
        let mut response = (self.status(), Bytes::from(bytes)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let ErrorKind::Unauthenticated { challenge } = &self.kind
            && let Ok(value) = HeaderValue::from_str(challenge)
        {
            headers.insert(header::WWW_AUTHENTICATE, value);
        }
        if let Some(extra) = &self.headers {
            for (name, value) in extra.iter() {
                headers.insert(name.clone(), value.clone());
            }
        }
        if let ErrorKind::MethodNotAllowed(allowed) = &self.kind {
            let allow = allowed
                .iter()
                .map(http::Method::as_str)
                .collect::<Vec<_>>()
                .join(", ");
            if let Ok(value) = HeaderValue::from_str(&allow) {
                headers.insert(header::ALLOW, value);
            }
        }
        if let Some(id) = self
            .request_id
            .as_deref()
            .and_then(|id| HeaderValue::from_str(id).ok())
        {
            headers.insert(REQUEST_ID, id);
        }
        response
    }
}

/// `/readyz` before a revision is loaded: not an error of a request, but a status all the same, so it is
/// chosen here with the rest.
pub const NOT_READY: StatusCode = StatusCode::SERVICE_UNAVAILABLE;

/// A duration as people write it in a message (`1s`, `250ms`, `1m 30s`): rounded to the millisecond,
/// so a budget that ran out after 999.95 ms reads `1s`, not `999ms 952us 458ns`.
pub fn readable(duration: std::time::Duration) -> String {
    let millis = ((duration.as_micros() + 500) / 1000).max(1);
    let rounded = std::time::Duration::from_millis(millis as u64);
    humantime::format_duration(rounded).to_string()
}

/// A fallback's configured status (checked when the policy was read, so this never fails on a valid
/// definition).
pub fn status_from(code: u16) -> Option<StatusCode> {
    StatusCode::from_u16(code).ok()
}

/// Whether `status` can stand for a backend exception in an API's exception table (checked when the API
/// is built, so [`ErrorKind::BackendException`] never carries a number that is not a status).
pub fn is_mappable_status(status: u16) -> bool {
    StatusCode::from_u16(status).is_ok()
}

impl std::fmt::Display for GatewayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code(), self.message)
    }
}

impl std::error::Error for GatewayError {}

/// The google.rpc code → HTTP status table (as in `google/rpc/code.proto` and grpc-gateway).
pub fn grpc_to_http(code: tonic::Code) -> StatusCode {
    use tonic::Code;
    match code {
        Code::Ok => StatusCode::OK,
        Code::Cancelled => StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST),
        Code::Unknown => StatusCode::INTERNAL_SERVER_ERROR,
        Code::InvalidArgument => StatusCode::BAD_REQUEST,
        Code::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
        Code::NotFound => StatusCode::NOT_FOUND,
        Code::AlreadyExists => StatusCode::CONFLICT,
        Code::PermissionDenied => StatusCode::FORBIDDEN,
        Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
        Code::FailedPrecondition => StatusCode::BAD_REQUEST,
        Code::Aborted => StatusCode::CONFLICT,
        Code::OutOfRange => StatusCode::BAD_REQUEST,
        Code::Unimplemented => StatusCode::NOT_IMPLEMENTED,
        Code::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        Code::DataLoss => StatusCode::INTERNAL_SERVER_ERROR,
        Code::Unauthenticated => StatusCode::UNAUTHORIZED,
    }
}

fn grpc_code_name(code: tonic::Code) -> &'static str {
    use tonic::Code;
    match code {
        Code::Ok => "ok",
        Code::Cancelled => "cancelled",
        Code::Unknown => "unknown",
        Code::InvalidArgument => "invalid_argument",
        Code::DeadlineExceeded => "deadline_exceeded",
        Code::NotFound => "not_found",
        Code::AlreadyExists => "already_exists",
        Code::PermissionDenied => "permission_denied",
        Code::ResourceExhausted => "resource_exhausted",
        Code::FailedPrecondition => "failed_precondition",
        Code::Aborted => "aborted",
        Code::OutOfRange => "out_of_range",
        Code::Unimplemented => "unimplemented",
        Code::Internal => "internal",
        Code::Unavailable => "unavailable",
        Code::DataLoss => "data_loss",
        Code::Unauthenticated => "unauthenticated",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::Code;

    /// The standard table, row by row.
    #[test]
    fn grpc_codes_map_to_the_standard_http_statuses() {
        let table = [
            (Code::InvalidArgument, 400),
            (Code::FailedPrecondition, 400),
            (Code::OutOfRange, 400),
            (Code::Unauthenticated, 401),
            (Code::PermissionDenied, 403),
            (Code::NotFound, 404),
            (Code::AlreadyExists, 409),
            (Code::Aborted, 409),
            (Code::ResourceExhausted, 429),
            (Code::Cancelled, 499),
            (Code::Unknown, 500),
            (Code::Internal, 500),
            (Code::DataLoss, 500),
            (Code::Unimplemented, 501),
            (Code::Unavailable, 503),
            (Code::DeadlineExceeded, 504),
        ];
        for (code, status) in table {
            assert_eq!(grpc_to_http(code).as_u16(), status, "{code:?}");
        }
    }

    #[test]
    fn durations_read_as_people_write_them() {
        use std::time::Duration;
        for (duration, text) in [
            (Duration::from_nanos(999_952_458), "1s"),
            (Duration::from_millis(250), "250ms"),
            (Duration::from_micros(1_500_400), "1s 500ms"),
            (Duration::from_secs(90), "1m 30s"),
            (Duration::from_nanos(10), "1ms"),
        ] {
            assert_eq!(readable(duration), text, "{duration:?}");
        }
    }

    #[test]
    fn method_not_allowed_lists_the_allowed_methods() {
        let mut err = GatewayError::new(
            ErrorKind::MethodNotAllowed(vec![http::Method::GET, http::Method::POST]),
            "method DELETE is not allowed here",
        );
        err.request_id = Some("abc".into());
        let response = err.to_response();
        assert_eq!(response.status(), 405);
        assert_eq!(response.headers()[header::ALLOW], "GET, POST");
        assert_eq!(response.headers()["x-request-id"], "abc");
    }
}
