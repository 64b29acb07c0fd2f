//! Admin users, sessions and the gate every /api request passes: session cookie → caller, CSRF token on
//! writes, role check. Roles: `viewer` reads; `publisher` also edits and publishes; `admin` also manages
//! users.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use base64::Engine as _;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::AppState;
use crate::error::{ApiError, ApiResult};

pub const COOKIE: &str = "portal_session";
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Sessions end after this many hours.
pub(crate) const SESSION_HOURS: i64 = 12;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Publisher,
    Admin,
}

impl Role {
    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "viewer" => Some(Role::Viewer),
            "publisher" => Some(Role::Publisher),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Publisher => "publisher",
            Role::Admin => "admin",
        }
    }
}

/// Who is calling; put into the request by [`gate`].
#[derive(Debug, Clone)]
pub struct Caller {
    pub username: String,
    pub role: Role,
    pub csrf_token: String,
    pub(crate) token_hash: String,
}

pub(crate) fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub(crate) fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_string())
}

/// Compares in constant time, so the CSRF token cannot be guessed byte by byte.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The gate in front of every authenticated /api route.
pub async fn gate(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    // Only the head is borrowed across the await: a request body is not `Sync`.
    let (method, path, headers) = (
        request.method().clone(),
        request.uri().path().to_string(),
        request.headers().clone(),
    );
    match admit(&state, &method, &path, &headers).await {
        Ok(caller) => {
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        Err(err) => err.into_response(),
    }
}

async fn admit(
    state: &AppState,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
) -> ApiResult<Caller> {
    let token = session_cookie(headers).ok_or_else(ApiError::unauthorized)?;
    let hash = token_hash(&token);
    let row = sqlx::query(
        "SELECT u.username, u.role, s.csrf_token FROM sessions s JOIN admin_users u ON u.id = s.user_id
         WHERE s.token_hash = $1 AND s.expires_at > now() AND NOT u.disabled",
    )
    .bind(&hash)
    .fetch_optional(&state.db)
    .await?
    .ok_or_else(ApiError::unauthorized)?;
    let role: String = row.get("role");
    let caller = Caller {
        username: row.get("username"),
        role: Role::parse(&role).unwrap_or(Role::Viewer),
        csrf_token: row.get("csrf_token"),
        token_hash: hash,
    };
    let reads = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    if !reads {
        let sent = headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if !same(sent, &caller.csrf_token) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "csrf",
                "missing or wrong X-CSRF-Token header (take it from POST or GET /api/session)",
            ));
        }
    }
    let needed = if path.starts_with("/api/users") {
        Role::Admin
    } else if reads || path.starts_with("/api/session") {
        Role::Viewer
    } else {
        Role::Publisher
    };
    if caller.role < needed {
        return Err(ApiError::forbidden(format!(
            "role `{}` may not do this; it needs `{}`",
            caller.role.as_str(),
            needed.as_str()
        )));
    }
    Ok(caller)
}

#[derive(Serialize)]
pub struct SessionInfo {
    pub username: String,
    pub role: Role,
    pub csrf_token: String,
}

/// GET /api/session: who is logged in, and the CSRF token to send with writes.
pub async fn current(Extension(caller): Extension<Caller>) -> Json<SessionInfo> {
    Json(SessionInfo {
        username: caller.username,
        role: caller.role,
        csrf_token: caller.csrf_token,
    })
}

/// DELETE /api/session: ends the session and clears the cookie.
pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Response> {
    let mut tx = state.db.begin().await?;
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(&caller.token_hash)
        .execute(&mut *tx)
        .await?;
    crate::db::audit(
        &mut tx,
        &caller.username,
        "session.logout",
        &caller.username,
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    let cookie = format!(
        "{COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0{}",
        secure_attribute(&headers)
    );
    Ok(([(header::SET_COOKIE, cookie)], StatusCode::NO_CONTENT).into_response())
}

/// `; Secure` when the browser reached the portal over HTTPS through a TLS-terminating proxy
/// (`X-Forwarded-Proto: https`, or `Forwarded: ...proto=https`). The portal itself speaks plain HTTP, and a
/// `Secure` cookie sent over plain HTTP would never come back, so the flag follows what the browser saw.
/// Trusting the header is safe here: a client that forges it only makes its own cookie stricter.
pub(crate) fn secure_attribute(headers: &HeaderMap) -> &'static str {
    let forwarded_proto = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"));
    let forwarded = headers
        .get_all(header::FORWARDED)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split([';', ',']))
        .filter_map(|pair| pair.trim().split_once('='))
        .any(|(key, value)| {
            key.eq_ignore_ascii_case("proto")
                && value.trim_matches('"').eq_ignore_ascii_case("https")
        });
    if forwarded_proto || forwarded {
        "; Secure"
    } else {
        ""
    }
}
