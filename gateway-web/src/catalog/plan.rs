//! `Plan`: a revision compiled. Every route with its chain and its call plan, checked against the
//! schemas, and the clients the routes will need; no connection exists yet. `instantiate` turns it into
//! a `Snapshot` by attaching clients.

use std::sync::Arc;

use api_model::{Backend, DubboTarget};

use crate::access::RouteTable;
use crate::access::client_ip::TrustedProxies;
use crate::call::{DubboPlan, GrpcPlan, HttpPlan};
use crate::snapshot::ApiRuntime;

pub struct Plan {
    pub routes: RouteTable<RoutePlan>,
    pub api_count: usize,
    /// The revision's backends; gRPC and HTTP routes refer to them by index.
    pub backends: Vec<Backend>,
    /// One Dubbo client per Dubbo API; Dubbo routes refer to them by index.
    pub dubbo_clients: Vec<DubboClientPlan>,
    pub trusted_proxies: TrustedProxies,
}

pub struct RoutePlan {
    pub api: Arc<ApiRuntime>,
    pub call: CallPlan,
    /// `VERB /template` as published.
    pub label: Arc<str>,
}

/// What a route will call: a closed set, one arm per protocol.
pub enum CallPlan {
    Grpc { backend: usize, plan: GrpcPlan },
    Dubbo { client: usize, plan: DubboPlan },
    Http { backend: usize, plan: HttpPlan },
}

/// The providers one Dubbo API calls: a backend's static list or registry, for one interface.
pub struct DubboClientPlan {
    /// The API's name, for messages.
    pub api: String,
    pub backend: Backend,
    pub target: DubboTarget,
}
