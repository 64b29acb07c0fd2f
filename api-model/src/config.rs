//! The top-level definitions document: backends, schema sources and APIs.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::consumer::Consumer;
use crate::http_rule::HttpRule;
use crate::mapping::Binding;
use crate::policy::{Cidr, Policy, RoutePolicies};
use crate::upstream::{HttpBackend, HttpTarget};

pub use crate::dubbo_target::{DubboParam, DubboTarget, JavaClass, LongRendering};

/// Everything a gateway node serves. Standalone mode reads it from YAML; the control plane produces the
/// same shape for each revision.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where calls go.
    #[serde(default)]
    pub backends: Vec<Backend>,
    /// Where service descriptors come from.
    #[serde(default)]
    pub schemas: Vec<Schema>,
    /// What is published over HTTP.
    #[serde(default)]
    pub apis: Vec<Api>,
    /// Policies for every API; an API's own policy of the same kind replaces one of these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<Policy>,
    /// The apps and partners that call APIs (see [`Consumer`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub consumers: Vec<Consumer>,
    /// Proxies in front of the gateway whose `X-Forwarded-For` / `Forwarded` are believed: the client
    /// address is the nearest one they forwarded that is not itself a trusted proxy. Empty: the peer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trusted_proxies: Vec<Cidr>,
}

impl Config {
    /// Parses a YAML document. Unknown keys are refused so a typo never silently disables a setting.
    /// Enums with data read as one-key maps (`balance: { consistent_hash: { on: header.x } }`), as
    /// in JSON, rather than as YAML tags (`!consistent_hash`), so one document means the same in both.
    pub fn from_yaml(text: &str) -> Result<Self, serde_yaml_ng::Error> {
        serde_yaml_ng::with::singleton_map_recursive::deserialize(
            serde_yaml_ng::Deserializer::from_str(text),
        )
    }

    /// Written as [`Config::from_yaml`] reads it.
    pub fn to_yaml(&self) -> Result<String, serde_yaml_ng::Error> {
        let mut out = Vec::new();
        let mut serializer = serde_yaml_ng::Serializer::new(&mut out);
        serde_yaml_ng::with::singleton_map_recursive::serialize(self, &mut serializer)?;
        String::from_utf8(out).map_err(serde::ser::Error::custom)
    }

    pub fn backend(&self, name: &str) -> Option<&Backend> {
        self.backends.iter().find(|b| b.name == name)
    }

    pub fn schema(&self, name: &str) -> Option<&Schema> {
        self.schemas.iter().find(|s| s.name == name)
    }
}

/// The wire protocol a backend speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// gRPC over HTTP/2 (also Dubbo 3 Triple, which is gRPC-compatible).
    Grpc,
    /// Dubbo2 over TCP with hessian2.
    Dubbo,
    /// Plain HTTP/1.1 or HTTP/2: requests are relayed, not translated.
    Http,
}

/// A named set of endpoints speaking one protocol.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Backend {
    /// Unique name that APIs and schemas refer to.
    pub name: String,
    pub protocol: Protocol,
    /// `host:port` or `http://host:port`; calls are spread over them. May be empty for a Dubbo backend
    /// whose providers come from a registry.
    #[serde(default)]
    pub endpoints: Vec<String>,
    /// How long opening a connection may take.
    #[serde(default = "default_connect_timeout", with = "humantime_serde")]
    pub connect_timeout: Duration,
    /// Dubbo settings (only for `protocol: dubbo`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dubbo: Option<DubboBackend>,
    /// Upstream pool settings (only for `protocol: http`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpBackend>,
}

/// How a Dubbo backend's providers are found and reached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DubboBackend {
    /// A ZooKeeper registry in Dubbo's layout (`<root>/<interface>/providers/<url>`), watched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zookeeper: Option<ZooKeeperRegistry>,
    /// Connections kept to each provider (calls are multiplexed over them).
    #[serde(default = "one")]
    pub connections: usize,
    /// Idle time after which a heartbeat is sent; three without any traffic close the connection.
    #[serde(default = "default_heartbeat", with = "humantime_serde")]
    pub heartbeat: Duration,
    /// Largest request or response body, in bytes (Dubbo's default: 8 MiB).
    #[serde(default = "default_payload_limit")]
    pub payload_limit: usize,
    /// How a provider is picked among the live ones.
    #[serde(default)]
    pub balance: Balance,
    /// A provider that cannot be reached is tried again after waits growing from this (with
    /// jitter)...
    #[serde(
        default = "default_reconnect_min",
        with = "humantime_serde",
        skip_serializing_if = "is_default_reconnect_min"
    )]
    pub reconnect_min: Duration,
    /// ...up to this, so a provider that stays down costs one or two attempts per interval (one
    /// connection slot probes, the others wait for it), never a storm, and one that comes back is
    /// used within this interval. A registry event naming the provider skips the wait.
    #[serde(
        default = "default_reconnect_max",
        with = "humantime_serde",
        skip_serializing_if = "is_default_reconnect_max"
    )]
    pub reconnect_max: Duration,
}

impl Default for DubboBackend {
    fn default() -> Self {
        DubboBackend {
            zookeeper: None,
            connections: 1,
            heartbeat: default_heartbeat(),
            payload_limit: default_payload_limit(),
            balance: Balance::default(),
            reconnect_min: default_reconnect_min(),
            reconnect_max: default_reconnect_max(),
        }
    }
}

fn default_reconnect_min() -> Duration {
    Duration::from_millis(100)
}

fn default_reconnect_max() -> Duration {
    Duration::from_secs(1)
}

fn is_default_reconnect_min(value: &Duration) -> bool {
    *value == default_reconnect_min()
}

fn is_default_reconnect_max(value: &Duration) -> bool {
    *value == default_reconnect_max()
}

/// A ZooKeeper ensemble holding Dubbo provider URLs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZooKeeperRegistry {
    /// `host:port[,host:port...]`.
    pub address: String,
    /// The Dubbo root node.
    #[serde(default = "default_zk_root")]
    pub root: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Balance {
    #[default]
    RoundRobin,
    Random,
}

fn one() -> usize {
    1
}

fn default_heartbeat() -> Duration {
    Duration::from_secs(60)
}

fn default_payload_limit() -> usize {
    8 << 20
}

fn default_zk_root() -> String {
    "/dubbo".into()
}

fn default_connect_timeout() -> Duration {
    Duration::from_secs(2)
}

/// A named source of service descriptors. Exactly one of the sources is set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schema {
    pub name: String,
    /// `.proto` sources compiled in process (no `protoc` needed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proto: Option<ProtoSource>,
    /// A binary `FileDescriptorSet` (as written by `protoc --include_imports -o`), by path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub descriptor_set: Option<String>,
    /// The same, embedded as base64: what a published revision carries, so it is self-contained.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub descriptor_set_base64: Option<String>,
    /// Pulled from a live server by gRPC reflection when the snapshot is built.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reflection: Option<ReflectionSource>,
}

/// `.proto` files and the directories their imports resolve against. Relative paths are relative to the
/// config file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProtoSource {
    /// Files to compile, as named relative to one of `import_paths`.
    pub files: Vec<String>,
    /// Directories searched for the files and their imports. `google/api/*.proto` and the well-known types
    /// are built in.
    #[serde(default)]
    pub import_paths: Vec<String>,
}

/// Pull descriptors from a backend's reflection service (v1, falling back to v1alpha).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReflectionSource {
    /// The backend to ask.
    pub backend: String,
    /// Services to fetch; empty means every service the server lists (except reflection and health).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<String>,
}

/// One published API: a gRPC service (every method) or one method, and how HTTP reaches it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Api {
    /// Unique name; used in logs and errors.
    pub name: String,
    /// The backend called.
    pub backend: String,
    /// The schema that describes the service; when absent, every schema is searched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// The gRPC service, and optionally one method of it. Exactly one of `grpc` and `dubbo` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grpc: Option<GrpcTarget>,
    /// The Dubbo method and its typed, named parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dubbo: Option<DubboTarget>,
    /// Relay to an HTTP backend, with rewrites and header edits; routes come from the `http` rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream: Option<HttpTarget>,
    /// The group the API belongs to, so a consumer can be granted the whole group (`group:NAME`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Only requests with this `Host` (port ignored) match; any host when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Explicit HTTP rule, overriding the method's `google.api.http` annotation. Needs `grpc.method`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpRule>,
    /// Use the methods' `google.api.http` annotations (default true). Methods without one get no
    /// annotation route.
    #[serde(default = "yes")]
    pub annotations: bool,
    /// Also route `POST /<package.Service>/<Method>` with the JSON body as the request message.
    #[serde(default)]
    pub auto_route: bool,
    /// Extra bindings from the HTTP request into request fields. Needs `grpc.method`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mapping: Vec<Binding>,
    /// The longest a call may take; a client's `grpc-timeout` or `X-Timeout` may only shorten it.
    #[serde(default = "default_timeout", with = "humantime_serde")]
    pub timeout: Duration,
    /// JSON rendering options.
    #[serde(default)]
    pub json: JsonOptions,
    /// Request headers passed to the backend as gRPC metadata (case-insensitive names).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub forward_headers: Vec<String>,
    /// Response metadata (headers or trailers) returned to the client as HTTP headers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub return_metadata: Vec<String>,
    /// Constants every call carries, so a client never has to send protocol details: gRPC (and
    /// Triple) metadata, e.g. `tri-service-version: "1.0.0"`, or Dubbo attachments. They override a
    /// forwarded header of the same name; the gateway's own (request id, caller identity, timeout) win.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub metadata: std::collections::BTreeMap<String, String>,
    /// Policies for every route of this API (see [`crate::policy`] for precedence).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<Policy>,
    /// Policies for some of its routes, replacing the API's of the same kind there.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub route_policies: Vec<RoutePolicies>,
    /// What the API is for, for people: shown in the portal and its generated documents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docs: Option<ApiDocs>,
}

/// An API's description. An API imported from an OpenAPI document keeps the operation it came from,
/// verbatim (parameters, schemas, responses), so the document can be generated back from it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiDocs {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The OpenAPI operation object, as imported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openapi_operation: Option<serde_json::Value>,
}

/// What an API calls: exactly one protocol's target, as [`Api::target`] reads the document's
/// "exactly one of `grpc`, `dubbo` and `upstream`".
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target<'a> {
    Grpc(&'a GrpcTarget),
    Dubbo(&'a DubboTarget),
    Http(&'a HttpTarget),
}

impl Api {
    /// An API with every optional part at its default, as an empty document entry would have: the
    /// start of a definition made in code (an import, a generator).
    pub fn new(name: &str, backend: &str) -> Api {
        Api {
            name: name.to_string(),
            backend: backend.to_string(),
            schema: None,
            grpc: None,
            dubbo: None,
            upstream: None,
            group: None,
            host: None,
            http: None,
            annotations: yes(),
            auto_route: false,
            mapping: Vec::new(),
            timeout: default_timeout(),
            json: JsonOptions::default(),
            forward_headers: Vec::new(),
            return_metadata: Vec::new(),
            metadata: std::collections::BTreeMap::new(),
            policies: Vec::new(),
            route_policies: Vec::new(),
            docs: None,
        }
    }

    /// The one target set; `None` when none or several are (which [`Config::validate`] refuses).
    pub fn target(&self) -> Option<Target<'_>> {
        match (&self.grpc, &self.dubbo, &self.upstream) {
            (Some(grpc), None, None) => Some(Target::Grpc(grpc)),
            (None, Some(dubbo), None) => Some(Target::Dubbo(dubbo)),
            (None, None, Some(http)) => Some(Target::Http(http)),
            _ => None,
        }
    }
}

fn yes() -> bool {
    true
}

fn default_timeout() -> Duration {
    Duration::from_secs(30)
}

/// Names the gRPC side of an API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrpcTarget {
    /// Fully qualified service name, e.g. `demo.bookstore.v1.Bookstore`.
    pub service: String,
    /// A method name; when absent the API covers every method of the service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
}

/// How messages become JSON.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonOptions {
    /// Emit fields that hold their default value (proto3 JSON omits them by default).
    #[serde(default)]
    pub emit_defaults: bool,
    /// Use the `.proto` field names (`user_id`) rather than lowerCamelCase JSON names (`userId`).
    #[serde(default)]
    pub proto_field_names: bool,
    /// How a server-streaming reply frames its messages when the client did not ask for SSE.
    #[serde(default, skip_serializing_if = "StreamFormat::is_default")]
    pub stream: StreamFormat,
}

/// The framing of a server-streaming reply.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StreamFormat {
    /// `application/x-ndjson`: one bare message per line; an error is a last `{"error": <the error
    /// body>}` line.
    #[default]
    Ndjson,
    /// grpc-gateway's: `{"result": <message>}` per line and a last `{"error": {"code": <gRPC code>,
    /// "message", "details"}}`, as `application/json`, so its clients move over unchanged.
    GrpcGateway,
}

impl StreamFormat {
    fn is_default(&self) -> bool {
        *self == StreamFormat::Ndjson
    }
}
