//! Postgres mode: revisions published to the store (insert + NOTIFY, as the portal does) reach a running
//! node within a second; a revision that does not build is refused; a store outage under load fails no
//! request and the node catches up when the store returns; a node restarted while the store is down boots
//! from its snapshot file; with neither, it refuses to start.
//!
//! Each test has its own database `gw_test_<random>` on the local Postgres (127.0.0.1:5432, user
//! postgres), dropped at the end. Outages are simulated with a TCP proxy between the node and Postgres,
//! because the shared server itself must stay up.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::Connection as _;
use sqlx::postgres::PgConnection;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::harness::{Gateway, demo_config, repo_root, tonic_backend};

const SERVER: &str = "127.0.0.1:5432";

fn url(addr: &str, database: &str) -> String {
    format!("postgres://postgres@{addr}/{database}")
}

/// A fresh database with the migrations applied; dropped with the handle.
struct TestDb {
    name: String,
}

impl TestDb {
    async fn create() -> TestDb {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let name = format!(
            "gw_test_{}_{}_{}",
            std::process::id(),
            nanos,
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let mut admin = PgConnection::connect(&url(SERVER, "postgres"))
            .await
            .expect("Postgres on 127.0.0.1:5432 (user postgres, trust); see .ci/run");
        sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .expect("create database");
        let _ = admin.close().await;
        let db = TestDb { name };
        let migrator = sqlx::migrate::Migrator::new(repo_root().join("migrations"))
            .await
            .expect("migrations");
        let mut conn = db.connect().await;
        migrator.run(&mut conn).await.expect("migrate");
        let _ = conn.close().await;
        db
    }

    /// The URL a gateway uses, straight or through a proxy.
    fn url_via(&self, addr: SocketAddr) -> String {
        url(&addr.to_string(), &self.name)
    }

    async fn connect(&self) -> PgConnection {
        PgConnection::connect(&url(SERVER, &self.name))
            .await
            .expect("connect test database")
    }

    /// Publishes a revision the way the portal does (insert and NOTIFY in one transaction); returns its
    /// id and when the commit returned.
    async fn publish(&self, yaml: &str) -> (i64, Instant) {
        let config = api_model::Config::from_yaml(yaml).expect("test config parses");
        let json = serde_json::to_value(&config).expect("config as JSON");
        let mut conn = self.connect().await;
        let mut tx = conn.begin().await.unwrap();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO revisions (config, created_by, comment) VALUES ($1, 'e2e', 'test') RETURNING id",
        )
        .bind(json)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
        sqlx::query("SELECT pg_notify('gateway_revisions', $1)")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let committed = Instant::now();
        let _ = conn.close().await;
        (id, committed)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // Drop runs outside any runtime we may block: a thread of its own with a small runtime.
        let name = self.name.clone();
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                if let Ok(mut admin) = PgConnection::connect(&url(SERVER, "postgres")).await {
                    let _ = sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut admin)
                        .await;
                    let _ = admin.close().await;
                }
            });
        });
        let _ = dropped.join();
    }
}

/// A TCP proxy in front of Postgres that can be cut (every connection dropped, nothing accepted) and
/// restored on the same port: a store outage without stopping the shared server.
struct Proxy {
    addr: SocketAddr,
    accept: Mutex<Option<JoinHandle<()>>>,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    async fn start() -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy = Proxy {
            addr: listener.local_addr().unwrap(),
            accept: Mutex::new(None),
            connections: Arc::default(),
        };
        proxy.serve(listener);
        proxy
    }

    fn serve(&self, listener: TcpListener) {
        let connections = self.connections.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let forward = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(SERVER).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                connections.lock().unwrap().push(forward);
            }
        });
        *self.accept.lock().unwrap() = Some(accept);
    }

    /// Stops accepting and drops every open connection.
    fn cut(&self) {
        if let Some(accept) = self.accept.lock().unwrap().take() {
            accept.abort();
        }
        for connection in self.connections.lock().unwrap().drain(..) {
            connection.abort();
        }
    }

    /// Accepts again, on the same port.
    async fn restore(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        let listener = loop {
            match TcpListener::bind(self.addr).await {
                Ok(listener) => break listener,
                Err(err) if Instant::now() < deadline => {
                    eprintln!("rebinding the proxy: {err}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(err) => panic!("cannot rebind the proxy on {}: {err}", self.addr),
            }
        };
        self.serve(listener);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.cut();
    }
}

fn settings(database_url: String, snapshot_file: &Path) -> gateway_web::Settings {
    let mut settings = gateway_web::Settings::postgres(database_url, snapshot_file);
    if let Some(store) = settings.store.as_mut() {
        store.poll_interval = Duration::from_millis(500);
    }
    settings
}

fn with_extra_route(base: &str, path: &str) -> String {
    format!(
        "{base}\n  - name: extra\n    backend: demo\n    grpc: {{ service: demo.bookstore.v1.Bookstore, method: GetShelf }}\n    http: {{ get: \"{path}\" }}\n"
    )
}

/// Waits until the snapshot file holds `revision` (it is written just after the swap).
async fn wait_persisted(path: &Path, revision: i64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let persisted = std::fs::read(path)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok());
        if persisted
            .as_ref()
            .is_some_and(|p| p["revision"] == revision)
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "snapshot file never held revision {revision}: {persisted:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn status(gw: &Gateway, path: &str) -> u16 {
    gw.client
        .get(gw.url(path))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn published_revision_reaches_the_node_by_notify() {
    let backend = tonic_backend().await;
    let db = TestDb::create().await;
    let dir = tempfile::tempdir().unwrap();
    let snapshot_file = dir.path().join("snapshot.json");
    let base = demo_config(backend.addr);
    let (first, _) = db.publish(&base).await;

    let mut settings = settings(db.url_via(SERVER.parse().unwrap()), &snapshot_file);
    // Polling only every 60 s: what is measured here is the push.
    if let Some(store) = settings.store.as_mut() {
        store.poll_interval = Duration::from_secs(60);
    }
    let gw = Gateway::start_with(settings).await.unwrap();
    let ready = gw.readyz().await;
    assert_eq!(ready["revision"], first.to_string(), "{ready}");
    assert_eq!(ready["source"], "postgres", "{ready}");
    assert_eq!(ready["store"], "connected", "{ready}");
    assert!(ready["age_seconds"].as_u64().unwrap() < 60, "{ready}");
    assert_eq!(status(&gw, "/v1/shelves/1").await, 200);
    assert_eq!(status(&gw, "/extra/1").await, 404);
    // The revision that built is on disk.
    wait_persisted(&snapshot_file, first).await;

    // Let the LISTEN session settle so the measurement is of a steady node.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (second, committed) = db.publish(&with_extra_route(&base, "/extra/{shelf}")).await;
    let propagation = loop {
        if status(&gw, "/extra/1").await == 200 {
            break committed.elapsed();
        }
        assert!(
            committed.elapsed() < Duration::from_secs(10),
            "revision {second} never served"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    };
    eprintln!(
        "PROPAGATION: revision {second} commit -> first 200 on its new route: {propagation:?}"
    );
    assert!(
        propagation < Duration::from_secs(3),
        "propagation took {propagation:?}"
    );
    assert_eq!(gw.readyz().await["revision"], second.to_string());
    wait_persisted(&snapshot_file, second).await;
}

#[tokio::test]
async fn revision_that_fails_to_build_is_refused() {
    let backend = tonic_backend().await;
    let db = TestDb::create().await;
    let dir = tempfile::tempdir().unwrap();
    let snapshot_file = dir.path().join("snapshot.json");
    let base = with_extra_route(&demo_config(backend.addr), "/extra/{shelf}");
    let (good, _) = db.publish(&base).await;
    let mut gw = Gateway::start_with(settings(
        db.url_via(SERVER.parse().unwrap()),
        &snapshot_file,
    ))
    .await
    .unwrap();
    assert_eq!(gw.readyz().await["revision"], good.to_string());
    wait_persisted(&snapshot_file, good).await;

    let (bad, _) = db
        .publish(&base.replace("method: GetShelf", "method: NoSuchMethod"))
        .await;
    // Two poll intervals and a notification: long enough to have tried it.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let ready = gw.readyz().await;
    assert_eq!(
        ready["revision"],
        good.to_string(),
        "bad revision {bad} refused: {ready}"
    );
    assert_eq!(status(&gw, "/extra/1").await, 200, "old revision serves");
    let persisted: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&snapshot_file).unwrap()).unwrap();
    assert_eq!(
        persisted["revision"], good,
        "a refused revision is not persisted"
    );

    let (next, _) = db.publish(&demo_config(backend.addr)).await;
    gw.wait_for_revision(&next.to_string()).await.unwrap();
    assert_eq!(
        status(&gw, "/extra/1").await,
        404,
        "the later revision applies"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn store_outage_under_load_fails_no_request_and_catches_up() {
    let backend = tonic_backend().await;
    let db = TestDb::create().await;
    let proxy = Proxy::start().await;
    let dir = tempfile::tempdir().unwrap();
    let base = demo_config(backend.addr);
    db.publish(&base).await;
    let mut gw = Gateway::start_with(settings(
        db.url_via(proxy.addr),
        &dir.path().join("snapshot.json"),
    ))
    .await
    .unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let ok = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..6 {
        let (client, url, stop, ok, failed) = (
            gw.client.clone(),
            gw.url("/v1/shelves/1"),
            stop.clone(),
            ok.clone(),
            failed.clone(),
        );
        workers.push(tokio::spawn(async move {
            let deadline = Instant::now() + Duration::from_secs(60);
            while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                match client.get(&url).send().await {
                    Ok(response) if response.status() == 200 => ok.fetch_add(1, Ordering::Relaxed),
                    Ok(response) => {
                        eprintln!("failed: {} {:?}", response.status(), response.text().await);
                        failed.fetch_add(1, Ordering::Relaxed)
                    }
                    Err(err) => {
                        eprintln!("failed: {err}");
                        failed.fetch_add(1, Ordering::Relaxed)
                    }
                };
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;

    proxy.cut();
    gw.wait_until(|body| body["store"] == "unreachable")
        .await
        .unwrap();
    // Published while this node cannot see the store.
    let (during, _) = db.publish(&with_extra_route(&base, "/extra/{shelf}")).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let down = gw.readyz().await;
    assert_eq!(down["store"], "unreachable", "{down}");
    assert_ne!(down["revision"], during.to_string(), "{down}");
    let served_while_down = ok.load(Ordering::Relaxed);

    proxy.restore().await;
    let restored = Instant::now();
    gw.wait_for_revision(&during.to_string()).await.unwrap();
    eprintln!(
        "caught up to revision {during} {:?} after the store returned",
        restored.elapsed()
    );
    let up = gw.readyz().await;
    assert_eq!(up["store"], "connected", "{up}");
    assert_eq!(up["source"], "postgres", "{up}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.await.unwrap();
    }
    let (ok, failed) = (ok.load(Ordering::Relaxed), failed.load(Ordering::Relaxed));
    eprintln!(
        "store outage under load: {ok} ok ({served_while_down} by the end of the outage), {failed} failed"
    );
    assert_eq!(failed, 0, "no request fails while the store is down");
    assert!(
        served_while_down > 50,
        "load ran through the outage: {served_while_down}"
    );
    assert_eq!(status(&gw, "/extra/1").await, 200);
}

#[tokio::test]
async fn node_restarted_while_the_store_is_down_boots_from_the_snapshot_file() {
    let backend = tonic_backend().await;
    let db = TestDb::create().await;
    let proxy = Proxy::start().await;
    let dir = tempfile::tempdir().unwrap();
    let snapshot_file = dir.path().join("snapshot.json");
    let with_extra = with_extra_route(&demo_config(backend.addr), "/extra/{shelf}");
    let (id, _) = db.publish(&with_extra).await;
    let gw = Gateway::start_with(settings(db.url_via(proxy.addr), &snapshot_file))
        .await
        .unwrap();
    assert_eq!(gw.readyz().await["revision"], id.to_string());
    wait_persisted(&snapshot_file, id).await;
    drop(gw);

    proxy.cut();
    let mut gw = Gateway::start_with(settings(db.url_via(proxy.addr), &snapshot_file))
        .await
        .unwrap();
    let ready = gw.readyz().await;
    assert_eq!(ready["revision"], id.to_string(), "{ready}");
    assert_eq!(ready["source"], "snapshot-file", "{ready}");
    assert_eq!(ready["store"], "unreachable", "{ready}");
    assert_eq!(status(&gw, "/extra/1").await, 200);
    assert_eq!(status(&gw, "/v1/shelves/1").await, 200);

    // When the store returns, the node catches up with what was published meanwhile.
    let (next, _) = db.publish(&demo_config(backend.addr)).await;
    proxy.restore().await;
    gw.wait_for_revision(&next.to_string()).await.unwrap();
    let ready = gw.readyz().await;
    assert_eq!(ready["source"], "postgres", "{ready}");
    assert_eq!(ready["store"], "connected", "{ready}");
    assert_eq!(status(&gw, "/extra/1").await, 404);
}

#[tokio::test]
async fn no_store_and_no_snapshot_file_refuses_to_start() {
    // A port with nothing behind it.
    let closed = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let snapshot_file = dir.path().join("missing.json");
    let started = Instant::now();
    let err =
        match Gateway::start_with(settings(url(&closed.to_string(), "gw"), &snapshot_file)).await {
            Ok(_) => panic!("started with neither a store nor a snapshot file"),
            Err(err) => format!("{err:#}"),
        };
    eprintln!("refused to start: {err}");
    assert!(err.contains("Postgres unreachable"), "{err}");
    assert!(err.contains("no snapshot file"), "{err}");
    assert!(err.contains("missing.json"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(10));
}
