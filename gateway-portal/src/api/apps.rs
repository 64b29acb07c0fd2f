//! /api/apps: consumers (the apps and partners that call APIs) and their grants; their credentials are
//! `credentials.rs`'s. Every change publishes a revision that carries the consumers as they now are
//! with the APIs already published, so it takes effect at once.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::{PgConnection, Row};

use super::{JsonBody, Paged, required_if_match, stale, with_etag};
use crate::AppState;
use crate::auth::Caller;
use crate::db::{audit, ts};
use crate::error::{ApiError, ApiResult};

/// What an app's create and update bodies say.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppBody {
    pub name: String,
    /// The public id a partner signs with; the name when absent.
    #[serde(default)]
    pub app_key: Option<String>,
    #[serde(default)]
    pub description: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// API names, or `group:NAME`.
    #[serde(default)]
    pub grants: Vec<String>,
}

fn yes() -> bool {
    true
}

/// An app key, like a name: letters, digits, `.`, `_`, `-`, at most 64.
fn valid_key(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 64
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

fn check(app: &AppBody) -> ApiResult<()> {
    if !valid_key(&app.name) {
        return Err(ApiError::bad_request(
            "an app name is 1 to 64 letters, digits, '.', '_' or '-'",
        ));
    }
    if let Some(key) = &app.app_key
        && !valid_key(key)
    {
        return Err(ApiError::bad_request(
            "an app key is 1 to 64 letters, digits, '.', '_' or '-'",
        ));
    }
    if let Some(grant) = app.grants.iter().find(|g| g.trim().is_empty()) {
        return Err(ApiError::bad_request(format!("grant `{grant}` is empty")));
    }
    Ok(())
}

/// Grants must name an API that exists, or a group (any name: a group can be granted before its APIs).
async fn check_grants(conn: &mut PgConnection, grants: &[String]) -> ApiResult<()> {
    for grant in grants {
        if grant.starts_with("group:") {
            continue;
        }
        let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM apis WHERE name = $1)")
            .bind(grant)
            .fetch_one(&mut *conn)
            .await?;
        if !exists {
            return Err(ApiError::bad_request(format!(
                "grant `{grant}` names no API (for a group, write `group:NAME`)"
            )));
        }
    }
    Ok(())
}

/// When each credential was last used, as the nodes record it in Redis (empty without Redis).
pub(super) async fn last_used(state: &AppState) -> HashMap<String, i64> {
    let Some(redis) = &state.services.redis else {
        return HashMap::new();
    };
    let mut command = redis::cmd("HGETALL");
    command.arg(gateway_web::stores::usage::KEY);
    redis
        .query::<HashMap<String, i64>>(&command)
        .await
        .unwrap_or_default()
}

/// One app as the API shows it, with its grants and credentials (never a secret).
pub(super) async fn load(
    conn: &mut PgConnection,
    name: &str,
    used: &HashMap<String, i64>,
) -> ApiResult<Option<(i64, i32, Value)>> {
    let Some(row) = sqlx::query(&format!(
        "SELECT id, name, app_key, description, enabled, version, {} AS created_at FROM apps WHERE name = $1",
        ts("created_at")
    ))
    .bind(name)
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let id: i64 = row.get("id");
    let version: i32 = row.get("version");
    let grants: Vec<String> =
        sqlx::query_scalar("SELECT target FROM app_grants WHERE app_id = $1 ORDER BY target")
            .bind(id)
            .fetch_all(&mut *conn)
            .await?;
    let credentials = sqlx::query(&format!(
        "SELECT id, kind, label, slot, secret_hint, public_value,
                {} AS created_at, {} AS expires_at, {} AS revoked_at
         FROM app_credentials WHERE app_id = $1 ORDER BY id",
        ts("created_at"),
        ts("expires_at"),
        ts("revoked_at")
    ))
    .bind(id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|c| {
        let credential_id = format!("cred-{}", c.get::<i64, _>("id"));
        let kind: String = c.get("kind");
        let hint: String = c.get("secret_hint");
        json!({
            "id": credential_id,
            "kind": kind,
            "label": c.get::<String, _>("label"),
            "slot": c.get::<Option<i16>, _>("slot"),
            // The last four characters, so a partner can tell which secret is which.
            "hint": if hint.is_empty() { Value::Null } else { json!(format!("…{hint}")) },
            "public_value": if kind == "ed25519" || kind == "certificate" { json!(c.get::<String, _>("public_value")) } else { Value::Null },
            "created_at": c.get::<String, _>("created_at"),
            "expires_at": c.get::<Option<String>, _>("expires_at"),
            "revoked_at": c.get::<Option<String>, _>("revoked_at"),
            "last_used_at": used.get(&credential_id).map(|ms| millis_text(*ms)),
        })
    })
    .collect::<Vec<_>>();
    let body = json!({
        "name": row.get::<String, _>("name"),
        "app_key": row.get::<String, _>("app_key"),
        "description": row.get::<String, _>("description"),
        "enabled": row.get::<bool, _>("enabled"),
        "version": version,
        "created_at": row.get::<String, _>("created_at"),
        "grants": grants,
        "credentials": credentials,
    });
    Ok(Some((id, version, body)))
}

/// Unix milliseconds as RFC 3339 UTC.
fn millis_text(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

pub async fn list(State(state): State<AppState>) -> ApiResult<Json<Paged<Value>>> {
    let used = last_used(&state).await;
    let mut conn = state.db.acquire().await?;
    let names: Vec<String> = sqlx::query_scalar("SELECT name FROM apps ORDER BY name")
        .fetch_all(&mut *conn)
        .await?;
    let mut items = Vec::with_capacity(names.len());
    for name in &names {
        if let Some((_, _, body)) = load(&mut conn, name, &used).await? {
            items.push(body);
        }
    }
    Ok(Json(Paged {
        total: items.len() as i64,
        items,
    }))
}

pub async fn get(State(state): State<AppState>, Path(name): Path<String>) -> ApiResult<Response> {
    let used = last_used(&state).await;
    let mut conn = state.db.acquire().await?;
    let (_, version, body) = load(&mut conn, &name, &used)
        .await?
        .ok_or_else(|| ApiError::not_found("app", &name))?;
    Ok(with_etag(StatusCode::OK, version, body))
}

async fn replace_grants(conn: &mut PgConnection, app: i64, grants: &[String]) -> ApiResult<()> {
    sqlx::query("DELETE FROM app_grants WHERE app_id = $1")
        .bind(app)
        .execute(&mut *conn)
        .await?;
    for grant in grants {
        sqlx::query(
            "INSERT INTO app_grants (app_id, target) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(app)
        .bind(grant.trim())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

pub async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(app): JsonBody<AppBody>,
) -> ApiResult<Response> {
    check(&app)?;
    let mut tx = state.db.begin().await?;
    check_grants(&mut tx, &app.grants).await?;
    let key = app.app_key.clone().unwrap_or_else(|| app.name.clone());
    let taken: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM apps WHERE name = $1 OR app_key = $2)")
            .bind(&app.name)
            .bind(&key)
            .fetch_one(&mut *tx)
            .await?;
    if taken {
        return Err(ApiError::conflict(format!(
            "an app named `{}` or with app key `{key}` exists",
            app.name
        )));
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO apps (name, app_key, description, enabled) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(&app.name)
    .bind(&key)
    .bind(&app.description)
    .bind(app.enabled)
    .fetch_one(&mut *tx)
    .await?;
    replace_grants(&mut tx, id, &app.grants).await?;
    audit(
        &mut tx,
        &caller.username,
        "app.create",
        &app.name,
        json!({"app_key": key, "grants": app.grants}),
    )
    .await?;
    super::revisions::publish_consumers(
        &state,
        &mut tx,
        &caller,
        &format!("app {} created", app.name),
    )
    .await?;
    tx.commit().await?;
    let mut conn = state.db.acquire().await?;
    let (_, version, body) = load(&mut conn, &app.name, &HashMap::new())
        .await?
        .ok_or_else(|| ApiError::internal("the app vanished"))?;
    Ok(with_etag(StatusCode::CREATED, version, body))
}

pub async fn update(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
    headers: HeaderMap,
    JsonBody(app): JsonBody<AppBody>,
) -> ApiResult<Response> {
    let expected = required_if_match(&headers)?;
    check(&app)?;
    if app.name != name {
        return Err(ApiError::bad_request(
            "an app cannot be renamed; its name is its consumer id",
        ));
    }
    let mut tx = state.db.begin().await?;
    check_grants(&mut tx, &app.grants).await?;
    let row = sqlx::query("SELECT id, version, app_key FROM apps WHERE name = $1 FOR UPDATE")
        .bind(&name)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| ApiError::not_found("app", &name))?;
    let (id, current): (i64, i32) = (row.get("id"), row.get("version"));
    if current != expected {
        return Err(stale("app", &name, current));
    }
    let key = app.app_key.clone().unwrap_or_else(|| row.get("app_key"));
    sqlx::query(
        "UPDATE apps SET app_key = $2, description = $3, enabled = $4, version = version + 1 WHERE id = $1",
    )
    .bind(id)
    .bind(&key)
    .bind(&app.description)
    .bind(app.enabled)
    .execute(&mut *tx)
    .await
    .map_err(|err| match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            ApiError::conflict(format!("app key `{key}` belongs to another app"))
        }
        _ => ApiError::from(err),
    })?;
    replace_grants(&mut tx, id, &app.grants).await?;
    audit(
        &mut tx,
        &caller.username,
        "app.update",
        &name,
        json!({"enabled": app.enabled, "grants": app.grants}),
    )
    .await?;
    super::revisions::publish_consumers(&state, &mut tx, &caller, &format!("app {name} changed"))
        .await?;
    tx.commit().await?;
    let mut conn = state.db.acquire().await?;
    let (_, version, body) = load(&mut conn, &name, &last_used(&state).await)
        .await?
        .ok_or_else(|| ApiError::internal("the app vanished"))?;
    Ok(with_etag(StatusCode::OK, version, body))
}

pub async fn delete(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    let expected = required_if_match(&headers)?;
    let mut tx = state.db.begin().await?;
    let current: i32 = sqlx::query_scalar("SELECT version FROM apps WHERE name = $1 FOR UPDATE")
        .bind(&name)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| ApiError::not_found("app", &name))?;
    if current != expected {
        return Err(stale("app", &name, current));
    }
    sqlx::query("DELETE FROM apps WHERE name = $1")
        .bind(&name)
        .execute(&mut *tx)
        .await?;
    audit(&mut tx, &caller.username, "app.delete", &name, json!({})).await?;
    super::revisions::publish_consumers(&state, &mut tx, &caller, &format!("app {name} deleted"))
        .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
