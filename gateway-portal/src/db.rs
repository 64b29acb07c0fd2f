//! The database: connecting, the embedded migrations, the first admin user, and small helpers every
//! handler uses (audit rows, timestamps as text, pagination).

use std::borrow::Cow;

use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::{Postgres, Transaction};

use crate::error::{ApiError, ApiResult};

/// The migrations in `migrations/`, embedded so the binary needs no files at run time. The text is the
/// same bytes as the files, so the checksums match whichever tool applied them first.
const MIGRATIONS: [(i64, &str, &str); 3] = [
    (
        1,
        "revisions",
        include_str!("../../migrations/0001_revisions.sql"),
    ),
    (
        2,
        "definitions",
        include_str!("../../migrations/0002_definitions.sql"),
    ),
    (
        3,
        "consumers",
        include_str!("../../migrations/0003_consumers.sql"),
    ),
];

pub fn migrator() -> Migrator {
    let migrations: Vec<Migration> = MIGRATIONS
        .iter()
        .map(|(version, description, sql)| {
            Migration::new(
                *version,
                Cow::Borrowed(*description),
                MigrationType::Simple,
                Cow::Borrowed(*sql),
                false,
            )
        })
        .collect();
    Migrator {
        migrations: Cow::Owned(migrations),
        // Another component may add later migrations to the same database; they are not ours to refuse.
        ignore_missing: true,
        ..Migrator::DEFAULT
    }
}

pub async fn connect(url: &str) -> Result<PgPool, sqlx::Error> {
    PgPoolOptions::new().max_connections(8).connect(url).await
}

pub async fn migrate(pool: &PgPool) -> Result<(), sqlx::migrate::MigrateError> {
    migrator().run(pool).await
}

/// Creates user `admin` with `password` when the portal has no user at all. Returns whether it did.
pub async fn bootstrap_admin(pool: &PgPool, password: &str) -> anyhow::Result<bool> {
    crate::passwords::check_password("admin", password)
        .map_err(|why| anyhow::anyhow!("the first admin password: {why}"))?;
    let hash = crate::passwords::hash_password(password)?;
    let inserted = sqlx::query(
        "INSERT INTO admin_users (username, password_hash, role)
         SELECT 'admin', $1, 'admin' WHERE NOT EXISTS (SELECT 1 FROM admin_users)",
    )
    .bind(hash)
    .execute(pool)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Writes one audit row in the caller's transaction, so the log and the change commit together.
pub async fn audit(
    tx: &mut Transaction<'_, Postgres>,
    actor: &str,
    action: &str,
    target: &str,
    detail: serde_json::Value,
) -> ApiResult<()> {
    sqlx::query("INSERT INTO audit_log (actor, action, target, detail) VALUES ($1, $2, $3, $4)")
        .bind(actor)
        .bind(action)
        .bind(target)
        .bind(detail)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// RFC 3339 UTC text for a timestamptz column, so no date crate is needed on the Rust side.
pub fn ts(column: &str) -> String {
    format!("to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')")
}

/// `?limit=&offset=` from a query string: limit 1..=500 (default 50), offset >= 0.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub limit: i64,
    pub offset: i64,
}

impl Page {
    pub fn from_query(query: Option<&str>) -> ApiResult<Page> {
        let mut page = Page {
            limit: 50,
            offset: 0,
        };
        for pair in query.unwrap_or_default().split('&') {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let slot = match key {
                "limit" => &mut page.limit,
                "offset" => &mut page.offset,
                _ => continue,
            };
            *slot = value.parse().map_err(|_| {
                ApiError::bad_request(format!("`{key}` must be a non-negative integer"))
            })?;
        }
        if !(1..=500).contains(&page.limit) {
            return Err(ApiError::bad_request("`limit` must be between 1 and 500"));
        }
        if page.offset < 0 {
            return Err(ApiError::bad_request("`offset` must not be negative"));
        }
        Ok(page)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_bounded() {
        let page = Page::from_query(Some("limit=3&offset=6&x=1")).unwrap();
        assert_eq!((page.limit, page.offset), (3, 6));
        let page = Page::from_query(None).unwrap();
        assert_eq!((page.limit, page.offset), (50, 0));
        for bad in ["limit=0", "limit=501", "offset=-1", "limit=x", "offset="] {
            assert!(Page::from_query(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_migration_file_is_embedded() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../migrations");
        let files = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.path().extension().is_some_and(|x| x == "sql"))
            .count();
        assert_eq!(files, MIGRATIONS.len());
    }
}
