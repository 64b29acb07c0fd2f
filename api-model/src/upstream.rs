//! Plain HTTP backends: how a pool of upstream servers is balanced and watched (`HttpBackend`), and how
//! an API relays a request to it (`HttpTarget`: path rewrite, header edits, body limits).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::body_transform::JsonTransform;
use crate::discovery::{DnsDiscovery, ZooKeeperDiscovery};

/// Settings of a `protocol: http` backend. Its `endpoints` are `http://host:port`, `https://host:port`
/// or `host:port` (plain HTTP).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpBackend {
    /// Relative weight per endpoint (as listed in `endpoints`); an endpoint not named weighs 1.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub weights: BTreeMap<String, u32>,
    /// How an endpoint is chosen for each request.
    #[serde(default)]
    pub balance: HttpBalance,
    /// Probes each endpoint on a path; endpoints that fail it stop receiving requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check: Option<ActiveHealth>,
    /// Ejects an endpoint whose requests keep failing, for a time that grows with each ejection.
    #[serde(default)]
    pub outlier: Outlier,
    /// The protocol spoken to the endpoints.
    #[serde(default)]
    pub version: HttpVersion,
    /// The `Host` the upstream receives.
    #[serde(default)]
    pub host: HostHeader,
    /// TLS towards `https://` endpoints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<UpstreamTls>,
    /// Idle keep-alive connections kept per endpoint.
    #[serde(default = "default_idle_per_endpoint")]
    pub max_idle_per_endpoint: usize,
    /// How long an idle connection is kept.
    #[serde(default = "default_idle_timeout", with = "humantime_serde")]
    pub idle_timeout: Duration,
    /// Resolve the endpoints' host names: each address one endpoint, re-resolved on its TTL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns: Option<DnsDiscovery>,
    /// Endpoints registered in ZooKeeper (then `endpoints` may be empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zookeeper: Option<ZooKeeperDiscovery>,
}

impl Default for HttpBackend {
    fn default() -> Self {
        HttpBackend {
            weights: BTreeMap::new(),
            balance: HttpBalance::default(),
            health_check: None,
            outlier: Outlier::default(),
            version: HttpVersion::default(),
            host: HostHeader::default(),
            tls: None,
            max_idle_per_endpoint: default_idle_per_endpoint(),
            idle_timeout: default_idle_timeout(),
            dns: None,
            zookeeper: None,
        }
    }
}

/// How requests are spread over a pool's healthy endpoints.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum HttpBalance {
    /// In turn, in proportion to the weights (smooth: a weight of 3 is not three requests in a row).
    #[default]
    RoundRobin,
    /// The less busy of two endpoints drawn at random (in-flight requests over weight).
    LeastRequest,
    /// The same key reaches the same endpoint; when one leaves, only its keys move.
    ConsistentHash {
        /// What the key is: `header.NAME`, `cookie.NAME`, `path.VAR`, `query.NAME`, `consumer` or
        /// `client_ip`. A request without it is balanced round-robin.
        on: String,
    },
}

/// An active health check: one request per interval to each endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActiveHealth {
    /// The path probed with `GET`; any 2xx or 3xx is a pass.
    pub path: String,
    #[serde(default = "default_check_interval", with = "humantime_serde")]
    pub interval: Duration,
    /// How long a probe may take before it counts as a failure.
    #[serde(default = "default_check_timeout", with = "humantime_serde")]
    pub timeout: Duration,
    /// Passes in a row that bring an unhealthy endpoint back.
    #[serde(default = "default_healthy")]
    pub healthy_threshold: u32,
    /// Failures in a row that take a healthy endpoint out.
    #[serde(default = "default_unhealthy")]
    pub unhealthy_threshold: u32,
}

/// Passive outlier ejection, from the requests themselves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Outlier {
    /// Consecutive 5xx answers or connection failures that eject an endpoint; 0 turns ejection off.
    #[serde(default = "default_consecutive")]
    pub consecutive_failures: u32,
    /// The first ejection's length; each further one in a row doubles it.
    #[serde(default = "default_ejection", with = "humantime_serde")]
    pub base_ejection: Duration,
    /// The longest an ejection grows to.
    #[serde(default = "default_max_ejection", with = "humantime_serde")]
    pub max_ejection: Duration,
    /// At most this share of the pool is ejected at once (percent), so one bad deploy cannot eject
    /// every endpoint on a wave of failures.
    #[serde(default = "default_max_ejected")]
    pub max_ejected_percent: u32,
}

impl Default for Outlier {
    fn default() -> Self {
        Outlier {
            consecutive_failures: default_consecutive(),
            base_ejection: default_ejection(),
            max_ejection: default_max_ejection(),
            max_ejected_percent: default_max_ejected(),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HttpVersion {
    /// HTTP/1.1; over TLS, HTTP/2 when the upstream offers it by ALPN.
    #[default]
    Auto,
    Http1,
    /// HTTP/2 only: prior knowledge (h2c) on plain connections, ALPN `h2` over TLS.
    Http2,
}

/// The `Host` header sent upstream.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum HostHeader {
    /// The endpoint's own `host:port`.
    #[default]
    Upstream,
    /// The client's `Host`, as virtual-hosted upstreams behind one address need.
    Preserve,
    /// A fixed value.
    Value(String),
}

/// TLS to `https://` endpoints: the system's roots unless `ca_file` is given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamTls {
    /// The name sent as SNI and verified; the endpoint's host when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_name: Option<String>,
    /// PEM roots to verify the upstream's certificate with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<String>,
    /// A client certificate (PEM) and its key, for upstreams that require mTLS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_file: Option<String>,
}

/// How an API relays a request to its HTTP backend. The request passes as it came (method, query,
/// body streamed) apart from what is set here.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpTarget {
    /// The upstream path: a template over the route's variables (`/users/{id}`, `/files/{rest}`).
    /// Absent: the request's path, after `strip_prefix`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// A leading part of the request path removed before relaying (`/api/v1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strip_prefix: Option<String>,
    /// A regular expression rewrite of the (already stripped or templated) path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex_rewrite: Option<RegexRewrite>,
    /// Header edits on the way up; values may use `{path.VAR}`, `{query.NAME}`, `{header.NAME}`,
    /// `{consumer}`, `{client_ip}` and `{request_id}`.
    #[serde(default, skip_serializing_if = "HeaderEdits::is_empty")]
    pub request_headers: HeaderEdits,
    /// Header edits on the way back, with the same placeholders.
    #[serde(default, skip_serializing_if = "HeaderEdits::is_empty")]
    pub response_headers: HeaderEdits,
    /// JSON edits of the request body on the way up (when it is JSON and small enough).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_body: Option<JsonTransform>,
    /// JSON edits of the response body on the way back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_body: Option<JsonTransform>,
    /// Largest request body relayed, in bytes; the node's body limit when absent. The body is streamed,
    /// never held whole, so this may be far above the node's limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_request_body: Option<u64>,
    /// Largest response body relayed; a larger one is a 502 (or, once streaming, a cut connection).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_response_body: Option<u64>,
    /// Add a `Via` header naming the gateway, both ways.
    #[serde(default)]
    pub via: bool,
}

/// `pattern` is matched against the path; `replacement` may use `$1` / `${name}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegexRewrite {
    pub pattern: String,
    pub replacement: String,
}

/// Header changes: `remove` first, then `set` (replacing), then `add` (appending).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeaderEdits {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub set: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub add: BTreeMap<String, String>,
}

impl HeaderEdits {
    pub fn is_empty(&self) -> bool {
        self.remove.is_empty() && self.set.is_empty() && self.add.is_empty()
    }
}

impl HttpBackend {
    /// Problems that need only the backend, each phrased to follow `backend \`NAME\`: `.
    pub fn problems(&self, endpoints: &[String]) -> Vec<String> {
        let mut problems = Vec::new();
        for (endpoint, weight) in &self.weights {
            if !endpoints.contains(endpoint) {
                problems.push(format!("weight for `{endpoint}`, which is not an endpoint"));
            }
            if *weight == 0 || *weight > 1000 {
                problems.push(format!("weight of `{endpoint}` must be 1..=1000"));
            }
        }
        if let Some(check) = &self.health_check {
            if !check.path.starts_with('/') {
                problems.push("health_check.path must start with `/`".into());
            }
            if check.interval.is_zero() || check.timeout.is_zero() {
                problems.push("health_check interval and timeout must be above zero".into());
            }
            if check.healthy_threshold == 0 || check.unhealthy_threshold == 0 {
                problems.push("health_check thresholds must be at least 1".into());
            }
        }
        if let HostHeader::Value(host) = &self.host
            && (host.is_empty() || host.bytes().any(|b| b.is_ascii_control() || b == b' '))
        {
            problems.push(format!("host `{host}` is not a Host header value"));
        }
        if self.outlier.max_ejected_percent > 100 {
            problems.push("outlier.max_ejected_percent is at most 100".into());
        }
        if self.outlier.consecutive_failures > 0 && self.outlier.base_ejection.is_zero() {
            problems.push("outlier.base_ejection must be above zero".into());
        }
        if let HttpBalance::ConsistentHash { on } = &self.balance
            && HashOn::parse(on).is_none()
        {
            problems.push(format!(
                "consistent_hash on `{on}`: use header.NAME, cookie.NAME, path.VAR, query.NAME, consumer or client_ip"
            ));
        }
        if let Some(tls) = &self.tls
            && tls.certificate_file.is_some() != tls.key_file.is_some()
        {
            problems.push("tls needs both certificate_file and key_file, or neither".into());
        }
        if let Some(dns) = &self.dns {
            let server_name = self.tls.as_ref().is_some_and(|t| t.server_name.is_some());
            problems.extend(dns.problems(endpoints, server_name));
        }
        if let Some(zookeeper) = &self.zookeeper {
            problems.extend(zookeeper.problems());
        }
        problems
    }
}

/// The key a consistent hash reads, parsed from `HttpBalance::ConsistentHash::on`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HashOn {
    Header(String),
    Cookie(String),
    PathVariable(String),
    Query(String),
    Consumer,
    ClientIp,
}

impl HashOn {
    pub fn parse(on: &str) -> Option<HashOn> {
        let named = |name: &str| (!name.is_empty()).then(|| name.to_string());
        Some(match on.split_once('.') {
            Some(("header", name)) => HashOn::Header(named(name)?.to_ascii_lowercase()),
            Some(("cookie", name)) => HashOn::Cookie(named(name)?),
            Some(("path", name)) => HashOn::PathVariable(named(name)?),
            Some(("query", name)) => HashOn::Query(named(name)?),
            None if on == "consumer" => HashOn::Consumer,
            None if on == "client_ip" => HashOn::ClientIp,
            _ => return None,
        })
    }
}

fn default_idle_per_endpoint() -> usize {
    64
}

fn default_idle_timeout() -> Duration {
    Duration::from_secs(60)
}

fn default_check_interval() -> Duration {
    Duration::from_secs(5)
}

fn default_check_timeout() -> Duration {
    Duration::from_secs(1)
}

fn default_healthy() -> u32 {
    2
}

fn default_unhealthy() -> u32 {
    3
}

fn default_consecutive() -> u32 {
    5
}

fn default_ejection() -> Duration {
    Duration::from_secs(30)
}

fn default_max_ejection() -> Duration {
    Duration::from_secs(300)
}

fn default_max_ejected() -> u32 {
    50
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_with_data_read_as_documented_and_write_back_the_same() {
        let text = r#"
backends:
  - name: users
    protocol: http
    endpoints: ["http://a:1"]
    http:
      balance: { consistent_hash: { on: header.x-user } }
      host: { value: api.example.com }
      version: http1
"#;
        let config = crate::Config::from_yaml(text).unwrap();
        let http = config.backends[0].http.clone().unwrap();
        assert_eq!(
            http.balance,
            HttpBalance::ConsistentHash {
                on: "header.x-user".into()
            }
        );
        assert_eq!(http.host, HostHeader::Value("api.example.com".into()));
        let written = config.to_yaml().unwrap();
        assert!(written.contains("consistent_hash:"), "{written}");
        assert_eq!(crate::Config::from_yaml(&written).unwrap(), config);
    }

    #[test]
    fn hash_keys_parse() {
        assert_eq!(
            HashOn::parse("header.X-User"),
            Some(HashOn::Header("x-user".into()))
        );
        assert_eq!(HashOn::parse("consumer"), Some(HashOn::Consumer));
        assert_eq!(
            HashOn::parse("path.id"),
            Some(HashOn::PathVariable("id".into()))
        );
        assert_eq!(HashOn::parse("header."), None);
        assert_eq!(HashOn::parse("body.x"), None);
        assert_eq!(HashOn::parse("consumers"), None);
    }

    #[test]
    fn weights_name_endpoints() {
        let backend = HttpBackend {
            weights: [("a:1".to_string(), 3), ("b:1".to_string(), 0)].into(),
            ..HttpBackend::default()
        };
        let problems = backend.problems(&["a:1".into()]);
        assert_eq!(problems.len(), 2, "{problems:?}");
        let bad_host = HttpBackend {
            host: HostHeader::Value("a\nb".into()),
            ..HttpBackend::default()
        };
        assert_eq!(bad_host.problems(&[]).len(), 1);
    }
}
