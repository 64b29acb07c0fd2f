//! Limits on the Redis deployments the client supports besides one server: a three-primary Redis
//! Cluster (the keys of one limit share a hash tag, so its script runs on one slot) and a primary found
//! through Sentinel. Each is started here from the same `redis-server` binary.

use std::process::Stdio;
use std::time::Duration;

use tokio::process::Command;

use super::{config, flaky_backend, fresh, on_redis};
use crate::harness::{Gateway, free_port, redis_server, wait_for_port};

/// Five calls of a limit of 3: three admitted, counted where the URL says.
async fn three_of_five(url: &str) {
    let backend = flaky_backend().await;
    let policy = format!(
        "[{{ kind: rate_limit, on_store_down: fail_closed, limits: [{{ name: {}, limit: 3, every: 1h }}] }}]",
        fresh("topology")
    );
    let gw = Gateway::start_tuned(&config(backend.addr, &policy, "[]", "[]"), on_redis(url)).await;
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(
            gw.client
                .get(gw.url("/v1/echo/x"))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16(),
        );
    }
    assert_eq!(statuses, [200, 200, 200, 429, 429], "on {url}");
    assert_eq!(gw.readyz().await["traffic"]["rate_limits"], "redis");
}

#[tokio::test]
async fn limits_count_on_a_redis_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let mut nodes = Vec::new();
    for port in &ports {
        let port = port.to_string();
        let conf = format!("nodes-{port}.conf");
        nodes.push(redis_server(
            &[
                "--port",
                &port,
                "--bind",
                "127.0.0.1",
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                &conf,
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            dir.path(),
        ));
    }
    for port in &ports {
        wait_for_port(*port).await;
    }
    let addresses: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
    let created = Command::new("redis-cli")
        .args(["--cluster", "create"])
        .args(&addresses)
        .args(["--cluster-replicas", "0", "--cluster-yes"])
        .stdout(Stdio::null())
        .status()
        .await
        .expect("redis-cli is installed");
    assert!(created.success(), "the cluster was created");
    // Until every node agrees on the slots, a command may be refused with CLUSTERDOWN.
    for _ in 0..100 {
        let info = Command::new("redis-cli")
            .args(["-p", &ports[0].to_string(), "cluster", "info"])
            .output()
            .await
            .unwrap();
        if String::from_utf8_lossy(&info.stdout).contains("cluster_state:ok") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    three_of_five(&format!("redis+cluster://{}", addresses.join(","))).await;
}

#[tokio::test]
async fn limits_count_on_the_primary_a_sentinel_names() {
    let dir = tempfile::tempdir().unwrap();
    let primary = free_port();
    let sentinel = free_port();
    let _primary = redis_server(
        &[
            "--port",
            &primary.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        dir.path(),
    );
    wait_for_port(primary).await;
    let conf = dir.path().join("sentinel.conf");
    std::fs::write(
        &conf,
        format!(
            "port {sentinel}\nbind 127.0.0.1\nsentinel monitor gateway 127.0.0.1 {primary} 1\n"
        ),
    )
    .unwrap();
    let _sentinel = redis_server(&[conf.to_str().unwrap(), "--sentinel"], dir.path());
    wait_for_port(sentinel).await;
    three_of_five(&format!("redis+sentinel://127.0.0.1:{sentinel}/gateway")).await;
}
