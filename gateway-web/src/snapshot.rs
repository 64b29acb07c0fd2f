//! `Snapshot`: what every request of one revision sees, built whole by `catalog`, swapped whole by
//! `reload`, never mutated. A route carries its API's chain and the call at the chain's centre.

use std::sync::Arc;
use std::time::SystemTime;

use crate::access::client_ip::TrustedProxies;
use crate::access::{RouteTable, RouteTableBuilder};
use crate::call::Call;
use crate::interceptors::Interceptor;

pub struct Snapshot {
    /// Identifies the definitions (a content hash in standalone mode, the row id in Postgres mode).
    pub revision: String,
    pub built_at: SystemTime,
    pub routes: RouteTable<Arc<Route>>,
    pub api_count: usize,
    /// Whose `X-Forwarded-For` / `Forwarded` the revision believes.
    pub trusted_proxies: TrustedProxies,
}

impl Snapshot {
    /// The snapshot before any config loaded: every request is a 404.
    pub fn empty() -> Self {
        Snapshot {
            revision: String::new(),
            built_at: SystemTime::now(),
            routes: RouteTableBuilder::new().build(),
            api_count: 0,
            trusted_proxies: TrustedProxies::default(),
        }
    }
}

/// One route's target: the API it belongs to (its chain) and the call at the chain's centre.
pub struct Route {
    pub api: Arc<ApiRuntime>,
    pub call: Call,
    /// `VERB /template` as published: what `per: route` limits count by.
    pub label: Arc<str>,
}

/// What the routes of one API (or those of its routes with route-level policies) share.
pub struct ApiRuntime {
    pub name: String,
    /// Built once from the resolved policies, in the order `interceptors::chain` fixes.
    pub chain: Vec<Arc<dyn Interceptor>>,
    /// Whether the chain answers CORS preflights (an `OPTIONS` for another method is let in).
    pub answers_preflight: bool,
}
