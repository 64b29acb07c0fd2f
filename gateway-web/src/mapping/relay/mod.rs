//! Relaying to an HTTP upstream is mapping too, only shallower: the path rewritten from the route,
//! headers edited, the hop's own fields handled as a proxy must.
//!
//! - `rewrite`: the upstream path (as sent, prefix stripped, or templated; then a regex).
//! - `edits`: header edits with values read from the request.
//! - `forwarding`: hop-by-hop fields, `X-Forwarded-*`, `Forwarded`, `Via`.

pub mod edits;
pub mod forwarding;
pub mod rewrite;

pub use edits::HeaderEditPlan;
pub use rewrite::PathRewrite;
