//! `Plan` → `Snapshot`: the step of a build that reaches the network. Each gRPC backend gets its pooled
//! channel (pre-warmed when it answers), each HTTP backend its upstream pool (client, health checks),
//! each Dubbo API a client over its providers (static, or a
//! watched ZooKeeper registry, whose first listing is awaited). Pools outlive snapshots, so an unchanged
//! backend is not reconnected.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use api_model::Backend;
use tonic::transport::Channel;

use super::plan::{CallPlan, DubboClientPlan, Plan};
use super::{BuildContext, BuildError};
use crate::call::{Call, DubboCall, GrpcCall, HttpCall};
use crate::invoke::dubbo::registry::Wire;
use crate::invoke::dubbo::{Balance, ClientSettings, DubboClient, Provider, ProviderSet};
use crate::invoke::grpc::GrpcClient;
use crate::invoke::http::{Upstream, registry};
use crate::snapshot::{Route, Snapshot};

/// How long the first listing of a registry may take before the revision is refused.
const REGISTRY_TIMEOUT: Duration = Duration::from_secs(5);

pub async fn instantiate(
    plan: Plan,
    revision: String,
    context: &BuildContext,
) -> Result<Snapshot, BuildError> {
    let mut channels: Vec<Option<Channel>> = vec![None; plan.backends.len()];
    let mut problems = Vec::new();
    for route in plan.routes.targets() {
        if let CallPlan::Grpc { backend, .. } = &route.call
            && channels[*backend].is_none()
        {
            match context.channels.channel(&plan.backends[*backend]).await {
                Ok(channel) => channels[*backend] = Some(channel),
                Err(problem) => problems.push(problem),
            }
        }
    }
    let mut upstreams = vec![None; plan.backends.len()];
    for route in plan.routes.targets() {
        if let CallPlan::Http { backend, .. } = &route.call
            && upstreams[*backend].is_none()
        {
            let definition = &plan.backends[*backend];
            match context.upstreams.upstream(definition, &context.base_dir) {
                Ok(upstream) => match context.follow_registry(definition, &upstream).await {
                    Ok(()) => upstreams[*backend] = Some(upstream),
                    Err(problem) => problems.push(problem),
                },
                Err(problem) => problems.push(problem),
            }
        }
    }
    let mut dubbo = Vec::with_capacity(plan.dubbo_clients.len());
    for client in &plan.dubbo_clients {
        match context.dubbo_client(client).await {
            Ok(made) => dubbo.push(made),
            Err(problem) => problems.push(format!("api `{}`: {problem}", client.api)),
        }
    }
    if !problems.is_empty() {
        return Err(BuildError { problems });
    }
    let routes = plan.routes.try_map(|route| {
        let call = match route.call {
            CallPlan::Grpc { backend, plan } => {
                let channel = channels[backend]
                    .clone()
                    .ok_or_else(|| BuildError::one("a gRPC route lost its channel"))?;
                Call::Grpc(GrpcCall {
                    plan,
                    client: GrpcClient::new(channel),
                })
            }
            CallPlan::Dubbo { client, plan } => Call::Dubbo(DubboCall {
                plan,
                client: dubbo[client].clone(),
            }),
            CallPlan::Http { backend, plan } => Call::Http(HttpCall {
                plan,
                upstream: upstreams[backend]
                    .clone()
                    .ok_or_else(|| BuildError::one("an HTTP route lost its upstream"))?,
            }),
        };
        Ok::<_, BuildError>(Arc::new(Route {
            api: route.api,
            call,
            label: route.label,
        }))
    })?;
    context.channels.retain(&plan.backends);
    context.upstreams.retain(&plan.backends);
    Ok(Snapshot {
        revision,
        built_at: SystemTime::now(),
        routes,
        api_count: plan.api_count,
        trusted_proxies: plan.trusted_proxies,
    })
}

impl BuildContext {
    /// For an HTTP backend whose endpoints a ZooKeeper registry lists: the first listing (bounded, an
    /// unreachable ensemble refuses the revision), then a follower, once per upstream.
    async fn follow_registry(
        &self,
        backend: &Backend,
        upstream: &Arc<Upstream>,
    ) -> Result<(), String> {
        let Some(http) = &backend.http else {
            return Ok(());
        };
        let Some(zk) = &http.zookeeper else {
            return Ok(());
        };
        if !upstream.claim_registry() {
            return Ok(());
        }
        match self
            .registries
            .providers(
                &zk.address,
                &zk.root,
                &zk.service,
                Wire::Http,
                REGISTRY_TIMEOUT,
            )
            .await
        {
            Ok(providers) => {
                registry::follow(upstream, providers, http.weights.clone());
                Ok(())
            }
            Err(problem) => {
                upstream.release_registry();
                Err(format!("backend `{}`: {problem}", backend.name))
            }
        }
    }

    /// A client over the backend's providers for one interface: a static list, or a watched registry.
    /// Connections come from the shared pool, so a rebuild reuses them.
    async fn dubbo_client(&self, plan: &DubboClientPlan) -> Result<DubboClient, String> {
        let backend: &Backend = &plan.backend;
        let options = backend.dubbo.clone().unwrap_or_default();
        let settings = client_settings(backend, &options);
        let providers = match &options.zookeeper {
            Some(zk) => {
                self.registries
                    .providers(
                        &zk.address,
                        &zk.root,
                        &plan.target.interface,
                        Wire::Dubbo,
                        REGISTRY_TIMEOUT,
                    )
                    .await?
            }
            None => ProviderSet::fixed(
                backend
                    .endpoints
                    .iter()
                    .map(|address| Provider {
                        tls: false,
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

/// A Dubbo backend's definition as the client's settings.
fn client_settings(backend: &Backend, options: &api_model::DubboBackend) -> ClientSettings {
    ClientSettings {
        connections_per_provider: options.connections.max(1),
        heartbeat: options.heartbeat,
        payload_limit: options.payload_limit,
        connect_timeout: backend.connect_timeout,
        backoff_min: options.reconnect_min,
        backoff_max: options.reconnect_max,
        balance: match options.balance {
            api_model::Balance::RoundRobin => Balance::RoundRobin,
            api_model::Balance::Random => Balance::Random,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dubbo_backends_settings_reach_its_client() {
        let config = api_model::Config::from_yaml(
            "backends:\n  - name: users\n    protocol: dubbo\n    endpoints: [\"127.0.0.1:20880\"]\n    connect_timeout: 700ms\n    dubbo: { connections: 3, heartbeat: 5s, payload_limit: 4096, balance: random, reconnect_min: 50ms, reconnect_max: 2s }\n",
        )
        .expect("parses");
        let backend = &config.backends[0];
        let settings = client_settings(backend, backend.dubbo.as_ref().expect("dubbo"));
        assert_eq!(settings.connections_per_provider, 3);
        assert_eq!(settings.heartbeat, Duration::from_secs(5));
        assert_eq!(settings.payload_limit, 4096);
        assert_eq!(settings.connect_timeout, Duration::from_millis(700));
        assert_eq!(settings.backoff_min, Duration::from_millis(50));
        assert_eq!(settings.backoff_max, Duration::from_secs(2));
        assert!(matches!(settings.balance, Balance::Random));
    }
}
