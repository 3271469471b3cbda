//! The fulfilment workflow (seed 000 §6-7): set a channel, push orders for a waybill and
//! tracking number, reset, mark shipped (with or without writing the tracking number back
//! to the marketplace), cancel; and the waybills those create.
//!
//! Every batch operation locks its orders (`SELECT … FOR UPDATE`, in id order so two
//! batches cannot deadlock; SQLite's `BEGIN IMMEDIATE` serialises writers anyway), checks
//! each move against [`state::next`] and applies it in the same transaction, so a double
//! click, two tabs or two replicas can never book two waybills. The partial unique index
//! "one active waybill per order" backs this up in the database.

mod idempotency;
pub mod provider;
pub mod push;
pub mod snapshot;
pub mod state;
pub mod waybills;
mod workflow;
pub mod writeback;

use std::{collections::HashMap, sync::Arc};

use entity::{
    channel,
    enums::{ChannelProvider, FulfillmentStatus, WaybillStatus},
    order, waybill,
};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    error::{DomainError, DomainResult, UserError, UserErrorCode},
    events::EventBus,
};

/// Most orders one batch mutation takes (a GraphQL request body stays well under its limit).
pub const MAX_BATCH: usize = 1_000;

/// What happened to one order of a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderOutcome {
    pub order_id: Uuid,
    /// The order's state afterwards (`None` when the id is unknown).
    pub status: Option<FulfillmentStatus>,
    pub waybill_id: Option<Uuid>,
    pub errors: Vec<UserError>,
}

impl OrderOutcome {
    fn ok(o: Uuid, status: FulfillmentStatus, waybill_id: Option<Uuid>) -> Self {
        Self { order_id: o, status: Some(status), waybill_id, errors: Vec::new() }
    }
    fn refused(o: &order::Model, code: UserErrorCode, message: String) -> Self {
        Self {
            order_id: o.id,
            status: Some(o.fulfillment_status),
            waybill_id: None,
            errors: vec![UserError::new(code, &["input", "orderIds"], message)],
        }
    }
    fn not_found(id: Uuid) -> Self {
        Self {
            order_id: id,
            status: None,
            waybill_id: None,
            errors: vec![UserError::new(UserErrorCode::NotFound, &["input", "orderIds"], "No such order.")],
        }
    }
}

/// A batch's per-order outcomes (in input order) and, for pushes, the job doing the work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct BatchOutcome {
    pub results: Vec<OrderOutcome>,
    pub job_id: Option<Uuid>,
}

#[derive(Clone)]
pub struct Fulfilment {
    pub(crate) db: DatabaseConnection,
    pub(crate) bus: EventBus,
    pub(crate) providers: Providers,
}

impl Fulfilment {
    pub fn new(db: DatabaseConnection, bus: EventBus, providers: Providers) -> Self {
        Self { db, bus, providers }
    }
}

/// The logistics providers behind channels: NETWORK is always there; OrangeConnex when
/// configured.
#[derive(Clone, Default)]
pub struct Providers {
    pub orangeconnex: Option<Arc<dyn provider::LogisticsProvider>>,
}

impl Providers {
    /// The provider behind a channel.
    pub fn for_channel(&self, c: &channel::Model) -> DomainResult<Arc<dyn provider::LogisticsProvider>> {
        match c.provider {
            ChannelProvider::Network => Ok(Arc::new(provider::Network)),
            ChannelProvider::Orangeconnex => self.orangeconnex.clone().ok_or_else(|| {
                DomainError::user(
                    UserErrorCode::ChannelUnavailable,
                    &["input", "orderIds"],
                    "OrangeConnex is not configured on this server.",
                )
            }),
        }
    }
}

/// Deletes idempotency keys past their 24 hours (run every minute by the scheduler).
pub async fn prune_idempotency_keys(db: &DatabaseConnection) -> DomainResult<u64> {
    let res = entity::idempotency_key::Entity::delete_many()
        .filter(entity::idempotency_key::Column::ExpiresAt.lt(chrono::Utc::now()))
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}

/// Distinct ids in input order; 1..=MAX_BATCH of them.
fn batch_ids(ids: &[Uuid]) -> DomainResult<Vec<Uuid>> {
    let mut seen = std::collections::HashSet::new();
    let out: Vec<Uuid> = ids.iter().copied().filter(|i| seen.insert(*i)).collect();
    if out.is_empty() || out.len() > MAX_BATCH {
        return Err(DomainError::user(
            UserErrorCode::Invalid,
            &["input", "orderIds"],
            format!("Give between 1 and {MAX_BATCH} orders."),
        ));
    }
    Ok(out)
}

/// Locks the tenant's orders among `ids` for the transaction, in id order.
async fn lock_orders(db: &impl ConnectionTrait, org: Uuid, ids: &[Uuid]) -> DomainResult<HashMap<Uuid, order::Model>> {
    let mut out = HashMap::with_capacity(ids.len());
    // One global lock order (by id) across chunks, so two batches never deadlock.
    let mut sorted = ids.to_vec();
    sorted.sort();
    for chunk in sorted.chunks(500) {
        let rows = order::Entity::find()
            .filter(order::Column::OrganizationId.eq(org))
            .filter(order::Column::Id.is_in(chunk.iter().copied()))
            .order_by_asc(order::Column::Id)
            .lock_exclusive()
            .all(db)
            .await?;
        out.extend(rows.into_iter().map(|o| (o.id, o)));
    }
    Ok(out)
}

/// The active (not cancelled) waybill of each order.
async fn active_waybills(db: &impl ConnectionTrait, order_ids: &[Uuid]) -> DomainResult<HashMap<Uuid, waybill::Model>> {
    let mut out = HashMap::new();
    for chunk in order_ids.chunks(500) {
        let rows = waybill::Entity::find()
            .filter(waybill::Column::OrderId.is_in(chunk.iter().copied()))
            .filter(waybill::Column::Status.ne(WaybillStatus::Cancelled))
            .all(db)
            .await?;
        out.extend(rows.into_iter().filter_map(|w| w.order_id.map(|o| (o, w))));
    }
    Ok(out)
}

/// Channels by id, visible to the tenant (its own and the global ones).
async fn channels_of(
    db: &impl ConnectionTrait,
    org: Uuid,
    ids: &[Uuid],
) -> DomainResult<HashMap<Uuid, channel::Model>> {
    crate::domain::channels::by_ids(db, org, ids).await
}

fn push_event_data(o: &OrderOutcome, tracking: Option<&str>) -> serde_json::Value {
    let first = o.errors.first();
    serde_json::json!({
        "status": o.status.map(state::name),
        "waybillId": o.waybill_id,
        "trackingNumber": tracking,
        "code": first.map(|e| e.code.as_str()),
        "message": first.map(|e| e.message.clone()),
    })
}
