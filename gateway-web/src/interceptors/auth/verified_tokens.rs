//! Tokens this node has verified, kept until they expire (at most five minutes), so a client sending
//! the same bearer token on every call pays for its signature and claims once (Envoy's `jwt_cache`
//! does the same). Keyed by the whole token, so only that exact token hits. Bounded: a full cache is
//! emptied rather than grown. It belongs to one compiled chain, so a new revision (a disabled consumer,
//! a changed key) starts with an empty one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::access::Identity;

/// The longest a verdict is reused: a key withdrawn from the issuer's JWKS stops verifying within it.
const MAX_REUSE: Duration = Duration::from_secs(300);
const CAPACITY: usize = 10_000;

struct Verdict {
    identity: Arc<Identity>,
    /// Unix seconds: usable from `from` (nbf − leeway) until `until` (exp + leeway, capped).
    from: u64,
    until: u64,
}

#[derive(Default)]
pub struct VerifiedTokens {
    verdicts: Mutex<HashMap<Box<str>, Verdict>>,
}

pub fn now_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

impl VerifiedTokens {
    /// The identity `token` proved, if it was verified here and is still within its validity.
    pub fn get(&self, token: &str) -> Option<Arc<Identity>> {
        let now = now_seconds();
        let verdicts = self.verdicts.lock().unwrap_or_else(|p| p.into_inner());
        let verdict = verdicts.get(token)?;
        (verdict.from <= now && now < verdict.until).then(|| verdict.identity.clone())
    }

    /// Keeps a verified token: `exp` and `nbf` are its claims (unix seconds), `leeway` the policy's.
    pub fn insert(
        &self,
        token: &str,
        identity: Arc<Identity>,
        exp: u64,
        nbf: Option<u64>,
        leeway: Duration,
    ) {
        let now = now_seconds();
        let until = (exp + leeway.as_secs()).min(now + MAX_REUSE.as_secs());
        let from = nbf.map_or(0, |nbf| nbf.saturating_sub(leeway.as_secs()));
        let mut verdicts = self.verdicts.lock().unwrap_or_else(|p| p.into_inner());
        if verdicts.len() >= CAPACITY {
            verdicts.retain(|_, v| v.until > now);
            if verdicts.len() >= CAPACITY {
                verdicts.clear();
            }
        }
        verdicts.insert(
            token.into(),
            Verdict {
                identity,
                from,
                until,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity() -> Arc<Identity> {
        Arc::new(Identity {
            consumer: None,
            subject: "u".into(),
            method: "jwt",
            credential: String::new(),
            downstream: Vec::new(),
        })
    }

    #[test]
    fn a_verdict_holds_within_the_token_validity_only() {
        let cache = VerifiedTokens::default();
        let now = now_seconds();
        cache.insert("live", identity(), now + 60, None, Duration::ZERO);
        cache.insert("expired", identity(), now - 1, None, Duration::ZERO);
        cache.insert(
            "early",
            identity(),
            now + 60,
            Some(now + 30),
            Duration::from_secs(5),
        );
        cache.insert(
            "lenient",
            identity(),
            now - 1,
            None,
            Duration::from_secs(10),
        );
        assert!(cache.get("live").is_some());
        assert!(cache.get("expired").is_none());
        assert!(cache.get("early").is_none(), "not before nbf − leeway");
        assert!(cache.get("lenient").is_some(), "within the leeway");
        assert!(cache.get("other").is_none());
    }
}
