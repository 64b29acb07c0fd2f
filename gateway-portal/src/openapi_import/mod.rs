//! OpenAPI import: a 3.0/3.1 or Swagger 2.0 document read (`document`) and planned into one
//! HTTP-relay API per operation (`plan`). No I/O here; `api::imports` compares the plan with what is
//! stored and saves it.

mod document;
mod plan;

pub use document::{Document, Operation, parse};
pub use plan::{Options, Planned, Skipped, plan, slug};
