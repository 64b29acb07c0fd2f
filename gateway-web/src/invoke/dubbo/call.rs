//! The types of one Dubbo call as the client sees it: what is sent ([`Invocation`]) and what comes back
//! ([`DubboReply`], the codec's decoded response body).

use std::time::Duration;

use dubbo_codec::hessian2::Value;

pub use dubbo_codec::response::{Outcome, Response as DubboReply};

/// One call.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// The interface name, also sent as the `path`.
    pub service: String,
    pub version: Option<String>,
    pub group: Option<String>,
    pub method: String,
    /// Java type names (`java.lang.String`, `long`, `int[]`, `com.x.User`), one per argument.
    pub parameter_types: Vec<String>,
    pub arguments: Vec<Value>,
    /// Sent after the client's own (`path`, `interface`, `version`, `group`, `timeout`), which they
    /// cannot override.
    pub attachments: Vec<(String, String)>,
    pub timeout: Duration,
}
