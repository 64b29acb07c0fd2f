//! Which policies apply to each route of an API: the route's own (`route_policies` entries that select
//! it), then the API's, then the document's, one per kind (`api_model::policy::resolve`), built into a
//! chain by `interceptors::chain`. Routes with the same resolution share one chain.

use std::collections::HashMap;
use std::sync::Arc;

use api_model::validate::route_selector;
use api_model::{Api, Policy, policy};

use crate::interceptors::chain::{ChainContext, answers_preflight, api_chain};
use crate::snapshot::ApiRuntime;

pub struct ApiChains<'a> {
    api: &'a Api,
    global: &'a [Policy],
    context: &'a ChainContext<'a>,
    /// Keyed by the `route_policies` entries that select a route (empty: the API's own chain).
    built: HashMap<Vec<usize>, Arc<ApiRuntime>>,
    /// Per entry: whether it selected any route.
    used: Vec<bool>,
}

impl<'a> ApiChains<'a> {
    pub fn new(api: &'a Api, global: &'a [Policy], context: &'a ChainContext<'a>) -> Self {
        ApiChains {
            api,
            global,
            context,
            built: HashMap::new(),
            used: vec![false; api.route_policies.len()],
        }
    }

    /// The chain of the route `verb path` of method `method`.
    pub fn for_route(
        &mut self,
        method: &str,
        verb: &http::Method,
        path: &str,
    ) -> Result<Arc<ApiRuntime>, String> {
        let selected: Vec<usize> = self
            .api
            .route_policies
            .iter()
            .enumerate()
            .filter(|(_, entry)| match (&entry.method, &entry.route) {
                (Some(name), _) => name == method,
                (None, Some(route)) => {
                    route_selector(route).is_some_and(|(v, p)| v == verb.as_str() && p == path)
                }
                (None, None) => false,
            })
            .map(|(i, _)| i)
            .collect();
        for &i in &selected {
            self.used[i] = true;
        }
        if let Some(runtime) = self.built.get(&selected) {
            return Ok(runtime.clone());
        }
        let mut levels: Vec<&[Policy]> = selected
            .iter()
            .map(|&i| self.api.route_policies[i].policies.as_slice())
            .collect();
        levels.push(&self.api.policies);
        levels.push(self.global);
        let resolved = policy::resolve(&levels);
        let runtime = Arc::new(ApiRuntime {
            name: self.api.name.clone(),
            chain: api_chain(self.api, &resolved, self.context)?,
            answers_preflight: answers_preflight(&resolved),
        });
        self.built.insert(selected, runtime.clone());
        Ok(runtime)
    }

    /// Every entry must select a route: a typo in a selector would otherwise drop its policies silently.
    pub fn unused(&self) -> Vec<String> {
        self.api
            .route_policies
            .iter()
            .zip(&self.used)
            .filter(|(_, used)| !**used)
            .map(|(entry, _)| {
                let selector = entry
                    .method
                    .as_deref()
                    .map(|m| format!("method `{m}`"))
                    .or_else(|| entry.route.as_deref().map(|r| format!("route `{r}`")))
                    .unwrap_or_default();
                format!(
                    "api `{}`: route_policies {selector} selects no route of the API",
                    self.api.name
                )
            })
            .collect()
    }
}
