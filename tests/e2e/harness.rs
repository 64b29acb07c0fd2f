//! Starts real things for the suites: the gateway in process on 127.0.0.1:0, the tonic demo backend, the
//! Python grpcio peer as a child process. Everything stops when its handle drops.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The tonic demo backend (Bookstore, Echo, reflection v1 + v1alpha).
pub struct TonicBackend {
    pub addr: SocketAddr,
    _stop: oneshot::Sender<()>,
}

pub async fn tonic_backend() -> TonicBackend {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind backend");
    let addr = listener.local_addr().expect("backend address");
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let shutdown = async {
            let _ = stopped.await;
        };
        if let Err(err) = gateway_demo::serve_backend(listener, shutdown).await {
            eprintln!("tonic backend failed: {err}");
        }
    });
    TonicBackend { addr, _stop: stop }
}

/// A ZooKeeper server (`tests/peers/dubbo/zookeeper.sh`, installed by its `install.sh`) keeping its
/// data in `dir`.
pub async fn zookeeper(dir: &std::path::Path) -> Peer {
    Peer::start(
        "bash",
        &[
            "tests/peers/dubbo/zookeeper.sh",
            "--dir",
            &dir.display().to_string(),
        ],
    )
    .await
}

/// A peer process (another implementation of a protocol) that prints `LISTENING <port>` once ready. It is
/// killed when the handle drops, and exits by itself when its stdin closes.
pub struct Peer {
    pub addr: SocketAddr,
    child: tokio::process::Child,
}

impl Peer {
    /// Starts `program args... --port 0` and waits (up to 90 s) for its `LISTENING <port>` line.
    pub async fn start(program: &str, args: &[&str]) -> Peer {
        Self::start_on(program, args, 0).await
    }

    /// The same on a chosen port (to restart a provider where it was).
    pub async fn start_on(program: &str, args: &[&str], port: u16) -> Peer {
        let mut child = tokio::process::Command::new(program)
            .args(args)
            .arg("--port")
            .arg(port.to_string())
            .current_dir(repo_root())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|err| {
                panic!("cannot start {program} {args:?}: {err} (run scripts/test.sh)")
            });
        let stdout = child.stdout.take().expect("peer stdout");
        let mut lines = BufReader::new(stdout).lines();
        let port = tokio::time::timeout(Duration::from_secs(90), async {
            while let Some(line) = lines.next_line().await.expect("peer output") {
                if let Some(port) = line.strip_prefix("LISTENING ") {
                    return port.trim().parse::<u16>().expect("port");
                }
            }
            panic!("{program} {args:?} exited before listening");
        })
        .await
        .unwrap_or_else(|_| panic!("{program} {args:?} did not start within 90 s"));
        // Keep draining its stdout so a chatty peer never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Peer {
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            child,
        }
    }

    /// Kills the process now (a provider going away under load).
    pub async fn kill(mut self) {
        let _ = self.child.kill().await;
    }
}

/// The Python with the peers' packages: `GATEWAY_TEST_PYTHON` (set by `scripts/test.sh`), else the
/// repository's venv when it exists, else `python3`.
pub fn python() -> String {
    std::env::var("GATEWAY_TEST_PYTHON").unwrap_or_else(|_| {
        let venv = repo_root().join(".venv-peers/bin/python");
        if venv.exists() {
            venv.display().to_string()
        } else {
            "python3".into()
        }
    })
}

/// The Python grpcio peer: an independent gRPC implementation serving the demo protos.
pub async fn python_peer() -> Peer {
    Peer::start(&python(), &["tests/peers/grpcio_server.py"]).await
}

/// Sends every gateway log line of the suite, at debug level, to the file `GATEWAY_TEST_LOG` names
/// (when it is set, as `scripts/test.sh` sets it): the test command then greps the whole suite's logs
/// for the secrets the tests used, which must never appear.
fn capture_logs() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let Ok(path) = std::env::var("GATEWAY_TEST_LOG") else {
            return;
        };
        let Ok(file) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
        else {
            return;
        };
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("info,gateway_web=debug"))
            .with_writer(std::sync::Mutex::new(file))
            .with_ansi(false)
            .try_init();
    });
}

/// A gateway running in this process on its own config file.
pub struct Gateway {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    /// `http`, or `https` for a TLS listener.
    scheme: &'static str,
    /// What URLs name: the address, or a name its certificate covers.
    host: String,
    config_path: PathBuf,
    _dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

impl Gateway {
    /// Starts a gateway on `yaml` and waits until it serves that revision.
    pub async fn start(yaml: &str) -> Gateway {
        Self::try_start(yaml)
            .await
            .unwrap_or_else(|err| panic!("gateway refused its config: {err:#}"))
    }

    /// Starts a gateway; an error when it refuses the config.
    pub async fn try_start(yaml: &str) -> anyhow::Result<Gateway> {
        Self::try_start_tuned(yaml, |_| {}).await
    }

    /// Starts a gateway on `yaml` with settings adjusted by `tune` (a Redis URL, a secret key).
    pub async fn start_tuned(yaml: &str, tune: impl FnOnce(&mut gateway_web::Settings)) -> Gateway {
        Self::try_start_tuned(yaml, tune)
            .await
            .unwrap_or_else(|err| panic!("gateway refused its config: {err:#}"))
    }

    pub async fn try_start_tuned(
        yaml: &str,
        tune: impl FnOnce(&mut gateway_web::Settings),
    ) -> anyhow::Result<Gateway> {
        let mut gateway = Self::start_unready(yaml, tune).await;
        gateway
            .wait_for_revision(&gateway_web::reload::revision_of(yaml))
            .await?;
        Ok(gateway)
    }

    /// Starts a gateway without waiting for it to serve.
    async fn start_unready(yaml: &str, tune: impl FnOnce(&mut gateway_web::Settings)) -> Gateway {
        capture_logs();
        let dir = tempfile::tempdir().expect("temp dir");
        let config_path = dir.path().join("gateway.yaml");
        std::fs::write(&config_path, yaml).expect("write config");
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind gateway");
        let addr = listener.local_addr().expect("gateway address");
        let mut settings = gateway_web::Settings::new(&config_path);
        settings.reload_interval = Duration::from_millis(100);
        settings.max_body_bytes = 64 * 1024;
        tune(&mut settings);
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async {
            let _ = stopped.await;
        };
        let task = tokio::spawn(gateway_web::run(settings, listener, shutdown));
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client");
        Gateway {
            addr,
            client,
            scheme: "http",
            host: addr.to_string(),
            config_path,
            _dir: dir,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Starts a gateway serving HTTPS on `yaml`; `/readyz` is then asked over TLS too.
    pub async fn start_tls(yaml: &str, tls: gateway_web::access::tls::TlsSettings) -> Gateway {
        // The test CA sits beside the certificates; a.test is the first certificate's name.
        let root = tls.certificates[0].0.with_file_name("ca.pem");
        let mut gateway = Self::start_unready(yaml, |s| s.tls = Some(tls)).await;
        let ca = std::fs::read(&root).expect("ca.pem beside the certificate");
        gateway.client = reqwest::Client::builder()
            .use_rustls_tls()
            .add_root_certificate(reqwest::Certificate::from_pem(&ca).expect("a CA certificate"))
            .resolve("a.test", gateway.addr)
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client");
        gateway.scheme = "https";
        gateway.host = format!("a.test:{}", gateway.addr.port());
        gateway
            .wait_for_revision(&gateway_web::reload::revision_of(yaml))
            .await
            .expect("serves over TLS");
        gateway
    }

    /// Starts a gateway on explicit settings (Postgres mode, say) and waits until it serves some
    /// revision; an error when it refuses to start.
    pub async fn start_with(mut settings: gateway_web::Settings) -> anyhow::Result<Gateway> {
        capture_logs();
        let dir = tempfile::tempdir().expect("temp dir");
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind gateway");
        let addr = listener.local_addr().expect("gateway address");
        settings.max_body_bytes = 64 * 1024;
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async {
            let _ = stopped.await;
        };
        let task = tokio::spawn(gateway_web::run(settings, listener, shutdown));
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client");
        let mut gateway = Gateway {
            addr,
            client,
            scheme: "http",
            host: addr.to_string(),
            config_path: dir.path().join("unused.yaml"),
            _dir: dir,
            stop: Some(stop),
            task: Some(task),
        };
        gateway.wait_until(|body| body["status"] == "ready").await?;
        Ok(gateway)
    }

    /// What `/readyz` says.
    pub async fn readyz(&self) -> serde_json::Value {
        self.client
            .get(self.url("/readyz"))
            .send()
            .await
            .expect("readyz")
            .json()
            .await
            .expect("readyz json")
    }

    /// Waits until `/readyz` satisfies `done`, or fails if the gateway stopped or 30 s passed.
    pub async fn wait_until(
        &mut self,
        done: impl Fn(&serde_json::Value) -> bool,
    ) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if self.task.as_ref().is_some_and(JoinHandle::is_finished) {
                let task = self.task.take().expect("task");
                return match task.await {
                    Ok(Ok(())) => Err(anyhow::anyhow!("gateway stopped")),
                    Ok(Err(err)) => Err(err),
                    Err(err) => Err(anyhow::anyhow!("gateway panicked: {err}")),
                };
            }
            let mut last = serde_json::Value::Null;
            if let Ok(response) = self.client.get(self.url("/readyz")).send().await
                && let Ok(body) = response.json::<serde_json::Value>().await
            {
                if done(&body) {
                    return Ok(());
                }
                last = body;
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "gateway did not get there in 30 s; /readyz says {last}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}://{}{}", self.scheme, self.host, path)
    }

    /// Replaces the config file (atomically, as an operator's tooling would).
    pub fn write_config(&self, yaml: &str) {
        let temp = self.config_path.with_extension("tmp");
        std::fs::write(&temp, yaml).expect("write config");
        std::fs::rename(&temp, &self.config_path).expect("replace config");
    }

    /// The revision `/readyz` reports.
    pub async fn revision(&self) -> String {
        let body: serde_json::Value = self
            .client
            .get(self.url("/readyz"))
            .send()
            .await
            .expect("readyz")
            .json()
            .await
            .expect("readyz json");
        body["revision"].as_str().unwrap_or_default().to_string()
    }

    /// Waits until the gateway serves `revision`, or fails if it stopped.
    pub async fn wait_for_revision(&mut self, revision: &str) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if self.task.as_ref().is_some_and(JoinHandle::is_finished) {
                let task = self.task.take().expect("task");
                return match task.await {
                    Ok(Ok(())) => Err(anyhow::anyhow!("gateway stopped")),
                    Ok(Err(err)) => Err(err),
                    Err(err) => Err(anyhow::anyhow!("gateway panicked: {err}")),
                };
            }
            if let Ok(response) = self.client.get(self.url("/readyz")).send().await
                && let Ok(body) = response.json::<serde_json::Value>().await
                && body["revision"] == revision
            {
                return Ok(());
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "gateway did not reach revision {revision}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("repo root")
        .to_path_buf()
}

/// The demo's proto directory, for configs that compile the demo protos.
pub fn proto_dir() -> String {
    repo_root().join("demo/proto").display().to_string()
}

/// A config publishing the demo services on `backend` the way most suites need them.
pub fn demo_config(backend: SocketAddr) -> String {
    format!(
        r#"
backends:
  - {{ name: demo, protocol: grpc, endpoints: ["{backend}"] }}
schemas:
  - name: demo
    proto:
      files: [demo/bookstore/v1/bookstore.proto, demo/echo/v1/echo.proto]
      import_paths: ["{protos}"]
apis:
  - name: bookstore
    backend: demo
    grpc: {{ service: demo.bookstore.v1.Bookstore }}
    auto_route: true
  - name: echo
    backend: demo
    grpc: {{ service: demo.echo.v1.Echo, method: Echo }}
    http: {{ post: /v1/echo, body: "*" }}
    mapping: [{{ from: header.x-tenant, to: tenant }}]
    forward_headers: [x-tenant, x-forwarded-thing]
    return_metadata: [x-echo-server, x-echo-trailer]
  - name: echo-get
    backend: demo
    grpc: {{ service: demo.echo.v1.Echo, method: Echo }}
    http: {{ get: "/v1/echo/{{message}}" }}
  - name: echo-defaults
    backend: demo
    grpc: {{ service: demo.echo.v1.Echo, method: Echo }}
    http: {{ post: /v1/echo-defaults, body: "*" }}
    json: {{ emit_defaults: true, proto_field_names: true }}
  - name: echo-auto
    backend: demo
    grpc: {{ service: demo.echo.v1.Echo }}
    annotations: false
    auto_route: true
  - name: fail
    backend: demo
    grpc: {{ service: demo.echo.v1.Echo, method: Fail }}
    http: {{ post: /v1/fail, body: "*" }}
  - name: sleep
    backend: demo
    grpc: {{ service: demo.echo.v1.Echo, method: Sleep }}
    http: {{ post: /v1/sleep, body: "*" }}
    timeout: 1s
  - name: count
    backend: demo
    grpc: {{ service: demo.echo.v1.Echo, method: Count }}
    http: {{ get: "/v1/count/{{n}}" }}
    timeout: 3s
"#,
        protos = proto_dir()
    )
}

/// Asserts the one error shape and returns the body.
pub async fn expect_error(
    response: reqwest::Response,
    status: u16,
    code: &str,
) -> serde_json::Value {
    let got = response.status().as_u16();
    let header_id = response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body: serde_json::Value = response.json().await.expect("error body is JSON");
    assert_eq!(got, status, "status for {body}");
    assert_eq!(body["code"], code, "code in {body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "message in {body}"
    );
    let id = body["request_id"].as_str().expect("request_id");
    assert!(!id.is_empty(), "request_id in {body}");
    assert_eq!(
        header_id.as_deref(),
        Some(id),
        "X-Request-Id header matches the body"
    );
    body
}

/// A Redis of the test's own, on a free port, to stop mid-test.
pub struct PrivateRedis {
    pub url: String,
    pub port: u16,
    child: tokio::process::Child,
}

impl PrivateRedis {
    pub async fn start() -> PrivateRedis {
        Self::start_on(free_port()).await
    }

    /// On `port`: a Redis that comes back where it was (empty: it keeps nothing on disk).
    pub async fn start_on(port: u16) -> PrivateRedis {
        let port_text = port.to_string();
        let child = redis_server(
            &[
                "--port",
                &port_text,
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            Path::new("."),
        );
        wait_for_port(port).await;
        PrivateRedis {
            url: format!("redis://127.0.0.1:{port}"),
            port,
            child,
        }
    }

    pub async fn stop(&mut self) {
        let _ = self.child.kill().await;
        let _ = self.child.wait().await;
    }
}

/// A port nothing listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Waits (up to 5 s) until something listens on `port` of 127.0.0.1.
pub async fn wait_for_port(port: u16) {
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("nothing listens on port {port}");
}

/// A `redis-server` of the test's own with these arguments, run in `dir` (where a cluster node writes
/// its state); killed when dropped.
pub fn redis_server(args: &[&str], dir: &Path) -> tokio::process::Child {
    tokio::process::Command::new("redis-server")
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("redis-server is installed")
}
