//! Reporting queries for internal tools (a VIEWER API key is enough): order counts and
//! totals by any grouping, push failures by code, orders shipped per day, stock levels.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::{
    context::{actor, services},
    enums::{FulfillmentStatus, Platform},
    errors::ApiResult,
    ids::{Kind, decode, encode},
    orders::Money,
    skus::Sku,
};
use crate::domain::reports::{self as dom, Dimension, InventoryFilter, StatsFilter};

/// What to group orders by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum OrderStatsDimension {
    /// The marketplace's own order status.
    Status,
    FulfillmentStatus,
    Platform,
    Account,
    Channel,
    DestinationCountry,
    /// The order date (UTC day, `YYYY-MM-DD`).
    Day,
}

impl From<OrderStatsDimension> for Dimension {
    fn from(d: OrderStatsDimension) -> Self {
        match d {
            OrderStatsDimension::Status => Dimension::Status,
            OrderStatsDimension::FulfillmentStatus => Dimension::FulfillmentStatus,
            OrderStatsDimension::Platform => Dimension::Platform,
            OrderStatsDimension::Account => Dimension::Account,
            OrderStatsDimension::Channel => Dimension::Channel,
            OrderStatsDimension::DestinationCountry => Dimension::DestinationCountry,
            OrderStatsDimension::Day => Dimension::Day,
        }
    }
}

/// Which orders a report covers. `from`/`to` bound the order date (when the marketplace
/// says it was placed); `to` is exclusive.
#[derive(InputObject, Default)]
pub struct OrderStatsFilter {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub account_ids: Option<Vec<ID>>,
    pub platforms: Option<Vec<Platform>>,
}

impl OrderStatsFilter {
    fn into_domain(self) -> ApiResult<StatsFilter> {
        let account_ids = self
            .account_ids
            .map(|v| v.iter().map(|id| decode(Kind::Account, id)).collect::<Result<Vec<_>, _>>())
            .transpose()?;
        Ok(StatsFilter {
            from: self.from,
            to: self.to,
            account_ids,
            platforms: self.platforms.map(|v| v.into_iter().map(Into::into).collect()),
        })
    }
}

/// One group of orders: the key fields asked for in `groupBy` (the others are null), the
/// number of orders and their totals per currency.
#[derive(SimpleObject)]
pub struct OrderStatsGroup {
    pub status: Option<String>,
    pub fulfillment_status: Option<FulfillmentStatus>,
    pub platform: Option<Platform>,
    pub account_id: Option<ID>,
    pub channel_id: Option<ID>,
    pub destination_country: Option<String>,
    pub day: Option<String>,
    pub count: i64,
    /// Order totals summed per currency.
    pub totals: Vec<Money>,
}

#[derive(SimpleObject)]
pub struct PushFailureReason {
    /// A push error code (`DESTINATION_NOT_SERVED`, `DECLARATION_MISSING`, …).
    pub code: String,
    pub count: i64,
}

#[derive(SimpleObject)]
pub struct DayCount {
    /// UTC day, `YYYY-MM-DD`.
    pub day: String,
    pub count: i64,
}

/// Stock of one SKU in one warehouse, as last captured from the warehouse.
#[derive(SimpleObject)]
pub struct InventoryLevel {
    pub sku: Sku,
    pub warehouse_code: String,
    pub available: i32,
    pub reserved: i32,
    pub in_transit: i32,
    pub unfulfillable: i32,
    pub captured_at: DateTime<Utc>,
    /// Available at or below the threshold asked for.
    pub low_stock: bool,
}

#[derive(InputObject, Default)]
pub struct InventoryLevelFilter {
    pub sku_id: Option<ID>,
    pub warehouse_code: Option<String>,
    #[graphql(default)]
    pub low_stock_only: bool,
}

#[derive(Default)]
pub struct ReportQuery;

#[Object]
impl ReportQuery {
    /// Order counts and totals grouped by `groupBy` (one SQL GROUP BY; at most 10,000 groups).
    async fn order_stats(
        &self,
        ctx: &Context<'_>,
        filter: Option<OrderStatsFilter>,
        #[graphql(default)] group_by: Vec<OrderStatsDimension>,
    ) -> ApiResult<Vec<OrderStatsGroup>> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        let f = filter.unwrap_or_default().into_domain()?;
        let by: Vec<Dimension> = group_by.into_iter().map(Into::into).collect();
        let groups = s.reports.order_stats(a.tenant(), &f, &by).await?;
        Ok(groups
            .into_iter()
            .map(|g| OrderStatsGroup {
                status: g.status,
                fulfillment_status: g.fulfillment_status.map(Into::into),
                platform: g.platform.map(Into::into),
                account_id: g.account_id.map(|id| encode(Kind::Account, id)),
                channel_id: g.channel_id.map(|id| encode(Kind::Channel, id)),
                destination_country: g.destination_country,
                day: g.day,
                count: g.count,
                totals: g.totals.into_iter().map(|(currency, amount_minor)| Money { amount_minor, currency }).collect(),
            })
            .collect())
    }

    /// Orders whose last push failed, per error code, most frequent first.
    async fn push_failure_reasons(
        &self,
        ctx: &Context<'_>,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> ApiResult<Vec<PushFailureReason>> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        let f = StatsFilter { from, to, ..Default::default() };
        Ok(s.reports
            .push_failure_reasons(a.tenant(), &f)
            .await?
            .into_iter()
            .map(|c: dom::CodeCount| PushFailureReason { code: c.code, count: c.count })
            .collect())
    }

    /// Stock per SKU and warehouse (by SKU code), flagged `lowStock` when the available
    /// quantity is at or below `lowStockThreshold`.
    async fn inventory_levels(
        &self,
        ctx: &Context<'_>,
        filter: Option<InventoryLevelFilter>,
        #[graphql(desc = "Default 5.")] low_stock_threshold: Option<i32>,
    ) -> ApiResult<Vec<InventoryLevel>> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        let f = filter.unwrap_or_default();
        let domain = InventoryFilter {
            sku_id: f.sku_id.as_ref().map(|id| decode(Kind::Sku, id)).transpose()?,
            warehouse_code: f.warehouse_code,
            low_stock_only: f.low_stock_only,
        };
        Ok(s.reports
            .inventory_levels(a.tenant(), &domain, low_stock_threshold.unwrap_or(5))
            .await?
            .into_iter()
            .map(|l| InventoryLevel {
                sku: Sku(l.sku),
                warehouse_code: l.snapshot.warehouse_code,
                available: l.snapshot.available,
                reserved: l.snapshot.reserved,
                in_transit: l.snapshot.in_transit,
                unfulfillable: l.snapshot.unfulfillable,
                captured_at: l.snapshot.captured_at,
                low_stock: l.low_stock,
            })
            .collect())
    }

    /// Orders marked shipped per UTC day (`from`/`to` bound the shipping time).
    async fn shipped_per_day(
        &self,
        ctx: &Context<'_>,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        account_ids: Option<Vec<ID>>,
    ) -> ApiResult<Vec<DayCount>> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        let f = OrderStatsFilter { from, to, account_ids, platforms: None }.into_domain()?;
        Ok(s.reports
            .shipped_per_day(a.tenant(), &f)
            .await?
            .into_iter()
            .map(|d| DayCount { day: d.day, count: d.count })
            .collect())
    }
}
