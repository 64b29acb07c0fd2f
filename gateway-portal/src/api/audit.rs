//! GET /api/audit: who changed what, newest first.

use axum::Json;
use axum::extract::State;
use axum::http::Uri;
use serde_json::{Value, json};
use sqlx::Row;

use super::Paged;
use crate::AppState;
use crate::db::{Page, ts};
use crate::error::ApiResult;

pub async fn list(State(state): State<AppState>, uri: Uri) -> ApiResult<Json<Paged<Value>>> {
    let page = Page::from_query(uri.query())?;
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log")
        .fetch_one(&state.db)
        .await?;
    let rows = sqlx::query(&format!(
        "SELECT id, {} AS at, actor, action, target, detail FROM audit_log
         ORDER BY id DESC LIMIT $1 OFFSET $2",
        ts("at")
    ))
    .bind(page.limit)
    .bind(page.offset)
    .fetch_all(&state.db)
    .await?;
    let items = rows
        .iter()
        .map(|r| {
            json!({
                "id": r.get::<i64, _>("id"),
                "at": r.get::<String, _>("at"),
                "actor": r.get::<String, _>("actor"),
                "action": r.get::<String, _>("action"),
                "target": r.get::<String, _>("target"),
                "detail": r.get::<Value, _>("detail"),
            })
        })
        .collect();
    Ok(Json(Paged { items, total }))
}
