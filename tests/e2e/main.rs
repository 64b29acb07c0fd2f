//! End-to-end suites: one test binary (one link), each module a capability, all against real servers.

// A failed unwrap in a test is a failed test with its location: the right outcome here.
#![allow(clippy::unwrap_used)]

mod harness;

mod bad_input;
mod deadlines;
mod dubbo;
mod http_discovery;
mod http_nginx;
mod http_pools;
mod http_streams;
mod http_transforms;
mod http_upstreams;
mod json_format;
mod postgres_source;
mod python_peer;
mod reload;
mod schemas;
mod security;
mod streaming;
mod tidy;
mod traffic;
mod transcoding;
