//! Dubbo mapping: HTTP → typed, named Dubbo arguments (bound by name and source, never by JSON key
//! order), and the hessian2 reply → JSON.
//!
//! - `java_type`: declared Java types, parsed once.
//! - `classes`: the provider classes an API declares (POJO fields with their types, enum constants).
//! - `coerce`: JSON or text → a hessian2 value of a declared type.
//! - `args`: the compiled argument plan of an API.
//! - `reply`: reply and exception rendering.

mod args;
mod classes;
mod coerce;
mod java_type;
mod reply;

pub use args::ArgsPlan;
pub use classes::Classes;
pub use coerce::PojoForm;
pub use java_type::JavaType;
pub use reply::{ReplyOptions, exception, render};
