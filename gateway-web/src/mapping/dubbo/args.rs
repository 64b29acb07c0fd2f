//! The compiled argument plan of a Dubbo API: each parameter's type and source resolved once; per request
//! only values are read and coerced. Arguments are bound by name and source, never by JSON key order.

use api_model::{DubboParam, Source};
use http::HeaderName;
use serde_json::Value as Json;
use serde_json::value::RawValue;

use super::classes::Classes;
use super::coerce::{self, Coerce, PojoForm};
use super::java_type::JavaType;
use crate::error::{ErrorKind, GatewayError};
use crate::mapping::strict_json::parse_value;
use crate::mapping::{PlanError, RequestInput};
use dubbo_codec::hessian2::Value;

pub struct ArgsPlan {
    params: Vec<ParamPlan>,
    form: PojoForm,
    classes: Classes,
    reads_body: bool,
    /// The body members parameters read (`body.a.b` reads `a`), when none reads the whole body: any
    /// other member is refused, as a misspelt field is on the gRPC path, rather than dropped unseen.
    body_members: Option<Vec<String>>,
    /// Query parameters some parameter reads; any other is refused.
    query_names: Vec<String>,
}

struct ParamPlan {
    name: String,
    ty: JavaType,
    source: ParamSource,
    required: bool,
}

enum ParamSource {
    Path(usize),
    Query(String),
    Header(HeaderName),
    Body,
    BodyField(Vec<String>),
    Constant(Value),
}

impl ArgsPlan {
    pub fn compile(
        params: &[DubboParam],
        path_variables: &[String],
        form: PojoForm,
        classes: &Classes,
    ) -> Result<ArgsPlan, PlanError> {
        let cx = Coerce { form, classes };
        let mut plans = Vec::with_capacity(params.len());
        for param in params {
            let fail =
                |problem: String| PlanError(format!("parameter `{}`: {problem}", param.name));
            let ty =
                classes.resolve(JavaType::parse(&param.java_type, param.is_enum).map_err(fail)?);
            let source = match (&param.from, &param.value) {
                (Some(Source::Path(name)), _) => {
                    ParamSource::Path(path_variables.iter().position(|v| v == name).ok_or_else(
                        || fail(format!("the path template has no variable `{name}`")),
                    )?)
                }
                (Some(Source::Query(name)), _) => ParamSource::Query(name.clone()),
                (Some(Source::Header(name)), _) => ParamSource::Header(
                    HeaderName::from_bytes(name.as_bytes())
                        .map_err(|_| fail(format!("`{name}` is not a header name")))?,
                ),
                (Some(Source::Body), _) => ParamSource::Body,
                (Some(Source::BodyField(path)), _) => ParamSource::BodyField(path.clone()),
                (None, Some(constant)) => ParamSource::Constant(
                    coerce::from_json(&ty, constant, None, cx)
                        .map_err(|e| fail(format!("constant: {e}")))?,
                ),
                (None, None) => return Err(fail("needs `from` or `value`".into())),
            };
            plans.push(ParamPlan {
                name: param.name.clone(),
                required: param.required || ty.is_primitive(),
                ty,
                source,
            });
        }
        for (index, variable) in path_variables.iter().enumerate() {
            if !plans
                .iter()
                .any(|p| matches!(p.source, ParamSource::Path(i) if i == index))
            {
                return Err(PlanError(format!(
                    "path variable `{variable}` is bound to no parameter"
                )));
            }
        }
        let reads_body = plans
            .iter()
            .any(|p| matches!(p.source, ParamSource::Body | ParamSource::BodyField(_)));
        let query_names = plans
            .iter()
            .filter_map(|p| {
                if let ParamSource::Query(n) = &p.source {
                    Some(n.clone())
                } else {
                    None
                }
            })
            .collect();
        let whole_body = plans.iter().any(|p| matches!(p.source, ParamSource::Body));
        let body_members = (!whole_body).then(|| {
            let mut members: Vec<String> = plans
                .iter()
                .filter_map(|p| match &p.source {
                    ParamSource::BodyField(path) => path.first().cloned(),
                    _ => None,
                })
                .collect();
            members.sort();
            members.dedup();
            members
        });
        Ok(ArgsPlan {
            params: plans,
            form,
            classes: classes.clone(),
            reads_body,
            body_members,
            query_names,
        })
    }

    /// The erased Java types, in order: the method's signature, which also picks among overloads.
    pub fn parameter_types(&self) -> Vec<String> {
        self.params.iter().map(|p| p.ty.erasure()).collect()
    }

    pub fn build(&self, input: &RequestInput<'_>) -> Result<Vec<Value>, GatewayError> {
        if let Some((name, _)) = input
            .query
            .iter()
            .find(|(name, _)| !self.query_names.contains(name))
        {
            return Err(GatewayError::invalid_argument(format!(
                "unknown query parameter `{name}`"
            )));
        }
        let body = self.body(input)?;
        let cx = Coerce {
            form: self.form,
            classes: &self.classes,
        };
        let mut values = Vec::with_capacity(self.params.len());
        for param in &self.params {
            let value = param.read(input, body.as_ref(), cx).map_err(|problem| {
                GatewayError::invalid_argument(format!(
                    "parameter `{}` ({}): {problem}",
                    param.name, param.ty
                ))
            })?;
            values.push(value);
        }
        Ok(values)
    }

    fn body<'a>(&self, input: &RequestInput<'a>) -> Result<Option<Body<'a>>, GatewayError> {
        if input.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        match input.content_type {
            None | Some("application/json") => {}
            Some(other) if other.ends_with("+json") => {}
            Some(other) => {
                return Err(GatewayError::new(
                    ErrorKind::UnsupportedMediaType,
                    format!("media type `{other}` is not supported; send application/json"),
                ));
            }
        }
        let json: Json = parse_value(input.body)
            .map_err(|err| GatewayError::invalid_argument(format!("malformed JSON body: {err}")))?;
        let members = json.as_object();
        if !self.reads_body {
            // A method without arguments from the body takes no body, or an empty object.
            if members.is_some_and(|m| m.is_empty()) {
                return Ok(None);
            }
            return Err(GatewayError::invalid_argument(
                "this API takes no request body (an empty object `{}` at most)",
            ));
        }
        if let (Some(read), Some(members)) = (&self.body_members, members)
            && let Some(unknown) = members.keys().find(|key| !read.contains(key))
        {
            return Err(GatewayError::invalid_argument(format!(
                "unknown body member `{unknown}`; this API reads {}",
                read.iter()
                    .map(|m| format!("`{m}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        Ok(Some(Body {
            json,
            raw: input.body,
        }))
    }
}

struct Body<'a> {
    json: Json,
    raw: &'a [u8],
}

impl ParamPlan {
    fn read(
        &self,
        input: &RequestInput<'_>,
        body: Option<&Body<'_>>,
        cx: Coerce<'_>,
    ) -> Result<Value, String> {
        let missing = || {
            if self.required {
                Err("is required".to_string())
            } else {
                Ok(Value::Null)
            }
        };
        match &self.source {
            ParamSource::Constant(value) => Ok(value.clone()),
            ParamSource::Path(index) => match input.path_values.get(*index) {
                Some(text) => coerce::from_text(&self.ty, text, cx),
                None => missing(),
            },
            ParamSource::Header(name) => match input.headers.get(name) {
                Some(value) => {
                    let text = value
                        .to_str()
                        .map_err(|_| format!("header `{name}` is not visible ASCII"))?;
                    coerce::from_text(&self.ty, text, cx)
                }
                None => missing(),
            },
            ParamSource::Query(name) => {
                let mut occurrences = input
                    .query
                    .iter()
                    .filter(|(n, _)| n == name)
                    .map(|(_, v)| v.as_str());
                match &self.ty {
                    JavaType::Array(item)
                    | JavaType::List {
                        item: Some(item), ..
                    } => {
                        let items: Vec<Value> = occurrences
                            .map(|text| coerce::from_text(item, text, cx))
                            .collect::<Result<_, _>>()?;
                        if items.is_empty() {
                            return missing();
                        }
                        let type_name =
                            matches!(self.ty, JavaType::Array(_)).then(|| item.array_type_name());
                        Ok(Value::List(dubbo_codec::hessian2::List {
                            type_name,
                            items,
                        }))
                    }
                    _ => match (occurrences.next(), occurrences.next()) {
                        (None, _) => missing(),
                        (Some(text), None) => coerce::from_text(&self.ty, text, cx),
                        (Some(_), Some(_)) => {
                            Err(format!("query parameter `{name}` is given more than once"))
                        }
                    },
                }
            }
            ParamSource::Body => match body {
                Some(body) => coerce::from_json(
                    &self.ty,
                    &body.json,
                    self.raw_number(body.raw, &[]).as_deref(),
                    cx,
                ),
                None => missing(),
            },
            ParamSource::BodyField(path) => {
                let found = body.and_then(|b| {
                    path.iter()
                        .try_fold(&b.json, |json, key| json.get(key))
                        .map(|j| (b, j))
                });
                match found {
                    Some((_, Json::Null)) | None => missing(),
                    Some((b, json)) => coerce::from_json(
                        &self.ty,
                        json,
                        self.raw_number(b.raw, path).as_deref(),
                        cx,
                    ),
                }
            }
        }
    }
}

impl ParamPlan {
    /// Re-reads the body only for a BigDecimal, the one type a parsed float would damage.
    fn raw_number(&self, body: &[u8], path: &[String]) -> Option<String> {
        (self.ty == JavaType::BigDecimal)
            .then(|| raw_number(body, path))
            .flatten()
    }
}

/// The literal text of the number at `path` in the body, so a BigDecimal keeps every digit a float
/// would lose. `None` when the value there is not a number literal.
fn raw_number(body: &[u8], path: &[String]) -> Option<String> {
    fn at(text: &str, path: &[String]) -> Option<String> {
        match path.split_first() {
            None => {
                let text = text.trim();
                text.starts_with(|c: char| c == '-' || c.is_ascii_digit())
                    .then(|| text.to_string())
            }
            Some((key, rest)) => {
                let members: std::collections::HashMap<String, &RawValue> =
                    serde_json::from_str(text).ok()?;
                at(members.get(key)?.get(), rest)
            }
        }
    }
    at(std::str::from_utf8(body).ok()?, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(params: serde_json::Value) -> ArgsPlan {
        let params: Vec<DubboParam> = serde_json::from_value(params).expect("params");
        ArgsPlan::compile(&params, &[], PojoForm::Map, &Classes::default()).expect("compiles")
    }

    fn build(plan: &ArgsPlan, body: &str) -> Result<Vec<Value>, GatewayError> {
        plan.build(&RequestInput {
            path_values: &[],
            query: &[],
            headers: &http::HeaderMap::new(),
            content_type: Some("application/json"),
            body: body.as_bytes(),
        })
    }

    #[test]
    fn a_method_without_arguments_takes_no_body_or_an_empty_object() {
        let none = plan(serde_json::json!([]));
        for body in ["", "  ", "{}", " { } "] {
            assert_eq!(
                build(&none, body).expect(body),
                Vec::<Value>::new(),
                "{body:?}"
            );
        }
        for body in [r#"{"id":1}"#, "[]", "1"] {
            let err = build(&none, body).expect_err(body);
            assert!(
                err.message.contains("takes no request body"),
                "{body}: {err}"
            );
        }
    }

    #[test]
    fn body_members_no_parameter_reads_are_refused() {
        let members = plan(serde_json::json!([
            {"name": "id", "type": "long", "from": "body.id"},
            {"name": "name", "type": "java.lang.String", "from": "body.user.name"},
        ]));
        assert_eq!(
            build(&members, r#"{"id":7,"user":{"name":"a","extra":1}}"#)
                .map(|v| v.len())
                .ok(),
            Some(2)
        );
        let err = build(&members, r#"{"id":7,"idd":8}"#).expect_err("a misspelt member");
        assert_eq!(
            err.message,
            "unknown body member `idd`; this API reads `id`, `user`"
        );
        // A parameter that takes the whole body owns every member.
        let whole =
            plan(serde_json::json!([{"name": "user", "type": "java.util.Map", "from": "body"}]));
        assert!(build(&whole, r#"{"anything":1}"#).is_ok());
    }
}
