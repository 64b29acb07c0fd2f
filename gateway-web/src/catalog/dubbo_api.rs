//! One Dubbo API definition → its routes: the explicit rule's bindings, each with a compiled argument
//! plan, sharing one client over the backend's providers (pooled connections live in the build context).

use std::collections::HashMap;
use std::sync::Arc;

use api_model::{Api, Backend, DubboTarget};
use http::StatusCode;

use super::{ApiRuntime, BuildContext, BuildError, Route, api_chain};
use crate::access::{PathTemplate, RouteTableBuilder};
use crate::invoke::dubbo::{Balance, ClientSettings, DubboClient, Provider, ProviderSet};
use crate::mapping::dubbo::{ArgsPlan, PojoForm, ReplyOptions};
use crate::pipeline::DubboCall;

pub async fn add_routes(
    api: &Api,
    target: &DubboTarget,
    backend: &Backend,
    context: &BuildContext,
    routes: &mut RouteTableBuilder<Arc<Route>>,
) -> Result<(), BuildError> {
    let fail = |problem: String| BuildError::one(format!("api `{}`: {problem}", api.name));
    let rule = api
        .http
        .as_ref()
        .ok_or_else(|| fail("a dubbo api needs an `http` rule".into()))?;
    let client = context.dubbo_client(backend, target).await.map_err(fail)?;
    let runtime = Arc::new(ApiRuntime {
        name: api.name.clone(),
        chain: api_chain(api),
    });
    let exceptions = target
        .exceptions
        .iter()
        .map(|(class, status)| {
            StatusCode::from_u16(*status)
                .map(|s| (class.clone(), s))
                .map_err(|_| fail(format!("{status} is not a status")))
        })
        .collect::<Result<HashMap<_, _>, _>>()?;
    // Generic calls carry POJOs as maps with a `class` key; direct calls as typed objects.
    let form = if target.generic {
        PojoForm::Map
    } else {
        PojoForm::Object
    };

    for binding in rule.bindings() {
        let (verb, path) = binding.pattern().ok_or_else(|| {
            fail("an http rule needs exactly one of get, put, post, delete, patch, custom".into())
        })?;
        let verb = http::Method::from_bytes(verb.as_str().as_bytes())
            .map_err(|_| fail(format!("`{}` is not an HTTP method", verb.as_str())))?;
        let template = PathTemplate::parse(path).map_err(|err| fail(err.to_string()))?;
        let variables: Vec<String> = template
            .variables()
            .iter()
            .map(|v| v.field_path.clone())
            .collect();
        let args = ArgsPlan::compile(&target.params, &variables, form)
            .map_err(|err| fail(format!("{path}: {err}")))?;
        let call = DubboCall {
            client: client.clone(),
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
        };
        let route = Arc::new(Route {
            api: runtime.clone(),
            call: Arc::new(call),
        });
        routes
            .add(api.host.as_deref(), verb, template, route)
            .map_err(|err| fail(err.to_string()))?;
    }
    Ok(())
}

/// How long the first listing of a registry may take before the revision is refused.
const REGISTRY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

impl BuildContext {
    /// A client over the backend's providers for one interface: a static list, or a watched registry.
    /// Connections come from the shared pool, so a rebuild reuses them.
    async fn dubbo_client(
        &self,
        backend: &Backend,
        target: &DubboTarget,
    ) -> Result<DubboClient, String> {
        let options = backend.dubbo.clone().unwrap_or_default();
        let settings = ClientSettings {
            connections_per_provider: options.connections.max(1),
            heartbeat: options.heartbeat,
            payload_limit: options.payload_limit,
            connect_timeout: backend.connect_timeout,
            balance: match options.balance {
                api_model::Balance::RoundRobin => Balance::RoundRobin,
                api_model::Balance::Random => Balance::Random,
            },
            ..ClientSettings::default()
        };
        let providers = match &options.zookeeper {
            Some(zk) => {
                self.registries
                    .providers(&zk.address, &zk.root, &target.interface, REGISTRY_TIMEOUT)
                    .await?
            }
            None => ProviderSet::fixed(
                backend
                    .endpoints
                    .iter()
                    .map(|address| Provider {
                        address: address.clone(),
                        version: None,
                        group: None,
                    })
                    .collect(),
            ),
        };
        Ok(DubboClient::new(providers, self.dubbo.clone(), settings))
    }
}
