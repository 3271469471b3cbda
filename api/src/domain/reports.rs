//! Reporting for internal tools (VIEWER API keys are enough): order counts and totals
//! grouped by any of status, fulfilment status, platform, account, channel, destination and
//! day; push failures by error code; orders shipped per day. Each report is one SQL
//! `GROUP BY` over the tenant's orders; Rust only folds the per-currency sums of a group
//! together (work per group, never per order).
//!
//! An order's date is when the marketplace says it was placed (`ordered_at`), or when it
//! was downloaded if the marketplace gave none. Days are UTC.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use entity::{
    enums::{FulfillmentStatus, Platform},
    order,
};
use sea_orm::{
    ActiveEnum, ConnectionTrait, DatabaseBackend, DatabaseConnection, QueryResult, TryGetable,
    sea_query::{Alias, Asterisk, Expr, ExprTrait, Func, Order, Query, SelectStatement, SimpleExpr},
};
use uuid::Uuid;

use crate::{
    auth::Tenant,
    domain::validate,
    error::{DomainError, DomainResult},
};

/// A dimension to group orders by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dimension {
    /// The marketplace's own status.
    Status,
    FulfillmentStatus,
    Platform,
    Account,
    Channel,
    DestinationCountry,
    /// The order date (UTC day).
    Day,
}

#[derive(Debug, Clone, Default)]
pub struct StatsFilter {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub account_ids: Option<Vec<Uuid>>,
    pub platforms: Option<Vec<Platform>>,
}

/// One group: its key (the dimensions asked for), order count and totals per currency.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatsGroup {
    pub status: Option<String>,
    pub fulfillment_status: Option<FulfillmentStatus>,
    pub platform: Option<Platform>,
    pub account_id: Option<Uuid>,
    pub channel_id: Option<Uuid>,
    pub destination_country: Option<String>,
    pub day: Option<String>,
    pub count: i64,
    /// Order totals (`total_minor`) summed per currency, by currency code.
    pub totals: BTreeMap<String, i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeCount {
    pub code: String,
    pub count: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayCount {
    pub day: String,
    pub count: i64,
}

/// Most groups a report returns (a year of days × a few statuses fits easily).
pub const MAX_GROUPS: usize = 10_000;

#[derive(Clone)]
pub struct Reports {
    db: DatabaseConnection,
}

/// The UTC day of a timestamp column as `YYYY-MM-DD`. SQLite stores RFC 3339 text in UTC,
/// so its first ten characters are the day.
fn day_of(backend: DatabaseBackend, col: &str) -> SimpleExpr {
    match backend {
        DatabaseBackend::Postgres => Expr::cust(format!("to_char({col} AT TIME ZONE 'UTC', 'YYYY-MM-DD')")),
        _ => Expr::cust(format!("substr({col}, 1, 10)")),
    }
}

const ORDER_DATE: &str = "COALESCE(ordered_at, created_at)";

fn column(d: Dimension) -> &'static str {
    match d {
        Dimension::Status => "platform_status",
        Dimension::FulfillmentStatus => "fulfillment_status",
        Dimension::Platform => "platform",
        Dimension::Account => "account_id",
        Dimension::Channel => "channel_id",
        Dimension::DestinationCountry => "country_code",
        Dimension::Day => "day",
    }
}

fn get<T: TryGetable>(row: &QueryResult, col: &str) -> DomainResult<T> {
    row.try_get::<T>("", col).map_err(DomainError::from)
}

fn parse<T: ActiveEnum<Value = String>>(raw: Option<String>) -> Option<T> {
    T::try_from_value(&raw?).ok()
}

impl Reports {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    fn backend(&self) -> DatabaseBackend {
        self.db.get_database_backend()
    }

    /// The tenant's orders matching `f` (a `WHERE` on a fresh `SELECT … FROM orders`).
    fn base(&self, tenant: Tenant, f: &StatsFilter) -> DomainResult<SelectStatement> {
        let mut q = Query::select();
        q.from(order::Entity).and_where(Expr::col(order::Column::OrganizationId).eq(tenant.id()));
        if let Some(from) = validate::instant(f.from, "from")? {
            q.and_where(Expr::cust(ORDER_DATE).gte(from));
        }
        if let Some(to) = validate::instant(f.to, "to")? {
            q.and_where(Expr::cust(ORDER_DATE).lt(to));
        }
        if let Some(ids) = &f.account_ids {
            q.and_where(Expr::col(order::Column::AccountId).is_in(ids.iter().copied()));
        }
        if let Some(p) = &f.platforms {
            q.and_where(Expr::col(order::Column::Platform).is_in(p.iter().map(ActiveEnum::to_value)));
        }
        Ok(q)
    }

    async fn rows(&self, q: &SelectStatement) -> DomainResult<Vec<QueryResult>> {
        let stmt = self.backend().build(q);
        Ok(self.db.query_all_raw(stmt).await?)
    }

    /// Order counts and totals grouped by `by` (no dimension: one group for everything).
    pub async fn order_stats(
        &self,
        tenant: Tenant,
        f: &StatsFilter,
        by: &[Dimension],
    ) -> DomainResult<Vec<StatsGroup>> {
        let mut dims: Vec<Dimension> = by.to_vec();
        dims.sort();
        dims.dedup();
        let backend = self.backend();
        let mut q = self.base(tenant, f)?;
        for d in &dims {
            let expr = match d {
                Dimension::Day => day_of(backend, ORDER_DATE),
                other => Expr::cust(column(*other)),
            };
            q.expr_as(expr.clone(), Alias::new(column(*d))).add_group_by([expr]);
        }
        q.column(order::Column::Currency)
            .add_group_by([Expr::col(order::Column::Currency)])
            .expr_as(Func::count(Expr::col(Asterisk)), Alias::new("n"))
            .expr_as(Func::sum(Expr::col(order::Column::TotalMinor)), Alias::new("total"))
            .limit(MAX_GROUPS as u64 * 4);
        for d in &dims {
            q.order_by(Alias::new(column(*d)), Order::Asc);
        }
        let mut groups: BTreeMap<Vec<Option<String>>, StatsGroup> = BTreeMap::new();
        for row in self.rows(&q).await? {
            let mut g = StatsGroup::default();
            let mut key = Vec::with_capacity(dims.len());
            for d in &dims {
                let c = column(*d);
                match d {
                    Dimension::Account | Dimension::Channel => {
                        let v: Option<Uuid> = get(&row, c)?;
                        key.push(v.map(|u| u.to_string()));
                        if *d == Dimension::Account {
                            g.account_id = v;
                        } else {
                            g.channel_id = v;
                        }
                    }
                    _ => {
                        let v: Option<String> = get(&row, c)?;
                        key.push(v.clone());
                        match d {
                            Dimension::Status => g.status = v,
                            Dimension::FulfillmentStatus => g.fulfillment_status = parse(v),
                            Dimension::Platform => g.platform = parse(v),
                            Dimension::DestinationCountry => g.destination_country = v,
                            _ => g.day = v,
                        }
                    }
                }
            }
            let currency: String = get(&row, "currency")?;
            let n: i64 = get(&row, "n")?;
            // SUM of a BIGINT is NUMERIC on PostgreSQL: read it as a decimal string there.
            let total: i64 = match backend {
                DatabaseBackend::Postgres => get::<Option<sea_orm::prelude::Decimal>>(&row, "total")?
                    .and_then(|d| i64::try_from(d).ok())
                    .unwrap_or(0),
                _ => get::<Option<i64>>(&row, "total")?.unwrap_or(0),
            };
            let entry = groups.entry(key).or_insert(g);
            entry.count += n;
            *entry.totals.entry(currency).or_insert(0) += total;
        }
        Ok(groups.into_values().take(MAX_GROUPS).collect())
    }

    /// Orders whose last push failed, per error code (`lastErrorCode`), most frequent first.
    pub async fn push_failure_reasons(&self, tenant: Tenant, f: &StatsFilter) -> DomainResult<Vec<CodeCount>> {
        let mut q = self.base(tenant, f)?;
        q.and_where(Expr::col(order::Column::FulfillmentStatus).eq(FulfillmentStatus::PushFailed.to_value()))
            .expr_as(Expr::cust("COALESCE(last_error_code, 'UNKNOWN')"), Alias::new("code"))
            .expr_as(Func::count(Expr::col(Asterisk)), Alias::new("n"))
            .add_group_by([Expr::cust("COALESCE(last_error_code, 'UNKNOWN')")])
            .order_by_expr(Expr::cust("n"), Order::Desc)
            .order_by(Alias::new("code"), Order::Asc)
            .limit(MAX_GROUPS as u64);
        self.rows(&q).await?.iter().map(|r| Ok(CodeCount { code: get(r, "code")?, count: get(r, "n")? })).collect()
    }

    /// Orders shipped per UTC day (by when they were marked shipped), within `from`..`to`.
    pub async fn shipped_per_day(&self, tenant: Tenant, f: &StatsFilter) -> DomainResult<Vec<DayCount>> {
        let backend = self.backend();
        let unfiltered = StatsFilter { from: None, to: None, ..f.clone() };
        let mut q = self.base(tenant, &unfiltered)?;
        q.and_where(Expr::col(order::Column::ShippedAt).is_not_null());
        if let Some(from) = validate::instant(f.from, "from")? {
            q.and_where(Expr::col(order::Column::ShippedAt).gte(from));
        }
        if let Some(to) = validate::instant(f.to, "to")? {
            q.and_where(Expr::col(order::Column::ShippedAt).lt(to));
        }
        let day = day_of(backend, "shipped_at");
        q.expr_as(day.clone(), Alias::new("day"))
            .expr_as(Func::count(Expr::col(Asterisk)), Alias::new("n"))
            .add_group_by([day])
            .order_by(Alias::new("day"), Order::Asc)
            .limit(MAX_GROUPS as u64);
        self.rows(&q).await?.iter().map(|r| Ok(DayCount { day: get(r, "day")?, count: get(r, "n")? })).collect()
    }
}

#[derive(Debug, Clone, Default)]
pub struct InventoryFilter {
    pub sku_id: Option<Uuid>,
    pub warehouse_code: Option<String>,
    /// Only rows at or below the low-stock threshold.
    pub low_stock_only: bool,
}

/// One SKU in one warehouse, as last captured from the warehouse.
#[derive(Debug, Clone)]
pub struct InventoryLevel {
    pub snapshot: entity::inventory_snapshot::Model,
    pub sku: entity::sku::Model,
    pub low_stock: bool,
}

impl Reports {
    /// Stock per SKU and warehouse, by SKU code then warehouse; `low_stock` when the
    /// available quantity is at or below `threshold`.
    pub async fn inventory_levels(
        &self,
        tenant: Tenant,
        f: &InventoryFilter,
        threshold: i32,
    ) -> DomainResult<Vec<InventoryLevel>> {
        use entity::{inventory_snapshot as inv, sku};
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
        let mut q = inv::Entity::find().filter(inv::Column::OrganizationId.eq(tenant.id()));
        if let Some(id) = f.sku_id {
            q = q.filter(inv::Column::SkuId.eq(id));
        }
        if let Some(w) = &f.warehouse_code {
            q = q.filter(inv::Column::WarehouseCode.eq(w.trim()));
        }
        if f.low_stock_only {
            q = q.filter(inv::Column::Available.lte(threshold));
        }
        let rows = q.order_by_asc(inv::Column::WarehouseCode).limit(MAX_GROUPS as u64).all(&self.db).await?;
        let mut ids: Vec<Uuid> = rows.iter().map(|r| r.sku_id).collect();
        ids.sort();
        ids.dedup();
        let mut skus = std::collections::HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let found = sku::Entity::find()
                .filter(sku::Column::OrganizationId.eq(tenant.id()))
                .filter(sku::Column::Id.is_in(chunk.iter().copied()))
                .all(&self.db)
                .await?;
            skus.extend(found.into_iter().map(|s| (s.id, s)));
        }
        let mut out: Vec<InventoryLevel> = rows
            .into_iter()
            .filter_map(|snapshot| {
                let sku = skus.get(&snapshot.sku_id)?.clone();
                let low_stock = snapshot.available <= threshold;
                Some(InventoryLevel { snapshot, sku, low_stock })
            })
            .collect();
        out.sort_by(|a, b| (&a.sku.code, &a.snapshot.warehouse_code).cmp(&(&b.sku.code, &b.snapshot.warehouse_code)));
        Ok(out)
    }
}
