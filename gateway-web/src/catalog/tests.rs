//! The compile step on its own: pure, and strict about what it cannot place.

use api_model::Config;
use base64::Engine as _;

use super::{BuildError, CallPlan, Plan};

fn check_(config: &Config) -> Result<Plan, BuildError> {
    super::check(config, &crate::stores::Services::default())
}

/// The demo echo service, embedded as a published revision embeds it.
fn echo_config(extra_api_keys: &str) -> Config {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../demo/proto");
    let pool = proto_registry::compile_files(&["demo/echo/v1/echo.proto".into()], &[root.into()])
        .expect("the demo proto compiles");
    let embedded = base64::engine::general_purpose::STANDARD.encode(pool.encode_to_vec());
    let yaml = format!(
        r#"
backends: [{{ name: echo, protocol: grpc, endpoints: ["127.0.0.1:1"] }}]
schemas: [{{ name: echo, descriptor_set_base64: "{embedded}" }}]
apis:
  - name: echo
    backend: echo
    grpc: {{ service: demo.echo.v1.Echo, method: Echo }}
    http: {{ post: /v1/echo, body: "*", additional_bindings: [{{ get: "/v1/echo/{{message}}" }}] }}
{extra_api_keys}
"#
    );
    Config::from_yaml(&yaml).expect("parses")
}

#[test]
fn a_plan_holds_every_route_without_a_client() {
    let plan = check_(&echo_config("")).expect("compiles");
    assert_eq!(plan.routes().len(), 2);
    assert!(
        plan.routes()
            .targets()
            .all(|route| matches!(route.call, CallPlan::Grpc { backend: 0, .. }))
    );
}

#[test]
fn route_policies_that_select_nothing_are_refused() {
    let selects = "    route_policies: [{ method: Echo, policies: [] }, { route: 'GET /v1/echo/{message}', policies: [] }]";
    check_(&echo_config(selects)).expect("both entries select a route");
    for (entry, named) in [
        ("{ method: Ecko, policies: [] }", "method `Ecko`"),
        (
            "{ route: 'GET /v1/echo', policies: [] }",
            "route `GET /v1/echo`",
        ),
        (
            "{ route: 'PUT /v1/echo/{message}', policies: [] }",
            "route `PUT /v1/echo/{message}`",
        ),
    ] {
        let config = echo_config(&format!("    route_policies: [{entry}]"));
        let err = check_(&config).err().expect("refused");
        assert!(
            err.to_string()
                .contains(&format!("{named} selects no route")),
            "{entry}: {err}"
        );
    }
}

#[test]
fn checking_refuses_sources_it_would_have_to_read() {
    let mut config = echo_config("");
    config.schemas[0].descriptor_set_base64 = None;
    config.schemas[0].descriptor_set = Some("echo.binpb".into());
    let err = check_(&config).err().expect("refused");
    assert!(err.to_string().contains("schema `echo`"), "{err}");
}

#[test]
fn an_invalid_backend_address_is_found_without_dialling() {
    let mut config = echo_config("");
    config.backends[0].endpoints = vec!["http://[::1".into()];
    let err = check_(&config).err().expect("refused");
    assert!(err.to_string().contains("backend `echo`"), "{err}");
}
