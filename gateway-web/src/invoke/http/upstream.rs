//! `Upstream`: one HTTP backend's endpoints, balancer, health and pooled client. A request takes a
//! [`Lease`] on one endpoint (counted in flight until the response body is done) and reports how the
//! exchange went, which drives passive ejection.

use std::sync::Arc;
use std::time::{Duration, Instant};

use api_model::upstream::{HostHeader, HttpBackend, HttpBalance, Outlier};
use api_model::{Backend, upstream::HashOn};
use std::sync::atomic::Ordering;

use super::balance::Balancer;
use super::client::HttpClient;
use super::endpoint::{Endpoint, Health};
use crate::error::{ErrorKind, GatewayError};

pub struct Upstream {
    /// The backend's name, for messages.
    pub name: String,
    endpoints: Vec<Endpoint>,
    balancer: Balancer,
    /// What a consistent hash reads; `None` for the other strategies.
    pub hash_on: Option<HashOn>,
    outlier: Outlier,
    pub host: HostHeader,
    pub client: HttpClient,
}

impl Upstream {
    /// The pure half: endpoints and balancer from the definition (the client is made by the caller).
    pub fn new(backend: &Backend, client: HttpClient) -> Result<Upstream, String> {
        let settings = backend.http.clone().unwrap_or_default();
        let endpoints = parse_endpoints(backend, &settings)?;
        let (balancer, hash_on) = match &settings.balance {
            HttpBalance::RoundRobin => (Balancer::round_robin(&endpoints), None),
            HttpBalance::LeastRequest => (Balancer::LeastRequest, None),
            HttpBalance::ConsistentHash { on } => (
                Balancer::consistent_hash(&endpoints),
                Some(HashOn::parse(on).ok_or_else(|| format!("consistent_hash on `{on}`"))?),
            ),
        };
        Ok(Upstream {
            name: backend.name.clone(),
            endpoints,
            balancer,
            hash_on,
            outlier: settings.outlier,
            host: settings.host,
            client,
        })
    }

    /// An available endpoint, or 503 at once when none is.
    pub fn lease(self: &Arc<Self>, key: Option<&[u8]>) -> Result<Lease, GatewayError> {
        let index = self
            .balancer
            .pick(&self.endpoints, key, Instant::now())
            .ok_or_else(|| {
                GatewayError::new(
                    ErrorKind::NoHealthyUpstream,
                    format!(
                        "backend `{}` has no healthy endpoint (every one is ejected or failing its health check)",
                        self.name
                    ),
                )
            })?;
        self.endpoints[index]
            .in_flight
            .fetch_add(1, Ordering::Relaxed);
        Ok(Lease {
            upstream: self.clone(),
            index,
        })
    }

    pub fn endpoints(&self) -> &[Endpoint] {
        &self.endpoints
    }

    /// Whether one more endpoint may be ejected: at most `max_ejected_percent` of the pool, but always
    /// one, so a single bad endpoint of a small pool still leaves it.
    fn may_eject(&self) -> bool {
        let now = Instant::now();
        let ejected = self
            .endpoints
            .iter()
            .filter(|e| e.health(now) == Health::Ejected)
            .count();
        let cap = (self.endpoints.len() * self.outlier.max_ejected_percent as usize / 100).max(1);
        ejected < cap
    }

    /// Endpoints and their health, for `/readyz`.
    pub fn status(&self) -> serde_json::Value {
        let now = Instant::now();
        let endpoints: Vec<_> = self
            .endpoints
            .iter()
            .map(|e| {
                serde_json::json!({
                    "address": e.address,
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
            let mut streaks: Vec<(u32, u32)> = Vec::new();
            let mut tick = tokio::time::interval(check.interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(upstream) = weak.upgrade() else {
                    return;
                };
                streaks.resize(upstream.endpoints.len(), (0, 0));
                let probes = upstream
                    .endpoints
                    .iter()
                    .map(|endpoint| probe(&upstream.client, endpoint, &check.path, check.timeout));
                let results = futures::future::join_all(probes).await;
                for ((endpoint, passed), (passes, failures)) in upstream
                    .endpoints
                    .iter()
                    .zip(results)
                    .zip(streaks.iter_mut())
                {
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
    index: usize,
}

impl Lease {
    pub fn endpoint(&self) -> &Endpoint {
        &self.upstream.endpoints[self.index]
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
