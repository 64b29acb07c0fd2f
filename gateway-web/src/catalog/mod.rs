//! Builds published definitions into the immutable [`Snapshot`] the hot path reads, off the hot path,
//! in three steps:
//!
//! 1. `schemas::load`: descriptor pools from each schema source (reads `.proto` files and descriptor
//!    sets from disk, pulls by reflection). [`check`] uses only the sources a document embeds and does
//!    no I/O at all.
//! 2. [`compile`], pure: definitions + pools → a [`Plan`]. Every route's template, mapping, argument
//!    plan, exception table and policy chain; every conflict between routes. Everything that can be
//!    wrong with a definition is found here; a request never parses config.
//! 3. `instantiate`: plan → snapshot by attaching clients (gRPC channels, Dubbo connections,
//!    ZooKeeper watches) from pools that outlive snapshots.
//!
//! Layout: `rule` (one HTTP binding → verb + template, for every protocol), `grpc_api`, `dubbo_api`
//! and `http_api` (one API → its route plans), `policies` (which policies apply to a route), `plan`, `instantiate`.

mod dubbo_api;
mod grpc_api;
mod http_api;
mod instantiate;
mod plan;
mod policies;
mod rule;
mod schemas;
#[cfg(test)]
mod tests;

use std::path::PathBuf;

use api_model::{Config, Target};

use crate::access::client_ip::TrustedProxies;
use crate::access::{RouteTable, RouteTableBuilder};
use crate::interceptors::auth::consumers::Consumers;
use crate::interceptors::chain::ChainContext;
use crate::invoke::dubbo::DubboPool;
use crate::invoke::dubbo::registry::Registries;
use crate::invoke::grpc::ChannelPool;
use crate::invoke::http::UpstreamPool;
use crate::snapshot::Snapshot;
use crate::stores::Services;

pub use plan::{CallPlan, Plan, RoutePlan};
pub use schemas::Pools;

/// The route table a plan is compiled into.
type Routes = RouteTableBuilder<RoutePlan>;

/// What a build needs besides the definitions: where relative paths resolve, and the connection pools
/// that outlive snapshots.
#[derive(Clone, Default)]
pub struct BuildContext {
    /// Relative schema paths resolve against it (the config file's directory).
    pub base_dir: PathBuf,
    /// Channels outlive snapshots; a build reuses them.
    pub channels: ChannelPool,
    /// Dubbo provider connections, likewise shared across snapshots.
    pub dubbo: DubboPool,
    /// Registry sessions and watchers, likewise.
    pub registries: Registries,
    /// HTTP upstreams (connections, health, ejections), likewise.
    pub upstreams: UpstreamPool,
    /// What policies share beyond a snapshot: Redis, nonces, JWKS, the secret key.
    pub services: Services,
}

/// Why a revision was refused; every problem, each naming the item.
#[derive(Debug, thiserror::Error)]
#[error("{}", .problems.join("; "))]
pub struct BuildError {
    pub problems: Vec<String>,
}

impl BuildError {
    fn one(problem: impl Into<String>) -> Self {
        BuildError {
            problems: vec![problem.into()],
        }
    }
}

/// Validates and builds a revision: load, compile, instantiate. Either every API builds, or the
/// revision is refused whole.
pub async fn build(
    config: &Config,
    revision: String,
    context: &BuildContext,
) -> Result<Snapshot, BuildError> {
    validate(config)?;
    let pools = schemas::load(config, context).await?;
    let plan = compile(config, &pools, &context.services)?;
    instantiate::instantiate(plan, revision, context).await
}

/// Everything [`build`] checks, without opening a file or a connection: what the portal runs before it
/// saves or publishes. Schemas must be embedded (`descriptor_set_base64`), as published revisions are;
/// `services` supplies the key sealed secrets open with (nothing in it is connected to).
pub fn check(config: &Config, services: &Services) -> Result<Plan, BuildError> {
    validate(config)?;
    let pools = Pools::embedded(config)?;
    compile(config, &pools, services)
}

fn validate(config: &Config) -> Result<(), BuildError> {
    config.validate().map_err(|err| BuildError {
        problems: err.problems,
    })
}

/// Definitions + descriptor pools → a plan. Pure: no I/O, no clients (the stores in `services` are
/// handed to interceptors, not used).
pub fn compile(config: &Config, pools: &Pools, services: &Services) -> Result<Plan, BuildError> {
    let consumers = std::sync::Arc::new(
        Consumers::build(&config.consumers, services)
            .map_err(|problems| BuildError { problems })?,
    );
    let context = ChainContext {
        consumers,
        services,
    };
    let mut routes = Routes::new();
    let mut dubbo_clients = Vec::new();
    let mut problems = Vec::new();
    for api in &config.apis {
        let Some(backend) = config.backends.iter().position(|b| b.name == api.backend) else {
            continue;
        };
        let mut chains = policies::ApiChains::new(api, &config.policies, &context);
        let added = match api.target() {
            Some(Target::Grpc(target)) => ChannelPool::check(&config.backends[backend])
                .map_err(BuildError::one)
                .and_then(|()| {
                    grpc_api::add_routes(api, target, pools, backend, &mut chains, &mut routes)
                }),
            Some(Target::Dubbo(target)) => {
                dubbo_clients.push(plan::DubboClientPlan {
                    api: api.name.clone(),
                    backend: config.backends[backend].clone(),
                    target: target.clone(),
                });
                let client = dubbo_clients.len() - 1;
                dubbo_api::add_routes(api, target, client, &mut chains, &mut routes)
            }
            Some(Target::Http(target)) => UpstreamPool::check(&config.backends[backend])
                .map_err(BuildError::one)
                .and_then(|()| {
                    http_api::add_routes(api, target, backend, &mut chains, &mut routes)
                }),
            // `validate` already refused an API with no target or several.
            None => Ok(()),
        };
        if let Err(err) = added {
            problems.extend(err.problems);
        }
        problems.extend(chains.unused());
    }
    if !problems.is_empty() {
        return Err(BuildError { problems });
    }
    Ok(Plan {
        routes: routes.build(),
        api_count: config.apis.len(),
        backends: config.backends.clone(),
        dubbo_clients,
        trusted_proxies: TrustedProxies::new(config.trusted_proxies.clone()),
    })
}

impl Plan {
    /// The compiled routes, for callers that list what a revision publishes.
    pub fn routes(&self) -> &RouteTable<RoutePlan> {
        &self.routes
    }
}
