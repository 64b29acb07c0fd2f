//! Postgres going away under the portal: every API request is answered within a second with
//! `503 store_unavailable` in the one error shape (not a 30 s hang ending in a 500), whether the store
//! refuses connections or swallows them, and the portal recovers by itself when the store is back.
//!
//! The outage is a TCP proxy between the portal and the shared Postgres, which must itself stay up.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use gateway_portal::{AppState, app, db};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::harness::{ADMIN_PASSWORD, Client, Portal, TestDb};

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// Connections go through to Postgres.
    Forward,
    /// Connections are accepted and then nothing is ever read or written: a host that hangs.
    Swallow,
}

/// Listens on one port for the test's life; `outage` drops every open connection and changes how new
/// ones are treated; `refuse` stops listening (connections refused) until `restore`.
struct StoreProxy {
    port: u16,
    mode: Arc<Mutex<Mode>>,
    listener: Mutex<Option<JoinHandle<()>>>,
    open: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl StoreProxy {
    async fn start() -> StoreProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy = StoreProxy {
            port: listener.local_addr().unwrap().port(),
            mode: Arc::new(Mutex::new(Mode::Forward)),
            listener: Mutex::new(None),
            open: Arc::default(),
        };
        proxy.listen(listener);
        proxy
    }

    fn listen(&self, listener: TcpListener) {
        let (mode, open) = (self.mode.clone(), self.open.clone());
        let task = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let mode = *mode.lock().unwrap();
                let connection = tokio::spawn(async move {
                    if mode == Mode::Swallow {
                        tokio::time::sleep(Duration::from_secs(3600)).await;
                    } else if let Ok(mut server) = TcpStream::connect("127.0.0.1:5432").await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                open.lock().unwrap().push(connection);
            }
        });
        *self.listener.lock().unwrap() = Some(task);
    }

    fn drop_connections(&self) {
        for connection in self.open.lock().unwrap().drain(..) {
            connection.abort();
        }
    }

    fn swallow(&self) {
        *self.mode.lock().unwrap() = Mode::Swallow;
        self.drop_connections();
    }

    fn refuse(&self) {
        if let Some(listener) = self.listener.lock().unwrap().take() {
            listener.abort();
        }
        self.drop_connections();
    }

    async fn restore(&self) {
        self.drop_connections();
        *self.mode.lock().unwrap() = Mode::Forward;
        if self.listener.lock().unwrap().is_some() {
            return;
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        let listener = loop {
            match TcpListener::bind(("127.0.0.1", self.port)).await {
                Ok(listener) => break listener,
                Err(err) if Instant::now() < deadline => {
                    eprintln!("rebinding the store proxy: {err}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(err) => panic!("cannot rebind the store proxy: {err}"),
            }
        };
        self.listen(listener);
    }
}

impl Drop for StoreProxy {
    fn drop(&mut self) {
        self.refuse();
    }
}

/// A portal whose pool (and store watch) reach its database through `proxy`.
async fn portal_behind(proxy: &StoreProxy) -> (TestDb, Client) {
    let direct = Portal::start().await;
    let url = direct
        .db
        .url
        .replace("127.0.0.1:5432", &format!("127.0.0.1:{}", proxy.port));
    assert_ne!(
        url, direct.db.url,
        "the test database URL names 127.0.0.1:5432"
    );
    let pool = db::connect(&url).await.unwrap();
    let portal = Portal {
        app: app(AppState::new(pool)),
        db: direct.db,
    };
    let mut client = portal.client();
    let login = client.login("admin", ADMIN_PASSWORD).await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.text);
    (portal.db, client)
}

/// The request, timed; it must be the store-unavailable 503 in the error shape.
async fn expect_unavailable(client: &Client, what: &str) -> Duration {
    let started = Instant::now();
    let reply = client.get("/api/apis").await;
    let took = started.elapsed();
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{what}: {}",
        reply.text
    );
    assert_eq!(reply.body["code"], "store_unavailable", "{what}");
    assert!(
        reply.body["request_id"]
            .as_str()
            .is_some_and(|id| !id.is_empty()),
        "{what}"
    );
    assert_eq!(reply.headers["retry-after"], "1", "{what}");
    took
}

async fn expect_recovered(client: &Client, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let reply = client.get("/api/apis").await;
        if reply.status == StatusCode::OK {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: still {} {}",
            reply.status,
            reply.text
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_store_outage_is_a_prompt_503_and_the_portal_recovers_by_itself() {
    let proxy = StoreProxy::start().await;
    let (_db, client) = portal_behind(&proxy).await;
    assert_eq!(client.get("/api/apis").await.status, StatusCode::OK);

    // Refused connections: sqlx alone would retry them for 30 s.
    proxy.refuse();
    let took = expect_unavailable(&client, "refused").await;
    assert!(
        took < Duration::from_secs(1),
        "refused: answered after {took:?}"
    );
    // Once the outage is known, the answer is immediate.
    let took = expect_unavailable(&client, "refused, known").await;
    assert!(
        took < Duration::from_millis(200),
        "refused, known: {took:?}"
    );
    proxy.restore().await;
    expect_recovered(&client, "after refusing").await;

    // A store that accepts connections and never answers.
    proxy.swallow();
    let took = expect_unavailable(&client, "swallowed").await;
    assert!(
        took < Duration::from_secs(1),
        "swallowed: answered after {took:?}"
    );
    proxy.restore().await;
    expect_recovered(&client, "after swallowing").await;

    // The UI itself needs no store and is served throughout.
    proxy.refuse();
    let page = client.get("/").await;
    assert_eq!(page.status, StatusCode::OK);
}
