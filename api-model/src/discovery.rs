//! Where an HTTP backend's endpoints come from besides its static list: DNS (every address an
//! endpoint's host name resolves to becomes an endpoint, resolved again when the answer's TTL runs
//! out) or a ZooKeeper registry (the providers a service registers, as Dubbo's registry lays them out).

use std::net::SocketAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DnsDiscovery {
    /// Name servers to ask (`ip:port`, e.g. Consul's `127.0.0.1:8600`); the system's
    /// (`/etc/resolv.conf`) when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub servers: Vec<String>,
    /// An answer is kept at least this long, whatever its TTL says...
    #[serde(default = "default_min_ttl", with = "humantime_serde")]
    pub min_ttl: Duration,
    /// ...and at most this long.
    #[serde(default = "default_max_ttl", with = "humantime_serde")]
    pub max_ttl: Duration,
}

fn default_min_ttl() -> Duration {
    Duration::from_secs(1)
}

fn default_max_ttl() -> Duration {
    Duration::from_secs(300)
}

impl DnsDiscovery {
    /// Problems, each phrased to follow `backend \`NAME\`: `. `endpoints` are the backend's.
    pub fn problems(&self, endpoints: &[String], tls_server_name: bool) -> Vec<String> {
        let mut problems = Vec::new();
        for server in &self.servers {
            if server.parse::<SocketAddr>().is_err() {
                problems.push(format!("dns server `{server}` is not ip:port"));
            }
        }
        if self.min_ttl < Duration::from_millis(100) || self.min_ttl > self.max_ttl {
            problems.push("dns min_ttl must be at least 100ms and at most max_ttl".into());
        }
        // The connection goes to an address, so certificate checks need the name given apart.
        if endpoints.iter().any(|e| e.starts_with("https://")) && !tls_server_name {
            problems.push("dns discovery of https endpoints needs tls.server_name".into());
        }
        problems
    }
}

/// Endpoints registered in ZooKeeper under `<root>/<service>/providers`, one child per provider
/// URL (`http://`, `https://` or Dubbo's `rest://`, URL-encoded as Dubbo writes them), watched: a
/// provider that registers or leaves changes the pool at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZooKeeperDiscovery {
    /// `host:port[,host:port...]`.
    pub address: String,
    #[serde(default = "default_root")]
    pub root: String,
    /// The registered service (a Dubbo interface name, or any node name).
    pub service: String,
}

fn default_root() -> String {
    "/dubbo".into()
}

impl ZooKeeperDiscovery {
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.address.trim().is_empty() {
            problems.push("zookeeper.address is empty".into());
        }
        if self.service.is_empty() || self.service.contains('/') {
            problems.push(format!(
                "zookeeper.service `{}` is not a node name",
                self.service
            ));
        }
        if !self.root.starts_with('/') {
            problems.push(format!(
                "zookeeper.root `{}` must start with `/`",
                self.root
            ));
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mistakes_are_named() {
        let dns: DnsDiscovery = serde_json::from_value(serde_json::json!({
            "servers": ["127.0.0.1", "127.0.0.1:53"], "min_ttl": "10ms"
        }))
        .unwrap();
        let problems = dns.problems(&["https://a:443".into()], false).join("; ");
        for said in ["`127.0.0.1` is not ip:port", "min_ttl", "tls.server_name"] {
            assert!(problems.contains(said), "{said}: {problems}");
        }
        assert_eq!(dns.servers.len(), 2);
        let fine: DnsDiscovery = serde_json::from_str("{}").unwrap();
        assert!(fine.problems(&["http://a:80".into()], false).is_empty());
        assert_eq!(fine.max_ttl, Duration::from_secs(300));
    }

    #[test]
    fn a_registry_names_a_node() {
        let registry: ZooKeeperDiscovery = serde_json::from_value(serde_json::json!({
            "address": " ", "root": "dubbo", "service": "a/b"
        }))
        .unwrap();
        let problems = registry.problems().join("; ");
        for said in [
            "address is empty",
            "`a/b` is not a node name",
            "must start with `/`",
        ] {
            assert!(problems.contains(said), "{said}: {problems}");
        }
        let fine: ZooKeeperDiscovery = serde_json::from_value(
            serde_json::json!({"address": "zk:2181", "service": "org.acme.Inventory"}),
        )
        .unwrap();
        assert_eq!(fine.root, "/dubbo");
        assert!(fine.problems().is_empty());
    }
}
