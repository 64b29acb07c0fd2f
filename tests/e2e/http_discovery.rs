//! HTTP upstream endpoints that are discovered, not listed. DNS: a real DNS server (`dnslib`,
//! `tests/peers/dns_server.py`, answering from a zone file the test rewrites) and the Python standard
//! library's HTTP server on two loopback addresses: every address a name resolves to is an endpoint,
//! answers that change move the traffic, a DNS outage keeps the last addresses. ZooKeeper: a real
//! ensemble (`tests/peers/dubbo/zookeeper.sh`) where providers register and leave as Dubbo's registry
//! writes them (`tests/peers/dubbo/register.py`, kazoo).

use std::collections::HashSet;
use std::time::Duration;

use serde_json::Value;

use crate::harness::{Gateway, Peer, free_port, python, repo_root, zookeeper};

fn write_zone(path: &std::path::Path, addresses: &[&str]) {
    let zone = serde_json::json!({ "users.test.": addresses });
    let temp = path.with_extension("tmp");
    std::fs::write(&temp, zone.to_string()).unwrap();
    std::fs::rename(&temp, path).unwrap();
}

/// The addresses the upstream's endpoints have now.
fn endpoints(ready: &Value) -> Vec<String> {
    ready["upstreams"][0]["endpoints"]
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|e| e["address"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Which instances answer `calls` requests; each must have been asked for a `Host` starting `host`.
async fn served_by(gw: &Gateway, calls: usize, host: &str) -> HashSet<String> {
    let mut names = HashSet::new();
    for _ in 0..calls {
        let response = gw.client.get(gw.url("/who")).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        assert!(
            body["headers"]["host"].as_str().unwrap().starts_with(host),
            "{body}"
        );
        names.insert(body["name"].as_str().unwrap().to_string());
    }
    names
}

#[tokio::test]
async fn endpoints_follow_the_names_dns_answers() {
    let dir = tempfile::tempdir().unwrap();
    let zone = dir.path().join("zone.json");
    write_zone(&zone, &["127.0.0.2"]);
    let zone_arg = zone.display().to_string();
    let dns = Peer::start(
        &python(),
        &[
            "tests/peers/dns_server.py",
            "--zone",
            &zone_arg,
            "--ttl",
            "1",
        ],
    )
    .await;
    let port = free_port();
    let port_arg = port.to_string();
    let script = "tests/peers/http_upstream.py";
    let _a = Peer::start_on(
        &python(),
        &[script, "--name", "a", "--host", "127.0.0.2"],
        port,
    )
    .await;
    let _b = Peer::start_on(
        &python(),
        &[script, "--name", "b", "--host", "127.0.0.3"],
        port,
    )
    .await;
    let config = format!(
        r#"
backends:
  - name: users
    protocol: http
    endpoints: ["http://users.test:{port_arg}"]
    http: {{ dns: {{ servers: ["{dns}"], min_ttl: 200ms, max_ttl: 2s }} }}
apis:
  - {{ name: who, backend: users, timeout: 5s, http: {{ get: /who }}, upstream: {{}} }}
"#,
        dns = dns.addr,
    );
    let mut gw = Gateway::start(&config).await;
    let (a, b) = (
        format!("http://127.0.0.2:{port}"),
        format!("http://127.0.0.3:{port}"),
    );

    gw.wait_until(|ready| endpoints(ready) == [a.clone()])
        .await
        .unwrap();
    let ready = gw.readyz().await;
    assert_eq!(
        ready["upstreams"][0]["endpoints"][0]["resolved_from"],
        format!("http://users.test:{port}")
    );
    assert_eq!(
        served_by(&gw, 6, "users.test:").await,
        HashSet::from(["a".to_string()])
    );

    // A second address: both serve.
    write_zone(&zone, &["127.0.0.2", "127.0.0.3"]);
    gw.wait_until(|ready| endpoints(ready).len() == 2)
        .await
        .unwrap();
    assert_eq!(
        served_by(&gw, 8, "users.test:").await,
        HashSet::from(["a".to_string(), "b".to_string()])
    );

    // The first goes away: only the second serves.
    write_zone(&zone, &["127.0.0.3"]);
    gw.wait_until(|ready| endpoints(ready) == [b.clone()])
        .await
        .unwrap();
    assert_eq!(
        served_by(&gw, 6, "users.test:").await,
        HashSet::from(["b".to_string()])
    );

    // DNS itself goes away: the last answer keeps serving, past its TTL and the longest wait.
    dns.kill().await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(endpoints(&gw.readyz().await), [b]);
    assert_eq!(
        served_by(&gw, 4, "users.test:").await,
        HashSet::from(["b".to_string()])
    );
}

/// Registers (or with `delete`, removes) an HTTP provider of `org.acme.Inventory` at `port`.
async fn register(zk: &Peer, port: u16, delete: bool) {
    let python = repo_root().join(".venv-peers/bin/python");
    let port = port.to_string();
    let zk = zk.addr.to_string();
    let mut args = vec![
        "tests/peers/dubbo/register.py",
        "--zk",
        &zk,
        "--port",
        &port,
        "--protocol",
        "rest",
        "--interface",
        "org.acme.Inventory",
        "--methods",
        "",
    ];
    if delete {
        args.push("--delete");
    }
    let out = tokio::process::Command::new(&python)
        .current_dir(repo_root())
        .args(&args)
        .output()
        .await
        .expect("register.py");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn endpoints_follow_what_a_zookeeper_registry_lists() {
    let data = tempfile::tempdir().unwrap();
    let zk = zookeeper(data.path()).await;
    let script = "tests/peers/http_upstream.py";
    let a = Peer::start(&python(), &[script, "--name", "a"]).await;
    let b = Peer::start(&python(), &[script, "--name", "b"]).await;
    register(&zk, a.addr.port(), false).await;
    let config = format!(
        r#"
backends:
  - name: inventory
    protocol: http
    endpoints: []
    http: {{ zookeeper: {{ address: "{zk}", service: org.acme.Inventory }} }}
apis:
  - {{ name: who, backend: inventory, timeout: 5s, http: {{ get: /who }}, upstream: {{}} }}
"#,
        zk = zk.addr,
    );
    let mut gw = Gateway::start(&config).await;
    let (url_a, url_b) = (format!("http://{}", a.addr), format!("http://{}", b.addr));
    assert_eq!(
        endpoints(&gw.readyz().await),
        [url_a],
        "the first listing is in place at once"
    );
    assert_eq!(
        served_by(&gw, 4, "127.0.0.1:").await,
        HashSet::from(["a".to_string()])
    );

    register(&zk, b.addr.port(), false).await;
    gw.wait_until(|ready| endpoints(ready).len() == 2)
        .await
        .unwrap();
    assert_eq!(
        served_by(&gw, 6, "127.0.0.1:").await,
        HashSet::from(["a".to_string(), "b".to_string()])
    );

    register(&zk, a.addr.port(), true).await;
    gw.wait_until(|ready| endpoints(ready) == [url_b.clone()])
        .await
        .unwrap();
    assert_eq!(
        served_by(&gw, 4, "127.0.0.1:").await,
        HashSet::from(["b".to_string()])
    );

    // The last provider leaves: no endpoint, a 503 at once (never a panic on an empty pool).
    register(&zk, b.addr.port(), true).await;
    gw.wait_until(|ready| endpoints(ready).is_empty())
        .await
        .unwrap();
    let response = gw.client.get(gw.url("/who")).send().await.unwrap();
    crate::harness::expect_error(response, 503, "no_healthy_upstream").await;
}
