//! The key that seals shared secrets at rest: the portal seals each HMAC secret with it before the
//! secret reaches Postgres or a revision, and every node opens them when it compiles a revision. It
//! comes from the environment (`GATEWAY_SECRET_KEY`, base64 of 32 random bytes), never from the
//! database. AES-256-GCM; a sealed value is base64 of a 12-byte random nonce followed by the ciphertext
//! and its tag.

use base64::Engine as _;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};

/// The environment variable holding the key.
pub const ENV: &str = "GATEWAY_SECRET_KEY";

pub struct SecretKey {
    key: LessSafeKey,
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

impl SecretKey {
    /// `base64` of exactly 32 bytes.
    pub fn from_base64(text: &str) -> Result<SecretKey, String> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|_| format!("{ENV} is not base64"))?;
        if bytes.len() != 32 {
            return Err(format!(
                "{ENV} must be 32 bytes (base64 of `openssl rand 32`), not {}",
                bytes.len()
            ));
        }
        let key = UnboundKey::new(&AES_256_GCM, &bytes)
            .map_err(|_| format!("{ENV} is not an AES-256 key"))?;
        Ok(SecretKey {
            key: LessSafeKey::new(key),
        })
    }

    /// The key from the environment; `None` when unset, an error when set and malformed.
    pub fn from_env() -> Result<Option<SecretKey>, String> {
        match std::env::var(ENV) {
            Ok(text) if !text.trim().is_empty() => SecretKey::from_base64(&text).map(Some),
            _ => Ok(None),
        }
    }

    /// A fresh key, base64: what an operator puts in `GATEWAY_SECRET_KEY`.
    pub fn generate() -> Result<String, String> {
        let mut bytes = [0u8; 32];
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| "no randomness available".to_string())?;
        Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
    }

    pub fn seal(&self, secret: &str) -> Result<String, String> {
        let mut nonce = [0u8; 12];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| "no randomness available".to_string())?;
        let mut sealed = secret.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::empty(),
                &mut sealed,
            )
            .map_err(|_| "sealing failed".to_string())?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(base64::engine::general_purpose::STANDARD.encode(out))
    }

    /// The clear secret; an error names no part of it.
    pub fn open(&self, sealed: &str) -> Result<String, String> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(sealed.trim())
            .map_err(|_| "the sealed secret is not base64".to_string())?;
        if bytes.len() < 12 + 16 {
            return Err("the sealed secret is too short".into());
        }
        let (nonce, rest) = bytes.split_at(12);
        let mut nonce_bytes = [0u8; 12];
        nonce_bytes.copy_from_slice(nonce);
        let mut buffer = rest.to_vec();
        let clear = self
            .key
            .open_in_place(
                Nonce::assume_unique_for_key(nonce_bytes),
                Aad::empty(),
                &mut buffer,
            )
            .map_err(|_| format!("the sealed secret does not open with this node's {ENV}"))?;
        String::from_utf8(clear.to_vec()).map_err(|_| "the sealed secret is not text".to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_only_with_their_key() {
        let key = SecretKey::from_base64(&SecretKey::generate().unwrap_or_default()).expect("key");
        let other =
            SecretKey::from_base64(&SecretKey::generate().unwrap_or_default()).expect("key");
        let sealed = key.seal("partner secret 1").expect("seals");
        assert!(!sealed.contains("partner"));
        assert_ne!(
            sealed,
            key.seal("partner secret 1").expect("seals"),
            "a fresh nonce each time"
        );
        assert_eq!(key.open(&sealed).as_deref(), Ok("partner secret 1"));
        assert!(other.open(&sealed).is_err());
        let mut tampered = base64::engine::general_purpose::STANDARD
            .decode(&sealed)
            .unwrap_or_default();
        if let Some(last) = tampered.last_mut() {
            *last ^= 1;
        }
        assert!(
            key.open(&base64::engine::general_purpose::STANDARD.encode(tampered))
                .is_err()
        );
        assert!(SecretKey::from_base64("c2hvcnQ=").is_err());
    }
}
