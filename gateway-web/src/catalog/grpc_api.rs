//! One gRPC API definition → its route plans: which methods, which HTTP bindings (explicit rule,
//! annotations, auto route), each with its mapping compiled. Pure: the backend is named by index and
//! its channel attached when the plan is instantiated.

use std::sync::Arc;

use api_model::{Api, GrpcTarget, HttpRule};
use http::HeaderName;
use http::uri::PathAndQuery;
use prost_reflect::MethodDescriptor;

use super::plan::{CallPlan, RoutePlan};
use super::policies::ApiChains;
use super::rule;
use super::schemas::Pools;
use super::{BuildError, Routes};
use crate::call::GrpcPlan;
use crate::mapping::{self, BodyTarget, RequestPlan, RequestSpec, ResponsePlan};

/// A binding to publish, and whether leftover query parameters map onto fields.
struct Binding {
    rule: HttpRule,
    query_params: bool,
}

pub fn add_routes(
    api: &Api,
    target: &GrpcTarget,
    pools: &Pools,
    backend: usize,
    chains: &mut ApiChains<'_>,
    routes: &mut Routes,
) -> Result<(), BuildError> {
    let fail = |problem: String| BuildError::one(format!("api `{}`: {problem}", api.name));
    let service = pools
        .service(api.schema.as_deref(), &target.service)
        .map_err(fail)?;
    let methods: Vec<MethodDescriptor> = match &target.method {
        Some(name) => vec![
            service
                .methods()
                .find(|m| m.name() == name)
                .ok_or_else(|| {
                    fail(format!(
                        "service `{}` has no method `{name}`",
                        service.full_name()
                    ))
                })?,
        ],
        None => service.methods().collect(),
    };
    let forward_headers = header_names(&api.forward_headers).map_err(fail)?;
    let return_metadata = header_names(&api.return_metadata).map_err(fail)?;
    let constant_metadata = constant_metadata(&api.metadata).map_err(fail)?;

    let mut problems = Vec::new();
    let mut published = 0;
    for method in methods {
        if method.is_client_streaming() {
            if target.method.is_some() {
                problems.push(format!(
                    "api `{}`: method `{}` streams requests, which HTTP/JSON cannot carry",
                    api.name,
                    method.name()
                ));
            }
            continue;
        }
        for binding in bindings(api, &method) {
            let result = route(api, &method, &binding.rule, binding.query_params).and_then(
                |(binding, request, response)| {
                    let runtime = chains.for_route(method.name(), &binding.verb, &binding.path)?;
                    let plan = GrpcPlan {
                        path: method_path(&method)?,
                        output: method.output(),
                        server_streaming: method.is_server_streaming(),
                        request,
                        response: Arc::new(response),
                        forward_headers: forward_headers.clone(),
                        return_metadata: return_metadata.clone(),
                        constant_metadata: constant_metadata.clone(),
                    };
                    let target = RoutePlan {
                        api: runtime,
                        call: CallPlan::Grpc { backend, plan },
                        label: Arc::from(format!("{} {}", binding.verb, binding.path)),
                    };
                    routes
                        .add(api.host.as_deref(), binding.verb, binding.template, target)
                        .map_err(|err| err.to_string())
                },
            );
            match result {
                Ok(()) => published += 1,
                Err(problem) => problems.push(format!(
                    "api `{}`, method `{}`: {problem}",
                    api.name,
                    method.name()
                )),
            }
        }
    }
    if published == 0 && problems.is_empty() {
        problems.push(format!(
            "api `{}` publishes no route: no method of `{}` has a google.api.http annotation; set `http` or `auto_route`",
            api.name,
            service.full_name()
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(BuildError { problems })
    }
}

/// The explicit rule wins over the annotation; the auto route comes on top of either.
fn bindings(api: &Api, method: &MethodDescriptor) -> Vec<Binding> {
    let rule = api.http.clone().or_else(|| {
        if api.annotations {
            mapping::http_rule::annotation(method)
        } else {
            None
        }
    });
    let mut out: Vec<Binding> = rule
        .iter()
        .flat_map(|rule| rule.bindings())
        .map(|b| Binding {
            rule: HttpRule {
                additional_bindings: Vec::new(),
                ..b.clone()
            },
            query_params: true,
        })
        .collect();
    if api.auto_route {
        let path = format!("/{}/{}", method.parent_service().full_name(), method.name());
        out.push(Binding {
            rule: HttpRule {
                post: Some(path),
                body: "*".into(),
                ..HttpRule::default()
            },
            query_params: false,
        });
    }
    out
}

type Compiled = (rule::Binding, RequestPlan, ResponsePlan);

fn route(
    api: &Api,
    method: &MethodDescriptor,
    rule: &HttpRule,
    query_params: bool,
) -> Result<Compiled, String> {
    let binding = rule::parse(rule)?;
    let path = &binding.path;
    let body = BodyTarget::from_rule(&rule.body);
    let request = RequestPlan::compile(RequestSpec {
        input: method.input(),
        path_variables: &binding.variables,
        body,
        bindings: &api.mapping,
        query_params,
    })
    .map_err(|err| format!("{path}: {err}"))?;
    let response = ResponsePlan::compile(&method.output(), &rule.response_body, api.json)
        .map_err(|err| format!("{path}: {err}"))?;
    Ok((binding, request, response))
}

fn method_path(method: &MethodDescriptor) -> Result<PathAndQuery, String> {
    let path = format!("/{}/{}", method.parent_service().full_name(), method.name());
    PathAndQuery::try_from(path).map_err(|err| format!("method path: {err}"))
}

/// The API's constant metadata as header fields (names lowercased, as HTTP/2 sends them).
fn constant_metadata(
    metadata: &std::collections::BTreeMap<String, String>,
) -> Result<Arc<[(HeaderName, http::HeaderValue)]>, String> {
    metadata
        .iter()
        .map(|(key, value)| {
            let name = HeaderName::from_bytes(key.to_ascii_lowercase().as_bytes())
                .map_err(|_| format!("metadata `{key}` is not a valid header name"))?;
            let value = http::HeaderValue::from_str(value)
                .map_err(|_| format!("metadata `{key}`: `{value}` is not a valid header value"))?;
            Ok((name, value))
        })
        .collect()
}

fn header_names(names: &[String]) -> Result<Arc<[HeaderName]>, String> {
    names
        .iter()
        .map(|name| {
            HeaderName::from_bytes(name.to_ascii_lowercase().as_bytes())
                .map_err(|_| format!("`{name}` is not a valid header name"))
        })
        .collect()
}
