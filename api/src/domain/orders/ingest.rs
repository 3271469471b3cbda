//! Writing downloaded marketplace orders: one page = one transaction of two or three
//! statements (upsert orders, insert new orders' lines, link their SKUs), idempotent:
//! re-downloading an unchanged order writes nothing, a changed one updates only the
//! platform's fields (local work — channel, SKU fixes, push state — is kept).

use std::collections::HashMap;

use chrono::Utc;
use entity::{
    enums::{FulfillmentStatus, MarketplaceState, Platform, WaybillStatus, WriteBackStatus},
    order, order_item, sku, waybill,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set,
    sea_query::{Alias, Expr, ExprTrait, OnConflict},
};
use uuid::Uuid;

use crate::{
    connectors::marketplace::{MarketOrder, MarketState},
    error::DomainResult,
};

/// The connector's view of the order's marketplace state, as stored.
pub fn marketplace_state(s: MarketState) -> MarketplaceState {
    match s {
        MarketState::AwaitingPayment => MarketplaceState::AwaitingPayment,
        MarketState::AwaitingShipment => MarketplaceState::AwaitingShipment,
        MarketState::Shipped => MarketplaceState::Shipped,
        MarketState::CancelRequested => MarketplaceState::CancelRequested,
        MarketState::Cancelled => MarketplaceState::Cancelled,
    }
}

/// Where a newly downloaded order starts in Shipgate's workflow, and why: orders shipped
/// or cancelled on the marketplace before they ever reached Shipgate are not pushable.
fn initial_status(s: MarketplaceState) -> (FulfillmentStatus, Option<&'static str>) {
    match s {
        MarketplaceState::Shipped => {
            (FulfillmentStatus::Shipped, Some("Shipped on the marketplace outside Shipgate (imported as shipped)."))
        }
        MarketplaceState::Cancelled => {
            (FulfillmentStatus::Cancelled, Some("Cancelled on the marketplace (imported as cancelled)."))
        }
        _ => (FulfillmentStatus::Unpushed, None),
    }
}

/// The proposed row of an `ON CONFLICT … DO UPDATE`.
fn excluded() -> Alias {
    Alias::new("excluded")
}

/// The recipient's columns.
const ADDRESS: [order::Column; 10] = [
    order::Column::RecipientName,
    order::Column::RecipientPhone,
    order::Column::RecipientEmail,
    order::Column::RecipientCompany,
    order::Column::AddressLine1,
    order::Column::AddressLine2,
    order::Column::City,
    order::Column::State,
    order::Column::PostalCode,
    order::Column::CountryCode,
];

/// `CASE WHEN orders.address_line1 = '' THEN excluded.<c> ELSE orders.<c> END`.
fn fill_if_no_address(c: order::Column) -> sea_orm::sea_query::SimpleExpr {
    use sea_orm::sea_query::CaseStatement;
    CaseStatement::new()
        .case(Expr::col((order::Entity, order::Column::AddressLine1)).eq(""), Expr::col((excluded(), c)))
        .finally(Expr::col((order::Entity, c)))
        .into()
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct IngestCounts {
    pub seen: u64,
    pub new: u64,
    pub updated: u64,
    pub unchanged: u64,
}

impl std::ops::AddAssign for IngestCounts {
    fn add_assign(&mut self, o: Self) {
        self.seen += o.seen;
        self.new += o.new;
        self.updated += o.updated;
        self.unchanged += o.unchanged;
    }
}

/// Upserts one page of orders for an account (call inside a transaction).
pub async fn upsert_page(
    db: &impl ConnectionTrait,
    organization_id: Uuid,
    account_id: Uuid,
    platform: Platform,
    orders: &[MarketOrder],
) -> DomainResult<IngestCounts> {
    let mut counts = IngestCounts { seen: orders.len() as u64, ..Default::default() };
    if orders.is_empty() {
        return Ok(counts);
    }
    // A page may repeat an order (keyset paging on updated_at): keep the newest copy.
    let mut latest: HashMap<&str, &MarketOrder> = HashMap::new();
    for o in orders {
        match latest.get(o.platform_order_id.as_str()) {
            Some(prev) if prev.updated_at >= o.updated_at => {}
            _ => {
                latest.insert(&o.platform_order_id, o);
            }
        }
    }
    let now = Utc::now();
    // Every order of the page goes to one upsert with a fresh id; the conflict rule updates
    // an existing row only when the platform's copy is newer. RETURNING then names the rows
    // written: a fresh id means inserted, an older id updated, a missing order unchanged.
    // (No look-up first: its plan depends on table statistics, which a bulk download
    // outruns — at 100,000 orders it had turned into an account-wide scan per page.)
    let fresh: HashMap<&str, Uuid> = latest.keys().map(|pid| (*pid, Uuid::now_v7())).collect();
    let rows: Vec<order::ActiveModel> = latest
        .iter()
        .map(|(pid, o)| {
            let r = &o.recipient;
            let market = marketplace_state(o.state);
            let (status, message) = initial_status(market);
            order::ActiveModel {
                id: Set(fresh[pid]),
                organization_id: Set(organization_id),
                account_id: Set(account_id),
                platform: Set(platform),
                platform_order_id: Set(o.platform_order_id.clone()),
                platform_status: Set(o.platform_status.clone()),
                buyer_name: Set(o.buyer_name.clone()),
                buyer_email: Set(o.buyer_email.clone()),
                recipient_name: Set(r.name.clone()),
                recipient_phone: Set(r.phone.clone()),
                recipient_email: Set(r.email.clone()),
                recipient_company: Set(r.company.clone()),
                address_line1: Set(r.line1.clone()),
                address_line2: Set(r.line2.clone()),
                city: Set(r.city.clone()),
                state: Set(r.state.clone()),
                postal_code: Set(r.postal_code.clone()),
                country_code: Set(r.country_code.clone()),
                currency: Set(o.currency.clone()),
                total_minor: Set(o.total_minor),
                shipping_minor: Set(o.shipping_minor),
                fulfillment_status: Set(status),
                write_back_status: Set(WriteBackStatus::NotRequested),
                write_back_error: Set(None),
                write_back_error_code: Set(None),
                marketplace_state: Set(market),
                marketplace_id: Set(o.marketplace_id.clone()),
                channel_id: Set(None),
                tracking_number: Set(None),
                last_operation_message: Set(message.map(str::to_owned)),
                last_error_code: Set(None),
                version: Set(0),
                ordered_at: Set(o.ordered_at),
                platform_updated_at: Set(Some(o.updated_at)),
                pushed_at: Set(None),
                shipped_at: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
            }
        })
        .collect();
    let stored = Expr::col((order::Entity, order::Column::PlatformUpdatedAt));
    let written: std::collections::HashSet<Uuid> = order::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([order::Column::AccountId, order::Column::PlatformOrderId])
                .update_columns([
                    order::Column::PlatformStatus,
                    order::Column::MarketplaceState,
                    order::Column::MarketplaceId,
                    order::Column::BuyerName,
                    order::Column::BuyerEmail,
                    order::Column::Currency,
                    order::Column::TotalMinor,
                    order::Column::ShippingMinor,
                    order::Column::PlatformUpdatedAt,
                    order::Column::UpdatedAt,
                ])
                // The address arrives later on some platforms (Amazon shows it once an order
                // is released for shipping): filled in while the stored one is empty, never
                // over an address that was there (or corrected by a user).
                .values(ADDRESS.iter().map(|c| (*c, fill_if_no_address(*c))))
                .action_and_where(
                    stored.clone().is_null().or(stored.lt(Expr::col((excluded(), order::Column::PlatformUpdatedAt)))),
                )
                .to_owned(),
        )
        .exec_with_returning_keys(db)
        .await?
        .into_iter()
        .collect();
    let mut lines = Vec::new();
    for (pid, o) in &latest {
        let id = fresh[pid];
        if !written.contains(&id) {
            continue;
        }
        counts.new += 1;
        for item in &o.items {
            lines.push(order_item::ActiveModel {
                id: Set(Uuid::now_v7()),
                organization_id: Set(organization_id),
                order_id: Set(id),
                platform_item_id: Set(Some(item.platform_item_id.clone())),
                platform_sku: Set(item.sku.clone()),
                title: Set(item.title.clone()),
                quantity: Set(item.quantity),
                unit_price_minor: Set(item.unit_price_minor),
                sku_id: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
            });
        }
    }
    counts.updated = written.len() as u64 - counts.new;
    // Orders that changed on the marketplace since they were downloaded: not yet pushed
    // ones (UNPUSHED, PUSH_FAILED) follow it — cancelled → CANCELLED, shipped elsewhere →
    // SHIPPED — and a PUSH_FAILED one's unconfirmed waybill (never sent anywhere) is
    // cancelled with it; pushed ones keep their state (the new marketplace state refuses a
    // push and shows on the order).
    let fresh_ids: std::collections::HashSet<Uuid> = fresh.values().copied().collect();
    let updated: Vec<Uuid> = written.iter().filter(|id| !fresh_ids.contains(id)).copied().collect();
    if !updated.is_empty() {
        for (market, status, message) in [
            (
                MarketplaceState::Cancelled,
                FulfillmentStatus::Cancelled,
                "Cancelled on the marketplace after download; it will not be shipped.",
            ),
            (
                MarketplaceState::Shipped,
                FulfillmentStatus::Shipped,
                "Shipped on the marketplace outside Shipgate after download.",
            ),
        ] {
            for chunk in updated.chunks(500) {
                let moved: Vec<Uuid> = order::Entity::find()
                    .select_only()
                    .column(order::Column::Id)
                    .filter(order::Column::Id.is_in(chunk.iter().copied()))
                    .filter(order::Column::MarketplaceState.eq(market))
                    .filter(
                        order::Column::FulfillmentStatus
                            .is_in([FulfillmentStatus::Unpushed, FulfillmentStatus::PushFailed]),
                    )
                    .into_tuple()
                    .all(db)
                    .await?;
                if moved.is_empty() {
                    continue;
                }
                order::Entity::update_many()
                    .col_expr(order::Column::FulfillmentStatus, Expr::value(status))
                    .col_expr(order::Column::LastOperationMessage, Expr::value(message))
                    .col_expr(order::Column::Version, Expr::col(order::Column::Version).add(1))
                    .col_expr(order::Column::UpdatedAt, Expr::value(now))
                    .filter(order::Column::Id.is_in(moved.iter().copied()))
                    .exec(db)
                    .await?;
                waybill::Entity::update_many()
                    .col_expr(waybill::Column::Status, Expr::value(WaybillStatus::Cancelled))
                    .col_expr(waybill::Column::UpdatedAt, Expr::value(now))
                    .filter(waybill::Column::OrderId.is_in(moved.iter().copied()))
                    .filter(waybill::Column::Status.eq(WaybillStatus::Unconfirmed))
                    .filter(waybill::Column::ProviderReference.is_null())
                    .exec(db)
                    .await?;
            }
        }
    }
    if !lines.is_empty() {
        // Lines whose seller SKU is already in the catalogue are linked at once.
        let codes: std::collections::HashSet<String> =
            lines.iter().filter_map(|l| l.platform_sku.clone().take().flatten()).collect();
        if !codes.is_empty() {
            let known: HashMap<String, Uuid> = sku::Entity::find()
                .select_only()
                .column(sku::Column::Code)
                .column(sku::Column::Id)
                .filter(sku::Column::OrganizationId.eq(organization_id))
                .filter(sku::Column::Code.is_in(codes))
                .into_tuple::<(String, Uuid)>()
                .all(db)
                .await?
                .into_iter()
                .collect();
            for l in &mut lines {
                if let Some(Some(code)) = l.platform_sku.clone().take()
                    && let Some(id) = known.get(&code)
                {
                    l.sku_id = Set(Some(*id));
                }
            }
        }
        order_item::Entity::insert_many(lines).exec_without_returning(db).await?;
    }
    Ok(counts)
}
