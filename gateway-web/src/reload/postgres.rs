//! Postgres mode. At start: the newest revision from the store, or, when the store is unreachable, the
//! last good one from the snapshot file (no store and no snapshot file: the node refuses to start). Then
//! one task keeps the node current: LISTEN on `gateway_revisions` and a poll of `max(id)` as the
//! fallback; a newer id is loaded and built off the hot path. A lost connection is retried with backoff
//! and, once back, the node catches up. Requests never wait on any of this: they read the snapshot.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::Context as _;
use api_model::Config;
use sqlx::postgres::{PgConnection, PgListener};
use sqlx::{Connection as _, Row as _};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::publish;
use super::snapshot_file::{self, Persisted};
use crate::catalog;
use crate::settings::StoreSettings;
use crate::snapshot::Snapshot;
use crate::source_status::{Origin, StoreState};
use crate::state::GatewayState;

/// The channel the portal NOTIFYs, with the new revision id as payload (migrations/0001).
pub const CHANNEL: &str = "gateway_revisions";

/// Bounds every round trip to the store, so a silent network partition is noticed.
const STORE_TIMEOUT: Duration = Duration::from_secs(5);
const BACKOFF_MIN: Duration = Duration::from_millis(200);
const BACKOFF_MAX: Duration = Duration::from_secs(5);

/// One row of `revisions`.
struct Revision {
    id: i64,
    config: serde_json::Value,
    published_at: Option<SystemTime>,
}

/// The source's own state; only its task touches it.
struct Node {
    state: Arc<GatewayState>,
    store: StoreSettings,
    /// The id serving now.
    current: Option<i64>,
    /// The newest id refused: not tried again until a newer one appears.
    refused: Option<i64>,
}

pub async fn start(
    state: Arc<GatewayState>,
    store: StoreSettings,
) -> anyhow::Result<JoinHandle<()>> {
    let mut node = Node {
        state,
        store,
        current: None,
        refused: None,
    };
    node.load_initial().await?;
    Ok(tokio::spawn(node.watch()))
}

impl Node {
    async fn load_initial(&mut self) -> anyhow::Result<()> {
        let newest = async {
            let mut conn = connect(&self.store.database_url).await?;
            let newest = newest(&mut conn).await;
            let _ = tokio::time::timeout(STORE_TIMEOUT, conn.close()).await;
            newest
        }
        .await;
        match newest {
            Ok(Some(revision)) => {
                self.state.source.set_store(StoreState::Connected);
                let id = revision.id;
                match self.apply(revision).await {
                    Ok(()) => {
                        tracing::info!(revision = id, "definitions loaded from Postgres");
                        Ok(())
                    }
                    Err(err) => {
                        self.refused = Some(id);
                        tracing::error!(revision = id, error = %format!("{err:#}"), "newest revision refused; falling back to the snapshot file");
                        self.boot_from_snapshot_file(&format!("revision {id} refused: {err:#}"))
                            .await
                    }
                }
            }
            Ok(None) => {
                self.state.source.set_store(StoreState::Connected);
                match snapshot_file::read(&self.store.snapshot_file) {
                    Ok(Some(_)) => {
                        tracing::warn!("Postgres has no revisions yet; serving the snapshot file");
                        self.boot_from_snapshot_file("the store has no revisions")
                            .await
                    }
                    _ => {
                        tracing::warn!(
                            "Postgres has no revisions yet; not ready until one is published"
                        );
                        Ok(())
                    }
                }
            }
            Err(err) => {
                self.state.source.set_store(StoreState::Unreachable);
                self.boot_from_snapshot_file(&format!("Postgres unreachable ({err:#})"))
                    .await
            }
        }
    }

    /// Serves the last good revision from the snapshot file, or says why the node cannot start.
    async fn boot_from_snapshot_file(&mut self, why: &str) -> anyhow::Result<()> {
        let path = &self.store.snapshot_file;
        let persisted = match snapshot_file::read(path) {
            Ok(Some(persisted)) => persisted,
            Ok(None) => anyhow::bail!(
                "cannot start: {why}, and there is no snapshot file at {} to boot from",
                path.display()
            ),
            Err(err) => {
                anyhow::bail!("cannot start: {why}, and the snapshot file is unusable: {err:#}")
            }
        };
        let id = persisted.revision;
        let published_at = persisted.published_at();
        let snapshot = build(&self.state, id, &persisted.config)
            .await
            .with_context(|| {
                format!(
                    "cannot start: {why}, and revision {id} from the snapshot file {} does not build",
                    path.display()
                )
            })?;
        publish(&self.state, snapshot, Origin::SnapshotFile, published_at);
        self.current = Some(id);
        tracing::warn!(
            revision = id,
            snapshot_file = %path.display(),
            "SERVING REVISION {id} FROM THE SNAPSHOT FILE: {why}; retrying the store with backoff"
        );
        Ok(())
    }

    /// Builds a revision from the store, swaps it in and persists it.
    async fn apply(&mut self, revision: Revision) -> anyhow::Result<()> {
        let Revision {
            id,
            config,
            published_at,
        } = revision;
        let snapshot = build(&self.state, id, &config).await?;
        publish(&self.state, snapshot, Origin::Postgres, published_at);
        self.current = Some(id);
        let path = self.store.snapshot_file.clone();
        let persisted = Persisted::new(id, published_at, config);
        let written =
            tokio::task::spawn_blocking(move || snapshot_file::write(&path, &persisted)).await;
        match written {
            Ok(Ok(())) => {}
            Ok(Err(err)) => {
                tracing::error!(revision = id, error = %format!("{err:#}"), "cannot persist the snapshot file; a restart while Postgres is down would boot an older revision")
            }
            Err(err) => tracing::error!(revision = id, error = %err, "snapshot file writer failed"),
        }
        Ok(())
    }

    /// Keeps the node current until the task is aborted.
    async fn watch(mut self) {
        let mut backoff = BACKOFF_MIN;
        // Down since the start: already said loudly.
        let mut reported_down = self.state.source.store() == StoreState::Unreachable;
        loop {
            let Err(err) = self.session().await;
            if self.state.source.store() == StoreState::Connected {
                // Was up: say so once, and retry soon.
                backoff = BACKOFF_MIN;
                reported_down = false;
            }
            if !reported_down {
                tracing::warn!(
                    error = %format!("{err:#}"),
                    serving = self.current.unwrap_or_default(),
                    "Postgres unreachable; serving the current revision from memory, retrying with backoff"
                );
                reported_down = true;
            } else {
                tracing::debug!(error = %format!("{err:#}"), "Postgres still unreachable");
            }
            self.state.source.set_store(StoreState::Unreachable);
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(BACKOFF_MAX);
        }
    }

    /// One connection's life: LISTEN, catch up, then follow notifications and poll ticks. Returns when
    /// the connection is lost (an error says why).
    async fn session(&mut self) -> Result<Infallible, anyhow::Error> {
        let url = &self.store.database_url;
        let mut listener = timed(PgListener::connect(url)).await?;
        listener.eager_reconnect(false);
        timed(listener.listen(CHANNEL)).await?;
        let mut conn = connect(url).await?;
        // Notifications arrive on their own task, so a poll tick never cancels a half-read message.
        let (notified, mut notifications) = mpsc::channel::<Option<String>>(16);
        let _forwarder = AbortOnDrop(tokio::spawn(async move {
            loop {
                let next = match listener.try_recv().await {
                    Ok(Some(notification)) => Some(notification.payload().to_string()),
                    Ok(None) | Err(_) => None,
                };
                let lost = next.is_none();
                if notified.send(next).await.is_err() || lost {
                    return;
                }
            }
        }));
        if self.state.source.store() != StoreState::Connected {
            tracing::info!(
                serving = self.current.unwrap_or_default(),
                "Postgres connected; catching up"
            );
        }
        self.state.source.set_store(StoreState::Connected);
        // LISTEN is in place before this check, so nothing published from here on is missed.
        self.catch_up(&mut conn).await?;
        let mut poll = tokio::time::interval(self.store.poll_interval);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        poll.tick().await;
        loop {
            tokio::select! {
                notification = notifications.recv() => match notification {
                    Some(Some(payload)) => {
                        tracing::debug!(%payload, "revision notification");
                        // Coalesce a burst: the newest revision is what matters.
                        while let Ok(Some(_)) = notifications.try_recv() {}
                    }
                    Some(None) | None => anyhow::bail!("the LISTEN connection was lost"),
                },
                _ = poll.tick() => {}
            }
            self.catch_up(&mut conn).await?;
        }
    }

    /// Loads and applies the newest revision if it is newer than the serving one and not refused.
    /// Errors are the store's; a revision that does not build is logged and remembered instead.
    async fn catch_up(&mut self, conn: &mut PgConnection) -> anyhow::Result<()> {
        let newest_id: Option<i64> =
            timed(sqlx::query_scalar("SELECT max(id) FROM revisions").fetch_one(&mut *conn))
                .await?;
        let Some(newest_id) = newest_id else {
            return Ok(());
        };
        let seen = self.current.max(self.refused).unwrap_or(0);
        if newest_id <= seen {
            if self.current == Some(newest_id) {
                self.confirm_origin();
            }
            return Ok(());
        }
        let Some(revision) = newest(conn).await? else {
            return Ok(());
        };
        let id = revision.id;
        let serving = self.current;
        match self.apply(revision).await {
            Ok(()) => tracing::info!(
                revision = id,
                previous = serving.unwrap_or_default(),
                "revision applied"
            ),
            Err(err) => {
                self.refused = Some(id);
                tracing::error!(
                    revision = id,
                    serving = serving.unwrap_or_default(),
                    problems = %format!("{err:#}"),
                    "revision {id} refused; still serving the last good revision"
                );
            }
        }
        Ok(())
    }

    /// The revision booted from the snapshot file is the store's newest: it now comes from the store.
    fn confirm_origin(&self) {
        if let Some(provenance) = self.state.source.provenance()
            && provenance.origin == Origin::SnapshotFile
        {
            self.state.source.set_provenance(super::Provenance {
                origin: Origin::Postgres,
                ..provenance
            });
        }
    }
}

/// Parses and builds one revision (`revision` = the id as text).
async fn build(
    state: &GatewayState,
    id: i64,
    config: &serde_json::Value,
) -> anyhow::Result<Snapshot> {
    let config: Config = serde_json::from_value(config.clone())
        .with_context(|| format!("revision {id} is not a gateway configuration"))?;
    Ok(catalog::build(&config, id.to_string(), &state.build_context).await?)
}

async fn connect(url: &str) -> anyhow::Result<PgConnection> {
    timed(PgConnection::connect(url)).await
}

async fn newest(conn: &mut PgConnection) -> anyhow::Result<Option<Revision>> {
    let row = timed(
        sqlx::query(
            "SELECT id, config, EXTRACT(EPOCH FROM created_at)::float8 AS published \
             FROM revisions ORDER BY id DESC LIMIT 1",
        )
        .fetch_optional(&mut *conn),
    )
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let published: Option<f64> = row.try_get("published")?;
    Ok(Some(Revision {
        id: row.try_get("id")?,
        config: row.try_get("config")?,
        published_at: published
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(|s| SystemTime::UNIX_EPOCH + Duration::from_secs_f64(s)),
    }))
}

/// A store round trip, bounded by [`STORE_TIMEOUT`].
async fn timed<T>(call: impl Future<Output = Result<T, sqlx::Error>>) -> anyhow::Result<T> {
    match tokio::time::timeout(STORE_TIMEOUT, call).await {
        Ok(result) => Ok(result?),
        Err(_) => anyhow::bail!("Postgres did not answer within {STORE_TIMEOUT:?}"),
    }
}

struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
