//! One ZooKeeper session per ensemble, kept open by a background task: it connects, publishes the
//! client, waits for the session to end (expired, closed, auth failed) and connects again with backoff.
//! Disconnects inside a session are the client's to resume; watches survive them.

use std::time::Duration;

use tokio::sync::watch;
use tokio::task::AbortHandle;
use tokio::time::Instant;
use zookeeper_client as zk;

use super::super::backoff::Backoff;

/// The session timeout asked of the ensemble. We own no ephemeral nodes, so it only bounds how long
/// the client tries to resume a session across a disconnect before we open a new one.
const SESSION_TIMEOUT: Duration = Duration::from_secs(10);
/// One connect attempt to the whole ensemble; a black-holed address must not stall the retry loop.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Pacing of reconnects after a failed connect or an expired session.
const RECONNECT_MIN: Duration = Duration::from_millis(200);
/// At most this stale after an ensemble comes back.
const RECONNECT_MAX: Duration = Duration::from_secs(10);
/// A session that lived this long was healthy: the next reconnect starts from the minimum wait.
const HEALTHY_SESSION: Duration = Duration::from_secs(60);

/// One ZooKeeper session to an ensemble, reopened by a background task whenever it ends.
pub(super) struct Session {
    state: watch::Receiver<SessionState>,
    task: AbortHandle,
}

enum SessionState {
    /// Before the first attempt, and between a session's end and the next one.
    Connecting,
    /// `generation` counts sessions, so a follower can ask for one newer than the one that ended.
    Live { generation: u64, client: zk::Client },
    /// The last connect attempt failed, for this reason.
    Failed(String),
}

impl Session {
    pub(super) fn start(address: String) -> Self {
        let (tx, state) = watch::channel(SessionState::Connecting);
        let task = tokio::spawn(keep_session(address, tx)).abort_handle();
        Self { state, task }
    }

    /// A live client of a session newer than `after`.
    pub(super) async fn next_client(&self, after: u64) -> (u64, zk::Client) {
        let mut state = self.state.clone();
        let live = state.wait_for(|state| match state {
            SessionState::Live { generation, client } => {
                *generation > after && !client.state().is_terminated()
            }
            _ => false,
        });
        if let Ok(state) = live.await
            && let SessionState::Live { generation, client } = &*state
        {
            return (*generation, client.clone());
        }
        // The session task is gone (it only ends by panicking): keep serving the last known list.
        tracing::error!("ZooKeeper session task ended; provider list frozen");
        std::future::pending().await
    }

    /// Resolves with the reason once connecting has failed (now or later).
    pub(super) async fn failure(&self) -> String {
        let mut state = self.state.clone();
        let failed = state
            .wait_for(|state| matches!(state, SessionState::Failed(_)))
            .await;
        match failed.as_deref() {
            Ok(SessionState::Failed(error)) => error.clone(),
            _ => "the session task stopped".to_owned(),
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // Dropping the task drops its client, which closes the ZooKeeper session.
        self.task.abort();
    }
}

/// Connects, publishes the client, waits for the session to end, and starts over with backoff.
async fn keep_session(address: String, tx: watch::Sender<SessionState>) {
    let mut backoff = Backoff::new(RECONNECT_MIN, RECONNECT_MAX);
    let mut generation = 0;
    loop {
        let client = match connect(&address).await {
            Ok(client) => client,
            Err(error) => {
                tracing::warn!(address, %error, "cannot connect to ZooKeeper");
                tx.send_replace(SessionState::Failed(error));
                tokio::time::sleep(backoff.next_wait()).await;
                continue;
            }
        };
        generation += 1;
        tracing::info!(address, session = %client.session_id(), "ZooKeeper session established");
        let started = Instant::now();
        let mut states = client.state_watcher();
        tx.send_replace(SessionState::Live {
            generation,
            client: client.clone(),
        });
        // Disconnects inside the session are the client's to resume; only a terminal state
        // (expired, closed, auth failed) needs a new session.
        let mut state = states.peek_state();
        while !state.is_terminated() {
            state = states.changed().await;
        }
        tracing::warn!(address, %state, "ZooKeeper session ended; reconnecting");
        // Connecting, not Failed: the ensemble was reachable a moment ago, so a first listing
        // asked for now waits for the new session rather than failing at once.
        tx.send_replace(SessionState::Connecting);
        drop(client);
        if started.elapsed() >= HEALTHY_SESSION {
            backoff.reset();
        }
        tokio::time::sleep(backoff.next_wait()).await;
    }
}

async fn connect(address: &str) -> Result<zk::Client, String> {
    // Fail eagerly: report an unreachable ensemble after one round over its servers, and let our
    // own backoff pace the next round.
    let connect = zk::Client::connector()
        .with_session_timeout(SESSION_TIMEOUT)
        .with_fail_eagerly()
        .connect(address);
    match tokio::time::timeout(CONNECT_TIMEOUT, connect).await {
        Ok(Ok(client)) => Ok(client),
        Ok(Err(error)) => Err(format!("cannot connect: {error}")),
        Err(_) => Err(format!("cannot connect within {CONNECT_TIMEOUT:?}")),
    }
}
