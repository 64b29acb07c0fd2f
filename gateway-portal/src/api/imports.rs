//! POST /api/imports/openapi/preview and POST /api/imports/openapi: an OpenAPI 3.0/3.1 or Swagger 2.0
//! document in, one HTTP-relay API per operation out, in the import's group. The preview saves
//! nothing and says, per API, whether it is new, changed (and which parts), unchanged or invalid
//! (and why), which operations were left out, and which APIs of the group the document no longer
//! has. The import saves every new and changed API that is valid in one transaction (and, when asked,
//! deletes the missing ones); the next revision publishes them like any other edit.

use std::collections::{BTreeMap, HashMap};

use api_model::policy::Policy;
use api_model::{Api, Config, Protocol};
use axum::body::Bytes;
use axum::extract::State;
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::{PgConnection, Row};

use super::{apis, parse_json};
use crate::AppState;
use crate::auth::Caller;
use crate::db::audit;
use crate::definitions::{self, RouteKey, routes_of, trial_build};
use crate::error::{ApiError, ApiResult};
use crate::openapi_import::{Options, Planned, parse, plan, slug};

/// Large public descriptions run to tens of megabytes (GitHub's is 13 MB), more than other bodies.
pub const BODY_LIMIT: usize = 64 << 20;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportRequest {
    /// An HTTP backend: where the operations are relayed.
    backend: String,
    /// The document's text, JSON or YAML.
    document: String,
    /// Route prefix at the gateway (`/petstore`); the document's paths as they are when empty.
    #[serde(default)]
    prefix: String,
    /// The APIs' group and name prefix; the document's title, made a slug, when absent.
    #[serde(default)]
    group: Option<String>,
    /// Policies every imported API gets (a rate limit, CORS, authentication).
    #[serde(default)]
    policies: Vec<Policy>,
    /// On import, delete the group's APIs the document no longer has.
    #[serde(default)]
    remove_missing: bool,
}

/// What an import would do (or did), API by API.
struct Outcome {
    dialect: String,
    title: String,
    group: String,
    entries: Vec<Entry>,
    skipped: Value,
    missing: Vec<(String, i32)>,
}

struct Entry {
    planned: Planned,
    change: Change,
    routes: Vec<RouteKey>,
}

enum Change {
    New,
    Changed { parts: Vec<String>, version: i32 },
    Unchanged,
    Invalid(String),
}

pub async fn preview(State(state): State<AppState>, body: Bytes) -> ApiResult<Json<Value>> {
    let request: ImportRequest = parse_json(&body)?;
    let mut conn = state.db.acquire().await?;
    let outcome = examine(&state, &mut conn, &request).await?;
    Ok(Json(render(&outcome, false)))
}

pub async fn import(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let request: ImportRequest = parse_json(&body)?;
    let mut tx = state.db.begin().await?;
    // One import at a time: two would race on the same names and routes.
    sqlx::query("LOCK TABLE apis IN SHARE ROW EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await?;
    let outcome = examine(&state, &mut tx, &request).await?;
    // The missing go first: a renamed operation's new API takes over its old route.
    if request.remove_missing {
        for (name, _) in &outcome.missing {
            sqlx::query("DELETE FROM apis WHERE name = $1")
                .bind(name)
                .execute(&mut *tx)
                .await?;
            audit(
                &mut tx,
                &caller.username,
                "api.delete",
                name,
                json!({"import": outcome.group}),
            )
            .await?;
        }
    }
    for entry in &outcome.entries {
        let api = &entry.planned.api;
        match &entry.change {
            Change::New => {
                let spec = apis::insert(&mut tx, api, true, &entry.routes).await?;
                audit(&mut tx, &caller.username, "api.import", &api.name, spec).await?;
            }
            Change::Changed { .. } => {
                let spec = apis::replace(&mut tx, &api.name, api, &entry.routes).await?;
                audit(&mut tx, &caller.username, "api.import", &api.name, spec).await?;
            }
            Change::Unchanged | Change::Invalid(_) => {}
        }
    }
    tx.commit().await?;
    Ok(Json(render(&outcome, true)))
}

/// Parses, plans and compares against what is stored; nothing is written.
async fn examine(
    state: &AppState,
    conn: &mut PgConnection,
    request: &ImportRequest,
) -> ApiResult<Outcome> {
    let document = parse(&request.document)
        .map_err(|err| ApiError::bad_request(format!("not an OpenAPI document: {err}")))?;
    let backends = definitions::load_backends(conn).await?;
    let backend = backends
        .iter()
        .find(|b| b.name == request.backend)
        .ok_or_else(|| ApiError::not_found("backend", &request.backend))?;
    if backend.protocol != Protocol::Http {
        return Err(ApiError::bad_request(format!(
            "backend `{}` is not an HTTP backend: an OpenAPI import relays to one",
            backend.name
        )));
    }
    if !request.prefix.is_empty() && !request.prefix.starts_with('/') {
        return Err(ApiError::bad_request("the prefix must start with `/`"));
    }
    let group = match &request.group {
        Some(group) => slug(group),
        None => slug(&document.title),
    };
    let group = if group.is_empty() {
        "imported".to_string()
    } else {
        group
    };
    let (planned, skipped) = plan(
        &document,
        &Options {
            backend: &request.backend,
            prefix: &request.prefix,
            group: &group,
            policies: &request.policies,
        },
    );

    let stored: HashMap<String, (Value, i32)> = sqlx::query(
        "SELECT name, spec, version FROM apis WHERE spec->>'group' = $1 OR name = ANY($2)",
    )
    .bind(&group)
    .bind(
        planned
            .iter()
            .map(|p| p.api.name.clone())
            .collect::<Vec<_>>(),
    )
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| (r.get("name"), (r.get("spec"), r.get("version"))))
    .collect();
    let holders: HashMap<(String, String, String), String> =
        sqlx::query("SELECT api, host, method, path FROM api_routes")
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| {
                (
                    (r.get("host"), r.get("method"), r.get("path")),
                    r.get("api"),
                )
            })
            .collect();

    // One trial build for the whole set (one client for the backend, not one per operation); only
    // when it fails is each API built alone, to say which.
    let all_build = trial_build(
        state,
        &config_of(backend, planned.iter().map(|p| &p.api)),
        "the import",
    )
    .is_ok();
    // The group's stored APIs the document no longer has; with `remove_missing` their routes are free.
    let mut missing: Vec<(String, i32)> = stored
        .iter()
        .filter(|(name, (spec, _))| {
            spec.get("group").and_then(Value::as_str) == Some(group.as_str())
                && !planned.iter().any(|p| p.api.name == **name)
        })
        .map(|(name, (_, version))| (name.clone(), *version))
        .collect();
    missing.sort();
    let freed =
        |holder: &str| request.remove_missing && missing.iter().any(|(name, _)| name == holder);
    let mut entries = Vec::with_capacity(planned.len());
    for planned in planned {
        let api = &planned.api;
        let built = if all_build {
            Ok(())
        } else {
            trial_build(
                state,
                &config_of(backend, [api]),
                &format!("api `{}`", api.name),
            )
        };
        let routes = match built.and_then(|()| routes_of(api, &[])) {
            Ok(routes) => routes,
            Err(err) => {
                entries.push(Entry {
                    planned,
                    change: Change::Invalid(err.message),
                    routes: Vec::new(),
                });
                continue;
            }
        };
        let taken = routes.iter().find_map(|r| {
            holders
                .get(&(r.host.clone(), r.method.clone(), r.path.clone()))
                .filter(|holder| **holder != api.name && !freed(holder))
                .map(|holder| {
                    format!(
                        "{} {} is already routed to API `{holder}`",
                        r.method, r.path
                    )
                })
        });
        let new_spec = serde_json::to_value(api).map_err(ApiError::internal)?;
        let change = match (taken, stored.get(&api.name)) {
            (Some(problem), _) => Change::Invalid(problem),
            (None, Some((old, _)))
                if old.get("group").and_then(Value::as_str) != Some(group.as_str()) =>
            {
                Change::Invalid(format!(
                    "an API named `{}` exists outside group `{group}`",
                    api.name
                ))
            }
            (None, None) => Change::New,
            (None, Some((old, _))) if *old == new_spec => Change::Unchanged,
            (None, Some((old, version))) => Change::Changed {
                parts: changed_parts(old, &new_spec),
                version: *version,
            },
        };
        entries.push(Entry {
            planned,
            change,
            routes,
        });
    }
    Ok(Outcome {
        dialect: document.dialect,
        title: document.title,
        group,
        entries,
        skipped: serde_json::to_value(skipped).map_err(ApiError::internal)?,
        missing,
    })
}

fn config_of<'a>(backend: &api_model::Backend, apis: impl IntoIterator<Item = &'a Api>) -> Config {
    Config {
        backends: vec![backend.clone()],
        apis: apis.into_iter().cloned().collect(),
        ..Config::default()
    }
}

/// The top-level parts of a definition that differ (`upstream`, `policies`, `docs`).
fn changed_parts(old: &Value, new: &Value) -> Vec<String> {
    let empty = serde_json::Map::new();
    let (old, new) = (
        old.as_object().unwrap_or(&empty),
        new.as_object().unwrap_or(&empty),
    );
    let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| old.get(*k) != new.get(*k))
        .cloned()
        .collect()
}

fn render(outcome: &Outcome, saved: bool) -> Value {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    let apis: Vec<Value> = outcome
        .entries
        .iter()
        .map(|entry| {
            let api = &entry.planned.api;
            let (change, detail) = match &entry.change {
                Change::New => ("new", json!(null)),
                Change::Changed { parts, version } => {
                    ("changed", json!({"parts": parts, "version": version}))
                }
                Change::Unchanged => ("unchanged", json!(null)),
                Change::Invalid(problem) => ("invalid", json!(problem)),
            };
            *counts.entry(change).or_default() += 1;
            json!({
                "name": api.name,
                "method": entry.planned.method,
                "route": entry.planned.route,
                "upstream_path": api.upstream.as_ref().and_then(|u| u.path.clone()),
                "summary": api.docs.as_ref().and_then(|d| d.summary.clone()),
                "change": change,
                "detail": detail,
            })
        })
        .collect();
    json!({
        "dialect": outcome.dialect,
        "title": outcome.title,
        "group": outcome.group,
        "saved": saved,
        "counts": counts,
        "apis": apis,
        "skipped": outcome.skipped,
        "missing": outcome.missing.iter().map(|(name, _)| name).collect::<Vec<_>>(),
    })
}
