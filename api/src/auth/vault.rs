//! Third-party credentials at rest: AES-256-GCM with a random 96-bit nonce and
//! associated data binding the ciphertext to its tenant, account and purpose, so a
//! ciphertext copied into another tenant's (or account's) row fails to decrypt.
//!
//! The key is derived from the master secret (see [`super::keys`]) and versioned: rows
//! record the key version they were sealed with, so a rotated master key can keep old
//! versions for opening while sealing with the new one.

use aes_gcm::{
    Aes256Gcm, Key, Nonce,
    aead::{Aead, KeyInit, Payload},
};
use secrecy::{ExposeSecret, SecretBox};
use uuid::Uuid;

pub const KEY_VERSION: i32 = 1;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VaultError {
    /// Wrong key, wrong tenant/account binding, or tampered data: indistinguishable by design.
    #[error("credential ciphertext cannot be opened")]
    Open,
    #[error("unknown credential key version {0}")]
    UnknownVersion(i32),
    #[error("credential encryption failed")]
    Seal,
}

/// A sealed value as stored in the row.
#[derive(Clone, PartialEq, Eq)]
pub struct Sealed {
    pub ciphertext: Vec<u8>,
    pub nonce: Vec<u8>,
    pub key_version: i32,
}

impl std::fmt::Debug for Sealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealed").field("len", &self.ciphertext.len()).field("key_version", &self.key_version).finish()
    }
}

pub struct Vault {
    key: SecretBox<[u8; 32]>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vault([REDACTED])")
    }
}

/// Associated data: the key version the row was sealed with, tenant, account, purpose.
fn aad(version: i32, tenant: Uuid, account: Uuid, purpose: &str) -> Vec<u8> {
    format!("shipgate/credentials/v{version}|{tenant}|{account}|{purpose}").into_bytes()
}

impl Vault {
    pub fn new(key: &[u8; 32]) -> Self {
        Self { key: SecretBox::new(Box::new(*key)) }
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(self.key.expose_secret()))
    }

    pub fn seal(&self, tenant: Uuid, account: Uuid, purpose: &str, plaintext: &[u8]) -> Result<Sealed, VaultError> {
        let mut nonce = [0u8; 12];
        rand::fill(&mut nonce);
        let ciphertext = self
            .cipher()
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload { msg: plaintext, aad: &aad(KEY_VERSION, tenant, account, purpose) },
            )
            .map_err(|_| VaultError::Seal)?;
        Ok(Sealed { ciphertext, nonce: nonce.to_vec(), key_version: KEY_VERSION })
    }

    pub fn open(&self, tenant: Uuid, account: Uuid, purpose: &str, sealed: &Sealed) -> Result<Vec<u8>, VaultError> {
        if sealed.key_version != KEY_VERSION {
            return Err(VaultError::UnknownVersion(sealed.key_version));
        }
        if sealed.nonce.len() != 12 {
            return Err(VaultError::Open);
        }
        self.cipher()
            .decrypt(
                Nonce::from_slice(&sealed.nonce),
                Payload { msg: &sealed.ciphertext, aad: &aad(sealed.key_version, tenant, account, purpose) },
            )
            .map_err(|_| VaultError::Open)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binds_tenant_account_and_purpose() -> Result<(), VaultError> {
        let v = Vault::new(&[9u8; 32]);
        let (t, a) = (Uuid::now_v7(), Uuid::now_v7());
        let sealed = v.seal(t, a, "marketplace", b"refresh-token-value")?;
        assert!(!sealed.ciphertext.windows(5).any(|w| w == b"fresh"));
        assert_eq!(v.open(t, a, "marketplace", &sealed)?, b"refresh-token-value");
        // Moved to another tenant's or account's row, or used for another purpose: refused.
        assert_eq!(v.open(Uuid::now_v7(), a, "marketplace", &sealed), Err(VaultError::Open));
        assert_eq!(v.open(t, Uuid::now_v7(), "marketplace", &sealed), Err(VaultError::Open));
        assert_eq!(v.open(t, a, "other", &sealed), Err(VaultError::Open));
        // Tampered tag or body.
        let mut bad = sealed.clone();
        if let Some(last) = bad.ciphertext.last_mut() {
            *last ^= 1;
        }
        assert_eq!(v.open(t, a, "marketplace", &bad), Err(VaultError::Open));
        // Another key.
        assert_eq!(Vault::new(&[8u8; 32]).open(t, a, "marketplace", &sealed), Err(VaultError::Open));
        // Nonces are fresh.
        assert_ne!(v.seal(t, a, "marketplace", b"x")?.nonce, v.seal(t, a, "marketplace", b"x")?.nonce);
        Ok(())
    }
}
