//! Export and import of all definitions as the standalone YAML document (`api_model::Config`, schemas
//! embedded as base64 descriptor sets). Export → import → export gives the same bytes: every list is
//! ordered by name and schemas travel as the descriptor sets they are stored as.

use api_model::Config;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use base64::Engine as _;
use serde_json::json;

use crate::AppState;
use crate::api::apis;
use crate::auth::Caller;
use crate::db::audit;
use crate::definitions::{StoredSchema, compose, routes_of, trial_build};
use crate::error::{ApiError, ApiResult, FieldProblem};
use crate::names;

/// GET /api/export: every backend, schema and API (published or not).
pub async fn export(State(state): State<AppState>) -> ApiResult<Response> {
    let mut conn = state.db.acquire().await?;
    let config = compose(&mut conn, false).await?;
    let yaml = config.to_yaml().map_err(ApiError::internal)?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/yaml"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"gateway.yaml\"",
            ),
        ],
        yaml,
    )
        .into_response())
}

/// POST /api/import: replaces all definitions with the YAML document, in one transaction, after it
/// validated and built whole. Imported APIs are published (a standalone file serves all its APIs).
pub async fn import(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> ApiResult<Response> {
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError::bad_request("the document is not UTF-8 text"))?;
    let mut config = Config::from_yaml(text)
        .map_err(|err| ApiError::bad_request(format!("not a gateway configuration: {err}")))?;
    let mut stored = Vec::with_capacity(config.schemas.len());
    let mut problems = Vec::new();
    // The names the document brings in, held to the rules the forms apply.
    let named = (config.backends.iter().map(|b| ("backends", &b.name)))
        .chain(config.schemas.iter().map(|s| ("schemas", &s.name)))
        .chain(config.apis.iter().map(|a| ("apis", &a.name)))
        .chain(
            config
                .apis
                .iter()
                .filter_map(|a| a.group.as_ref().map(|g| ("apis.group", g))),
        );
    for (list, name) in named {
        if let Some(problem) = names::problem(name, b"") {
            problems.push(FieldProblem {
                field: format!("{list}.{}", name.escape_debug()),
                problem,
            });
        }
    }
    for schema in &config.schemas {
        let Some(text) = &schema.descriptor_set_base64 else {
            problems.push(FieldProblem {
                field: format!("schemas.{}", schema.name),
                problem:
                    "only descriptor_set_base64 schemas can be imported (export embeds them so)"
                        .into(),
            });
            continue;
        };
        match base64::engine::general_purpose::STANDARD.decode(text.trim()) {
            Ok(bytes) => stored.push(StoredSchema {
                name: schema.name.clone(),
                descriptor_set: bytes,
            }),
            Err(err) => problems.push(FieldProblem {
                field: format!("schemas.{}", schema.name),
                problem: format!("not base64: {err}"),
            }),
        }
    }
    if !problems.is_empty() {
        return Err(ApiError::invalid(
            "the document's names or schemas cannot be imported",
            problems,
        ));
    }
    trial_build(&state, &config, "the imported document")?;
    config.backends.sort_by(|a, b| a.name.cmp(&b.name));
    config.apis.sort_by(|a, b| a.name.cmp(&b.name));

    let mut tx = state.db.begin().await?;
    // Children first; api_routes go with their APIs.
    sqlx::query("DELETE FROM apis").execute(&mut *tx).await?;
    sqlx::query("DELETE FROM schemas").execute(&mut *tx).await?;
    sqlx::query("DELETE FROM backends")
        .execute(&mut *tx)
        .await?;
    for backend in &config.backends {
        let spec = serde_json::to_value(backend).map_err(ApiError::internal)?;
        sqlx::query("INSERT INTO backends (name, spec) VALUES ($1, $2)")
            .bind(&backend.name)
            .bind(spec)
            .execute(&mut *tx)
            .await?;
    }
    for schema in &stored {
        sqlx::query(
            "INSERT INTO schemas (name, kind, descriptor_set) VALUES ($1, 'descriptor_set', $2)",
        )
        .bind(&schema.name)
        .bind(&schema.descriptor_set)
        .execute(&mut *tx)
        .await?;
    }
    for api in &config.apis {
        let routes = routes_of(api, &stored)?;
        apis::insert(&mut tx, api, true, &routes).await?;
    }
    audit(
        &mut tx,
        &caller.username,
        "definitions.import",
        "",
        json!({
            "backends": config.backends.len(),
            "schemas": config.schemas.len(),
            "apis": config.apis.len(),
        }),
    )
    .await?;
    tx.commit().await?;
    Ok((
        StatusCode::OK,
        Json(json!({
            "backends": config.backends.len(),
            "schemas": config.schemas.len(),
            "apis": config.apis.len(),
        })),
    )
        .into_response())
}
