//! Builds published definitions into an immutable [`Snapshot`] the hot path reads, off the hot path.
//!
//! - `schemas`: loads each schema source into a descriptor pool (files, descriptor sets, reflection).
//! - `dubbo_api`: one Dubbo API → its route, with compiled parameter bindings and the backend's client.
//! - `grpc_api`: one API definition → its routes, each with a compiled mapping and a pooled client.
//! - `chain`: the per-API interceptor order, in one place.
//!
//! Everything that can be wrong with a definition is found here; a request never parses config.

mod chain;
mod dubbo_api;
mod grpc_api;
mod schemas;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use api_model::Config;

use crate::access::{RouteTable, RouteTableBuilder};
use crate::interceptors::{Endpoint, Interceptor};
use crate::invoke::dubbo::DubboPool;
use crate::invoke::dubbo::registry::Registries;
use crate::invoke::grpc::ChannelPool;

pub use chain::api_chain;

/// What every request of one config revision sees. Swapped whole; never mutated.
pub struct Snapshot {
    /// Identifies the definitions (a content hash in standalone mode).
    pub revision: String,
    pub built_at: SystemTime,
    pub routes: RouteTable<Arc<Route>>,
    pub api_count: usize,
}

impl Snapshot {
    /// The snapshot before any config loaded: every request is a 404.
    pub fn empty() -> Self {
        Snapshot {
            revision: String::new(),
            built_at: SystemTime::now(),
            routes: RouteTableBuilder::new().build(),
            api_count: 0,
        }
    }
}

/// One route's target: the API it belongs to (its chain) and the call at the chain's centre.
pub struct Route {
    pub api: Arc<ApiRuntime>,
    pub call: Arc<dyn Endpoint>,
}

/// Per-API runtime state shared by all its routes.
pub struct ApiRuntime {
    pub name: String,
    pub chain: Vec<Arc<dyn Interceptor>>,
}

/// What a build needs besides the definitions.
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

/// Validates and builds a revision. Either every API builds, or the revision is refused whole.
pub async fn build(
    config: &Config,
    revision: String,
    context: &BuildContext,
) -> Result<Snapshot, BuildError> {
    config.validate().map_err(|err| BuildError {
        problems: err.problems,
    })?;
    let pools = schemas::load(config, context).await?;
    let mut routes = RouteTableBuilder::new();
    let mut problems = Vec::new();
    for api in &config.apis {
        let Some(backend) = config.backend(&api.backend) else {
            continue;
        };
        let added = match (&api.grpc, &api.dubbo) {
            (Some(target), _) => match context.channels.channel(backend).await {
                Ok(channel) => grpc_api::add_routes(api, target, &pools, channel, &mut routes),
                Err(problem) => Err(BuildError::one(problem)),
            },
            (_, Some(target)) => {
                dubbo_api::add_routes(api, target, backend, context, &mut routes).await
            }
            // `validate` already refused an API with neither.
            (None, None) => Ok(()),
        };
        if let Err(err) = added {
            problems.extend(err.problems);
        }
    }
    if !problems.is_empty() {
        return Err(BuildError { problems });
    }
    context.channels.retain(&config.backends);
    Ok(Snapshot {
        revision,
        built_at: SystemTime::now(),
        routes: routes.build(),
        api_count: config.apis.len(),
    })
}
