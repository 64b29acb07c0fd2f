//! DNS discovery of HTTP upstream endpoints, against a real DNS server (`dnslib`,
//! `tests/peers/dns_server.py`, answering from a zone file the test rewrites) and the Python
//! standard library's HTTP server on two loopback addresses: every address a name resolves to is an
//! endpoint, answers that change move the traffic, and a DNS outage keeps the last addresses.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::Value;

use crate::harness::{Gateway, Peer, free_port};

fn python() -> String {
    std::env::var("GATEWAY_TEST_PYTHON").unwrap_or_else(|_| "python3".into())
}

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

async fn served_by(gw: &Gateway, calls: usize) -> HashSet<String> {
    let mut names = HashSet::new();
    for _ in 0..calls {
        let response = gw.client.get(gw.url("/who")).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        // The upstream is asked for the configured name, not the address it was reached at.
        assert!(
            body["headers"]["host"]
                .as_str()
                .unwrap()
                .starts_with("users.test:"),
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
    assert_eq!(served_by(&gw, 6).await, HashSet::from(["a".to_string()]));

    // A second address: both serve.
    write_zone(&zone, &["127.0.0.2", "127.0.0.3"]);
    gw.wait_until(|ready| endpoints(ready).len() == 2)
        .await
        .unwrap();
    assert_eq!(
        served_by(&gw, 8).await,
        HashSet::from(["a".to_string(), "b".to_string()])
    );

    // The first goes away: only the second serves.
    write_zone(&zone, &["127.0.0.3"]);
    gw.wait_until(|ready| endpoints(ready) == [b.clone()])
        .await
        .unwrap();
    assert_eq!(served_by(&gw, 6).await, HashSet::from(["b".to_string()]));

    // DNS itself goes away: the last answer keeps serving, past its TTL and the longest wait.
    dns.kill().await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(endpoints(&gw.readyz().await), [b]);
    assert_eq!(served_by(&gw, 4).await, HashSet::from(["b".to_string()]));
}
