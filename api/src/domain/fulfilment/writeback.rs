//! 回写单号: telling the marketplace an order shipped, with its tracking number. Always a
//! durable job (enqueued in the mark-shipped transaction, one per order, de-duplicated by
//! key), so a crash or an outage only delays it. `writeBackStatus` goes PENDING → WRITTEN,
//! or FAILED with the marketplace's message once retrying cannot help (revoked
//! authorization, a refusal, attempts exhausted); `retryWriteBack` queues it again.

use chrono::Utc;
use entity::{
    account, channel,
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
    },
    error::DomainResult,
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
    job_id: Uuid,
    order_id: Uuid,
    last_attempt: bool,
) -> DomainResult<Outcome> {
    let Some(o) = order::Entity::find_by_id(order_id).one(db).await? else { return Ok(Outcome::Done) };
    if o.write_back_status != WriteBackStatus::Pending {
        return Ok(Outcome::Done);
    }
    let attempt = attempt(db, accounts, &o).await;
    let (status, message, done) = match &attempt {
        Ok(reference) => (WriteBackStatus::Written, None, Some(reference.clone())),
        Err((m, true)) if !last_attempt => (WriteBackStatus::Pending, Some(m.clone()), None),
        Err((m, _)) => (WriteBackStatus::Failed, Some(m.clone()), None),
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
                Some(serde_json::json!({ "reference": done, "error": message })),
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

/// Calls the marketplace. Err((message, retryable)).
async fn attempt(db: &DatabaseConnection, accounts: &Accounts, o: &order::Model) -> Result<String, (String, bool)> {
    let internal = |e: sea_orm::DbErr| {
        tracing::warn!(error = %e, "write-back: database error");
        ("a temporary internal error; it will be retried".to_owned(), true)
    };
    let acc = account::Entity::find_by_id(o.account_id)
        .one(db)
        .await
        .map_err(internal)?
        .ok_or_else(|| ("the account was deleted".to_owned(), false))?;
    if acc.status != AccountStatus::Active {
        return Err((format!("account \"{}\" is {:?}; reauthorize it and retry", acc.name, acc.status), false));
    }
    let tracking = o.tracking_number.clone().ok_or_else(|| ("the order has no tracking number".to_owned(), false))?;
    let carrier = match o.channel_id {
        Some(id) => channel::Entity::find_by_id(id).one(db).await.map_err(internal)?.map(|c| c.code),
        None => None,
    }
    .unwrap_or_else(|| "Other".into());
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
        carrier_code: carrier,
        tracking_number: tracking,
        shipped_at: o.shipped_at.unwrap_or_else(Utc::now),
        items,
    };
    let connector = accounts.connector(acc.platform).map_err(|e| (e.to_string(), false))?;
    let account_ref = accounts.account_ref(&acc).map_err(|e| (e.to_string(), false))?;
    let token_err = |e: TokenError| match e {
        TokenError::NeedsReauthorization(m) => (m, false),
        TokenError::Connector(c) => (c.to_string(), c.is_retryable()),
        TokenError::Domain(d) => (d.to_string(), true),
    };
    let mut token = accounts.access_token(acc.id, false).await.map_err(token_err)?;
    let mut refreshed = false;
    loop {
        match connector.write_tracking(&token, &account_ref, &shipment).await {
            Ok(reference) => return Ok(reference),
            Err(ConnectorError::Unauthorized(_)) if !refreshed => {
                refreshed = true;
                token = accounts.access_token(acc.id, true).await.map_err(token_err)?;
            }
            Err(e) => return Err((e.to_string(), e.is_retryable())),
        }
    }
}
