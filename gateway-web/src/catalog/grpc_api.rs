//! One gRPC API definition → its routes: which methods, which HTTP bindings (explicit rule, annotations,
//! auto route), each with its mapping compiled and the backend's pooled client attached.

use std::sync::Arc;

use api_model::{Api, GrpcTarget, HttpMethod, HttpRule};
use http::HeaderName;
use http::uri::PathAndQuery;
use prost_reflect::MethodDescriptor;
use tonic::transport::Channel;

use super::schemas::Pools;
use super::{ApiRuntime, BuildError, Route, api_chain};
use crate::access::{PathTemplate, RouteTableBuilder};
use crate::invoke::grpc::GrpcClient;
use crate::mapping::{self, BodyTarget, RequestPlan, RequestSpec, ResponsePlan};
use crate::pipeline::GrpcCall;

/// A binding to publish, and whether leftover query parameters map onto fields.
struct Binding {
    rule: HttpRule,
    query_params: bool,
}

pub fn add_routes(
    api: &Api,
    target: &GrpcTarget,
    pools: &Pools,
    channel: Channel,
    routes: &mut RouteTableBuilder<Arc<Route>>,
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
    let runtime = Arc::new(ApiRuntime {
        name: api.name.clone(),
        chain: api_chain(api),
    });
    let client = GrpcClient::new(channel);
    let forward_headers = header_names(&api.forward_headers).map_err(fail)?;
    let return_metadata = header_names(&api.return_metadata).map_err(fail)?;

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
                |(verb, template, request, response)| {
                    let call = GrpcCall {
                        path: method_path(&method)?,
                        output: method.output(),
                        server_streaming: method.is_server_streaming(),
                        client: client.clone(),
                        request,
                        response: Arc::new(response),
                        forward_headers: forward_headers.clone(),
                        return_metadata: return_metadata.clone(),
                    };
                    let target = Arc::new(Route {
                        api: runtime.clone(),
                        call: Arc::new(call),
                    });
                    routes
                        .add(api.host.as_deref(), verb, template, target)
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

type Compiled = (http::Method, PathTemplate, RequestPlan, ResponsePlan);

fn route(
    api: &Api,
    method: &MethodDescriptor,
    rule: &HttpRule,
    query_params: bool,
) -> Result<Compiled, String> {
    let (verb, path) = rule
        .pattern()
        .ok_or("an http rule needs exactly one of get, put, post, delete, patch, custom")?;
    let verb = http_method(&verb)?;
    let template = PathTemplate::parse(path).map_err(|err| err.to_string())?;
    let variables: Vec<String> = template
        .variables()
        .iter()
        .map(|v| v.field_path.clone())
        .collect();
    let body = match rule.body.as_str() {
        "" => BodyTarget::None,
        "*" => BodyTarget::Whole,
        field => BodyTarget::Field(field.to_string()),
    };
    let request = RequestPlan::compile(RequestSpec {
        input: method.input(),
        path_variables: &variables,
        body,
        bindings: &api.mapping,
        query_params,
    })
    .map_err(|err| format!("{path}: {err}"))?;
    let response = ResponsePlan::compile(&method.output(), &rule.response_body, api.json)
        .map_err(|err| format!("{path}: {err}"))?;
    Ok((verb, template, request, response))
}

fn http_method(method: &HttpMethod) -> Result<http::Method, String> {
    http::Method::from_bytes(method.as_str().as_bytes())
        .map_err(|_| format!("`{}` is not an HTTP method", method.as_str()))
}

fn method_path(method: &MethodDescriptor) -> Result<PathAndQuery, String> {
    let path = format!("/{}/{}", method.parent_service().full_name(), method.name());
    PathAndQuery::try_from(path).map_err(|err| format!("method path: {err}"))
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
