//! Layer 3, mapping: an HTTP request becomes the RPC's request message, and the reply message becomes JSON.
//!
//! Everything that depends only on the definition (field paths, target types, header names, constants) is
//! resolved once when an API is built ([`RequestPlan::compile`], [`ResponsePlan::compile`]); a definition
//! that does not fit its schema fails there with a [`PlanError`], never per request. Per request the plans
//! only parse values and set fields.
//!
//! Layout:
//! - [`dubbo`]: typed, named Dubbo arguments from the request, and hessian2 replies to JSON.
//! - [`relay`]: relaying to an HTTP upstream: path rewrites, header edits, forwarding headers.
//! - [`http_rule`]: reads a method's `google.api.http` annotation into the shared model type.
//! - [`input`]: what the mapping reads of one request, built from the exchange in one place.
//! - [`request`]: the request plan (body, path variables, query parameters, explicit bindings).
//! - [`response`]: the response plan (JSON options, `response_body`).
//! - `bindings`: explicit bindings (`header.x`, `query.x`, `path.x`, `body.a.b`, constants).
//! - `field_path`: dotted field paths resolved to descriptors, and setting a value at one.
//! - `scalar`: text (path variables, query parameters, headers, form fields) to a field value.
//! - `json`: proto3 JSON into the whole message or into one field of any kind.
//! - `json_error`: decoding a body with errors that name the offending field.
//! - `strict_json`: the proto3 JSON rules prost-reflect's decoder lacks (duplicate keys, exact integers);
//!   `json_key`: the member key it checks, captured as it is read.
//! - `integer`: integer text in the JSON mapping's forms (`"1e3"`), and the four integer ranges.
//! - `params`: key/value pairs (query string, form body) onto fields, by field path.

pub mod dubbo;
pub mod http_rule;
pub mod input;
pub mod relay;
pub mod request;
pub mod response;

mod bindings;
mod field_path;
mod integer;
mod json;
mod json_error;
mod json_key;
mod params;
mod scalar;
mod strict_json;

#[cfg(test)]
mod tests;

pub use input::RequestInput;
pub use request::{BodyTarget, RequestPlan, RequestSpec};
pub use response::ResponsePlan;

/// A definition problem found when an API is built (never per request). The message names the API-facing
/// thing: the field path, the method, the template variable.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PlanError(pub String);
