//! `kind: external_auth`: asks an HTTP service of your own whether a session is good. The chosen
//! request headers go to it with a GET; its 2xx authenticates the request (the identity headers it
//! answers with travel downstream), its 401 or 403 is passed on, anything else (down, slow, 5xx)
//! follows the policy's `on_error`. Verdicts are reused for `cache_ttl` per distinct set of forwarded
//! header values, so a page of calls costs the service one question.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use api_model::policy::ExternalAuthFallback;
use async_trait::async_trait;
use http::{HeaderName, HeaderValue};

use super::consumers::Consumers;
use super::{authenticated, ensure_enabled};
use crate::access::{Exchange, Identity, Reply};
use crate::error::{ErrorKind, GatewayError};
use crate::interceptors::{Interceptor, Next};
use crate::stores::CredentialUsage;

/// Verdicts kept at most; beyond it, expired ones go, and if none has, all do.
const CACHE_CAPACITY: usize = 10_000;

#[derive(Clone)]
enum Verdict {
    Allowed(Arc<Identity>),
    Refused(ErrorKind, String),
}

pub struct ExternalAuth {
    pub url: String,
    pub forward_headers: Vec<HeaderName>,
    pub identity_headers: Vec<HeaderName>,
    pub consumer_header: Option<HeaderName>,
    pub timeout: Duration,
    pub cache_ttl: Duration,
    pub on_error: ExternalAuthFallback,
    pub http: reqwest::Client,
    pub consumers: Arc<Consumers>,
    pub usage: Arc<CredentialUsage>,
    pub challenge: Arc<str>,
    cache: Mutex<HashMap<u64, (Instant, Verdict)>>,
    hasher: std::collections::hash_map::RandomState,
}

impl ExternalAuth {
    pub fn build(
        spec: &api_model::policy::ExternalAuth,
        consumers: Arc<Consumers>,
        services: &crate::stores::Services,
        challenge: Arc<str>,
    ) -> Result<ExternalAuth, String> {
        let names = |list: &[String]| {
            list.iter()
                .map(|n| {
                    HeaderName::from_bytes(n.to_ascii_lowercase().as_bytes())
                        .map_err(|_| format!("external_auth: `{n}` is not a header name"))
                })
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(ExternalAuth {
            url: spec.url.clone(),
            forward_headers: names(&spec.forward_headers)?,
            identity_headers: names(&spec.identity_headers)?,
            consumer_header: match &spec.consumer_header {
                Some(name) => names(std::slice::from_ref(name))?.pop(),
                None => None,
            },
            timeout: spec.timeout,
            cache_ttl: spec.cache_ttl,
            on_error: spec.on_error,
            http: services.http.clone(),
            consumers,
            usage: services.usage.clone(),
            challenge,
            cache: Mutex::new(HashMap::new()),
            hasher: Default::default(),
        })
    }

    fn cached(&self, key: u64) -> Option<Verdict> {
        let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache
            .get(&key)
            .filter(|(at, _)| at.elapsed() < self.cache_ttl)
            .map(|(_, verdict)| verdict.clone())
    }

    fn remember(&self, key: u64, verdict: &Verdict) {
        if self.cache_ttl.is_zero() {
            return;
        }
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= CACHE_CAPACITY {
            let ttl = self.cache_ttl;
            cache.retain(|_, (at, _)| at.elapsed() < ttl);
            if cache.len() >= CACHE_CAPACITY {
                cache.clear();
            }
        }
        cache.insert(key, (Instant::now(), verdict.clone()));
    }

    /// `None`: the service could not be asked.
    async fn ask(&self, forwarded: &[(HeaderName, HeaderValue)]) -> Option<Verdict> {
        let mut request = self.http.get(&self.url).timeout(self.timeout);
        for (name, value) in forwarded {
            request = request.header(name, value);
        }
        let response = request.send().await.ok()?;
        let status = response.status();
        if status.is_success() {
            let headers = response.headers();
            let text = |name: &HeaderName| {
                headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            };
            let named = self.consumer_header.as_ref().and_then(text);
            let consumer = named.as_deref().and_then(|n| self.consumers.by_name(n));
            let identity = Identity {
                consumer: consumer.map(|c| c.name.clone()),
                subject: named.clone().unwrap_or_else(|| "external".into()),
                method: "external_auth",
                credential: String::new(),
                downstream: self
                    .identity_headers
                    .iter()
                    .filter_map(|name| headers.get(name).map(|v| (name.clone(), v.clone())))
                    .collect(),
            };
            return Some(Verdict::Allowed(Arc::new(identity)));
        }
        match status.as_u16() {
            401 => Some(Verdict::Refused(
                ErrorKind::Unauthenticated {
                    challenge: self.challenge.clone(),
                },
                "the session was not accepted".into(),
            )),
            403 => Some(Verdict::Refused(
                ErrorKind::PermissionDenied,
                "the session may not call this API".into(),
            )),
            _ => None,
        }
    }
}

#[async_trait]
impl Interceptor for ExternalAuth {
    async fn intercept(
        &self,
        mut exchange: Exchange,
        next: Next<'_>,
    ) -> Result<Reply, GatewayError> {
        let forwarded: Vec<(HeaderName, HeaderValue)> = self
            .forward_headers
            .iter()
            .flat_map(|name| {
                exchange
                    .headers
                    .get_all(name)
                    .iter()
                    .map(move |v| (name.clone(), v.clone()))
            })
            .collect();
        if forwarded.is_empty() {
            return next.run(exchange).await;
        }
        let mut hasher = self.hasher.build_hasher();
        for (name, value) in &forwarded {
            name.as_str().hash(&mut hasher);
            value.as_bytes().hash(&mut hasher);
        }
        let key = hasher.finish();
        let verdict = match self.cached(key) {
            Some(verdict) => verdict,
            None => match self.ask(&forwarded).await {
                Some(verdict) => {
                    self.remember(key, &verdict);
                    verdict
                }
                None => match self.on_error {
                    ExternalAuthFallback::Refuse => {
                        return Err(GatewayError::new(
                            ErrorKind::AuthUnavailable,
                            "the session service cannot be reached; retry shortly",
                        ));
                    }
                    ExternalAuthFallback::Skip => return next.run(exchange).await,
                },
            },
        };
        match verdict {
            Verdict::Allowed(identity) => {
                if let Some(consumer) = identity
                    .consumer
                    .as_deref()
                    .and_then(|n| self.consumers.by_name(n))
                {
                    ensure_enabled(consumer)?;
                }
                for (name, _) in &forwarded {
                    exchange.headers.remove(name);
                }
                authenticated(&mut exchange, (*identity).clone(), &self.usage);
                next.run(exchange).await
            }
            Verdict::Refused(kind, message) => Err(GatewayError::new(kind, message)),
        }
    }
}
