//! What `--redis-url` names, and a connection to it: one server (`redis://`, `rediss://`), a Redis
//! Cluster by its seed nodes (`redis+cluster://[:password@]host:port,host:port`), or a primary found
//! through Sentinel (`redis+sentinel://[:password@]host:port,host:port/service[/db]`, the password
//! being the primary's). Every key a script of ours touches shares one hash tag, so scripts run on a
//! cluster as they do on one server.

use redis::aio::{
    ConnectionLike, ConnectionManager, ConnectionManagerConfig, MultiplexedConnection,
};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::sentinel::{SentinelClient, SentinelNodeConnectionInfo, SentinelServerType};
use redis::{Cmd, Pipeline, RedisFuture, RedisResult, Value};

pub enum Target {
    Single(redis::Client),
    Cluster(ClusterClient),
    /// Behind a mutex: asking the sentinels needs `&mut`.
    Sentinel(tokio::sync::Mutex<SentinelClient>),
}

/// A live connection of any kind, used through `ConnectionLike` like one server's.
#[derive(Clone)]
pub enum Connection {
    /// Reconnects by itself.
    Single(ConnectionManager),
    /// Follows the cluster's slots and reconnects by itself.
    Cluster(ClusterConnection),
    /// Dropped on the first error, so the next call asks the sentinels where the primary is now.
    Sentinel(MultiplexedConnection),
}

impl Target {
    /// Parses a URL; what the logs may show of it (no password) comes with it.
    pub fn parse(url: &str) -> Result<(Target, String), String> {
        for (scheme, cluster) in [("redis+cluster://", true), ("redis+sentinel://", false)] {
            let Some(rest) = url.strip_prefix(scheme) else {
                continue;
            };
            let (password, rest) = match rest.rsplit_once('@') {
                Some((auth, rest)) => (Some(auth.trim_start_matches(':').to_string()), rest),
                None => (None, rest),
            };
            let (hosts, path) = rest.split_once('/').unwrap_or((rest, ""));
            let hosts: Vec<&str> = hosts.split(',').filter(|h| !h.is_empty()).collect();
            if hosts.is_empty() {
                return Err(format!(
                    "redis url: `{scheme}` needs at least one host:port"
                ));
            }
            let shown = format!("{scheme}{}", hosts.join(","));
            if cluster {
                let nodes: Vec<String> = hosts
                    .iter()
                    .map(|host| match &password {
                        Some(p) => format!("redis://:{p}@{host}"),
                        None => format!("redis://{host}"),
                    })
                    .collect();
                let client =
                    ClusterClient::new(nodes).map_err(|err| format!("redis url: {err}"))?;
                return Ok((Target::Cluster(client), shown));
            }
            let mut parts = path.split('/');
            let service = parts.next().filter(|s| !s.is_empty()).ok_or(
                "redis url: redis+sentinel:// needs the service name as its path (/mymaster)",
            )?;
            let db = match parts.next() {
                Some(db) => db
                    .parse()
                    .map_err(|_| format!("redis url: `{db}` is not a database number"))?,
                None => 0,
            };
            let node = SentinelNodeConnectionInfo {
                tls_mode: None,
                redis_connection_info: Some(redis::RedisConnectionInfo {
                    db,
                    password,
                    ..Default::default()
                }),
            };
            let sentinels: Vec<String> = hosts.iter().map(|h| format!("redis://{h}")).collect();
            let client = SentinelClient::build(
                sentinels,
                service.to_string(),
                Some(node),
                SentinelServerType::Master,
            )
            .map_err(|err| format!("redis url: {err}"))?;
            return Ok((
                Target::Sentinel(tokio::sync::Mutex::new(client)),
                format!("{shown}/{service}"),
            ));
        }
        let client = redis::Client::open(url).map_err(|err| format!("redis url: {err}"))?;
        let shown = client.get_connection_info().addr.to_string();
        Ok((Target::Single(client), shown))
    }

    pub async fn connect(&self, timeout: std::time::Duration) -> RedisResult<Connection> {
        Ok(match self {
            Target::Single(client) => {
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(timeout)
                    .set_response_timeout(timeout)
                    .set_number_of_retries(1);
                Connection::Single(
                    ConnectionManager::new_with_config(client.clone(), config).await?,
                )
            }
            Target::Cluster(client) => Connection::Cluster(client.get_async_connection().await?),
            Target::Sentinel(client) => {
                Connection::Sentinel(client.lock().await.get_async_connection().await?)
            }
        })
    }
}

impl Connection {
    /// Whether the connection should be made afresh after an error.
    pub fn is_disposable(&self) -> bool {
        matches!(self, Connection::Sentinel(_))
    }
}

impl ConnectionLike for Connection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Connection::Single(c) => c.req_packed_command(cmd),
            Connection::Cluster(c) => c.req_packed_command(cmd),
            Connection::Sentinel(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Connection::Single(c) => c.req_packed_commands(cmd, offset, count),
            Connection::Cluster(c) => c.req_packed_commands(cmd, offset, count),
            Connection::Sentinel(c) => c.req_packed_commands(cmd, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Connection::Single(c) => c.get_db(),
            Connection::Cluster(c) => c.get_db(),
            Connection::Sentinel(c) => c.get_db(),
        }
    }
}
