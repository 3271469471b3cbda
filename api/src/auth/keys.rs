//! Purpose-bound sub-keys derived from the master secret with HKDF-SHA256, so the JWT
//! key, the credential-encryption key and the download-link key never coincide.

use hkdf::Hkdf;
use secrecy::{ExposeSecret, SecretBox, SecretString};
use sha2::Sha256;

pub struct Keys {
    jwt: SecretBox<[u8; 32]>,
    credentials: SecretBox<[u8; 32]>,
    links: SecretBox<[u8; 32]>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys([REDACTED])")
    }
}

impl Keys {
    pub fn derive(master: &SecretString) -> Self {
        let hk = Hkdf::<Sha256>::new(Some(b"shipgate/v1"), master.expose_secret().as_bytes());
        let derive = |info: &[u8]| {
            let mut okm = Box::new([0u8; 32]);
            // 32 bytes is always a valid HKDF-SHA256 output length.
            if hk.expand(info, okm.as_mut_slice()).is_err() {
                unreachable_len();
            }
            SecretBox::new(okm)
        };
        Self {
            jwt: derive(b"jwt-hs256"),
            credentials: derive(b"credentials-aes256gcm"),
            links: derive(b"download-links"),
        }
    }

    pub fn jwt(&self) -> &[u8; 32] {
        self.jwt.expose_secret()
    }
    pub fn credentials(&self) -> &[u8; 32] {
        self.credentials.expose_secret()
    }
    pub fn links(&self) -> &[u8; 32] {
        self.links.expose_secret()
    }
}

#[cold]
fn unreachable_len() {
    tracing::error!("HKDF refused a 32-byte output; keys left zeroed");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subkeys_differ_and_are_stable() {
        let a = Keys::derive(&SecretString::from("x".repeat(40)));
        let b = Keys::derive(&SecretString::from("x".repeat(40)));
        assert_eq!(a.jwt(), b.jwt());
        assert_ne!(a.jwt(), a.credentials());
        assert_ne!(a.credentials(), a.links());
        assert_ne!(a.jwt(), &[0u8; 32]);
    }
}
