//! /api/apis: what is published over HTTP. Body = `api_model::Api`. A save is checked three ways: the
//! model's `validate`, a trial build of the API with its backend and schemas through the nodes' own
//! `catalog::build`, and the database's UNIQUE(host, method, path) on the routes it claims.

use api_model::{Api, GrpcTarget};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::{PgConnection, Row};

use super::{JsonBody, Paged, SpecBody, decorate, if_match, required_if_match, stale, with_etag};
use crate::AppState;
use crate::auth::Caller;
use crate::db::{Page, audit};
use crate::definitions::{self, RouteKey, claim_routes, config_for_api, routes_of, trial_build};
use crate::error::{ApiError, ApiResult, FieldProblem};
use crate::names;

fn body(spec: Value, version: i32, published: bool, routes: &[RouteKey]) -> Value {
    let routes: Vec<Value> = routes
        .iter()
        .map(|r| json!({"host": r.host, "method": r.method, "path": r.path}))
        .collect();
    decorate(
        spec,
        &[
            ("version", json!(version)),
            ("published", json!(published)),
            ("routes", json!(routes)),
        ],
    )
}

/// Validates and trial-builds `api` against the stored backends and schemas; returns its routes.
pub async fn check(
    state: &AppState,
    conn: &mut PgConnection,
    api: &Api,
) -> ApiResult<Vec<RouteKey>> {
    names::check("api", "name", &api.name)?;
    if let Some(group) = &api.group {
        names::check("api", "group", group)?;
    }
    let backends = definitions::load_backends(conn).await?;
    let schemas = definitions::load_schemas(conn).await?;
    if !backends.iter().any(|b| b.name == api.backend) {
        let problem = format!("api `{}`: unknown backend `{}`", api.name, api.backend);
        return Err(ApiError::invalid(
            problem.clone(),
            vec![FieldProblem {
                field: "backend".into(),
                problem,
            }],
        ));
    }
    if let Some(schema) = &api.schema
        && !schemas.iter().any(|s| s.name == *schema)
    {
        let problem = format!("api `{}`: unknown schema `{schema}`", api.name);
        return Err(ApiError::invalid(
            problem.clone(),
            vec![FieldProblem {
                field: "schema".into(),
                problem,
            }],
        ));
    }
    let config = config_for_api(api, &backends, &schemas);
    trial_build(state, &config, &format!("api `{}`", api.name))?;
    routes_of(api, &schemas)
}

async fn stored_routes(conn: &mut PgConnection, api: &str) -> ApiResult<Vec<RouteKey>> {
    let rows = sqlx::query(
        "SELECT host, method, path FROM api_routes WHERE api = $1 ORDER BY host, method, path",
    )
    .bind(api)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .iter()
        .map(|r| RouteKey {
            host: r.get("host"),
            method: r.get("method"),
            path: r.get("path"),
        })
        .collect())
}

pub async fn list(State(state): State<AppState>, uri: Uri) -> ApiResult<Json<Paged<Value>>> {
    let page = Page::from_query(uri.query())?;
    let mut conn = state.db.acquire().await?;
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM apis")
        .fetch_one(&mut *conn)
        .await?;
    let rows = sqlx::query(
        "SELECT name, spec, version, published FROM apis ORDER BY name LIMIT $1 OFFSET $2",
    )
    .bind(page.limit)
    .bind(page.offset)
    .fetch_all(&mut *conn)
    .await?;
    let mut items = Vec::with_capacity(rows.len());
    for r in &rows {
        let routes = stored_routes(&mut conn, &r.get::<String, _>("name")).await?;
        items.push(body(
            r.get("spec"),
            r.get("version"),
            r.get("published"),
            &routes,
        ));
    }
    Ok(Json(Paged { items, total }))
}

pub async fn get(State(state): State<AppState>, Path(name): Path<String>) -> ApiResult<Response> {
    let mut conn = state.db.acquire().await?;
    let row = sqlx::query("SELECT spec, version, published FROM apis WHERE name = $1")
        .bind(&name)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| ApiError::not_found("api", &name))?;
    let routes = stored_routes(&mut conn, &name).await?;
    let version: i32 = row.get("version");
    Ok(with_etag(
        StatusCode::OK,
        version,
        body(row.get("spec"), version, row.get("published"), &routes),
    ))
}

/// Inserts a checked API with its routes in the caller's transaction.
pub async fn insert(
    conn: &mut PgConnection,
    api: &Api,
    published: bool,
    routes: &[RouteKey],
) -> ApiResult<Value> {
    let spec = serde_json::to_value(api).map_err(ApiError::internal)?;
    sqlx::query("INSERT INTO apis (name, backend, schema_name, spec, published) VALUES ($1, $2, $3, $4, $5)")
        .bind(&api.name)
        .bind(&api.backend)
        .bind(&api.schema)
        .bind(&spec)
        .bind(published)
        .execute(&mut *conn)
        .await?;
    claim_routes(conn, &api.name, routes).await?;
    Ok(spec)
}

/// Replaces stored API `name` (which `api` may rename) with a checked `api` and its routes, in the
/// caller's transaction; its version goes up by one.
pub async fn replace(
    conn: &mut PgConnection,
    name: &str,
    api: &Api,
    routes: &[RouteKey],
) -> ApiResult<Value> {
    let spec = serde_json::to_value(api).map_err(ApiError::internal)?;
    sqlx::query(
        "UPDATE apis SET name = $2, backend = $3, schema_name = $4, spec = $5, version = version + 1,
         updated_at = now() WHERE name = $1",
    )
    .bind(name)
    .bind(&api.name)
    .bind(&api.backend)
    .bind(&api.schema)
    .bind(&spec)
    .execute(&mut *conn)
    .await?;
    claim_routes(conn, &api.name, routes).await?;
    Ok(spec)
}

async fn create_one(state: &AppState, caller: &Caller, api: Api) -> ApiResult<Response> {
    let mut tx = state.db.begin().await?;
    let routes = check(state, &mut tx, &api).await?;
    let spec = insert(&mut tx, &api, true, &routes).await?;
    audit(
        &mut tx,
        &caller.username,
        "api.create",
        &api.name,
        spec.clone(),
    )
    .await?;
    tx.commit().await?;
    Ok(with_etag(
        StatusCode::CREATED,
        1,
        body(spec, 1, true, &routes),
    ))
}

pub async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    SpecBody(api): SpecBody<Api>,
) -> ApiResult<Response> {
    create_one(&state, &caller, api).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Generate {
    backend: String,
    schema: String,
    service: String,
    #[serde(default)]
    auto_route: bool,
    /// Defaults to the service's full name.
    #[serde(default)]
    name: Option<String>,
}

/// POST /api/apis/generate: one API covering every annotated method of a service (plus auto routes).
pub async fn generate(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(request): JsonBody<Generate>,
) -> ApiResult<Response> {
    let api: Api = serde_json::from_value(json!({
        "name": request.name.clone().unwrap_or_else(|| request.service.clone()),
        "backend": request.backend,
        "schema": request.schema,
        "grpc": GrpcTarget { service: request.service.clone(), method: None },
        "auto_route": request.auto_route,
    }))
    .map_err(ApiError::internal)?;
    create_one(&state, &caller, api).await
}

pub async fn update(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
    headers: HeaderMap,
    SpecBody(api): SpecBody<Api>,
) -> ApiResult<Response> {
    let expected = required_if_match(&headers)?;
    let mut tx = state.db.begin().await?;
    let row = sqlx::query("SELECT version, published FROM apis WHERE name = $1 FOR UPDATE")
        .bind(&name)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| ApiError::not_found("api", &name))?;
    let current: i32 = row.get("version");
    let published: bool = row.get("published");
    if current != expected {
        return Err(stale("api", &name, current));
    }
    let routes = check(&state, &mut tx, &api).await?;
    let spec = replace(&mut tx, &name, &api, &routes).await?;
    audit(&mut tx, &caller.username, "api.update", &name, spec.clone()).await?;
    tx.commit().await?;
    Ok(with_etag(
        StatusCode::OK,
        current + 1,
        body(spec, current + 1, published, &routes),
    ))
}

pub async fn delete(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    let expected = required_if_match(&headers)?;
    let mut tx = state.db.begin().await?;
    let current: i32 = sqlx::query_scalar("SELECT version FROM apis WHERE name = $1 FOR UPDATE")
        .bind(&name)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| ApiError::not_found("api", &name))?;
    if current != expected {
        return Err(stale("api", &name, current));
    }
    sqlx::query("DELETE FROM apis WHERE name = $1")
        .bind(&name)
        .execute(&mut *tx)
        .await?;
    audit(&mut tx, &caller.username, "api.delete", &name, json!({})).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Published {
    published: bool,
}

/// PUT /api/apis/{name}/published: include in (or leave out of) the next revision.
pub async fn set_published(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
    headers: HeaderMap,
    JsonBody(request): JsonBody<Published>,
) -> ApiResult<Response> {
    let expected = if_match(&headers)?;
    let mut tx = state.db.begin().await?;
    let current: i32 = sqlx::query_scalar("SELECT version FROM apis WHERE name = $1 FOR UPDATE")
        .bind(&name)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| ApiError::not_found("api", &name))?;
    if expected.is_some_and(|e| e != current) {
        return Err(stale("api", &name, current));
    }
    let row = sqlx::query(
        "UPDATE apis SET published = $2, version = version + 1, updated_at = now() WHERE name = $1
         RETURNING spec, version",
    )
    .bind(&name)
    .bind(request.published)
    .fetch_one(&mut *tx)
    .await?;
    let action = if request.published {
        "api.publish"
    } else {
        "api.unpublish"
    };
    audit(&mut tx, &caller.username, action, &name, json!({})).await?;
    let routes = stored_routes(&mut tx, &name).await?;
    tx.commit().await?;
    let version: i32 = row.get("version");
    Ok(with_etag(
        StatusCode::OK,
        version,
        body(row.get("spec"), version, request.published, &routes),
    ))
}
