//! The `google.api.http` rule, in the shape both a YAML definition and a proto annotation produce.

use serde::{Deserialize, Serialize};

/// One HTTP binding of a method: a verb and path template, where the body goes, and which response field
/// becomes the HTTP body. Mirrors `google.api.HttpRule`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpRule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub put: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patch: Option<String>,
    /// Any other verb (`HEAD`, `OPTIONS`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom: Option<CustomPattern>,
    /// `*` maps the whole body onto the request; a field name maps it onto that field; empty means no body.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub body: String,
    /// The response field returned as the HTTP body; empty means the whole response.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub response_body: String,
    /// More bindings for the same method. They may not nest further.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub additional_bindings: Vec<HttpRule>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomPattern {
    pub kind: String,
    pub path: String,
}

/// An HTTP verb as the route table knows it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HttpMethod {
    Get,
    Put,
    Post,
    Delete,
    Patch,
    Custom(String),
}

impl HttpMethod {
    pub fn as_str(&self) -> &str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Put => "PUT",
            HttpMethod::Post => "POST",
            HttpMethod::Delete => "DELETE",
            HttpMethod::Patch => "PATCH",
            HttpMethod::Custom(kind) => kind,
        }
    }
}

impl HttpRule {
    /// The verb and path template, or `None` when no pattern (or more than one) is set.
    pub fn pattern(&self) -> Option<(HttpMethod, &str)> {
        let mut found = [
            self.get.as_deref().map(|p| (HttpMethod::Get, p)),
            self.put.as_deref().map(|p| (HttpMethod::Put, p)),
            self.post.as_deref().map(|p| (HttpMethod::Post, p)),
            self.delete.as_deref().map(|p| (HttpMethod::Delete, p)),
            self.patch.as_deref().map(|p| (HttpMethod::Patch, p)),
            self.custom.as_ref().map(|c| {
                (
                    HttpMethod::Custom(c.kind.to_ascii_uppercase()),
                    c.path.as_str(),
                )
            }),
        ]
        .into_iter()
        .flatten();
        let first = found.next()?;
        match found.next() {
            Some(_) => None,
            None => Some(first),
        }
    }

    /// This rule followed by its additional bindings, flattened.
    pub fn bindings(&self) -> impl Iterator<Item = &HttpRule> {
        std::iter::once(self).chain(self.additional_bindings.iter())
    }
}
