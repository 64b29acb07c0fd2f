//! The API-definition model: what an operator declares (backends, schema sources, APIs) in the form the
//! standalone YAML file, and later the portal's snapshot, both use.
//!
//! This crate is the contract between the control plane and the data plane. It holds serde types and the
//! checks that need nothing but the definitions themselves ([`Config::validate`]). Checks that need the
//! compiled schemas (does the method exist, does a field path resolve) happen when the data plane builds a
//! snapshot; neither happens per request.
//!
//! Layout:
//! - [`config`]: the top-level document and its parts.
//! - [`dubbo_target`]: how an API calls a Dubbo method (parameters, typed provider classes).
//! - [`http_rule`]: the `google.api.http` rule, shared by explicit definitions and proto annotations.
//! - [`mapping`]: explicit parameter bindings (`path.x`, `query.x`, `header.x`, `body`, `body.a.b`).
//! - [`policy`]: the closed set of policies, attached to the document, an API or some of its routes.
//! - [`consumer`]: the apps that call APIs, their credentials and grants.
//! - [`upstream`]: plain HTTP backends (pools, health, balancing) and how an API relays to one.
//! - [`secret`]: secret values that never print, and where their clear value comes from.
//! - [`validate`]: whole-document validation with errors that name the offending item.

pub mod body_transform;
pub mod config;
pub mod consumer;
pub mod discovery;
pub mod dubbo_target;
pub mod http_rule;
pub mod mapping;
pub mod policy;
pub mod secret;
pub mod upstream;
pub mod validate;

pub use config::{
    Api, ApiDocs, Backend, Balance, Config, DubboBackend, DubboParam, DubboTarget, GrpcTarget,
    JavaClass, JsonOptions, LongRendering, ProtoSource, Protocol, ReflectionSource, Schema,
    StreamFormat, Target, ZooKeeperRegistry,
};
pub use consumer::{Consumer, Credential};
pub use http_rule::{HttpMethod, HttpRule};
pub use mapping::{Binding, Source, SourceParseError};
pub use policy::{Policy, RoutePolicies};
pub use secret::{Secret, SecretRef};
pub use upstream::{HttpBackend, HttpTarget};
pub use validate::ValidationError;
