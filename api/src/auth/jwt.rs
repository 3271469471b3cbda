//! Access tokens: JWT (RFC 7519) following RFC 8725 and RFC 9068. One pinned algorithm
//! (HS256 with an HKDF-derived key: this server both issues and verifies), explicit
//! `typ: at+jwt`, and `exp`, `nbf`, `iat`, `iss`, `aud`, `sub` all required and checked
//! with a small leeway.

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use entity::enums::Role;

pub const ISSUER: &str = "shipgate";
pub const AUDIENCE: &str = "shipgate-api";
pub const TYP: &str = "at+jwt";
const ALG: Algorithm = Algorithm::HS256;
const LEEWAY_SECS: u64 = 30;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    /// User id.
    pub sub: Uuid,
    /// Organization (tenant) id.
    pub org: Uuid,
    pub role: Role,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub staff: bool,
    /// The user's token version: bumping it revokes every outstanding access token.
    pub ver: i32,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub jti: Uuid,
    /// The session (refresh-token family) the token was issued for: checked on each
    /// request, so ending the session ends its access tokens too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<Uuid>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("token expired")]
    Expired,
    #[error("token invalid")]
    Invalid,
}

pub struct JwtCodec {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl_secs: i64,
}

impl std::fmt::Debug for JwtCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtCodec").field("ttl_secs", &self.ttl_secs).finish_non_exhaustive()
    }
}

pub struct Issued {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

impl JwtCodec {
    pub fn new(key: &[u8; 32], ttl_secs: i64) -> Self {
        let mut validation = Validation::new(ALG);
        validation.algorithms = vec![ALG];
        validation.leeway = LEEWAY_SECS;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "nbf", "iat", "iss", "aud", "sub"]);
        Self { encoding: EncodingKey::from_secret(key), decoding: DecodingKey::from_secret(key), validation, ttl_secs }
    }

    pub fn issue(
        &self,
        user_id: Uuid,
        org: Uuid,
        role: Role,
        staff: bool,
        ver: i32,
        sid: Option<Uuid>,
    ) -> Result<Issued, jsonwebtoken::errors::Error> {
        let now = Utc::now();
        let exp = now + chrono::Duration::seconds(self.ttl_secs);
        let claims = Claims {
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            sub: user_id,
            org,
            role,
            staff,
            ver,
            iat: now.timestamp(),
            nbf: now.timestamp(),
            exp: exp.timestamp(),
            jti: Uuid::now_v7(),
            sid,
        };
        let mut header = Header::new(ALG);
        header.typ = Some(TYP.into());
        let token = jsonwebtoken::encode(&header, &claims, &self.encoding)?;
        Ok(Issued { token, expires_at: exp })
    }

    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        // The header is checked before the signature: `typ` must say this is an access
        // token (RFC 8725 §3.11), and `alg` must be the pinned one.
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Invalid)?;
        if header.alg != ALG || !header.typ.as_deref().is_some_and(|t| t.eq_ignore_ascii_case(TYP)) {
            return Err(TokenError::Invalid);
        }
        match jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation) {
            Ok(data) => Ok(data.claims),
            Err(e) if matches!(e.kind(), jsonwebtoken::errors::ErrorKind::ExpiredSignature) => Err(TokenError::Expired),
            Err(_) => Err(TokenError::Invalid),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

    fn codec() -> JwtCodec {
        JwtCodec::new(&[7u8; 32], 900)
    }

    fn forge(header: serde_json::Value, claims: serde_json::Value, key: &[u8]) -> String {
        use hmac::{Hmac, Mac};
        let h = URL_SAFE_NO_PAD.encode(header.to_string());
        let c = URL_SAFE_NO_PAD.encode(claims.to_string());
        let signing_input = format!("{h}.{c}");
        let mut mac = match Hmac::<sha2::Sha256>::new_from_slice(key) {
            Ok(m) => m,
            Err(_) => return String::new(),
        };
        mac.update(signing_input.as_bytes());
        format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
    }

    fn claims(now: i64, aud: &str) -> serde_json::Value {
        serde_json::json!({
            "iss": ISSUER, "aud": aud, "sub": Uuid::nil(), "org": Uuid::nil(), "role": "OWNER",
            "ver": 0, "iat": now, "nbf": now, "exp": now + 600, "jti": Uuid::nil()
        })
    }

    #[test]
    fn round_trip() {
        let c = codec();
        let issued = c.issue(Uuid::now_v7(), Uuid::now_v7(), Role::Admin, false, 3, None);
        let Ok(issued) = issued else { panic!("issue failed") };
        let claims = c.verify(&issued.token);
        assert!(matches!(claims, Ok(ref cl) if cl.role == Role::Admin && cl.ver == 3));
    }

    #[test]
    fn rejects_alg_none_wrong_aud_typ_and_expiry() {
        let c = codec();
        let now = Utc::now().timestamp();
        let good = forge(serde_json::json!({"alg":"HS256","typ":"at+jwt"}), claims(now, AUDIENCE), &[7u8; 32]);
        assert!(c.verify(&good).is_ok());

        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"at+jwt"}"#),
            URL_SAFE_NO_PAD.encode(claims(now, AUDIENCE).to_string())
        );
        assert_eq!(c.verify(&none), Err(TokenError::Invalid));

        let wrong_aud = forge(serde_json::json!({"alg":"HS256","typ":"at+jwt"}), claims(now, "other"), &[7u8; 32]);
        assert_eq!(c.verify(&wrong_aud), Err(TokenError::Invalid));

        let wrong_typ = forge(serde_json::json!({"alg":"HS256","typ":"JWT"}), claims(now, AUDIENCE), &[7u8; 32]);
        assert_eq!(c.verify(&wrong_typ), Err(TokenError::Invalid));

        let wrong_key = forge(serde_json::json!({"alg":"HS256","typ":"at+jwt"}), claims(now, AUDIENCE), &[8u8; 32]);
        assert_eq!(c.verify(&wrong_key), Err(TokenError::Invalid));

        let mut expired = claims(now - 3600, AUDIENCE);
        expired["exp"] = serde_json::json!(now - 600);
        let expired = forge(serde_json::json!({"alg":"HS256","typ":"at+jwt"}), expired, &[7u8; 32]);
        assert_eq!(c.verify(&expired), Err(TokenError::Expired));

        let mut future = claims(now, AUDIENCE);
        future["nbf"] = serde_json::json!(now + 600);
        let future = forge(serde_json::json!({"alg":"HS256","typ":"at+jwt"}), future, &[7u8; 32]);
        assert_eq!(c.verify(&future), Err(TokenError::Invalid));
    }
}
