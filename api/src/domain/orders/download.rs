//! Order download for one account: pages from the account's watermark, upserts each page
//! in its own transaction together with the resume cursor, so a crash resumes at the
//! next page; the watermark advances only when the whole run has committed.

use chrono::{DateTime, Duration, Utc};
use entity::{account, enums::AccountStatus};
use futures_util::future::BoxFuture;
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::ingest::{IngestCounts, upsert_page};
use crate::{
    connectors::ConnectorError,
    db::begin_write,
    domain::accounts::{Accounts, TokenError},
    error::DomainError,
};

pub const JOB_KIND: &str = "orders.download";

/// How far back a first download looks.
pub const FIRST_DOWNLOAD_DAYS: i64 = 30;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DownloadPayload {
    pub account_id: Uuid,
    /// Override the watermark (re-download from this instant).
    pub since: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DownloadProgress {
    pub pages: u64,
    #[serde(flatten)]
    pub counts: IngestCounts,
    pub done: bool,
}

/// How a download ended badly.
#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    /// Try again later (network, rate limit, database hiccup).
    #[error("{0}")]
    Retry(String),
    /// Retrying cannot help until someone acts (reauthorize, provider bug).
    #[error("{0}")]
    Fail(String),
}

impl From<DomainError> for DownloadError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Internal(c) => DownloadError::Retry(c.to_string()),
            other => DownloadError::Fail(other.to_string()),
        }
    }
}

impl From<TokenError> for DownloadError {
    fn from(e: TokenError) -> Self {
        match e {
            TokenError::NeedsReauthorization(m) => DownloadError::Fail(m),
            TokenError::Connector(c) if c.is_retryable() => DownloadError::Retry(c.to_string()),
            TokenError::Connector(c) => DownloadError::Fail(c.to_string()),
            TokenError::Domain(d) => d.into(),
        }
    }
}

impl From<sea_orm::DbErr> for DownloadError {
    fn from(e: sea_orm::DbErr) -> Self {
        DownloadError::Retry(e.to_string())
    }
}

/// Receives progress after every committed page (and once more when done).
pub trait ProgressSink: Send + Sync {
    fn report<'a>(&'a self, progress: &'a DownloadProgress) -> BoxFuture<'a, ()>;
}

pub async fn run(
    db: &DatabaseConnection,
    accounts: &Accounts,
    payload: &DownloadPayload,
    sink: &dyn ProgressSink,
) -> Result<DownloadProgress, DownloadError> {
    let acc = account::Entity::find_by_id(payload.account_id)
        .one(db)
        .await?
        .ok_or_else(|| DownloadError::Fail("account not found".into()))?;
    if acc.status != AccountStatus::Active {
        return Err(DownloadError::Fail(format!("account is {:?}; nothing downloaded", acc.status)));
    }
    // Facts read when the account connected (Amazon's marketplaces, the eBay username),
    // tried again while missing.
    let acc = if Accounts::facts_missing(&acc) { accounts.read_facts(acc).await } else { acc };
    let connector = accounts.connector(acc.platform)?;
    let account_ref = accounts.account_ref(&acc)?;
    let since =
        payload.since.or(acc.sync_watermark).unwrap_or_else(|| Utc::now() - Duration::days(FIRST_DOWNLOAD_DAYS));
    // Resume an interrupted run where it stopped (unless a new `since` was asked for).
    let cursor = if payload.since.is_none() { acc.sync_cursor.clone() } else { None };
    let mut newest = acc.sync_watermark;
    let mut progress = DownloadProgress::default();
    let started = Utc::now();

    let fetch = |cursor: Option<String>| {
        let (accounts, connector, account_ref, account_id) =
            (accounts.clone(), connector.clone(), account_ref.clone(), acc.id);
        let platform = acc.platform;
        tokio::spawn(async move {
            fetch_page(&accounts, &*connector, &account_ref, (account_id, platform), since, cursor).await
        })
    };
    let result: Result<(), DownloadError> = async {
        let mut pending = fetch(cursor);
        loop {
            let page = match pending.await {
                Ok(Ok(p)) => p,
                Ok(Err(FetchFailure::Token(e))) => return Err(e.into()),
                Ok(Err(FetchFailure::Connector(e))) => return Err(connector_failure(accounts, acc.id, e).await),
                Err(e) => return Err(DownloadError::Retry(format!("page fetch stopped: {e}"))),
            };
            // The next page is fetched while this one is written (the cursor saved with
            // each page is still that page's own, so a crash resumes exactly).
            let next = page.next.clone().map(|n| fetch(Some(n)));
            let counts = match write_page(db, &acc, &page).await {
                Ok(c) => c,
                Err(e) => {
                    if let Some(h) = next {
                        h.abort();
                    }
                    return Err(e);
                }
            };
            progress.pages += 1;
            progress.counts += counts;
            if let Some(max) = page.orders.iter().map(|o| o.updated_at).max() {
                newest = Some(newest.map_or(max, |n| n.max(max)));
            }
            sink.report(&progress).await;
            match next {
                Some(h) => pending = h,
                None => break Ok(()),
            }
        }
    }
    .await;
    if let Err(DownloadError::Fail(_)) = &result {
        // A cursor that led to a permanent failure must not poison the next run.
        account::Entity::update_many()
            .col_expr(account::Column::SyncCursor, sea_orm::sea_query::Expr::value(Option::<String>::None))
            .filter(account::Column::Id.eq(acc.id))
            .exec(db)
            .await?;
    }
    result?;

    let fresh = account::Entity::find_by_id(acc.id)
        .one(db)
        .await?
        .ok_or_else(|| DownloadError::Fail("account deleted".into()))?;
    let mut active: account::ActiveModel = fresh.into();
    // Providers do not page in update order (offsets, page numbers, tokens): an order
    // changed during this run may sit on a page already read. Never move the watermark
    // past the run's start (minus a margin); ingest is idempotent, so overlap is free.
    let cap = started - Duration::minutes(10);
    active.sync_watermark = Set(Some(newest.map_or(since, |n| n.min(cap)).max(since)));
    active.sync_cursor = Set(None);
    active.last_synced_at = Set(Some(Utc::now()));
    active.last_sync_error = Set(None);
    active.updated_at = Set(Utc::now());
    active.update(db).await?;
    progress.done = true;
    sink.report(&progress).await;
    Ok(progress)
}

enum FetchFailure {
    Token(TokenError),
    Connector(ConnectorError),
}

/// One page, refreshing the token once if the platform refused it mid-download, under the
/// circuit breaker of the platform and account.
async fn fetch_page(
    accounts: &Accounts,
    connector: &dyn crate::connectors::marketplace::Marketplace,
    account_ref: &crate::connectors::marketplace::AccountRef,
    (account_id, platform): (Uuid, entity::enums::Platform),
    since: DateTime<Utc>,
    cursor: Option<String>,
) -> Result<crate::connectors::marketplace::OrderPage, FetchFailure> {
    accounts
        .provider_call(account_id, platform, async {
            let mut token = accounts.access_token(account_id, false).await.map_err(FetchFailure::Token)?;
            let mut refreshed = false;
            loop {
                match connector.fetch_orders(&token, account_ref, since, cursor.as_deref()).await {
                    Ok(p) => return Ok(p),
                    Err(ConnectorError::Unauthorized(_)) if !refreshed => {
                        refreshed = true;
                        token = accounts
                            .access_token_after_rejection(account_id, &token)
                            .await
                            .map_err(FetchFailure::Token)?;
                    }
                    // Revoked by another caller's refresh (Wish): the token stored since.
                    Err(e @ ConnectorError::AuthorizationInvalid(_)) if !refreshed => {
                        refreshed = true;
                        match accounts.newer_access_token(account_id, &token).await.map_err(FetchFailure::Token)? {
                            Some(newer) => token = newer,
                            None => return Err(FetchFailure::Connector(e)),
                        }
                    }
                    Err(e) => return Err(FetchFailure::Connector(e)),
                }
            }
        })
        .await
}

/// One page and its resume cursor, in one transaction.
async fn write_page(
    db: &DatabaseConnection,
    acc: &account::Model,
    page: &crate::connectors::marketplace::OrderPage,
) -> Result<IngestCounts, DownloadError> {
    let txn = begin_write(db).await?;
    let counts = upsert_page(&txn, acc.organization_id, acc.id, acc.platform, &page.orders).await?;
    account::Entity::update_many()
        .col_expr(account::Column::SyncCursor, sea_orm::sea_query::Expr::value(page.next.clone()))
        .filter(account::Column::Id.eq(acc.id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(counts)
}

async fn connector_failure(accounts: &Accounts, account_id: Uuid, e: ConnectorError) -> DownloadError {
    let (status, retry) = match &e {
        ConnectorError::AuthorizationInvalid(_) | ConnectorError::Unauthorized(_) => {
            (Some(AccountStatus::NeedsReauthorization), false)
        }
        ConnectorError::Transient(_) | ConnectorError::RateLimited { .. } => (None, true),
        ConnectorError::Rejected { .. } | ConnectorError::Decode(_) => (None, false),
    };
    let message = match &e {
        ConnectorError::AuthorizationInvalid(m) | ConnectorError::Unauthorized(m) => {
            format!("Authorization expired or was revoked; reauthorize the account. ({m})")
        }
        other => other.to_string(),
    };
    if let Err(db) = accounts.record_sync_error(account_id, &message, status).await {
        tracing::warn!(error = %db, "could not record the sync error");
    }
    if retry { DownloadError::Retry(message) } else { DownloadError::Fail(message) }
}
