//! From tables to an `api_model::Config` and back: composing a revision, checking it with the same
//! compiler the nodes run (`gateway_web::catalog::check`, which opens no file and no connection), and
//! the HTTP routes an API claims (the `api_routes` rows).

use std::collections::BTreeSet;

use api_model::{Api, Backend, Config, HttpRule, Schema};
use base64::Engine as _;
use prost_reflect::DescriptorPool;
use sqlx::{PgConnection, Row};

use crate::AppState;
use crate::db::ts;
use crate::error::{ApiError, ApiResult, problems_to_details};

/// One stored schema: its name and compiled descriptor set.
#[derive(Clone)]
pub struct StoredSchema {
    pub name: String,
    pub descriptor_set: Vec<u8>,
}

impl StoredSchema {
    pub fn to_model(&self) -> Schema {
        Schema {
            name: self.name.clone(),
            descriptor_set_base64: Some(
                base64::engine::general_purpose::STANDARD.encode(&self.descriptor_set),
            ),
            ..Schema::default()
        }
    }
}

pub async fn load_backends(conn: &mut PgConnection) -> ApiResult<Vec<Backend>> {
    let rows = sqlx::query("SELECT spec FROM backends ORDER BY name")
        .fetch_all(conn)
        .await?;
    rows.iter()
        .map(|r| serde_json::from_value(r.get("spec")).map_err(ApiError::internal))
        .collect()
}

pub async fn load_schemas(conn: &mut PgConnection) -> ApiResult<Vec<StoredSchema>> {
    let rows = sqlx::query("SELECT name, descriptor_set FROM schemas ORDER BY name")
        .fetch_all(conn)
        .await?;
    Ok(rows
        .iter()
        .map(|r| StoredSchema {
            name: r.get("name"),
            descriptor_set: r.get("descriptor_set"),
        })
        .collect())
}

/// APIs by name; `published_only` for a revision, all of them for an export.
pub async fn load_apis(conn: &mut PgConnection, published_only: bool) -> ApiResult<Vec<Api>> {
    let rows = sqlx::query("SELECT spec FROM apis WHERE published OR NOT $1 ORDER BY name")
        .bind(published_only)
        .fetch_all(conn)
        .await?;
    rows.iter()
        .map(|r| serde_json::from_value(r.get("spec")).map_err(ApiError::internal))
        .collect()
}

/// The whole, self-contained configuration the tables describe (schemas embedded as descriptor sets).
pub async fn compose(conn: &mut PgConnection, published_only: bool) -> ApiResult<Config> {
    let backends = load_backends(conn).await?;
    let schemas = load_schemas(conn).await?;
    let apis = load_apis(conn, published_only).await?;
    Ok(Config {
        backends,
        schemas: schemas.iter().map(StoredSchema::to_model).collect(),
        apis,
        ..Config::default()
    })
}

/// What a revision carries: the published APIs with their backends and schemas, every consumer, and
/// the gateway-wide settings.
pub async fn compose_revision(conn: &mut PgConnection) -> ApiResult<Config> {
    let mut config = compose(conn, true).await?;
    config.consumers = compose_consumers(conn).await?;
    let row = sqlx::query("SELECT policies, trusted_proxies FROM gateway_settings WHERE id = 1")
        .fetch_one(&mut *conn)
        .await?;
    config.policies = serde_json::from_value(row.get("policies")).map_err(ApiError::internal)?;
    config.trusted_proxies =
        serde_json::from_value(row.get("trusted_proxies")).map_err(ApiError::internal)?;
    Ok(config)
}

/// Compiles `config` exactly as a node would, without dialling any backend; every problem becomes a 400
/// detail.
pub fn trial_build(state: &AppState, config: &Config, what: &str) -> ApiResult<()> {
    if let Err(err) = config.validate() {
        return Err(ApiError::invalid(
            format!("{what} is not valid: {}", err.problems.join("; ")),
            problems_to_details(&err.problems),
        ));
    }
    match gateway_web::catalog::check(config, &state.services) {
        Ok(_) => Ok(()),
        Err(err) => Err(ApiError::invalid(
            format!("{what} does not build: {}", err.problems.join("; ")),
            problems_to_details(&err.problems),
        )),
    }
}

/// The config one API needs to build on its own: its backend (when it exists) and the schemas it may use.
pub fn config_for_api(api: &Api, backends: &[Backend], schemas: &[StoredSchema]) -> Config {
    Config {
        backends: backends
            .iter()
            .filter(|b| b.name == api.backend)
            .cloned()
            .collect(),
        schemas: schemas
            .iter()
            .filter(|s| api.schema.as_ref().is_none_or(|wanted| *wanted == s.name))
            .map(StoredSchema::to_model)
            .collect(),
        apis: vec![api.clone()],
        ..Config::default()
    }
}

/// One claimed route.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RouteKey {
    pub host: String,
    pub method: String,
    pub path: String,
}

/// The routes an API publishes: its explicit rule or the methods' annotations, plus auto routes; the
/// same derivation as the data plane's catalog. Call after a trial build succeeded.
pub fn routes_of(api: &Api, schemas: &[StoredSchema]) -> ApiResult<Vec<RouteKey>> {
    let host = api.host.clone().unwrap_or_default().to_ascii_lowercase();
    let mut out = BTreeSet::new();
    let push_rule = |rule: &HttpRule, out: &mut BTreeSet<RouteKey>| {
        for binding in rule.bindings() {
            if let Some((verb, path)) = binding.pattern() {
                out.insert(RouteKey {
                    host: host.clone(),
                    method: verb.as_str().to_string(),
                    path: path.to_string(),
                });
            }
        }
    };
    if let Some(target) = &api.grpc {
        let service = find_service(api, &target.service, schemas)?;
        for method in service.methods() {
            if target.method.as_ref().is_some_and(|m| *m != method.name())
                || method.is_client_streaming()
            {
                continue;
            }
            let rule = api.http.clone().or_else(|| {
                if api.annotations {
                    gateway_web::mapping::http_rule::annotation(&method)
                } else {
                    None
                }
            });
            if let Some(rule) = rule {
                push_rule(&rule, &mut out);
            }
            if api.auto_route {
                out.insert(RouteKey {
                    host: host.clone(),
                    method: "POST".into(),
                    path: format!("/{}/{}", service.full_name(), method.name()),
                });
            }
        }
    } else if let Some(rule) = &api.http {
        push_rule(rule, &mut out);
    }
    Ok(out.into_iter().collect())
}

pub fn decode(schema: &StoredSchema) -> ApiResult<DescriptorPool> {
    proto_registry::decode_descriptor_set(&schema.descriptor_set).map_err(ApiError::internal)
}

fn find_service(
    api: &Api,
    service: &str,
    schemas: &[StoredSchema],
) -> ApiResult<prost_reflect::ServiceDescriptor> {
    for schema in schemas
        .iter()
        .filter(|s| api.schema.as_ref().is_none_or(|wanted| *wanted == s.name))
    {
        if let Some(found) = decode(schema)?.get_service_by_name(service) {
            return Ok(found);
        }
    }
    Err(ApiError::bad_request(format!(
        "api `{}`: service `{service}` is in no schema",
        api.name
    )))
}

/// Replaces an API's claimed routes inside the caller's transaction. A route another API holds is a 409
/// that names both, and the transaction (with the API row) is dropped by the caller.
pub async fn claim_routes(
    conn: &mut PgConnection,
    api: &str,
    routes: &[RouteKey],
) -> ApiResult<()> {
    sqlx::query("DELETE FROM api_routes WHERE api = $1")
        .bind(api)
        .execute(&mut *conn)
        .await?;
    for route in routes {
        let holder: Option<String> = sqlx::query_scalar(
            "SELECT api FROM api_routes WHERE host = $1 AND method = $2 AND path = $3",
        )
        .bind(&route.host)
        .bind(&route.method)
        .bind(&route.path)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(holder) = holder {
            return Err(duplicate_route(api, &holder, route));
        }
        sqlx::query("INSERT INTO api_routes (api, host, method, path) VALUES ($1, $2, $3, $4)")
            .bind(api)
            .bind(&route.host)
            .bind(&route.method)
            .bind(&route.path)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

fn duplicate_route(api: &str, holder: &str, route: &RouteKey) -> ApiError {
    let host = if route.host.is_empty() {
        String::new()
    } else {
        format!(" (host {})", route.host)
    };
    ApiError::new(
        axum::http::StatusCode::CONFLICT,
        "duplicate_route",
        format!(
            "api `{api}`: route {} {}{host} is already published by api `{holder}`",
            route.method, route.path
        ),
    )
    .with_details(vec![crate::error::FieldProblem {
        field: "http".into(),
        problem: format!("{} {} belongs to api `{holder}`", route.method, route.path),
    }])
}

/// The consumers a revision carries: every app with its live credentials (hashes, sealed secrets,
/// public keys) and grants.
pub async fn compose_consumers(conn: &mut PgConnection) -> ApiResult<Vec<api_model::Consumer>> {
    let apps = sqlx::query("SELECT id, name, app_key, enabled FROM apps ORDER BY name")
        .fetch_all(&mut *conn)
        .await?;
    let mut out = Vec::with_capacity(apps.len());
    for app in &apps {
        let id: i64 = app.get("id");
        let grants: Vec<String> =
            sqlx::query_scalar("SELECT target FROM app_grants WHERE app_id = $1 ORDER BY target")
                .bind(id)
                .fetch_all(&mut *conn)
                .await?;
        let rows = sqlx::query(&format!(
            "SELECT id, kind, public_value, secret_encrypted, {} AS expires_at FROM app_credentials
             WHERE app_id = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
             ORDER BY id",
            ts("expires_at")
        ))
        .bind(id)
        .fetch_all(&mut *conn)
        .await?;
        let mut credentials = Vec::with_capacity(rows.len());
        for row in &rows {
            let id = format!("cred-{}", row.get::<i64, _>("id"));
            let expires_at = row
                .get::<Option<String>, _>("expires_at")
                .and_then(|t| humantime::parse_rfc3339(&t).ok());
            let public: String = row.get("public_value");
            let credential = match row.get::<String, _>("kind").as_str() {
                "api_key" => api_model::Credential::ApiKey {
                    id,
                    sha256: public,
                    expires_at,
                },
                "certificate" => api_model::Credential::Certificate {
                    id,
                    sha256: public,
                    expires_at,
                },
                "ed25519" => api_model::Credential::Ed25519 {
                    id,
                    public_key: public,
                    expires_at,
                },
                _ => api_model::Credential::Hmac {
                    id,
                    secret: None,
                    secret_env: None,
                    secret_encrypted: row
                        .get::<Option<Vec<u8>>, _>("secret_encrypted")
                        .map(|b| String::from_utf8_lossy(&b).into_owned()),
                    expires_at,
                },
            };
            credentials.push(credential);
        }
        out.push(api_model::Consumer {
            name: app.get("name"),
            app_key: Some(app.get("app_key")),
            enabled: app.get("enabled"),
            credentials,
            grants,
        });
    }
    Ok(out)
}
