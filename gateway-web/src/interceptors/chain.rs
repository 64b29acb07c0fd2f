//! The order every chain runs in, fixed here and nowhere else. A definition chooses which policies apply
//! to a route (`api_model::policy`); it cannot choose their order.
//!
//! Adding a policy is one file in this folder and one arm in [`step`], which names the policy's
//! [`Stage`]; the stage decides where it runs.

use std::sync::Arc;

use api_model::{Api, Policy};

use super::Interceptor;
use super::deadline::Deadline;
use super::request_id::RequestId;

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
pub fn api_chain(api: &Api, policies: &[&Policy]) -> Result<Vec<Arc<dyn Interceptor>>, String> {
    let mut steps = policies
        .iter()
        .map(|policy| step(policy))
        .collect::<Result<Vec<_>, _>>()?;
    steps.push((Stage::Deadline, Arc::new(Deadline { limit: api.timeout })));
    // Stable: two steps of one stage keep the order they were given in.
    steps.sort_by_key(|(stage, _)| *stage);
    Ok(steps.into_iter().map(|(_, step)| step).collect())
}

/// One policy as an interceptor and the stage it runs at: the one arm each policy kind adds.
fn step(policy: &Policy) -> Result<(Stage, Arc<dyn Interceptor>), String> {
    match *policy {}
}
