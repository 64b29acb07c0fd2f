//! Layer 1, access: the HTTP side. Turns a request into an [`Exchange`], finds its route in the compiled
//! [`RouteTable`], and turns a [`Reply`] back into a response.
//!
//! - `template`: `google.api.http` path templates (`/v1/{name=shelves/*}:verb`), parsed once.
//! - `route_table`: method + template (+ host) → target, literal segments before variables.
//! - `exchange`: the parsed request; `reply`: what comes back.
//! - `request_id`: the `X-Request-Id` header and which client ids are kept.
//! - `client_ip`: the client's address behind trusted proxies (`X-Forwarded-For`, `Forwarded`).
//! - `identity`: who a request was authenticated as.
//! - `connections`: the accept loop (connections per IP, header and body read timeouts, drain).
//! - `tls`: TLS on the listener (SNI certificates, reload, ALPN, client certificates).

pub mod client_ip;
pub mod connections;
pub mod exchange;
pub mod identity;
pub mod reply;
pub mod request_id;
pub mod route_table;
pub mod template;
pub mod tls;

pub use exchange::{Exchange, HeadLimits, TlsInfo};
pub use identity::Identity;
pub use reply::{Reply, ReplyBody};
pub use route_table::{Lookup, RouteTable, RouteTableBuilder};
pub use template::PathTemplate;
