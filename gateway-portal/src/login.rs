//! POST /api/session: logging in, hardened against password guessing.
//!
//! - At most [`HASHES_AT_ONCE`] password checks run at once (each holds ~19 MiB for argon2); the
//!   others wait in line, and one whose client goes away leaves the line without being checked.
//! - Failures are recorded in `login_failures` (shared by every portal instance) and audited. After
//!   [`PAIR_LIMIT`] failures for one user from one address within [`WINDOW`], that address may not try
//!   that user until the window passes; after [`ADDRESS_LIMIT`] failures from one address for any users,
//!   that address may not try at all. A lockout is tied to the address that failed, so nobody can lock
//!   the real admin out from elsewhere.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use sqlx::Row;
use tokio::sync::Semaphore;

use crate::AppState;
use crate::api::JsonBody;
use crate::auth::{
    COOKIE, Role, SESSION_HOURS, SessionInfo, random_token, secure_attribute, token_hash,
};
use crate::error::{ApiError, ApiResult};
use crate::passwords::{dummy_hash, verify_password};

/// Password checks running at once, per portal process.
pub const HASHES_AT_ONCE: usize = 2;
/// How long a login waits for a check slot before it is told to retry.
const QUEUE_WAIT: Duration = Duration::from_secs(5);
/// The window failures are counted over, and how long a lockout lasts.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Failures for one user from one address before that address is locked out of that user.
pub const PAIR_LIMIT: i64 = 5;
/// Failures from one address, for any users, before it is locked out entirely.
pub const ADDRESS_LIMIT: i64 = 20;

static HASHING: Semaphore = Semaphore::const_new(HASHES_AT_ONCE);
/// Password checks started, and the most ever running at once: what bounds the portal's memory.
pub static CHECKS_STARTED: AtomicUsize = AtomicUsize::new(0);
pub static CHECKS_PEAK: AtomicUsize = AtomicUsize::new(0);
static CHECKS_RUNNING: AtomicUsize = AtomicUsize::new(0);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Login {
    username: String,
    password: String,
}

fn address_of(connect: Option<&ConnectInfo<SocketAddr>>) -> String {
    connect
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// 429 with `Retry-After`, when the address is locked out of `username` or of everything.
async fn check_lockout(state: &AppState, username: &str, address: &str) -> ApiResult<()> {
    let row = sqlx::query(
        "SELECT count(*) FILTER (WHERE username = $1) AS pair, count(*) AS address,
                EXTRACT(EPOCH FROM (min(at) + make_interval(secs => $3) - now()))::bigint AS wait
         FROM login_failures WHERE address = $2 AND at > now() - make_interval(secs => $3)",
    )
    .bind(username)
    .bind(address)
    .bind(WINDOW.as_secs() as f64)
    .fetch_one(&state.db)
    .await?;
    let (pair, total): (i64, i64) = (row.get("pair"), row.get("address"));
    if pair >= PAIR_LIMIT || total >= ADDRESS_LIMIT {
        let wait = row.get::<Option<i64>, _>("wait").unwrap_or(60).max(1);
        let mut err = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            format!("too many failed logins from your address; retry in {wait} s"),
        );
        err.retry_after = Some(wait as u64);
        return Err(err);
    }
    Ok(())
}

async fn record_failure(state: &AppState, username: &str, address: &str) -> ApiResult<()> {
    let mut tx = state.db.begin().await?;
    sqlx::query("INSERT INTO login_failures (username, address) VALUES ($1, $2)")
        .bind(username)
        .bind(address)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM login_failures WHERE at < now() - make_interval(secs => $1)")
        .bind(WINDOW.as_secs() as f64 * 2.0)
        .execute(&mut *tx)
        .await?;
    crate::db::audit(
        &mut tx,
        username,
        "session.failed",
        username,
        serde_json::json!({"address": address}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Checks a password in a slot; waiting for one is cancelled with the request.
async fn verify(password: String, hash: String) -> ApiResult<bool> {
    let permit = tokio::time::timeout(QUEUE_WAIT, HASHING.acquire())
        .await
        .map_err(|_| {
            let mut err = ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "too many logins at once; retry in a few seconds",
            );
            err.retry_after = Some(2);
            err
        })?
        .map_err(ApiError::internal)?;
    CHECKS_STARTED.fetch_add(1, Ordering::SeqCst);
    let running = CHECKS_RUNNING.fetch_add(1, Ordering::SeqCst) + 1;
    CHECKS_PEAK.fetch_max(running, Ordering::SeqCst);
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash)).await;
    CHECKS_RUNNING.fetch_sub(1, Ordering::SeqCst);
    drop(permit);
    ok.map_err(ApiError::internal)
}

/// POST /api/session: checks the password, opens a session, sets the cookie.
pub async fn login(
    State(state): State<AppState>,
    connect: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    JsonBody(login): JsonBody<Login>,
) -> ApiResult<Response> {
    let address = address_of(connect.as_ref().map(|c| &c.0));
    check_lockout(&state, &login.username, &address).await?;
    let row = sqlx::query(
        "SELECT id, password_hash, role, disabled FROM admin_users WHERE username = $1",
    )
    .bind(&login.username)
    .fetch_optional(&state.db)
    .await?;
    // An unknown user costs the same argon2 verification as a wrong password, so response times do not
    // tell which usernames exist.
    let hash: String = match &row {
        Some(row) => row.get("password_hash"),
        None => dummy_hash().to_string(),
    };
    let ok = verify(login.password.clone(), hash).await?;
    let Some(row) = row.filter(|row| ok && !row.get::<bool, _>("disabled")) else {
        record_failure(&state, &login.username, &address).await?;
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "bad_credentials",
            "unknown user, wrong password, or a disabled account",
        ));
    };
    let user_id: i64 = row.get("id");
    let role: String = row.get("role");
    let token = random_token();
    let csrf_token = random_token();
    let mut tx = state.db.begin().await?;
    sqlx::query("DELETE FROM sessions WHERE expires_at < now()")
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM login_failures WHERE username = $1 AND address = $2")
        .bind(&login.username)
        .bind(&address)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at)
         VALUES ($1, $2, $3, now() + make_interval(hours => $4))",
    )
    .bind(token_hash(&token))
    .bind(user_id)
    .bind(&csrf_token)
    .bind(SESSION_HOURS as i32)
    .execute(&mut *tx)
    .await?;
    crate::db::audit(
        &mut tx,
        &login.username,
        "session.login",
        &login.username,
        serde_json::json!({"address": address}),
    )
    .await?;
    tx.commit().await?;
    let cookie = format!(
        "{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{}",
        SESSION_HOURS * 3600,
        secure_attribute(&headers)
    );
    let body = SessionInfo {
        username: login.username,
        role: Role::parse(&role).unwrap_or(Role::Viewer),
        csrf_token,
    };
    let mut response = ([(header::SET_COOKIE, cookie)], Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
