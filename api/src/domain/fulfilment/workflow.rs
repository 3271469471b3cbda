//! The batch moves besides push: set channel, reset, mark shipped (± write-back), cancel,
//! retry write-back. Each locks its orders, checks every order against the transition
//! table and applies the allowed moves in one transaction; refused orders get a per-order
//! `INVALID_STATE` and are left untouched.

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use entity::{
    enums::{FulfillmentStatus, MarketplaceState, WaybillStatus, WriteBackStatus},
    order, waybill,
};
use sea_orm::{
    ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, TransactionTrait,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use super::{
    BatchOutcome, Fulfilment, OrderOutcome, active_waybills, batch_ids, channels_of, lock_orders, provider,
    state::{self, Action},
    writeback,
};
use crate::{
    auth::Actor,
    db::begin_write,
    domain::{
        audit::{self, By, Change},
        channels::carriers,
    },
    error::{DomainError, DomainResult, UserError, UserErrorCode},
};

impl Fulfilment {
    /// 设置渠道: assigns a channel to UNPUSHED/PUSH_FAILED orders.
    pub async fn set_channel(&self, actor: &Actor, ids: &[Uuid], channel_id: Uuid) -> DomainResult<BatchOutcome> {
        actor.require_write()?;
        let ids = batch_ids(ids)?;
        let org = actor.tenant().id();
        let txn = begin_write(&self.db).await?;
        let channel = channels_of(&txn, org, &[channel_id]).await?.remove(&channel_id).ok_or(DomainError::NotFound)?;
        if !channel.active {
            return Err(DomainError::user(
                UserErrorCode::ChannelUnavailable,
                &["input", "channelId"],
                format!("Channel {} is inactive.", channel.code),
            ));
        }
        let orders = lock_orders(&txn, org, &ids).await?;
        let now = Utc::now();
        let mut results = Vec::new();
        let mut moved = Vec::new();
        for id in &ids {
            let Some(o) = orders.get(id) else {
                results.push(OrderOutcome::not_found(*id));
                continue;
            };
            match state::next(o.fulfillment_status, Action::SetChannel) {
                Some(to) => {
                    moved.push(o.id);
                    results.push(OrderOutcome::ok(o.id, to, None));
                }
                None => results.push(OrderOutcome::refused(
                    o,
                    UserErrorCode::InvalidState,
                    state::refusal(o.fulfillment_status, Action::SetChannel),
                )),
            }
        }
        for chunk in moved.chunks(500) {
            order::Entity::update_many()
                .col_expr(order::Column::ChannelId, Expr::value(channel_id))
                .col_expr(order::Column::Version, Expr::col(order::Column::Version).add(1))
                .col_expr(order::Column::UpdatedAt, Expr::value(now))
                .filter(order::Column::Id.is_in(chunk.iter().copied()))
                .exec(&txn)
                .await?;
            // An unconfirmed waybill follows its order to the new channel (and is rebuilt
            // on the next push unless the user edited it).
            waybill::Entity::update_many()
                .col_expr(waybill::Column::ChannelId, Expr::value(channel_id))
                .col_expr(waybill::Column::UpdatedAt, Expr::value(now))
                .filter(waybill::Column::OrderId.is_in(chunk.iter().copied()))
                .filter(waybill::Column::Status.eq(WaybillStatus::Unconfirmed))
                .exec(&txn)
                .await?;
        }
        let changes = moved
            .iter()
            .map(|id| Change {
                action: "order.channel_set",
                entity_type: "Order",
                entity_id: Some(*id),
                data: Some(serde_json::json!({ "channel": channel.code })),
            })
            .collect();
        self.finish(txn, org, actor, changes, results).await
    }

    /// 重置: PUSHED → UNPUSHED; the provider's forecast is cancelled and the waybill with it.
    pub async fn reset(&self, actor: &Actor, ids: &[Uuid]) -> DomainResult<BatchOutcome> {
        self.unbook(actor, ids, Action::Reset).await
    }

    /// Cancels orders (UNPUSHED, PUSH_FAILED or PUSHED); a booked forecast is cancelled too.
    pub async fn cancel(&self, actor: &Actor, ids: &[Uuid]) -> DomainResult<BatchOutcome> {
        self.unbook(actor, ids, Action::Cancel).await
    }

    /// Reset/cancel. Orders booked with a remote provider (OrangeConnex) are done one by
    /// one first: the provider is told outside any write lock, and each order it released
    /// moves here at once in its own short transaction, so a request cut short (timeout,
    /// crash) never leaves an order cancelled there but live here. The rest move together.
    async fn unbook(&self, actor: &Actor, ids: &[Uuid], action: Action) -> DomainResult<BatchOutcome> {
        actor.require_write()?;
        let ids = batch_ids(ids)?;
        let org = actor.tenant().id();
        let mut done: HashMap<Uuid, OrderOutcome> = HashMap::new();
        for (order_id, ch, booking, status, waybill_id) in self.remote_bookings(org, &ids, action).await? {
            let p = self.providers.for_channel(&ch)?;
            let call = self.db.begin().await?;
            let told = p.cancel(&call, &ch, &booking).await?;
            call.commit().await?;
            let outcome = match told {
                Err(refusal) => OrderOutcome {
                    order_id,
                    status: Some(status),
                    waybill_id: Some(waybill_id),
                    errors: vec![UserError::new(refusal.code, &["input", "orderIds"], refusal.message)],
                },
                Ok(()) => self
                    .unbook_locally(actor, &[order_id], action, true)
                    .await?
                    .results
                    .pop()
                    .unwrap_or_else(|| OrderOutcome::not_found(order_id)),
            };
            done.insert(order_id, outcome);
        }
        let rest: Vec<Uuid> = ids.iter().copied().filter(|i| !done.contains_key(i)).collect();
        let mut outcome = if rest.is_empty() {
            BatchOutcome::default()
        } else {
            self.unbook_locally(actor, &rest, action, false).await?
        };
        outcome.results.extend(done.into_values());
        let pos: HashMap<Uuid, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
        outcome.results.sort_by_key(|r| pos.get(&r.order_id).copied().unwrap_or(usize::MAX));
        Ok(outcome)
    }

    /// The orders among `ids` the action applies to whose waybill is booked with a remote
    /// provider: (order, channel, booking, order status, waybill).
    async fn remote_bookings(
        &self,
        org: Uuid,
        ids: &[Uuid],
        action: Action,
    ) -> DomainResult<Vec<(Uuid, entity::channel::Model, provider::Booking, FulfillmentStatus, Uuid)>> {
        let mut orders = Vec::new();
        for chunk in ids.chunks(500) {
            orders.extend(
                order::Entity::find()
                    .filter(order::Column::OrganizationId.eq(org))
                    .filter(order::Column::Id.is_in(chunk.iter().copied()))
                    .filter(order::Column::FulfillmentStatus.is_in(state::sources(action)))
                    .all(&self.db)
                    .await?,
            );
        }
        let order_ids: Vec<Uuid> = orders.iter().map(|o| o.id).collect();
        let waybills = active_waybills(&self.db, &order_ids).await?;
        let channel_ids: Vec<Uuid> =
            waybills.values().map(|w| w.channel_id).collect::<HashSet<_>>().into_iter().collect();
        let channels = channels_of(&self.db, org, &channel_ids).await?;
        let mut out = Vec::new();
        for o in &orders {
            let Some(w) = waybills.get(&o.id) else { continue };
            let Some(reference) = w.provider_reference.clone() else { continue };
            let Some(ch) = channels.get(&w.channel_id) else { continue };
            if self.providers.for_channel(ch).is_ok_and(|p| !p.books_in_transaction()) {
                let booking =
                    provider::Booking { tracking_number: w.tracking_number.clone(), provider_reference: reference };
                out.push((o.id, ch.clone(), booking, o.fulfillment_status, w.id));
            }
        }
        Ok(out)
    }

    /// The local move, in one transaction. `remote_told`: the remote provider already
    /// released these orders (otherwise only in-transaction providers are called here, and
    /// an order that became remotely booked meanwhile is refused).
    async fn unbook_locally(
        &self,
        actor: &Actor,
        ids: &[Uuid],
        action: Action,
        remote_told: bool,
    ) -> DomainResult<BatchOutcome> {
        let org = actor.tenant().id();
        let txn = begin_write(&self.db).await?;
        let orders = lock_orders(&txn, org, ids).await?;
        let order_ids: Vec<Uuid> = orders.keys().copied().collect();
        let waybills = active_waybills(&txn, &order_ids).await?;
        let channel_ids: Vec<Uuid> =
            waybills.values().map(|w| w.channel_id).collect::<HashSet<_>>().into_iter().collect();
        let channels = channels_of(&txn, org, &channel_ids).await?;
        let now = Utc::now();
        let mut results = Vec::new();
        let mut changes = Vec::new();
        let mut moved: Vec<Uuid> = Vec::new();
        let mut cancelled_waybills: Vec<Uuid> = Vec::new();
        for id in ids {
            let Some(o) = orders.get(id) else {
                results.push(OrderOutcome::not_found(*id));
                continue;
            };
            let Some(to) = state::next(o.fulfillment_status, action) else {
                results.push(OrderOutcome::refused(
                    o,
                    UserErrorCode::InvalidState,
                    state::refusal(o.fulfillment_status, action),
                ));
                continue;
            };
            let w = waybills.get(&o.id);
            // Tell the provider first; if it refuses, nothing changes for this order.
            if let Some(w) = w
                && (w.tracking_number.is_some() || w.provider_reference.is_some())
                && let Some(ch) = channels.get(&w.channel_id)
            {
                let p = match self.providers.for_channel(ch) {
                    Ok(p) => p,
                    Err(DomainError::User(mut e)) => {
                        results.push(OrderOutcome {
                            order_id: o.id,
                            status: Some(o.fulfillment_status),
                            waybill_id: Some(w.id),
                            errors: std::mem::take(&mut e),
                        });
                        continue;
                    }
                    Err(e) => return Err(e),
                };
                let booking = provider::Booking {
                    tracking_number: w.tracking_number.clone(),
                    provider_reference: w.provider_reference.clone().unwrap_or_default(),
                };
                let told = if p.books_in_transaction() {
                    p.cancel(&txn, ch, &booking).await?
                } else if remote_told {
                    Ok(())
                } else {
                    Err(provider::Refusal {
                        code: UserErrorCode::InvalidState,
                        message: "The order was booked with the warehouse meanwhile; try again.".into(),
                    })
                };
                if let Err(refusal) = told {
                    results.push(OrderOutcome {
                        order_id: o.id,
                        status: Some(o.fulfillment_status),
                        waybill_id: Some(w.id),
                        errors: vec![UserError::new(refusal.code, &["input", "orderIds"], refusal.message)],
                    });
                    continue;
                }
            }
            if let Some(w) = w {
                cancelled_waybills.push(w.id);
            }
            moved.push(o.id);
            changes.push(Change {
                action: if action == Action::Reset { "order.reset" } else { "order.cancelled" },
                entity_type: "Order",
                entity_id: Some(o.id),
                data: Some(serde_json::json!({ "waybillId": w.map(|w| w.id), "trackingNumber": w.and_then(|w| w.tracking_number.clone()) })),
            });
            results.push(OrderOutcome::ok(o.id, to, None));
        }
        // Two statements per 500 orders, whatever the batch size.
        for chunk in cancelled_waybills.chunks(500) {
            waybill::Entity::update_many()
                .col_expr(waybill::Column::Status, Expr::value(WaybillStatus::Cancelled))
                .col_expr(waybill::Column::UpdatedAt, Expr::value(now))
                .filter(waybill::Column::Id.is_in(chunk.iter().copied()))
                .exec(&txn)
                .await?;
        }
        let (to, message) = match action {
            Action::Reset => (FulfillmentStatus::Unpushed, "Reset; the waybill was cancelled and can be pushed again."),
            _ => (FulfillmentStatus::Cancelled, "Cancelled."),
        };
        for chunk in moved.chunks(500) {
            let res = order::Entity::update_many()
                .col_expr(order::Column::FulfillmentStatus, Expr::value(to))
                .col_expr(order::Column::TrackingNumber, Expr::value(Option::<String>::None))
                .col_expr(order::Column::PushedAt, Expr::value(Option::<chrono::DateTime<Utc>>::None))
                .col_expr(order::Column::LastErrorCode, Expr::value(Option::<String>::None))
                .col_expr(order::Column::LastOperationMessage, Expr::value(message))
                .col_expr(order::Column::Version, Expr::col(order::Column::Version).add(1))
                .col_expr(order::Column::UpdatedAt, Expr::value(now))
                .filter(order::Column::Id.is_in(chunk.iter().copied()))
                .filter(order::Column::FulfillmentStatus.is_in(state::sources(action)))
                .exec(&txn)
                .await?;
            if res.rows_affected != chunk.len() as u64 {
                return Err(DomainError::Conflict("orders changed meanwhile; try again".into()));
            }
        }
        self.finish(txn, org, actor, changes, results).await
    }

    /// 标记出货 (`write_back = false`) or 标记出货&回写单号 (`true`): PUSHED → SHIPPED; with
    /// write-back, a durable job tells the marketplace the tracking number.
    pub async fn mark_shipped(&self, actor: &Actor, ids: &[Uuid], write_back: bool) -> DomainResult<BatchOutcome> {
        actor.require_write()?;
        let ids = batch_ids(ids)?;
        let org = actor.tenant().id();
        let txn = begin_write(&self.db).await?;
        let orders = lock_orders(&txn, org, &ids).await?;
        let order_ids: Vec<Uuid> = orders.keys().copied().collect();
        let waybills = active_waybills(&txn, &order_ids).await?;
        let unmapped = if write_back { unmapped_carriers(&txn, org, orders.values()).await? } else { HashMap::new() };
        let now = Utc::now();
        let mut results = Vec::new();
        let mut changes = Vec::new();
        let mut moved: Vec<Uuid> = Vec::new();
        for id in &ids {
            let Some(o) = orders.get(id) else {
                results.push(OrderOutcome::not_found(*id));
                continue;
            };
            let Some(to) = state::next(o.fulfillment_status, Action::MarkShipped) else {
                results.push(OrderOutcome::refused(
                    o,
                    UserErrorCode::InvalidState,
                    state::refusal(o.fulfillment_status, Action::MarkShipped),
                ));
                continue;
            };
            // Nothing to write back to an order cancelled (or being cancelled) on the
            // marketplace: the marketplace would refuse it.
            if write_back
                && matches!(o.marketplace_state, MarketplaceState::Cancelled | MarketplaceState::CancelRequested)
                && let Some(r) = super::push::market_refusal(o)
            {
                results.push(OrderOutcome::refused(o, r.code, r.message));
                continue;
            }
            // Writing back needs the marketplace's own carrier identifier: refused before
            // anything changes (map the channel, then mark it shipped).
            if let Some((code, message)) = unmapped.get(&o.id) {
                results.push(OrderOutcome::refused(o, *code, message.clone()));
                continue;
            }
            moved.push(o.id);
            changes.push(Change {
                action: "order.shipped",
                entity_type: "Order",
                entity_id: Some(o.id),
                data: Some(serde_json::json!({ "writeBack": write_back })),
            });
            results.push(OrderOutcome::ok(o.id, to, waybills.get(&o.id).map(|w| w.id)));
        }
        let wb = if write_back { WriteBackStatus::Pending } else { WriteBackStatus::NotRequested };
        let message = if write_back { "Shipped; writing the tracking number back…" } else { "Marked shipped." };
        for chunk in moved.chunks(500) {
            let res = order::Entity::update_many()
                .col_expr(order::Column::FulfillmentStatus, Expr::value(FulfillmentStatus::Shipped))
                .col_expr(order::Column::WriteBackStatus, Expr::value(wb))
                .col_expr(order::Column::WriteBackError, Expr::value(Option::<String>::None))
                .col_expr(order::Column::ShippedAt, Expr::value(now))
                .col_expr(order::Column::LastOperationMessage, Expr::value(message))
                .col_expr(order::Column::Version, Expr::col(order::Column::Version).add(1))
                .col_expr(order::Column::UpdatedAt, Expr::value(now))
                .filter(order::Column::Id.is_in(chunk.iter().copied()))
                .filter(order::Column::FulfillmentStatus.eq(FulfillmentStatus::Pushed))
                .exec(&txn)
                .await?;
            if res.rows_affected != chunk.len() as u64 {
                return Err(DomainError::Conflict("orders changed meanwhile; try again".into()));
            }
            waybill::Entity::update_many()
                .col_expr(waybill::Column::Status, Expr::value(WaybillStatus::Shipped))
                .col_expr(waybill::Column::UpdatedAt, Expr::value(now))
                .filter(waybill::Column::OrderId.is_in(chunk.iter().copied()))
                .filter(waybill::Column::Status.is_in([WaybillStatus::Forecasted, WaybillStatus::Printed]))
                .exec(&txn)
                .await?;
            if write_back {
                writeback::enqueue_many(&txn, org, chunk).await?;
            }
        }
        self.finish(txn, org, actor, changes, results).await
    }

    /// Writes the tracking number back again for shipped orders whose write-back failed
    /// (or was never asked for).
    pub async fn retry_write_back(&self, actor: &Actor, ids: &[Uuid]) -> DomainResult<BatchOutcome> {
        actor.require_write()?;
        let ids = batch_ids(ids)?;
        let org = actor.tenant().id();
        let txn = begin_write(&self.db).await?;
        let orders = lock_orders(&txn, org, &ids).await?;
        let unmapped = unmapped_carriers(&txn, org, orders.values()).await?;
        let now = Utc::now();
        let mut results = Vec::new();
        let mut changes = Vec::new();
        for id in &ids {
            let Some(o) = orders.get(id) else {
                results.push(OrderOutcome::not_found(*id));
                continue;
            };
            if let Some((code, message)) = unmapped.get(&o.id) {
                results.push(OrderOutcome::refused(o, *code, message.clone()));
                continue;
            }
            let retryable = o.fulfillment_status == FulfillmentStatus::Shipped
                && matches!(o.write_back_status, WriteBackStatus::Failed | WriteBackStatus::NotRequested);
            if !retryable {
                let why = match (o.fulfillment_status, o.write_back_status) {
                    (FulfillmentStatus::Shipped, WriteBackStatus::Pending) => {
                        "The write-back is already queued.".to_owned()
                    }
                    (FulfillmentStatus::Shipped, WriteBackStatus::Written) => {
                        "The tracking number is already written back.".to_owned()
                    }
                    (s, _) => format!("The order is {}: mark it shipped first.", state::name(s)),
                };
                results.push(OrderOutcome::refused(o, UserErrorCode::InvalidState, why));
                continue;
            }
            // A failed write-back keeps its message: the next attempt then reads the
            // marketplace's record first (the failed one may have reached it after all).
            order::Entity::update_many()
                .col_expr(order::Column::WriteBackStatus, Expr::value(WriteBackStatus::Pending))
                .col_expr(order::Column::WriteBackErrorCode, Expr::value(Option::<String>::None))
                .col_expr(order::Column::Version, Expr::col(order::Column::Version).add(1))
                .col_expr(order::Column::UpdatedAt, Expr::value(now))
                .filter(order::Column::Id.eq(o.id))
                .exec(&txn)
                .await?;
            writeback::enqueue(&txn, org, o.id).await?;
            changes.push(Change {
                action: "order.write_back_requested",
                entity_type: "Order",
                entity_id: Some(o.id),
                data: None,
            });
            results.push(OrderOutcome::ok(o.id, o.fulfillment_status, None));
        }
        self.finish(txn, org, actor, changes, results).await
    }

    /// Records the audit trail, commits, then publishes.
    async fn finish(
        &self,
        txn: DatabaseTransaction,
        org: Uuid,
        actor: &Actor,
        changes: Vec<Change>,
        results: Vec<OrderOutcome>,
    ) -> DomainResult<BatchOutcome> {
        let events = audit::record_many(&txn, org, By::Actor(actor), changes).await?;
        txn.commit().await?;
        self.bus.publish_all(events);
        Ok(BatchOutcome { results, job_id: None })
    }
}

/// Orders (by id) whose channel has no carrier identifier for their marketplace, with the
/// refusal naming the channel and the marketplace.
async fn unmapped_carriers<'a>(
    db: &impl sea_orm::ConnectionTrait,
    org: Uuid,
    orders: impl Iterator<Item = &'a order::Model>,
) -> DomainResult<HashMap<Uuid, (UserErrorCode, String)>> {
    let orders: Vec<&order::Model> = orders.collect();
    let channel_ids: Vec<Uuid> =
        orders.iter().filter_map(|o| o.channel_id).collect::<std::collections::HashSet<_>>().into_iter().collect();
    let mapped = carriers::effective(db, org, &channel_ids).await?;
    let channels = crate::domain::channels::by_ids(db, org, &channel_ids).await?;
    let mut out = HashMap::new();
    for o in orders {
        match o.channel_id {
            Some(c) if mapped.contains_key(&(c, o.platform)) => {}
            Some(c) => {
                let code = channels.get(&c).map(|ch| ch.code.clone()).unwrap_or_else(|| c.to_string());
                out.insert(o.id, carriers::not_mapped(&code, o.platform));
            }
            None => {
                out.insert(
                    o.id,
                    (UserErrorCode::ChannelNotSet, "The order has no channel, so no carrier to write back.".to_owned()),
                );
            }
        }
    }
    Ok(out)
}
