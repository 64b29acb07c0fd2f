//! Relaying to an HTTP upstream is mapping too, only shallower: the path rewritten from the route,
//! headers edited, the hop's own fields handled as a proxy must.
//!
//! - `rewrite`: the upstream path (as sent, prefix stripped, or templated; then a regex).
//! - `edits`: header edits with values read from the request.
//! - `forwarding`: hop-by-hop fields, `X-Forwarded-*`, `Forwarded`, `Via`.
//! - `json_edit`: JSON body edits (remove, rename, wrap) that keep every untouched value's text.

pub mod edits;
pub mod forwarding;
pub mod json_edit;
pub mod rewrite;

pub use edits::HeaderEditPlan;
pub use json_edit::JsonEdit;
pub use rewrite::PathRewrite;
