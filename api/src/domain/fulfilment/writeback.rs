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
    connectors::{
        ConnectorError,
        marketplace::{Carrier, Shipment},
    },
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

/// Which attempt of its job this is.
#[derive(Debug, Clone, Copy)]
pub struct AttemptNo {
    pub first: bool,
    pub last: bool,
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
    attempt_no: AttemptNo,
) -> DomainResult<Outcome> {
    let AttemptNo { first: first_attempt, last: last_attempt } = attempt_no;
    let Some(o) = order::Entity::find_by_id(order_id).one(db).await? else { return Ok(Outcome::Done) };
    if o.write_back_status != WriteBackStatus::Pending {
        return Ok(Outcome::Done);
    }
    // An earlier attempt failed (its answer may have been lost after the marketplace
    // recorded it), or a worker died during one (before it could record anything): the
    // marketplace's record is read before anything is written again.
    let reconcile_first = !first_attempt || o.write_back_error.is_some();
    let attempt = attempt(db, accounts, carriers, &o, reconcile_first).await;
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
    reconcile_first: bool,
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
    let items = order_item::Entity::find()
        .filter(order_item::Column::OrderId.eq(o.id))
        .all(db)
        .await
        .map_err(internal)?
        .into_iter()
        .filter_map(|i| i.platform_item_id.map(|p| (p, i.quantity)))
        .collect();
    // The carrier is resolved only to write: a lookup needs the order and tracking number
    // alone (and must not fail because the mapping changed after a lost answer).
    let mut shipment = Shipment {
        platform_order_id: o.platform_order_id.clone(),
        marketplace_id: o.marketplace_id.clone(),
        carrier: Carrier { code: String::new(), name: None, tracking_url: None },
        tracking_number: tracking,
        shipped_at: o.shipped_at.unwrap_or_else(Utc::now),
        items,
    };
    let connector = accounts.connector(acc.platform).map_err(|e| Failure::retry(e.to_string()))?;
    let account_ref = accounts.account_ref(&acc).map_err(|e| Failure::retry(e.to_string()))?;
    accounts
        .provider_call(acc.id, acc.platform, async {
            let mut call = Call {
                accounts,
                connector: &*connector,
                account_ref: &account_ref,
                account_id: acc.id,
                token: accounts.access_token(acc.id, false).await.map_err(Failure::token)?,
                refreshed: false,
            };
            if reconcile_first && let Some(reference) = call.run(Op::Find, &shipment).await? {
                return Ok(reference);
            }
            shipment.carrier = match carriers.resolve(&acc, o.channel_id).await {
                Ok(Resolved::Carrier(c)) => c,
                Ok(Resolved::Refused { code, message }) => return Err(Failure::fail(code, message)),
                Err((m, retryable)) => {
                    return Err(if retryable {
                        Failure::retry(m)
                    } else {
                        Failure::fail(UserErrorCode::WriteBackRejected, m)
                    });
                }
            };
            match call.run(Op::Write, &shipment).await {
                Ok(reference) => Ok(reference.unwrap_or_default()),
                // Refused: perhaps because the marketplace has it already (a write that
                // reached it without our knowing, e.g. eBay's 32200 for fulfilled lines).
                Err(f) if f.code == UserErrorCode::WriteBackRejected => match call.run(Op::Find, &shipment).await {
                    Ok(Some(reference)) => Ok(reference),
                    _ => Err(f),
                },
                Err(f) => Err(f),
            }
        })
        .await
}

enum Op {
    /// Read the marketplace's record: `Some(reference)` when the tracking number is there.
    Find,
    /// Write the tracking number: `Some(reference)`.
    Write,
}

/// One marketplace call with the account's token, refreshed once if the marketplace
/// refuses it (or replaced by the one another caller's refresh stored).
struct Call<'a> {
    accounts: &'a Accounts,
    connector: &'a dyn crate::connectors::marketplace::Marketplace,
    account_ref: &'a crate::connectors::marketplace::AccountRef,
    account_id: Uuid,
    token: secrecy::SecretString,
    refreshed: bool,
}

impl Call<'_> {
    async fn run(&mut self, op: Op, shipment: &Shipment) -> Result<Option<String>, Failure> {
        loop {
            let result = match op {
                Op::Find => self.connector.find_tracking(&self.token, self.account_ref, shipment).await,
                Op::Write => self.connector.write_tracking(&self.token, self.account_ref, shipment).await.map(Some),
            };
            match result {
                Ok(found) => return Ok(found),
                Err(ConnectorError::Unauthorized(_)) if !self.refreshed => {
                    self.refreshed = true;
                    self.token = self
                        .accounts
                        .access_token_after_rejection(self.account_id, &self.token)
                        .await
                        .map_err(Failure::token)?;
                }
                // Revoked by another caller's refresh (Wish): the token stored since.
                Err(e @ ConnectorError::AuthorizationInvalid(_)) if !self.refreshed => {
                    self.refreshed = true;
                    match self
                        .accounts
                        .newer_access_token(self.account_id, &self.token)
                        .await
                        .map_err(Failure::token)?
                    {
                        Some(newer) => self.token = newer,
                        None => return Err(Failure::connector(&e)),
                    }
                }
                Err(e) => return Err(Failure::connector(&e)),
            }
        }
    }
}
