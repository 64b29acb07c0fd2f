//! Explicit parameter bindings: where in the HTTP request a request field's value comes from.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Binds one source in the HTTP request (or a constant) to a request field path such as `user.id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Binding {
    /// `path.NAME`, `query.NAME`, `header.NAME`, `body` or `body.a.b`. Absent when `value` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Source>,
    /// A constant, in proto3 JSON form for the target field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<serde_json::Value>,
    /// The target field path in the request message (`.proto` or JSON names); empty means the whole
    /// message (only for `body` sources).
    #[serde(default)]
    pub to: String,
}

/// A place in the HTTP request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Source {
    /// A variable of the path template.
    Path(String),
    /// A query parameter (every occurrence, for repeated fields).
    Query(String),
    /// A request header (case-insensitive).
    Header(String),
    /// The whole JSON body.
    Body,
    /// A member of the JSON body, by path.
    BodyField(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid binding source `{0}`: expected path.NAME, query.NAME, header.NAME, body or body.FIELD[.FIELD...]"
)]
pub struct SourceParseError(pub String);

impl FromStr for Source {
    type Err = SourceParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let err = || SourceParseError(text.to_string());
        if text == "body" {
            return Ok(Source::Body);
        }
        let (kind, rest) = text.split_once('.').ok_or_else(err)?;
        if rest.is_empty() {
            return Err(err());
        }
        match kind {
            "path" => Ok(Source::Path(rest.to_string())),
            "query" => Ok(Source::Query(rest.to_string())),
            "header" => Ok(Source::Header(rest.to_ascii_lowercase())),
            "body" => {
                let parts: Vec<String> = rest.split('.').map(str::to_string).collect();
                if parts.iter().any(String::is_empty) {
                    return Err(err());
                }
                Ok(Source::BodyField(parts))
            }
            _ => Err(err()),
        }
    }
}

impl TryFrom<String> for Source {
    type Error = SourceParseError;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl From<Source> for String {
    fn from(source: Source) -> String {
        source.to_string()
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Path(name) => write!(f, "path.{name}"),
            Source::Query(name) => write!(f, "query.{name}"),
            Source::Header(name) => write!(f, "header.{name}"),
            Source::Body => f.write_str("body"),
            Source::BodyField(parts) => write!(f, "body.{}", parts.join(".")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_parse_and_print_back() {
        for text in [
            "path.id",
            "query.page",
            "header.x-tenant",
            "body",
            "body.user.name",
        ] {
            let source: Source = text.parse().expect(text);
            assert_eq!(source.to_string(), text);
        }
    }

    #[test]
    fn header_names_are_case_insensitive() {
        assert_eq!(
            "header.X-Tenant".parse::<Source>(),
            Ok(Source::Header("x-tenant".into()))
        );
    }

    #[test]
    fn malformed_sources_are_refused() {
        for text in ["", "path", "path.", "cookie.x", "body..a", "body.a."] {
            assert!(text.parse::<Source>().is_err(), "{text} should be refused");
        }
    }
}
