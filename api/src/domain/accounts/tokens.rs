//! Access tokens for connector calls, refreshed before expiry. One refresh per account at
//! a time however many callers ask: an in-process async lock per account, then — inside a
//! write transaction that row-locks the account on PostgreSQL (`SELECT … FOR UPDATE`) and
//! on SQLite (one node) the in-process lock alone — the expiry is re-read, so a refresh
//! another process just made is reused instead of repeated.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use chrono::{Duration, Utc};
use entity::{account, enums::AccountStatus};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbBackend, EntityTrait, QuerySelect, Set};
use secrecy::SecretString;
use uuid::Uuid;

use super::{Accounts, Credentials};
use crate::{auth::vault::Sealed, connectors::ConnectorError, db::begin_write, error::DomainError};

/// Refresh when less than this remains.
const MARGIN_SECS: i64 = 120;

#[derive(Default)]
pub(super) struct RefreshLocks(Mutex<HashMap<Uuid, Arc<tokio::sync::Mutex<()>>>>);

impl RefreshLocks {
    fn for_account(&self, id: Uuid) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        map.entry(id).or_default().clone()
    }
}

/// Why a token could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("{0}")]
    Domain(#[from] DomainError),
    #[error(transparent)]
    Connector(#[from] ConnectorError),
    #[error("the account needs to be authorized again: {0}")]
    NeedsReauthorization(String),
}

fn sealed_of(a: &account::Model) -> Option<Sealed> {
    Some(Sealed {
        ciphertext: a.credentials_ciphertext.clone()?,
        nonce: a.credentials_nonce.clone()?,
        key_version: a.credentials_key_version?,
    })
}

impl Accounts {
    fn credentials(&self, a: &account::Model) -> Result<Credentials, TokenError> {
        let sealed =
            sealed_of(a).ok_or_else(|| TokenError::NeedsReauthorization("the account has no credentials".into()))?;
        Ok(Credentials::open(&self.vault, a.organization_id, a.id, &sealed)?)
    }

    /// A usable access token for `account_id`; `force` refreshes even if the stored one
    /// looks valid (the provider just refused it).
    pub async fn access_token(&self, account_id: Uuid, force: bool) -> Result<SecretString, TokenError> {
        let acc = account::Entity::find_by_id(account_id)
            .one(&self.db)
            .await
            .map_err(DomainError::from)?
            .ok_or(DomainError::NotFound)?;
        match acc.status {
            AccountStatus::Active => {}
            AccountStatus::NeedsReauthorization | AccountStatus::PendingAuthorization => {
                return Err(TokenError::NeedsReauthorization(
                    acc.last_sync_error.unwrap_or_else(|| "authorize the account first".into()),
                ));
            }
            AccountStatus::Disabled => {
                return Err(TokenError::Domain(DomainError::Conflict("the account is disabled".into())));
            }
        }
        let fresh = |a: &account::Model| {
            a.access_token_expires_at.is_some_and(|t| t - Utc::now() > Duration::seconds(MARGIN_SECS))
        };
        if !force
            && fresh(&acc)
            && let Some(t) = self.credentials(&acc)?.access_token
        {
            return Ok(t);
        }
        let stale_expiry = acc.access_token_expires_at;

        let lock = self.refresh_locks.for_account(account_id);
        let _guard = lock.lock().await;
        if self.db.get_database_backend() == DbBackend::Postgres {
            // Across replicas: the account row stays locked while this process refreshes.
            let txn = begin_write(&self.db).await.map_err(DomainError::from)?;
            let result = self.refresh_with(&txn, account_id, stale_expiry, true).await;
            txn.commit().await.map_err(DomainError::from)?;
            result
        } else {
            // SQLite runs on one node, where the in-process lock already serialises
            // refreshes; holding SQLite's single write lock across an HTTP call would stall
            // every other writer.
            self.refresh_with(&self.db, account_id, stale_expiry, false).await
        }
    }

    async fn refresh_with<C: ConnectionTrait>(
        &self,
        conn: &C,
        account_id: Uuid,
        stale_expiry: Option<chrono::DateTime<Utc>>,
        lock_row: bool,
    ) -> Result<SecretString, TokenError> {
        let fresh = |a: &account::Model| {
            a.access_token_expires_at.is_some_and(|t| t - Utc::now() > Duration::seconds(MARGIN_SECS))
        };
        let mut q = account::Entity::find_by_id(account_id);
        if lock_row {
            q = q.lock_exclusive();
        }
        let acc = q.one(conn).await.map_err(DomainError::from)?.ok_or(DomainError::NotFound)?;
        // Someone refreshed while we waited: use theirs.
        if fresh(&acc)
            && acc.access_token_expires_at != stale_expiry
            && let Some(t) = self.credentials(&acc)?.access_token
        {
            return Ok(t);
        }
        let creds = self.credentials(&acc)?;
        let refresh_token = creds
            .refresh_token
            .clone()
            .ok_or_else(|| TokenError::NeedsReauthorization("no refresh token stored".into()))?;
        let pc = self.platform(acc.platform)?.clone();
        let app = self.app_for(&acc, &creds)?;
        let result = tokio::time::timeout(std::time::Duration::from_secs(10), pc.auth.refresh(&app, &refresh_token))
            .await
            .unwrap_or_else(|_| Err(ConnectorError::Transient("token refresh timed out".into())));
        let tokens = match result {
            Ok(t) => t,
            Err(ConnectorError::AuthorizationInvalid(msg)) => {
                // Dead refresh token: stop retrying, ask for consent again.
                let message = format!("Authorization expired or was revoked; reauthorize the account. ({msg})");
                let mut active: account::ActiveModel = acc.into();
                active.status = Set(AccountStatus::NeedsReauthorization);
                active.last_sync_error = Set(Some(message.clone()));
                active.updated_at = Set(Utc::now());
                active.update(conn).await.map_err(DomainError::from)?;
                return Err(TokenError::NeedsReauthorization(message));
            }
            Err(e) => return Err(e.into()),
        };
        let updated = creds.with_tokens(&tokens);
        let sealed = updated.seal(&self.vault, acc.organization_id, acc.id)?;
        let refresh_expiry = tokens.refresh_expires_at.or(acc.refresh_token_expires_at);
        let mut active: account::ActiveModel = acc.into();
        active.credentials_ciphertext = Set(Some(sealed.ciphertext));
        active.credentials_nonce = Set(Some(sealed.nonce));
        active.credentials_key_version = Set(Some(sealed.key_version));
        active.access_token_expires_at = Set(Some(tokens.access_expires_at));
        active.refresh_token_expires_at = Set(refresh_expiry);
        active.updated_at = Set(Utc::now());
        active.update(conn).await.map_err(DomainError::from)?;
        tracing::info!(account = %account_id, "access token refreshed");
        Ok(tokens.access_token)
    }
}
