//! Policies: what the gateway does to a request besides calling the backend (authentication, limits,
//! breakers, CORS, ...). Each is one [`Policy`], written with its `kind`:
//!
//! ```yaml
//! policies:                      # in the document: every API
//!   - kind: ...
//! apis:
//!   - name: books
//!     policies: [...]            # every route of this API
//!     route_policies:
//!       - route: GET /v1/shelves/{shelf}   # or `method: GetShelf`
//!         policies: [...]
//! ```
//!
//! Precedence is by kind, most specific first: a route's policy of a kind replaces the API's of that
//! kind, which replaces the document's. The order in which policies run is not written here: it is fixed
//! by the data plane (CORS, IP rules, authentication, grants, canary, limits, concurrency, cache,
//! breaker/retry/timeout, then the call), so a definition cannot put a limit before authentication.

mod auth;
mod cors;
mod ip_rules;
mod traffic;

use serde::{Deserialize, Serialize};

pub use auth::{
    ApiKeyAuth, ClientCertificateAuth, ExternalAuth, ExternalAuthFallback, HttpSignatureAuth,
    JWT_ALGORITHMS, JwtAuth, JwtKey, NonceFallback, SignatureAuth,
};
pub use cors::{Cors, OriginPattern};
pub use ip_rules::{Cidr, IpRules, canonical};
pub use traffic::{
    CircuitBreaker, Concurrency, Dimension, FAILURE_CLASSES, FALLBACK_CLASSES, Fallback,
    GRPC_CODES, Limit, LimitFallback, LimitMode, RateLimit, RequestRules, Retry, Timeout,
    glob_matches,
};

/// One policy. Closed: a `kind` the gateway does not know is refused when the document is read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Policy {
    Cors(Cors),
    IpRules(IpRules),
    ApiKey(ApiKeyAuth),
    Signature(SignatureAuth),
    HttpSignature(HttpSignatureAuth),
    Jwt(JwtAuth),
    ExternalAuth(ExternalAuth),
    ClientCertificate(ClientCertificateAuth),
    RequestRules(RequestRules),
    RateLimit(RateLimit),
    Concurrency(Concurrency),
    CircuitBreaker(CircuitBreaker),
    Timeout(Timeout),
    Retry(Retry),
    Fallback(Fallback),
}

impl Policy {
    /// The `kind` as written; one policy of each kind applies to a route.
    pub fn kind(&self) -> &'static str {
        match self {
            Policy::Cors(_) => "cors",
            Policy::IpRules(_) => "ip_rules",
            Policy::ApiKey(_) => "api_key",
            Policy::Signature(_) => "signature",
            Policy::HttpSignature(_) => "http_signature",
            Policy::Jwt(_) => "jwt",
            Policy::ExternalAuth(_) => "external_auth",
            Policy::ClientCertificate(_) => "client_certificate",
            Policy::RequestRules(_) => "request_rules",
            Policy::RateLimit(_) => "rate_limit",
            Policy::Concurrency(_) => "concurrency",
            Policy::CircuitBreaker(_) => "circuit_breaker",
            Policy::Timeout(_) => "timeout",
            Policy::Retry(_) => "retry",
            Policy::Fallback(_) => "fallback",
        }
    }

    /// Whether the policy tells who is calling (and so brings the grant check with it).
    pub fn authenticates(&self) -> bool {
        matches!(
            self,
            Policy::ApiKey(_)
                | Policy::Signature(_)
                | Policy::HttpSignature(_)
                | Policy::Jwt(_)
                | Policy::ExternalAuth(_)
                | Policy::ClientCertificate(_)
        )
    }

    /// Everything wrong with the policy that needs no schema and no key.
    pub fn problems(&self) -> Vec<String> {
        match self {
            Policy::Cors(cors) => cors.problems(),
            Policy::IpRules(rules) => rules.problems(),
            Policy::ApiKey(auth) => auth.problems(),
            Policy::Signature(auth) => auth.problems(),
            Policy::HttpSignature(auth) => auth.problems(),
            Policy::Jwt(auth) => auth.problems(),
            Policy::ExternalAuth(auth) => auth.problems(),
            Policy::ClientCertificate(_) => Vec::new(),
            Policy::RequestRules(rules) => rules.problems(),
            Policy::RateLimit(limit) => limit.problems(),
            Policy::Concurrency(c) if c.max_in_flight == 0 => {
                vec!["concurrency: max_in_flight must be at least 1".into()]
            }
            Policy::Concurrency(_) => Vec::new(),
            Policy::CircuitBreaker(breaker) => breaker.problems(),
            Policy::Timeout(t) if t.limit.is_zero() => {
                vec!["timeout: limit must be above zero".into()]
            }
            Policy::Timeout(_) => Vec::new(),
            Policy::Retry(retry) => retry.problems(),
            Policy::Fallback(fallback) => fallback.problems(),
        }
    }
}

/// Policies for some routes of an API: those of one method (`method`) or one route as the API publishes
/// it (`route`, `VERB /path/template`). Exactly one of the two is set, and it must select a route.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutePolicies {
    /// A method name of the API's service (gRPC) or the API's method (Dubbo).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// `GET /v1/shelves/{shelf}`: a verb and a path template exactly as one of the API's routes has them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
    pub policies: Vec<Policy>,
}

/// The policies that apply to one route, one per kind, most specific level first.
pub fn resolve<'a>(levels: &[&'a [Policy]]) -> Vec<&'a Policy> {
    let mut chosen: Vec<&'a Policy> = Vec::new();
    for level in levels {
        for policy in level.iter() {
            if !chosen.iter().any(|c| c.kind() == policy.kind()) {
                chosen.push(policy);
            }
        }
    }
    chosen
}

#[cfg(test)]
mod tests {
    use crate::Config;

    const API: &str = "apis:\n  - { name: a, backend: b, grpc: { service: x.Y, method: M } }\n";

    #[test]
    fn policies_of_an_unknown_kind_are_refused_at_every_level() {
        for document in [
            "policies: [{ kind: teleport }]\n".to_string(),
            API.replace(" }\n", ", policies: [{ kind: teleport }] }\n"),
            API.replace(
                " }\n",
                ", route_policies: [{ method: M, policies: [{ kind: teleport }] }] }\n",
            ),
        ] {
            let err = Config::from_yaml(&document).expect_err(&document);
            assert!(err.to_string().contains("teleport"), "{document}: {err}");
        }
    }

    #[test]
    fn empty_policy_blocks_are_accepted() {
        let document = format!(
            "policies: []\n{}",
            API.replace(
                " }\n",
                ", policies: [], route_policies: [{ route: GET /v1/x, policies: [] }] }\n"
            )
        );
        let config = Config::from_yaml(&document).expect("parses");
        assert_eq!(config.apis[0].route_policies.len(), 1);
    }

    #[test]
    fn a_route_selector_names_one_route() {
        for (selector, ok) in [
            ("{ method: M, policies: [] }", true),
            ("{ route: 'GET /v1/x/{id}', policies: [] }", true),
            ("{ route: '/v1/x', policies: [] }", false),
            ("{ route: 'GET v1/x', policies: [] }", false),
            ("{ policies: [] }", false),
            ("{ method: M, route: 'GET /v1/x', policies: [] }", false),
        ] {
            let document = format!(
                "backends: [{{ name: b, protocol: grpc, endpoints: ['127.0.0.1:1'] }}]\n{}",
                API.replace(" }\n", &format!(", route_policies: [{selector}] }}\n"))
            );
            let config = Config::from_yaml(&document).expect(&document);
            assert_eq!(config.validate().is_ok(), ok, "{selector}");
        }
    }
}
