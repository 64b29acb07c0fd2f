//! `ApiError`: the one JSON error shape `{code, message, request_id, details?}` and the only place a
//! failure becomes an HTTP status. Client mistakes are 4xx with a message that says what to fix; a store
//! that does not answer is a 503 (`store_unavailable`); only a fault of the portal itself is a 500.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

tokio::task_local! {
    /// The current request's id, set by the request-id middleware for the whole handler.
    pub static REQUEST_ID: String;
}

/// One field-level problem of a refused definition.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FieldProblem {
    pub field: String,
    pub problem: String,
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Vec<FieldProblem>,
    /// Seconds, sent as `Retry-After` (a lockout, a full queue).
    pub retry_after: Option<u64>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            details: Vec::new(),
            retry_after: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// A definition that does not validate or build; each problem becomes a `details` entry.
    pub fn invalid(message: impl Into<String>, details: Vec<FieldProblem>) -> Self {
        ApiError {
            details,
            ..Self::new(StatusCode::BAD_REQUEST, "invalid_definition", message)
        }
    }

    pub fn not_found(what: &str, name: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} `{name}` does not exist"),
        )
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "log in first: POST /api/session",
        )
    }

    /// Postgres is down or refuses connections: a 503 a client may retry, never a 500.
    pub fn store_unavailable() -> Self {
        ApiError {
            retry_after: Some(1),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "store_unavailable",
                "the definitions store (Postgres) does not answer; retry shortly",
            )
        }
    }

    pub fn internal(err: impl std::fmt::Display) -> Self {
        tracing::error!(error = %err, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; see the portal log",
        )
    }

    pub fn with_details(mut self, details: Vec<FieldProblem>) -> Self {
        self.details = details;
        self
    }
}

#[derive(Serialize)]
struct Body<'a> {
    code: &'a str,
    message: &'a str,
    request_id: String,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    details: &'a [FieldProblem],
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let request_id = REQUEST_ID.try_with(Clone::clone).unwrap_or_default();
        let body = Body {
            code: self.code,
            message: &self.message,
            request_id,
            details: &self.details,
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(seconds) = self.retry_after
            && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
        {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, value);
        }
        if self.status == StatusCode::UNAUTHORIZED && self.code == "unauthorized" {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Cookie realm=\"portal\""),
            );
        }
        response
    }
}

impl From<sqlx::Error> for ApiError {
    /// Constraint violations are the client's doing (a duplicate name, a dangling reference); the
    /// database enforces them so that concurrent writers cannot slip past a check made in Rust.
    fn from(err: sqlx::Error) -> Self {
        if store_unreachable(&err) {
            tracing::warn!(error = %err, "Postgres unreachable");
            return ApiError::store_unavailable();
        }
        if let sqlx::Error::Database(db) = &err {
            let constraint = db.constraint().unwrap_or_default().to_string();
            match db.code().as_deref() {
                Some("23505") if constraint.starts_with("api_routes") => {
                    return ApiError::new(
                        StatusCode::CONFLICT,
                        "duplicate_route",
                        format!("a route is already published by another API ({constraint})"),
                    );
                }
                Some("23505") => {
                    return ApiError::new(
                        StatusCode::CONFLICT,
                        "already_exists",
                        format!("the name is already taken ({constraint})"),
                    );
                }
                Some("23503") => {
                    return ApiError::new(
                        StatusCode::CONFLICT,
                        "in_use",
                        format!(
                            "refused: a reference would dangle ({constraint}); {}",
                            db.message()
                        ),
                    );
                }
                Some("23514") => {
                    return ApiError::bad_request(format!("refused by check `{constraint}`"));
                }
                // A NUL character (or bytes that are not UTF-8) in text that reached a statement.
                Some("22021" | "22P05") => {
                    return ApiError::bad_request(format!(
                        "text the store cannot hold (a NUL character?): {}",
                        db.message()
                    ));
                }
                _ => {}
            }
        }
        ApiError::internal(err)
    }
}

/// Errors that say the store cannot be reached or is going away, not that a statement failed: the
/// connection broke, the pool could not get one, or Postgres refuses connections (SQLSTATE class 08,
/// shutdown and "cannot connect now" 57P0x, too many connections 53300).
fn store_unreachable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            code.starts_with("08") || code.starts_with("57P0") || code == "53300"
        }),
        _ => false,
    }
}

/// Best guess at which field a definition problem is about, from the words the validators use.
pub fn field_of(problem: &str) -> String {
    // First match wins, so the more specific words come first.
    const WORDS: [(&str, &str); 15] = [
        ("endpoint", "endpoints"),
        ("unknown backend", "backend"),
        ("unknown schema", "schema"),
        ("forward_headers", "forward_headers"),
        ("return_metadata", "return_metadata"),
        ("header name", "forward_headers"),
        ("mapping", "mapping"),
        ("template", "http"),
        ("http", "http"),
        ("body", "http"),
        ("host", "host"),
        ("dubbo", "dubbo"),
        // A path template names the rule it came from.
        ("/", "http"),
        ("method", "grpc"),
        ("service", "grpc"),
    ];
    let lower = problem.to_ascii_lowercase();
    let after_item = lower
        .split_once(": ")
        .map_or(lower.as_str(), |(_, rest)| rest);
    WORDS
        .iter()
        .find(|(word, _)| after_item.contains(word))
        .map(|(_, field)| (*field).to_string())
        .unwrap_or_default()
}

pub fn problems_to_details(problems: &[String]) -> Vec<FieldProblem> {
    problems
        .iter()
        .map(|p| FieldProblem {
            field: field_of(p),
            problem: p.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_name_their_field() {
        let cases = [
            (
                "backend `b`: needs at least one endpoint (or, for dubbo, a registry)",
                "endpoints",
            ),
            ("api `a`: unknown backend `x`", "backend"),
            ("api `a`, method `Get`: /v1/{x}: no field `x`", "http"),
            ("api `a`: service `s` is not in schema `d`", "grpc"),
            (
                "api `a`: `bad header` is not a valid header name",
                "forward_headers",
            ),
            ("something else entirely", ""),
        ];
        for (problem, field) in cases {
            assert_eq!(field_of(problem), field, "{problem}");
        }
    }
}
