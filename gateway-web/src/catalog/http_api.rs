//! One HTTP upstream API → its route plans: each binding of its rule relays to the backend's pool,
//! with the path rewrite and header edits compiled against that binding's template.

use std::sync::Arc;

use api_model::{Api, HttpTarget};

use super::plan::{CallPlan, RoutePlan};
use super::policies::ApiChains;
use super::{BuildError, Routes, rule};
use crate::call::HttpPlan;
use crate::mapping::relay::{HeaderEditPlan, JsonEdit, PathRewrite};

/// `backend` is the index of the API's backend among the plan's backends.
pub fn add_routes(
    api: &Api,
    target: &HttpTarget,
    backend: usize,
    chains: &mut ApiChains<'_>,
    routes: &mut Routes,
) -> Result<(), BuildError> {
    let fail = |problem: String| BuildError::one(format!("api `{}`: {problem}", api.name));
    let rule = api
        .http
        .as_ref()
        .ok_or_else(|| fail("an upstream api needs an `http` rule".into()))?;
    for binding in rule.bindings() {
        let binding = rule::parse(binding).map_err(fail)?;
        let at = |err: String| fail(format!("{}: {err}", binding.path));
        let plan = HttpPlan {
            rewrite: PathRewrite::compile(target, &binding.template).map_err(at)?,
            request_headers: HeaderEditPlan::compile(&target.request_headers, &binding.template)
                .map_err(|err| at(format!("request_headers: {err}")))?,
            response_headers: HeaderEditPlan::compile(&target.response_headers, &binding.template)
                .map_err(|err| at(format!("response_headers: {err}")))?,
            request_body: target.request_body.as_ref().map(JsonEdit::new),
            response_body: target.response_body.as_ref().map(JsonEdit::new),
            max_request_body: target.max_request_body,
            max_response_body: target.max_response_body,
            via: target.via,
            timeout: api.timeout,
            route: binding.template.clone(),
        };
        // No RPC method: only `route:` selectors select an upstream API's routes.
        let runtime = chains
            .for_route("", &binding.verb, &binding.path)
            .map_err(fail)?;
        let route = RoutePlan {
            api: runtime,
            call: CallPlan::Http { backend, plan },
            label: Arc::from(format!("{} {}", binding.verb, binding.path)),
        };
        routes
            .add(api.host.as_deref(), binding.verb, binding.template, route)
            .map_err(|err| fail(err.to_string()))?;
    }
    Ok(())
}
