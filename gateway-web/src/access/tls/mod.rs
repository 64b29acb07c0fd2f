//! TLS on the listener (rustls): certificates from PEM files, chosen by the client's SNI, reloaded when
//! a file changes (a bad new file is refused with one log line and the old certificates keep serving);
//! HTTP/2 or HTTP/1.1 by ALPN; optionally client certificates (mTLS) against a CA, whose SHA-256 the
//! `client_certificate` policy turns into a consumer.
//!
//! - `config`: settings → a rustls `ServerConfig` (`sni` picks the certificate).
//! - `serve`: the accept loop, handshakes off the accept path, graceful shutdown.

mod config;
mod serve;
mod sni;

pub use config::{TlsSettings, certificates, private_key, server_config};
pub use serve::serve;
