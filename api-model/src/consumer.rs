//! Consumers: the apps and partners that call APIs, how each proves who it is (its credentials), and
//! which APIs it may call (its grants). The portal publishes them with every revision (API keys as
//! hashes, shared secrets sealed); a definitions file lists them the same way.

use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::secret::{Secret, SecretRef};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Consumer {
    /// Unique. Sent downstream as the consumer id, and what limits and logs name.
    pub name: String,
    /// The public id a partner signs with (`X-App-Key`, RFC 9421 `keyid`); the name when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_key: Option<String>,
    /// A disabled consumer is refused whatever it presents.
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub credentials: Vec<Credential>,
    /// The APIs it may call: API names, or `group:NAME` for every API of a group.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grants: Vec<String>,
}

fn yes() -> bool {
    true
}

impl Consumer {
    pub fn app_key(&self) -> &str {
        self.app_key.as_deref().unwrap_or(&self.name)
    }
}

/// One way a consumer proves who it is. Each has an `id` (the portal's credential id; free text in a
/// file) so logs and last-used times can name it without naming the secret, and may expire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Credential {
    /// An API key, kept as the SHA-256 of the key (lowercase hex): the key itself is shown once, when
    /// it is issued, and stored nowhere.
    ApiKey {
        #[serde(default)]
        id: String,
        sha256: String,
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            with = "humantime_serde"
        )]
        expires_at: Option<SystemTime>,
    },
    /// A shared secret for HMAC-SHA256 signatures (the gateway's partner scheme, and RFC 9421
    /// `hmac-sha256`). Two may be active at once, so a partner can rotate without a gap.
    Hmac {
        #[serde(default)]
        id: String,
        /// One of these three: see [`SecretRef`].
        #[serde(default, skip_serializing_if = "Option::is_none")]
        secret: Option<Secret>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        secret_env: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        secret_encrypted: Option<String>,
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            with = "humantime_serde"
        )]
        expires_at: Option<SystemTime>,
    },
    /// An Ed25519 public key (base64 of the 32 raw bytes) for RFC 9421 `ed25519` signatures.
    Ed25519 {
        #[serde(default)]
        id: String,
        public_key: String,
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            with = "humantime_serde"
        )]
        expires_at: Option<SystemTime>,
    },
    /// A TLS client certificate, by the SHA-256 of its DER encoding (lowercase hex).
    Certificate {
        #[serde(default)]
        id: String,
        sha256: String,
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            with = "humantime_serde"
        )]
        expires_at: Option<SystemTime>,
    },
}

impl Credential {
    pub fn id(&self) -> &str {
        match self {
            Credential::ApiKey { id, .. }
            | Credential::Hmac { id, .. }
            | Credential::Ed25519 { id, .. }
            | Credential::Certificate { id, .. } => id,
        }
    }

    pub fn expires_at(&self) -> Option<SystemTime> {
        match self {
            Credential::ApiKey { expires_at, .. }
            | Credential::Hmac { expires_at, .. }
            | Credential::Ed25519 { expires_at, .. }
            | Credential::Certificate { expires_at, .. } => *expires_at,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Credential::ApiKey { .. } => "api_key",
            Credential::Hmac { .. } => "hmac",
            Credential::Ed25519 { .. } => "ed25519",
            Credential::Certificate { .. } => "certificate",
        }
    }

    /// Problems that need nothing but the credential itself.
    pub fn problems(&self, consumer: &str) -> Vec<String> {
        let what = format!(
            "consumer `{consumer}`, {} credential `{}`",
            self.kind(),
            self.id()
        );
        let hex64 = |text: &str| text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit());
        match self {
            Credential::ApiKey { sha256, .. } | Credential::Certificate { sha256, .. }
                if !hex64(sha256) =>
            {
                vec![format!("{what}: sha256 must be 64 hex digits")]
            }
            Credential::Hmac {
                secret,
                secret_env,
                secret_encrypted,
                ..
            } => SecretRef::of(secret, secret_env, secret_encrypted)
                .err()
                .map(|why| format!("{what}: {why}"))
                .into_iter()
                .collect(),
            Credential::Ed25519 { public_key, .. } if public_key.trim().is_empty() => {
                vec![format!("{what}: public_key is empty")]
            }
            _ => Vec::new(),
        }
    }
}
