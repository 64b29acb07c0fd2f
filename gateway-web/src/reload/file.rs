//! Standalone mode: the definitions file is checked every `reload_interval` (and at once on SIGHUP); a
//! change is built off the hot path and swapped in atomically. A file that fails to parse or build is
//! refused with one log line and the running snapshot keeps serving.

use std::sync::Arc;

use anyhow::Context as _;
use api_model::Config;
use sha2::{Digest, Sha256};

use crate::catalog;
use crate::state::GatewayState;

use super::publish;
use crate::source_status::Origin;

/// Loads the first revision; a gateway with a bad file does not start.
pub async fn load_initial(state: &GatewayState) -> anyhow::Result<()> {
    let path = &state.settings.config_path;
    let text = tokio::fs::read_to_string(path)
        .await
        .with_context(|| format!("cannot read {}", path.display()))?;
    let revision = apply(state, &text)
        .await
        .with_context(|| format!("config {} refused", path.display()))?;
    tracing::info!(%revision, path = %path.display(), "config loaded");
    Ok(())
}

/// Watches the file until the task is aborted.
pub async fn watch(state: Arc<GatewayState>) {
    let mut interval = tokio::time::interval(state.settings.reload_interval);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut hangup = hangup_signal();
    // The revision last tried, good or bad: a refused file is reported once, not every tick.
    let mut last_tried = state.snapshot.load().revision.clone();
    // The file's modification time, length and inode when last read: an unchanged stamp skips reading
    // and hashing a large file every tick (a 1,000-API file cost more CPU than the requests it served).
    // None: the first tick reads the file once, catching an edit made while the first revision loaded.
    let mut last_stamp = None;
    loop {
        let forced = tokio::select! {
            _ = interval.tick() => false,
            _ = recv(&mut hangup) => {
                tracing::info!("SIGHUP: checking the config file");
                true
            }
        };
        let path = &state.settings.config_path;
        let current = stamp(path).await;
        if !forced && current.is_some() && current == last_stamp {
            continue;
        }
        last_stamp = current;
        let text = match tokio::fs::read_to_string(path).await {
            Ok(text) => text,
            Err(err) => {
                if last_tried != "unreadable" {
                    tracing::error!(path = %path.display(), error = %err, "config file unreadable; still serving the last good revision");
                    last_tried = "unreadable".into();
                }
                continue;
            }
        };
        let revision = revision_of(&text);
        if revision == last_tried {
            continue;
        }
        last_tried.clone_from(&revision);
        let serving = state.snapshot.load().revision.clone();
        match apply(&state, &text).await {
            Ok(revision) => tracing::info!(%revision, previous = %serving, "config reloaded"),
            Err(err) => {
                tracing::error!(%revision, serving = %serving, error = %err, "config refused; still serving the last good revision")
            }
        }
    }
}

/// Parses, builds and swaps; returns the new revision.
async fn apply(state: &GatewayState, text: &str) -> anyhow::Result<String> {
    let config = Config::from_yaml(text).context("invalid YAML")?;
    let revision = revision_of(text);
    let snapshot = catalog::build(&config, revision.clone(), &state.build_context).await?;
    publish(state, snapshot, Origin::File, None);
    Ok(revision)
}

/// What changes when the file is rewritten in place or replaced by a rename.
async fn stamp(path: &std::path::Path) -> Option<(std::time::SystemTime, u64, u64)> {
    let meta = tokio::fs::metadata(path).await.ok()?;
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&meta);
    #[cfg(not(unix))]
    let inode = 0;
    Some((meta.modified().ok()?, meta.len(), inode))
}

/// A short content hash: the same file is the same revision on every node.
pub fn revision_of(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().take(6).map(|b| format!("{b:02x}")).collect()
}

#[cfg(unix)]
type Hangup = Option<tokio::signal::unix::Signal>;
#[cfg(not(unix))]
type Hangup = Option<()>;

#[cfg(unix)]
fn hangup_signal() -> Hangup {
    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok()
}
#[cfg(not(unix))]
fn hangup_signal() -> Hangup {
    None
}

async fn recv(hangup: &mut Hangup) {
    #[cfg(unix)]
    if let Some(signal) = hangup {
        signal.recv().await;
        return;
    }
    std::future::pending::<()>().await
}
