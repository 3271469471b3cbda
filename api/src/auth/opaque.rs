//! Opaque bearer secrets (refresh tokens, API keys): random, shown once, stored as a
//! SHA-256 hex digest. They carry 256 bits of entropy, so a fast hash is the right tool
//! (a slow password hash would add nothing but latency).

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

pub const REFRESH_PREFIX: &str = "sgr_";
pub const API_KEY_PREFIX: &str = "sgk_";

fn random_b64(len: usize) -> String {
    let mut bytes = vec![0u8; len];
    rand::fill(bytes.as_mut_slice());
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// Constant-time comparison of two hex digests.
pub fn digest_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// A new refresh token and its stored hash.
pub fn new_refresh_token() -> (String, String) {
    let token = format!("{REFRESH_PREFIX}{}", random_b64(32));
    let hash = sha256_hex(&token);
    (token, hash)
}

/// An API key: `sgk_<lookup id>_<secret>`. The lookup id is stored in clear (it finds the
/// row); only the hash of the secret is stored.
pub struct NewApiKey {
    pub key: String,
    pub lookup: String,
    pub secret_hash: String,
}

pub fn new_api_key() -> NewApiKey {
    let mut id = [0u8; 8];
    rand::fill(&mut id);
    let lookup = hex::encode(id);
    let secret = random_b64(32);
    NewApiKey { key: format!("{API_KEY_PREFIX}{lookup}_{secret}"), secret_hash: sha256_hex(&secret), lookup }
}

/// Splits a presented API key into (lookup id, secret).
pub fn parse_api_key(presented: &str) -> Option<(&str, &str)> {
    let rest = presented.strip_prefix(API_KEY_PREFIX)?;
    let (lookup, secret) = rest.split_once('_')?;
    (lookup.len() == 16 && lookup.bytes().all(|b| b.is_ascii_hexdigit()) && secret.len() >= 40)
        .then_some((lookup, secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_key_round_trip() {
        let k = new_api_key();
        let (lookup, secret) = parse_api_key(&k.key).unwrap_or_default();
        assert_eq!(lookup, k.lookup);
        assert!(digest_eq(&sha256_hex(secret), &k.secret_hash));
        assert!(parse_api_key("sgk_nothex_abc").is_none());
        assert!(parse_api_key("Bearer x").is_none());
    }

    #[test]
    fn refresh_tokens_are_unique_and_hashed() {
        let (a, ha) = new_refresh_token();
        let (b, hb) = new_refresh_token();
        assert_ne!(a, b);
        assert_ne!(ha, hb);
        assert_eq!(ha.len(), 64);
        assert!(!ha.contains(&a));
    }
}
