//! ZooKeeper discovery: one session per ensemble, one follower task per watched providers node, each
//! feeding a `watch` channel that a `ProviderSet` reads.
//!
//! A follower lists `<root>/<interface>/providers` with a child watch and lists again after every
//! event; while the node does not exist it holds an exists watch and serves an empty list. When the
//! session ends it waits for the next one and lists again, serving the last known list meanwhile: a
//! registry outage must never empty a working provider list. A follower stops when the last
//! `ProviderSet` reading it is dropped, and a session when its last follower stops.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;

use tokio::sync::watch;
use zookeeper_client::{self as zk, EventType, OneshotWatcher};

use super::super::backoff::Backoff;
use super::super::discovery::{Provider, ProviderSet};
use super::session::Session;
use super::url::{Wire, parse_provider_node_for};

/// Pacing of list retries after a non-fatal error (connection loss, missing permission).
const RETRY_MIN: Duration = Duration::from_millis(100);
const RETRY_MAX: Duration = Duration::from_secs(10);

type ProviderList = Arc<Vec<Provider>>;

/// Watched provider lists, shared across config snapshots so a reload reuses live sessions and
/// watchers instead of reconnecting.
#[derive(Clone, Default)]
pub struct Registries {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Default)]
struct Inner {
    /// Weak: a session lives as long as some follower uses it.
    sessions: HashMap<String, Weak<Session>>,
    followers: HashMap<FollowKey, Arc<Follower>>,
}

/// (ensemble address, providers node path, which providers are read).
type FollowKey = (String, String, Wire);

impl Registries {
    /// The interface's providers, watched: the returned ProviderSet updates when providers come and go.
    /// The first call for an interface waits (bounded by `timeout`) for the first listing; an
    /// unreachable ensemble is an Err naming it. Later calls for the same (address, root, interface)
    /// reuse the watcher.
    pub async fn providers(
        &self,
        address: &str,
        root: &str,
        interface: &str,
        wire: Wire,
        timeout: Duration,
    ) -> Result<ProviderSet, String> {
        let path = providers_path(root, interface)?;
        let (providers, mut listed, follower) = {
            let mut inner = lock(&self.inner);
            let key = (address.to_owned(), path.clone(), wire);
            let follower = match inner.followers.get(&key) {
                Some(follower) => follower.clone(),
                None => self.start_follower(&mut inner, key),
            };
            // Subscribed under the lock, so the follower cannot see zero readers and stop between
            // our lookup and our subscription.
            let providers = follower.providers.subscribe();
            (providers, follower.listed.subscribe(), follower)
        };
        let first_listing = async {
            tokio::select! {
                biased;
                listed = listed.wait_for(|listed| *listed) => match listed {
                    Ok(_) => Ok(()),
                    Err(_) => Err(format!("the watcher of {path} stopped")),
                },
                // Fail as soon as the ensemble is known to be unreachable instead of sitting out
                // the whole timeout.
                error = follower.session.failure() => Err(error),
            }
        };
        match tokio::time::timeout(timeout, first_listing).await {
            Ok(Ok(())) => Ok(ProviderSet::from_watch(providers)),
            Ok(Err(error)) => Err(format!("ZooKeeper registry {address}: {error}")),
            Err(_) => {
                let why = follower
                    .last_error
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .clone();
                let why = why
                    .map(|error| format!(" (last error: {error})"))
                    .unwrap_or_default();
                Err(format!(
                    "ZooKeeper registry {address}: no listing of {path} within {timeout:?}{why}"
                ))
            }
        }
    }

    /// (live sessions, followers), for tests of sharing and cleanup.
    #[cfg(test)]
    pub(super) fn counts(&self) -> (usize, usize) {
        let inner = lock(&self.inner);
        let sessions = inner.sessions.values().filter(|s| s.strong_count() > 0);
        (sessions.count(), inner.followers.len())
    }

    fn start_follower(&self, inner: &mut Inner, key: FollowKey) -> Arc<Follower> {
        let session = match inner.sessions.get(&key.0).and_then(Weak::upgrade) {
            Some(session) => session,
            None => {
                inner
                    .sessions
                    .retain(|_, session| session.strong_count() > 0);
                let session = Arc::new(Session::start(key.0.clone()));
                inner
                    .sessions
                    .insert(key.0.clone(), Arc::downgrade(&session));
                session
            }
        };
        let follower = Arc::new(Follower {
            providers: watch::Sender::new(Arc::new(Vec::new())),
            listed: watch::Sender::new(false),
            last_error: Mutex::new(None),
            session,
        });
        inner.followers.insert(key.clone(), follower.clone());
        tokio::spawn(run_follower(
            Arc::downgrade(&self.inner),
            key,
            follower.clone(),
        ));
        follower
    }
}

fn lock(inner: &Mutex<Inner>) -> MutexGuard<'_, Inner> {
    // The map stays consistent even if a holder panicked: every update is a single insert or remove.
    inner.lock().unwrap_or_else(PoisonError::into_inner)
}

/// `<root>/<interface>/providers`, with Dubbo's default root for an empty one.
fn providers_path(root: &str, interface: &str) -> Result<String, String> {
    let root = root.trim_end_matches('/');
    let root = if root.is_empty() { "/dubbo" } else { root };
    if !root.starts_with('/') {
        return Err(format!("registry root {root:?} must start with '/'"));
    }
    if interface.is_empty() || interface.contains('/') {
        return Err(format!(
            "interface {interface:?} is not a registry node name"
        ));
    }
    Ok(format!("{root}/{interface}/providers"))
}

/// One watched providers node.
struct Follower {
    providers: watch::Sender<ProviderList>,
    /// Turns true at the first listing; `providers()` waits for it.
    listed: watch::Sender<bool>,
    /// Why listing last failed, for the error of a first listing that never came.
    last_error: Mutex<Option<String>>,
    session: Arc<Session>,
}

impl Follower {
    fn set_error(&self, error: Option<String>) {
        *self
            .last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = error;
    }
}

/// Follows the node until no `ProviderSet` reads it, then leaves the registry.
async fn run_follower(registry: Weak<Mutex<Inner>>, key: FollowKey, follower: Arc<Follower>) {
    loop {
        tokio::select! {
            _ = follower.providers.closed() => {}
            never = follow(&follower, &key.1, key.2) => match never {},
        }
        let Some(registry) = registry.upgrade() else {
            return;
        };
        let mut inner = lock(&registry);
        // A reader may have subscribed between `closed()` and the lock; then keep following.
        if follower.providers.receiver_count() == 0 {
            if inner
                .followers
                .get(&key)
                .is_some_and(|entry| Arc::ptr_eq(entry, &follower))
            {
                inner.followers.remove(&key);
            }
            return;
        }
    }
}

/// Lists and watches `path`, session after session. Never returns.
async fn follow(follower: &Follower, path: &str, wire: Wire) -> std::convert::Infallible {
    let mut generation = 0;
    let mut retry = Backoff::new(RETRY_MIN, RETRY_MAX);
    loop {
        let client;
        (generation, client) = follower.session.next_client(generation).await;
        loop {
            match list_and_watch(&client, path, wire).await {
                Ok((providers, watcher)) => {
                    retry.reset();
                    follower.set_error(None);
                    publish(&follower.providers, providers);
                    follower.listed.send_replace(true);
                    let event = watcher.changed().await;
                    // Node events mean "list again"; a session event on a one-shot watch only
                    // comes when the session is over.
                    if event.event_type == EventType::Session && event.session_state.is_terminated()
                    {
                        break;
                    }
                }
                Err(_) if client.state().is_terminated() => break,
                Err(error) => {
                    // Connection loss while the client resumes the session, or a refused read:
                    // the request is retried, never in a tight loop.
                    tracing::warn!(path, %error, "ZooKeeper listing failed; retrying");
                    follower.set_error(Some(error.to_string()));
                    tokio::time::sleep(retry.next_wait()).await;
                }
            }
        }
    }
}

/// The current providers and a watch that fires when they may have changed.
async fn list_and_watch(
    client: &zk::Client,
    path: &str,
    wire: Wire,
) -> Result<(Vec<Provider>, OneshotWatcher), zk::Error> {
    loop {
        match client.list_and_watch_children(path).await {
            Ok((children, watcher)) => return Ok((parse_children(&children, wire), watcher)),
            Err(zk::Error::NoNode) => {}
            Err(error) => return Err(error),
        }
        // No providers node yet (no provider ever registered): serve an empty list until it appears.
        match client.check_and_watch_stat(path).await? {
            (None, watcher) => return Ok((Vec::new(), watcher)),
            // Created between the two reads: list it.
            (Some(_), _) => continue,
        }
    }
}

/// Usable providers, sorted and without duplicates so that equal listings compare equal. No cap of
/// our own: a listing is one ZooKeeper reply, bounded by the server's packet limit (`jute.maxbuffer`).
fn parse_children(children: &[String], wire: Wire) -> Vec<Provider> {
    let mut providers: Vec<Provider> = children
        .iter()
        .filter_map(|name| parse_provider_node_for(name, wire).map(|(provider, _)| provider))
        .collect();
    providers.sort_by(|a, b| {
        (&a.address, &a.version, &a.group, a.tls).cmp(&(&b.address, &b.version, &b.group, b.tls))
    });
    providers.dedup();
    providers
}

/// Replaces the list only when it changed, so a re-listing after a reconnect wakes no reader.
fn publish(tx: &watch::Sender<ProviderList>, providers: Vec<Provider>) {
    tx.send_if_modified(|current| {
        if **current == providers {
            return false;
        }
        *current = Arc::new(providers);
        true
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn providers_paths() {
        let cases = [
            ("/dubbo", "a.B", Ok("/dubbo/a.B/providers")),
            ("", "a.B", Ok("/dubbo/a.B/providers")),
            ("/", "a.B", Ok("/dubbo/a.B/providers")),
            ("/custom/", "a.B", Ok("/custom/a.B/providers")),
            ("custom", "a.B", Err(())),
            ("/dubbo", "", Err(())),
            ("/dubbo", "a/B", Err(())),
        ];
        for (root, interface, expected) in cases {
            let path = providers_path(root, interface);
            assert_eq!(
                path.as_deref().map_err(|_| ()),
                expected,
                "{root} {interface}"
            );
        }
    }

    #[test]
    fn listings_are_sorted_deduplicated_and_skip_unusable_nodes() {
        let names = [
            "dubbo%3A%2F%2F10.0.0.2%3A1%2Fa.B",
            "tri%3A%2F%2F10.0.0.9%3A1%2Fa.B",
            "dubbo%3A%2F%2F10.0.0.1%3A1%2Fa.B%3Fversion%3D1",
            "dubbo%3A%2F%2F10.0.0.2%3A1%2Fa.B%3Ftimestamp%3D2",
            "junk",
        ]
        .map(String::from);
        let addresses: Vec<_> = parse_children(&names, Wire::Dubbo)
            .into_iter()
            .map(|provider| provider.address)
            .collect();
        assert_eq!(addresses, ["10.0.0.1:1", "10.0.0.2:1"]);
    }
}
