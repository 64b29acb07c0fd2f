//! Discovery against a real ZooKeeper (Debian's `zookeeper` package, run by
//! `tests/peers/dubbo/zookeeper.sh`); each live test SKIPs, saying so, when it is not installed.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::time::Instant;
use zookeeper_client::{self as zk, Acls, CreateMode};

use super::super::discovery::ProviderSet;
use super::Registries;
use super::url::{Wire, encode_provider_url};

const IFACE: &str = "org.apache.dubbo.demo.UserService";
const FIRST_LISTING: Duration = Duration::from_secs(10);
/// Changes must reach the `ProviderSet` within about a second; this leaves room for a loaded CI host.
const UPDATE: Duration = Duration::from_secs(2);
const ZOOKEEPER_JAR: &str = "/usr/share/java/zookeeper.jar";
const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/peers/dubbo/zookeeper.sh"
);

/// A ZooKeeper server on 127.0.0.1 with its own data directory, stopped (and the directory removed)
/// on drop.
struct ZooKeeper {
    port: u16,
    dir: PathBuf,
    running: Option<Running>,
}

/// The script's process; closing its stdin makes it stop ZooKeeper and exit.
struct Running {
    child: Child,
    stdin: Option<ChildStdin>,
    _stdout: ChildStdout,
}

impl ZooKeeper {
    /// `None` (after saying SKIP) when ZooKeeper is not installed.
    async fn start(test: &str) -> Option<Self> {
        if !Path::new(ZOOKEEPER_JAR).exists() {
            eprintln!(
                "SKIP {test}: ZooKeeper not installed ({ZOOKEEPER_JAR}; apt-get install zookeeper)"
            );
            return None;
        }
        static SERVERS: AtomicU32 = AtomicU32::new(0);
        let n = SERVERS.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("gw-zk-{}-{n}", std::process::id()));
        let mut server = Self {
            port: 0,
            dir,
            running: None,
        };
        server.launch().await;
        Some(server)
    }

    fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Starts ZooKeeper; after `stop`, on the same port and data directory, so nodes (and sessions)
    /// survive a restart.
    async fn launch(&mut self) {
        let mut child = Command::new("bash")
            .arg(SCRIPT)
            .arg("--port")
            .arg(self.port.to_string())
            .arg("--dir")
            .arg(&self.dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("run zookeeper.sh");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("script stdout");
        let mut lines = BufReader::new(stdout).lines();
        let listening = tokio::time::timeout(Duration::from_secs(90), async {
            while let Some(line) = lines.next_line().await.ok().flatten() {
                if let Some(port) = line.strip_prefix("LISTENING ") {
                    return port.trim().parse::<u16>().ok();
                }
            }
            None
        })
        .await;
        let Ok(Some(port)) = listening else {
            panic!("zookeeper.sh did not print LISTENING (see {:?})", self.dir);
        };
        self.port = port;
        self.running = Some(Running {
            child,
            stdin,
            _stdout: lines.into_inner().into_inner(),
        });
    }

    /// Stops ZooKeeper and waits for it to be gone.
    fn stop(&mut self) {
        let Some(mut running) = self.running.take() else {
            return;
        };
        // EOF on stdin: the script stops ZooKeeper and exits; kill it only if it hangs.
        drop(running.stdin.take());
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        while matches!(running.child.try_wait(), Ok(None)) {
            if std::time::Instant::now() > deadline {
                let _ = running.child.start_kill();
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for ZooKeeper {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A port nothing listens on right now.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("local addr").port()
}

/// A test's own client, writing nodes the way providers register them.
struct Writer(zk::Client);

impl Writer {
    async fn connect(address: &str) -> Self {
        Self(zk::Client::connect(address).await.expect("connect writer"))
    }

    fn node(interface: &str, url: &str) -> String {
        format!("/dubbo/{interface}/providers/{}", encode_provider_url(url))
    }

    async fn register(&self, interface: &str, url: &str) {
        let options = CreateMode::Persistent.with_acls(Acls::anyone_all());
        let parent = format!("/dubbo/{interface}/providers");
        self.0.mkdir(&parent, &options).await.expect("mkdir");
        match self
            .0
            .create(&Self::node(interface, url), &[], &options)
            .await
        {
            Ok(_) | Err(zk::Error::NodeExists) => {}
            Err(error) => panic!("create {url}: {error}"),
        }
    }

    async fn unregister(&self, interface: &str, url: &str) {
        self.0
            .delete(&Self::node(interface, url), None)
            .await
            .expect("delete");
    }
}

fn url(host_port: &str, query: &str) -> String {
    format!("dubbo://{host_port}/{IFACE}?anyhost=true&side=provider&{query}")
}

fn addresses(set: &ProviderSet) -> Vec<String> {
    set.current().iter().map(|p| p.address.clone()).collect()
}

/// Waits until the set lists exactly `expected` (sorted), failing after `within`.
async fn wait_for(set: &ProviderSet, expected: &[&str], within: Duration) {
    let mut rx = set.receiver();
    let matches = |list: &std::sync::Arc<Vec<super::super::discovery::Provider>>| {
        list.iter()
            .map(|p| p.address.as_str())
            .eq(expected.iter().copied())
    };
    let waited = tokio::time::timeout(within, rx.wait_for(matches)).await;
    assert!(
        matches!(waited, Ok(Ok(_))),
        "expected {expected:?} within {within:?}, have {:?}",
        addresses(set)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn providers_follow_node_changes() {
    let Some(server) = ZooKeeper::start("providers_follow_node_changes").await else {
        return;
    };
    let writer = Writer::connect(&server.address()).await;
    let (a, b, c) = (
        url(
            "10.0.0.1:20880",
            "version=1.0.0&group=g1&methods=getUser,ping",
        ),
        url("10.0.0.2:20880", "version=2.0.0"),
        url("10.0.0.3:20880", ""),
    );
    writer.register(IFACE, &a).await;
    writer.register(IFACE, &b).await;
    writer
        .register(IFACE, &format!("tri://10.0.0.9:50051/{IFACE}"))
        .await;
    writer
        .register(IFACE, &url("10.0.0.8:20880", "enabled=false"))
        .await;

    let registries = Registries::default();
    let set = registries
        .providers(
            &server.address(),
            "/dubbo",
            IFACE,
            Wire::Dubbo,
            FIRST_LISTING,
        )
        .await
        .expect("providers");
    assert_eq!(addresses(&set), ["10.0.0.1:20880", "10.0.0.2:20880"]);
    let first = set.current()[0].clone();
    assert_eq!(first.version.as_deref(), Some("1.0.0"));
    assert_eq!(first.group.as_deref(), Some("g1"));

    // Another snapshot asking for the same node shares the session and the watcher.
    let again = registries
        .providers(
            &server.address(),
            "/dubbo/",
            IFACE,
            Wire::Dubbo,
            FIRST_LISTING,
        )
        .await
        .expect("providers again");
    assert_eq!(registries.counts(), (1, 1));

    writer.register(IFACE, &c).await;
    wait_for(
        &set,
        &["10.0.0.1:20880", "10.0.0.2:20880", "10.0.0.3:20880"],
        UPDATE,
    )
    .await;
    writer.unregister(IFACE, &a).await;
    wait_for(&set, &["10.0.0.2:20880", "10.0.0.3:20880"], UPDATE).await;
    assert_eq!(addresses(&again), addresses(&set));

    // With no reader left the watcher and then the session go away.
    drop((set, again));
    let deadline = Instant::now() + UPDATE;
    while registries.counts() != (0, 0) {
        assert!(
            Instant::now() < deadline,
            "left behind: {:?}",
            registries.counts()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_node_is_empty_until_created() {
    let Some(server) = ZooKeeper::start("missing_node_is_empty_until_created").await else {
        return;
    };
    let writer = Writer::connect(&server.address()).await;
    let registries = Registries::default();
    let set = registries
        .providers(
            &server.address(),
            "/dubbo",
            IFACE,
            Wire::Dubbo,
            FIRST_LISTING,
        )
        .await
        .expect("providers of a missing node");
    assert!(set.current().is_empty());

    let a = url("10.0.0.1:20880", "");
    writer.register(IFACE, &a).await;
    wait_for(&set, &["10.0.0.1:20880"], UPDATE).await;

    // The providers node deleted outright: an authoritative empty list, then filled again.
    writer.unregister(IFACE, &a).await;
    writer
        .0
        .delete(&format!("/dubbo/{IFACE}/providers"), None)
        .await
        .expect("delete providers node");
    wait_for(&set, &[], UPDATE).await;
    writer.register(IFACE, &a).await;
    wait_for(&set, &["10.0.0.1:20880"], UPDATE).await;
}

#[tokio::test]
async fn unreachable_ensemble_fails_fast_naming_it() {
    // Needs no ZooKeeper: nothing listens on the port.
    let address = format!("127.0.0.1:{}", free_port());
    let registries = Registries::default();
    let timeout = Duration::from_secs(5);
    let started = Instant::now();
    let error = registries
        .providers(&address, "/dubbo", IFACE, Wire::Dubbo, timeout)
        .await
        .err()
        .expect("an unreachable ensemble is an error");
    assert!(started.elapsed() < timeout, "took {:?}", started.elapsed());
    assert!(error.contains(&address), "{error}");

    // A black-holed address is bounded by the timeout.
    let timeout = Duration::from_millis(500);
    let started = Instant::now();
    let error = registries
        .providers("10.255.255.1:2181", "/dubbo", IFACE, Wire::Dubbo, timeout)
        .await
        .err()
        .expect("a black-holed ensemble is an error");
    assert!(
        started.elapsed() < timeout * 2,
        "took {:?}",
        started.elapsed()
    );
    assert!(error.contains("10.255.255.1:2181"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_keeps_the_last_list_then_updates() {
    let Some(mut server) = ZooKeeper::start("restart_keeps_the_last_list_then_updates").await
    else {
        return;
    };
    let (a, b, c) = (
        url("10.0.0.1:20880", ""),
        url("10.0.0.2:20880", ""),
        url("10.0.0.3:20880", ""),
    );
    {
        let writer = Writer::connect(&server.address()).await;
        writer.register(IFACE, &a).await;
        writer.register(IFACE, &b).await;
    }
    let registries = Registries::default();
    let set = registries
        .providers(
            &server.address(),
            "/dubbo",
            IFACE,
            Wire::Dubbo,
            FIRST_LISTING,
        )
        .await
        .expect("providers");
    assert_eq!(addresses(&set), ["10.0.0.1:20880", "10.0.0.2:20880"]);

    server.stop();
    // The client notices at once and keeps trying to reconnect; meanwhile the list stays.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(addresses(&set), ["10.0.0.1:20880", "10.0.0.2:20880"]);

    server.launch().await;
    let writer = Writer::connect(&server.address()).await;
    writer.register(IFACE, &a).await;
    writer.register(IFACE, &b).await;
    writer.register(IFACE, &c).await;
    // Reconnecting is paced by the client's and our backoff: seconds, not the ~1 s of a live watch.
    wait_for(
        &set,
        &["10.0.0.1:20880", "10.0.0.2:20880", "10.0.0.3:20880"],
        Duration::from_secs(20),
    )
    .await;
    writer.unregister(IFACE, &a).await;
    wait_for(&set, &["10.0.0.2:20880", "10.0.0.3:20880"], UPDATE).await;
}
