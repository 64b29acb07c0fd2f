//! /api/schemas: service descriptors, uploaded as .proto sources, as a binary descriptor set, or pulled
//! from a backend by reflection. All three are stored compiled (a FileDescriptorSet), so a revision
//! embeds them and a node never compiles or dials anything to read a schema.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use axum::{Extension, Json};
use base64::Engine as _;
use prost_reflect::DescriptorPool;
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::Row;

use super::{JsonBody, Paged, if_match, stale, with_etag};
use crate::AppState;
use crate::auth::Caller;
use crate::db::{Page, audit, ts};
use crate::error::{ApiError, ApiResult, FieldProblem};
use crate::names;

/// How long a reflection pull may take.
const REFLECTION_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewSchema {
    /// Required to create; optional in an update (which names the schema in its path).
    #[serde(default)]
    pub(super) name: String,
    #[serde(default)]
    proto: Option<ProtoUpload>,
    #[serde(default)]
    descriptor_set_base64: Option<String>,
    #[serde(default)]
    pub(super) reflection: Option<ReflectionPull>,
}

impl NewSchema {
    /// No source at all: an update that pulls again as the schema was pulled before.
    pub(super) fn is_empty(&self) -> bool {
        self.proto.is_none() && self.descriptor_set_base64.is_none() && self.reflection.is_none()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProtoUpload {
    /// File name (as imported) → text.
    files: BTreeMap<String, String>,
    /// Which files to compile; all of them when empty.
    #[serde(default)]
    compile: Vec<String>,
}

#[derive(Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ReflectionPull {
    backend: String,
    #[serde(default)]
    services: Vec<String>,
}

/// A compiled schema ready to insert.
pub(super) struct Compiled {
    pub(super) kind: &'static str,
    pub(super) pool: DescriptorPool,
    pub(super) sources: Option<Value>,
    pub(super) compile: Option<Value>,
    pub(super) reflection: Option<Value>,
}

fn schema_error(field: &str, err: proto_registry::SchemaError) -> ApiError {
    let field = match &err {
        proto_registry::SchemaError::Compile { file, .. } => format!("{field}.files.{file}"),
        _ => field.to_string(),
    };
    let message = err.to_string();
    ApiError::new(StatusCode::BAD_REQUEST, "schema_error", message.clone()).with_details(vec![
        FieldProblem {
            field,
            problem: message,
        },
    ])
}

pub(super) async fn compile(state: &AppState, schema: &NewSchema) -> ApiResult<Compiled> {
    let given = [
        schema.proto.is_some(),
        schema.descriptor_set_base64.is_some(),
        schema.reflection.is_some(),
    ];
    if given.iter().filter(|g| **g).count() != 1 {
        return Err(ApiError::bad_request(
            "a schema needs exactly one of `proto`, `descriptor_set_base64`, `reflection`",
        ));
    }
    if let Some(proto) = &schema.proto {
        let sources: Vec<(String, String)> = proto
            .files
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let files = if proto.compile.is_empty() {
            proto.files.keys().cloned().collect()
        } else {
            proto.compile.clone()
        };
        let pool = proto_registry::compile_sources(&sources, &files)
            .map_err(|err| schema_error("proto", err))?;
        return Ok(Compiled {
            kind: "proto",
            pool,
            sources: Some(json!(proto.files)),
            compile: Some(json!(files)),
            reflection: None,
        });
    }
    if let Some(text) = &schema.descriptor_set_base64 {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|err| {
                ApiError::bad_request(format!("descriptor_set_base64 is not base64: {err}"))
            })?;
        let pool = proto_registry::decode_descriptor_set(&bytes)
            .map_err(|err| schema_error("descriptor_set_base64", err))?;
        return Ok(Compiled {
            kind: "descriptor_set",
            pool,
            sources: None,
            compile: None,
            reflection: None,
        });
    }
    let Some(pull) = &schema.reflection else {
        return Err(ApiError::bad_request("no schema source"));
    };
    let pool = pull_by_reflection(state, pull).await?;
    Ok(Compiled {
        kind: "reflection",
        pool,
        sources: None,
        compile: None,
        reflection: Some(json!(pull)),
    })
}

async fn pull_by_reflection(state: &AppState, pull: &ReflectionPull) -> ApiResult<DescriptorPool> {
    let spec: Value = sqlx::query_scalar("SELECT spec FROM backends WHERE name = $1")
        .bind(&pull.backend)
        .fetch_optional(&state.db)
        .await?
        .ok_or_else(|| {
            ApiError::bad_request(format!("reflection: unknown backend `{}`", pull.backend))
                .with_details(vec![FieldProblem {
                    field: "reflection.backend".into(),
                    problem: format!("unknown backend `{}`", pull.backend),
                }])
        })?;
    let backend: api_model::Backend = serde_json::from_value(spec).map_err(ApiError::internal)?;
    let Some(address) = backend.endpoints.first() else {
        return Err(ApiError::bad_request(format!(
            "backend `{}` has no endpoint to pull from",
            backend.name
        )));
    };
    let uri = if address.contains("://") {
        address.clone()
    } else {
        format!("http://{address}")
    };
    let endpoint = tonic::transport::Endpoint::from_shared(uri)
        .map_err(|err| ApiError::bad_request(format!("endpoint `{address}`: {err}")))?
        .connect_timeout(backend.connect_timeout);
    let channel = endpoint.connect_lazy();
    proto_registry::fetch_by_reflection(channel, &pull.services, REFLECTION_TIMEOUT)
        .await
        .map_err(|err| {
            ApiError::new(
                StatusCode::BAD_GATEWAY,
                "reflection_failed",
                format!("backend `{}`: {err}", backend.name),
            )
        })
}

/// Services and methods (with their `google.api.http` rules) of a pool, skipping the built-in files.
pub fn describe(pool: &DescriptorPool) -> Vec<Value> {
    pool.services()
        .filter(|s| !s.full_name().starts_with("grpc.reflection.") && !s.full_name().starts_with("grpc.health."))
        .map(|service| {
            let methods: Vec<Value> = service
                .methods()
                .map(|m| {
                    json!({
                        "name": m.name(),
                        "input": m.input().full_name(),
                        "output": m.output().full_name(),
                        "client_streaming": m.is_client_streaming(),
                        "server_streaming": m.is_server_streaming(),
                        "http": gateway_web::mapping::http_rule::annotation(&m),
                    })
                })
                .collect();
            json!({"name": service.full_name(), "file": service.parent_file().name(), "methods": methods})
        })
        .collect()
}

pub async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(schema): JsonBody<NewSchema>,
) -> ApiResult<Response> {
    names::check("schema", "name", &schema.name)?;
    let compiled = compile(&state, &schema).await?;
    let bytes = compiled.pool.encode_to_vec();
    let services = describe(&compiled.pool);
    let mut tx = state.db.begin().await?;
    sqlx::query(
        "INSERT INTO schemas (name, kind, descriptor_set, sources, compile, reflection)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&schema.name)
    .bind(compiled.kind)
    .bind(&bytes)
    .bind(&compiled.sources)
    .bind(&compiled.compile)
    .bind(&compiled.reflection)
    .execute(&mut *tx)
    .await?;
    let names: Vec<&str> = services.iter().filter_map(|s| s["name"].as_str()).collect();
    audit(
        &mut tx,
        &caller.username,
        "schema.create",
        &schema.name,
        json!({"kind": compiled.kind, "services": names}),
    )
    .await?;
    tx.commit().await?;
    Ok(with_etag(
        StatusCode::CREATED,
        1,
        json!({"name": schema.name, "kind": compiled.kind, "version": 1, "services": services}),
    ))
}

pub async fn list(State(state): State<AppState>, uri: Uri) -> ApiResult<Json<Paged<Value>>> {
    let page = Page::from_query(uri.query())?;
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM schemas")
        .fetch_one(&state.db)
        .await?;
    let rows = sqlx::query(&format!(
        "SELECT name, kind, version, length(descriptor_set) AS size, {} AS updated_at FROM schemas
         ORDER BY name LIMIT $1 OFFSET $2",
        ts("updated_at")
    ))
    .bind(page.limit)
    .bind(page.offset)
    .fetch_all(&state.db)
    .await?;
    let items = rows
        .iter()
        .map(|r| {
            json!({
                "name": r.get::<String, _>("name"),
                "kind": r.get::<String, _>("kind"),
                "version": r.get::<i32, _>("version"),
                "size": r.get::<i32, _>("size"),
                "updated_at": r.get::<String, _>("updated_at"),
            })
        })
        .collect();
    Ok(Json(Paged { items, total }))
}

pub async fn get(State(state): State<AppState>, Path(name): Path<String>) -> ApiResult<Response> {
    let row = sqlx::query(
        "SELECT kind, descriptor_set, sources, compile, reflection, version FROM schemas WHERE name = $1",
    )
    .bind(&name)
    .fetch_optional(&state.db)
    .await?
    .ok_or_else(|| ApiError::not_found("schema", &name))?;
    let bytes: Vec<u8> = row.get("descriptor_set");
    let pool = proto_registry::decode_descriptor_set(&bytes).map_err(ApiError::internal)?;
    let version: i32 = row.get("version");
    let source_files: Option<Value> = row.get("sources");
    Ok(with_etag(
        StatusCode::OK,
        version,
        json!({
            "name": name,
            "kind": row.get::<String, _>("kind"),
            "version": version,
            "compile": row.get::<Option<Value>, _>("compile"),
            "reflection": row.get::<Option<Value>, _>("reflection"),
            "files": source_files,
            "services": describe(&pool),
        }),
    ))
}

pub async fn delete(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    let expected = if_match(&headers)?;
    let mut tx = state.db.begin().await?;
    let current: i32 = sqlx::query_scalar("SELECT version FROM schemas WHERE name = $1 FOR UPDATE")
        .bind(&name)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| ApiError::not_found("schema", &name))?;
    if expected.is_some_and(|e| e != current) {
        return Err(stale("schema", &name, current));
    }
    let users: Vec<String> =
        sqlx::query_scalar("SELECT name FROM apis WHERE schema_name = $1 ORDER BY name")
            .bind(&name)
            .fetch_all(&mut *tx)
            .await?;
    if !users.is_empty() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "in_use",
            format!("schema `{name}` is used by api(s) {}", users.join(", ")),
        ));
    }
    sqlx::query("DELETE FROM schemas WHERE name = $1")
        .bind(&name)
        .execute(&mut *tx)
        .await?;
    audit(&mut tx, &caller.username, "schema.delete", &name, json!({})).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
