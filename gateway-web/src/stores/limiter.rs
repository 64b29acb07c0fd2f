//! Rate-limit decisions, counted in Redis so every node sees the same count.
//!
//! The algorithm is the sliding-window counter: a count per fixed window of `every` (aligned to the
//! epoch, so a day is a UTC day), and a request is admitted when
//! `previous × (share of the previous window still inside the sliding window) + current + cost ≤ limit`.
//! Chosen over GCRA and token buckets because those refill continuously: a bucket of 100,000/day lets
//! 100,000 through at once *and* 100,000 more over the day, which is not what a partner's quota means.
//! The sliding counter admits exactly `limit` in a window that starts empty, never 2× at a window
//! boundary (the fault of plain fixed windows), keeps two integers per key (a sliding log would keep a
//! timestamp per request), and gives an exact `Retry-After`. Every limit of one decision is checked and
//! counted in one script, atomically, on Redis' own clock, so nodes with drifting clocks still agree.
//!
//! `batched` mode takes `batch` requests per Redis call (a lease) and admits locally until they are
//! spent; a lease is counted when taken, so batching can only under-admit, by at most what the nodes
//! hold unspent. When Redis is unreachable, each limit's fallback decides: `local` runs the same
//! algorithm in this node's memory at `limit / N`, N the live nodes last counted in Redis.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::redis::RedisStore;

/// All limits of one decision. `KEYS[i]` is a limit's key (a hash tag, so both windows of a key share a
/// Redis Cluster slot); `ARGV` = cost, then per limit its window (ms) and limit. Returns admitted (1/0),
/// the wait (ms) when refused, then per limit what is left and the time to the window's end (ms).
const SLIDING_WINDOW: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local cost = tonumber(ARGV[1])
local n = #KEYS
local state = {}
local wait = 0
for i = 1, n do
  local every = tonumber(ARGV[2 * i])
  local limit = tonumber(ARGV[2 * i + 1])
  local window = math.floor(now / every)
  local elapsed = now - window * every
  local current_key = KEYS[i] .. ':' .. window
  local previous = tonumber(redis.call('GET', KEYS[i] .. ':' .. (window - 1)) or 0)
  local current = tonumber(redis.call('GET', current_key) or 0)
  local estimate = previous * (every - elapsed) / every + current
  if estimate + cost > limit then
    local w
    if current + cost > limit then
      w = (every - elapsed) + math.ceil(every * (current + cost - limit) / math.max(current, 1))
    else
      w = math.ceil(every * (previous - (limit - cost - current)) / previous) - elapsed
    end
    if w < 1 then w = 1 end
    if w > wait then wait = w end
  end
  state[i] = { current_key, every, limit, estimate, elapsed }
end
local out = { 1, 0 }
if wait > 0 then out[1] = 0; out[2] = wait end
for i = 1, n do
  local s = state[i]
  local estimate = s[4]
  if wait == 0 then
    redis.call('INCRBY', s[1], cost)
    redis.call('PEXPIRE', s[1], 2 * s[2] + 1000)
    estimate = estimate + cost
  end
  out[1 + 2 * i] = math.max(0, math.floor(s[3] - estimate))
  out[2 + 2 * i] = s[2] - s[5]
end
return out
"#;

/// Counts a node as live for the `local` fallback, drops the departed, returns how many are live.
const HEARTBEAT_SCRIPT: &str = "redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2]) \
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1] - ARGV[3]) \
redis.call('PEXPIRE', KEYS[1], ARGV[3]) return redis.call('ZCARD', KEYS[1])";

/// One limit of a decision.
#[derive(Debug, Clone)]
pub struct Cell {
    pub key: String,
    pub limit: u64,
    pub every: Duration,
}

/// A decision, with what the `RateLimit` headers say about each limit.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub allowed: bool,
    /// When refused: how long until the request would be allowed.
    pub retry_after: Duration,
    /// Per limit: requests left, and time until its window ends.
    pub remaining: Vec<(u64, Duration)>,
}

/// Redis could not decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Undecided;

pub struct Limiter {
    redis: Option<Arc<RedisStore>>,
    script: redis::Script,
    /// Counts for the `local` fallback: key → (window index, previous count, current count).
    local: Mutex<HashMap<String, (u64, u64, u64)>>,
    /// Live nodes last counted in Redis (at least 1).
    pub live_nodes: AtomicUsize,
    /// Decisions taken without Redis (by any fallback).
    pub fallbacks: AtomicU64,
    /// Whether the last decision needed a fallback: the switch each way is logged once.
    degraded: AtomicBool,
    node_id: String,
    registering: std::sync::Once,
}

/// How long a node stays counted after its last heartbeat.
const NODE_TTL: Duration = Duration::from_secs(15);
const HEARTBEAT: Duration = Duration::from_secs(5);
/// Most keys the local fallback keeps; stale ones are dropped beyond it.
const LOCAL_CAPACITY: usize = 200_000;

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as u64
}

impl Limiter {
    pub fn new(redis: Option<Arc<RedisStore>>) -> Limiter {
        Limiter {
            redis,
            script: redis::Script::new(SLIDING_WINDOW),
            local: Mutex::new(HashMap::new()),
            live_nodes: AtomicUsize::new(1),
            fallbacks: AtomicU64::new(0),
            degraded: AtomicBool::new(false),
            node_id: format!("{}-{}", std::process::id(), now_ms()),
            registering: std::sync::Once::new(),
        }
    }

    /// Whether the last decision could not reach Redis.
    pub fn is_degraded(&self) -> bool {
        self.degraded.load(Ordering::Relaxed)
    }

    /// Whether Redis has a URL at all (without one every limit runs on its fallback).
    pub fn has_store(&self) -> bool {
        self.redis.is_some()
    }

    /// Starts counting this node in Redis (a heartbeat), once: what the `local` fallback divides by.
    fn register(self: &Arc<Self>) {
        let Some(redis) = self.redis.clone() else {
            return;
        };
        let this = Arc::downgrade(self);
        self.registering.call_once(|| {
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(HEARTBEAT);
                loop {
                    tick.tick().await;
                    let Some(limiter) = this.upgrade() else {
                        return;
                    };
                    let mut beat = redis::cmd("EVAL");
                    beat.arg(HEARTBEAT_SCRIPT)
                        .arg(1)
                        .arg("gw:nodes")
                        .arg(now_ms())
                        .arg(&limiter.node_id)
                        .arg(NODE_TTL.as_millis() as u64);
                    if let Ok(count) = redis.query::<usize>(&beat).await {
                        limiter.live_nodes.store(count.max(1), Ordering::Relaxed);
                    }
                }
            });
        });
    }

    /// One decision over `cells`, at `cost` requests, in Redis.
    pub async fn decide(
        self: &Arc<Self>,
        cells: &[Cell],
        cost: u64,
    ) -> Result<Decision, Undecided> {
        self.register();
        let outcome = match &self.redis {
            None => Err(Undecided),
            Some(redis) => {
                let mut invocation = self.script.prepare_invoke();
                invocation.arg(cost);
                for cell in cells {
                    invocation.key(format!("{{{}}}", cell.key));
                    invocation
                        .arg(cell.every.as_millis().max(1) as u64)
                        .arg(cell.limit);
                }
                redis
                    .script::<Vec<i64>>(&invocation)
                    .await
                    .map(|out| decision(&out, cells.len()))
                    .map_err(|_| Undecided)
            }
        };
        let failed = outcome.is_err();
        // Without a Redis URL there is nothing to lose or regain: the fallback is simply the rule.
        if self.redis.is_some() && self.degraded.swap(failed, Ordering::Relaxed) != failed {
            if failed {
                tracing::warn!(
                    "rate limits cannot reach Redis: each limit follows its on_store_down rule"
                );
            } else {
                tracing::info!("rate limits count in Redis again");
            }
        }
        if failed {
            self.fallbacks.fetch_add(1, Ordering::Relaxed);
        }
        outcome
    }

    /// The same decision in this node's memory, each limit divided among the live nodes.
    pub fn decide_locally(&self, cells: &[Cell]) -> Decision {
        let nodes = self.live_nodes.load(Ordering::Relaxed).max(1) as u64;
        let now = now_ms();
        let mut local = self.local.lock().unwrap_or_else(|p| p.into_inner());
        if local.len() > LOCAL_CAPACITY {
            local.clear();
        }
        let mut wait = 0;
        let mut views = Vec::with_capacity(cells.len());
        for cell in cells {
            let every = cell.every.as_millis().max(1) as u64;
            let window = now / every;
            let share = (cell.limit / nodes).max(1);
            let (previous, current) = match local.get(&cell.key) {
                Some(&(w, _, current)) if w + 1 == window => (current, 0),
                Some(&(w, previous, current)) if w == window => (previous, current),
                _ => (0, 0),
            };
            let view = Window {
                every,
                elapsed: now - window * every,
                previous,
                current,
                limit: share,
            };
            wait = wait.max(view.wait(1));
            views.push((window, view));
        }
        let allowed = wait == 0;
        let remaining = cells
            .iter()
            .zip(&views)
            .map(|(cell, (window, view))| {
                let mut view = *view;
                if allowed {
                    view.current += 1;
                    local.insert(cell.key.clone(), (*window, view.previous, view.current));
                }
                (
                    view.left(),
                    Duration::from_millis(view.every - view.elapsed),
                )
            })
            .collect();
        Decision {
            allowed,
            retry_after: Duration::from_millis(wait),
            remaining,
        }
    }
}

/// The sliding-window arithmetic of the script, for the local fallback (and its tests).
#[derive(Debug, Clone, Copy)]
struct Window {
    every: u64,
    elapsed: u64,
    previous: u64,
    current: u64,
    limit: u64,
}

impl Window {
    fn estimate(&self) -> f64 {
        self.previous as f64 * (self.every - self.elapsed) as f64 / self.every as f64
            + self.current as f64
    }

    /// 0 when `cost` more fits now, else the milliseconds until it would.
    fn wait(&self, cost: u64) -> u64 {
        if self.estimate() + cost as f64 <= self.limit as f64 {
            return 0;
        }
        let (every, limit, cost) = (self.every as f64, self.limit as f64, cost as f64);
        let wait = if self.current as f64 + cost > limit {
            (every - self.elapsed as f64)
                + (every * (self.current as f64 + cost - limit) / self.current.max(1) as f64).ceil()
        } else {
            let previous = self.previous as f64;
            (every * (previous - (limit - cost - self.current as f64)) / previous).ceil()
                - self.elapsed as f64
        };
        wait.max(1.0) as u64
    }

    fn left(&self) -> u64 {
        (self.limit as f64 - self.estimate()).floor().max(0.0) as u64
    }
}

fn decision(out: &[i64], cells: usize) -> Decision {
    let at = |i: usize| out.get(i).copied().unwrap_or(0).max(0) as u64;
    Decision {
        allowed: at(0) == 1,
        retry_after: Duration::from_millis(at(1)),
        remaining: (0..cells)
            .map(|i| (at(2 + 2 * i), Duration::from_millis(at(3 + 2 * i))))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(key: &str, limit: u64, every: Duration) -> Cell {
        Cell {
            key: key.into(),
            limit,
            every,
        }
    }

    #[test]
    fn locally_a_limit_admits_its_share_then_refuses_with_a_wait() {
        let limiter = Limiter::new(None);
        let cells = [cell("k", 5, Duration::from_secs(3600))];
        let admitted = (0..10)
            .filter(|_| limiter.decide_locally(&cells).allowed)
            .count();
        assert_eq!(admitted, 5);
        let refused = limiter.decide_locally(&cells);
        assert!(!refused.allowed);
        assert!(refused.retry_after > Duration::from_secs(1), "{refused:?}");
        // Three live nodes: each enforces a third.
        limiter.live_nodes.store(3, Ordering::Relaxed);
        let shared = [cell("other", 30, Duration::from_secs(3600))];
        assert_eq!(
            (0..40)
                .filter(|_| limiter.decide_locally(&shared).allowed)
                .count(),
            10
        );
    }

    #[test]
    fn the_previous_window_weighs_by_what_is_left_of_it() {
        // 100 per minute, 80 in the last minute, a quarter into this one: 60 of them still count.
        let view = Window {
            every: 60_000,
            elapsed: 15_000,
            previous: 80,
            current: 30,
            limit: 100,
        };
        assert_eq!(view.left(), 10);
        assert_eq!(view.wait(10), 0);
        // One more than fits waits until enough of the previous window has slid out: 1 of 80 is 750 ms.
        assert_eq!(view.wait(11), 750);
        // A full current window waits for the next one and for the weight of this one to drop.
        let full = Window {
            current: 100,
            ..view
        };
        assert_eq!(full.wait(1), 45_000 + 600);
    }
}
