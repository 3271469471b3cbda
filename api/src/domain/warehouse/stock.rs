//! Stock in the warehouse (seed 003 §2-3): snapshots, one row per SKU × warehouse
//! (stockSnapshot; refreshed by the polling job and on demand; the region kept in OC's code,
//! its ISO country derived from it by [`super::regions`]), and movements for a SKU over
//! any range (getStockMovement; the connector cuts the range into ≤ 7-day windows), stored
//! by OC's movement id so re-reading a range adds nothing twice.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use entity::{inventory_snapshot, sku, stock_movement};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set, sea_query::OnConflict};
use serde::Serialize;
use uuid::Uuid;

use super::{Warehouse, regions};
use crate::{
    auth::{Actor, Tenant},
    db::begin_write,
    error::{DomainError, DomainResult, UserErrorCode},
};

/// OC keeps movements for a year [D].
pub const MOVEMENT_HISTORY_DAYS: i64 = 365;

#[derive(Debug, Clone, Default)]
pub struct SnapshotFilter {
    pub sku_id: Option<Uuid>,
    pub warehouse_region: Option<String>,
    pub account_id: Option<Uuid>,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RefreshOutcome {
    pub skus: usize,
    pub rows: usize,
}

impl Warehouse {
    pub async fn snapshots(&self, tenant: Tenant, f: &SnapshotFilter) -> DomainResult<Vec<inventory_snapshot::Model>> {
        let mut q =
            inventory_snapshot::Entity::find().filter(inventory_snapshot::Column::OrganizationId.eq(tenant.id()));
        if let Some(s) = f.sku_id {
            q = q.filter(inventory_snapshot::Column::SkuId.eq(s));
        }
        // An OC code (any case), or a country: all its regions (GB → UK; US → US-East…).
        if let Some(r) = &f.warehouse_region {
            q = q.filter(inventory_snapshot::Column::Region.is_in(regions::filter_codes(r)));
        }
        if let Some(a) = f.account_id {
            q = q.filter(inventory_snapshot::Column::AccountId.eq(a));
        }
        Ok(q.order_by_asc(inventory_snapshot::Column::SkuId)
            .order_by_asc(inventory_snapshot::Column::WarehouseCode)
            .limit(5_000)
            .all(&self.db)
            .await?)
    }

    /// `refreshInventory`: snapshots of every SKU registered with the account, now.
    pub async fn refresh_inventory(&self, actor: &Actor, account_id: Uuid) -> DomainResult<RefreshOutcome> {
        actor.require_write()?;
        let acc = self.account(actor.tenant(), account_id).await?;
        self.refresh_inventory_of(&acc).await
    }

    pub async fn refresh_inventory_of(&self, acc: &entity::account::Model) -> DomainResult<RefreshOutcome> {
        let skus = sku::Entity::find()
            .filter(sku::Column::OrganizationId.eq(acc.organization_id))
            .filter(sku::Column::WarehouseAccountId.eq(acc.id))
            .filter(sku::Column::WarehouseSkuId.is_not_null())
            .all(&self.db)
            .await?;
        if skus.is_empty() {
            return Ok(RefreshOutcome::default());
        }
        let by_mf: HashMap<String, Uuid> =
            skus.iter().filter_map(|s| s.warehouse_sku_id.clone().map(|m| (m, s.id))).collect();
        let ids: Vec<String> = by_mf.keys().cloned().collect();
        let levels = self
            .call(acc.id, |c, token| {
                let ids = ids.clone();
                async move { c.stock_levels(&token, &ids).await }
            })
            .await
            .map_err(|e| e.into_domain(&["input", "accountId"]))?;
        let now = Utc::now();
        let rows: Vec<inventory_snapshot::ActiveModel> = levels
            .iter()
            .filter_map(|l| {
                let sku_id = *by_mf.get(&l.warehouse_sku_id)?;
                Some(inventory_snapshot::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    organization_id: Set(acc.organization_id),
                    account_id: Set(acc.id),
                    sku_id: Set(sku_id),
                    warehouse_code: Set(l.warehouse_code.clone()),
                    region: Set(regions::normalise(&l.region)),
                    available: Set(l.available),
                    reserved: Set(l.reserved),
                    in_transit: Set(l.in_transit),
                    received: Set(l.received),
                    unfulfillable: Set(l.unfulfillable),
                    captured_at: Set(now),
                    created_at: Set(now),
                    updated_at: Set(now),
                })
            })
            .collect();
        let n = rows.len();
        let txn = begin_write(&self.db).await?;
        for chunk in rows.chunks(300) {
            inventory_snapshot::Entity::insert_many(chunk.to_vec())
                .on_conflict(
                    OnConflict::columns([inventory_snapshot::Column::SkuId, inventory_snapshot::Column::WarehouseCode])
                        .update_columns([
                            inventory_snapshot::Column::AccountId,
                            inventory_snapshot::Column::Region,
                            inventory_snapshot::Column::Available,
                            inventory_snapshot::Column::Reserved,
                            inventory_snapshot::Column::InTransit,
                            inventory_snapshot::Column::Received,
                            inventory_snapshot::Column::Unfulfillable,
                            inventory_snapshot::Column::CapturedAt,
                            inventory_snapshot::Column::UpdatedAt,
                        ])
                        .to_owned(),
                )
                .exec_without_returning(&txn)
                .await?;
        }
        // Rows OC no longer reports (a warehouse emptied out): gone, not left at stale stock.
        inventory_snapshot::Entity::delete_many()
            .filter(inventory_snapshot::Column::AccountId.eq(acc.id))
            .filter(inventory_snapshot::Column::CapturedAt.lt(now))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(RefreshOutcome { skus: skus.len(), rows: n })
    }

    /// `stockMovements(skuId, from, to)`: read from OC (any range within the last year, in
    /// ≤ 7-day windows), stored, and returned oldest first.
    pub async fn stock_movements(
        &self,
        actor: &Actor,
        sku_id: Uuid,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> DomainResult<Vec<stock_movement::Model>> {
        let org = actor.tenant().id();
        let now = Utc::now();
        if from >= to {
            return Err(DomainError::user(UserErrorCode::Invalid, &["to"], "`to` must be after `from`."));
        }
        if from < now - Duration::days(MOVEMENT_HISTORY_DAYS) {
            return Err(DomainError::user(
                UserErrorCode::Invalid,
                &["from"],
                "OrangeConnex keeps movements for one year; start within the last 365 days.",
            ));
        }
        // Not past now (OC has nothing later); the connector rounds the end up to OC's whole seconds.
        let to = to.min(now);
        let s = sku::Entity::find_by_id(sku_id)
            .filter(sku::Column::OrganizationId.eq(org))
            .one(&self.db)
            .await?
            .ok_or(DomainError::NotFound)?;
        let (Some(account_id), Some(mf)) = (s.warehouse_account_id, s.warehouse_sku_id.clone()) else {
            return Err(DomainError::user(
                UserErrorCode::SkuNotInWarehouse,
                &["skuId"],
                format!("SKU {} is not in an OrangeConnex warehouse.", s.code),
            ));
        };
        self.account(actor.tenant(), account_id).await?;
        let moves = self
            .call(account_id, |c, token| {
                let mf = mf.clone();
                async move { c.stock_movements(&token, &[mf], from, to).await }
            })
            .await
            .map_err(|e| e.into_domain(&["skuId"]))?;
        let rows: Vec<stock_movement::ActiveModel> = moves
            .iter()
            .map(|m| stock_movement::ActiveModel {
                id: Set(Uuid::now_v7()),
                organization_id: Set(org),
                account_id: Set(account_id),
                sku_id: Set(s.id),
                warehouse_code: Set(regions::normalise(&m.region)),
                external_id: Set(format!("{}:{}:{}", m.id, m.inventory_status, m.region)),
                movement_type: Set(match &m.reason {
                    Some(r) => format!("{}:{r}", m.inventory_status),
                    None => m.inventory_status.clone(),
                }),
                quantity: Set(m.quantity),
                reference: Set(m.order_number.clone()),
                occurred_at: Set(m.at),
                created_at: Set(now),
            })
            .collect();
        if !rows.is_empty() {
            let txn = begin_write(&self.db).await?;
            for chunk in rows.chunks(300) {
                stock_movement::Entity::insert_many(chunk.to_vec())
                    .on_conflict(
                        OnConflict::columns([stock_movement::Column::AccountId, stock_movement::Column::ExternalId])
                            .do_nothing()
                            .to_owned(),
                    )
                    .exec_without_returning(&txn)
                    .await?;
            }
            txn.commit().await?;
        }
        Ok(stock_movement::Entity::find()
            .filter(stock_movement::Column::OrganizationId.eq(org))
            .filter(stock_movement::Column::SkuId.eq(s.id))
            .filter(stock_movement::Column::OccurredAt.gte(from))
            .filter(stock_movement::Column::OccurredAt.lt(to))
            .order_by_asc(stock_movement::Column::OccurredAt)
            .order_by_asc(stock_movement::Column::Id)
            .all(&self.db)
            .await?)
    }
}
