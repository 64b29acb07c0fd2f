//! HTTP request → request message: the plan is compiled once per route from the rule and the explicit
//! bindings; per request it reads the body, then the path variables, the query string and the bindings.

use api_model::{Binding, Source};
use prost_reflect::{DynamicMessage, MessageDescriptor};

use super::PlanError;
use super::bindings::{Bound, TextTarget, apply_all};
use super::field_path::FieldPath;
use super::input::{Media, RequestInput};
use super::json::{Decoded, JsonTarget};
use super::json_error::decode_body;
use super::params::{Params, form_pairs};
use crate::error::{ErrorKind, GatewayError};

/// Where the request body goes, from `HttpRule.body`: `""`, `"*"` or a field path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyTarget {
    None,
    Whole,
    Field(String),
}

impl BodyTarget {
    pub fn from_rule(body: &str) -> BodyTarget {
        match body {
            "" => BodyTarget::None,
            "*" => BodyTarget::Whole,
            path => BodyTarget::Field(path.to_string()),
        }
    }
}

/// What a route declares about its request message.
pub struct RequestSpec<'a> {
    pub input: MessageDescriptor,
    /// Template variable field paths, in template order.
    pub path_variables: &'a [String],
    pub body: BodyTarget,
    /// Explicit bindings (may be empty).
    pub bindings: &'a [Binding],
    /// Map leftover query parameters onto fields (the grpc-gateway rule).
    pub query_params: bool,
}

/// Every field path resolved to descriptors at compile time; building a message only parses and sets.
#[derive(Debug, Clone)]
pub struct RequestPlan {
    input: MessageDescriptor,
    body: Option<JsonTarget>,
    /// Per template variable: its name, and the field it fills unless an explicit binding reads it.
    path: Vec<(String, Option<TextTarget>)>,
    query: Params,
    form: Params,
    bindings: Vec<Bound>,
    /// False when nothing reads the body, so a body sent anyway is refused rather than ignored.
    reads_body: bool,
}

impl RequestPlan {
    pub fn compile(spec: RequestSpec<'_>) -> Result<RequestPlan, PlanError> {
        let input = spec.input;
        let message = input.full_name().to_string();
        let body = match &spec.body {
            BodyTarget::None => None,
            BodyTarget::Whole => Some(JsonTarget::Whole),
            BodyTarget::Field(path) => Some(JsonTarget::Field(
                FieldPath::resolve(&input, path).map_err(|why| {
                    PlanError(format!("body field `{path}` of `{message}`: {why}"))
                })?,
            )),
        };

        // A variable read by an explicit binding goes only where that binding says.
        let explicit: Vec<&str> = spec
            .bindings
            .iter()
            .filter_map(|b| match &b.from {
                Some(Source::Path(name)) => Some(name.as_str()),
                _ => None,
            })
            .collect();
        let mut path = Vec::with_capacity(spec.path_variables.len());
        let mut bound = Vec::new();
        for variable in spec.path_variables {
            if explicit.contains(&variable.as_str()) {
                path.push((variable.clone(), None));
                continue;
            }
            let target = TextTarget::compile(&input, variable, false).map_err(|why| {
                PlanError(format!(
                    "path template variable `{variable}` of `{message}`: {why}"
                ))
            })?;
            bound.push((target.path.clone(), "the path"));
            path.push((variable.clone(), Some(target)));
        }

        let mut bindings = Vec::with_capacity(spec.bindings.len());
        let mut consumed = Vec::new();
        for binding in spec.bindings {
            let resolved = Bound::compile(&input, binding, spec.path_variables).map_err(|why| {
                let from = binding
                    .from
                    .as_ref()
                    .map_or("value".to_string(), |f| f.to_string());
                PlanError(format!(
                    "binding `{from}` → `{}` of `{message}`: {why}",
                    binding.to
                ))
            })?;
            match &resolved {
                Bound::Path { target, .. } => bound.push((target.path.clone(), "the path")),
                Bound::Query { name, .. } => consumed.push(name.clone()),
                _ => {}
            }
            bindings.push(resolved);
        }
        let reads_body = body.is_some()
            || spec
                .bindings
                .iter()
                .any(|b| matches!(b.from, Some(Source::Body | Source::BodyField(_))));
        // The form body fills the whole message, so only the path can collide with it.
        let form = Params {
            what: "form field",
            auto: true,
            bound: bound.clone(),
            consumed: Vec::new(),
            unmapped_because: "",
        };
        if let Some(JsonTarget::Field(path)) = &body {
            bound.push((path.clone(), "the body"));
        }
        // With `body: "*"` every field the path leaves is the body's (HttpRule): a query parameter may
        // not set one, or it would override what the body said.
        let whole_body = matches!(body, Some(JsonTarget::Whole));
        let query = Params {
            what: "query parameter",
            auto: spec.query_params && !whole_body,
            bound,
            consumed,
            unmapped_because: if whole_body && spec.query_params {
                " (with `body: \"*\"` every field comes from the body or the path)"
            } else {
                ""
            },
        };
        Ok(RequestPlan {
            input,
            body,
            path,
            query,
            form,
            bindings,
            reads_body,
        })
    }

    pub fn build(&self, input: &RequestInput<'_>) -> Result<DynamicMessage, GatewayError> {
        let mut message = DynamicMessage::new(self.input.clone());
        // The order is the contract: the body first, then path variables, query parameters and explicit
        // bindings, each overriding what came before.
        if self.path.len() != input.path_values.len() {
            return Err(GatewayError::internal(
                "the route passed the wrong number of path values",
            ));
        }
        let media = self.read_body(&mut message, input)?;
        for ((name, target), text) in self.path.iter().zip(input.path_values) {
            if let Some(target) = target {
                target.set(&mut message, [Ok(text.as_str())], || {
                    format!("path variable `{name}`")
                })?;
            }
        }
        let pairs = input
            .query
            .iter()
            .map(|(key, value)| (key.as_str(), value.as_str()));
        self.query.apply(&mut message, pairs)?;
        apply_all(&self.bindings, &self.input, &mut message, input, media)?;
        Ok(message)
    }

    /// Decodes a non-empty body into `message`; returns how it was read (`None` when empty).
    fn read_body(
        &self,
        message: &mut DynamicMessage,
        input: &RequestInput<'_>,
    ) -> Result<Option<Media>, GatewayError> {
        if input.body.is_empty() {
            return Ok(None);
        }
        if !self.reads_body {
            return Err(GatewayError::invalid_argument(
                "this API takes no request body",
            ));
        }
        let media = self.media(input.content_type)?;
        match (media, &self.body) {
            (Media::Json, Some(target)) => match decode_body(input.body, &self.input, target)? {
                Decoded::Message(whole) => *message = whole,
                field => field.apply(target, message)?,
            },
            (Media::Form, _) => {
                let pairs = form_pairs(input.body)?;
                self.form
                    .apply(message, pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
            }
            // Only explicit bindings read this body; they run last.
            (Media::Json, None) => {}
        }
        Ok(Some(media))
    }

    fn media(&self, content_type: Option<&str>) -> Result<Media, GatewayError> {
        match content_type {
            None | Some("application/json") => Ok(Media::Json),
            Some(other) if other.contains('/') && other.ends_with("+json") => Ok(Media::Json),
            Some("application/x-www-form-urlencoded")
                if matches!(self.body, Some(JsonTarget::Whole)) =>
            {
                Ok(Media::Form)
            }
            Some(other) => Err(GatewayError::new(
                ErrorKind::UnsupportedMediaType,
                format!("unsupported media type `{other}`: this API reads application/json"),
            )),
        }
    }
}
