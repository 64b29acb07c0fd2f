//! /api/backends: where calls go. Body = `api_model::Backend`; versioned with ETag / If-Match.

use api_model::Backend;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use axum::{Extension, Json};
use serde_json::json;
use sqlx::Row;

use super::{Paged, SpecBody, decorate, required_if_match, stale, with_etag};
use crate::AppState;
use crate::auth::Caller;
use crate::db::{Page, audit};
use crate::error::{ApiError, ApiResult, problems_to_details};
use crate::names;

fn check(backend: &Backend) -> ApiResult<()> {
    names::check("backend", "name", &backend.name)?;
    let config = api_model::Config {
        backends: vec![backend.clone()],
        ..Default::default()
    };
    let problems = config
        .validate()
        .err()
        .map(|e| e.problems)
        .unwrap_or_default();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid(
            format!("backend is not valid: {}", problems.join("; ")),
            problems_to_details(&problems),
        ))
    }
}

fn body(spec: serde_json::Value, version: i32) -> serde_json::Value {
    decorate(spec, &[("version", json!(version))])
}

pub async fn list(
    State(state): State<AppState>,
    uri: Uri,
) -> ApiResult<Json<Paged<serde_json::Value>>> {
    let page = Page::from_query(uri.query())?;
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM backends")
        .fetch_one(&state.db)
        .await?;
    let rows = sqlx::query("SELECT spec, version FROM backends ORDER BY name LIMIT $1 OFFSET $2")
        .bind(page.limit)
        .bind(page.offset)
        .fetch_all(&state.db)
        .await?;
    let items = rows
        .iter()
        .map(|r| body(r.get("spec"), r.get("version")))
        .collect();
    Ok(Json(Paged { items, total }))
}

pub async fn get(State(state): State<AppState>, Path(name): Path<String>) -> ApiResult<Response> {
    let row = sqlx::query("SELECT spec, version FROM backends WHERE name = $1")
        .bind(&name)
        .fetch_optional(&state.db)
        .await?
        .ok_or_else(|| ApiError::not_found("backend", &name))?;
    let version: i32 = row.get("version");
    Ok(with_etag(
        StatusCode::OK,
        version,
        body(row.get("spec"), version),
    ))
}

pub async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    SpecBody(backend): SpecBody<Backend>,
) -> ApiResult<Response> {
    check(&backend)?;
    let spec = serde_json::to_value(&backend).map_err(ApiError::internal)?;
    let mut tx = state.db.begin().await?;
    sqlx::query("INSERT INTO backends (name, spec) VALUES ($1, $2)")
        .bind(&backend.name)
        .bind(&spec)
        .execute(&mut *tx)
        .await?;
    audit(
        &mut tx,
        &caller.username,
        "backend.create",
        &backend.name,
        spec.clone(),
    )
    .await?;
    tx.commit().await?;
    Ok(with_etag(StatusCode::CREATED, 1, body(spec, 1)))
}

pub async fn update(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
    headers: HeaderMap,
    SpecBody(backend): SpecBody<Backend>,
) -> ApiResult<Response> {
    let expected = required_if_match(&headers)?;
    check(&backend)?;
    let spec = serde_json::to_value(&backend).map_err(ApiError::internal)?;
    let mut tx = state.db.begin().await?;
    let current: i32 =
        sqlx::query_scalar("SELECT version FROM backends WHERE name = $1 FOR UPDATE")
            .bind(&name)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| ApiError::not_found("backend", &name))?;
    if current != expected {
        return Err(stale("backend", &name, current));
    }
    // A rename cascades to apis.backend; the API specs carry the name too, so they follow here.
    sqlx::query(
        "UPDATE backends SET name = $2, spec = $3, version = version + 1, updated_at = now() WHERE name = $1",
    )
    .bind(&name)
    .bind(&backend.name)
    .bind(&spec)
    .execute(&mut *tx)
    .await?;
    if backend.name != name {
        sqlx::query(
            "UPDATE apis SET spec = jsonb_set(spec, '{backend}', to_jsonb($1::text)), version = version + 1
             WHERE backend = $1",
        )
        .bind(&backend.name)
        .execute(&mut *tx)
        .await?;
    }
    audit(
        &mut tx,
        &caller.username,
        "backend.update",
        &name,
        spec.clone(),
    )
    .await?;
    tx.commit().await?;
    Ok(with_etag(
        StatusCode::OK,
        current + 1,
        body(spec, current + 1),
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
    let current: i32 =
        sqlx::query_scalar("SELECT version FROM backends WHERE name = $1 FOR UPDATE")
            .bind(&name)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| ApiError::not_found("backend", &name))?;
    if current != expected {
        return Err(stale("backend", &name, current));
    }
    let users: Vec<String> =
        sqlx::query_scalar("SELECT name FROM apis WHERE backend = $1 ORDER BY name")
            .bind(&name)
            .fetch_all(&mut *tx)
            .await?;
    if !users.is_empty() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "in_use",
            format!("backend `{name}` is used by api(s) {}", users.join(", ")),
        ));
    }
    sqlx::query("DELETE FROM backends WHERE name = $1")
        .bind(&name)
        .execute(&mut *tx)
        .await?;
    audit(
        &mut tx,
        &caller.username,
        "backend.delete",
        &name,
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
