//! Checks that need only the definitions: unique names, references that resolve, well-formed rules.
//! Every problem is reported, each naming the item it is about.

use std::collections::HashSet;
use std::fmt;

use crate::config::{Api, Config, DubboTarget, Protocol, Schema, Target};
use crate::http_rule::HttpRule;
use crate::mapping::Source;
use crate::policy::Policy;

/// All problems found in a document, one line each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    pub problems: Vec<String>,
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.problems.join("; "))
    }
}

impl std::error::Error for ValidationError {}

/// Keys the gateway sets itself on every call (the request id, the caller's identity, Dubbo's own
/// attachments) or that the protocols reserve (`grpc-*`, pseudo-headers): a constant may not replace them.
fn metadata_problem(key: &str) -> Option<&'static str> {
    const RESERVED: [&str; 12] = [
        "x-request-id",
        "x-consumer",
        "timeout",
        "path",
        "interface",
        "version",
        "group",
        "dubbo",
        "generic",
        "input",
        "content-type",
        "te",
    ];
    let lower = key.to_ascii_lowercase();
    if key.is_empty() {
        Some("a key must not be empty")
    } else if !key
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    {
        Some("a key is letters, digits, `-`, `_` and `.`")
    } else if lower.starts_with("grpc-")
        || lower.starts_with("x-consumer-")
        || RESERVED.contains(&lower.as_str())
    {
        Some("the gateway or the protocol sets this key itself")
    } else {
        None
    }
}

impl Config {
    /// Validates the document as a whole. Schema-dependent checks happen when a node builds it.
    pub fn validate(&self) -> Result<(), ValidationError> {
        let mut problems = Vec::new();
        unique(
            self.backends.iter().map(|b| b.name.as_str()),
            "backend",
            &mut problems,
        );
        unique(
            self.schemas.iter().map(|s| s.name.as_str()),
            "schema",
            &mut problems,
        );
        unique(
            self.apis.iter().map(|a| a.name.as_str()),
            "api",
            &mut problems,
        );

        for backend in &self.backends {
            let registry = backend
                .dubbo
                .as_ref()
                .is_some_and(|d| d.zookeeper.is_some())
                || backend.http.as_ref().is_some_and(|h| h.zookeeper.is_some());
            if backend.endpoints.is_empty() && !registry {
                problems.push(format!(
                    "backend `{}`: needs at least one endpoint (or, for dubbo and http, a registry)",
                    backend.name
                ));
            }
            if let Some(dubbo) = &backend.dubbo
                && (dubbo.reconnect_min.is_zero() || dubbo.reconnect_min > dubbo.reconnect_max)
            {
                problems.push(format!(
                    "backend `{}`: dubbo.reconnect_min must be above zero and at most reconnect_max",
                    backend.name
                ));
            }
            if backend.dubbo.is_some() && backend.protocol != Protocol::Dubbo {
                problems.push(format!(
                    "backend `{}`: `dubbo` settings need protocol dubbo",
                    backend.name
                ));
            }
            if backend.http.is_some() && backend.protocol != Protocol::Http {
                problems.push(format!(
                    "backend `{}`: `http` settings need protocol http",
                    backend.name
                ));
            }
            if let Some(http) = &backend.http {
                for problem in http.problems(&backend.endpoints) {
                    problems.push(format!("backend `{}`: {problem}", backend.name));
                }
            }
            if backend.endpoints.iter().any(|e| e.trim().is_empty()) {
                problems.push(format!("backend `{}`: an endpoint is empty", backend.name));
            }
        }
        for schema in &self.schemas {
            self.check_schema(schema, &mut problems);
        }
        for api in &self.apis {
            self.check_api(api, &mut problems);
        }
        check_policies("the document", &self.policies, &mut problems);
        self.check_consumers(&mut problems);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ValidationError { problems })
        }
    }

    fn check_consumers(&self, problems: &mut Vec<String>) {
        unique(
            self.consumers.iter().map(|c| c.name.as_str()),
            "consumer",
            problems,
        );
        let keys: Vec<&str> = self.consumers.iter().map(|c| c.app_key()).collect();
        for (i, key) in keys.iter().enumerate() {
            if keys[..i].contains(key) {
                problems.push(format!("app key `{key}` belongs to two consumers"));
            }
        }
        for consumer in &self.consumers {
            for credential in &consumer.credentials {
                problems.extend(credential.problems(&consumer.name));
            }
            let hmac = consumer
                .credentials
                .iter()
                .filter(|c| matches!(c, crate::Credential::Hmac { .. }))
                .count();
            if hmac > 2 {
                problems.push(format!(
                    "consumer `{}`: at most two shared secrets (one to rotate to), not {hmac}",
                    consumer.name
                ));
            }
        }
    }

    fn check_schema(&self, schema: &Schema, problems: &mut Vec<String>) {
        let sources = [
            schema.proto.is_some(),
            schema.descriptor_set.is_some(),
            schema.descriptor_set_base64.is_some(),
            schema.reflection.is_some(),
        ];
        if sources.iter().filter(|set| **set).count() != 1 {
            problems.push(format!(
                "schema `{}`: set exactly one of proto, descriptor_set, descriptor_set_base64, reflection",
                schema.name
            ));
        }
        if let Some(proto) = &schema.proto
            && proto.files.is_empty()
        {
            problems.push(format!("schema `{}`: proto.files is empty", schema.name));
        }
        if let Some(reflection) = &schema.reflection
            && self.backend(&reflection.backend).is_none()
        {
            problems.push(format!(
                "schema `{}`: reflection backend `{}` is not defined",
                schema.name, reflection.backend
            ));
        }
    }

    fn check_api(&self, api: &Api, problems: &mut Vec<String>) {
        let name = &api.name;
        if self.backend(&api.backend).is_none() {
            problems.push(format!(
                "api `{name}`: backend `{}` is not defined",
                api.backend
            ));
        }
        if let Some(schema) = &api.schema
            && self.schema(schema).is_none()
        {
            problems.push(format!("api `{name}`: schema `{schema}` is not defined"));
        }
        if api.timeout.is_zero() {
            problems.push(format!("api `{name}`: timeout must be above zero"));
        }
        let protocol = self.backend(&api.backend).map(|b| b.protocol);
        match api.target() {
            Some(Target::Grpc(grpc)) => {
                if grpc.service.trim().is_empty() {
                    problems.push(format!("api `{name}`: grpc.service is empty"));
                }
                if protocol.is_some_and(|p| p != Protocol::Grpc) {
                    problems.push(format!("api `{name}`: a grpc target needs a grpc backend"));
                }
                let single_method = grpc.method.is_some();
                if api.http.is_some() && !single_method {
                    problems.push(format!(
                        "api `{name}`: `http` needs `grpc.method` (a rule binds one method)"
                    ));
                }
                if !api.mapping.is_empty() && !single_method {
                    problems.push(format!("api `{name}`: `mapping` needs `grpc.method`"));
                }
            }
            Some(Target::Dubbo(dubbo)) => {
                if protocol.is_some_and(|p| p != Protocol::Dubbo) {
                    problems.push(format!(
                        "api `{name}`: a dubbo target needs a dubbo backend"
                    ));
                }
                if api.http.is_none() {
                    problems.push(format!("api `{name}`: a dubbo api needs an `http` rule"));
                }
                if !api.mapping.is_empty() {
                    problems.push(format!(
                        "api `{name}`: dubbo apis bind values through `dubbo.params`, not `mapping`"
                    ));
                }
                check_dubbo(name, dubbo, problems);
            }
            Some(Target::Http(target)) => {
                if protocol.is_some_and(|p| p != Protocol::Http) {
                    problems.push(format!(
                        "api `{name}`: an upstream target needs an http backend"
                    ));
                }
                if api.http.is_none() {
                    problems.push(format!(
                        "api `{name}`: an upstream api needs an `http` rule (its routes)"
                    ));
                }
                if !api.mapping.is_empty() {
                    problems.push(format!(
                        "api `{name}`: an upstream api relays the request; use `upstream.request_headers`, not `mapping`"
                    ));
                }
                if !api.metadata.is_empty() {
                    problems.push(format!(
                        "api `{name}`: `metadata` is for gRPC and Dubbo calls; an upstream api sets headers with `upstream.request_headers`"
                    ));
                }
                if target.path.is_some() && target.strip_prefix.is_some() {
                    problems.push(format!(
                        "api `{name}`: set at most one of upstream.path and upstream.strip_prefix"
                    ));
                }
                if let Some(path) = target.path.as_deref().or(target.strip_prefix.as_deref())
                    && !path.starts_with('/')
                {
                    problems.push(format!(
                        "api `{name}`: upstream path `{path}` must start with `/`"
                    ));
                }
                for (direction, transform) in [
                    ("request_body", &target.request_body),
                    ("response_body", &target.response_body),
                ] {
                    for problem in transform.iter().flat_map(|t| t.problems()) {
                        problems.push(format!("api `{name}`: upstream.{direction}: {problem}"));
                    }
                }
            }
            None => problems.push(format!(
                "api `{name}`: set exactly one of `grpc`, `dubbo` and `upstream`"
            )),
        }
        for key in api.metadata.keys() {
            if let Some(problem) = metadata_problem(key) {
                problems.push(format!("api `{name}`: metadata `{key}`: {problem}"));
            }
        }
        if let Some(rule) = &api.http {
            check_rule(name, rule, problems);
        }
        if !api.auto_route && !api.annotations && api.http.is_none() {
            problems.push(format!(
                "api `{name}`: no route: set `http`, keep `annotations`, or enable `auto_route`"
            ));
        }
        check_policies(&format!("api `{name}`"), &api.policies, problems);
        for selected in &api.route_policies {
            check_policies(
                &format!("api `{name}`, route_policies"),
                &selected.policies,
                problems,
            );
            match (&selected.method, &selected.route) {
                (Some(_), None) => {}
                (None, Some(route)) if route_selector(route).is_none() => problems.push(format!(
                    "api `{name}`: route_policies route `{route}` is not `VERB /path`"
                )),
                (None, Some(_)) => {}
                _ => problems.push(format!(
                    "api `{name}`: each route_policies entry needs exactly one of `method` and `route`"
                )),
            }
        }
        for binding in &api.mapping {
            match (&binding.from, &binding.value) {
                (Some(_), Some(_)) | (None, None) => problems.push(format!(
                    "api `{name}`: binding to `{}` needs exactly one of `from` and `value`",
                    binding.to
                )),
                (Some(Source::Body), _) => {}
                _ if binding.to.is_empty() => problems.push(format!(
                    "api `{name}`: a binding without `to` must come `from: body`"
                )),
                _ => {}
            }
        }
    }
}

/// One level's policies: each valid on its own, and one of each kind (a second would never apply).
fn check_policies(level: &str, policies: &[Policy], problems: &mut Vec<String>) {
    for (i, policy) in policies.iter().enumerate() {
        if policies[..i].iter().any(|p| p.kind() == policy.kind()) {
            problems.push(format!(
                "{level}: two `{}` policies; one of each kind applies",
                policy.kind()
            ));
        }
        for problem in policy.problems() {
            problems.push(format!("{level}: {problem}"));
        }
    }
}

/// `GET /v1/x/{id}` → (`GET`, `/v1/x/{id}`): the verb uppercased, the template as written.
pub fn route_selector(route: &str) -> Option<(String, &str)> {
    let (verb, path) = route.trim().split_once(' ')?;
    let path = path.trim();
    if verb.is_empty() || !verb.bytes().all(|b| b.is_ascii_alphabetic()) || !path.starts_with('/') {
        return None;
    }
    Some((verb.to_ascii_uppercase(), path))
}

fn check_dubbo(api: &str, dubbo: &DubboTarget, problems: &mut Vec<String>) {
    if dubbo.interface.trim().is_empty() || dubbo.method.trim().is_empty() {
        problems.push(format!(
            "api `{api}`: dubbo.interface and dubbo.method are required"
        ));
    }
    unique(
        dubbo.params.iter().map(|p| p.name.as_str()),
        "dubbo parameter",
        problems,
    );
    for param in &dubbo.params {
        if param.from.is_some() == param.value.is_some() {
            problems.push(format!(
                "api `{api}`: dubbo parameter `{}` needs exactly one of `from` and `value`",
                param.name
            ));
        }
        if param.java_type.trim().is_empty() {
            problems.push(format!(
                "api `{api}`: dubbo parameter `{}` has no type",
                param.name
            ));
        }
    }
    for (class, status) in &dubbo.exceptions {
        if !(400..=599).contains(status) {
            problems.push(format!(
                "api `{api}`: exception `{class}` maps to {status}, not an error status (400-599)"
            ));
        }
    }
}

fn check_rule(api: &str, rule: &HttpRule, problems: &mut Vec<String>) {
    for (depth, binding) in rule.bindings().enumerate() {
        match binding.pattern() {
            None => problems.push(format!(
                "api `{api}`: an http rule needs exactly one of get, put, post, delete, patch, custom"
            )),
            Some((_, path)) if !path.starts_with('/') => {
                problems.push(format!("api `{api}`: path template `{path}` must start with `/`"))
            }
            Some(_) => {}
        }
        if depth > 0 && !binding.additional_bindings.is_empty() {
            problems.push(format!("api `{api}`: additional_bindings may not nest"));
        }
    }
}

fn unique<'a>(names: impl Iterator<Item = &'a str>, what: &str, problems: &mut Vec<String>) {
    let mut seen = HashSet::new();
    for name in names {
        if name.trim().is_empty() {
            problems.push(format!("a {what} has an empty name"));
        } else if !seen.insert(name) {
            problems.push(format!("{what} `{name}` is defined twice"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
backends:
  - { name: books, protocol: grpc, endpoints: ["127.0.0.1:50051"] }
schemas:
  - { name: books, proto: { files: [bookstore.proto], import_paths: [proto] } }
apis:
  - name: books
    backend: books
    grpc: { service: demo.Bookstore }
  - name: get-book
    backend: books
    grpc: { service: demo.Bookstore, method: GetBook }
    http: { get: "/v1/books/{id}", additional_bindings: [{ get: "/books/{id}" }] }
    mapping: [{ from: header.x-tenant, to: tenant }, { value: 3, to: limit }]
    timeout: 250ms
"#;

    #[test]
    fn a_good_document_passes_and_round_trips() {
        let config = Config::from_yaml(GOOD).expect("parses");
        config.validate().expect("valid");
        assert_eq!(
            config.apis[1].timeout,
            std::time::Duration::from_millis(250)
        );
        let again =
            Config::from_yaml(&config.to_yaml().expect("serialises")).expect("parses again");
        assert_eq!(again, config);
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err = Config::from_yaml("apis: []\nbackend: []\n").expect_err("typo must fail");
        assert!(err.to_string().contains("unknown field `backend`"), "{err}");
    }

    /// Each case breaks the good document in one way and names a phrase the error must contain.
    #[test]
    fn dubbo_reconnect_bounds_are_settings_and_must_make_sense() {
        let backend = |min: &str, max: &str| {
            format!(
                "backends:\n  - name: users\n    protocol: dubbo\n    endpoints: [\"127.0.0.1:20880\"]\n    dubbo: {{ reconnect_min: {min}, reconnect_max: {max} }}\n"
            )
        };
        let config = Config::from_yaml(&backend("50ms", "2s")).expect("parses");
        let dubbo = config.backends[0].dubbo.as_ref().expect("dubbo settings");
        assert_eq!(dubbo.reconnect_min, std::time::Duration::from_millis(50));
        assert_eq!(dubbo.reconnect_max, std::time::Duration::from_secs(2));
        assert!(config.validate().is_ok());
        for (min, max) in [("5s", "1s"), ("0s", "1s")] {
            let problems = Config::from_yaml(&backend(min, max))
                .expect("parses")
                .validate()
                .expect_err("refused")
                .problems;
            assert!(
                problems
                    .iter()
                    .any(|p| p.contains("reconnect_min must be above zero")),
                "{min}/{max}: {problems:?}"
            );
        }
    }

    #[test]
    fn each_problem_is_named() {
        let cases: &[(&str, &str, &str)] = &[
            (
                "backend: books\n    grpc: { service: demo.Bookstore }\n  - name: get-book",
                "backend: nope\n    grpc: { service: demo.Bookstore }\n  - name: get-book",
                "backend `nope` is not defined",
            ),
            (
                "- name: get-book",
                "- name: books",
                "api `books` is defined twice",
            ),
            (
                "get: \"/v1/books/{id}\"",
                "get: \"v1/books\"",
                "must start with `/`",
            ),
            (
                "get: \"/v1/books/{id}\"",
                "get: \"/a\", post: \"/b\"",
                "exactly one of get",
            ),
            (
                "{ value: 3, to: limit }",
                "{ from: query.x, value: 3, to: limit }",
                "exactly one of `from` and `value`",
            ),
            (
                "timeout: 250ms",
                "timeout: 0s",
                "timeout must be above zero",
            ),
            (
                "proto: { files: [bookstore.proto], import_paths: [proto] }",
                "descriptor_set: a.bin, proto: { files: [a.proto] }",
                "exactly one of proto",
            ),
        ];
        for (from, to, phrase) in cases {
            let text = GOOD.replacen(from, to, 1);
            assert_ne!(text, GOOD, "case `{phrase}` did not change the document");
            let err = Config::from_yaml(&text)
                .expect("parses")
                .validate()
                .expect_err(phrase);
            assert!(
                err.to_string().contains(phrase),
                "expected `{phrase}` in `{err}`"
            );
        }
    }

    #[test]
    fn dubbo_apis_are_checked() {
        let text = r#"
backends:
  - { name: users, protocol: dubbo, endpoints: ["127.0.0.1:20880"] }
  - { name: books, protocol: grpc, endpoints: ["127.0.0.1:50051"] }
apis:
  - name: get-user
    backend: users
    dubbo:
      interface: org.demo.UserService
      method: getUser
      params: [{ name: id, type: long, from: path.id }]
      exceptions: { java.lang.IllegalArgumentException: 400 }
    http: { get: "/users/{id}" }
"#;
        Config::from_yaml(text)
            .expect("parses")
            .validate()
            .expect("valid");
        let cases = [
            (
                "backend: users",
                "backend: books",
                "a dubbo target needs a dubbo backend",
            ),
            (
                "from: path.id }",
                "from: path.id, value: 1 }",
                "exactly one of `from` and `value`",
            ),
            (
                "IllegalArgumentException: 400",
                "IllegalArgumentException: 200",
                "not an error status",
            ),
            (
                "    http: { get: \"/users/{id}\" }\n",
                "",
                "needs an `http` rule",
            ),
            (
                "endpoints: [\"127.0.0.1:20880\"]",
                "endpoints: []",
                "needs at least one endpoint",
            ),
        ];
        for (from, to, phrase) in cases {
            let broken = text.replacen(from, to, 1);
            assert_ne!(broken, text, "{phrase}: case did not apply");
            let err = Config::from_yaml(&broken)
                .expect("parses")
                .validate()
                .expect_err(phrase);
            assert!(
                err.to_string().contains(phrase),
                "expected `{phrase}` in `{err}`"
            );
        }
    }

    #[test]
    fn whole_service_apis_cannot_carry_a_rule() {
        let text = GOOD.replacen(
            "grpc: { service: demo.Bookstore, method: GetBook }",
            "grpc: { service: demo.Bookstore }",
            1,
        );
        let err = Config::from_yaml(&text)
            .expect("parses")
            .validate()
            .expect_err("must fail");
        assert!(
            err.to_string().contains("`http` needs `grpc.method`"),
            "{err}"
        );
    }
}
