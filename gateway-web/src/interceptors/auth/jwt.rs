//! `kind: jwt`: `Authorization: Bearer <token>`, signed by a key the policy names inline or its issuer
//! publishes (JWKS). Each key verifies one algorithm only: the token's `alg` must be that key's, so an
//! RS256 public key is never used as an HS256 secret, and `none` is never accepted. `exp` is required;
//! `nbf`, `iss` and `aud` are checked as configured, with leeway. The consumer claim names a registered
//! consumer (whose grants then apply) or a user; chosen claims travel downstream.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use http::{HeaderName, HeaderValue};
use jsonwebtoken::errors::ErrorKind as JwtError;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};

use super::consumers::{Consumers, open_secret};
use super::verified_tokens::VerifiedTokens;
use super::{authenticated_as, consumer_identity, ensure_enabled};
use crate::access::{Exchange, Identity, Reply};
use crate::error::{ErrorKind, GatewayError};
use crate::interceptors::{Interceptor, Next};
use crate::stores::jwks::Jwks;
use crate::stores::{CredentialUsage, Services};

pub struct InlineKey {
    kid: Option<String>,
    alg: Algorithm,
    key: DecodingKey,
}

pub struct Jwt {
    pub header: HeaderName,
    pub keys: Vec<InlineKey>,
    pub jwks: Option<Arc<Jwks>>,
    pub jwks_refresh: Duration,
    pub jwks_min_refresh: Duration,
    pub issuer: Option<String>,
    pub audiences: Vec<String>,
    pub leeway: Duration,
    pub consumer_claim: String,
    pub require_consumer: bool,
    /// Claim → downstream header.
    pub forward_claims: Vec<(String, HeaderName)>,
    pub consumers: Arc<Consumers>,
    pub usage: Arc<CredentialUsage>,
    pub challenge: Arc<str>,
    pub verified: VerifiedTokens,
}

/// A verified token: who it proves, and its validity (unix seconds).
struct Verified {
    identity: Identity,
    exp: u64,
    nbf: Option<u64>,
}

impl Jwt {
    pub fn build(
        spec: &api_model::policy::JwtAuth,
        consumers: Arc<Consumers>,
        services: &Services,
        challenge: Arc<str>,
    ) -> Result<Jwt, String> {
        let mut keys = Vec::with_capacity(spec.keys.len());
        for key in &spec.keys {
            let name = key.kid.as_deref().unwrap_or("(no kid)");
            let alg = Algorithm::from_str(&key.alg)
                .map_err(|_| format!("jwt: key {name}: unknown alg `{}`", key.alg))?;
            let decoding = match (&key.public_key_pem, alg) {
                (None, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512) => {
                    let source = key
                        .secret_ref()
                        .map_err(|why| format!("jwt: key {name}: {why}"))?;
                    let secret = open_secret(source, services)
                        .map_err(|why| format!("jwt: key {name}: {why}"))?;
                    Ok(DecodingKey::from_secret(secret.as_bytes()))
                }
                (Some(pem), Algorithm::RS256) => DecodingKey::from_rsa_pem(pem.as_bytes()),
                (Some(pem), Algorithm::ES256) => DecodingKey::from_ec_pem(pem.as_bytes()),
                (Some(pem), Algorithm::EdDSA) => DecodingKey::from_ed_pem(pem.as_bytes()),
                _ => {
                    return Err(format!(
                        "jwt: key {name}: {} and this key material do not go together",
                        key.alg
                    ));
                }
            }
            .map_err(|err| format!("jwt: key {name}: {err}"))?;
            keys.push(InlineKey {
                kid: key.kid.clone(),
                alg,
                key: decoding,
            });
        }
        let forward_claims = spec
            .forward_claims
            .iter()
            .map(|(claim, header)| {
                HeaderName::from_bytes(header.to_ascii_lowercase().as_bytes())
                    .map(|h| (claim.clone(), h))
                    .map_err(|_| format!("jwt: `{header}` is not a header name"))
            })
            .collect::<Result<_, _>>()?;
        let header = HeaderName::from_bytes(spec.header.to_ascii_lowercase().as_bytes())
            .map_err(|_| format!("jwt: `{}` is not a header name", spec.header))?;
        Ok(Jwt {
            header,
            keys,
            jwks: spec
                .jwks_url
                .as_ref()
                .map(|url| services.jwks.get(url, &services.http)),
            jwks_refresh: spec.jwks_refresh,
            jwks_min_refresh: spec.jwks_min_refresh,
            issuer: spec.issuer.clone(),
            audiences: spec.audiences.clone(),
            leeway: spec.leeway,
            consumer_claim: spec.consumer_claim.clone(),
            require_consumer: spec.require_consumer,
            forward_claims,
            consumers,
            usage: services.usage.clone(),
            challenge,
            verified: VerifiedTokens::default(),
        })
    }

    fn refuse(&self, message: impl Into<std::borrow::Cow<'static, str>>) -> GatewayError {
        GatewayError::unauthenticated(&self.challenge, message)
    }

    /// The key this token must verify with: one whose `kid` and algorithm are the token's.
    async fn key(&self, kid: Option<&str>, alg: Algorithm) -> Result<DecodingKey, GatewayError> {
        let inline = self.keys.iter().find(|k| {
            k.alg == alg && (k.kid.as_deref() == kid || (k.kid.is_none() && kid.is_none()))
        });
        if let Some(found) = inline {
            return Ok(found.key.clone());
        }
        if let Some(jwks) = &self.jwks {
            match jwks
                .key(kid, self.jwks_refresh, self.jwks_min_refresh)
                .await
            {
                Ok(Some(found)) if found.alg == alg => return Ok(found.key),
                Ok(Some(_)) => return Err(self.refuse("the token's alg is not the alg of its key")),
                Ok(None) => {}
                Err(_) if self.keys.is_empty() => {
                    return Err(GatewayError::new(
                        ErrorKind::AuthUnavailable,
                        "the issuer's keys (JWKS) cannot be fetched; retry shortly",
                    ));
                }
                Err(_) => {}
            }
        }
        Err(self.refuse(match kid {
            Some(kid) => format!("no key with kid `{kid}` verifies {alg:?} tokens"),
            None => format!("no key without a kid verifies {alg:?} tokens"),
        }))
    }

    async fn verify(&self, token: &str) -> Result<Verified, GatewayError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| {
            self.refuse("the token is malformed or uses an algorithm that is not accepted")
        })?;
        let key = self.key(header.kid.as_deref(), header.alg).await?;
        let mut validation = Validation::new(header.alg);
        validation.leeway = self.leeway.as_secs();
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp"]);
        if let Some(issuer) = &self.issuer {
            validation.set_issuer(&[issuer]);
        }
        if self.audiences.is_empty() {
            validation.validate_aud = false;
        } else {
            validation.set_audience(&self.audiences);
        }
        let data =
            jsonwebtoken::decode::<BTreeMap<String, serde_json::Value>>(token, &key, &validation)
                .map_err(|err| {
                self.refuse(match err.kind() {
                    JwtError::ExpiredSignature => "the token has expired",
                    JwtError::ImmatureSignature => "the token is not valid yet (nbf)",
                    JwtError::InvalidAudience => "the token is not for this audience",
                    JwtError::InvalidIssuer => "the token is not from the expected issuer",
                    JwtError::MissingRequiredClaim(_) => "the token lacks a required claim (exp)",
                    JwtError::InvalidSignature => "the token's signature does not verify",
                    _ => "the token does not verify",
                })
            })?;
        let claims = data.claims;
        let seconds = |name: &str| claims.get(name).and_then(serde_json::Value::as_u64);
        // `exp` is a required claim: decoding refused a token without one.
        let exp = seconds("exp").unwrap_or(0);
        let nbf = seconds("nbf");
        let subject = match claims.get(&self.consumer_claim) {
            Some(serde_json::Value::String(s)) if !s.is_empty() => s.clone(),
            _ => {
                return Err(self.refuse(format!(
                    "the token has no `{}` claim naming the caller",
                    self.consumer_claim
                )));
            }
        };
        let consumer = self
            .consumers
            .by_name(&subject)
            .or_else(|| self.consumers.by_app_key(&subject));
        let mut identity = match consumer {
            Some(consumer) => {
                ensure_enabled(consumer)?;
                consumer_identity(consumer, "jwt", header.kid.as_deref().unwrap_or("jwt"))
            }
            None if self.require_consumer => {
                return Err(self.refuse(format!("`{subject}` is not a registered consumer")));
            }
            None => Identity {
                consumer: None,
                subject,
                method: "jwt",
                credential: header.kid.clone().unwrap_or_default(),
                downstream: Vec::new(),
            },
        };
        for (claim, name) in &self.forward_claims {
            let text = match claims.get(claim) {
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(serde_json::Value::Null) | None => continue,
                Some(other) => other.to_string(),
            };
            if let Ok(value) = HeaderValue::from_str(&text) {
                identity.downstream.push((name.clone(), value));
            }
        }
        Ok(Verified { identity, exp, nbf })
    }
}

#[async_trait]
impl Interceptor for Jwt {
    async fn intercept(
        &self,
        mut exchange: Exchange,
        next: Next<'_>,
    ) -> Result<Reply, GatewayError> {
        let token = exchange
            .headers
            .get(&self.header)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, token) = v.trim().split_once(' ')?;
                scheme
                    .eq_ignore_ascii_case("bearer")
                    .then(|| token.trim().to_string())
            });
        let Some(token) = token else {
            return next.run(exchange).await;
        };
        let identity = match self.verified.get(&token) {
            Some(identity) => identity,
            None => {
                let verified = self.verify(&token).await?;
                let identity = Arc::new(verified.identity);
                self.verified.insert(
                    &token,
                    identity.clone(),
                    verified.exp,
                    verified.nbf,
                    self.leeway,
                );
                identity
            }
        };
        exchange.headers.remove(&self.header);
        authenticated_as(&mut exchange, identity, &self.usage);
        next.run(exchange).await
    }
}
