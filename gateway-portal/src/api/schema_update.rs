//! Updating a schema: `PUT /api/schemas/{name}` saves a new version, `POST /api/schemas/{name}/preview`
//! shows what it would do and saves nothing. The body is a new source (`proto`, `descriptor_set_base64`
//! or `reflection`), or `{}` to pull again with the stored reflection settings.
//!
//! Both answer with what changed (services, methods, fields, enum values added, removed or retyped) and
//! the APIs it breaks: every API that builds on the current version and not on the new one, or whose
//! routes would collide. An update that breaks an API is refused (409 `breaking_change`, one detail per
//! API) unless `?allow_breaking=true`; the APIs then stay as they are, and a publish refuses to build
//! until they are fixed, so nodes never receive a broken binding.

use api_model::{Api, Backend};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use axum::{Extension, Json};
use serde_json::{Value, json};
use sqlx::{PgConnection, Row};

use super::schemas::{Compiled, NewSchema, ReflectionPull, compile, describe};
use super::{JsonBody, if_match, stale, with_etag};
use crate::AppState;
use crate::auth::Caller;
use crate::db::audit;
use crate::definitions::{self, StoredSchema, claim_routes, config_for_api, routes_of};
use crate::error::{ApiError, ApiResult, FieldProblem};

/// `?allow_breaking=true`: save even though bound APIs break (they then block publishing until fixed).
fn allow_breaking(uri: &Uri) -> ApiResult<bool> {
    let mut allow = false;
    for pair in uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
    {
        allow = match pair {
            "allow_breaking=true" => true,
            "allow_breaking=false" => false,
            _ => {
                return Err(ApiError::bad_request(format!(
                    "unknown query parameter `{pair}`: only allow_breaking=true|false is read"
                )));
            }
        };
    }
    Ok(allow)
}

/// An API the new version breaks, and why.
struct Broken {
    api: String,
    problems: Vec<String>,
}

/// What an update would do, worked out inside the caller's transaction.
struct Outcome {
    current: i32,
    compiled: Compiled,
    changes: Vec<proto_registry::SchemaChange>,
    broken: Vec<Broken>,
    /// Bound APIs that still build, with their routes under the new version.
    rerouted: Vec<(String, Vec<definitions::RouteKey>)>,
}

pub async fn update(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    JsonBody(schema): JsonBody<NewSchema>,
) -> ApiResult<Response> {
    let allow_breaking = allow_breaking(&uri)?;
    let expected = if_match(&headers)?;
    let mut tx = state.db.begin().await?;
    let outcome = work_out(&state, &mut tx, &name, schema, expected).await?;
    if !outcome.broken.is_empty() && !allow_breaking {
        return Err(breaking(&name, &outcome.broken));
    }
    for (api, routes) in &outcome.rerouted {
        claim_routes(&mut tx, api, routes).await?;
    }
    let compiled = &outcome.compiled;
    let version: i32 = sqlx::query_scalar(
        "UPDATE schemas SET kind = $2, descriptor_set = $3, sources = $4, compile = $5, reflection = $6,
         version = version + 1, updated_at = now() WHERE name = $1 RETURNING version",
    )
    .bind(&name)
    .bind(compiled.kind)
    .bind(compiled.pool.encode_to_vec())
    .bind(&compiled.sources)
    .bind(&compiled.compile)
    .bind(&compiled.reflection)
    .fetch_one(&mut *tx)
    .await?;
    let report = report(&name, version, &outcome);
    audit(
        &mut tx,
        &caller.username,
        "schema.update",
        &name,
        json!({"from": outcome.current, "changes": report["changes"], "broken": report["broken"]}),
    )
    .await?;
    tx.commit().await?;
    Ok(with_etag(StatusCode::OK, version, report))
}

pub async fn preview(
    State(state): State<AppState>,
    Path(name): Path<String>,
    JsonBody(schema): JsonBody<NewSchema>,
) -> ApiResult<Json<Value>> {
    let mut tx = state.db.begin().await?;
    let outcome = work_out(&state, &mut tx, &name, schema, None).await?;
    // Nothing was written; the transaction only held the row still while comparing.
    tx.rollback().await?;
    Ok(Json(report(&name, outcome.current, &outcome)))
}

async fn work_out(
    state: &AppState,
    conn: &mut PgConnection,
    name: &str,
    mut schema: NewSchema,
    expected: Option<i32>,
) -> ApiResult<Outcome> {
    if !schema.name.is_empty() && schema.name != name {
        return Err(ApiError::bad_request(format!(
            "the body names schema `{}` but the path `{name}`; a schema is not renamed",
            schema.name
        )));
    }
    let row = sqlx::query(
        "SELECT version, descriptor_set, reflection FROM schemas WHERE name = $1 FOR UPDATE",
    )
    .bind(name)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| ApiError::not_found("schema", name))?;
    let current: i32 = row.get("version");
    if expected.is_some_and(|e| e != current) {
        return Err(stale("schema", name, current));
    }
    if schema.is_empty() {
        let stored: Option<Value> = row.get("reflection");
        let pull: ReflectionPull = stored
            .map(serde_json::from_value)
            .transpose()
            .map_err(ApiError::internal)?
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "schema `{name}` was not pulled by reflection: send its new `proto` or \
                     `descriptor_set_base64`"
                ))
            })?;
        schema.reflection = Some(pull);
    }
    let compiled = compile(state, &schema).await?;
    let old = StoredSchema {
        name: name.to_string(),
        descriptor_set: row.get("descriptor_set"),
    };
    let new = StoredSchema {
        name: name.to_string(),
        descriptor_set: compiled.pool.encode_to_vec(),
    };
    let changes = proto_registry::diff(&definitions::decode(&old)?, &compiled.pool);
    let (broken, rerouted) = bindings(state, conn, old, new).await?;
    Ok(Outcome {
        current,
        compiled,
        changes,
        broken,
        rerouted,
    })
}

/// Builds every API that may use the schema (bound to it by name, or to no schema at all) against the
/// old and the new version: those that built and no longer do are broken.
async fn bindings(
    state: &AppState,
    conn: &mut PgConnection,
    old: StoredSchema,
    new: StoredSchema,
) -> ApiResult<(Vec<Broken>, Vec<(String, Vec<definitions::RouteKey>)>)> {
    let backends = definitions::load_backends(conn).await?;
    let others: Vec<StoredSchema> = definitions::load_schemas(conn)
        .await?
        .into_iter()
        .filter(|s| s.name != old.name)
        .collect();
    let rows = sqlx::query(
        "SELECT spec FROM apis WHERE schema_name = $1 OR schema_name IS NULL ORDER BY name",
    )
    .bind(&old.name)
    .fetch_all(&mut *conn)
    .await?;
    let after: Vec<StoredSchema> = others.iter().cloned().chain([new]).collect();
    let before: Vec<StoredSchema> = others.into_iter().chain([old]).collect();
    let mut broken = Vec::new();
    let mut rerouted = Vec::new();
    for row in rows {
        let api: Api = serde_json::from_value(row.get("spec")).map_err(ApiError::internal)?;
        if !uses_grpc_schema(&api, &backends)
            || !problems(state, &api, &backends, &before).is_empty()
        {
            continue;
        }
        let problems = problems(state, &api, &backends, &after);
        if problems.is_empty() {
            rerouted.push((api.name.clone(), routes_of(&api, &after)?));
        } else {
            broken.push(Broken {
                api: api.name,
                problems,
            });
        }
    }
    Ok((broken, rerouted))
}

/// Only gRPC APIs read schemas; a Dubbo or HTTP API bound to no schema is not affected.
fn uses_grpc_schema(api: &Api, backends: &[Backend]) -> bool {
    backends
        .iter()
        .find(|b| b.name == api.backend)
        .is_some_and(|b| b.protocol == api_model::Protocol::Grpc)
}

fn problems(
    state: &AppState,
    api: &Api,
    backends: &[Backend],
    schemas: &[StoredSchema],
) -> Vec<String> {
    let config = config_for_api(api, backends, schemas);
    if let Err(err) = config.validate() {
        return err.problems;
    }
    match gateway_web::catalog::check(&config, &state.services) {
        Ok(_) => Vec::new(),
        Err(err) => err.problems,
    }
}

fn breaking(name: &str, broken: &[Broken]) -> ApiError {
    let apis: Vec<String> = broken.iter().map(|b| format!("`{}`", b.api)).collect();
    ApiError::new(
        StatusCode::CONFLICT,
        "breaking_change",
        format!(
            "the new version of schema `{name}` breaks api {}; fix them first, or save with \
             ?allow_breaking=true (publishing stays refused until they build)",
            apis.join(", ")
        ),
    )
    .with_details(
        broken
            .iter()
            .flat_map(|b| {
                b.problems.iter().map(|problem| FieldProblem {
                    field: format!("apis.{}", b.api),
                    problem: problem.clone(),
                })
            })
            .collect(),
    )
}

fn report(name: &str, version: i32, outcome: &Outcome) -> Value {
    let changes: Vec<Value> = outcome
        .changes
        .iter()
        .map(|c| {
            json!({"change": c.change.as_str(), "element": c.element, "name": c.name, "detail": c.detail})
        })
        .collect();
    let broken: Vec<Value> = outcome
        .broken
        .iter()
        .map(|b| json!({"api": b.api, "problems": b.problems}))
        .collect();
    json!({
        "name": name,
        "version": version,
        "kind": outcome.compiled.kind,
        "changes": changes,
        "broken": broken,
        "services": describe(&outcome.compiled.pool),
    })
}
