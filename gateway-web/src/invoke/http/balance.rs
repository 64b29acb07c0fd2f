//! Choosing an endpoint among the available ones. Every strategy skips endpoints that are ejected or
//! failed their check, and none takes a lock on the hot path.
//!
//! - round-robin: a smooth weighted schedule (nginx's algorithm, computed once), walked by an atomic
//!   counter, so weights 3:1 give `a a b a`, not `a a a b`;
//! - least-request: power of two choices, comparing in-flight requests over weight;
//! - consistent hash: a ring with 160 points per unit of weight; a key walks clockwise to the first
//!   available endpoint, so an endpoint leaving moves only its own keys.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use super::endpoint::Endpoint;

/// Points on the ring per unit of weight: enough that four endpoints of equal weight share keys within
/// a few percent.
const POINTS_PER_WEIGHT: u32 = 160;

pub enum Balancer {
    RoundRobin {
        schedule: Vec<u32>,
        next: AtomicUsize,
    },
    LeastRequest,
    ConsistentHash {
        /// Sorted by point.
        ring: Vec<(u64, u32)>,
        /// For requests without the key.
        fallback: Box<Balancer>,
    },
}

impl Balancer {
    pub fn round_robin(endpoints: &[Arc<Endpoint>]) -> Balancer {
        Balancer::RoundRobin {
            schedule: smooth_schedule(endpoints),
            next: AtomicUsize::new(0),
        }
    }

    pub fn consistent_hash(endpoints: &[Arc<Endpoint>]) -> Balancer {
        let mut ring = Vec::new();
        for (index, endpoint) in endpoints.iter().enumerate() {
            for point in 0..endpoint.weight * POINTS_PER_WEIGHT {
                let name = format!("{}#{point}", endpoint.address);
                ring.push((hash(name.as_bytes()), index as u32));
            }
        }
        ring.sort_unstable();
        Balancer::ConsistentHash {
            ring,
            fallback: Box::new(Balancer::round_robin(endpoints)),
        }
    }

    /// An available endpoint's index, or `None` when none is.
    pub fn pick(
        &self,
        endpoints: &[Arc<Endpoint>],
        key: Option<&[u8]>,
        now: Instant,
    ) -> Option<usize> {
        let available = |i: usize| endpoints[i].available(now);
        match self {
            Balancer::RoundRobin { schedule, next } => {
                let start = next.fetch_add(1, Ordering::Relaxed);
                (0..schedule.len())
                    .map(|step| schedule[(start + step) % schedule.len()] as usize)
                    .find(|&i| available(i))
            }
            Balancer::LeastRequest => least_request(endpoints, now),
            Balancer::ConsistentHash { ring, fallback } => {
                let Some(key) = key else {
                    return fallback.pick(endpoints, None, now);
                };
                let point = hash(key);
                let start = ring.partition_point(|(p, _)| *p < point);
                (0..ring.len())
                    .map(|step| ring[(start + step) % ring.len()].1 as usize)
                    .find(|&i| available(i))
            }
        }
    }
}

/// Two available endpoints drawn at random; the one with fewer requests in flight per unit of weight.
fn least_request(endpoints: &[Arc<Endpoint>], now: Instant) -> Option<usize> {
    // A registry may list no endpoint at all; a draw from an empty range would panic.
    if endpoints.is_empty() {
        return None;
    }
    let load = |i: usize| {
        let endpoint = &endpoints[i];
        (endpoint.in_flight.load(Ordering::Relaxed) as u64 + 1) * 1000 / endpoint.weight as u64
    };
    let draw = || {
        // A few draws find an available endpoint at once in the usual pool; a scan settles the rest.
        (0..4)
            .map(|_| fastrand::usize(..endpoints.len()))
            .find(|&i| endpoints[i].available(now))
    };
    let first = draw().or_else(|| (0..endpoints.len()).find(|&i| endpoints[i].available(now)))?;
    let second = draw().unwrap_or(first);
    Some(if load(second) < load(first) {
        second
    } else {
        first
    })
}

/// nginx's smooth weighted round-robin, run for one full cycle (the sum of the weights).
fn smooth_schedule(endpoints: &[Arc<Endpoint>]) -> Vec<u32> {
    let total: i64 = endpoints.iter().map(|e| i64::from(e.weight)).sum();
    let mut current = vec![0i64; endpoints.len()];
    let mut schedule = Vec::with_capacity(total as usize);
    for _ in 0..total {
        for (i, endpoint) in endpoints.iter().enumerate() {
            current[i] += i64::from(endpoint.weight);
        }
        let best = (0..endpoints.len())
            .max_by_key(|&i| (current[i], std::cmp::Reverse(i)))
            .unwrap_or(0);
        current[best] -= total;
        schedule.push(best as u32);
    }
    schedule
}

/// FNV-1a, finished with SplitMix64's mixer: stable across builds and nodes (every gateway node sends
/// a key to the same endpoint), well spread on short keys.
pub fn hash(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        h ^= u64::from(*byte);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn pool(weights: &[u32]) -> Vec<Arc<Endpoint>> {
        weights
            .iter()
            .enumerate()
            .map(|(i, w)| {
                Arc::new(Endpoint::parse(&format!("10.0.0.{i}:80"), *w).expect("endpoint"))
            })
            .collect()
    }

    #[test]
    fn an_empty_pool_picks_nothing_whatever_the_balancer() {
        let empty = pool(&[]);
        let now = Instant::now();
        for balancer in [
            Balancer::round_robin(&empty),
            Balancer::LeastRequest,
            Balancer::consistent_hash(&empty),
        ] {
            assert_eq!(balancer.pick(&empty, Some(b"key"), now), None);
            assert_eq!(balancer.pick(&empty, None, now), None);
        }
    }

    #[test]
    fn weighted_round_robin_is_smooth_and_exact() {
        let endpoints = pool(&[3, 1]);
        assert_eq!(smooth_schedule(&endpoints), vec![0, 0, 1, 0]);
        let balancer = Balancer::round_robin(&endpoints);
        let now = Instant::now();
        let picks: Vec<_> = (0..400)
            .filter_map(|_| balancer.pick(&endpoints, None, now))
            .collect();
        assert_eq!(picks.iter().filter(|&&i| i == 0).count(), 300);
    }

    #[test]
    fn unavailable_endpoints_are_skipped() {
        let endpoints = pool(&[1, 1, 1]);
        endpoints[1].set_checked(false);
        let balancer = Balancer::round_robin(&endpoints);
        let now = Instant::now();
        assert!((0..30).all(|_| balancer.pick(&endpoints, None, now) != Some(1)));
        let lr = Balancer::LeastRequest;
        assert!((0..30).all(|_| lr.pick(&endpoints, None, now) != Some(1)));
        for endpoint in &endpoints {
            endpoint.set_checked(false);
        }
        assert_eq!(balancer.pick(&endpoints, None, now), None);
        assert_eq!(lr.pick(&endpoints, None, now), None);
    }

    #[test]
    fn least_request_prefers_the_idle() {
        let endpoints = pool(&[1, 1]);
        endpoints[0].in_flight.store(50, Ordering::Relaxed);
        let now = Instant::now();
        let idle = (0..200)
            .filter(|_| Balancer::LeastRequest.pick(&endpoints, None, now) == Some(1))
            .count();
        // Two draws land on the busy one a quarter of the time; otherwise the idle one wins.
        assert!(idle > 120, "{idle}");
    }

    #[test]
    fn consistent_hash_moves_only_the_leaving_endpoints_keys() {
        let endpoints = pool(&[1, 1, 1, 1]);
        let ring = Balancer::consistent_hash(&endpoints);
        let now = Instant::now();
        let keys: Vec<String> = (0..4000).map(|i| format!("user-{i}")).collect();
        let before: Vec<_> = keys
            .iter()
            .map(|k| ring.pick(&endpoints, Some(k.as_bytes()), now))
            .collect();
        let mut share: HashMap<Option<usize>, usize> = HashMap::new();
        for pick in &before {
            *share.entry(*pick).or_default() += 1;
        }
        assert!(
            share.values().all(|&n| (700..1300).contains(&n)),
            "{share:?}"
        );
        endpoints[2].set_checked(false);
        for (key, was) in keys.iter().zip(&before) {
            let now_at = ring.pick(&endpoints, Some(key.as_bytes()), now);
            if *was == Some(2) {
                assert_ne!(now_at, Some(2));
            } else {
                assert_eq!(now_at, *was, "{key} moved though its endpoint stayed");
            }
        }
    }
}
