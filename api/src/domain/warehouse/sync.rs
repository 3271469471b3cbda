//! The warehouse polling job (every OC account, on a schedule and on demand):
//! - outbound (OrdersQuery): status, tracking number, carrier, chargeable weight and fee of
//!   our open outbound orders; a tracking number turns a placed order PUSHED (waybill
//!   FORECASTED), a cancellation or exception at OC turns it PUSH_FAILED;
//! - `autoFulfillmentEF` orders OC created itself (from the last window): recorded, and
//!   the matching eBay order marked SHIPPED with OC's tracking number, as the guide asks;
//! - inbound (detail): status and per-line received / put-away quantities. An inbound that
//!   needs clearance papers only counts as COMPLETED once they are uploaded.
//!
//! Everything is keyed by OC's numbers: a second run (or two at once) records nothing twice.

use std::collections::HashMap;

use chrono::{Duration, Utc};
use entity::{
    account,
    enums::{FulfillmentStatus, InboundFileKind, InboundStatus, OutboundStatus, Platform, WaybillStatus},
    inbound_order, inbound_order_file, inbound_order_line, order, outbound_order, sku, waybill,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QuerySelect, Set,
    sea_query::{Expr, ExprTrait, OnConflict},
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{CallError, Warehouse, outbound::outbound_status};
use crate::{
    auth::Actor,
    connectors::logistics::{InboundPhase, OutboundPhase, OutboundQuery, OutboundState},
    db::begin_write,
    domain::{
        audit::{self, By, Change},
        fulfilment::{
            OrderOutcome,
            provider::{Booking, Refusal},
            push::{Booked, push_change, record_bookings, record_refusal},
        },
    },
    error::{DomainError, DomainResult, UserErrorCode},
};

pub const JOB_KIND: &str = "warehouse.sync";
/// How far back each poll looks for orders OC fulfilled on its own.
const AUTO_WINDOW_OVERLAP_MINUTES: i64 = 60;
const FIRST_AUTO_WINDOW_DAYS: i64 = 7;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncPayload {
    pub account_id: Uuid,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SyncOutcome {
    /// Outbound orders whose state changed.
    pub outbound_updated: usize,
    /// Orders that became PUSHED with OC's tracking number.
    pub tracking_received: usize,
    /// autoFulfillmentEF orders recorded for the first time.
    pub auto_fulfilled_imported: usize,
    /// Inbound orders whose state changed.
    pub inbound_updated: usize,
}

pub fn inbound_status(p: InboundPhase) -> InboundStatus {
    match p {
        InboundPhase::Created => InboundStatus::Created,
        InboundPhase::InTransit => InboundStatus::InTransit,
        InboundPhase::Receiving => InboundStatus::Receiving,
        InboundPhase::PutAway => InboundStatus::Completed,
        InboundPhase::Cancelled => InboundStatus::Cancelled,
    }
}

impl Warehouse {
    /// `syncWarehouse`: polls now (OPERATOR and above).
    pub async fn sync_now(&self, actor: &Actor, account_id: Uuid) -> DomainResult<SyncOutcome> {
        actor.require_write()?;
        let acc = self.account(actor.tenant(), account_id).await?;
        self.sync_account(&acc).await
    }

    pub async fn sync_account(&self, acc: &account::Model) -> DomainResult<SyncOutcome> {
        let mut out = SyncOutcome::default();
        self.sync_outbound(acc, &mut out).await?;
        self.sync_inbound(acc, &mut out).await?;
        Ok(out)
    }

    async fn sync_outbound(&self, acc: &account::Model, out: &mut SyncOutcome) -> DomainResult<()> {
        let open = outbound_order::Entity::find()
            .filter(outbound_order::Column::AccountId.eq(acc.id))
            .filter(outbound_order::Column::OutboundNumber.is_not_null())
            .filter(outbound_order::Column::Status.is_not_in([OutboundStatus::Shipped, OutboundStatus::Cancelled]))
            .all(&self.db)
            .await?;
        let now = Utc::now();
        let since = acc.sync_watermark.map_or(now - Duration::days(FIRST_AUTO_WINDOW_DAYS), |w| {
            w - Duration::minutes(AUTO_WINDOW_OVERLAP_MINUTES)
        });
        let q = OutboundQuery {
            order_numbers: open.iter().filter_map(|o| o.outbound_number.clone()).collect(),
            references: Vec::new(),
            // A minute ahead: OC's times have whole seconds.
            window: Some((since, now + Duration::minutes(1))),
        };
        let states = self
            .call(acc.id, |c, token| {
                let q = q.clone();
                async move { c.query_outbound(&token, &q).await }
            })
            .await
            .map_err(|e| call_error(e, "outbound"))?;
        // One state per order number (the window repeats some of the listed ones).
        let mut by_number: HashMap<String, OutboundState> = HashMap::new();
        for s in states {
            by_number.insert(s.order_number.clone(), s);
        }
        let numbers: Vec<String> = by_number.keys().cloned().collect();
        let mut known: HashMap<String, outbound_order::Model> = HashMap::new();
        for chunk in numbers.chunks(500) {
            known.extend(
                outbound_order::Entity::find()
                    .filter(outbound_order::Column::AccountId.eq(acc.id))
                    .filter(outbound_order::Column::OutboundNumber.is_in(chunk.iter().cloned()))
                    .all(&self.db)
                    .await?
                    .into_iter()
                    .filter_map(|o| o.outbound_number.clone().map(|n| (n, o))),
            );
        }
        let org = acc.organization_id;
        let txn = begin_write(&self.db).await?;
        let mut changes = Vec::new();
        let mut bookings = Vec::new();
        for (number, s) in &by_number {
            let status = outbound_status(s.phase);
            let parcel = s.parcel.as_ref();
            match known.get(number) {
                Some(row) => {
                    let changed = row.status != status
                        || row.tracking_number.as_deref() != parcel.map(|p| p.tracking_number.as_str());
                    let mut a: outbound_order::ActiveModel = row.clone().into();
                    a.status = Set(status);
                    if let Some(p) = parcel {
                        a.tracking_number = Set(Some(p.tracking_number.clone()));
                        a.carrier = Set(p.carrier_name.clone().or(p.carrier_code.clone()));
                        a.chargeable_weight_grams = Set(p.chargeable_weight_grams);
                        a.fee_minor = Set(p.fee_minor);
                        a.fee_currency = Set(p.fee_currency.clone());
                    }
                    a.last_polled_at = Set(Some(now));
                    if changed {
                        a.updated_at = Set(now);
                        out.outbound_updated += 1;
                    }
                    a.update(&txn).await?;
                    if changed {
                        changes.push(Change {
                            action: "outbound_order.updated",
                            entity_type: "OutboundOrder",
                            entity_id: Some(row.id),
                            data: Some(serde_json::json!({ "orderNumber": number, "status": status, "trackingNumber": parcel.map(|p| &p.tracking_number) })),
                        });
                    }
                    // OC fulfilled it on its own: the matching order may only now be there,
                    // or only now shipped.
                    if row.auto_fulfilled {
                        changes.extend(mark_auto_fulfilled(&txn, acc, row, s, now).await?);
                        continue;
                    }
                    // The order waiting for this outbound order.
                    let (Some(order_id), Some(waybill_id)) = (row.order_id, row.waybill_id) else { continue };
                    let Some(o) = order::Entity::find_by_id(order_id).lock_exclusive().one(&txn).await? else {
                        continue;
                    };
                    let w = waybill::Entity::find_by_id(waybill_id).one(&txn).await?;
                    let waiting = o.fulfillment_status == FulfillmentStatus::Pushing
                        && w.as_ref().is_some_and(|w| {
                            w.status == WaybillStatus::Unconfirmed
                                && w.provider_reference.as_deref() == Some(number.as_str())
                        });
                    if !waiting {
                        continue;
                    }
                    match (s.phase, parcel) {
                        (OutboundPhase::Cancelled, _) => {
                            let r = Refusal {
                                code: UserErrorCode::ProviderRejected,
                                message: format!(
                                    "OrangeConnex cancelled outbound order {number}; push the order again to place a new one."
                                ),
                            };
                            let outcome = record_refusal(&txn, &o, w.as_ref(), &r, now).await?;
                            // That placement is over: its waybill (and reference) is retired, so
                            // the next push places a new outbound order under a new reference.
                            waybill::Entity::update_many()
                                .col_expr(waybill::Column::Status, Expr::value(WaybillStatus::Cancelled))
                                .col_expr(waybill::Column::UpdatedAt, Expr::value(now))
                                .filter(waybill::Column::Id.eq(waybill_id))
                                .exec(&txn)
                                .await?;
                            changes.push(push_change(&outcome, None));
                        }
                        // Still OC's to resolve (it may yet ship): keep waiting, say why.
                        (OutboundPhase::Exception, None) if changed => {
                            order::Entity::update_many()
                                .col_expr(
                                    order::Column::LastOperationMessage,
                                    Expr::value(format!(
                                        "OrangeConnex reports an exception on outbound order {number}; see OrangeConnex's portal."
                                    )),
                                )
                                .col_expr(order::Column::UpdatedAt, Expr::value(now))
                                .filter(order::Column::Id.eq(order_id))
                                .exec(&txn)
                                .await?;
                        }
                        (_, Some(p)) => {
                            let message = format!(
                                "Pushed to OrangeConnex ({number}): tracking number {} ({}).",
                                p.tracking_number,
                                p.carrier_name
                                    .clone()
                                    .or(p.carrier_code.clone())
                                    .unwrap_or_else(|| "carrier not named".into())
                            );
                            let outcome = OrderOutcome {
                                order_id,
                                status: Some(FulfillmentStatus::Pushed),
                                waybill_id: Some(waybill_id),
                                errors: Vec::new(),
                            };
                            changes.push(push_change(&outcome, Some(&p.tracking_number)));
                            bookings.push(Booked {
                                order_id,
                                waybill_id,
                                booking: Booking {
                                    tracking_number: Some(p.tracking_number.clone()),
                                    provider_reference: number.clone(),
                                },
                                message,
                            });
                            out.tracking_received += 1;
                        }
                        _ => {}
                    }
                }
                None if s.auto_fulfilled => {
                    let imported = import_auto_fulfilled(&txn, acc, s, now).await?;
                    out.auto_fulfilled_imported += 1;
                    changes.extend(imported);
                }
                // Placed by someone else (OC's portal, another ERP): not ours to track.
                None => {}
            }
        }
        record_bookings(&txn, &bookings, now).await?;
        account::Entity::update_many()
            .col_expr(account::Column::SyncWatermark, Expr::value(now))
            .col_expr(account::Column::LastSyncedAt, Expr::value(now))
            .col_expr(account::Column::LastSyncError, Expr::value(Option::<String>::None))
            .filter(account::Column::Id.eq(acc.id))
            .exec(&txn)
            .await?;
        let events = audit::record_many(&txn, org, By::System, changes).await?;
        txn.commit().await?;
        self.bus.publish_all(events);
        Ok(())
    }

    async fn sync_inbound(&self, acc: &account::Model, out: &mut SyncOutcome) -> DomainResult<()> {
        let open = inbound_order::Entity::find()
            .filter(inbound_order::Column::AccountId.eq(acc.id))
            .filter(inbound_order::Column::InboundNumber.is_not_null())
            .filter(inbound_order::Column::Status.is_not_in([
                InboundStatus::Completed,
                InboundStatus::Cancelled,
                InboundStatus::Draft,
            ]))
            .all(&self.db)
            .await?;
        if open.is_empty() {
            return Ok(());
        }
        let numbers: Vec<String> = open.iter().filter_map(|o| o.inbound_number.clone()).collect();
        let states = self
            .call(acc.id, |c, token| {
                let numbers = numbers.clone();
                async move { c.inbound_details(&token, &numbers).await }
            })
            .await
            .map_err(|e| call_error(e, "inbound"))?;
        let now = Utc::now();
        let ids: Vec<Uuid> = open.iter().map(|o| o.id).collect();
        let lines = inbound_order_line::Entity::find()
            .filter(inbound_order_line::Column::InboundOrderId.is_in(ids.clone()))
            .all(&self.db)
            .await?;
        let with_clearance: Vec<Uuid> = inbound_order_file::Entity::find()
            .filter(inbound_order_file::Column::InboundOrderId.is_in(ids))
            .filter(inbound_order_file::Column::Kind.eq(InboundFileKind::Clearance))
            .filter(inbound_order_file::Column::UploadedToProviderAt.is_not_null())
            .all(&self.db)
            .await?
            .into_iter()
            .map(|f| f.inbound_order_id)
            .collect();
        let sku_ids: Vec<Uuid> = lines.iter().map(|l| l.sku_id).collect();
        let mfsku: HashMap<Uuid, String> = sku::Entity::find()
            .filter(sku::Column::Id.is_in(sku_ids))
            .all(&self.db)
            .await?
            .into_iter()
            .filter_map(|s| s.warehouse_sku_id.map(|w| (s.id, w)))
            .collect();
        let txn = begin_write(&self.db).await?;
        let mut changes = Vec::new();
        for s in &states {
            let Some(row) = open.iter().find(|o| o.inbound_number.as_deref() == Some(s.inbound_number.as_str())) else {
                continue;
            };
            let mut status = inbound_status(s.phase);
            // Put away but the clearance papers are still missing: not complete for us.
            if status == InboundStatus::Completed && row.need_clearance_doc && !with_clearance.contains(&row.id) {
                status = InboundStatus::Receiving;
            }
            let mut changed = status != row.status;
            let mine: Vec<&inbound_order_line::Model> = lines.iter().filter(|l| l.inbound_order_id == row.id).collect();
            let counts = allocate(&mine, &mfsku, &s.lines);
            // A count OC does not report (no line names it) keeps the one we have.
            let has_received = s.lines.iter().any(|x| x.received.is_some());
            let has_put_away = s.lines.iter().any(|x| x.put_away.is_some());
            for l in &mine {
                let (received, put_away) = counts.get(&l.id).copied().unwrap_or((0, 0));
                let received = if has_received { received } else { l.received_quantity };
                let put_away = if has_put_away { put_away } else { l.putaway_quantity };
                if received != l.received_quantity || put_away != l.putaway_quantity {
                    changed = true;
                    inbound_order_line::Entity::update_many()
                        .col_expr(inbound_order_line::Column::ReceivedQuantity, Expr::value(received))
                        .col_expr(inbound_order_line::Column::PutawayQuantity, Expr::value(put_away))
                        .col_expr(inbound_order_line::Column::UpdatedAt, Expr::value(now))
                        .filter(inbound_order_line::Column::Id.eq(l.id))
                        .exec(&txn)
                        .await?;
                }
            }
            let mut a: inbound_order::ActiveModel = row.clone().into();
            a.status = Set(status);
            a.last_polled_at = Set(Some(now));
            if changed {
                a.updated_at = Set(now);
                out.inbound_updated += 1;
                changes.push(Change {
                    action: "inbound_order.updated",
                    entity_type: "InboundOrder",
                    entity_id: Some(row.id),
                    data: Some(serde_json::json!({ "inboundNumber": s.inbound_number, "status": status })),
                });
            }
            a.update(&txn).await?;
        }
        let events = audit::record_many(&txn, acc.organization_id, By::System, changes).await?;
        txn.commit().await?;
        self.bus.publish_all(events);
        Ok(())
    }
}

/// OC's received / put-away counts spread over our lines: a count naming a carton goes to
/// that carton's line of the SKU; one without a carton fills the SKU's lines in order, each
/// up to its quantity (never counted twice).
fn allocate(
    lines: &[&inbound_order_line::Model],
    mfsku: &HashMap<Uuid, String>,
    reported: &[crate::connectors::logistics::InboundLineState],
) -> HashMap<Uuid, (i32, i32)> {
    let mut out: HashMap<Uuid, (i32, i32)> = lines.iter().map(|l| (l.id, (0, 0))).collect();
    for x in reported {
        let targets: Vec<&&inbound_order_line::Model> = lines
            .iter()
            .filter(|l| mfsku.get(&l.sku_id) == Some(&x.warehouse_sku_id))
            .filter(|l| x.carton.as_deref().is_none_or(|c| c == l.seller_carton_number))
            .collect();
        let (mut received, mut put_away) = (Ord::max(x.received.unwrap_or(0), 0), Ord::max(x.put_away.unwrap_or(0), 0));
        for l in targets {
            let Some(slot) = out.get_mut(&l.id) else { continue };
            let take = Ord::min(received, l.quantity - slot.0);
            slot.0 += take;
            received -= take;
            let take = Ord::min(put_away, l.quantity - slot.1);
            slot.1 += take;
            put_away -= take;
        }
    }
    out
}

fn call_error(e: CallError, what: &str) -> DomainError {
    match e {
        CallError::Domain(e) => e,
        CallError::Connector(e) if e.is_retryable() => DomainError::Conflict(format!("OrangeConnex {what} poll: {e}")),
        other => other.into_domain(&["input", "accountId"]),
    }
}

/// Records an order OC fulfilled on its own (once: keyed by OC's number) and marks the
/// matching eBay order shipped.
async fn import_auto_fulfilled(
    txn: &sea_orm::DatabaseTransaction,
    acc: &account::Model,
    s: &OutboundState,
    now: chrono::DateTime<Utc>,
) -> DomainResult<Vec<Change>> {
    let parcel = s.parcel.as_ref();
    let id = Uuid::now_v7();
    let row = outbound_order::ActiveModel {
        id: Set(id),
        organization_id: Set(acc.organization_id),
        account_id: Set(acc.id),
        order_id: Set(None),
        waybill_id: Set(None),
        // OC's number: unique, unlike the eBay order id (OC may ship one order twice).
        seller_order_number: Set(s.order_number.clone()),
        outbound_number: Set(Some(s.order_number.clone())),
        status: Set(outbound_status(s.phase)),
        carrier: Set(parcel.and_then(|p| p.carrier_name.clone().or(p.carrier_code.clone()))),
        tracking_number: Set(parcel.map(|p| p.tracking_number.clone())),
        chargeable_weight_grams: Set(parcel.and_then(|p| p.chargeable_weight_grams)),
        fee_minor: Set(parcel.and_then(|p| p.fee_minor)),
        fee_currency: Set(parcel.and_then(|p| p.fee_currency.clone())),
        auto_fulfilled: Set(true),
        raw: Set(s.platform_order_id.as_ref().map(|e| serde_json::json!({ "ebayOrderId": e }))),
        last_polled_at: Set(Some(now)),
        created_at: Set(now),
        updated_at: Set(now),
    };
    // Two polls at once: the second finds the row there and does nothing.
    let inserted = outbound_order::Entity::insert(row)
        .on_conflict(OnConflict::new().do_nothing().to_owned())
        .exec_without_returning(txn)
        .await?;
    if inserted == 0 {
        return Ok(Vec::new());
    }
    let mut changes = vec![Change {
        action: "outbound_order.auto_fulfilled",
        entity_type: "OutboundOrder",
        entity_id: Some(id),
        data: Some(serde_json::json!({ "orderNumber": s.order_number, "ebayOrderId": s.platform_order_id })),
    }];
    let Some(row) = outbound_order::Entity::find_by_id(id).one(txn).await? else { return Ok(changes) };
    changes.extend(mark_auto_fulfilled(txn, acc, &row, s, now).await?);
    Ok(changes)
}

/// Links an auto-fulfilled outbound order to the tenant's eBay order (when it is there) and,
/// once OC has packed or shipped it, marks that order SHIPPED with OC's tracking number —
/// only from UNPUSHED / PUSH_FAILED: an order pushed elsewhere is left alone. Runs on every
/// poll until done, so an order downloaded after OC shipped it is still caught.
async fn mark_auto_fulfilled(
    txn: &sea_orm::DatabaseTransaction,
    acc: &account::Model,
    row: &outbound_order::Model,
    s: &OutboundState,
    now: chrono::DateTime<Utc>,
) -> DomainResult<Vec<Change>> {
    let org = acc.organization_id;
    let mut changes = Vec::new();
    let order_id = match (row.order_id, &s.platform_order_id) {
        (Some(id), _) => Some(id),
        (None, Some(ebay_id)) => {
            let found = order::Entity::find()
                .filter(order::Column::OrganizationId.eq(org))
                .filter(order::Column::Platform.eq(Platform::Ebay))
                .filter(order::Column::PlatformOrderId.eq(ebay_id.clone()))
                .one(txn)
                .await?
                .map(|o| o.id);
            if let Some(id) = found {
                outbound_order::Entity::update_many()
                    .col_expr(outbound_order::Column::OrderId, Expr::value(id))
                    .filter(outbound_order::Column::Id.eq(row.id))
                    .exec(txn)
                    .await?;
            }
            found
        }
        (None, None) => None,
    };
    let (Some(order_id), Some(p)) = (order_id, s.parcel.as_ref()) else { return Ok(changes) };
    if !matches!(s.phase, OutboundPhase::Shipped | OutboundPhase::Packed) {
        return Ok(changes);
    }
    let res = order::Entity::update_many()
        .col_expr(order::Column::FulfillmentStatus, Expr::value(FulfillmentStatus::Shipped))
        .col_expr(order::Column::TrackingNumber, Expr::value(p.tracking_number.clone()))
        .col_expr(order::Column::ShippedAt, Expr::value(now))
        .col_expr(order::Column::LastErrorCode, Expr::value(Option::<String>::None))
        .col_expr(
            order::Column::LastOperationMessage,
            Expr::value(format!(
                "Shipped by OrangeConnex automatically (autoFulfillmentEF, {}): tracking number {}.",
                s.order_number, p.tracking_number
            )),
        )
        .col_expr(order::Column::Version, Expr::col(order::Column::Version).add(1))
        .col_expr(order::Column::UpdatedAt, Expr::value(now))
        .filter(order::Column::Id.eq(order_id))
        .filter(order::Column::OrganizationId.eq(org))
        .filter(order::Column::FulfillmentStatus.is_in([FulfillmentStatus::Unpushed, FulfillmentStatus::PushFailed]))
        .exec(txn)
        .await?;
    if res.rows_affected == 1 {
        changes.push(Change {
            action: "order.shipped",
            entity_type: "Order",
            entity_id: Some(order_id),
            data: Some(serde_json::json!({ "trackingNumber": p.tracking_number, "autoFulfilled": true, "outboundNumber": s.order_number })),
        });
    }
    Ok(changes)
}

/// Enqueues a sync job for every active OrangeConnex account; returns how many are new.
pub async fn enqueue_all(db: &sea_orm::DatabaseConnection) -> DomainResult<usize> {
    let mut created = 0;
    for a in super::active_accounts(db).await? {
        let payload = serde_json::to_value(SyncPayload { account_id: a.id }).map_err(DomainError::internal)?;
        let (_, new) = crate::jobs::queue::enqueue(
            db,
            crate::jobs::NewJob::new(JOB_KIND, Some(a.organization_id), payload).key(format!("{JOB_KIND}:{}", a.id)),
        )
        .await?;
        created += usize::from(new);
    }
    Ok(created)
}

impl Warehouse {
    /// The scheduled job: orders and inbound, the linked SKUs' review states, stock.
    pub async fn run_sync_job(&self, account_id: Uuid) -> DomainResult<SyncOutcome> {
        let Some(acc) = account::Entity::find_by_id(account_id).one(&self.db).await? else {
            return Ok(SyncOutcome::default());
        };
        if super::check_account(&acc).is_err() {
            return Ok(SyncOutcome::default());
        }
        let out = self.sync_account(&acc).await?;
        // Review states of every SKU linked to the account (SKUQuery v3 takes lists, not windows).
        self.pull_skus_of(&acc, None, false, None).await?;
        self.refresh_inventory_of(&acc).await?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connectors::logistics::InboundLineState;

    fn line(carton: &str, sku: Uuid, quantity: i32) -> inbound_order_line::Model {
        let now = Utc::now();
        inbound_order_line::Model {
            id: Uuid::now_v7(),
            organization_id: Uuid::nil(),
            inbound_order_id: Uuid::nil(),
            seller_carton_number: carton.into(),
            sku_id: sku,
            quantity,
            received_quantity: 0,
            putaway_quantity: 0,
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn counts_are_spread_not_doubled() {
        let sku = Uuid::now_v7();
        let mfsku = HashMap::from([(sku, "OC1".to_owned())]);
        let (a, b) = (line("C1", sku, 40), line("C2", sku, 30));
        let lines = [&a, &b];
        let state = |carton: Option<&str>, received, put_away| InboundLineState {
            warehouse_sku_id: "OC1".into(),
            carton: carton.map(str::to_owned),
            quantity: 0,
            received: Some(received),
            put_away: Some(put_away),
        };
        // Without cartons: 50 received fills C1 (40) then C2 (10), never 50 each.
        let got = allocate(&lines, &mfsku, &[state(None, 50, 45)]);
        assert_eq!(got[&a.id], (40, 40));
        assert_eq!(got[&b.id], (10, 5));
        // With cartons: each to its own line, capped at the line's quantity.
        let got = allocate(&lines, &mfsku, &[state(Some("C2"), 35, 30), state(Some("C1"), 1, 0)]);
        assert_eq!(got[&a.id], (1, 0));
        assert_eq!(got[&b.id], (30, 30));
    }
}
