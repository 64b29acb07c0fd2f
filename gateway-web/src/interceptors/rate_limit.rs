//! `kind: rate_limit`: every limit of the policy at once (10/s and 100,000/day), counted across nodes
//! in Redis by `stores::limiter`. Each answer on a limited API carries the IETF `RateLimit-Policy` and
//! `RateLimit` headers; a refusal is 429 with `Retry-After`.
//!
//! A limit is counted apart for each combination of its `per` dimensions; its key is its name, limit
//! and window with those values, so two APIs naming the same limit share one count (a quota across
//! APIs), and a changed limit starts a fresh one. `per: consumer` counts an anonymous caller by
//! its address.

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use api_model::policy::{self as spec, LimitFallback, LimitMode};
use async_trait::async_trait;
use http::{HeaderName, HeaderValue};
use sha2::Digest;

use super::{Interceptor, Next};
use crate::access::{Exchange, Reply};
use crate::error::{ErrorKind, GatewayError};
use crate::stores::Limiter;
use crate::stores::limiter::{Cell, Decision};

const POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
const STATE: HeaderName = HeaderName::from_static("ratelimit");

/// `api_model`'s dimension with its header name parsed once.
#[derive(Debug, Clone)]
enum Dimension {
    Consumer,
    Api,
    Route,
    Ip,
    Header(HeaderName),
}

struct Rule {
    label: String,
    /// `gw:rl:<label>:<limit>/<window ms>`: the key before its dimensions' values, made once.
    prefix: String,
    limit: u64,
    every: Duration,
    per: Vec<Dimension>,
    only_anonymous: bool,
}

/// Requests a node may still admit for a set of keys without asking Redis (`batched` mode).
struct Lease {
    left: u64,
    until: Instant,
    /// What Redis said when the lease was taken, for the headers.
    remaining: Vec<(u64, Duration)>,
    taken: Instant,
}

pub struct RateLimit {
    rules: Vec<Rule>,
    mode: LimitMode,
    batch: u64,
    on_store_down: LimitFallback,
    limiter: Arc<Limiter>,
    api: String,
    policy_header: HeaderValue,
    leases: Mutex<HashMap<String, Lease>>,
}

impl RateLimit {
    pub fn build(
        spec: &api_model::policy::RateLimit,
        api: &str,
        limiter: Arc<Limiter>,
    ) -> Result<RateLimit, String> {
        let mut rules = Vec::with_capacity(spec.limits.len());
        for limit in &spec.limits {
            let per = limit
                .per
                .iter()
                .map(|dimension| {
                    Ok(match dimension {
                        spec::Dimension::Consumer => Dimension::Consumer,
                        spec::Dimension::Api => Dimension::Api,
                        spec::Dimension::Route => Dimension::Route,
                        spec::Dimension::Ip => Dimension::Ip,
                        spec::Dimension::Header(name) => {
                            Dimension::Header(HeaderName::from_bytes(name.as_bytes()).map_err(
                                |_| format!("rate_limit: `{name}` is not a header name"),
                            )?)
                        }
                    })
                })
                .collect::<Result<_, String>>()?;
            rules.push(Rule {
                prefix: format!(
                    "gw:rl:{}:{}/{}",
                    limit.label(),
                    limit.limit,
                    limit.every.as_millis()
                ),
                label: limit.label(),
                limit: limit.limit,
                every: limit.every,
                per,
                only_anonymous: limit.only_anonymous,
            });
        }
        let smallest = rules.iter().map(|r| r.limit).min().unwrap_or(1);
        let batch = spec
            .batch
            .unwrap_or(smallest / 100)
            .clamp(1, smallest.max(1));
        let policy = rules
            .iter()
            .map(|r| {
                format!(
                    "\"{}\";q={};w={}",
                    r.label,
                    r.limit,
                    r.every.as_secs().max(1)
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        Ok(RateLimit {
            rules,
            mode: spec.mode,
            batch,
            on_store_down: spec.on_store_down,
            limiter,
            api: api.to_string(),
            policy_header: HeaderValue::from_str(&policy)
                .map_err(|_| "rate_limit: names must be plain text".to_string())?,
            leases: Mutex::new(HashMap::new()),
        })
    }

    /// The limits that apply to this request, with their keys, and the rules they come from.
    fn cells(&self, exchange: &Exchange) -> (Vec<Cell>, Vec<&Rule>) {
        let anonymous = exchange.identity.is_none();
        let mut cells = Vec::with_capacity(self.rules.len());
        let mut rules = Vec::with_capacity(self.rules.len());
        for rule in self.rules.iter().filter(|r| !r.only_anonymous || anonymous) {
            let mut key = String::with_capacity(rule.prefix.len() + 48);
            key.push_str(&rule.prefix);
            for dimension in &rule.per {
                key.push(':');
                self.push_value(&mut key, dimension, exchange);
            }
            cells.push(Cell {
                key,
                limit: rule.limit,
                every: rule.every,
            });
            rules.push(rule);
        }
        (cells, rules)
    }

    fn push_value(&self, key: &mut String, dimension: &Dimension, exchange: &Exchange) {
        let ip = || {
            exchange
                .client_ip
                .map(|ip| ip.to_string())
                .unwrap_or_default()
        };
        match dimension {
            Dimension::Consumer => match &exchange.identity {
                Some(identity) => {
                    key.push_str("c=");
                    key.push_str(&identity.subject);
                }
                None => {
                    key.push_str("anon=");
                    key.push_str(&ip());
                }
            },
            Dimension::Api => key.push_str(&self.api),
            Dimension::Route => key.push_str(exchange.route.as_deref().unwrap_or("")),
            Dimension::Ip => key.push_str(&ip()),
            // Hashed: a header value is the client's to choose, its length and bytes too.
            Dimension::Header(name) => {
                let value = exchange
                    .headers
                    .get(name)
                    .map(|v| v.as_bytes())
                    .unwrap_or(b"");
                let digest = sha2::Sha256::digest(value);
                for byte in &digest[..8] {
                    let _ = write!(key, "{byte:02x}");
                }
            }
        }
    }

    /// The key a lease is kept under: the cell's own for one limit, all of them for several.
    fn lease_key(cells: &[Cell]) -> std::borrow::Cow<'_, str> {
        match cells {
            [one] => std::borrow::Cow::Borrowed(one.key.as_str()),
            many => std::borrow::Cow::Owned(
                many.iter()
                    .map(|c| c.key.as_str())
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
        }
    }

    /// A decision in Redis, taking a lease in `batched` mode; `None` when Redis cannot decide. Boxed
    /// by the caller: its future holds the Redis call's, which a lease hit need not carry.
    async fn decide(&self, cells: &[Cell]) -> Option<Decision> {
        if self.mode == LimitMode::Exact || self.batch <= 1 {
            return self.limiter.decide(cells, 1).await.ok();
        }
        let taken = self.limiter.decide(cells, self.batch).await.ok()?;
        if !taken.allowed {
            // Too little left for a lease: decide this one request exactly.
            return self.limiter.decide(cells, 1).await.ok();
        }
        // A lease lives until the shortest window ends: unspent, it is lost with that window.
        let until = Instant::now()
            + taken
                .remaining
                .iter()
                .map(|(_, reset)| *reset)
                .min()
                .unwrap_or_default();
        let mut leases = self.leases.lock().unwrap_or_else(|p| p.into_inner());
        if leases.len() > 100_000 {
            let now = Instant::now();
            leases.retain(|_, lease| lease.until > now);
        }
        let lease = leases
            .entry(Self::lease_key(cells).into_owned())
            .or_insert(Lease {
                left: 0,
                until,
                remaining: taken.remaining.clone(),
                taken: Instant::now(),
            });
        if lease.until <= Instant::now() {
            // What an expired lease held was counted in a window that has ended: it is gone.
            lease.left = 0;
        }
        lease.left += self.batch - 1;
        lease.until = until;
        lease.remaining = taken.remaining.clone();
        lease.taken = Instant::now();
        Some(taken)
    }

    /// Admits from this node's lease, without Redis (`batched` mode).
    fn spend_lease(&self, cells: &[Cell]) -> Option<Decision> {
        if self.mode == LimitMode::Exact || self.batch <= 1 {
            return None;
        }
        let mut leases = self.leases.lock().unwrap_or_else(|p| p.into_inner());
        let lease = leases.get_mut(Self::lease_key(cells).as_ref())?;
        if lease.left == 0 || lease.until <= Instant::now() {
            return None;
        }
        lease.left -= 1;
        let aged = lease.taken.elapsed();
        Some(Decision {
            allowed: true,
            retry_after: Duration::ZERO,
            remaining: lease
                .remaining
                .iter()
                .map(|(left, reset)| (left + lease.left, reset.saturating_sub(aged)))
                .collect(),
        })
    }

    fn state_header(rules: &[&Rule], decision: &Decision) -> Option<HeaderValue> {
        let mut text = String::with_capacity(32 * rules.len());
        for (rule, (left, reset)) in rules.iter().zip(&decision.remaining) {
            if !text.is_empty() {
                text.push_str(", ");
            }
            text.push('"');
            text.push_str(&rule.label);
            text.push_str("\";r=");
            push_number(&mut text, *left);
            text.push_str(";t=");
            push_number(&mut text, reset.as_millis().div_ceil(1000) as u64);
        }
        HeaderValue::from_str(&text).ok()
    }
}

/// Appends a number in decimal: per request, where `write!`'s machinery would cost more than the rest.
fn push_number(text: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &digit in &digits[at..] {
        text.push(char::from(digit));
    }
}

#[async_trait]
impl Interceptor for RateLimit {
    async fn intercept(&self, exchange: Exchange, next: Next<'_>) -> Result<Reply, GatewayError> {
        let (cells, rules) = self.cells(&exchange);
        if cells.is_empty() {
            return next.run(exchange).await;
        }
        let decided = match self.spend_lease(&cells) {
            Some(decision) => Some(decision),
            None => Box::pin(self.decide(&cells)).await,
        };
        let decision = match decided {
            Some(decision) => Some(decision),
            None => match self.on_store_down {
                LimitFallback::Local => Some(self.limiter.decide_locally(&cells)),
                LimitFallback::FailOpen => None,
                LimitFallback::FailClosed => {
                    return Err(GatewayError::new(
                        ErrorKind::RateLimitUnavailable,
                        "rate limits cannot be counted (their store is unreachable), and this API refuses calls while they cannot",
                    )
                    .with_header(http::header::RETRY_AFTER, HeaderValue::from_static("1")));
                }
            },
        };
        let state = decision
            .as_ref()
            .and_then(|d| Self::state_header(&rules, d));
        if let Some(decision) = decision.as_ref().filter(|d| !d.allowed) {
            let seconds = decision.retry_after.as_millis().div_ceil(1000).max(1);
            let mut err = GatewayError::new(
                ErrorKind::RateLimited,
                format!("rate limit reached; try again in {seconds} s"),
            )
            .with_header(http::header::RETRY_AFTER, HeaderValue::from(seconds as u64))
            .with_header(POLICY, self.policy_header.clone());
            if let Some(state) = state {
                err = err.with_header(STATE, state);
            }
            return Err(err);
        }
        match next.run(exchange).await {
            Ok(mut reply) => {
                reply.headers.insert(POLICY, self.policy_header.clone());
                if let Some(state) = state {
                    reply.headers.insert(STATE, state);
                }
                Ok(reply)
            }
            Err(mut err) => {
                err = err.with_header(POLICY, self.policy_header.clone());
                if let Some(state) = state {
                    err = err.with_header(STATE, state);
                }
                Err(err)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn numbers_are_written_in_decimal() {
        for n in [0u64, 7, 10, 99_971, u64::MAX] {
            let mut text = String::new();
            super::push_number(&mut text, n);
            assert_eq!(text, n.to_string());
        }
    }
}
