//! The per-API interceptor chain, in order. Order matters and is decided only here:
//! later issues insert CORS before auth, auth before per-consumer limits, breakers right around the call.

use std::sync::Arc;

use api_model::Api;

use crate::interceptors::Interceptor;
use crate::interceptors::deadline::Deadline;

pub fn api_chain(api: &Api) -> Vec<Arc<dyn Interceptor>> {
    vec![
        // Outermost, so the time budget covers everything after routing, body reading included.
        Arc::new(Deadline { limit: api.timeout }),
    ]
}
