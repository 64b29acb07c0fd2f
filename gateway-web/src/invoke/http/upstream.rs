//! `Upstream`: one HTTP backend's endpoints, balancer, health and pooled client. A request takes a
//! [`Lease`] on one endpoint (counted in flight until the response body is done) and reports how the
//! exchange went, which drives passive ejection. The endpoint set is swapped whole when DNS answers
//! change it; an endpoint that stays keeps its health, and a lease keeps its endpoint alive.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use api_model::upstream::{HostHeader, HttpBackend, HttpBalance, Outlier};
use api_model::{Backend, upstream::HashOn};
use arc_swap::ArcSwap;
use std::sync::atomic::{AtomicBool, Ordering};

use super::balance::Balancer;
use super::client::HttpClient;
use super::endpoint::{Endpoint, Health};
use crate::error::{ErrorKind, GatewayError};

pub struct Upstream {
    /// The backend's name, for messages.
    pub name: String,
    /// The endpoints as configured (host names unresolved): what DNS discovery resolves.
    pub configured: Vec<Endpoint>,
    members: ArcSwap<Members>,
    balance: HttpBalance,
    /// What a consistent hash reads; `None` for the other strategies.
    pub hash_on: Option<HashOn>,
    outlier: Outlier,
    pub host: HostHeader,
    pub client: HttpClient,
    /// Set once a registry follower feeds the endpoint set (one per upstream, across rebuilds).
    registry_claimed: AtomicBool,
}

/// The endpoints requests go to now, and the balancer built over them.
struct Members {
    endpoints: Vec<Arc<Endpoint>>,
    balancer: Balancer,
}

impl Members {
    fn new(endpoints: Vec<Arc<Endpoint>>, balance: &HttpBalance) -> Members {
        let balancer = match balance {
            HttpBalance::RoundRobin => Balancer::round_robin(&endpoints),
            HttpBalance::LeastRequest => Balancer::LeastRequest,
            HttpBalance::ConsistentHash { .. } => Balancer::consistent_hash(&endpoints),
        };
        Members {
            endpoints,
            balancer,
        }
    }
}

impl Upstream {
    /// The pure half: endpoints and balancer from the definition (the client is made by the caller).
    pub fn new(backend: &Backend, client: HttpClient) -> Result<Upstream, String> {
        let settings = backend.http.clone().unwrap_or_default();
        let hash_on = match &settings.balance {
            HttpBalance::ConsistentHash { on } => {
                Some(HashOn::parse(on).ok_or_else(|| format!("consistent_hash on `{on}`"))?)
            }
            _ => None,
        };
        let configured = parse_endpoints(backend, &settings)?;
        let endpoints = parse_endpoints(backend, &settings)?
            .into_iter()
            .map(Arc::new)
            .collect();
        Ok(Upstream {
            name: backend.name.clone(),
            configured,
            members: ArcSwap::from_pointee(Members::new(endpoints, &settings.balance)),
            balance: settings.balance,
            hash_on,
            outlier: settings.outlier,
            host: settings.host,
            client,
            registry_claimed: AtomicBool::new(false),
        })
    }

    /// True for the first caller: that one starts the registry follower.
    pub fn claim_registry(&self) -> bool {
        !self.registry_claimed.swap(true, Ordering::AcqRel)
    }

    /// Gives the claim back (the first listing failed; the next build tries again).
    pub fn release_registry(&self) {
        self.registry_claimed.store(false, Ordering::Release);
    }

    /// Replaces the endpoint set: an address already present keeps its endpoint (its health,
    /// ejection and requests in flight); the balancer is rebuilt over the new set.
    pub fn replace_endpoints(&self, fresh: Vec<Endpoint>) {
        let current = self.members.load();
        let mut kept: HashMap<&str, &Arc<Endpoint>> = current
            .endpoints
            .iter()
            .map(|e| (e.address.as_str(), e))
            .collect();
        let endpoints: Vec<Arc<Endpoint>> = fresh
            .into_iter()
            .map(|e| match kept.remove(e.address.as_str()) {
                Some(existing) => existing.clone(),
                None => Arc::new(e),
            })
            .collect();
        self.members
            .store(Arc::new(Members::new(endpoints, &self.balance)));
    }

    /// An available endpoint, or 503 at once when none is.
    pub fn lease(self: &Arc<Self>, key: Option<&[u8]>) -> Result<Lease, GatewayError> {
        let members = self.members.load();
        let index = members
            .balancer
            .pick(&members.endpoints, key, Instant::now())
            .ok_or_else(|| {
                GatewayError::new(
                    ErrorKind::NoHealthyUpstream,
                    format!(
                        "backend `{}` has no healthy endpoint (every one is ejected or failing its health check)",
                        self.name
                    ),
                )
            })?;
        let endpoint = members.endpoints[index].clone();
        endpoint.in_flight.fetch_add(1, Ordering::Relaxed);
        Ok(Lease {
            upstream: self.clone(),
            endpoint,
        })
    }

    /// The endpoints requests go to now.
    pub fn endpoints(&self) -> Vec<Arc<Endpoint>> {
        self.members.load().endpoints.clone()
    }

    /// Whether one more endpoint may be ejected: at most `max_ejected_percent` of the pool, but always
    /// one, so a single bad endpoint of a small pool still leaves it.
    fn may_eject(&self) -> bool {
        let now = Instant::now();
        let members = self.members.load();
        let ejected = members
            .endpoints
            .iter()
            .filter(|e| e.health(now) == Health::Ejected)
            .count();
        let cap =
            (members.endpoints.len() * self.outlier.max_ejected_percent as usize / 100).max(1);
        ejected < cap
    }

    /// Endpoints and their health, for `/readyz`.
    pub fn status(&self) -> serde_json::Value {
        let now = Instant::now();
        let endpoints: Vec<_> = self
            .members
            .load()
            .endpoints
            .iter()
            .map(|e| {
                serde_json::json!({
                    "address": e.address,
                    "resolved_from": e.resolved_from,
                    "weight": e.weight,
                    "health": match e.health(now) {
                        Health::Healthy => "healthy",
                        Health::Unhealthy => "unhealthy",
                        Health::Ejected => "ejected",
                    },
                    "in_flight": e.in_flight.load(Ordering::Relaxed),
                })
            })
            .collect();
        serde_json::json!({ "backend": self.name, "endpoints": endpoints })
    }

    /// Probes every endpoint once per interval until the upstream is dropped; `healthy` passes in a
    /// row bring an endpoint back, `unhealthy` failures in a row take it out.
    pub fn spawn_health_checks(self: &Arc<Self>, check: api_model::upstream::ActiveHealth) {
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            // Passes and failures in a row, by address: the set may change between ticks.
            let mut streaks: HashMap<String, (u32, u32)> = HashMap::new();
            let mut tick = tokio::time::interval(check.interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(upstream) = weak.upgrade() else {
                    return;
                };
                let endpoints = upstream.endpoints();
                streaks.retain(|address, _| endpoints.iter().any(|e| e.address == *address));
                let probes = endpoints
                    .iter()
                    .map(|endpoint| probe(&upstream.client, endpoint, &check.path, check.timeout));
                let results = futures::future::join_all(probes).await;
                for (endpoint, passed) in endpoints.iter().zip(results) {
                    let (passes, failures) = streaks.entry(endpoint.address.clone()).or_default();
                    if passed {
                        *passes += 1;
                        *failures = 0;
                        if *passes >= check.healthy_threshold {
                            endpoint.set_checked(true);
                        }
                    } else {
                        *failures += 1;
                        *passes = 0;
                        if *failures >= check.unhealthy_threshold {
                            endpoint.set_checked(false);
                        }
                    }
                }
            }
        });
    }
}

async fn probe(client: &HttpClient, endpoint: &Endpoint, path: &str, timeout: Duration) -> bool {
    let uri = format!("{}://{}{path}", endpoint.scheme, endpoint.authority);
    let Ok(request) = http::Request::get(uri)
        .header(http::header::USER_AGENT, "gateway-health-check")
        .header(http::header::HOST, endpoint.host_header.clone())
        .body(axum::body::Body::empty())
    else {
        return false;
    };
    match tokio::time::timeout(timeout, client.request(request)).await {
        Ok(Ok(response)) => {
            let status = response.status();
            status.is_success() || status.is_redirection()
        }
        _ => false,
    }
}

fn parse_endpoints(backend: &Backend, settings: &HttpBackend) -> Result<Vec<Endpoint>, String> {
    backend
        .endpoints
        .iter()
        .map(|address| {
            let weight = settings.weights.get(address).copied().unwrap_or(1);
            Endpoint::parse(address, weight)
        })
        .collect()
}

/// One request's hold on an endpoint: counted in flight until dropped.
pub struct Lease {
    upstream: Arc<Upstream>,
    endpoint: Arc<Endpoint>,
}

impl Lease {
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    pub fn upstream(&self) -> &Upstream {
        &self.upstream
    }

    /// The upstream answered below 500.
    pub fn succeeded(&self) {
        self.endpoint().record_success();
    }

    /// A 5xx, or no answer at all.
    pub fn failed(&self) {
        let may_eject = self.upstream.may_eject();
        self.endpoint()
            .record_failure(&self.upstream.outlier, may_eject);
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.endpoint().in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replaced_set_keeps_the_endpoints_that_stay_with_their_health() {
        let backend: Backend = serde_json::from_value(serde_json::json!({
            "name": "b", "protocol": "http", "endpoints": ["http://10.0.0.1:80", "http://10.0.0.2:80"]
        }))
        .unwrap();
        let settings = HttpBackend::default();
        let client =
            super::super::client(&settings, Duration::from_secs(1), std::path::Path::new("."))
                .unwrap();
        let upstream = Upstream::new(&backend, client).unwrap();
        let before = upstream.endpoints();
        before[0].set_checked(false);
        upstream.replace_endpoints(vec![
            Endpoint::parse("http://10.0.0.1:80", 1).unwrap(),
            Endpoint::parse("http://10.0.0.3:80", 1).unwrap(),
        ]);
        let after = upstream.endpoints();
        assert!(Arc::ptr_eq(&after[0], &before[0]));
        assert_eq!(after[0].health(Instant::now()), Health::Unhealthy);
        assert_eq!(after[1].address, "http://10.0.0.3:80");
        assert_eq!(after.len(), 2);
    }
}
