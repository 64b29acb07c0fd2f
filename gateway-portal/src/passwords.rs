//! Password hashes (argon2id with a random salt): making one, checking one, and a fixed hash to check
//! against when the user does not exist, so a missing user costs the same time as a wrong password.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::RngCore;

pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| anyhow::anyhow!("argon2: {e}"))
}

/// A hash no password matches, made once.
pub fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password("not a password anyone has").unwrap_or_default())
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// The rule every password follows, the first admin's included: 12 to 1,024 characters (a longer one
/// would only make hashing costly), not the username, not one character repeated.
pub fn check_password(username: &str, password: &str) -> Result<(), String> {
    let length = password.chars().count();
    if length < 12 {
        return Err("a password has at least 12 characters".into());
    }
    if password.len() > 1024 {
        return Err("a password has at most 1,024 bytes".into());
    }
    if password.eq_ignore_ascii_case(username) {
        return Err("a password is not the username".into());
    }
    let mut chars = password.chars();
    let first = chars.next();
    if chars.all(|c| Some(c) == first) {
        return Err("a password is not one character repeated".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_rule() {
        assert!(check_password("admin", "correct horse battery").is_ok());
        for weak in ["admin", "short-pass1", "aaaaaaaaaaaaaaa", "ADMINADMINADMIN"] {
            assert!(check_password("adminadminadmin", weak).is_err(), "{weak}");
        }
        assert!(check_password("u", &"x1".repeat(600)).is_err());
    }
}
