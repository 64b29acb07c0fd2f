//! DNS discovery for an HTTP upstream: each configured endpoint whose host is a name is resolved,
//! every address becomes an endpoint (its `Host` and weight the configured one's), and the names are
//! resolved again when the shortest TTL of the answers runs out (clamped to the backend's bounds).
//! An answer that fails (a timeout, no such name) keeps that name's last addresses: a DNS outage
//! never empties a working pool.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use api_model::discovery::DnsDiscovery;
use hickory_resolver::config::{NameServerConfigGroup, ResolverConfig};
use hickory_resolver::name_server::TokioConnectionProvider;
use hickory_resolver::{Resolver, TokioResolver};

use super::endpoint::Endpoint;
use super::upstream::Upstream;

/// Starts the resolution task; it ends with its upstream.
pub fn spawn(upstream: &Arc<Upstream>, settings: DnsDiscovery) {
    let resolver = match resolver(&settings) {
        Ok(resolver) => resolver,
        Err(err) => {
            tracing::warn!(backend = %upstream.name, error = %err, "DNS discovery cannot start");
            return;
        }
    };
    let weak = Arc::downgrade(upstream);
    tokio::spawn(follow(weak, resolver, settings));
}

fn resolver(settings: &DnsDiscovery) -> Result<TokioResolver, String> {
    let provider = TokioConnectionProvider::default();
    let builder = if settings.servers.is_empty() {
        Resolver::builder(provider).map_err(|err| format!("the system's resolver: {err}"))?
    } else {
        let mut group = NameServerConfigGroup::new();
        for server in &settings.servers {
            let address: SocketAddr = server
                .parse()
                .map_err(|err| format!("dns server `{server}`: {err}"))?;
            group.merge(NameServerConfigGroup::from_ips_clear(
                &[address.ip()],
                address.port(),
                true,
            ));
        }
        Resolver::builder_with_config(ResolverConfig::from_parts(None, vec![], group), provider)
    };
    Ok(builder.build())
}

async fn follow(weak: Weak<Upstream>, resolver: TokioResolver, settings: DnsDiscovery) {
    let mut failures = 0u32;
    loop {
        let Some(upstream) = weak.upgrade() else {
            return;
        };
        let good_for = resolve_once(&upstream, &resolver, failures == 0).await;
        drop(upstream);
        let wait = match good_for {
            Some(ttl) => {
                failures = 0;
                ttl
            }
            // A name that keeps failing is asked again less and less often (doubling from min_ttl
            // up to max_ttl), and warned about once per streak, not once per attempt.
            None => {
                failures = failures.saturating_add(1);
                settings.min_ttl.saturating_mul(1 << failures.min(16))
            }
        };
        tokio::time::sleep(wait.clamp(settings.min_ttl, settings.max_ttl)).await;
    }
}

/// Resolves every name once and swaps the endpoint set in; how long the answers are good for
/// (`None` when one failed: ask again soon). A failure is logged at `warn` when `loud`.
async fn resolve_once(
    upstream: &Upstream,
    resolver: &TokioResolver,
    loud: bool,
) -> Option<Duration> {
    let current = upstream.endpoints();
    let mut fresh = Vec::new();
    let mut good_for: Option<Duration> = Some(Duration::MAX);
    for configured in &upstream.configured {
        let Some(name) = configured.host_name() else {
            if let Ok(same) = Endpoint::parse(&configured.address, configured.weight) {
                fresh.push(same);
            }
            continue;
        };
        match resolver.lookup_ip(name).await {
            Ok(answer) => {
                let ttl = answer
                    .valid_until()
                    .saturating_duration_since(Instant::now());
                good_for = good_for.map(|g| g.min(ttl));
                for ip in answer.iter() {
                    match configured.at(ip) {
                        Ok(endpoint) => fresh.push(endpoint),
                        Err(err) => tracing::warn!(backend = %upstream.name, %err, "a DNS address"),
                    }
                }
            }
            Err(err) => {
                if loud {
                    tracing::warn!(backend = %upstream.name, name, error = %err,
                        "DNS resolution failed; keeping the name's last addresses");
                } else {
                    tracing::debug!(backend = %upstream.name, name, error = %err,
                        "DNS resolution failed again");
                }
                good_for = None;
                // The same addresses again: the swap keeps their endpoints as they are.
                for last in current
                    .iter()
                    .filter(|e| e.resolved_from.as_deref() == Some(configured.address.as_str()))
                {
                    let Ok(ip) = last
                        .authority
                        .host()
                        .trim_matches(['[', ']'])
                        .parse::<IpAddr>()
                    else {
                        continue;
                    };
                    if let Ok(endpoint) = configured.at(ip) {
                        fresh.push(endpoint);
                    }
                }
                // Never resolved yet: the configured endpoint stays (the system resolver may know it).
                if !current.iter().any(|e| e.resolved_from.is_some())
                    && let Ok(same) = Endpoint::parse(&configured.address, configured.weight)
                {
                    fresh.push(same);
                }
            }
        }
    }
    let changed = fresh.len() != current.len()
        || fresh
            .iter()
            .zip(current.iter())
            .any(|(a, b)| a.address != b.address);
    if changed && !fresh.is_empty() {
        tracing::info!(backend = %upstream.name,
            endpoints = ?fresh.iter().map(|e| e.address.as_str()).collect::<Vec<_>>(),
            "DNS changed the endpoints");
        upstream.replace_endpoints(fresh);
    }
    good_for
}
