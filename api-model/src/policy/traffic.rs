//! Traffic-control policies: rate limits and quotas counted across nodes, bulkheads, circuit breakers,
//! timeouts, retries, fallbacks, and refusals by request shape.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// `kind: rate_limit`: one or more limits, all enforced at once (10/s and 100,000/day, say).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    pub limits: Vec<Limit>,
    /// `exact`: every decision is one Redis script. `batched`: each node takes a lease of `batch`
    /// requests at a time and decides locally until it is spent, so Redis sees one call per lease; a
    /// lease is counted when taken, so the count never runs over, and falls short by at most what the
    /// nodes hold unspent when a window ends. For high limits.
    #[serde(default)]
    pub mode: LimitMode,
    /// Requests per lease in `batched` mode (default: 1 % of the smallest limit, at least 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<u64>,
    /// When Redis cannot be reached.
    #[serde(default)]
    pub on_store_down: LimitFallback,
}

/// One limit: `limit` requests per `every`, counted separately for each combination of `per`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limit {
    /// Names the limit in the `RateLimit` headers (default `<limit>-per-<every>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub limit: u64,
    #[serde(with = "humantime_serde")]
    pub every: Duration,
    /// What is counted apart: `consumer`, `api`, `route`, `ip`, `header:NAME`. Empty: one count for
    /// every request the policy sees.
    #[serde(default)]
    pub per: Vec<Dimension>,
    /// Count only requests no authentication policy identified (per-IP limits on anonymous traffic).
    #[serde(default)]
    pub only_anonymous: bool,
}

/// One thing a limit counts apart by, written as text (`consumer`, `header:x-tenant`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Dimension {
    /// The authenticated consumer; an anonymous caller counts by its address.
    Consumer,
    Api,
    /// The route as published (`GET /v1/shelves/{shelf}`).
    Route,
    Ip,
    /// A request header's value (by its name, lowercased).
    Header(String),
}

impl TryFrom<String> for Dimension {
    type Error = String;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        Ok(match text.as_str() {
            "consumer" => Dimension::Consumer,
            "api" => Dimension::Api,
            "route" => Dimension::Route,
            "ip" => Dimension::Ip,
            other => match other.strip_prefix("header:") {
                Some(name) if !name.is_empty() => Dimension::Header(name.to_ascii_lowercase()),
                _ => {
                    return Err(format!(
                        "`{other}` is not one of consumer, api, route, ip, header:NAME"
                    ));
                }
            },
        })
    }
}

impl From<Dimension> for String {
    fn from(dimension: Dimension) -> String {
        match dimension {
            Dimension::Consumer => "consumer".into(),
            Dimension::Api => "api".into(),
            Dimension::Route => "route".into(),
            Dimension::Ip => "ip".into(),
            Dimension::Header(name) => format!("header:{name}"),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitMode {
    #[default]
    Exact,
    Batched,
}

/// What a limit does while Redis is unreachable.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitFallback {
    /// Each node enforces `limit / N` with its own counters, N the number of live nodes last seen.
    #[default]
    Local,
    /// Let every request through.
    FailOpen,
    /// Refuse every request (503).
    FailClosed,
}

impl Limit {
    pub fn label(&self) -> String {
        self.name.clone().unwrap_or_else(|| {
            format!(
                "{}-per-{}",
                self.limit,
                humantime::format_duration(self.every)
            )
        })
    }
}

impl RateLimit {
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.limits.is_empty() {
            problems.push("rate_limit: `limits` is empty".into());
        }
        for limit in &self.limits {
            let what = format!("rate_limit `{}`", limit.label());
            if limit.limit == 0 {
                problems.push(format!(
                    "{what}: limit must be at least 1 (to refuse everything, use ip_rules)"
                ));
            }
            if limit.every.as_millis() == 0 {
                problems.push(format!("{what}: every must be at least 1ms"));
            }
            let label = limit.label();
            if !label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
            {
                problems.push(format!(
                    "{what}: a name is letters, digits, '-', '_' and '.'"
                ));
            }
        }
        if self.batch == Some(0) {
            problems.push("rate_limit: batch must be at least 1".into());
        }
        problems
    }
}

/// `kind: concurrency`: a bulkhead. At most `max_in_flight` calls of the API at once on a node; up to
/// `max_queue` more wait at most `queue_timeout`; the rest are refused at once (503 `overloaded`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Concurrency {
    pub max_in_flight: usize,
    #[serde(default)]
    pub max_queue: usize,
    #[serde(default = "default_queue_timeout", with = "humantime_serde")]
    pub queue_timeout: Duration,
    /// One bulkhead for the API's backend, shared by every API on it with the same settings (default:
    /// one per API).
    #[serde(default)]
    pub per_backend: bool,
}

fn default_queue_timeout() -> Duration {
    Duration::from_millis(100)
}

/// `kind: circuit_breaker`: stops calling a failing or slow backend for a while.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CircuitBreaker {
    /// Open when this share of the calls in the window failed (0.0-1.0).
    #[serde(default = "default_failure_rate")]
    pub failure_rate: f64,
    /// Open when this share of the calls in the window took longer than `slow_call`.
    #[serde(default = "default_slow_rate")]
    pub slow_call_rate: f64,
    #[serde(default = "default_slow_call", with = "humantime_serde")]
    pub slow_call: Duration,
    /// The rolling window the rates are over.
    #[serde(default = "default_window", with = "humantime_serde")]
    pub window: Duration,
    /// No decision on fewer calls than this in the window.
    #[serde(default = "default_minimum_calls")]
    pub minimum_calls: u32,
    /// How long it stays open before probing; doubles (up to `max_open`) each time a probe fails.
    #[serde(default = "default_open", with = "humantime_serde")]
    pub open: Duration,
    #[serde(default = "default_max_open", with = "humantime_serde")]
    pub max_open: Duration,
    /// Calls let through at once while half open.
    #[serde(default = "default_probes")]
    pub half_open_probes: u32,
    /// What counts as a failure: `unavailable` (no connection, UNAVAILABLE, Dubbo connection failure
    /// or overload), `timeout`, `backend_error` (5xx-like backend faults: INTERNAL, UNKNOWN, a Dubbo
    /// service error), `any` (every backend fault), or one gRPC status by name (`grpc:RESOURCE_EXHAUSTED`).
    /// Client mistakes (INVALID_ARGUMENT, NOT_FOUND...) count only when named that way.
    #[serde(default = "default_failures")]
    pub failures: Vec<String>,
    /// One breaker for the API's backend, shared by every API on it with the same settings (default:
    /// one per API).
    #[serde(default)]
    pub per_backend: bool,
}

fn default_failure_rate() -> f64 {
    0.5
}
fn default_slow_rate() -> f64 {
    1.0
}
fn default_slow_call() -> Duration {
    Duration::from_secs(5)
}
fn default_window() -> Duration {
    Duration::from_secs(10)
}
fn default_minimum_calls() -> u32 {
    20
}
fn default_open() -> Duration {
    Duration::from_secs(5)
}
fn default_max_open() -> Duration {
    Duration::from_secs(60)
}
fn default_probes() -> u32 {
    1
}
fn default_failures() -> Vec<String> {
    vec!["unavailable".into(), "timeout".into()]
}

/// The gRPC status names a breaker may count by name (`grpc:NAME`), OK excepted.
pub const GRPC_CODES: [&str; 16] = [
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
];

/// The failure classes a breaker can count.
pub const FAILURE_CLASSES: [&str; 4] = ["unavailable", "timeout", "backend_error", "any"];

impl CircuitBreaker {
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for (name, rate) in [
            ("failure_rate", self.failure_rate),
            ("slow_call_rate", self.slow_call_rate),
        ] {
            if !(0.0..=1.0).contains(&rate) || rate == 0.0 {
                problems.push(format!(
                    "circuit_breaker: {name} must be above 0 and at most 1"
                ));
            }
        }
        if self.window.is_zero() || self.open.is_zero() {
            problems.push("circuit_breaker: window and open must be above zero".into());
        }
        if self.max_open < self.open {
            problems.push("circuit_breaker: max_open is below open".into());
        }
        if self.half_open_probes == 0 || self.minimum_calls == 0 {
            problems.push(
                "circuit_breaker: half_open_probes and minimum_calls must be at least 1".into(),
            );
        }
        for class in &self.failures {
            let known = FAILURE_CLASSES.contains(&class.as_str())
                || class
                    .strip_prefix("grpc:")
                    .is_some_and(|code| GRPC_CODES.contains(&code.to_ascii_uppercase().as_str()));
            if !known {
                problems.push(format!(
                    "circuit_breaker: failure `{class}` is not one of {} or grpc:CODE (e.g. grpc:RESOURCE_EXHAUSTED)",
                    FAILURE_CLASSES.join(", ")
                ));
            }
        }
        problems
    }
}

/// `kind: timeout`: the longest a call may take, replacing the API's `timeout` where it applies (a
/// route can be given its own).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Timeout {
    #[serde(with = "humantime_serde")]
    pub limit: Duration,
}

/// `kind: retry`: calls again what surely was not processed, within a budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Retry {
    /// Attempts in all, the first included.
    #[serde(default = "default_attempts")]
    pub attempts: u32,
    /// Retries may add at most this share of extra calls (over the last 10 s), at least
    /// `min_per_second` retries a second whatever the traffic.
    #[serde(default = "default_budget")]
    pub budget: f64,
    #[serde(default = "default_min_per_second")]
    pub min_per_second: u32,
    /// Waits grow from `backoff` (doubling, with full jitter) to `max_backoff`.
    #[serde(default = "default_backoff", with = "humantime_serde")]
    pub backoff: Duration,
    #[serde(default = "default_max_backoff", with = "humantime_serde")]
    pub max_backoff: Duration,
    /// Also retry calls that may have been processed (a timeout, a backend error) when the HTTP
    /// method is idempotent (GET, HEAD, PUT, DELETE, OPTIONS).
    #[serde(default)]
    pub idempotent_failures: bool,
}

fn default_attempts() -> u32 {
    2
}
fn default_budget() -> f64 {
    0.1
}
fn default_min_per_second() -> u32 {
    10
}
fn default_backoff() -> Duration {
    Duration::from_millis(20)
}
fn default_max_backoff() -> Duration {
    Duration::from_millis(500)
}

impl Retry {
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if !(1..=10).contains(&self.attempts) {
            problems.push("retry: attempts must be 1 to 10".into());
        }
        if !(0.0..=1.0).contains(&self.budget) {
            problems.push("retry: budget must be between 0 and 1".into());
        }
        if self.max_backoff < self.backoff {
            problems.push("retry: max_backoff is below backoff".into());
        }
        problems
    }
}

/// `kind: fallback`: a fixed answer when the backend cannot give one (breaker open, unreachable,
/// timed out, failing), marked `x-gateway-fallback: true` so callers can tell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fallback {
    #[serde(default = "default_fallback_status")]
    pub status: u16,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// The JSON body.
    #[serde(default)]
    pub body: serde_json::Value,
    /// Which failures it answers: `circuit_open`, `unavailable`, `timeout`, `backend_error`, `overloaded`.
    #[serde(default = "default_fallback_on")]
    pub on: Vec<String>,
}

fn default_fallback_status() -> u16 {
    200
}
fn default_fallback_on() -> Vec<String> {
    vec![
        "circuit_open".into(),
        "unavailable".into(),
        "timeout".into(),
    ]
}

/// What a fallback can answer.
pub const FALLBACK_CLASSES: [&str; 5] = [
    "circuit_open",
    "unavailable",
    "timeout",
    "backend_error",
    "overloaded",
];

impl Fallback {
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if !(100..=599).contains(&self.status) {
            problems.push(format!("fallback: {} is not a status", self.status));
        }
        for class in &self.on {
            if !FALLBACK_CLASSES.contains(&class.as_str()) {
                problems.push(format!(
                    "fallback: `{class}` is not one of {}",
                    FALLBACK_CLASSES.join(", ")
                ));
            }
        }
        for name in self.headers.keys() {
            if name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b))
            {
                problems.push(format!("fallback: `{name}` is not a header name"));
            }
        }
        problems
    }
}

/// `kind: request_rules`: refuses requests by their shape before anything else is spent on them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestRules {
    /// `User-Agent` patterns refused (`*` matches any run of characters; case-insensitive). A
    /// missing User-Agent matches the empty string.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deny_user_agents: Vec<String>,
    /// Headers a request must carry.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub require_headers: Vec<String>,
}

impl RequestRules {
    pub fn problems(&self) -> Vec<String> {
        if self.deny_user_agents.is_empty() && self.require_headers.is_empty() {
            vec!["request_rules: set deny_user_agents, require_headers or both".into()]
        } else {
            Vec::new()
        }
    }
}

/// `*`-glob matching, case-insensitive: what `deny_user_agents` patterns mean.
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    let pattern = pattern.to_ascii_lowercase();
    let text = text.to_ascii_lowercase();
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let mut rest = text.as_str();
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(after) = rest.strip_prefix(part) else {
                return false;
            };
            rest = after;
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dimensions_read_and_write_as_text() {
        let limit: Limit = serde_json::from_str(
            r#"{"limit": 1, "every": "1m", "per": ["consumer", "header:X-Tenant"]}"#,
        )
        .expect("parses");
        assert_eq!(
            limit.per,
            [Dimension::Consumer, Dimension::Header("x-tenant".into())]
        );
        let written = serde_json::to_value(&limit.per).expect("serialises");
        assert_eq!(written, serde_json::json!(["consumer", "header:x-tenant"]));
        for bad in ["planet", "header:", ""] {
            let text = format!(r#"{{"limit": 1, "every": "1m", "per": ["{bad}"]}}"#);
            let err = serde_json::from_str::<Limit>(&text)
                .expect_err(bad)
                .to_string();
            assert!(err.contains("is not one of"), "{bad}: {err}");
        }
    }

    #[test]
    fn globs() {
        for (pattern, text, expected) in [
            ("*bot*", "Googlebot/2.1", true),
            ("curl/*", "curl/8.1", true),
            ("curl/*", "xcurl/8", false),
            ("sqlmap", "SQLMAP", true),
            ("", "", true),
            ("a*b*c", "a-x-b-y-c", true),
            ("a*b*c", "a-x-c-b", false),
        ] {
            assert_eq!(glob_matches(pattern, text), expected, "{pattern} {text}");
        }
    }
}
