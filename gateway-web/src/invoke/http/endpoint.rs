//! One upstream endpoint and what the pool knows of its health: the active check's verdict, passive
//! outlier ejection (consecutive failures eject it for a time that doubles with each ejection in a
//! row), and the requests in flight that least-request balancing compares.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant};

use api_model::upstream::Outlier;
use http::uri::{Authority, Scheme};

pub struct Endpoint {
    /// As configured (`http://10.0.0.1:8080`), or for an address DNS gave, that address in the same
    /// form: for logs, `/readyz` and the consistent-hash ring (so every node places it alike).
    pub address: String,
    /// The configured endpoint whose host name DNS resolved to this address.
    pub resolved_from: Option<String>,
    pub scheme: Scheme,
    pub authority: Authority,
    /// `authority` as the `Host` value sent upstream, made once rather than per request.
    pub host_header: http::HeaderValue,
    pub weight: u32,
    /// Requests sent and not yet finished (the response body included).
    pub in_flight: AtomicU32,
    /// The active check's verdict; true until a check says otherwise (and when there is no check).
    checked_healthy: AtomicBool,
    /// Failures in a row seen by requests; reset by any success.
    consecutive_failures: AtomicU32,
    /// Set while an ejection streak is open, so the usual pick of a healthy endpoint reads two
    /// atomics and takes no lock.
    ejected: AtomicBool,
    ejection: Mutex<Ejection>,
}

#[derive(Default)]
struct Ejection {
    until: Option<Instant>,
    /// Ejections in a row (a success after the last one's end resets it): the next lasts 2^n times
    /// the base.
    streak: u32,
}

/// An endpoint's health as `/readyz` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    Healthy,
    /// The active check failed it.
    Unhealthy,
    /// Passive ejection is in force.
    Ejected,
}

impl Endpoint {
    /// Parses `http://host:port`, `https://host:port` or `host:port`.
    pub fn parse(address: &str, weight: u32) -> Result<Endpoint, String> {
        let (scheme, rest) = match address.split_once("://") {
            Some(("http", rest)) => (Scheme::HTTP, rest),
            Some(("https", rest)) => (Scheme::HTTPS, rest),
            Some((other, _)) => {
                return Err(format!(
                    "`{address}`: scheme `{other}` is not http or https"
                ));
            }
            None => (Scheme::HTTP, address),
        };
        let rest = rest.trim_end_matches('/');
        if rest.contains('/') {
            return Err(format!(
                "`{address}`: an endpoint has no path (rewrite paths per API)"
            ));
        }
        let authority: Authority = rest.parse().map_err(|err| format!("`{address}`: {err}"))?;
        if authority.port_u16().is_none() {
            return Err(format!("`{address}`: needs a port"));
        }
        let host_header = http::HeaderValue::from_str(authority.as_str())
            .map_err(|err| format!("`{address}`: {err}"))?;
        Ok(Endpoint {
            address: address.to_string(),
            resolved_from: None,
            scheme,
            authority,
            host_header,
            weight: weight.max(1),
            in_flight: AtomicU32::new(0),
            checked_healthy: AtomicBool::new(true),
            consecutive_failures: AtomicU32::new(0),
            ejected: AtomicBool::new(false),
            ejection: Mutex::new(Ejection::default()),
        })
    }

    /// The host name this endpoint names, when it is one (not an IP address): what DNS resolves.
    pub fn host_name(&self) -> Option<&str> {
        let host = self.authority.host();
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        bare.parse::<std::net::IpAddr>().is_err().then_some(host)
    }

    /// This endpoint at one of its name's addresses: connections go to `ip`, while `Host` (and the
    /// weight) stay the configured endpoint's. Fresh health: a new address has no history.
    pub fn at(&self, ip: std::net::IpAddr) -> Result<Endpoint, String> {
        let port = self.authority.port_u16().unwrap_or(80);
        let socket = std::net::SocketAddr::new(ip, port);
        let authority: Authority = socket
            .to_string()
            .parse()
            .map_err(|err| format!("`{socket}`: {err}"))?;
        Ok(Endpoint {
            address: format!("{}://{socket}", self.scheme),
            resolved_from: Some(self.address.clone()),
            scheme: self.scheme.clone(),
            authority,
            host_header: self.host_header.clone(),
            weight: self.weight,
            in_flight: AtomicU32::new(0),
            checked_healthy: AtomicBool::new(true),
            consecutive_failures: AtomicU32::new(0),
            ejected: AtomicBool::new(false),
            ejection: Mutex::new(Ejection::default()),
        })
    }

    /// Whether the endpoint may receive requests now.
    pub fn available(&self, now: Instant) -> bool {
        self.health(now) == Health::Healthy
    }

    pub fn health(&self, now: Instant) -> Health {
        if !self.checked_healthy.load(Ordering::Relaxed) {
            return Health::Unhealthy;
        }
        // Cheap check first: an endpoint with no ejection streak has nothing to look up.
        if !self.ejected.load(Ordering::Relaxed) {
            return Health::Healthy;
        }
        match self.lock().until {
            Some(until) if until > now => Health::Ejected,
            _ => Health::Healthy,
        }
    }

    /// A request finished well: failures in a row start again from zero.
    pub fn record_success(&self) {
        // Read before writing: a shared line is written only when there is something to reset.
        if self.consecutive_failures.load(Ordering::Relaxed) > 0 {
            self.consecutive_failures.store(0, Ordering::Relaxed);
        }
        if self.ejected.load(Ordering::Relaxed) {
            let mut ejection = self.lock();
            if ejection.until.is_none_or(|until| until <= Instant::now()) {
                ejection.until = None;
                ejection.streak = 0;
                self.ejected.store(false, Ordering::Relaxed);
            }
        }
    }

    /// A request failed (a 5xx, or no connection). Returns true when this failure ejects the endpoint;
    /// `may_eject` says whether the pool can spare it (the cap on ejected endpoints).
    pub fn record_failure(&self, outlier: &Outlier, may_eject: bool) -> bool {
        if outlier.consecutive_failures == 0 {
            return false;
        }
        let failures = self.consecutive_failures.fetch_add(1, Ordering::Relaxed) + 1;
        if failures < outlier.consecutive_failures || !may_eject {
            return false;
        }
        let now = Instant::now();
        let mut ejection = self.lock();
        if ejection.until.is_some_and(|until| until > now) {
            return false;
        }
        let length = ejection_length(outlier, ejection.streak);
        ejection.until = Some(now + length);
        ejection.streak = ejection.streak.saturating_add(1);
        self.ejected.store(true, Ordering::Relaxed);
        self.consecutive_failures.store(0, Ordering::Relaxed);
        tracing::warn!(endpoint = %self.address, ejected_for = ?length, "upstream endpoint ejected after consecutive failures");
        true
    }

    /// The active check's verdict changed.
    pub fn set_checked(&self, healthy: bool) {
        let was = self.checked_healthy.swap(healthy, Ordering::Relaxed);
        if was != healthy {
            tracing::warn!(endpoint = %self.address, healthy, "upstream endpoint health check changed");
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Ejection> {
        // Two plain fields: a panic elsewhere cannot leave them inconsistent.
        self.ejection.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// `base × 2^streak`, at most `max_ejection`.
fn ejection_length(outlier: &Outlier, streak: u32) -> Duration {
    let factor = 1u32.checked_shl(streak.min(16)).unwrap_or(u32::MAX);
    outlier
        .base_ejection
        .saturating_mul(factor)
        .min(outlier.max_ejection.max(outlier.base_ejection))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outlier(failures: u32) -> Outlier {
        Outlier {
            consecutive_failures: failures,
            base_ejection: Duration::from_millis(40),
            max_ejection: Duration::from_millis(100),
            max_ejected_percent: 100,
        }
    }

    #[test]
    fn addresses_parse_with_scheme_and_port() {
        let plain = Endpoint::parse("127.0.0.1:8080", 1).expect("plain");
        assert_eq!(plain.scheme, Scheme::HTTP);
        assert_eq!(plain.authority.as_str(), "127.0.0.1:8080");
        let tls = Endpoint::parse("https://api.example.com:443/", 2).expect("tls");
        assert_eq!(tls.scheme, Scheme::HTTPS);
        assert!(Endpoint::parse("ftp://x:1", 1).is_err());
        assert!(Endpoint::parse("http://x", 1).is_err());
        assert!(Endpoint::parse("http://x:1/base", 1).is_err());
    }

    #[test]
    fn consecutive_failures_eject_for_a_growing_time() {
        let endpoint = Endpoint::parse("127.0.0.1:1", 1).expect("endpoint");
        let policy = outlier(3);
        assert!(!endpoint.record_failure(&policy, true));
        endpoint.record_success();
        assert!(!endpoint.record_failure(&policy, true));
        assert!(!endpoint.record_failure(&policy, true));
        assert!(endpoint.record_failure(&policy, true), "third in a row");
        assert_eq!(endpoint.health(Instant::now()), Health::Ejected);
        let back = Instant::now() + Duration::from_millis(45);
        assert_eq!(endpoint.health(back), Health::Healthy);
        assert_eq!(ejection_length(&policy, 1), Duration::from_millis(80));
        assert_eq!(ejection_length(&policy, 5), Duration::from_millis(100));
    }

    #[test]
    fn the_cap_keeps_an_endpoint_in() {
        let endpoint = Endpoint::parse("127.0.0.1:1", 1).expect("endpoint");
        for _ in 0..5 {
            assert!(!endpoint.record_failure(&outlier(1), false));
        }
        assert!(endpoint.available(Instant::now()));
        assert!(
            !endpoint.record_failure(&outlier(0), true),
            "0 turns it off"
        );
    }
}
