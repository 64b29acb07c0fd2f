//! /api/apps/{name}/credentials: issuing and revoking an app's credentials. A secret is shown once, in
//! the answer that issues it: an API key is stored as its SHA-256 only; a shared secret (HMAC) is sealed
//! with the key in `GATEWAY_SECRET_KEY` before it reaches the database. Revoking keeps the row (the audit
//! log names it) and takes effect at once, through the revision it publishes.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Extension, Json};
use base64::Engine as _;
use rand::RngCore;
use serde::Deserialize;
use serde_json::{Value, json};

use super::JsonBody;
use super::apps::load;
use crate::AppState;
use crate::auth::Caller;
use crate::db::audit;
use crate::error::{ApiError, ApiResult};

/// `POST /api/apps/{name}/credentials`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialBody {
    pub kind: String,
    #[serde(default)]
    pub label: String,
    /// RFC 3339; the credential stops working then.
    #[serde(default)]
    pub expires_at: Option<String>,
    /// `ed25519`: base64 of the 32-byte public key.
    #[serde(default)]
    pub public_key: Option<String>,
    /// `certificate`: the client certificate, PEM.
    #[serde(default)]
    pub certificate_pem: Option<String>,
}

/// A secret of 32 random bytes, URL-safe base64, with a prefix saying what it is.
fn random_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The SHA-256 of a PEM certificate's DER.
fn certificate_digest(pem: &str) -> ApiResult<String> {
    let mut reader = std::io::BufReader::new(pem.as_bytes());
    let der = rustls_pemfile::certs(&mut reader)
        .next()
        .and_then(Result::ok)
        .ok_or_else(|| ApiError::bad_request("certificate_pem holds no PEM certificate"))?;
    Ok(sha256_hex(der.as_ref()))
}

pub async fn issue(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
    JsonBody(request): JsonBody<CredentialBody>,
) -> ApiResult<Response> {
    if let Some(expires) = &request.expires_at
        && chrono::DateTime::parse_from_rfc3339(expires).is_err()
    {
        return Err(ApiError::bad_request(
            "expires_at must be an RFC 3339 time, like 2027-01-01T00:00:00Z",
        ));
    }
    let mut tx = state.db.begin().await?;
    let app: i64 = sqlx::query_scalar("SELECT id FROM apps WHERE name = $1 FOR UPDATE")
        .bind(&name)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| ApiError::not_found("app", &name))?;
    // (secret shown once, slot, sealed, hint, public value)
    let (secret, slot, sealed, hint, public) = match request.kind.as_str() {
        "api_key" => {
            let key = random_secret("gwk_");
            let digest = sha256_hex(key.as_bytes());
            (Some(key), None, None, String::new(), digest)
        }
        "hmac" => {
            let Some(sealer) = &state.services.secret_key else {
                return Err(ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "not_configured",
                    "the portal has no GATEWAY_SECRET_KEY, so it cannot keep shared secrets; set it (the same on every node)",
                ));
            };
            let slots: Vec<i16> = sqlx::query_scalar::<_, Option<i16>>(
                "SELECT slot FROM app_credentials WHERE app_id = $1 AND kind = 'hmac' AND revoked_at IS NULL",
            )
            .bind(app)
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .flatten()
            .collect();
            let slot = [1i16, 2]
                .into_iter()
                .find(|s| !slots.contains(s))
                .ok_or_else(|| {
                    ApiError::conflict(
                        "two shared secrets are active; revoke one before issuing another",
                    )
                })?;
            let clear = random_secret("gws_");
            let sealed = sealer.seal(&clear).map_err(ApiError::internal)?;
            let hint = clear[clear.len() - 4..].to_string();
            (
                Some(clear),
                Some(slot),
                Some(sealed.into_bytes()),
                hint,
                String::new(),
            )
        }
        "ed25519" => {
            let key = request
                .public_key
                .as_deref()
                .unwrap_or("")
                .trim()
                .to_string();
            let raw = base64::engine::general_purpose::STANDARD
                .decode(&key)
                .unwrap_or_default();
            if raw.len() != 32 {
                return Err(ApiError::bad_request(
                    "public_key must be base64 of the 32-byte Ed25519 public key",
                ));
            }
            (None, None, None, String::new(), key)
        }
        "certificate" => {
            let pem = request.certificate_pem.as_deref().ok_or_else(|| {
                ApiError::bad_request("a certificate credential needs certificate_pem")
            })?;
            (None, None, None, String::new(), certificate_digest(pem)?)
        }
        other => {
            return Err(ApiError::bad_request(format!(
                "kind `{other}` is not one of api_key, hmac, ed25519, certificate"
            )));
        }
    };
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO app_credentials (app_id, kind, slot, secret_encrypted, secret_hint, public_value, label, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8::timestamptz) RETURNING id",
    )
    .bind(app)
    .bind(&request.kind)
    .bind(slot)
    .bind(sealed)
    .bind(&hint)
    .bind(&public)
    .bind(&request.label)
    .bind(request.expires_at.as_deref())
    .fetch_one(&mut *tx)
    .await
    .map_err(|err| match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            ApiError::conflict("this key or certificate is already registered")
        }
        _ => ApiError::from(err),
    })?;
    let credential = format!("cred-{id}");
    audit(
        &mut tx,
        &caller.username,
        "credential.issue",
        &name,
        json!({"credential": credential, "kind": request.kind, "label": request.label}),
    )
    .await?;
    super::revisions::publish_consumers(
        &state,
        &mut tx,
        &caller,
        &format!("credential {credential} of {name} issued"),
    )
    .await?;
    tx.commit().await?;
    let mut conn = state.db.acquire().await?;
    let (_, _, body) = load(&mut conn, &name, &HashMap::new())
        .await?
        .ok_or_else(|| ApiError::internal("the app vanished"))?;
    let issued = body["credentials"]
        .as_array()
        .and_then(|all| all.iter().find(|c| c["id"] == credential.as_str()).cloned())
        .unwrap_or(Value::Null);
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "credential": issued,
            // Shown this once: only its hash (API key) or its sealed form (shared secret) is kept.
            "secret": secret,
        })),
    )
        .into_response_with_no_store())
}

/// An answer that must not be cached anywhere: it holds a secret.
trait NoStore {
    fn into_response_with_no_store(self) -> Response;
}

impl<T: axum::response::IntoResponse> NoStore for T {
    fn into_response_with_no_store(self) -> Response {
        let mut response = self.into_response();
        response.headers_mut().insert(
            axum::http::header::CACHE_CONTROL,
            axum::http::HeaderValue::from_static("no-store"),
        );
        response
    }
}

pub async fn revoke(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((name, credential)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let id: i64 = credential
        .strip_prefix("cred-")
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| ApiError::bad_request(format!("`{credential}` is not a credential id")))?;
    let mut tx = state.db.begin().await?;
    let revoked = sqlx::query(
        "UPDATE app_credentials SET revoked_at = now()
         WHERE id = $1 AND revoked_at IS NULL AND app_id = (SELECT id FROM apps WHERE name = $2)",
    )
    .bind(id)
    .bind(&name)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if revoked == 0 {
        return Err(ApiError::not_found(
            "live credential",
            &format!("{name}/{credential}"),
        ));
    }
    audit(
        &mut tx,
        &caller.username,
        "credential.revoke",
        &name,
        json!({"credential": credential}),
    )
    .await?;
    super::revisions::publish_consumers(
        &state,
        &mut tx,
        &caller,
        &format!("credential {credential} of {name} revoked"),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
