//! /api/settings: what every revision carries besides APIs and consumers: policies for every API (an
//! API's own policy of the same kind replaces one of these) and the trusted proxies whose forwarded
//! addresses the nodes believe. Versioned with ETag / If-Match; a change applies with the next publish.

use api_model::Policy;
use api_model::policy::Cidr;
use axum::Extension;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;

use super::{JsonBody, required_if_match, stale, with_etag};
use crate::AppState;
use crate::auth::Caller;
use crate::db::audit;
use crate::error::{ApiError, ApiResult, problems_to_details};

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    #[serde(default)]
    pub policies: Vec<Policy>,
    #[serde(default)]
    pub trusted_proxies: Vec<Cidr>,
}

pub async fn get(State(state): State<AppState>) -> ApiResult<Response> {
    let row =
        sqlx::query("SELECT policies, trusted_proxies, version FROM gateway_settings WHERE id = 1")
            .fetch_one(&state.db)
            .await?;
    let version: i32 = row.get("version");
    Ok(with_etag(
        StatusCode::OK,
        version,
        json!({
            "policies": row.get::<serde_json::Value, _>("policies"),
            "trusted_proxies": row.get::<serde_json::Value, _>("trusted_proxies"),
            "version": version,
        }),
    ))
}

pub async fn update(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    JsonBody(mut value): JsonBody<serde_json::Value>,
) -> ApiResult<Response> {
    let expected = required_if_match(&headers)?;
    if let Some(object) = value.as_object_mut() {
        object.remove("version");
    }
    let settings: Settings = serde_json::from_value(value)
        .map_err(|err| ApiError::bad_request(format!("unexpected JSON content: {err}")))?;
    let config = api_model::Config {
        policies: settings.policies.clone(),
        trusted_proxies: settings.trusted_proxies.clone(),
        ..Default::default()
    };
    if let Err(err) = config.validate() {
        return Err(ApiError::invalid(
            format!("the settings are not valid: {}", err.problems.join("; ")),
            problems_to_details(&err.problems),
        ));
    }
    let policies = serde_json::to_value(&settings.policies).map_err(ApiError::internal)?;
    let proxies = serde_json::to_value(&settings.trusted_proxies).map_err(ApiError::internal)?;
    let mut tx = state.db.begin().await?;
    let current: i32 =
        sqlx::query_scalar("SELECT version FROM gateway_settings WHERE id = 1 FOR UPDATE")
            .fetch_one(&mut *tx)
            .await?;
    if current != expected {
        return Err(stale("settings", "gateway", current));
    }
    sqlx::query(
        "UPDATE gateway_settings SET policies = $1, trusted_proxies = $2, version = version + 1 WHERE id = 1",
    )
    .bind(&policies)
    .bind(&proxies)
    .execute(&mut *tx)
    .await?;
    audit(
        &mut tx,
        &caller.username,
        "settings.update",
        "gateway",
        json!({"policies": policies, "trusted_proxies": proxies}),
    )
    .await?;
    tx.commit().await?;
    Ok(with_etag(
        StatusCode::OK,
        current + 1,
        json!({"policies": policies, "trusted_proxies": proxies, "version": current + 1}),
    ))
}
