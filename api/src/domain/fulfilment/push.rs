//! Push (推送运单): validate and move orders to PUSHING with an UNCONFIRMED waybill in the
//! request's transaction, enqueueing one durable job for the batch (transactional
//! outbox); the job books the forecasts chunk by chunk, each chunk one transaction that
//! books with the provider and records FORECASTED/PUSHED (or PUSH_FAILED with the
//! provider's message) together. A crash between chunks resumes with the orders still
//! PUSHING; finished ones are never touched again.

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use entity::{
    account, channel,
    enums::{ChannelProvider, FulfillmentStatus, MarketplaceState, Platform, WaybillStatus},
    order, order_item, sku, waybill,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, Set, TransactionTrait,
    sea_query::{Expr, ExprTrait},
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    BatchOutcome, Fulfilment, OrderOutcome, Providers, active_waybills, batch_ids, channels_of,
    idempotency::{self, Claim},
    lock_orders, provider, push_event_data,
    snapshot::{self, Snapshot},
    state::{self, Action},
};
use crate::{
    auth::Actor,
    db::begin_write,
    domain::audit::{self, By, Change},
    error::{DomainError, DomainResult, UserError, UserErrorCode},
    events::{DomainEvent, EventBus},
    jobs::{NewJob, queue},
};

pub const JOB_KIND: &str = "orders.push";
/// Orders per transaction in the push job.
pub const CHUNK: usize = 250;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PushPayload {
    pub order_ids: Vec<Uuid>,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PushProgress {
    pub total: usize,
    pub done: usize,
    pub pushed: usize,
    pub failed: usize,
}

/// `OD` + the platform order id (letters, digits and `-` only), unique among the tenant's
/// active waybills: a clash (same order number in two accounts) gets the order id's tail.
fn customer_reference(o: &order::Model, taken: &HashSet<String>) -> String {
    let clean: String =
        o.platform_order_id.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').take(48).collect();
    let base = format!("OD{clean}");
    if taken.contains(&base) {
        let tail = o.id.simple().to_string();
        format!("{base}-{}", &tail[tail.len() - 8..])
    } else {
        base
    }
}

fn fail_message(errors: &[UserError]) -> String {
    errors.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join(" ")
}

impl Fulfilment {
    /// `pushOrders`: one outcome per order; valid orders go PUSHING and a job books them.
    pub async fn push(&self, actor: &Actor, ids: &[Uuid], key: Option<&str>) -> DomainResult<BatchOutcome> {
        actor.require_write()?;
        let ids = batch_ids(ids)?;
        let org = actor.tenant().id();
        let txn = begin_write(&self.db).await?;
        let claim = match key {
            Some(k) => {
                Some(idempotency::claim(&txn, org, "pushOrders", k, &idempotency::request_hash("push", &ids)).await?)
            }
            None => None,
        };
        if let Some(Claim::Replay(v)) = claim {
            txn.rollback().await?;
            return serde_json::from_value(v).map_err(DomainError::internal);
        }
        let orders = lock_orders(&txn, org, &ids).await?;
        let order_ids: Vec<Uuid> = orders.keys().copied().collect();
        let items = items_with_skus(&txn, org, &order_ids).await?;
        let channel_ids: Vec<Uuid> =
            orders.values().filter_map(|o| o.channel_id).collect::<HashSet<_>>().into_iter().collect();
        let channels = channels_of(&txn, org, &channel_ids).await?;
        let existing = active_waybills(&txn, &order_ids).await?;
        let edited_before = last_edited_cancelled(&txn, &order_ids).await?;
        // OrangeConnex wants the eBay seller's user id with eBay orders: refused here when
        // the account has none, before anything is placed.
        let oc_ebay_accounts: Vec<Uuid> = orders
            .values()
            .filter(|o| o.platform == Platform::Ebay)
            .filter(|o| {
                o.channel_id.and_then(|c| channels.get(&c)).is_some_and(|c| c.provider == ChannelProvider::Orangeconnex)
            })
            .map(|o| o.account_id)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let ebay_accounts: HashMap<Uuid, account::Model> = if oc_ebay_accounts.is_empty() {
            HashMap::new()
        } else {
            account::Entity::find()
                .filter(account::Column::Id.is_in(oc_ebay_accounts))
                .filter(account::Column::OrganizationId.eq(org))
                .all(&txn)
                .await?
                .into_iter()
                .map(|a| (a.id, a))
                .collect()
        };

        let now = Utc::now();
        let mut results = Vec::with_capacity(ids.len());
        let mut failed: Vec<(Uuid, Vec<UserError>)> = Vec::new();
        let mut ready: Vec<(&order::Model, Snapshot, Uuid)> = Vec::new();
        for id in &ids {
            let Some(o) = orders.get(id) else {
                results.push(OrderOutcome::not_found(*id));
                continue;
            };
            if state::next(o.fulfillment_status, Action::Push).is_none() {
                results.push(OrderOutcome::refused(
                    o,
                    UserErrorCode::InvalidState,
                    state::refusal(o.fulfillment_status, Action::Push),
                ));
                continue;
            }
            if let Some(r) = market_refusal(o) {
                results.push(OrderOutcome::refused(o, r.code, r.message));
                continue;
            }
            let Some(ch) = o.channel_id.and_then(|c| channels.get(&c)) else {
                let e = UserError::new(
                    UserErrorCode::ChannelNotSet,
                    &["input", "orderIds"],
                    "Set a shipping channel before pushing (设置渠道).",
                );
                failed.push((o.id, vec![e]));
                continue;
            };
            // Rebuilt from the order and the catalogue as they stand now (so SKU fixes
            // apply), except the parts a user edited on the order's waybill (kept across a
            // reset; dropped when the order's own recipient is corrected later).
            let lines = items.get(&o.id).map(Vec::as_slice).unwrap_or_default();
            let refs: Vec<(&order_item::Model, Option<&sku::Model>)> =
                lines.iter().map(|(i, s)| (i, s.as_ref())).collect();
            let mut snap = snapshot::build(o, &refs);
            let edit = existing.get(&o.id).or_else(|| edited_before.get(&o.id)).filter(|w| w.edited_at.is_some());
            if let Some(prev) = edit.and_then(|w| Snapshot::deserialize(&w.snapshot).ok()) {
                snap.apply_edits(prev);
            }
            let snap = snapshot::normalise(snap, ch.address_policy);
            let mut errors = snapshot::check(&snap, ch);
            if let Err(DomainError::User(e)) = self.providers.for_channel(ch) {
                errors.extend(e);
            }
            if ch.provider == ChannelProvider::Orangeconnex {
                use crate::domain::warehouse::outbound;
                errors.extend(outbound::check(o, &snap, ch, &refs));
                let acc = ebay_accounts.get(&o.account_id);
                if o.platform == Platform::Ebay && acc.and_then(outbound::ebay_user_id).is_none() {
                    errors.push(UserError::new(
                        UserErrorCode::EbayIdMissing,
                        &["input", "orderIds"],
                        outbound::ebay_id_missing(acc),
                    ));
                }
            }
            if errors.is_empty() {
                ready.push((o, snap, ch.id));
            } else {
                failed.push((o.id, errors));
            }
        }

        // Validation failures: PUSH_FAILED with the first code and every message; one
        // statement per distinct (code, message), which batches share (e.g. no channel).
        let mut changes = Vec::new();
        let mut by_message: HashMap<(Option<String>, String), Vec<Uuid>> = HashMap::new();
        for (id, errors) in &failed {
            by_message.entry((errors.first().map(|e| e.code.as_str()), fail_message(errors))).or_default().push(*id);
        }
        for ((code, message), ids) in by_message {
            for chunk in ids.chunks(500) {
                order::Entity::update_many()
                    .col_expr(order::Column::FulfillmentStatus, Expr::value(FulfillmentStatus::PushFailed))
                    .col_expr(order::Column::LastErrorCode, Expr::value(code.clone()))
                    .col_expr(order::Column::LastOperationMessage, Expr::value(message.clone()))
                    .col_expr(order::Column::Version, Expr::col(order::Column::Version).add(1))
                    .col_expr(order::Column::UpdatedAt, Expr::value(now))
                    .filter(order::Column::Id.is_in(chunk.iter().copied()))
                    .exec(&txn)
                    .await?;
            }
        }
        for (id, errors) in &failed {
            let outcome = OrderOutcome {
                order_id: *id,
                status: Some(FulfillmentStatus::PushFailed),
                waybill_id: existing.get(id).map(|w| w.id),
                errors: errors.clone(),
            };
            changes.push(Change {
                action: "order.push_failed",
                entity_type: "Order",
                entity_id: Some(*id),
                data: Some(push_event_data(&outcome, None)),
            });
            results.push(outcome);
        }

        // Valid orders: PUSHING, with an UNCONFIRMED waybill holding what will be sent.
        let ready_ids: Vec<Uuid> = ready.iter().map(|(o, _, _)| o.id).collect();
        let mut waybill_of: HashMap<Uuid, Uuid> = HashMap::new();
        if !ready.is_empty() {
            for chunk in ready_ids.chunks(500) {
                let res = order::Entity::update_many()
                    .col_expr(order::Column::FulfillmentStatus, Expr::value(FulfillmentStatus::Pushing))
                    .col_expr(order::Column::LastErrorCode, Expr::value(Option::<String>::None))
                    .col_expr(order::Column::LastOperationMessage, Expr::value("Pushing…"))
                    .col_expr(order::Column::Version, Expr::col(order::Column::Version).add(1))
                    .col_expr(order::Column::UpdatedAt, Expr::value(now))
                    .filter(order::Column::Id.is_in(chunk.iter().copied()))
                    .filter(order::Column::FulfillmentStatus.is_in(state::sources(Action::Push)))
                    .exec(&txn)
                    .await?;
                if res.rows_affected != chunk.len() as u64 {
                    // Impossible while the rows are locked; refuse rather than half-apply.
                    return Err(DomainError::Conflict("orders changed meanwhile; try again".into()));
                }
            }
            let mut taken = taken_references(&txn, org, &ready).await?;
            let mut new_rows = Vec::new();
            for (o, snap, channel_id) in &ready {
                let json = serde_json::to_value(snap).map_err(DomainError::internal)?;
                match existing.get(&o.id) {
                    Some(w) if w.status == WaybillStatus::Unconfirmed => {
                        waybill::Entity::update_many()
                            .col_expr(waybill::Column::Snapshot, Expr::value(json))
                            .col_expr(waybill::Column::ChannelId, Expr::value(*channel_id))
                            .col_expr(waybill::Column::ErrorCode, Expr::value(Option::<String>::None))
                            .col_expr(waybill::Column::ErrorMessage, Expr::value(Option::<String>::None))
                            .col_expr(waybill::Column::UpdatedAt, Expr::value(now))
                            .filter(waybill::Column::Id.eq(w.id))
                            .exec(&txn)
                            .await?;
                        waybill_of.insert(o.id, w.id);
                    }
                    Some(w) => {
                        return Err(DomainError::internal(sea_orm::DbErr::Custom(format!(
                            "order {} is pushable but has a {:?} waybill",
                            o.id, w.status
                        ))));
                    }
                    None => {
                        let id = Uuid::now_v7();
                        let reference = customer_reference(o, &taken);
                        taken.insert(reference.clone());
                        new_rows.push(waybill::ActiveModel {
                            id: Set(id),
                            organization_id: Set(org),
                            order_id: Set(Some(o.id)),
                            channel_id: Set(*channel_id),
                            customer_reference: Set(reference),
                            tracking_number: Set(None),
                            status: Set(WaybillStatus::Unconfirmed),
                            snapshot: Set(json),
                            provider_reference: Set(None),
                            error_message: Set(None),
                            error_code: Set(None),
                            // A carried-over edit stays marked as one.
                            edited_at: Set(edited_before.get(&o.id).and_then(|w| w.edited_at)),
                            attempts: Set(0),
                            printed_at: Set(None),
                            forecasted_at: Set(None),
                            created_at: Set(now),
                            updated_at: Set(now),
                        });
                        waybill_of.insert(o.id, id);
                    }
                }
            }
            for chunk in new_rows.chunks(500) {
                waybill::Entity::insert_many(chunk.to_vec()).exec_without_returning(&txn).await.map_err(|e| {
                    DomainError::unique_or(
                        e,
                        DomainError::Conflict("another push created these waybills meanwhile; try again".into()),
                    )
                })?;
            }
        }
        let job_id = if ready_ids.is_empty() {
            None
        } else {
            let payload =
                serde_json::to_value(PushPayload { order_ids: ready_ids.clone() }).map_err(DomainError::internal)?;
            let mut job = NewJob::new(JOB_KIND, Some(org), payload).key(format!("{JOB_KIND}:{}", Uuid::now_v7()));
            job.priority = 10;
            let (job, _) = queue::enqueue(&txn, job).await?;
            changes.push(Change {
                action: "orders.push_requested",
                entity_type: "Job",
                entity_id: Some(job.id),
                data: Some(serde_json::json!({ "orders": ready_ids.len() })),
            });
            Some(job.id)
        };
        for o in &ready_ids {
            results.push(OrderOutcome::ok(*o, FulfillmentStatus::Pushing, waybill_of.get(o).copied()));
        }
        // Input order, whatever bucket each order fell in.
        let pos: HashMap<Uuid, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
        results.sort_by_key(|r| pos.get(&r.order_id).copied().unwrap_or(usize::MAX));
        let outcome = BatchOutcome { results, job_id };
        if let Some(Claim::Fresh(key_id)) = claim {
            idempotency::store(&txn, key_id, serde_json::to_value(&outcome).map_err(DomainError::internal)?).await?;
        }
        let events = audit::record_many(&txn, org, By::Actor(actor), changes).await?;
        txn.commit().await?;
        self.bus.publish_all(events);
        Ok(outcome)
    }
}

/// Each order's most recent cancelled waybill that a user had edited (its edits carry
/// over to the next push after a reset).
async fn last_edited_cancelled(
    db: &impl ConnectionTrait,
    order_ids: &[Uuid],
) -> DomainResult<HashMap<Uuid, waybill::Model>> {
    let mut out: HashMap<Uuid, waybill::Model> = HashMap::new();
    for chunk in order_ids.chunks(500) {
        let rows = waybill::Entity::find()
            .filter(waybill::Column::OrderId.is_in(chunk.iter().copied()))
            .filter(waybill::Column::Status.eq(WaybillStatus::Cancelled))
            .filter(waybill::Column::EditedAt.is_not_null())
            .all(db)
            .await?;
        for w in rows {
            let Some(o) = w.order_id else { continue };
            if out.get(&o).is_none_or(|prev| prev.edited_at < w.edited_at) {
                out.insert(o, w);
            }
        }
    }
    Ok(out)
}

/// Lines of each order with their catalogue SKU.
pub(super) async fn items_with_skus(
    db: &impl ConnectionTrait,
    org: Uuid,
    order_ids: &[Uuid],
) -> DomainResult<HashMap<Uuid, Vec<(order_item::Model, Option<sku::Model>)>>> {
    let mut items = Vec::new();
    for chunk in order_ids.chunks(500) {
        items.extend(
            order_item::Entity::find()
                .filter(order_item::Column::OrganizationId.eq(org))
                .filter(order_item::Column::OrderId.is_in(chunk.iter().copied()))
                .all(db)
                .await?,
        );
    }
    let sku_ids: Vec<Uuid> = items.iter().filter_map(|i| i.sku_id).collect::<HashSet<_>>().into_iter().collect();
    let mut skus = HashMap::new();
    for chunk in sku_ids.chunks(500) {
        skus.extend(
            sku::Entity::find()
                .filter(sku::Column::OrganizationId.eq(org))
                .filter(sku::Column::Id.is_in(chunk.iter().copied()))
                .all(db)
                .await?
                .into_iter()
                .map(|s| (s.id, s)),
        );
    }
    let mut out: HashMap<Uuid, Vec<(order_item::Model, Option<sku::Model>)>> = HashMap::new();
    for i in items {
        let s = i.sku_id.and_then(|id| skus.get(&id).cloned());
        out.entry(i.order_id).or_default().push((i, s));
    }
    for v in out.values_mut() {
        v.sort_by_key(|(i, _)| i.id);
    }
    Ok(out)
}

/// Customer references already used by the tenant's active waybills, among those the
/// batch would use.
async fn taken_references(
    db: &impl ConnectionTrait,
    org: Uuid,
    ready: &[(&order::Model, Snapshot, Uuid)],
) -> DomainResult<HashSet<String>> {
    let wanted: Vec<String> = ready.iter().map(|(o, _, _)| customer_reference(o, &HashSet::new())).collect();
    let mut out = HashSet::new();
    for chunk in wanted.chunks(500) {
        let rows: Vec<String> = waybill::Entity::find()
            .select_only()
            .column(waybill::Column::CustomerReference)
            .filter(waybill::Column::OrganizationId.eq(org))
            .filter(waybill::Column::Status.ne(WaybillStatus::Cancelled))
            .filter(waybill::Column::CustomerReference.is_in(chunk.iter().cloned()))
            .into_tuple()
            .all(db)
            .await?;
        out.extend(rows);
    }
    Ok(out)
}

/// Books the forecasts of the orders among `ids` that are still PUSHING (one transaction).
/// Returns the outcomes; events are published after commit.
pub async fn book_chunk(
    db: &DatabaseConnection,
    bus: &EventBus,
    providers: &Providers,
    org: Uuid,
    ids: &[Uuid],
) -> DomainResult<Vec<OrderOutcome>> {
    // Remote providers are called first, outside the write transaction: no database lock
    // is held across their HTTP calls (or their token refreshes).
    let mut remote = call_remote(db, providers, org, ids).await?;
    let txn = begin_write(db).await?;
    let orders = lock_orders(&txn, org, ids).await?;
    // Cancelled (or shipped, or a cancellation asked for) on the marketplace since the
    // push was accepted (a download in between saw it): refused, nothing booked.
    let (pushing, changed_on_marketplace): (Vec<&order::Model>, Vec<&order::Model>) = ids
        .iter()
        .filter_map(|id| orders.get(id))
        .filter(|o| o.fulfillment_status == FulfillmentStatus::Pushing)
        .partition(|o| market_refusal(o).is_none());
    // Booked remotely for an order that changed meanwhile (cancelled while the call was
    // under way): withdrawn again after this transaction.
    let orphans: Vec<(Uuid, provider::Booking)> = remote
        .results
        .iter()
        .filter_map(|(w, r)| r.as_ref().ok().map(|b| (*w, b.clone())))
        .filter(|(w, _)| !pushing.iter().any(|o| remote.order_of.get(w) == Some(&o.id)))
        .collect();
    let mut outcomes = Vec::new();
    let mut changes = Vec::new();
    let now = Utc::now();
    if !changed_on_marketplace.is_empty() {
        let ids: Vec<Uuid> = changed_on_marketplace.iter().map(|o| o.id).collect();
        let their_waybills = active_waybills(&txn, &ids).await?;
        for o in changed_on_marketplace {
            // Already placed with a remote provider (OrangeConnex) by an earlier run of this
            // job: left PUSHING for the warehouse poll, which knows that order; refusing it
            // here would leave OC's order live and unseen.
            if their_waybills.get(&o.id).is_some_and(|w| w.provider_reference.is_some()) {
                continue;
            }
            let Some(refusal) = market_refusal(o) else { continue };
            let outcome = record_refusal(&txn, o, their_waybills.get(&o.id), &refusal, now).await?;
            changes.push(push_change(&outcome, None));
            outcomes.push(outcome);
        }
    }
    if pushing.is_empty() {
        let events = audit::record_many(&txn, org, By::System, changes).await?;
        txn.commit().await?;
        bus.publish_all(events);
        withdraw(db, providers, &remote, orphans).await;
        return Ok(outcomes);
    }
    let pushing_ids: Vec<Uuid> = pushing.iter().map(|o| o.id).collect();
    let waybills = active_waybills(&txn, &pushing_ids).await?;
    let channel_ids: Vec<Uuid> = waybills.values().map(|w| w.channel_id).collect::<HashSet<_>>().into_iter().collect();
    let channels = channels_of(&txn, org, &channel_ids).await?;

    // Group by channel; each group is one provider call.
    // Channels in id order: two jobs sharing channels lock their rows in the same order.
    let mut groups: std::collections::BTreeMap<Uuid, Vec<(&order::Model, &waybill::Model, Snapshot)>> =
        std::collections::BTreeMap::new();
    let mut bookings: Vec<Booked> = Vec::new();
    for o in &pushing {
        let snap = waybills.get(&o.id).and_then(|w| Snapshot::deserialize(&w.snapshot).ok().map(|s| (w, s)));
        match snap {
            // Accepted by a provider that assigns the number later: the polling job
            // finishes it.
            Some((w, _)) if w.provider_reference.is_some() && w.tracking_number.is_none() => {}
            Some((w, s)) if channels.contains_key(&w.channel_id) => {
                groups.entry(w.channel_id).or_default().push((o, w, s))
            }
            _ => {
                let refusal = provider::Refusal {
                    code: UserErrorCode::ChannelUnavailable,
                    message: "The order's waybill or channel is missing; set a channel and push again.".into(),
                };
                let outcome = record_refusal(&txn, o, waybills.get(&o.id), &refusal, now).await?;
                changes.push(push_change(&outcome, None));
                outcomes.push(outcome);
            }
        }
    }
    for (channel_id, group) in &groups {
        let Some(ch) = channels.get(channel_id) else { continue };
        let provider = match providers.for_channel(ch) {
            Ok(p) => p,
            Err(DomainError::User(errs)) => {
                let msg = errs.first().map(|e| e.message.clone()).unwrap_or_default();
                for (o, w, _) in group {
                    let r = provider::Refusal { code: UserErrorCode::ChannelUnavailable, message: msg.clone() };
                    let outcome = record_refusal(&txn, o, Some(w), &r, now).await?;
                    changes.push(push_change(&outcome, None));
                    outcomes.push(outcome);
                }
                continue;
            }
            Err(e) => return Err(e),
        };
        let mut booked: Vec<(&order::Model, &waybill::Model, provider::Booking)> = Vec::new();
        let mut refused: Vec<(&order::Model, &waybill::Model, provider::Refusal)> = Vec::new();
        if provider.books_in_transaction() {
            let references: Vec<String> = group.iter().map(|(_, w, _)| w.id.simple().to_string()).collect();
            let parcels: Vec<provider::Parcel<'_>> = group
                .iter()
                .zip(&references)
                .map(|((o, _, s), r)| provider::Parcel { reference: r.as_str(), snapshot: s, order: Some(o) })
                .collect();
            let created = provider.create(&txn, ch, &parcels).await?;
            for ((o, w, _), result) in group.iter().zip(created) {
                match result {
                    Ok(b) => booked.push((o, w, b)),
                    Err(r) => refused.push((o, w, r)),
                }
            }
        } else {
            // Remote providers were called before this transaction (see `call_remote`).
            for (o, w, _) in group {
                match remote.results.remove(&w.id) {
                    Some(Ok(b)) => booked.push((o, w, b)),
                    Some(Err(r)) => refused.push((o, w, r)),
                    // Not called this round (it changed meanwhile): left for its own job.
                    None => {}
                }
            }
        }
        if !provider.books_in_transaction() {
            let recorded: Vec<provider::Recorded<'_>> = booked
                .iter()
                .map(|(o, w, b)| provider::Recorded {
                    order: o,
                    waybill_id: w.id,
                    reference: w.id.simple().to_string(),
                    booking: b,
                })
                .collect();
            provider.record(&txn, ch, &recorded).await?;
        }
        for (o, w, refusal) in refused {
            let outcome = record_refusal(&txn, o, Some(w), &refusal, now).await?;
            changes.push(push_change(&outcome, None));
            outcomes.push(outcome);
        }
        for (o, w, b) in booked {
            match &b.tracking_number {
                Some(tracking) => {
                    let message = format!("Pushed to {}: tracking number {tracking}.", ch.code);
                    let outcome = OrderOutcome::ok(o.id, FulfillmentStatus::Pushed, Some(w.id));
                    changes.push(push_change(&outcome, Some(tracking)));
                    outcomes.push(outcome);
                    bookings.push(Booked { order_id: o.id, waybill_id: w.id, booking: b, message });
                }
                None => {
                    let message = format!(
                        "Placed with {} as {}; waiting for the warehouse to assign a tracking number.",
                        ch.code, b.provider_reference
                    );
                    record_placed(&txn, o.id, w.id, &b.provider_reference, &message, now).await?;
                    outcomes.push(OrderOutcome::ok(o.id, FulfillmentStatus::Pushing, Some(w.id)));
                    changes.push(Change {
                        action: "order.placed_with_provider",
                        entity_type: "Order",
                        entity_id: Some(o.id),
                        data: Some(serde_json::json!({ "waybillId": w.id, "providerReference": b.provider_reference })),
                    });
                }
            }
        }
    }
    record_bookings(&txn, &bookings, now).await?;
    let events = audit::record_many(&txn, org, By::System, changes).await?;
    txn.commit().await?;
    bus.publish_all(events);
    withdraw(db, providers, &remote, orphans).await;
    Ok(outcomes)
}

/// Why an order may not be shipped, from where it stands on its marketplace: `None` when
/// it awaits shipment there.
pub(crate) fn market_refusal(o: &order::Model) -> Option<provider::Refusal> {
    let (code, message) = match o.marketplace_state {
        MarketplaceState::AwaitingShipment => return None,
        MarketplaceState::Cancelled => {
            (UserErrorCode::MarketplaceCancelled, "The order was cancelled on the marketplace; it must not be shipped.")
        }
        MarketplaceState::CancelRequested => (
            UserErrorCode::MarketplaceCancelRequested,
            "The buyer asked the marketplace to cancel this order; settle the request there first.",
        ),
        MarketplaceState::Shipped => {
            (UserErrorCode::MarketplaceShipped, "The order was already shipped on the marketplace (outside Shipgate).")
        }
        MarketplaceState::AwaitingPayment => (
            UserErrorCode::MarketplaceNotPaid,
            "The marketplace has not released this order for shipping yet (payment or review pending).",
        ),
    };
    Some(provider::Refusal { code, message: message.to_owned() })
}

/// What remote providers answered for one chunk, by waybill id.
#[derive(Default)]
struct RemoteResults {
    results: HashMap<Uuid, Result<provider::Booking, provider::Refusal>>,
    order_of: HashMap<Uuid, Uuid>,
    channel_of: HashMap<Uuid, channel::Model>,
}

/// Books the chunk's parcels on remote providers (OrangeConnex) without holding the write
/// lock: reads the PUSHING orders, commits an attempt mark on the waybills it is about to
/// send (so a crash after the call is followed by a lookup, never a blind second
/// placement), then calls the provider in a deferred transaction (its own bookkeeping
/// only). The caller records the outcomes under its lock.
async fn call_remote(
    db: &DatabaseConnection,
    providers: &Providers,
    org: Uuid,
    ids: &[Uuid],
) -> DomainResult<RemoteResults> {
    let mut out = RemoteResults::default();
    let pushing: Vec<order::Model> = {
        let mut v = Vec::new();
        for chunk in ids.chunks(500) {
            v.extend(
                order::Entity::find()
                    .filter(order::Column::OrganizationId.eq(org))
                    .filter(order::Column::Id.is_in(chunk.iter().copied()))
                    .filter(order::Column::FulfillmentStatus.eq(FulfillmentStatus::Pushing))
                    .filter(order::Column::MarketplaceState.eq(MarketplaceState::AwaitingShipment))
                    .all(db)
                    .await?,
            );
        }
        v
    };
    if pushing.is_empty() {
        return Ok(out);
    }
    let order_ids: Vec<Uuid> = pushing.iter().map(|o| o.id).collect();
    let waybills = active_waybills(db, &order_ids).await?;
    let channel_ids: Vec<Uuid> = waybills.values().map(|w| w.channel_id).collect::<HashSet<_>>().into_iter().collect();
    let channels = channels_of(db, org, &channel_ids).await?;
    let mut groups: std::collections::BTreeMap<Uuid, Vec<(&order::Model, &waybill::Model, Snapshot)>> =
        std::collections::BTreeMap::new();
    for o in &pushing {
        let Some(w) = waybills.get(&o.id) else { continue };
        if w.status != WaybillStatus::Unconfirmed || w.provider_reference.is_some() {
            continue;
        }
        let Some(ch) = channels.get(&w.channel_id) else { continue };
        let Ok(p) = providers.for_channel(ch) else { continue };
        if p.books_in_transaction() {
            continue;
        }
        let Ok(snap) = Snapshot::deserialize(&w.snapshot) else { continue };
        groups.entry(ch.id).or_default().push((o, w, snap));
    }
    if groups.is_empty() {
        return Ok(out);
    }
    let marked: Vec<Uuid> = groups.values().flatten().map(|(_, w, _)| w.id).collect();
    let txn = begin_write(db).await?;
    for chunk in marked.chunks(500) {
        waybill::Entity::update_many()
            .col_expr(waybill::Column::Attempts, Expr::col(waybill::Column::Attempts).add(1))
            .filter(waybill::Column::Id.is_in(chunk.iter().copied()))
            .filter(waybill::Column::Status.eq(WaybillStatus::Unconfirmed))
            .filter(waybill::Column::ProviderReference.is_null())
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    for (channel_id, group) in &groups {
        let Some(ch) = channels.get(channel_id) else { continue };
        let provider = providers.for_channel(ch)?;
        // A deferred, read-only transaction: it takes no write lock.
        let call = db.begin().await?;
        let mut to_create = Vec::new();
        for (o, w, s) in group {
            let reference = w.id.simple().to_string();
            out.order_of.insert(w.id, o.id);
            out.channel_of.insert(w.id, ch.clone());
            // Tried before (timeout, crash): it may already be there.
            if w.attempts > 0
                && let Some(b) = provider.find(&call, ch, &reference).await?
            {
                out.results.insert(w.id, Ok(b));
                continue;
            }
            to_create.push((o, w, s, reference));
        }
        let parcels: Vec<provider::Parcel<'_>> = to_create
            .iter()
            .map(|(o, _, s, r)| provider::Parcel { reference: r.as_str(), snapshot: s, order: Some(o) })
            .collect();
        let created = provider.create(&call, ch, &parcels).await?;
        // Read-only: the provider's bookkeeping is written with the orders (`record`).
        call.rollback().await?;
        for ((_, w, _, _), result) in to_create.iter().zip(created) {
            out.results.insert(w.id, result);
        }
    }
    Ok(out)
}

/// Withdraws remote bookings whose order was cancelled while they were being made.
async fn withdraw(
    db: &DatabaseConnection,
    providers: &Providers,
    remote: &RemoteResults,
    orphans: Vec<(Uuid, provider::Booking)>,
) {
    for (waybill_id, booking) in orphans {
        let Some(ch) = remote.channel_of.get(&waybill_id) else { continue };
        let Ok(p) = providers.for_channel(ch) else { continue };
        let result = async {
            let txn = db.begin().await?;
            let r = p.cancel(&txn, ch, &booking).await?;
            txn.commit().await?;
            Ok::<_, DomainError>(r)
        }
        .await;
        match result {
            Ok(Ok(())) => {
                tracing::info!(waybill = %waybill_id, reference = %booking.provider_reference, "withdrew a booking whose order was cancelled meanwhile")
            }
            Ok(Err(r)) => {
                tracing::warn!(waybill = %waybill_id, reference = %booking.provider_reference, reason = %r.message, "could not withdraw a booking whose order was cancelled meanwhile")
            }
            Err(e) => {
                tracing::warn!(waybill = %waybill_id, error = %e, "could not withdraw a booking whose order was cancelled meanwhile")
            }
        }
    }
}

pub(crate) struct Booked {
    pub order_id: Uuid,
    pub waybill_id: Uuid,
    pub booking: provider::Booking,
    pub message: String,
}

/// The provider accepted the parcel without a number yet: the waybill keeps the provider's
/// reference (so it is never placed twice), the order stays PUSHING with a message.
async fn record_placed(
    txn: &impl ConnectionTrait,
    order_id: Uuid,
    waybill_id: Uuid,
    reference: &str,
    message: &str,
    now: chrono::DateTime<Utc>,
) -> DomainResult<()> {
    waybill::Entity::update_many()
        .col_expr(waybill::Column::ProviderReference, Expr::value(reference))
        .col_expr(waybill::Column::ErrorCode, Expr::value(Option::<String>::None))
        .col_expr(waybill::Column::ErrorMessage, Expr::value(Option::<String>::None))
        .col_expr(waybill::Column::Attempts, Expr::col(waybill::Column::Attempts).add(1))
        .col_expr(waybill::Column::UpdatedAt, Expr::value(now))
        .filter(waybill::Column::Id.eq(waybill_id))
        .exec(txn)
        .await?;
    order::Entity::update_many()
        .col_expr(order::Column::LastOperationMessage, Expr::value(message))
        .col_expr(order::Column::UpdatedAt, Expr::value(now))
        .filter(order::Column::Id.eq(order_id))
        .exec(txn)
        .await?;
    Ok(())
}

/// Records bookings with two statements per 500 (waybills FORECASTED, orders PUSHED):
/// `WITH v(…) AS (VALUES …) UPDATE … FROM v`, which PostgreSQL and SQLite (3.33+) both run.
pub(crate) async fn record_bookings(
    txn: &impl ConnectionTrait,
    rows: &[Booked],
    now: chrono::DateTime<Utc>,
) -> DomainResult<()> {
    let backend = txn.get_database_backend();
    let p = |i: usize| match backend {
        sea_orm::DatabaseBackend::Postgres => format!("${i}"),
        // Numbered, because `now` is used twice.
        _ => format!("?{i}"),
    };
    for chunk in rows.chunks(500) {
        // Waybills: (id, tracking number, provider reference).
        let mut values: Vec<sea_orm::Value> = vec![now.into()];
        let mut tuples = Vec::with_capacity(chunk.len());
        for r in chunk {
            let i = values.len();
            tuples.push(format!("({}, {}, {})", p(i + 1), p(i + 2), p(i + 3)));
            values.push(r.waybill_id.into());
            values.push(r.booking.tracking_number.clone().into());
            values.push(r.booking.provider_reference.clone().into());
        }
        let sql = format!(
            "WITH v(id, tn, pr) AS (VALUES {}) UPDATE waybills SET status = 'FORECASTED', tracking_number = v.tn, \
             provider_reference = v.pr, error_code = NULL, error_message = NULL, attempts = waybills.attempts + 1, \
             forecasted_at = {now}, updated_at = {now} FROM v WHERE waybills.id = v.id",
            tuples.join(", "),
            now = p(1)
        );
        let res = txn.execute_raw(sea_orm::Statement::from_sql_and_values(backend, sql, values)).await?;
        if res.rows_affected() != chunk.len() as u64 {
            return Err(DomainError::Conflict("waybills changed while booking; the job will retry".into()));
        }
        // Orders: (id, tracking number, message).
        let mut values: Vec<sea_orm::Value> = vec![now.into()];
        let mut tuples = Vec::with_capacity(chunk.len());
        for r in chunk {
            let i = values.len();
            tuples.push(format!("({}, {}, {})", p(i + 1), p(i + 2), p(i + 3)));
            values.push(r.order_id.into());
            values.push(r.booking.tracking_number.clone().into());
            values.push(r.message.clone().into());
        }
        let sql = format!(
            "WITH v(id, tn, msg) AS (VALUES {}) UPDATE orders SET fulfillment_status = 'PUSHED', tracking_number = v.tn, \
             last_error_code = NULL, last_operation_message = v.msg, pushed_at = {now}, version = orders.version + 1, \
             updated_at = {now} FROM v WHERE orders.id = v.id AND orders.fulfillment_status = 'PUSHING'",
            tuples.join(", "),
            now = p(1)
        );
        let res = txn.execute_raw(sea_orm::Statement::from_sql_and_values(backend, sql, values)).await?;
        if res.rows_affected() != chunk.len() as u64 {
            return Err(DomainError::Conflict("orders changed while booking; the job will retry".into()));
        }
    }
    Ok(())
}

pub(crate) fn push_change(o: &OrderOutcome, tracking: Option<&str>) -> Change {
    let action = if o.status == Some(FulfillmentStatus::Pushed) { "order.pushed" } else { "order.push_failed" };
    Change { action, entity_type: "Order", entity_id: Some(o.order_id), data: Some(push_event_data(o, tracking)) }
}

/// The provider refused: the order is PUSH_FAILED with the message, the waybill stays
/// UNCONFIRMED (editable) with the same message.
pub(crate) async fn record_refusal(
    db: &impl ConnectionTrait,
    o: &order::Model,
    w: Option<&waybill::Model>,
    r: &provider::Refusal,
    now: chrono::DateTime<Utc>,
) -> DomainResult<OrderOutcome> {
    let code = r.code.as_str();
    if let Some(w) = w {
        waybill::Entity::update_many()
            .col_expr(waybill::Column::ErrorCode, Expr::value(code.clone()))
            .col_expr(waybill::Column::ErrorMessage, Expr::value(r.message.clone()))
            .col_expr(waybill::Column::Attempts, Expr::col(waybill::Column::Attempts).add(1))
            .col_expr(waybill::Column::UpdatedAt, Expr::value(now))
            .filter(waybill::Column::Id.eq(w.id))
            .exec(db)
            .await?;
    }
    order::Entity::update_many()
        .col_expr(order::Column::FulfillmentStatus, Expr::value(FulfillmentStatus::PushFailed))
        .col_expr(order::Column::LastErrorCode, Expr::value(code))
        .col_expr(order::Column::LastOperationMessage, Expr::value(r.message.clone()))
        .col_expr(order::Column::Version, Expr::col(order::Column::Version).add(1))
        .col_expr(order::Column::UpdatedAt, Expr::value(now))
        .filter(order::Column::Id.eq(o.id))
        .exec(db)
        .await?;
    Ok(OrderOutcome {
        order_id: o.id,
        status: Some(FulfillmentStatus::PushFailed),
        waybill_id: w.map(|w| w.id),
        errors: vec![UserError::new(r.code, &["input", "orderIds"], r.message.clone())],
    })
}

/// The push job: books every order of the batch, chunk by chunk, reporting progress.
pub async fn run_job(
    db: &DatabaseConnection,
    bus: &EventBus,
    providers: &Providers,
    org: Uuid,
    payload: &PushPayload,
    mut progress: impl FnMut(PushProgress) -> futures_util::future::BoxFuture<'static, ()>,
) -> DomainResult<PushProgress> {
    let mut p = PushProgress { total: payload.order_ids.len(), ..PushProgress::default() };
    for chunk in payload.order_ids.chunks(CHUNK) {
        book_chunk(db, bus, providers, org, chunk).await?;
        // Counted from the database, so a run resumed after a crash reports the whole batch.
        let counts: Vec<(FulfillmentStatus, i64)> = order::Entity::find()
            .select_only()
            .column(order::Column::FulfillmentStatus)
            .column_as(order::Column::Id.count(), "n")
            .filter(order::Column::Id.is_in(chunk.iter().copied()))
            .group_by(order::Column::FulfillmentStatus)
            .into_tuple()
            .all(db)
            .await?;
        let n = |pred: fn(FulfillmentStatus) -> bool| {
            counts.iter().filter(|(s, _)| pred(*s)).map(|(_, n)| usize::try_from(*n).unwrap_or(0)).sum::<usize>()
        };
        p.done += chunk.len();
        p.pushed += n(|s| matches!(s, FulfillmentStatus::Pushed | FulfillmentStatus::Shipped));
        p.failed += n(|s| s == FulfillmentStatus::PushFailed);
        progress(p).await;
    }
    Ok(p)
}

/// After the push job gave up: orders still PUSHING become PUSH_FAILED, so none is stuck.
pub async fn give_up(db: &DatabaseConnection, bus: &EventBus, org: Uuid, ids: &[Uuid], why: &str) -> DomainResult<()> {
    let txn = begin_write(db).await?;
    let orders = lock_orders(&txn, org, ids).await?;
    let now = Utc::now();
    let mut changes = Vec::new();
    let pushing: Vec<Uuid> =
        orders.values().filter(|o| o.fulfillment_status == FulfillmentStatus::Pushing).map(|o| o.id).collect();
    let waybills = active_waybills(&txn, &pushing).await?;
    for o in orders.values().filter(|o| o.fulfillment_status == FulfillmentStatus::Pushing) {
        // Placed with a remote provider and waiting for its number: the polling job
        // finishes it; failing it here would invite a second placement.
        if waybills.get(&o.id).is_some_and(|w| w.provider_reference.is_some()) {
            continue;
        }
        let r = provider::Refusal {
            code: UserErrorCode::ProviderUnavailable,
            message: format!("The push could not be completed ({why}); push again."),
        };
        let outcome = record_refusal(&txn, o, waybills.get(&o.id), &r, now).await?;
        changes.push(push_change(&outcome, None));
    }
    let events: Vec<DomainEvent> = audit::record_many(&txn, org, By::System, changes).await?;
    txn.commit().await?;
    bus.publish_all(events);
    Ok(())
}
