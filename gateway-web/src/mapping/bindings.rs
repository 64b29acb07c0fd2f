//! Explicit bindings (`path.x`, `query.x`, `header.x`, `body`, `body.a.b`, constants) and the text targets
//! they share with path variables: resolved when the plan is compiled, applied last when a request is built.

use api_model::{Binding, Source};
use http::HeaderName;
use prost_reflect::{DynamicMessage, MessageDescriptor, Value};

use super::field_path::FieldPath;
use super::input::{Media, RequestInput};
use super::json::{Decoded, JsonTarget};
use super::json_error::{decode_body, decode_member};
use super::scalar::Scalar;
use super::strict_json::parse_value;
use crate::error::{ErrorKind, GatewayError};

/// A field filled from text, with its parser chosen.
#[derive(Debug, Clone)]
pub(crate) struct TextTarget {
    pub(crate) path: FieldPath,
    scalar: Scalar,
}

/// An explicit binding, resolved.
#[derive(Debug, Clone)]
pub(crate) enum Bound {
    Path {
        variable: usize,
        name: String,
        target: TextTarget,
    },
    Query {
        name: String,
        target: TextTarget,
    },
    Header {
        name: HeaderName,
        target: TextTarget,
    },
    /// `body` (empty member) or `body.a.b`.
    Body {
        member: Vec<String>,
        target: JsonTarget,
    },
    /// A constant, decoded when the plan was compiled.
    Constant {
        value: Decoded,
        target: JsonTarget,
    },
}

impl TextTarget {
    /// `repeated_ok`: whether several texts may fill a repeated field (query, header) or there is only
    /// ever one (a path variable).
    pub(crate) fn compile(
        input: &MessageDescriptor,
        path: &str,
        repeated_ok: bool,
    ) -> Result<TextTarget, String> {
        let path = FieldPath::resolve(input, path)?;
        let leaf = path.leaf();
        if leaf.is_list() && !repeated_ok {
            return Err(format!(
                "`{}` is repeated, but a path variable holds one value",
                leaf.full_name()
            ));
        }
        let scalar = Scalar::for_field(leaf)?;
        Ok(TextTarget { path, scalar })
    }

    /// Parses every text and sets the field: a repeated field gets them all in order; a singular one
    /// refuses a second value rather than silently keeping one of them. No text leaves the field unset.
    pub(crate) fn set<'t>(
        &self,
        message: &mut DynamicMessage,
        texts: impl IntoIterator<Item = Result<&'t str, GatewayError>>,
        source: impl Fn() -> String,
    ) -> Result<(), GatewayError> {
        let mut values = Vec::new();
        for text in texts {
            let value = self
                .scalar
                .parse(text?)
                .map_err(|why| GatewayError::invalid_argument(format!("{}: {why}", source())))?;
            values.push(value);
        }
        let leaf = self.path.leaf();
        let value = if leaf.is_list() {
            if values.is_empty() {
                return Ok(());
            }
            Value::List(values)
        } else {
            match (values.pop(), values.is_empty()) {
                (None, _) => return Ok(()),
                (Some(value), true) => value,
                (Some(_), false) => {
                    return Err(GatewayError::invalid_argument(format!(
                        "{} is given more than once, but `{}` is not repeated",
                        source(),
                        leaf.name()
                    )));
                }
            }
        };
        self.path.set(message, value)
    }
}

impl Bound {
    /// The error names what is wrong; the caller adds which binding of which API it is.
    pub(crate) fn compile(
        input: &MessageDescriptor,
        binding: &Binding,
        variables: &[String],
    ) -> Result<Bound, String> {
        let to = binding.to.as_str();
        let json_target = || -> Result<JsonTarget, String> {
            if to.is_empty() {
                Ok(JsonTarget::Whole)
            } else {
                FieldPath::resolve(input, to).map(JsonTarget::Field)
            }
        };
        let text_target = |repeated_ok| {
            if to.is_empty() {
                return Err("only a `body` binding may leave `to` empty".to_string());
            }
            TextTarget::compile(input, to, repeated_ok)
        };
        match (&binding.from, &binding.value) {
            (Some(_), Some(_)) | (None, None) => {
                Err("needs exactly one of `from` and `value`".to_string())
            }
            (Some(Source::Path(name)), None) => {
                let variable = variables
                    .iter()
                    .position(|v| v == name)
                    .ok_or_else(|| format!("the path template has no variable `{name}`"))?;
                let target = text_target(false)?;
                Ok(Bound::Path {
                    variable,
                    name: name.clone(),
                    target,
                })
            }
            (Some(Source::Query(name)), None) => Ok(Bound::Query {
                name: name.clone(),
                target: text_target(true)?,
            }),
            (Some(Source::Header(name)), None) => {
                let name = HeaderName::from_bytes(name.as_bytes())
                    .map_err(|_| format!("`{name}` is not a valid header name"))?;
                Ok(Bound::Header {
                    name,
                    target: text_target(true)?,
                })
            }
            (Some(Source::Body), None) => Ok(Bound::Body {
                member: Vec::new(),
                target: json_target()?,
            }),
            (Some(Source::BodyField(member)), None) => Ok(Bound::Body {
                member: member.clone(),
                target: json_target()?,
            }),
            (None, Some(constant)) => {
                let target = json_target()?;
                let value = target
                    .decode(input, constant)
                    .map_err(|err| format!("the constant {constant} does not fit: {err}"))?;
                Ok(Bound::Constant { value, target })
            }
        }
    }
}

/// Applies the bindings in their declared order; each may override what came before it.
pub(crate) fn apply_all(
    bindings: &[Bound],
    desc: &MessageDescriptor,
    message: &mut DynamicMessage,
    input: &RequestInput<'_>,
    media: Option<Media>,
) -> Result<(), GatewayError> {
    // Parsed on first use: only `body.a.b` bindings need the body as plain JSON.
    let mut body_json: Option<serde_json::Value> = None;
    for binding in bindings {
        match binding {
            Bound::Path {
                variable,
                name,
                target,
            } => {
                let text = input.path_values.get(*variable).map(|t| Ok(t.as_str()));
                target.set(message, text, || format!("path variable `{name}`"))?;
            }
            Bound::Query { name, target } => {
                let texts = input
                    .query
                    .iter()
                    .filter(|(k, _)| k == name)
                    .map(|(_, v)| Ok(v.as_str()));
                target.set(message, texts, || format!("query parameter `{name}`"))?;
            }
            Bound::Header { name, target } => {
                let texts = input.headers.get_all(name).iter().map(|value| {
                    std::str::from_utf8(value.as_bytes()).map_err(|_| {
                        GatewayError::invalid_argument(format!(
                            "header `{name}` is not valid UTF-8"
                        ))
                    })
                });
                target.set(message, texts, || format!("header `{name}`"))?;
            }
            Bound::Body { member, target } => match media {
                None => {}
                Some(Media::Form) => {
                    return Err(GatewayError::new(
                        ErrorKind::UnsupportedMediaType,
                        "unsupported media type `application/x-www-form-urlencoded`: this API reads \
                         application/json",
                    ));
                }
                Some(Media::Json) if member.is_empty() => {
                    decode_body(input.body, desc, target)?.apply(target, message)?;
                }
                Some(Media::Json) => {
                    let json = match &mut body_json {
                        Some(json) => json,
                        slot => slot.insert(parse_value(input.body).map_err(|err| {
                            GatewayError::invalid_argument(format!("malformed JSON body: {err}"))
                        })?),
                    };
                    // A missing member leaves the field unset, like a missing header.
                    let Some(value) = member.iter().try_fold(&*json, |json, key| json.get(key))
                    else {
                        continue;
                    };
                    decode_member(value, desc, target, &member.join("."))?
                        .apply(target, message)?;
                }
            },
            Bound::Constant { value, target } => value.clone().apply(target, message)?,
        }
    }
    Ok(())
}
