//! Passwords of the service's users: Argon2id (RFC 9106) in PHC string form, with the
//! parameters OWASP's password storage guidance gives as the minimum for Argon2id
//! (m = 19 MiB, t = 2, p = 1), which are `argon2`'s defaults.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use tracemark_store::{Draft, Stored};
use tracemark_types::{Role, Session, Sha256, UnixMillis, User};

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
            // The same Argon2 work as for a real user, so the answer's timing does not
            // tell whether the name exists.
            verify_password(dummy_hash(), password);
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

/// An Argon2id hash of a random password nobody knows, checked when a name is unknown
/// (made once per process, with the same parameters as every stored hash).
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| {
        let secret = random_bytes::<16>().map(hex::encode).unwrap_or_default();
        hash_password(&format!("unknown-user-{secret}")).unwrap_or_default()
    })
}

/// How long a browser session lasts.
pub const SESSION_MS: i64 = 12 * 3600 * 1000;

impl Vault {
    /// The user an API token's secret belongs to, if the token exists, is neither revoked
    /// nor expired, and its user is not disabled.
    pub fn authenticate_token(&self, secret: &str) -> Result<Option<User>, VaultError> {
        let Some(token) = self
            .store
            .token_by_secret(&Sha256::digest(secret.as_bytes()))?
        else {
            return Ok(None);
        };
        let now = self.now();
        if token.revoked || token.expires_at.is_some_and(|e| e <= now) {
            return Ok(None);
        }
        Ok(self.store.user(&token.user_id)?.filter(|u| !u.disabled))
    }

    /// Starts a browser session for `user`: returns the cookie's secret (shown once; the
    /// store keeps its SHA-256) and the session, and logs the sign-in.
    pub fn start_session(&self, user: &User) -> Result<(String, Session), VaultError> {
        let secret = format!("tms_{}", hex::encode(random_bytes::<32>()?));
        let now = self.now();
        let session = Session {
            secret_sha256: Sha256::digest(secret.as_bytes()),
            user_id: user.id.clone(),
            csrf_token: hex::encode(random_bytes::<16>()?),
            created_at: now,
            expires_at: UnixMillis(now.0.saturating_add(SESSION_MS)),
        };
        self.store.create_session(&session)?;
        self.record_access(&user.id, "session", "sign-in")?;
        Ok((secret, session))
    }

    /// The session of a cookie secret and its user, if the session is live and the user
    /// not disabled.
    pub fn session(&self, secret: &str) -> Result<Option<(Session, User)>, VaultError> {
        let now = self.now();
        let Some(session) = self
            .store
            .session(&Sha256::digest(secret.as_bytes()), now)?
        else {
            return Ok(None);
        };
        let user = self.store.user(&session.user_id)?.filter(|u| !u.disabled);
        Ok(user.map(|u| (session, u)))
    }

    /// Ends a session (sign-out) and logs it.
    pub fn end_session(&self, secret: &str) -> Result<(), VaultError> {
        if let Some((session, user)) = self.session(secret)? {
            self.store.delete_session(&session.secret_sha256)?;
            self.record_access(&user.id, "session", "sign-out")?;
        }
        Ok(())
    }
}

fn random_bytes<const N: usize>() -> Result<[u8; N], VaultError> {
    let mut b = [0u8; N];
    crate::secret::fill_random(&mut b)?;
    Ok(b)
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
