//! How an API calls one Dubbo method: the interface and method, the parameters in declaration order
//! with their Java types and sources, and the provider classes those types use.

use serde::{Deserialize, Serialize};

/// One Dubbo method, published through an explicit `http` rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DubboTarget {
    /// The Java interface, e.g. `org.apache.dubbo.demo.UserService`.
    pub interface: String,
    pub method: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Call through `$invoke` (generic invocation): POJOs travel as maps with a `class` key, so the
    /// provider needs no class the gateway knows. Off: call the method directly with typed arguments.
    #[serde(default)]
    pub generic: bool,
    /// The method's parameters in declaration order; their types also tell overloads apart.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<DubboParam>,
    /// Keep the `class` key of POJOs in replies.
    #[serde(default)]
    pub include_class: bool,
    /// How Java `long` values render: `auto` (strings only beyond ±2^53, where JSON numbers lose digits),
    /// `string`, or `number`.
    #[serde(default)]
    pub longs: LongRendering,
    /// Exception class → HTTP status, e.g. `java.lang.IllegalArgumentException: 400`. Others are 502.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub exceptions: std::collections::BTreeMap<String, u16>,
    /// The provider's classes the parameters use, by name: a declared POJO's fields go on the wire as
    /// their Java types (a `java.util.Date`, a `long` past 2^53, a `BigDecimal`), and a value that does
    /// not fit is a 400 before anything is sent. Undeclared classes travel in their JSON form.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub classes: std::collections::BTreeMap<String, JavaClass>,
}

/// One Java class of a provider's interface: a POJO's fields, or an enum's constants.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JavaClass {
    /// Field name → Java type, in a parameter's syntax (`long`, `java.util.List<com.acme.Role>`). A
    /// member the class does not declare is refused rather than dropped by the provider.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub fields: std::collections::BTreeMap<String, String>,
    /// The class is an enum with these constants; any other name is refused.
    #[serde(default, rename = "enum", skip_serializing_if = "Vec::is_empty")]
    pub constants: Vec<String>,
}

/// One Dubbo parameter: its name (for errors and docs), Java type, and where its value comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DubboParam {
    pub name: String,
    /// A Java type: `long`, `java.lang.String`, `java.util.List<java.lang.Long>`, `int[]`,
    /// `java.math.BigDecimal`, `java.util.Date`, `java.time.LocalDate`, or a class name (a POJO).
    #[serde(rename = "type")]
    pub java_type: String,
    /// The class is a Java enum: the value is its constant's name.
    #[serde(default, rename = "enum")]
    pub is_enum: bool,
    /// `path.x`, `query.x`, `header.x`, `body` or `body.a.b`; absent when `value` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<crate::mapping::Source>,
    /// A constant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<serde_json::Value>,
    /// A missing value is a 400 rather than `null`.
    #[serde(default)]
    pub required: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LongRendering {
    #[default]
    Auto,
    String,
    Number,
}
