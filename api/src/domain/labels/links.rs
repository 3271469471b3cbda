//! Signed, expiring download links for printed label files: the token carries the file id
//! and its expiry, authenticated with HMAC-SHA256 under the purpose-bound "download-links"
//! key. Whoever holds the link can download until it expires (a warehouse printer needs no
//! login); a tampered, truncated or expired token is simply not found.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, TimeZone, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use uuid::Uuid;

/// Bytes of the MAC kept in the token (128 bits).
const TAG: usize = 16;

#[derive(Clone)]
pub struct Links {
    key: [u8; 32],
    /// Domain separation: a token for one kind of file is no token for another.
    purpose: &'static [u8],
}

impl std::fmt::Debug for Links {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Links([REDACTED])")
    }
}

impl Links {
    pub fn new(key: [u8; 32]) -> Self {
        Self { key, purpose: b"label-file\0" }
    }

    /// The same key for another kind of file (e.g. `b"inbound-file\0"`).
    pub fn with_purpose(mut self, purpose: &'static [u8]) -> Self {
        self.purpose = purpose;
        self
    }

    fn tag(&self, body: &[u8]) -> Option<[u8; TAG]> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).ok()?;
        mac.update(self.purpose);
        mac.update(body);
        let full = mac.finalize().into_bytes();
        let mut out = [0u8; TAG];
        out.copy_from_slice(&full[..TAG]);
        Some(out)
    }

    /// A token for file `id` valid until `expires`.
    pub fn sign(&self, id: Uuid, expires: DateTime<Utc>) -> String {
        let mut body = Vec::with_capacity(24 + TAG);
        body.extend_from_slice(id.as_bytes());
        body.extend_from_slice(&expires.timestamp().to_be_bytes());
        let tag = self.tag(&body).unwrap_or([0; TAG]);
        body.extend_from_slice(&tag);
        URL_SAFE_NO_PAD.encode(body)
    }

    /// The file id, when `token` is authentic and not expired at `now`.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Option<Uuid> {
        let raw = URL_SAFE_NO_PAD.decode(token).ok()?;
        if raw.len() != 24 + TAG {
            return None;
        }
        let (body, tag) = raw.split_at(24);
        let expected = self.tag(body)?;
        if !bool::from(expected.ct_eq(tag)) {
            return None;
        }
        let secs = i64::from_be_bytes(body[16..24].try_into().ok()?);
        let expires = Utc.timestamp_opt(secs, 0).single()?;
        if expires <= now {
            return None;
        }
        Uuid::from_slice(&body[..16]).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_verify_tamper_expire() {
        let links = Links::new([7; 32]);
        let id = Uuid::now_v7();
        let now = Utc::now();
        let t = links.sign(id, now + chrono::Duration::minutes(10));
        assert_eq!(links.verify(&t, now), Some(id));
        // Expired.
        assert_eq!(links.verify(&t, now + chrono::Duration::minutes(11)), None);
        // Another key.
        assert_eq!(Links::new([8; 32]).verify(&t, now), None);
        // Any flipped character.
        for i in 0..t.len() {
            let mut b = t.clone().into_bytes();
            b[i] = if b[i] == b'A' { b'B' } else { b'A' };
            let s = String::from_utf8(b).unwrap();
            if s != t {
                assert_eq!(links.verify(&s, now), None, "position {i}");
            }
        }
        // Truncated and garbage.
        assert_eq!(links.verify(&t[..t.len() - 2], now), None);
        assert_eq!(links.verify("not a token", now), None);
    }
}
