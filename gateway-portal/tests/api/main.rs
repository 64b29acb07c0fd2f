//! The portal's integration tests: one binary, a module per area, each test against its own fresh
//! Postgres database on 127.0.0.1:5432 (created here, dropped at the end).

#![allow(clippy::unwrap_used)]

mod harness;

mod auth;
mod checks;
mod concurrency;
mod consumers;
mod definitions;
mod dubbo_definitions;
mod flow;
mod hardening;
mod imports;
mod outage;
mod schema_updates;
mod transfer;
