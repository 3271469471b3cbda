//! Password hashing with Argon2id (OWASP minimum m=19456 KiB, t=2, p=1), always off the
//! async runtime and behind a semaphore so a login storm cannot exhaust memory.

use std::sync::{Arc, OnceLock};

use argon2::{
    Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version,
    password_hash::{SaltString, rand_core::OsRng},
};
use tokio::sync::Semaphore;

use crate::error::{DomainError, UserErrorCode};

pub const MIN_LEN: usize = 10;
pub const MAX_LEN: usize = 256;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("argon2: {0}")]
    Hash(String),
    #[error("hashing task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
    #[error("hasher closed")]
    Closed,
}

impl From<PasswordError> for DomainError {
    fn from(e: PasswordError) -> Self {
        DomainError::internal(e)
    }
}

fn argon2() -> Argon2<'static> {
    // Params::DEFAULT is exactly m=19456 KiB, t=2, p=1.
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::DEFAULT)
}

#[derive(Clone)]
pub struct PasswordHasherPool {
    permits: Arc<Semaphore>,
}

impl PasswordHasherPool {
    pub fn new(permits: usize) -> Self {
        Self { permits: Arc::new(Semaphore::new(permits.max(1))) }
    }

    pub async fn hash(&self, password: String) -> Result<String, PasswordError> {
        let _permit = self.permits.acquire().await.map_err(|_| PasswordError::Closed)?;
        tokio::task::spawn_blocking(move || {
            let salt = SaltString::generate(&mut OsRng);
            argon2()
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| PasswordError::Hash(e.to_string()))
        })
        .await?
    }

    /// Verifies `password` against a stored PHC string. With `None` (unknown user) it
    /// verifies against a fixed dummy hash, so both paths take the same time.
    pub async fn verify(&self, password: String, stored: Option<String>) -> Result<bool, PasswordError> {
        let _permit = self.permits.acquire().await.map_err(|_| PasswordError::Closed)?;
        tokio::task::spawn_blocking(move || {
            let known = stored.is_some();
            let phc = match stored {
                Some(s) => s,
                None => dummy_hash().to_owned(),
            };
            let parsed = PasswordHash::new(&phc).map_err(|e| PasswordError::Hash(e.to_string()))?;
            let ok = argon2().verify_password(password.as_bytes(), &parsed).is_ok();
            Ok(ok && known)
        })
        .await?
    }
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        argon2()
            .hash_password(b"dummy password for timing equalisation", &salt)
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

/// Password policy (NIST SP 800-63B style: length, not composition rules).
pub fn check_policy(password: &str, email: &str) -> Result<(), DomainError> {
    let len = password.chars().count();
    if len < MIN_LEN {
        return Err(DomainError::user(
            UserErrorCode::WeakPassword,
            &["input", "password"],
            format!("Password must be at least {MIN_LEN} characters."),
        ));
    }
    if len > MAX_LEN {
        return Err(DomainError::user(
            UserErrorCode::Invalid,
            &["input", "password"],
            format!("Password must be at most {MAX_LEN} characters."),
        ));
    }
    if password.eq_ignore_ascii_case(email) {
        return Err(DomainError::user(
            UserErrorCode::WeakPassword,
            &["input", "password"],
            "Password must not be the email address.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_uses_owasp_params_and_verifies() -> Result<(), PasswordError> {
        let pool = PasswordHasherPool::new(2);
        let h = pool.hash("correct horse battery".into()).await?;
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(pool.verify("correct horse battery".into(), Some(h.clone())).await?);
        assert!(!pool.verify("wrong".into(), Some(h)).await?);
        assert!(!pool.verify("anything".into(), None).await?);
        Ok(())
    }

    #[test]
    fn policy() {
        assert!(check_policy("short", "a@b.c").is_err());
        assert!(check_policy("a@b.example", "a@b.example").is_err());
        assert!(check_policy("long enough pass", "a@b.c").is_ok());
    }
}
