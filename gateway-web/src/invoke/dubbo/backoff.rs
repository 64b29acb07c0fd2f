//! Reconnect pacing: exponential backoff with jitter, so a provider that is down costs at most two
//! connect attempts per `max`, and many gateways never retry in lockstep.

use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    min: Duration,
    max: Duration,
    failures: u32,
}

impl Backoff {
    pub fn new(min: Duration, max: Duration) -> Self {
        Self {
            min,
            max: max.max(min),
            failures: 0,
        }
    }

    /// The wait before the next attempt: uniform in the upper half of `min * 2^failures` (capped at
    /// `max`), never below `min`. Each call counts one more failure. The half ("equal jitter") keeps
    /// the rate at the cap bounded, which full jitter from zero would not.
    pub fn next_wait(&mut self) -> Duration {
        let ceiling = self
            .min
            .saturating_mul(1u32 << self.failures.min(20))
            .min(self.max);
        self.failures = self.failures.saturating_add(1);
        let floor = (ceiling / 2).max(self.min);
        let spread = ceiling.saturating_sub(floor).as_millis() as u64;
        floor + Duration::from_millis(random_below(spread.saturating_add(1)))
    }

    /// After a connection proved healthy, the next failure waits the minimum again.
    pub fn reset(&mut self) {
        self.failures = 0;
    }
}

/// A number in `0..n` (0 when `n` is 0). Not cryptographic: std's randomly keyed hasher over a counter
/// is enough to spread reconnects and balance calls, without another dependency.
pub(crate) fn random_below(n: u64) -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    if n == 0 {
        return 0;
    }
    let seed = COUNTER.fetch_add(1, Ordering::Relaxed);
    RandomState::new().hash_one(seed) % n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_within_bounds_and_reset() {
        let min = Duration::from_millis(100);
        let max = Duration::from_secs(1);
        let mut backoff = Backoff::new(min, max);
        for failures in 0..12u32 {
            let wait = backoff.next_wait();
            let ceiling = (min * 2u32.pow(failures.min(10))).min(max);
            let floor = (ceiling / 2).max(min);
            assert!(
                wait >= floor && wait <= ceiling,
                "{wait:?} outside {floor:?}..={ceiling:?}"
            );
        }
        backoff.reset();
        assert_eq!(backoff.next_wait(), min);
    }

    #[test]
    fn random_below_stays_below() {
        assert_eq!(random_below(0), 0);
        assert!((0..1000).all(|_| random_below(7) < 7));
        // Spread, not a constant.
        let distinct: std::collections::HashSet<u64> =
            (0..100).map(|_| random_below(1000)).collect();
        assert!(distinct.len() > 10);
    }
}
