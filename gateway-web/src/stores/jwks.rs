//! JWKS documents, fetched off the hot path and shared by every snapshot that names the same URL (a
//! reload does not refetch). A document is fetched when first needed, refreshed in the background once
//! it is older than the policy's refresh period, and fetched again at once for a `kid` it lacks, at most
//! once per `min_refresh`, so a flood of tokens with made-up `kid`s costs the issuer nothing.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey};

/// How long one fetch may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(3);

/// A verification key from a JWKS, with the one algorithm it verifies.
#[derive(Clone)]
pub struct JwksKey {
    pub alg: Algorithm,
    pub key: DecodingKey,
}

#[derive(Default, Clone)]
struct Keys {
    by_kid: HashMap<String, JwksKey>,
    /// Keys without a `kid`, tried for tokens without one.
    anonymous: Vec<JwksKey>,
}

pub struct Jwks {
    url: String,
    http: reqwest::Client,
    keys: ArcSwap<Keys>,
    /// When the document was last fetched (successfully or not), and whether one ever succeeded.
    fetched: Mutex<(Option<Instant>, bool)>,
    /// One fetch at a time.
    fetching: tokio::sync::Mutex<()>,
}

impl Jwks {
    /// The key for `kid` (or a key without one when the token names none), fetching the document when
    /// it was never fetched, is stale, or lacks the `kid` and `min_refresh` allows another fetch.
    pub async fn key(
        self: &Arc<Self>,
        kid: Option<&str>,
        refresh: Duration,
        min_refresh: Duration,
    ) -> Result<Option<JwksKey>, String> {
        let (fetched, ok) = *self.fetched.lock().unwrap_or_else(|p| p.into_inner());
        if !ok {
            self.fetch_once(min_refresh).await?;
        } else if fetched.is_some_and(|at| at.elapsed() > refresh) {
            let this = self.clone();
            tokio::spawn(async move {
                let _ = this.fetch_once(min_refresh).await;
            });
        }
        if let Some(found) = self.lookup(kid) {
            return Ok(Some(found));
        }
        // An unknown kid: the issuer may have rotated. Fetch again if allowed, then look once more.
        let _ = self.fetch_once(min_refresh).await;
        Ok(self.lookup(kid))
    }

    fn lookup(&self, kid: Option<&str>) -> Option<JwksKey> {
        let keys = self.keys.load();
        match kid {
            Some(kid) => keys.by_kid.get(kid).cloned(),
            None => keys.anonymous.first().cloned(),
        }
    }

    /// Fetches unless another fetch finished within `min_refresh`.
    async fn fetch_once(&self, min_refresh: Duration) -> Result<(), String> {
        let _one = self.fetching.lock().await;
        let (fetched, ok) = *self.fetched.lock().unwrap_or_else(|p| p.into_inner());
        if fetched.is_some_and(|at| at.elapsed() < min_refresh) {
            return if ok {
                Ok(())
            } else {
                Err(format!("JWKS {} could not be fetched", self.url))
            };
        }
        let result = self.fetch().await;
        *self.fetched.lock().unwrap_or_else(|p| p.into_inner()) =
            (Some(Instant::now()), ok || result.is_ok());
        match result {
            Ok(keys) => {
                self.keys.store(Arc::new(keys));
                Ok(())
            }
            Err(err) => {
                tracing::warn!(url = %self.url, error = %err, "JWKS fetch failed; keeping the keys already known");
                Err(err)
            }
        }
    }

    async fn fetch(&self) -> Result<Keys, String> {
        let response = self
            .http
            .get(&self.url)
            .timeout(FETCH_TIMEOUT)
            .send()
            .await
            .map_err(|err| format!("JWKS {}: {err}", self.url))?;
        if !response.status().is_success() {
            return Err(format!("JWKS {} answered {}", self.url, response.status()));
        }
        let set: JwkSet = response
            .json()
            .await
            .map_err(|err| format!("JWKS {} is not a JWK set: {err}", self.url))?;
        let mut keys = Keys::default();
        for jwk in &set.keys {
            let Some(alg) = algorithm_of(jwk) else {
                continue;
            };
            let Ok(key) = DecodingKey::from_jwk(jwk) else {
                continue;
            };
            let entry = JwksKey { alg, key };
            match &jwk.common.key_id {
                Some(kid) => {
                    keys.by_kid.insert(kid.clone(), entry);
                }
                None => keys.anonymous.push(entry),
            }
        }
        Ok(keys)
    }
}

/// The algorithm a JWK is for: its `alg` when it states one, else the one its key type allows.
fn algorithm_of(jwk: &jsonwebtoken::jwk::Jwk) -> Option<Algorithm> {
    if let Some(alg) = &jwk.common.key_algorithm {
        return Algorithm::from_str(&alg.to_string()).ok();
    }
    match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Some(Algorithm::RS256),
        AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P256 => {
            Some(Algorithm::ES256)
        }
        AlgorithmParameters::OctetKeyPair(okp) if okp.curve == EllipticCurve::Ed25519 => {
            Some(Algorithm::EdDSA)
        }
        // A symmetric key in a public document would let anyone sign: never used without a stated alg.
        _ => None,
    }
}

/// Every JWKS the node knows, by URL.
#[derive(Clone, Default)]
pub struct JwksRegistry {
    documents: Arc<Mutex<HashMap<String, Arc<Jwks>>>>,
}

impl JwksRegistry {
    pub fn get(&self, url: &str, http: &reqwest::Client) -> Arc<Jwks> {
        let mut documents = self.documents.lock().unwrap_or_else(|p| p.into_inner());
        documents
            .entry(url.to_string())
            .or_insert_with(|| {
                Arc::new(Jwks {
                    url: url.to_string(),
                    http: http.clone(),
                    keys: ArcSwap::from_pointee(Keys::default()),
                    fetched: Mutex::new((None, false)),
                    fetching: tokio::sync::Mutex::new(()),
                })
            })
            .clone()
    }
}
