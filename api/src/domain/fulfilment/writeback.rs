//! 回写单号: telling the marketplace an order shipped, with its tracking number. Always a
//! durable job (enqueued in the mark-shipped transaction, one per order, de-duplicated by
//! key), so a crash or an outage only delays it. `writeBackStatus` goes PENDING → WRITTEN,
//! or FAILED with the marketplace's message once retrying cannot help (revoked
//! authorization, a refusal, attempts exhausted); `retryWriteBack` queues it again.
//!
//! The carrier sent is the channel's identifier for the order's marketplace
//! (`channels::carriers`); without one the write-back fails with `CARRIER_NOT_MAPPED`
//! and no call is made. A write whose outcome is unknown (timeout, 5xx, dropped
//! connection) is never resent blindly: the next attempt reads the marketplace's record
//! of the order's shipments first, and if the tracking number is there, it is WRITTEN.

use chrono::Utc;
use entity::{
    account,
    enums::{AccountStatus, WriteBackStatus},
    order, order_item,
};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, sea_query::Expr};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    connectors::{ConnectorError, marketplace::Shipment},
    domain::{
        accounts::{Accounts, tokens::TokenError},
        audit::{self, By},
        channels::carriers::{Carriers, Resolved},
    },
    error::{DomainResult, UserErrorCode},
    events::EventBus,
    jobs::{NewJob, queue},
};

pub const JOB_KIND: &str = "orders.write_back";
pub const MAX_ATTEMPTS: i32 = 8;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WriteBackPayload {
    pub order_id: Uuid,
}

/// One write-back job per order (keyed, so an order already queued is not queued twice).
pub async fn enqueue_many(db: &impl ConnectionTrait, org: Uuid, order_ids: &[Uuid]) -> DomainResult<()> {
    let jobs = order_ids.iter().map(|id| {
        let mut job = NewJob::new(JOB_KIND, Some(org), serde_json::json!(WriteBackPayload { order_id: *id }))
            .key(format!("{JOB_KIND}:{id}"));
        job.max_attempts = MAX_ATTEMPTS;
        job
    });
    queue::enqueue_many(db, jobs.collect()).await
}

pub async fn enqueue(db: &impl ConnectionTrait, org: Uuid, order_id: Uuid) -> DomainResult<()> {
    let payload = serde_json::json!(WriteBackPayload { order_id });
    let mut job = NewJob::new(JOB_KIND, Some(org), payload).key(format!("{JOB_KIND}:{order_id}"));
    job.max_attempts = MAX_ATTEMPTS;
    queue::enqueue(db, job).await?;
    Ok(())
}

/// How a write-back attempt ended, for the job runner.
#[derive(Debug)]
pub enum Outcome {
    /// Written, or nothing left to do (already written, order no longer pending).
    Done,
    /// Worth another attempt later; the message is kept on the order meanwhile.
    Retry(String),
    /// Recorded as FAILED.
    Failed(String),
}

/// One attempt by job `job_id`. `last_attempt`: a retryable failure is recorded as FAILED
/// instead. A final outcome frees the job's key in the same transaction, so a
/// `retryWriteBack` right after it queues a new job rather than finding this one.
pub async fn run(
    db: &DatabaseConnection,
    bus: &EventBus,
    accounts: &Accounts,
    carriers: &Carriers,
    job_id: Uuid,
    order_id: Uuid,
    last_attempt: bool,
) -> DomainResult<Outcome> {
    let Some(o) = order::Entity::find_by_id(order_id).one(db).await? else { return Ok(Outcome::Done) };
    if o.write_back_status != WriteBackStatus::Pending {
        return Ok(Outcome::Done);
    }
    let attempt = attempt(db, accounts, carriers, &o).await;
    let (status, message, done, code) = match &attempt {
        Ok(reference) => (WriteBackStatus::Written, None, Some(reference.clone()), None),
        Err(f) if f.retryable && !last_attempt => (WriteBackStatus::Pending, Some(f.message.clone()), None, None),
        Err(f) => (WriteBackStatus::Failed, Some(f.message.clone()), None, Some(f.code)),
    };
    let now = Utc::now();
    let text = match (&status, &message, &done) {
        (WriteBackStatus::Written, _, Some(r)) => format!("Tracking number written back to {:?} ({r}).", o.platform),
        (WriteBackStatus::Pending, Some(m), _) => format!("Write-back will be retried: {m}"),
        (_, Some(m), _) => format!("Write-back failed: {m}"),
        _ => String::new(),
    };
    let txn = crate::db::begin_write(db).await?;
    let res = order::Entity::update_many()
        .col_expr(order::Column::WriteBackStatus, Expr::value(status))
        .col_expr(order::Column::WriteBackError, Expr::value(message.clone()))
        .col_expr(order::Column::WriteBackErrorCode, Expr::value(code.map(UserErrorCode::as_str)))
        .col_expr(order::Column::LastOperationMessage, Expr::value(text))
        .col_expr(order::Column::UpdatedAt, Expr::value(now))
        .filter(order::Column::Id.eq(o.id))
        .filter(order::Column::WriteBackStatus.eq(WriteBackStatus::Pending))
        .exec(&txn)
        .await?;
    if status != WriteBackStatus::Pending {
        queue::release_key(&txn, job_id).await?;
    }
    let mut events = Vec::new();
    if res.rows_affected == 1 && status != WriteBackStatus::Pending {
        let action =
            if status == WriteBackStatus::Written { "order.write_back_written" } else { "order.write_back_failed" };
        events.push(
            audit::record(
                &txn,
                o.organization_id,
                By::System,
                action,
                "Order",
                Some(o.id),
                Some(
                    serde_json::json!({ "reference": done, "error": message, "code": code.map(UserErrorCode::as_str) }),
                ),
            )
            .await?,
        );
    }
    txn.commit().await?;
    bus.publish_all(events);
    Ok(match (status, message) {
        (WriteBackStatus::Pending, Some(m)) => Outcome::Retry(m),
        (WriteBackStatus::Failed, Some(m)) => Outcome::Failed(m),
        _ => Outcome::Done,
    })
}

/// Why an attempt did not write: the message kept on the order, whether another attempt
/// may help, and the typed code recorded when it fails for good.
#[derive(Debug)]
struct Failure {
    message: String,
    retryable: bool,
    code: UserErrorCode,
}

impl Failure {
    fn retry(message: impl Into<String>) -> Self {
        Self { message: message.into(), retryable: true, code: UserErrorCode::ProviderUnavailable }
    }
    fn fail(code: UserErrorCode, message: impl Into<String>) -> Self {
        Self { message: message.into(), retryable: false, code }
    }
    fn connector(e: &ConnectorError) -> Self {
        match e {
            ConnectorError::AuthorizationInvalid(_) | ConnectorError::Unauthorized(_) => {
                Self::fail(UserErrorCode::AccountNeedsReauthorization, e.to_string())
            }
            e if e.is_retryable() => Self::retry(e.to_string()),
            e => Self::fail(UserErrorCode::WriteBackRejected, e.to_string()),
        }
    }
    fn token(e: TokenError) -> Self {
        match e {
            TokenError::NeedsReauthorization(m) => Self::fail(UserErrorCode::AccountNeedsReauthorization, m),
            TokenError::Connector(c) => Self::connector(&c),
            TokenError::Domain(d) => Self::retry(d.to_string()),
        }
    }
}

/// Calls the marketplace: the reference of the written (or found) fulfilment.
async fn attempt(
    db: &DatabaseConnection,
    accounts: &Accounts,
    carriers: &Carriers,
    o: &order::Model,
) -> Result<String, Failure> {
    let internal = |e: sea_orm::DbErr| {
        tracing::warn!(error = %e, "write-back: database error");
        Failure::retry("a temporary internal error; it will be retried")
    };
    let acc = account::Entity::find_by_id(o.account_id)
        .one(db)
        .await
        .map_err(internal)?
        .ok_or_else(|| Failure::fail(UserErrorCode::NotFound, "the account was deleted"))?;
    if acc.status != AccountStatus::Active {
        return Err(Failure::fail(
            UserErrorCode::AccountNeedsReauthorization,
            format!("account \"{}\" is {:?}; reauthorize it and retry", acc.name, acc.status),
        ));
    }
    let tracking = o
        .tracking_number
        .clone()
        .ok_or_else(|| Failure::fail(UserErrorCode::InvalidState, "the order has no tracking number"))?;
    let carrier = match carriers.resolve(&acc, o.channel_id).await {
        Ok(Resolved::Carrier(c)) => c,
        Ok(Resolved::Refused { code, message }) => return Err(Failure::fail(code, message)),
        Err((m, retryable)) => {
            return Err(if retryable { Failure::retry(m) } else { Failure::fail(UserErrorCode::WriteBackRejected, m) });
        }
    };
    let items = order_item::Entity::find()
        .filter(order_item::Column::OrderId.eq(o.id))
        .all(db)
        .await
        .map_err(internal)?
        .into_iter()
        .filter_map(|i| i.platform_item_id.map(|p| (p, i.quantity)))
        .collect();
    let shipment = Shipment {
        platform_order_id: o.platform_order_id.clone(),
        marketplace_id: o.marketplace_id.clone(),
        carrier,
        tracking_number: tracking,
        shipped_at: o.shipped_at.unwrap_or_else(Utc::now),
        items,
    };
    let connector = accounts.connector(acc.platform).map_err(|e| Failure::retry(e.to_string()))?;
    let account_ref = accounts.account_ref(&acc).map_err(|e| Failure::retry(e.to_string()))?;
    accounts
        .provider_call(acc.id, acc.platform, async {
            let mut token = accounts.access_token(acc.id, false).await.map_err(Failure::token)?;
            let mut refreshed = false;
            // An earlier attempt of this write-back failed (its answer may have been lost
            // after the marketplace recorded it): look before writing again.
            let mut reconcile = o.write_back_error.is_some();
            loop {
                let result = if reconcile {
                    connector.find_tracking(&token, &account_ref, &shipment).await.map(|found| found.ok_or(()))
                } else {
                    connector.write_tracking(&token, &account_ref, &shipment).await.map(Ok)
                };
                match result {
                    Ok(Ok(reference)) => return Ok(reference),
                    // Not there: write it now.
                    Ok(Err(())) => reconcile = false,
                    Err(ConnectorError::Unauthorized(_)) if !refreshed => {
                        refreshed = true;
                        token = accounts.access_token_after_rejection(acc.id, &token).await.map_err(Failure::token)?;
                    }
                    // Revoked by another caller's refresh (Wish): the token stored since.
                    Err(e @ ConnectorError::AuthorizationInvalid(_)) if !refreshed => {
                        refreshed = true;
                        match accounts.newer_access_token(acc.id, &token).await.map_err(Failure::token)? {
                            Some(newer) => token = newer,
                            None => return Err(Failure::connector(&e)),
                        }
                    }
                    Err(e) => return Err(Failure::connector(&e)),
                }
            }
        })
        .await
}
