//! The revision's consumers, indexed the ways a request names one: by app key (signatures), by the
//! SHA-256 of an API key, by the SHA-256 of a client certificate. Built once per compiled revision,
//! shared by every authentication interceptor; sealed secrets are opened here, once, so no request ever
//! decrypts anything.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::SystemTime;

use api_model::{Consumer, Credential, SecretRef};
use base64::Engine as _;
use ring::hmac;

use crate::stores::Services;

/// One consumer as the interceptors need it.
pub struct ConsumerEntry {
    pub name: String,
    pub app_key: String,
    pub enabled: bool,
    /// Shared secrets, at most two (rotation), as HMAC-SHA256 keys.
    pub hmac: Vec<Keyed<hmac::Key>>,
    /// Ed25519 public keys (32 bytes) for RFC 9421.
    pub ed25519: Vec<Keyed<Vec<u8>>>,
    grants: HashSet<String>,
}

/// A credential's key material with its id and expiry.
pub struct Keyed<K> {
    pub id: String,
    pub key: K,
    expires_at: Option<SystemTime>,
}

impl<K> Keyed<K> {
    pub fn is_live(&self) -> bool {
        self.expires_at.is_none_or(|at| SystemTime::now() < at)
    }
}

impl ConsumerEntry {
    /// Whether the consumer may call `api` (of `group`).
    pub fn granted(&self, api: &str, group: Option<&str>) -> bool {
        self.grants.contains(api)
            || group.is_some_and(|group| self.grants.contains(&format!("group:{group}")))
    }

    pub fn live_hmac(&self) -> impl Iterator<Item = &Keyed<hmac::Key>> {
        self.hmac.iter().filter(|k| k.is_live())
    }
}

/// A key found by its hash: whose it is, and which credential.
pub struct ByHash {
    pub consumer: Arc<ConsumerEntry>,
    pub credential: Keyed<()>,
}

#[derive(Default)]
pub struct Consumers {
    by_name: HashMap<String, Arc<ConsumerEntry>>,
    by_app_key: HashMap<String, Arc<ConsumerEntry>>,
    by_api_key: HashMap<[u8; 32], ByHash>,
    by_certificate: HashMap<[u8; 32], ByHash>,
}

impl Consumers {
    pub fn by_app_key(&self, app_key: &str) -> Option<&Arc<ConsumerEntry>> {
        self.by_app_key.get(app_key)
    }

    pub fn by_name(&self, name: &str) -> Option<&Arc<ConsumerEntry>> {
        self.by_name.get(name)
    }

    /// The API key whose SHA-256 is `digest`. Looking a key up by its hash keeps the comparison off the
    /// secret itself: what timing could reveal is about SHA-256 outputs, which a caller computes anyway.
    pub fn by_api_key(&self, digest: &[u8; 32]) -> Option<&ByHash> {
        self.by_api_key.get(digest)
    }

    pub fn by_certificate(&self, digest: &[u8; 32]) -> Option<&ByHash> {
        self.by_certificate.get(digest)
    }

    /// Indexes the document's consumers, opening sealed secrets with the node's key. Every problem is
    /// named (a secret that does not open, a key that does not parse), never the secret.
    pub fn build(consumers: &[Consumer], services: &Services) -> Result<Consumers, Vec<String>> {
        let mut out = Consumers::default();
        let mut problems = Vec::new();
        for consumer in consumers {
            let mut entry = ConsumerEntry {
                name: consumer.name.clone(),
                app_key: consumer.app_key().to_string(),
                enabled: consumer.enabled,
                hmac: Vec::new(),
                ed25519: Vec::new(),
                grants: consumer.grants.iter().cloned().collect(),
            };
            let mut hashed = Vec::new();
            for credential in &consumer.credentials {
                let what = format!(
                    "consumer `{}`, {} credential `{}`",
                    consumer.name,
                    credential.kind(),
                    credential.id()
                );
                let id = credential.id().to_string();
                let expires_at = credential.expires_at();
                match credential {
                    Credential::ApiKey { sha256, .. } | Credential::Certificate { sha256, .. } => {
                        match hex32(sha256) {
                            Some(digest) => hashed.push((
                                matches!(credential, Credential::ApiKey { .. }),
                                digest,
                                Keyed {
                                    id,
                                    key: (),
                                    expires_at,
                                },
                            )),
                            None => problems.push(format!("{what}: sha256 is not 64 hex digits")),
                        }
                    }
                    Credential::Hmac {
                        secret,
                        secret_env,
                        secret_encrypted,
                        ..
                    } => match SecretRef::of(secret, secret_env, secret_encrypted)
                        .and_then(|source| open(source, services))
                    {
                        Ok(clear) => entry.hmac.push(Keyed {
                            id,
                            key: hmac::Key::new(hmac::HMAC_SHA256, clear.as_bytes()),
                            expires_at,
                        }),
                        Err(why) => problems.push(format!("{what}: {why}")),
                    },
                    Credential::Ed25519 { public_key, .. } => {
                        match base64::engine::general_purpose::STANDARD.decode(public_key.trim()) {
                            Ok(bytes) if bytes.len() == 32 => entry.ed25519.push(Keyed {
                                id,
                                key: bytes,
                                expires_at,
                            }),
                            _ => problems.push(format!(
                                "{what}: public_key must be base64 of the 32-byte Ed25519 key"
                            )),
                        }
                    }
                }
            }
            let entry = Arc::new(entry);
            for (api_key, digest, credential) in hashed {
                let index = if api_key {
                    &mut out.by_api_key
                } else {
                    &mut out.by_certificate
                };
                let found = ByHash {
                    consumer: entry.clone(),
                    credential,
                };
                if index.insert(digest, found).is_some() {
                    problems.push(format!(
                        "consumer `{}`: the same key or certificate is registered twice",
                        consumer.name
                    ));
                }
            }
            out.by_app_key.insert(entry.app_key.clone(), entry.clone());
            out.by_name.insert(entry.name.clone(), entry);
        }
        if problems.is_empty() {
            Ok(out)
        } else {
            Err(problems)
        }
    }
}

/// A secret's clear value.
fn open(source: SecretRef<'_>, services: &Services) -> Result<String, String> {
    match source {
        SecretRef::Plain(secret) => Ok(secret.expose().to_string()),
        SecretRef::Env(name) => {
            std::env::var(name).map_err(|_| format!("environment variable `{name}` is not set"))
        }
        SecretRef::Encrypted(sealed) => match &services.secret_key {
            Some(key) => key.open(sealed),
            None => Err(format!(
                "a sealed secret needs the node's {}",
                crate::stores::secret_key::ENV
            )),
        },
    }
}

/// A secret for a JWT key (HS*), by the same rules as a consumer's.
pub fn open_secret(source: SecretRef<'_>, services: &Services) -> Result<String, String> {
    open(source, services)
}

fn hex32(text: &str) -> Option<[u8; 32]> {
    let bytes = text.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in bytes.chunks(2).enumerate() {
        let high = (pair[0] as char).to_digit(16)?;
        let low = (pair[1] as char).to_digit(16)?;
        out[i] = (high * 16 + low) as u8;
    }
    Some(out)
}

/// SHA-256, the digest every stored key and certificate is indexed by.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}
