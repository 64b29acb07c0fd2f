//! Admin users: creating them, changing their role, disabling them (an admin only), and changing one's
//! own password. Every password follows one rule (`passwords::check_password`); the last active admin
//! can be neither demoted nor disabled, so the portal is never left without one. A disabled user's
//! sessions end at once.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use sqlx::Row;

use crate::AppState;
use crate::api::JsonBody;
use crate::auth::{Caller, Role};
use crate::error::{ApiError, ApiResult, FieldProblem};
use crate::names;
use crate::passwords::{check_password, hash_password, verify_password};

fn weak(why: String) -> ApiError {
    ApiError::invalid(
        format!("the password is too weak: {why}"),
        vec![FieldProblem {
            field: "password".into(),
            problem: why,
        }],
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    username: String,
    password: String,
    role: Role,
}

/// POST /api/users (admin only).
pub async fn create_user(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(user): JsonBody<NewUser>,
) -> ApiResult<Response> {
    names::check_with("user", "username", &user.username, b"@")?;
    check_password(&user.username, &user.password).map_err(weak)?;
    let password = user.password.clone();
    let hash = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    let mut tx = state.db.begin().await?;
    sqlx::query("INSERT INTO admin_users (username, password_hash, role) VALUES ($1, $2, $3)")
        .bind(&user.username)
        .bind(hash)
        .bind(user.role.as_str())
        .execute(&mut *tx)
        .await
        .map_err(|err| match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                ApiError::conflict(format!("user `{}` exists", user.username))
            }
            _ => ApiError::from(err),
        })?;
    crate::db::audit(
        &mut tx,
        &caller.username,
        "user.create",
        &user.username,
        serde_json::json!({"role": user.role}),
    )
    .await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({"username": user.username, "role": user.role, "disabled": false})),
    )
        .into_response())
}

/// GET /api/users (admin only).
pub async fn list_users(State(state): State<AppState>) -> ApiResult<Json<serde_json::Value>> {
    let rows = sqlx::query(&format!(
        "SELECT username, role, disabled, {} AS created_at FROM admin_users ORDER BY username",
        crate::db::ts("created_at")
    ))
    .fetch_all(&state.db)
    .await?;
    let items: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            serde_json::json!({
                "username": r.get::<String, _>("username"),
                "role": r.get::<String, _>("role"),
                "disabled": r.get::<bool, _>("disabled"),
                "created_at": r.get::<String, _>("created_at"),
            })
        })
        .collect();
    let total = items.len();
    Ok(Json(serde_json::json!({"items": items, "total": total})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserChange {
    #[serde(default)]
    role: Option<Role>,
    #[serde(default)]
    disabled: Option<bool>,
    /// A new password set by an admin (a reset).
    #[serde(default)]
    password: Option<String>,
}

/// PUT /api/users/{name} (admin only): role, disabled, or a password reset.
pub async fn update_user(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
    JsonBody(change): JsonBody<UserChange>,
) -> ApiResult<Json<serde_json::Value>> {
    let hash = match &change.password {
        Some(password) => {
            check_password(&name, password).map_err(weak)?;
            let password = password.clone();
            Some(
                tokio::task::spawn_blocking(move || hash_password(&password))
                    .await
                    .map_err(ApiError::internal)?
                    .map_err(ApiError::internal)?,
            )
        }
        None => None,
    };
    let mut tx = state.db.begin().await?;
    let row =
        sqlx::query("SELECT id, role, disabled FROM admin_users WHERE username = $1 FOR UPDATE")
            .bind(&name)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| ApiError::not_found("user", &name))?;
    let id: i64 = row.get("id");
    let role = change
        .role
        .map_or_else(|| row.get::<String, _>("role"), |r| r.as_str().to_string());
    let disabled = change.disabled.unwrap_or_else(|| row.get("disabled"));
    let active_admins: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM admin_users WHERE role = 'admin' AND NOT disabled AND id <> $1",
    )
    .bind(id)
    .fetch_one(&mut *tx)
    .await?;
    let was_admin = row.get::<String, _>("role") == "admin" && !row.get::<bool, _>("disabled");
    if was_admin && (role != "admin" || disabled) && active_admins == 0 {
        return Err(ApiError::conflict(
            "this is the last active admin; make another one first",
        ));
    }
    sqlx::query("UPDATE admin_users SET role = $2, disabled = $3, password_hash = COALESCE($4, password_hash) WHERE id = $1")
        .bind(id)
        .bind(&role)
        .bind(disabled)
        .bind(hash)
        .execute(&mut *tx)
        .await?;
    if disabled || change.password.is_some() {
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    crate::db::audit(
        &mut tx,
        &caller.username,
        "user.update",
        &name,
        serde_json::json!({"role": role, "disabled": disabled, "password_reset": change.password.is_some()}),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(
        serde_json::json!({"username": name, "role": role, "disabled": disabled}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    current: String,
    new: String,
}

/// PUT /api/session/password: one's own password, proving the current one. Other sessions end.
pub async fn change_password(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(change): JsonBody<PasswordChange>,
) -> ApiResult<StatusCode> {
    check_password(&caller.username, &change.new).map_err(weak)?;
    let row = sqlx::query("SELECT id, password_hash FROM admin_users WHERE username = $1")
        .bind(&caller.username)
        .fetch_one(&state.db)
        .await?;
    let (id, hash): (i64, String) = (row.get("id"), row.get("password_hash"));
    let (current, new) = (change.current, change.new);
    let fresh = tokio::task::spawn_blocking(move || {
        verify_password(&current, &hash).then(|| hash_password(&new))
    })
    .await
    .map_err(ApiError::internal)?
    .ok_or_else(|| ApiError::forbidden("the current password is wrong"))?
    .map_err(ApiError::internal)?;
    let mut tx = state.db.begin().await?;
    sqlx::query("UPDATE admin_users SET password_hash = $2 WHERE id = $1")
        .bind(id)
        .bind(fresh)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
        .bind(id)
        .bind(&caller.token_hash)
        .execute(&mut *tx)
        .await?;
    crate::db::audit(
        &mut tx,
        &caller.username,
        "user.password",
        &caller.username,
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
