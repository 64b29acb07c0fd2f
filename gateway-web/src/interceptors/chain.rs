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
use super::cors::Cors;
use super::deadline::Deadline;
use super::grants::Grants;
use super::ip_rules::IpRules;
use super::request_id::RequestId;
use crate::stores::Services;

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
#[allow(dead_code)] // the stages whose policies are still to come hold their place in the order
pub enum Stage {
    /// Answers preflights before anything can refuse them, and puts its headers on every answer,
    /// refusals included: a browser hides a 401 without them.
    Cors,
    /// The cheapest refusal, needing only the peer address: a denied network never reaches a
    /// credential check.
    IpRules,
    /// Who is calling. Everything after may depend on the consumer.
    Authentication,
    /// Whether that consumer may call this API: needs the identity.
    Grants,
    /// Which version serves: rules may read the consumer, and what follows applies to the choice.
    Canary,
    /// Cluster-wide counts by consumer, API and IP: after authentication so a limit can be per
    /// consumer, before concurrency so a refused request never holds a slot.
    RateLimit,
    /// The bulkhead: a slot in flight per API, held for the whole call.
    Concurrency,
    /// A hit answers without the backend, so it costs no time budget and no breaker sample.
    Cache,
    /// The call's whole time budget: outside breaker and retries, so no retry runs past the caller's
    /// deadline, and around body reading and mapping, which count against it too.
    Deadline,
    /// Breaker and retries right around the call, so they see each attempt's outcome.
    Resilience,
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
        .map(|policy| step(policy, context, &challenge))
        .collect::<Result<Vec<_>, _>>()?;
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
    steps.push((Stage::Deadline, Arc::new(Deadline { limit: api.timeout })));
    // Stable: two steps of one stage keep the order they were given in.
    steps.sort_by_key(|(stage, _)| *stage);
    Ok(steps.into_iter().map(|(_, step)| step).collect())
}

/// Whether a route's policies answer CORS preflights (the router then lets an `OPTIONS` preflight
/// into the chain of the route it asks about).
pub fn answers_preflight(policies: &[&Policy]) -> bool {
    policies.iter().any(|p| matches!(p, Policy::Cors(_)))
}

/// One policy as an interceptor and the stage it runs at: the one arm each policy kind adds.
fn step(
    policy: &Policy,
    context: &ChainContext<'_>,
    challenge: &Arc<str>,
) -> Result<(Stage, Arc<dyn Interceptor>), String> {
    let consumers = || context.consumers.clone();
    let services = context.services;
    let header = |name: &str| {
        HeaderName::from_bytes(name.to_ascii_lowercase().as_bytes())
            .map_err(|_| format!("`{name}` is not a header name"))
    };
    Ok(match policy {
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
    })
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
