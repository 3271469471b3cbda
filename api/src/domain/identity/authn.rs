//! Bearer credential → [`Actor`]. Access tokens are checked cryptographically and then
//! against the user's current state (deactivation, token version, current role) and their
//! session (logged out or revoked), so a demotion, deactivation or logout takes effect on
//! the next request, not in 15 minutes (on this replica; on another within the auth
//! cache's two seconds, see `authn_cache`).

use chrono::{Duration, Utc};
use entity::{api_key, refresh_token, user};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect, sea_query::Expr};
use uuid::Uuid;

use super::{Identity, sessions::membership_in};
use crate::{
    auth::{
        Actor, Credential,
        jwt::TokenError,
        opaque::{self, API_KEY_PREFIX},
    },
    error::DomainError,
};

#[derive(Debug, thiserror::Error)]
pub enum AuthnError {
    #[error("the access token has expired")]
    Expired,
    #[error("the credential is invalid or revoked")]
    Invalid,
    #[error(transparent)]
    Internal(#[from] DomainError),
}

impl From<sea_orm::DbErr> for AuthnError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Internal(e.into())
    }
}

impl Identity {
    /// Verifies a presented bearer value: an API key (`sgk_…`) or a JWT access token.
    /// A credential verified in the last moments is answered from [`AuthCache`] (access
    /// tokens still have their signature and expiry checked on every request).
    ///
    /// [`AuthCache`]: super::authn_cache::AuthCache
    pub async fn authenticate(&self, bearer: &str) -> Result<Actor, AuthnError> {
        let claims = if bearer.starts_with(API_KEY_PREFIX) {
            None
        } else {
            Some(self.jwt.verify(bearer).map_err(|e| match e {
                TokenError::Expired => AuthnError::Expired,
                TokenError::Invalid => AuthnError::Invalid,
            })?)
        };
        let miss = match self.auth_cache.get(bearer) {
            Ok(actor) => return Ok(actor),
            Err(miss) => miss,
        };
        let actor = match claims {
            None => self.authenticate_api_key(bearer).await?,
            Some(claims) => self.authenticate_user(claims).await?,
        };
        let valid_until = actor.expires_at.map(|exp| {
            let left = u64::try_from(exp - Utc::now().timestamp()).unwrap_or(0);
            std::time::Instant::now() + std::time::Duration::from_secs(left)
        });
        self.auth_cache.put(miss, &actor, valid_until);
        Ok(actor)
    }

    async fn authenticate_user(&self, claims: crate::auth::jwt::Claims) -> Result<Actor, AuthnError> {
        let user = user::Entity::find_by_id(claims.sub).one(&self.db).await?.ok_or(AuthnError::Invalid)?;
        if user.deactivated_at.is_some() || user.token_version != claims.ver {
            return Err(AuthnError::Invalid);
        }
        // The session the token was issued for must still be live (not logged out, not
        // revoked for refresh-token reuse or deactivation).
        if let Some(sid) = claims.sid {
            let live = refresh_token::Entity::find()
                .select_only()
                .column(refresh_token::Column::Id)
                .filter(refresh_token::Column::FamilyId.eq(sid))
                .filter(refresh_token::Column::UserId.eq(user.id))
                .filter(refresh_token::Column::RevokedAt.is_null())
                .into_tuple::<Uuid>()
                .one(&self.db)
                .await?;
            if live.is_none() {
                return Err(AuthnError::Invalid);
            }
        }
        let membership = membership_in(&self.db, claims.org, user.id).await?.ok_or(AuthnError::Invalid)?;
        Ok(Actor::verified(
            claims.org,
            Credential::User { user_id: user.id },
            membership.role,
            user.is_staff,
            Some(claims.exp),
        ))
    }

    async fn authenticate_api_key(&self, presented: &str) -> Result<Actor, AuthnError> {
        let (lookup, secret) = opaque::parse_api_key(presented).ok_or(AuthnError::Invalid)?;
        let key = api_key::Entity::find()
            .filter(api_key::Column::Prefix.eq(lookup))
            .one(&self.db)
            .await?
            .ok_or(AuthnError::Invalid)?;
        if key.revoked_at.is_some() || !opaque::digest_eq(&opaque::sha256_hex(secret), &key.secret_hash) {
            return Err(AuthnError::Invalid);
        }
        // `last_used_at` is kept to the minute: one write per key per minute at most.
        let now = Utc::now();
        if key.last_used_at.is_none_or(|t| now - t > Duration::seconds(60)) {
            api_key::Entity::update_many()
                .col_expr(api_key::Column::LastUsedAt, Expr::value(now))
                .filter(api_key::Column::Id.eq(key.id))
                .exec(&self.db)
                .await?;
        }
        Ok(Actor::verified(key.organization_id, Credential::ApiKey { api_key_id: key.id }, key.role, false, None))
    }
}
