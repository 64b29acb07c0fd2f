//! One Dubbo API definition → its route plans: the explicit rule's bindings, each with a compiled
//! argument plan, all sharing one client over the backend's providers (made when the plan is
//! instantiated; see `instantiate`).

use std::collections::HashMap;
use std::sync::Arc;

use api_model::{Api, DubboTarget};

use super::plan::{CallPlan, RoutePlan};
use super::policies::ApiChains;
use super::{BuildError, Routes, rule};
use crate::call::DubboPlan;
use crate::error::is_mappable_status;
use crate::mapping::dubbo::{ArgsPlan, Classes, PojoForm, ReplyOptions};

/// `client` is the index of the API's client among the plan's Dubbo clients.
pub fn add_routes(
    api: &Api,
    target: &DubboTarget,
    client: usize,
    chains: &mut ApiChains<'_>,
    routes: &mut Routes,
) -> Result<(), BuildError> {
    let fail = |problem: String| BuildError::one(format!("api `{}`: {problem}", api.name));
    let rule = api
        .http
        .as_ref()
        .ok_or_else(|| fail("a dubbo api needs an `http` rule".into()))?;
    let exceptions = target
        .exceptions
        .iter()
        .map(|(class, status)| {
            if is_mappable_status(*status) {
                Ok((class.clone(), *status))
            } else {
                Err(fail(format!("{status} is not a status")))
            }
        })
        .collect::<Result<HashMap<_, _>, _>>()?;
    // Generic calls carry POJOs as maps with a `class` key; direct calls as typed objects.
    let form = if target.generic {
        PojoForm::Map
    } else {
        PojoForm::Object
    };

    let attachments: Arc<[(String, String)]> = api
        .metadata
        .iter()
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    let classes = Classes::compile(&target.classes).map_err(|err| fail(err.to_string()))?;
    for binding in rule.bindings() {
        let binding = rule::parse(binding).map_err(fail)?;
        let args = ArgsPlan::compile(&target.params, &binding.variables, form, &classes)
            .map_err(|err| fail(format!("{}: {err}", binding.path)))?;
        let plan = DubboPlan {
            interface: target.interface.clone(),
            method: target.method.clone(),
            version: target.version.clone(),
            group: target.group.clone(),
            generic: target.generic,
            parameter_types: args.parameter_types(),
            args,
            reply: ReplyOptions {
                include_class: target.include_class,
                longs: target.longs,
            },
            exceptions: exceptions.clone(),
            timeout: api.timeout,
            attachments: attachments.clone(),
        };
        let runtime = chains
            .for_route(&target.method, &binding.verb, &binding.path)
            .map_err(fail)?;
        let route = RoutePlan {
            api: runtime,
            call: CallPlan::Dubbo { client, plan },
            label: Arc::from(format!("{} {}", binding.verb, binding.path)),
        };
        routes
            .add(api.host.as_deref(), binding.verb, binding.template, route)
            .map_err(|err| fail(err.to_string()))?;
    }
    Ok(())
}
