//! The node's local copy of its last good revision: written after a revision from the store built, read
//! at start when the store is unreachable. Replaced atomically (temp file, fsync, rename, fsync of the
//! directory), so a crash mid-write leaves the previous copy whole.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

/// Bumped if the layout changes; a file of another format is not read.
const FORMAT: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
pub struct Persisted {
    pub format: u32,
    /// The store's revision id.
    pub revision: i64,
    /// When it was published (seconds since the Unix epoch), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_at_unix: Option<f64>,
    /// The revision's `api_model::Config`, exactly as the store holds it.
    pub config: serde_json::Value,
}

impl Persisted {
    pub fn new(revision: i64, published_at: Option<SystemTime>, config: serde_json::Value) -> Self {
        Persisted {
            format: FORMAT,
            revision,
            published_at_unix: published_at
                .and_then(|at| at.duration_since(UNIX_EPOCH).ok())
                .map(|d| d.as_secs_f64()),
            config,
        }
    }

    pub fn published_at(&self) -> Option<SystemTime> {
        let seconds = self.published_at_unix?;
        (seconds.is_finite() && seconds >= 0.0)
            .then(|| UNIX_EPOCH + Duration::from_secs_f64(seconds))
    }
}

/// Reads the file; `Ok(None)` when there is none.
pub fn read(path: &Path) -> anyhow::Result<Option<Persisted>> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(err).with_context(|| format!("cannot read {}", path.display())),
    };
    let persisted: Persisted = serde_json::from_slice(&bytes)
        .with_context(|| format!("{} is not a gateway snapshot file", path.display()))?;
    anyhow::ensure!(
        persisted.format == FORMAT,
        "{} has format {}, this gateway reads format {FORMAT}",
        path.display(),
        persisted.format
    );
    Ok(Some(persisted))
}

/// Replaces the file atomically. Blocking: call it from `spawn_blocking`.
pub fn write(path: &Path, persisted: &Persisted) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut temp_name = path.file_name().unwrap_or_default().to_os_string();
    temp_name.push(format!(".tmp-{}", std::process::id()));
    let temp = dir.join(temp_name);
    let written = (|| -> std::io::Result<()> {
        let mut file = std::fs::File::create(&temp)?;
        serde_json::to_writer(&mut file, persisted)?;
        file.write_all(b"\n")?;
        file.sync_all()?;
        std::fs::rename(&temp, path)?;
        // The rename is durable once the directory is.
        #[cfg(unix)]
        std::fs::File::open(&dir)?.sync_all()?;
        Ok(())
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written.with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn round_trips_and_replaces() {
        let dir = std::env::temp_dir().join(format!("gw-snapshot-test-{}", std::process::id()));
        let path = dir.join("snapshot.json");
        assert!(read(&path).unwrap().is_none());
        let at = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        write(
            &path,
            &Persisted::new(7, Some(at), serde_json::json!({"apis": []})),
        )
        .unwrap();
        write(
            &path,
            &Persisted::new(8, None, serde_json::json!({"apis": [1]})),
        )
        .unwrap();
        let back = read(&path).unwrap().unwrap();
        assert_eq!(back.revision, 8);
        assert_eq!(back.config, serde_json::json!({"apis": [1]}));
        assert!(back.published_at().is_none());
        let names: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(names.len(), 1, "no temp file left behind");
        std::fs::write(&path, "not json").unwrap();
        assert!(read(&path).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
