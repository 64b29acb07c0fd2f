//! `Secret`: a value that must never be printed. Its `Debug` says `<redacted>`, so a secret inside any
//! definition type can be logged with `{:?}` without leaking.

use serde::{Deserialize, Serialize};

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Where a secret's clear value comes from. Definitions hold three optional fields for it (`secret`,
/// `secret_env`, `secret_encrypted`); exactly one must be set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretRef<'a> {
    /// The value itself. For files an operator keeps private; the portal never writes this form.
    Plain(&'a Secret),
    /// The name of an environment variable of the node that holds the value.
    Env(&'a str),
    /// The value sealed with the key in the node's `GATEWAY_SECRET_KEY` (AES-256-GCM, base64 of
    /// nonce and ciphertext): what the portal publishes, so a revision never holds a secret in clear.
    Encrypted(&'a str),
}

impl<'a> SecretRef<'a> {
    /// The one source set among the three fields.
    pub fn of(
        secret: &'a Option<Secret>,
        secret_env: &'a Option<String>,
        secret_encrypted: &'a Option<String>,
    ) -> Result<SecretRef<'a>, String> {
        match (secret, secret_env, secret_encrypted) {
            (Some(plain), None, None) => Ok(SecretRef::Plain(plain)),
            (None, Some(env), None) => Ok(SecretRef::Env(env)),
            (None, None, Some(sealed)) => Ok(SecretRef::Encrypted(sealed)),
            _ => Err("set exactly one of `secret`, `secret_env` and `secret_encrypted`".into()),
        }
    }
}
