//! A non-OK `tonic::Status` → `GatewayError`: whose fault it is, and the backend's `google.rpc.Status`
//! details rendered as proto3 JSON so clients see field violations and error reasons.

use std::error::Error as _;

use prost_reflect::{DynamicMessage, SerializeOptions};
use tonic::{Code, Status};

use crate::error::{ErrorKind, GatewayError};

/// Metadata key the codec sets on a status it made because a reply did not decode.
pub(super) const UNDECODABLE: &str = "x-gateway-undecodable";

pub fn status_to_error(status: &Status) -> GatewayError {
    if status.metadata().contains_key(UNDECODABLE) {
        return GatewayError::new(ErrorKind::BadGateway, status.message().to_string());
    }
    if let Some(source) = status.source() {
        if source.downcast_ref::<tonic::TimeoutExpired>().is_some() || is_timeout(source) {
            return GatewayError::new(
                ErrorKind::DeadlineExceeded,
                "the backend did not answer in time",
            );
        }
        // A status tonic made from a transport error: the call never reached a backend that could answer.
        if status.code() == Code::Unavailable || status.code() == Code::Unknown {
            return GatewayError::new(
                ErrorKind::BackendUnavailable,
                format!("backend unreachable: {}", describe(source)),
            );
        }
    }
    let mut err = GatewayError::new(
        ErrorKind::Backend(status.code()),
        status.message().to_string(),
    );
    if let Some(details) = details_json(status.details()) {
        err = err.with_details(details);
    }
    err
}

fn is_timeout(source: &(dyn std::error::Error + 'static)) -> bool {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(source);
    while let Some(err) = current {
        if err.downcast_ref::<tonic::TimeoutExpired>().is_some() {
            return true;
        }
        current = err.source();
    }
    false
}

/// The error chain as one line: tonic's top-level text ("transport error") says little on its own.
fn describe(source: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![source.to_string()];
    let mut current = source.source();
    while let Some(err) = current {
        parts.push(err.to_string());
        current = err.source();
    }
    parts.dedup();
    parts.join(": ")
}

/// `grpc-status-details-bin` → the `details` list of `google.rpc.Status`, as proto3 JSON. Detail types the
/// gateway does not know are shown by their type URL alone rather than dropped.
fn details_json(bytes: &[u8]) -> Option<serde_json::Value> {
    if bytes.is_empty() {
        return None;
    }
    let pool = proto_registry::builtin_pool();
    let status_type = pool.get_message_by_name("google.rpc.Status")?;
    let status = DynamicMessage::decode(status_type, bytes).ok()?;
    let details = status.get_field_by_name("details")?;
    let list = details.as_list()?;
    let options = SerializeOptions::new();
    let rendered = list
        .iter()
        .filter_map(|item| item.as_message())
        .map(|any| {
            let mut out = serde_json::Serializer::new(Vec::new());
            match any.serialize_with_options(&mut out, &options) {
                Ok(()) => {
                    serde_json::from_slice(&out.into_inner()).unwrap_or(serde_json::Value::Null)
                }
                Err(_) => {
                    let url = any
                        .get_field_by_name("type_url")
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default();
                    serde_json::json!({ "@type": url })
                }
            }
        })
        .collect();
    Some(serde_json::Value::Array(rendered))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_statuses_keep_their_code_and_message() {
        let err = status_to_error(&Status::not_found("no such book"));
        assert_eq!(err.status(), 404);
        assert_eq!(err.code(), "not_found");
        assert_eq!(err.message, "no such book");
    }

    #[test]
    fn undecodable_replies_are_bad_gateway() {
        let mut status = Status::internal("bad bytes");
        status.metadata_mut().insert(
            UNDECODABLE,
            tonic::metadata::MetadataValue::from_static("1"),
        );
        assert_eq!(status_to_error(&status).status(), 502);
    }
}
