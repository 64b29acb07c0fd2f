//! The admin portal: a JSON REST API under `/api` and the web UI at `/`, over the Postgres definitions
//! store. It owns every SQL write; gateway nodes only read the `revisions` it publishes.
//!
//! # Layout
//!
//! - `db`: pool, embedded migrations, the first admin user, audit rows, pagination.
//! - `auth`: sessions (cookie + CSRF token), the role gate in front of /api.
//! - `login`: logging in, with a cap on password checks at once and lockouts per address.
//! - `users`: admin users, roles, disabling, password changes.
//! - `passwords`: argon2 hashes, made and checked.
//! - `names`: what a chosen name may hold (letters, digits, `._-`, at most 128), refused with its field.
//! - `error`: `ApiError`, the one JSON error shape and the only place statuses are chosen.
//! - `store_health`: whether Postgres answers (a ping of its own, four times a second); 503 while not.
//! - `definitions`: tables → `api_model::Config`, checked with `gateway_web::catalog::check` (the
//!   nodes' own compiler, without I/O), the routes an API claims.
//! - `api/`: one file per resource (backends, schemas, apis, revisions, transfer, audit, openapi).
//! - `ui`: the embedded web UI files.
//!
//! **Architecture Invariant:** nothing is published that the nodes' compiler refuses: the portal runs
//! `gateway_web::catalog::check` before it inserts a revision, and that check opens no connection.
//!
//! **Architecture Invariant:** every write and its audit row commit in one transaction.

// A failed unwrap is how a test reports a broken expectation; outside tests the lint stands.
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod adopt;
pub mod api;
pub mod auth;
pub mod db;
pub mod definitions;
pub mod error;
pub mod login;
pub mod names;
pub mod openapi_import;
pub mod passwords;
pub mod store_health;
mod ui;
pub mod users;

use std::net::SocketAddr;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::HeaderValue;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use sqlx::PgPool;
use tokio::net::TcpListener;

use crate::error::REQUEST_ID;
use crate::store_health::StoreHealth;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub db: PgPool,
    /// The key that seals shared secrets, and what checks compile against (nothing in it connects).
    pub services: gateway_web::stores::Services,
    /// Whether Postgres answers, so an outage is a prompt 503.
    pub store: StoreHealth,
}

impl AppState {
    /// Also starts watching the store `db` connects to (see [`store_health`]).
    pub fn new(db: PgPool) -> Self {
        AppState {
            store: StoreHealth::watch(&db),
            db,
            services: gateway_web::stores::Services::default(),
        }
    }
}

/// Gives every request an id (the `X-Request-Id` it sent, or a new one), seen by error bodies and
/// returned as a header.
async fn request_id(request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128)
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let mut response = REQUEST_ID.scope(id.clone(), next.run(request)).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

/// A NUL character anywhere in the URL (`%00` in a path segment or the query) is a 400 before any
/// handler: Postgres cannot hold it, and no name or parameter means anything with it.
async fn refuse_nul_in_url(request: Request, next: Next) -> Response {
    let uri = request.uri();
    let holds = |part: &str| part.contains("%00");
    if holds(uri.path()) || uri.query().is_some_and(holds) {
        return error::ApiError::bad_request("the URL holds a NUL character (%00)").into_response();
    }
    next.run(request).await
}

/// Headers that keep the UI from being framed, sniffed, or leaking its URLs, on every answer: the UI
/// loads only its own script and styles (no inline code), so `default-src 'self'` costs it nothing.
async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in [
        (
            "content-security-policy",
            "default-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'",
        ),
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

pub fn app(state: AppState) -> Router {
    use api::{
        apis, apps, audit, backends, credentials, dubbo_definitions, imports, openapi, revisions,
        schema_update, schemas, settings, transfer,
    };
    // Behind the gate: a session is needed, writes need the CSRF token and a role that may write.
    let gated = Router::new()
        .route("/api/session", get(auth::current).delete(auth::logout))
        .route("/api/session/password", put(users::change_password))
        .route(
            "/api/users",
            get(users::list_users).post(users::create_user),
        )
        .route("/api/users/{name}", put(users::update_user))
        .route("/api/backends", get(backends::list).post(backends::create))
        .route(
            "/api/backends/{name}",
            get(backends::get)
                .put(backends::update)
                .delete(backends::delete),
        )
        .route("/api/schemas", get(schemas::list).post(schemas::create))
        .route(
            "/api/schemas/{name}",
            get(schemas::get)
                .put(schema_update::update)
                .delete(schemas::delete),
        )
        .route("/api/schemas/{name}/preview", post(schema_update::preview))
        .route("/api/apis", get(apis::list).post(apis::create))
        .route("/api/apis/generate", post(apis::generate))
        .route(
            "/api/imports/openapi/preview",
            post(imports::preview).layer(DefaultBodyLimit::max(imports::BODY_LIMIT)),
        )
        .route(
            "/api/imports/dubbo-definition",
            post(dubbo_definitions::read),
        )
        .route(
            "/api/imports/openapi",
            post(imports::import).layer(DefaultBodyLimit::max(imports::BODY_LIMIT)),
        )
        .route(
            "/api/apis/{name}",
            get(apis::get).put(apis::update).delete(apis::delete),
        )
        .route("/api/apis/{name}/published", put(apis::set_published))
        .route(
            "/api/revisions",
            get(revisions::list).post(revisions::create),
        )
        .route("/api/revisions/{id}", get(revisions::get))
        .route("/api/revisions/{id}/restore", post(revisions::restore))
        .route("/api/apps", get(apps::list).post(apps::create))
        .route(
            "/api/apps/{name}",
            get(apps::get).put(apps::update).delete(apps::delete),
        )
        .route("/api/apps/{name}/credentials", post(credentials::issue))
        .route(
            "/api/apps/{name}/credentials/{credential}",
            axum::routing::delete(credentials::revoke),
        )
        .route("/api/settings", get(settings::get).put(settings::update))
        .route("/api/export", get(transfer::export))
        .route("/api/import", post(transfer::import))
        .route("/api/audit", get(audit::list))
        .route_layer(middleware::from_fn_with_state(state.clone(), auth::gate));
    // Everything that reads or writes the store answers 503 at once while Postgres is down.
    let stored = Router::new()
        .route("/api/session", post(login::login))
        .merge(gated)
        .route_layer(middleware::from_fn_with_state(
            state.store.clone(),
            store_health::gate,
        ));
    Router::new()
        .route("/api/openapi.json", get(openapi::document))
        .merge(stored)
        .method_not_allowed_fallback(api::method_not_allowed)
        .fallback(ui::serve)
        .layer(DefaultBodyLimit::max(api::BODY_LIMIT))
        .layer(middleware::from_fn(refuse_nul_in_url))
        .layer(middleware::from_fn(security_headers))
        .layer(middleware::from_fn(request_id))
        .with_state(state)
}

/// Serves until `shutdown` resolves. Migrations must have run.
pub async fn run(
    state: AppState,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
