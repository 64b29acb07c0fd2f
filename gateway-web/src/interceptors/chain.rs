//! The order every chain runs in, fixed here and nowhere else. A definition chooses which policies apply
//! to a route (`api_model::policy`); it cannot choose their order.
//!
//! Adding a policy is one file in this folder and one arm in [`step`], which names the policy's
//! [`Stage`]; the stage decides where it runs.

use std::sync::Arc;

use api_model::{Api, Policy};
use http::HeaderName;

use super::Interceptor;
use super::auth::api_key::ApiKey;
use super::auth::certificate::ClientCertificate;
use super::auth::consumers::Consumers;
use super::auth::external::ExternalAuth;
use super::auth::http_signature::HttpSignature;
use super::auth::jwt::Jwt;
use super::auth::signature::Signature;
use super::breaker::CircuitBreaker;
use super::concurrency::Concurrency;
use super::cors::Cors;
use super::deadline::Deadline;
use super::fallback::Fallback;
use super::grants::Grants;
use super::ip_rules::IpRules;
use super::outcome::FailureClass;
use super::rate_limit::RateLimit;
use super::request_id::RequestId;
use super::request_rules::RequestRules;
use super::retry::Retry;
use crate::stores::breaker::Thresholds;
use crate::stores::{Breaker, Bulkhead, RetryBudget, Services};

/// What building a chain may use: the revision's consumers, and the node's shared stores (handles
/// only: building connects to nothing).
pub struct ChainContext<'a> {
    pub consumers: Arc<Consumers>,
    pub services: &'a Services,
}

/// Before routing, for every request.
pub fn global_chain() -> Vec<Arc<dyn Interceptor>> {
    vec![
        // First of all, so every answer (a 404 and a refused credential included) carries an id.
        Arc::new(RequestId),
    ]
}

/// Where a step of an API's chain runs: the declaration order is the run order, outermost first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[allow(dead_code)] // canary and cache hold their place in the order until their policies come
pub enum Stage {
    /// Answers preflights before anything can refuse them, and puts its headers on every answer,
    /// refusals included: a browser hides a 401 without them.
    Cors,
    /// The cheapest refusal, needing only the peer address: a denied network never reaches a
    /// credential check.
    IpRules,
    /// Refusals by the request's shape (a denied user agent): as cheap, and before any credential work.
    RequestRules,
    /// Who is calling. Everything after may depend on the consumer.
    Authentication,
    /// Whether that consumer may call this API: needs the identity.
    Grants,
    /// Which version serves: rules may read the consumer, and what follows applies to the choice.
    Canary,
    /// Cluster-wide counts by consumer, API and IP: after authentication so a limit can be per
    /// consumer, before concurrency so a refused request never holds a slot.
    RateLimit,
    /// The fixed answer for a failure: outside the bulkhead, deadline, retries and breaker, so it
    /// can answer each of their refusals.
    Fallback,
    /// The bulkhead: a slot in flight per API (or backend), held for the whole call.
    Concurrency,
    /// A hit answers without the backend, so it costs no time budget and no breaker sample.
    Cache,
    /// The call's whole time budget: outside breaker and retries, so no retry runs past the caller's
    /// deadline, and around body reading and mapping, which count against it too.
    Deadline,
    /// Retries around the breaker: each attempt asks the breaker, so an open one stops them.
    Retry,
    /// Right around the call, so it sees each attempt's outcome.
    Breaker,
}

/// One route's chain, from the policies that apply to it (one per kind, most specific first, as
/// `api_model::policy::resolve` chose them) and the API's own settings.
pub fn api_chain(
    api: &Api,
    policies: &[&Policy],
    context: &ChainContext<'_>,
) -> Result<Vec<Arc<dyn Interceptor>>, String> {
    let challenge = challenge(policies);
    let mut steps = policies
        .iter()
        .map(|policy| step(api, policy, context, &challenge))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .flatten()
        .collect::<Vec<_>>();
    if policies.iter().any(|p| p.authenticates()) {
        // Authentication only says who presented what; this refuses those who presented nothing, and
        // consumers without a grant for the API.
        steps.push((
            Stage::Grants,
            Arc::new(Grants {
                api: api.name.clone(),
                group: api.group.clone(),
                consumers: context.consumers.clone(),
                challenge: challenge.clone(),
            }),
        ));
    }
    // A `timeout` policy replaces the API's own limit where it applies.
    let limit = policies
        .iter()
        .find_map(|p| match p {
            Policy::Timeout(timeout) => Some(timeout.limit),
            _ => None,
        })
        .unwrap_or(api.timeout);
    steps.push((Stage::Deadline, Arc::new(Deadline { limit })));
    // Stable: two steps of one stage keep the order they were given in.
    steps.sort_by_key(|(stage, _)| *stage);
    Ok(steps.into_iter().map(|(_, step)| step).collect())
}

/// Whether a route's policies answer CORS preflights (the router then lets an `OPTIONS` preflight
/// into the chain of the route it asks about).
pub fn answers_preflight(policies: &[&Policy]) -> bool {
    policies.iter().any(|p| matches!(p, Policy::Cors(_)))
}

/// An interceptor and the stage it runs at.
type Step = (Stage, Arc<dyn Interceptor>);

/// One policy as an interceptor and the stage it runs at: the one arm each policy kind adds.
fn step(
    api: &Api,
    policy: &Policy,
    context: &ChainContext<'_>,
    challenge: &Arc<str>,
) -> Result<Option<Step>, String> {
    let consumers = || context.consumers.clone();
    let services = context.services;
    let header = |name: &str| {
        HeaderName::from_bytes(name.to_ascii_lowercase().as_bytes())
            .map_err(|_| format!("`{name}` is not a header name"))
    };
    Ok(Some(match policy {
        Policy::Cors(spec) => (Stage::Cors, Arc::new(Cors::build(spec)?)),
        Policy::IpRules(spec) => (
            Stage::IpRules,
            Arc::new(IpRules {
                rules: spec.clone(),
            }),
        ),
        Policy::ApiKey(spec) => (
            Stage::Authentication,
            Arc::new(ApiKey {
                header: header(&spec.header)?,
                query: spec.query.clone(),
                consumers: consumers(),
                usage: services.usage.clone(),
                challenge: challenge.clone(),
            }),
        ),
        Policy::Signature(spec) => (
            Stage::Authentication,
            Arc::new(Signature {
                required_headers: spec
                    .signed_headers
                    .iter()
                    .map(|h| h.to_ascii_lowercase())
                    .collect(),
                clock_skew: spec.clock_skew,
                on_store_down: spec.on_store_down,
                consumers: consumers(),
                nonces: services.nonces.clone(),
                usage: services.usage.clone(),
            }),
        ),
        Policy::HttpSignature(spec) => (
            Stage::Authentication,
            Arc::new(HttpSignature {
                required_components: spec
                    .required_components
                    .iter()
                    .map(|c| c.to_ascii_lowercase())
                    .collect(),
                clock_skew: spec.clock_skew,
                require_nonce: spec.require_nonce,
                on_store_down: spec.on_store_down,
                consumers: consumers(),
                nonces: services.nonces.clone(),
                usage: services.usage.clone(),
            }),
        ),
        Policy::Jwt(spec) => (
            Stage::Authentication,
            Arc::new(Jwt::build(spec, consumers(), services, challenge.clone())?),
        ),
        Policy::ExternalAuth(spec) => (
            Stage::Authentication,
            Arc::new(ExternalAuth::build(
                spec,
                consumers(),
                services,
                challenge.clone(),
            )?),
        ),
        Policy::ClientCertificate(_) => (
            Stage::Authentication,
            Arc::new(ClientCertificate {
                consumers: consumers(),
                usage: services.usage.clone(),
                challenge: challenge.clone(),
            }),
        ),
        Policy::RequestRules(spec) => (
            Stage::RequestRules,
            Arc::new(RequestRules {
                deny_user_agents: spec.deny_user_agents.clone(),
                require_headers: spec
                    .require_headers
                    .iter()
                    .map(|name| header(name))
                    .collect::<Result<_, _>>()?,
            }),
        ),
        Policy::RateLimit(spec) => (
            Stage::RateLimit,
            Arc::new(RateLimit::build(spec, &api.name, services.limiter.clone())?),
        ),
        Policy::Concurrency(spec) => {
            let scope = scope_of(api, spec.per_backend);
            let name = format!("{scope} {spec:?}");
            let bulkhead = services.bulkheads.get_or(&name, || {
                Bulkhead::new(spec.max_in_flight, spec.max_queue, spec.queue_timeout)
            });
            (
                Stage::Concurrency,
                Arc::new(Concurrency { bulkhead, scope }),
            )
        }
        Policy::CircuitBreaker(spec) => {
            let scope = scope_of(api, spec.per_backend);
            let name = format!("{scope} {spec:?}");
            let breaker = services.breakers.get_or(&name, || {
                Breaker::new(
                    &scope,
                    Thresholds {
                        failure_rate: spec.failure_rate,
                        slow_call_rate: spec.slow_call_rate,
                        slow_call: spec.slow_call,
                        window: spec.window,
                        minimum_calls: spec.minimum_calls,
                        open: spec.open,
                        max_open: spec.max_open,
                        half_open_probes: spec.half_open_probes,
                    },
                )
            });
            let any = spec.failures.iter().any(|f| f == "any");
            let failures = spec
                .failures
                .iter()
                .filter_map(|f| FailureClass::parse(f))
                .collect();
            let codes = spec
                .failures
                .iter()
                .filter_map(|f| f.strip_prefix("grpc:"))
                .filter_map(grpc_code)
                .collect();
            (
                Stage::Breaker,
                Arc::new(CircuitBreaker {
                    breaker,
                    failures,
                    any,
                    codes,
                    scope,
                }),
            )
        }
        Policy::Retry(spec) => {
            let scope = scope_of(api, false);
            let name = format!("{scope} {}:{}", spec.budget, spec.min_per_second);
            let budget = services
                .retry_budgets
                .get_or(&name, || RetryBudget::new(spec.budget, spec.min_per_second));
            (
                Stage::Retry,
                Arc::new(Retry {
                    attempts: spec.attempts,
                    backoff: spec.backoff,
                    max_backoff: spec.max_backoff,
                    idempotent_failures: spec.idempotent_failures,
                    budget,
                }),
            )
        }
        Policy::Fallback(spec) => (Stage::Fallback, Arc::new(Fallback::build(spec)?)),
        // Read by the deadline step `api_chain` adds.
        Policy::Timeout(_) => return Ok(None),
    }))
}

/// A gRPC status by its name (`RESOURCE_EXHAUSTED`, any case).
fn grpc_code(name: &str) -> Option<tonic::Code> {
    let upper = name.to_ascii_uppercase();
    let at = api_model::policy::GRPC_CODES
        .iter()
        .position(|c| *c == upper)?;
    // GRPC_CODES lists the codes in their numeric order from 1.
    Some(tonic::Code::from_i32(at as i32 + 1))
}

/// What per-node state is kept for: the API, or its backend (shared by every API on it).
fn scope_of(api: &Api, per_backend: bool) -> String {
    if per_backend {
        format!("backend `{}`", api.backend)
    } else {
        format!("API `{}`", api.name)
    }
}

/// `WWW-Authenticate` for a refusal: every scheme the route accepts.
fn challenge(policies: &[&Policy]) -> Arc<str> {
    let schemes: Vec<String> = policies
        .iter()
        .filter_map(|policy| match policy {
            Policy::ApiKey(spec) => Some(format!("ApiKey header=\"{}\"", spec.header)),
            Policy::Signature(_) => Some(format!(
                "{} realm=\"gateway\"",
                super::auth::canonical::SCHEME
            )),
            Policy::HttpSignature(_) => Some("Signature realm=\"gateway\"".into()),
            Policy::Jwt(_) => Some("Bearer realm=\"gateway\"".into()),
            Policy::ExternalAuth(_) => Some("Session realm=\"gateway\"".into()),
            Policy::ClientCertificate(_) => Some("Certificate realm=\"gateway\"".into()),
            _ => None,
        })
        .collect();
    Arc::from(schemes.join(", "))
}
