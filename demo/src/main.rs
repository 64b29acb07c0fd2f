//! `gateway-demo`: the demo gRPC backend, the demo Dubbo provider, two instances of the demo HTTP
//! inventory service and the gateway on `demo/gateway.yaml`, in one process.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Parser;
use gateway_demo::stop::Stop;
use tokio::net::TcpListener;

#[derive(Parser, Debug)]
#[command(about = "The demo gRPC and Dubbo backends and the HTTP gateway in front of them")]
struct Flags {
    /// Where the demo gRPC backend listens.
    #[arg(long, default_value = "127.0.0.1:50051")]
    backend: SocketAddr,
    /// Where the demo Dubbo provider (`org.apache.dubbo.demo.UserService`) listens.
    #[arg(long, default_value = "127.0.0.1:20880")]
    dubbo: SocketAddr,
    /// Where the two instances of the demo HTTP inventory service listen (the gateway balances them).
    #[arg(long, num_args = 2, default_values = ["127.0.0.1:8091", "127.0.0.1:8092"])]
    inventory: Vec<SocketAddr>,
    /// Where the gateway listens for HTTP.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// The gateway config; its `demo` backend is pointed at `--backend`, its `users` backend at `--dubbo`,
    /// its `inventory` backend at the `--inventory` pair.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/gateway.yaml"))]
    config: PathBuf,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let flags = Flags::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).init();

    let backend_listener = TcpListener::bind(flags.backend)
        .await
        .with_context(|| format!("binding the backend to {}", flags.backend))?;
    let backend_addr = backend_listener.local_addr()?;
    let dubbo_listener = TcpListener::bind(flags.dubbo)
        .await
        .with_context(|| format!("binding the Dubbo provider to {}", flags.dubbo))?;
    let dubbo_addr = dubbo_listener.local_addr()?;
    let mut inventory_listeners = Vec::new();
    for address in &flags.inventory {
        let listener = TcpListener::bind(address)
            .await
            .with_context(|| format!("binding the inventory service to {address}"))?;
        inventory_listeners.push(listener);
    }
    let inventory_urls = inventory_listeners
        .iter()
        .map(|l| Ok(format!("http://{}", l.local_addr()?)))
        .collect::<std::io::Result<Vec<_>>>()?;
    let http_listener = TcpListener::bind(flags.listen)
        .await
        .with_context(|| format!("binding the gateway to {}", flags.listen))?;
    let http_addr = http_listener.local_addr()?;
    let config = config_for(
        &flags.config,
        &[
            ("demo", vec![backend_addr.to_string()]),
            ("users", vec![dubbo_addr.to_string()]),
            ("inventory", inventory_urls.clone()),
        ],
    )?;

    // Ctrl-C, or any part ending, stops them all.
    let stop = Stop::default();
    let backend = stop.until_done(gateway_demo::serve_backend(
        backend_listener,
        stop.signalled(),
    ));
    let dubbo = stop.until_done(gateway_demo::serve_dubbo(dubbo_listener, stop.signalled()));
    let mut inventory_listeners = inventory_listeners.into_iter();
    let (Some(first), Some(second)) = (inventory_listeners.next(), inventory_listeners.next())
    else {
        anyhow::bail!("--inventory takes two addresses");
    };
    let inventory = futures::future::try_join(
        gateway_demo::serve_inventory("inventory-a", first, stop.signalled()),
        gateway_demo::serve_inventory("inventory-b", second, stop.signalled()),
    );
    let inventory = stop.until_done(inventory);
    let settings = gateway_web::Settings::new(config.clone());
    let gateway = stop.until_done(gateway_web::run(settings, http_listener, stop.signalled()));
    print_banner(
        backend_addr,
        dubbo_addr,
        &inventory_urls,
        http_addr,
        &flags.config,
    );
    let (backend, dubbo, inventory, gateway, ()) =
        tokio::join!(backend, dubbo, inventory, gateway, stop.on_ctrl_c());
    if config != flags.config {
        let _ = std::fs::remove_file(&config);
    }
    backend.context("demo backend")?;
    dubbo.context("demo Dubbo provider")?;
    inventory.context("demo inventory service")?;
    gateway.context("gateway")?;
    Ok(())
}

/// The config the gateway reads: `path` itself when each named backend it has already points at its
/// endpoints, else an adjusted copy in the temp dir, with relative paths made absolute since they are
/// relative to the file.
fn config_for(path: &Path, backends: &[(&str, Vec<String>)]) -> anyhow::Result<PathBuf> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut config = api_model::Config::from_yaml(&text)
        .with_context(|| format!("parsing {}", path.display()))?;
    let mut changed = false;
    for (name, endpoints) in backends {
        let Some(backend) = config.backends.iter_mut().find(|b| b.name == *name) else {
            continue;
        };
        if backend.endpoints != *endpoints {
            backend.endpoints = endpoints.clone();
            changed = true;
        }
    }
    if !changed {
        return Ok(path.to_path_buf());
    }
    let base = std::path::absolute(path)?
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let absolute = |p: &mut String| *p = base.join(&*p).display().to_string();
    for schema in &mut config.schemas {
        if let Some(proto) = &mut schema.proto {
            proto.import_paths.iter_mut().for_each(absolute);
        }
        if let Some(descriptor_set) = &mut schema.descriptor_set {
            absolute(descriptor_set);
        }
    }
    let copy = std::env::temp_dir().join(format!("gateway-demo-{}.yaml", std::process::id()));
    std::fs::write(&copy, config.to_yaml()?)
        .with_context(|| format!("writing {}", copy.display()))?;
    Ok(copy)
}

fn print_banner(
    backend: SocketAddr,
    dubbo: SocketAddr,
    inventory: &[String],
    http: SocketAddr,
    config: &Path,
) {
    let url = format!("http://{http}");
    let json = "-H 'content-type: application/json'";
    println!(
        "\
gateway-demo: gRPC backend on {backend}, Dubbo provider on {dubbo}, HTTP inventory on {inventory},
gateway on {url}, config {config}
Try:
  curl -s {url}/v1/shelves
  curl -s {url}/v1/shelves/1/books/1
  curl -s {url}/v1/shelves/1/books {json} -d '{{\"title\": \"Solaris\", \"author\": \"Stanislaw Lem\"}}'
  curl -sN '{url}/v1/shelves/1:watch?count=5&interval_ms=500'
  curl -si {url}/v1/echo {json} -H 'x-tenant: acme' -d '{{\"message\": \"hello\"}}'
  curl -si {url}/v1/fail {json} -d '{{\"code\": 5, \"message\": \"no such thing\", \"withDetails\": true}}'
  curl -s {url}/v1/users/1
  curl -si {url}/v1/users/404
  curl -s {url}/v1/greet/world
  curl -s {url}/v1/ping
  curl -si {url}/v1/inventory/dune
  curl -sN {url}/v1/inventory/dune/watch?count=4
Ctrl-C stops them all.",
        config = config.display(),
        inventory = inventory.join(" and "),
    );
}
