//! Passwords of the service's users: Argon2id (RFC 9106) in PHC string form, with the
//! parameters OWASP's password storage guidance gives as the minimum for Argon2id
//! (m = 19 MiB, t = 2, p = 1), which are `argon2`'s defaults.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use tracemark_store::{Draft, Stored};
use tracemark_types::{Role, User};

use crate::VaultError;
use crate::vault::{Vault, unexpected};

/// Shortest password accepted (NIST SP 800-63B §5.1.1.2: at least 8 characters).
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Longest password accepted (bounds the hashing work an attacker can ask for).
pub const MAX_PASSWORD_BYTES: usize = 1024;

fn invalid(reason: impl Into<String>) -> VaultError {
    VaultError::Invalid {
        what: "password",
        reason: reason.into(),
    }
}

/// Hashes a password with a fresh random salt.
pub fn hash_password(password: &str) -> Result<String, VaultError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(invalid(format!(
            "must have at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(invalid(format!(
            "must be at most {MAX_PASSWORD_BYTES} bytes"
        )));
    }
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| invalid(format!("no system randomness: {e}")))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| invalid(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| invalid(e.to_string()))
}

/// Whether `password` matches the PHC string `hash` (false for a malformed hash).
pub fn verify_password(hash: &str, password: &str) -> bool {
    if password.len() > MAX_PASSWORD_BYTES {
        return false;
    }
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

impl Vault {
    /// Adds a user who signs in with `password` (hashed here; never stored in clear).
    pub fn add_user_with_password(
        &self,
        name: &str,
        role: Role,
        password: &str,
    ) -> Result<User, VaultError> {
        let hash = hash_password(password)?;
        match self.append_one(Draft::User {
            name: name.to_string(),
            role,
            password_hash: Some(hash),
        })? {
            Stored::User(u) => Ok(u),
            other => Err(unexpected(&other)),
        }
    }

    /// The user `name` if `password` is theirs and they are not disabled.
    pub fn check_password(&self, name: &str, password: &str) -> Result<Option<User>, VaultError> {
        let Some(user) = self.store.user_by_name(name)? else {
            return Ok(None);
        };
        let ok = !user.disabled
            && user
                .password_hash
                .as_deref()
                .is_some_and(|h| verify_password(h, password));
        Ok(ok.then_some(user))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_fresh_salts_and_verify() {
        let a = hash_password("correct horse battery").expect("hash");
        let b = hash_password("correct horse battery").expect("hash");
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b, "fresh salt each time");
        assert!(verify_password(&a, "correct horse battery"));
        assert!(!verify_password(&a, "correct horse battery!"));
        assert!(!verify_password("not a phc string", "x"));
        assert!(hash_password("short").is_err());
        assert!(hash_password(&"x".repeat(MAX_PASSWORD_BYTES + 1)).is_err());
    }
}
