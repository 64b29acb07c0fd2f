//! Makes a revision's definitions the working state, in the caller's transaction: what a restore does
//! before it publishes, so the next publish builds on the restored state instead of silently undoing it.
//!
//! Its backends, schemas (as the descriptor sets the revision embeds), APIs and gateway-wide settings
//! replace the tables' versions (a row whose content is unchanged keeps its version); APIs the
//! revision does not have stay as unpublished drafts, so nothing edited since is lost. Consumers are
//! never taken from a revision: a key revoked since stays revoked.

use api_model::Config;
use base64::Engine as _;
use sqlx::PgConnection;

use crate::definitions::{claim_routes, load_schemas, routes_of};
use crate::error::{ApiError, ApiResult};

pub async fn adopt(conn: &mut PgConnection, config: &Config) -> ApiResult<()> {
    sqlx::query(
        "UPDATE gateway_settings SET policies = $1, trusted_proxies = $2, version = version + 1
         WHERE id = 1 AND (policies IS DISTINCT FROM $1 OR trusted_proxies IS DISTINCT FROM $2)",
    )
    .bind(serde_json::to_value(&config.policies).map_err(ApiError::internal)?)
    .bind(serde_json::to_value(&config.trusted_proxies).map_err(ApiError::internal)?)
    .execute(&mut *conn)
    .await?;
    for backend in &config.backends {
        sqlx::query(
            "INSERT INTO backends (name, spec) VALUES ($1, $2)
             ON CONFLICT (name) DO UPDATE SET spec = EXCLUDED.spec, version = backends.version + 1,
                 updated_at = now()
             WHERE backends.spec IS DISTINCT FROM EXCLUDED.spec",
        )
        .bind(&backend.name)
        .bind(serde_json::to_value(backend).map_err(ApiError::internal)?)
        .execute(&mut *conn)
        .await?;
    }
    for schema in &config.schemas {
        let Some(encoded) = &schema.descriptor_set_base64 else {
            // The portal writes every schema into a revision as its descriptor set.
            return Err(ApiError::internal(format!(
                "schema `{}` of the revision has no descriptor set",
                schema.name
            )));
        };
        let descriptors = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(ApiError::internal)?;
        // Sources and a reflection request describe the current descriptors; for other ones they
        // would mislead, so a changed schema keeps only what the revision had.
        sqlx::query(
            "INSERT INTO schemas (name, kind, descriptor_set) VALUES ($1, 'descriptor_set', $2)
             ON CONFLICT (name) DO UPDATE SET kind = 'descriptor_set', descriptor_set = EXCLUDED.descriptor_set,
                 sources = NULL, compile = NULL, reflection = NULL,
                 version = schemas.version + 1, updated_at = now()
             WHERE schemas.descriptor_set IS DISTINCT FROM EXCLUDED.descriptor_set",
        )
        .bind(&schema.name)
        .bind(&descriptors)
        .execute(&mut *conn)
        .await?;
    }
    let names: Vec<&str> = config.apis.iter().map(|a| a.name.as_str()).collect();
    // Drafts now: their claims go, so a restored API may take its old routes back.
    sqlx::query("DELETE FROM api_routes WHERE api <> ALL($1)")
        .bind(&names)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "UPDATE apis SET published = false, version = version + 1, updated_at = now()
         WHERE published AND name <> ALL($1)",
    )
    .bind(&names)
    .execute(&mut *conn)
    .await?;
    let schemas = load_schemas(conn).await?;
    for api in &config.apis {
        sqlx::query(
            "INSERT INTO apis (name, backend, schema_name, spec, published) VALUES ($1, $2, $3, $4, true)
             ON CONFLICT (name) DO UPDATE SET backend = EXCLUDED.backend,
                 schema_name = EXCLUDED.schema_name, spec = EXCLUDED.spec, published = true,
                 version = apis.version + 1, updated_at = now()
             WHERE apis.spec IS DISTINCT FROM EXCLUDED.spec OR NOT apis.published",
        )
        .bind(&api.name)
        .bind(&api.backend)
        .bind(&api.schema)
        .bind(serde_json::to_value(api).map_err(ApiError::internal)?)
        .execute(&mut *conn)
        .await?;
    }
    // Claims after every row is back, so two restored APIs never see each other's old claims.
    for api in &config.apis {
        sqlx::query("DELETE FROM api_routes WHERE api = $1")
            .bind(&api.name)
            .execute(&mut *conn)
            .await?;
    }
    for api in &config.apis {
        let routes = routes_of(api, &schemas)?;
        claim_routes(conn, &api.name, &routes).await?;
    }
    Ok(())
}
