//! /api/revisions: publishing. A revision is the whole configuration composed from the tables, built
//! first exactly as a node builds it, then inserted with `NOTIFY gateway_revisions, '<id>'` in the same
//! transaction. A restore publishes a new revision with an older configuration: ids only grow. Every
//! publish holds one advisory lock from reading the definitions to committing, so they are serialised.

use api_model::Config;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::Row;

use super::{Paged, parse_id, parse_json};
use crate::AppState;
use crate::auth::Caller;
use crate::db::{Page, audit, ts};
use crate::definitions::{compose_revision, trial_build};
use crate::error::{ApiError, ApiResult};

/// The channel gateway nodes LISTEN on (fixed by migrations/0001).
pub const CHANNEL: &str = "gateway_revisions";

/// The advisory lock every publish holds from reading the definitions to inserting its revision, so
/// publishes are serialised: each one reads what the previous one committed, and a revision never
/// drops an edit an earlier revision carried (nodes serve each revision they are told of).
const PUBLISH_LOCK: i64 = 0x6777_7075_626c_6973; // "gwpublis"

async fn serialise_publishes(tx: &mut sqlx::Transaction<'_, sqlx::Postgres>) -> ApiResult<()> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(PUBLISH_LOCK)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct NewRevision {
    #[serde(default)]
    comment: String,
}

/// Checks `config` as a node would, then inserts it and notifies, in the caller's transaction.
async fn insert(
    state: &AppState,
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    caller: &Caller,
    config: &Config,
    comment: &str,
    restored_from: Option<i64>,
) -> ApiResult<i64> {
    trial_build(state, config, "the revision")?;
    let config_json = serde_json::to_value(config).map_err(ApiError::internal)?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO revisions (config, created_by, comment, restored_from) VALUES ($1, $2, $3, $4)
         RETURNING id",
    )
    .bind(&config_json)
    .bind(&caller.username)
    .bind(comment)
    .bind(restored_from)
    .fetch_one(&mut **tx)
    .await?;
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(CHANNEL)
        .bind(id.to_string())
        .execute(&mut **tx)
        .await?;
    let action = if restored_from.is_some() {
        "revision.restore"
    } else {
        "revision.publish"
    };
    audit(
        tx,
        &caller.username,
        action,
        &id.to_string(),
        json!({
            "comment": comment,
            "restored_from": restored_from,
            "apis": config.apis.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(),
            "consumers": config.consumers.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        }),
    )
    .await?;
    Ok(id)
}

/// After a change to apps or credentials: a revision with the APIs of the newest one and the consumers
/// as they are now, in the change's own transaction, so a revoked key stops working at once and an
/// API edited but not yet published stays unpublished. Nothing is published before the first revision.
pub async fn publish_consumers(
    state: &AppState,
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    caller: &Caller,
    comment: &str,
) -> ApiResult<()> {
    serialise_publishes(tx).await?;
    let newest: Option<Value> =
        sqlx::query_scalar("SELECT config FROM revisions ORDER BY id DESC LIMIT 1")
            .fetch_optional(&mut **tx)
            .await?;
    let Some(newest) = newest else {
        return Ok(());
    };
    let mut config: Config = serde_json::from_value(newest).map_err(ApiError::internal)?;
    config.consumers = crate::definitions::compose_consumers(tx).await?;
    insert(state, tx, caller, &config, comment, None).await?;
    Ok(())
}

pub async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> ApiResult<Response> {
    // The body is optional: an empty one publishes without a comment.
    let request: NewRevision = if body.iter().all(u8::is_ascii_whitespace) {
        NewRevision::default()
    } else {
        parse_json(&body)?
    };
    let mut tx = state.db.begin().await?;
    serialise_publishes(&mut tx).await?;
    let config = compose_revision(&mut tx).await?;
    let id = insert(&state, &mut tx, &caller, &config, &request.comment, None).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(json!({"id": id}))).into_response())
}

fn summary(r: &sqlx::postgres::PgRow) -> Value {
    json!({
        "id": r.get::<i64, _>("id"),
        "created_at": r.get::<String, _>("created_at"),
        "created_by": r.get::<String, _>("created_by"),
        "comment": r.get::<String, _>("comment"),
        "restored_from": r.get::<Option<i64>, _>("restored_from"),
    })
}

pub async fn list(State(state): State<AppState>, uri: Uri) -> ApiResult<Json<Paged<Value>>> {
    let page = Page::from_query(uri.query())?;
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM revisions")
        .fetch_one(&state.db)
        .await?;
    let rows = sqlx::query(&format!(
        "SELECT id, {} AS created_at, created_by, comment, restored_from FROM revisions
         ORDER BY id DESC LIMIT $1 OFFSET $2",
        ts("created_at")
    ))
    .bind(page.limit)
    .bind(page.offset)
    .fetch_all(&state.db)
    .await?;
    Ok(Json(Paged {
        items: rows.iter().map(summary).collect(),
        total,
    }))
}

async fn load(state: &AppState, id: i64) -> ApiResult<(sqlx::postgres::PgRow, Value)> {
    let row = sqlx::query(&format!(
        "SELECT id, {} AS created_at, created_by, comment, restored_from, config FROM revisions WHERE id = $1",
        ts("created_at")
    ))
    .bind(id)
    .fetch_optional(&state.db)
    .await?
    .ok_or_else(|| ApiError::not_found("revision", &id.to_string()))?;
    let config: Value = row.get("config");
    Ok((row, config))
}

pub async fn get(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let (row, config) = load(&state, parse_id(&id)?).await?;
    let mut body = summary(&row);
    body["config"] = config;
    Ok(Json(body))
}

/// POST /api/revisions/{id}/restore: makes that revision's definitions the working state and publishes
/// them as a new revision (`adopt`).
pub async fn restore(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = parse_id(&id)?;
    let (_, config) = load(&state, id).await?;
    let config: Config = serde_json::from_value(config).map_err(|err| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unreadable_revision",
            format!("revision {id} no longer parses as a configuration: {err}"),
        )
    })?;
    // A restore brings back the APIs, never old credentials: a key revoked since stays revoked. Its
    // definitions become the working state, and the revision is composed from it like any publish.
    let mut tx = state.db.begin().await?;
    serialise_publishes(&mut tx).await?;
    crate::adopt::adopt(&mut tx, &config).await?;
    let config = compose_revision(&mut tx).await?;
    let comment = format!("restore of revision {id}");
    let new_id = insert(&state, &mut tx, &caller, &config, &comment, Some(id)).await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": new_id, "restored_from": id})),
    )
        .into_response())
}
