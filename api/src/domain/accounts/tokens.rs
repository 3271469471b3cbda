//! Access tokens for connector calls, refreshed before expiry, or after the provider
//! refused one our clock thought valid. One refresh per token version however many callers
//! ask: an in-process async lock per account, then — inside a write transaction that
//! row-locks the account on PostgreSQL (`SELECT … FOR UPDATE`) and on SQLite (one node) the
//! in-process lock alone — the stored token is read again, and if it is no longer the one
//! the caller saw (or was refused), someone else already refreshed it: it is reused.
//!
//! Also the domain's wrapper of provider calls ([`Accounts::provider_call`]): the circuit
//! breaker of the provider and account, whose opening and closing show on the account's
//! `lastSyncError`.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use chrono::{Duration, Utc};
use entity::{
    account,
    enums::{AccountStatus, Platform},
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, sea_query::Expr,
};
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use super::{Accounts, Credentials};
use crate::{
    auth::vault::Sealed,
    connectors::{
        ConnectorError,
        http::{Transition, provider_scope},
    },
    db::begin_write,
    error::DomainError,
};

/// Refresh when less than this remains.
const MARGIN_SECS: i64 = 120;

/// How an open breaker's note on the account starts (cleared when it closes again).
const BREAKER_NOTE: &str = "Provider unavailable, calls paused";

fn fresh(a: &account::Model) -> bool {
    a.access_token_expires_at.is_some_and(|t| t - Utc::now() > Duration::seconds(MARGIN_SECS))
}

/// The breaker's provider label of a platform (`/metrics`).
pub fn provider_name(p: Platform) -> &'static str {
    match p {
        Platform::Ebay => "ebay",
        Platform::Aliexpress => "aliexpress",
        Platform::Wish => "wish",
        Platform::Amazon => "amazon",
        Platform::Orangeconnex => "orangeconnex",
    }
}

#[derive(Default)]
pub(super) struct RefreshLocks(Mutex<HashMap<Uuid, Arc<tokio::sync::Mutex<()>>>>);

impl RefreshLocks {
    fn for_account(&self, id: Uuid) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        map.entry(id).or_default().clone()
    }
}

/// `lastSyncError` of an account whose stored credentials cannot be decrypted.
pub const UNREADABLE_CREDENTIALS: &str =
    "The stored credentials cannot be decrypted (secret key changed or data damaged); reauthorize the account.";

/// `lastSyncError` of an account (status unchanged) whose credentials this server cannot decrypt while
/// its secret key cannot decrypt most other accounts' credentials either: the key is
/// suspect, not the account. Cleared by the next server that opens them.
pub const KEY_MISMATCH: &str = "The stored credentials cannot be decrypted with this server's secret key, which cannot \
     decrypt most other accounts' credentials either: check SHIPGATE_SECRET_KEY on every server. The account stays \
     ACTIVE and works again once the key is right.";

/// How many other accounts' credentials are tried to tell a damaged row from a wrong key.
const KEY_WITNESSES: u64 = 20;

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

fn no_token() -> TokenError {
    TokenError::NeedsReauthorization("the provider returned no access token".into())
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
        Credentials::open(&self.vault, a.organization_id, a.id, &sealed)
            .map_err(|_| TokenError::NeedsReauthorization(UNREADABLE_CREDENTIALS.into()))
    }

    /// Credentials that cannot be decrypted never become readable by retrying: the caller
    /// gets the permanent error. Which one, and what the account says, depends on whether
    /// this server's secret key is to blame ([`Self::mark_unreadable`]). Credentials that
    /// open again clear a [`KEY_MISMATCH`] note.
    async fn ensure_readable(&self, acc: account::Model) -> Result<account::Model, TokenError> {
        let Some(sealed) = sealed_of(&acc) else { return Ok(acc) };
        if Credentials::open(&self.vault, acc.organization_id, acc.id, &sealed).is_ok() {
            if acc.last_sync_error.as_deref() == Some(KEY_MISMATCH) {
                self.clear_key_mismatch(acc.id).await;
            }
            return Ok(acc);
        }
        let note = self.mark_unreadable(acc.id, sealed.ciphertext).await?;
        Err(TokenError::NeedsReauthorization(note.into()))
    }

    /// The same for the synchronous paths that open credentials (`account_ref`, …): the
    /// account is marked in the background and the error is a permanent one (CONFLICT),
    /// never INTERNAL, so jobs stop retrying.
    pub(super) fn credentials_unreadable(&self, acc: &account::Model) -> DomainError {
        if let (Ok(rt), Some(sealed)) = (tokio::runtime::Handle::try_current(), sealed_of(acc)) {
            let (this, id) = (self.clone(), acc.id);
            rt.spawn(async move {
                if let Err(e) = this.mark_unreadable(id, sealed.ciphertext).await {
                    tracing::warn!(account = %id, error = %e, "could not record unreadable credentials on the account");
                }
            });
        }
        DomainError::Conflict(UNREADABLE_CREDENTIALS.into())
    }

    /// Records that account `id`'s credentials (still `ciphertext`) do not open, and returns
    /// the note written. If this server's key opens most other accounts' credentials, the
    /// key is right and the row is damaged (or copied from elsewhere): the account becomes
    /// NEEDS_REAUTHORIZATION with [`UNREADABLE_CREDENTIALS`] (unless its credentials were
    /// replaced meanwhile). Otherwise the key
    /// itself may be wrong (mistyped, rotated on this server only): the account keeps its
    /// status and gets the [`KEY_MISMATCH`] note, which a server with the right key clears,
    /// and the error is logged loudly. A deployment with no other credentials gives no
    /// evidence either way and is treated as a key mismatch.
    async fn mark_unreadable(&self, id: Uuid, ciphertext: Vec<u8>) -> Result<&'static str, DomainError> {
        let (opened, tried) = self.key_witnesses(id).await?;
        let key_right = opened * 2 > tried;
        let mut update = account::Entity::update_many()
            .filter(account::Column::Id.eq(id))
            .filter(account::Column::CredentialsCiphertext.eq(ciphertext));
        let note = if key_right {
            tracing::error!(account = %id, "stored credentials cannot be decrypted: account needs reauthorization");
            update = update
                .col_expr(account::Column::Status, Expr::value(AccountStatus::NeedsReauthorization))
                .col_expr(account::Column::UpdatedAt, Expr::value(Utc::now()));
            UNREADABLE_CREDENTIALS
        } else {
            tracing::error!(
                account = %id,
                opened,
                tried,
                "stored credentials cannot be decrypted, and this server's secret key opens only {opened} of {tried} \
                 other accounts' credentials: SHIPGATE_SECRET_KEY is probably wrong on this server; the account is \
                 left ACTIVE"
            );
            KEY_MISMATCH
        };
        update.col_expr(account::Column::LastSyncError, Expr::value(note)).exec(&self.db).await?;
        Ok(note)
    }

    /// Of up to [`KEY_WITNESSES`] other accounts' stored credentials (the most recently
    /// updated, any tenant: this is the server checking its own key), how many this
    /// server's key opens, and how many were tried. Credentials already marked unreadable
    /// are left out: they are known to be damaged.
    async fn key_witnesses(&self, except: Uuid) -> Result<(usize, usize), DomainError> {
        let others = account::Entity::find()
            .filter(account::Column::Id.ne(except))
            .filter(account::Column::CredentialsCiphertext.is_not_null())
            .filter(
                Condition::any()
                    .add(account::Column::LastSyncError.is_null())
                    .add(account::Column::LastSyncError.ne(UNREADABLE_CREDENTIALS)),
            )
            .order_by_desc(account::Column::UpdatedAt)
            .limit(KEY_WITNESSES)
            .all(&self.db)
            .await?;
        let opened = others
            .iter()
            .filter(|a| {
                sealed_of(a).is_some_and(|s| Credentials::open(&self.vault, a.organization_id, a.id, &s).is_ok())
            })
            .count();
        Ok((opened, others.len()))
    }

    async fn clear_key_mismatch(&self, id: Uuid) {
        let cleared = account::Entity::update_many()
            .col_expr(account::Column::LastSyncError, Expr::value(Option::<String>::None))
            .filter(account::Column::Id.eq(id))
            .filter(account::Column::LastSyncError.eq(KEY_MISMATCH))
            .exec(&self.db)
            .await;
        if let Err(e) = cleared {
            tracing::warn!(account = %id, error = %e, "could not clear the key mismatch note");
        }
    }

    /// A usable access token for `account_id`; `force` refreshes unless the stored token
    /// changed since this call read it (prefer [`Self::access_token_after_rejection`], which
    /// names the token the provider refused).
    pub async fn access_token(&self, account_id: Uuid, force: bool) -> Result<SecretString, TokenError> {
        let acc = self.active_account(account_id).await?;
        let stored = self.credentials(&acc)?.access_token;
        if !force
            && fresh(&acc)
            && let Some(t) = stored
        {
            return Ok(t);
        }
        self.refresh_single_flight(account_id, stored.as_ref(), true).await?.ok_or_else(no_token)
    }

    /// A token to retry with after the provider refused `rejected` (HTTP 401, expired on
    /// its side while our clock thought it valid): the first caller refreshes, everyone else
    /// holding the same rejected token waits for that refresh and reuses its result.
    pub async fn access_token_after_rejection(
        &self,
        account_id: Uuid,
        rejected: &SecretString,
    ) -> Result<SecretString, TokenError> {
        self.active_account(account_id).await?;
        self.refresh_single_flight(account_id, Some(rejected), true).await?.ok_or_else(no_token)
    }

    /// After the provider said `revoked` was revoked: the token stored since, if another
    /// caller's refresh replaced it (a refresh revokes the previous access token at some
    /// providers, Wish among them), waiting for a refresh in flight; `None` if `revoked` is
    /// still the stored one (the authorization itself is gone: no refresh is attempted).
    pub async fn newer_access_token(
        &self,
        account_id: Uuid,
        revoked: &SecretString,
    ) -> Result<Option<SecretString>, TokenError> {
        self.active_account(account_id).await?;
        self.refresh_single_flight(account_id, Some(revoked), false).await
    }

    async fn active_account(&self, account_id: Uuid) -> Result<account::Model, TokenError> {
        let acc = account::Entity::find_by_id(account_id)
            .one(&self.db)
            .await
            .map_err(DomainError::from)?
            .ok_or(DomainError::NotFound)?;
        match acc.status {
            AccountStatus::Active => self.ensure_readable(acc).await,
            AccountStatus::NeedsReauthorization | AccountStatus::PendingAuthorization => {
                Err(TokenError::NeedsReauthorization(
                    acc.last_sync_error.unwrap_or_else(|| "authorize the account first".into()),
                ))
            }
            AccountStatus::Disabled => Err(TokenError::Domain(DomainError::Conflict("the account is disabled".into()))),
        }
    }

    /// The stored token if it is no longer `stale` (the version the caller saw or was
    /// refused), else a refreshed one (`None` when `refresh` is false); one caller at a time
    /// per account.
    async fn refresh_single_flight(
        &self,
        account_id: Uuid,
        stale: Option<&SecretString>,
        refresh: bool,
    ) -> Result<Option<SecretString>, TokenError> {
        let lock = self.refresh_locks.for_account(account_id);
        let _guard = lock.lock().await;
        if self.db.get_database_backend() == DbBackend::Postgres {
            // Across replicas: the account row stays locked while this process refreshes.
            let txn = begin_write(&self.db).await.map_err(DomainError::from)?;
            let result = self.refresh_with(&txn, account_id, stale, refresh, true).await;
            txn.commit().await.map_err(DomainError::from)?;
            result
        } else {
            // SQLite runs on one node, where the in-process lock already serialises
            // refreshes; holding SQLite's single write lock across an HTTP call would stall
            // every other writer.
            self.refresh_with(&self.db, account_id, stale, refresh, false).await
        }
    }

    async fn refresh_with<C: ConnectionTrait>(
        &self,
        conn: &C,
        account_id: Uuid,
        stale: Option<&SecretString>,
        refresh: bool,
        lock_row: bool,
    ) -> Result<Option<SecretString>, TokenError> {
        let mut q = account::Entity::find_by_id(account_id);
        if lock_row {
            q = q.lock_exclusive();
        }
        let acc = q.one(conn).await.map_err(DomainError::from)?.ok_or(DomainError::NotFound)?;
        // Someone refreshed while we waited (this process or another): use theirs.
        if let Some(current) = self.credentials(&acc)?.access_token
            && stale.is_none_or(|s| s.expose_secret() != current.expose_secret())
        {
            return Ok(Some(current));
        }
        if !refresh {
            return Ok(None);
        }
        let creds = self.credentials(&acc)?;
        let refresh_token = creds
            .refresh_token
            .clone()
            .ok_or_else(|| TokenError::NeedsReauthorization("no refresh token stored".into()))?;
        let pc = self.platform(acc.platform)?.clone();
        let app = self.app_for(&acc, &creds)?;
        // Under the caller's breaker scope ([`Self::provider_call`]), if any; the row lock
        // held here on PostgreSQL is why the breaker's note is written by the caller, after.
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
        Ok(Some(tokens.access_token))
    }
}

impl Accounts {
    /// Runs `f` (connector calls for account `account_id` of `platform`) under the circuit
    /// breaker of that provider and account: while it is open, calls fail fast with
    /// [`ConnectorError::Transient`] without reaching the provider. When it opens, the
    /// account's `lastSyncError` says so (and until when); when a probe closes it, that note
    /// is cleared.
    pub async fn provider_call<F: std::future::Future>(&self, account_id: Uuid, platform: Platform, f: F) -> F::Output {
        let (out, transition) = provider_scope(provider_name(platform), account_id.to_string(), f).await;
        self.show_breaker(account_id, transition).await;
        out
    }

    async fn show_breaker(&self, account_id: Uuid, transition: Option<Transition>) {
        let result = match transition {
            None => return,
            Some(Transition::Opened { until, failures, last_error }) => {
                let message = format!(
                    "{BREAKER_NOTE} until {} UTC after {failures} consecutive failures (circuit open; last error: {last_error}).",
                    until.format("%Y-%m-%d %H:%M:%S")
                );
                self.record_sync_error(account_id, &message, None).await
            }
            Some(Transition::Closed) => account::Entity::update_many()
                .col_expr(account::Column::LastSyncError, Expr::value(Option::<String>::None))
                .filter(account::Column::Id.eq(account_id))
                .filter(account::Column::LastSyncError.starts_with(BREAKER_NOTE))
                .exec(&self.db)
                .await
                .map(|_| ())
                .map_err(DomainError::from),
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, "could not record the provider's circuit state on the account");
        }
    }
}
