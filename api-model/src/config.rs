//! The top-level definitions document: backends, schema sources and APIs.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::http_rule::HttpRule;
use crate::mapping::Binding;

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
}

impl Config {
    /// Parses a YAML document. Unknown keys are refused so a typo never silently disables a setting.
    pub fn from_yaml(text: &str) -> Result<Self, serde_yaml_ng::Error> {
        serde_yaml_ng::from_str(text)
    }

    pub fn to_yaml(&self) -> Result<String, serde_yaml_ng::Error> {
        serde_yaml_ng::to_string(self)
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
}

/// A named set of endpoints speaking one protocol.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Backend {
    /// Unique name that APIs and schemas refer to.
    pub name: String,
    pub protocol: Protocol,
    /// `host:port` or `http://host:port`; calls are spread over them.
    pub endpoints: Vec<String>,
    /// How long opening a connection may take.
    #[serde(default = "default_connect_timeout", with = "humantime_serde")]
    pub connect_timeout: Duration,
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
    /// The gRPC service, and optionally one method of it.
    pub grpc: GrpcTarget,
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
}
