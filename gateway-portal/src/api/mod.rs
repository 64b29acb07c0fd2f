//! The admin REST API under /api, one file per resource. Shared here: the JSON body extractor (so a
//! malformed body is our 400, not the framework's text), `ETag`/`If-Match` handling, and paged lists.

pub mod apis;
pub mod apps;
pub mod audit;
pub mod backends;
pub mod credentials;
pub mod dubbo_definitions;
pub mod imports;
pub mod openapi;
pub mod revisions;
pub mod schema_update;
pub mod schemas;
pub mod settings;
pub mod transfer;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ApiResult};

/// Largest JSON or YAML body the admin API accepts (descriptor sets and proto uploads included).
pub const BODY_LIMIT: usize = 16 << 20;

/// `Json<T>` with our error shape: malformed JSON or a wrong field is a 400 naming the place.
pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(request, state).await.map_err(|err| {
            if err.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "too_large",
                    format!("the body is larger than {BODY_LIMIT} bytes"),
                )
            } else {
                ApiError::bad_request(format!("could not read the body: {err}"))
            }
        })?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// A definition body (`Backend`, `Api`): the JSON a GET returned is accepted back as is, so the
/// read-only keys the portal adds (`version`, `published`, `routes`) are dropped before the strict parse.
pub struct SpecBody<T>(pub T);

impl<S, T> FromRequest<S> for SpecBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let JsonBody(mut value) =
            JsonBody::<serde_json::Value>::from_request(request, state).await?;
        if let Some(object) = value.as_object_mut() {
            for key in ["version", "published", "routes"] {
                object.remove(key);
            }
        }
        serde_json::from_value(value)
            .map(SpecBody)
            .map_err(|err| ApiError::bad_request(format!("unexpected JSON content: {err}")))
    }
}

/// A stored spec with the portal's keys added: what GET returns.
pub fn decorate(
    mut spec: serde_json::Value,
    extra: &[(&str, serde_json::Value)],
) -> serde_json::Value {
    if let Some(object) = spec.as_object_mut() {
        for (key, value) in extra {
            object.insert((*key).to_string(), value.clone());
        }
    }
    spec
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> ApiResult<T> {
    refuse_nul(bytes)?;
    serde_json::from_slice(bytes).map_err(|err| {
        let kind = if err.is_syntax() || err.is_eof() {
            "malformed JSON"
        } else {
            "unexpected JSON content"
        };
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("{kind}: {err}"),
        )
    })
}

/// A `\u0000` in any string or key of a JSON body is a 400 naming where: Postgres cannot store it in
/// text or jsonb, and no name, path or setting means anything with it. Only bodies that hold the escape
/// at all are parsed a second time to find it.
fn refuse_nul(bytes: &[u8]) -> ApiResult<()> {
    if !bytes.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000")) {
        return Ok(());
    }
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return Ok(()); // malformed: the parse that follows says so
    };
    match nul_at(&value, "") {
        Some(at) => Err(ApiError::bad_request(format!(
            "the body holds a NUL character (\\u0000) at `{at}`"
        ))),
        None => Ok(()),
    }
}

fn nul_at(value: &serde_json::Value, path: &str) -> Option<String> {
    let here = |key: &str| {
        if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        }
    };
    match value {
        serde_json::Value::String(text) if text.contains('\0') => Some(path.to_string()),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(index, item)| nul_at(item, &format!("{path}[{index}]"))),
        serde_json::Value::Object(members) => members.iter().find_map(|(key, member)| {
            if key.contains('\0') {
                Some(here(&key.escape_debug().to_string()))
            } else {
                nul_at(member, &here(key))
            }
        }),
        _ => None,
    }
}

/// `If-Match: "<version>"` as sent; `None` when absent.
pub fn if_match(headers: &HeaderMap) -> ApiResult<Option<i32>> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or_default().trim();
    let text = text.strip_prefix("W/").unwrap_or(text).trim_matches('"');
    text.parse()
        .map(Some)
        .map_err(|_| ApiError::bad_request("If-Match must be an ETag this API sent, like \"3\""))
}

/// The same, where a write must say which version it replaces (428 when it does not).
pub fn required_if_match(headers: &HeaderMap) -> ApiResult<i32> {
    if_match(headers)?.ok_or_else(|| {
        ApiError::new(
            StatusCode::PRECONDITION_REQUIRED,
            "precondition_required",
            "send If-Match with the ETag of the version you edited",
        )
    })
}

/// A JSON body with `ETag: "<version>"`.
pub fn with_etag(status: StatusCode, version: i32, body: impl Serialize) -> Response {
    let mut response = (status, axum::Json(body)).into_response();
    if let Ok(value) = HeaderValue::from_str(&format!("\"{version}\"")) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

/// A paged list: `{items, total}`.
#[derive(Serialize)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub total: i64,
}

/// The 409 for a write whose If-Match names an older version.
pub fn stale(what: &str, name: &str, current: i32) -> ApiError {
    ApiError::conflict(format!(
        "{what} `{name}` was changed by someone else (now version {current}); reload and edit again"
    ))
}

/// A numeric id from the path; anything else is a 400 in our shape (not the framework's text).
pub fn parse_id(text: &str) -> ApiResult<i64> {
    text.parse()
        .map_err(|_| ApiError::bad_request(format!("`{text}` is not a revision id")))
}

/// 405 in the one error shape.
pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this endpoint does not take that method",
    )
}
