//! dubbo-codec: the Dubbo2 wire format, written to the spec and proven against real peers (Java on
//! Caucho hessian, hessian.js, sofa-rpc-node, dubbo.ts). Bytes in, values out: no I/O and no runtime, so
//! the gateway's client, the demo provider and the load client share one codec.
//!
//! Layout:
//! - [`hessian2`]: the value model and its serialization.
//! - [`frame`]: the 16-byte header (magic, flag, status, request id, body length) and its constants.
//! - [`request`]: request bodies: the call's head, its arguments and attachments, both directions.
//! - [`response`]: response bodies: a result flag and the value, exception or attachments it announces,
//!   or the text of a failed status, both directions.

pub mod frame;
pub mod hessian2;
pub mod request;
pub mod response;
