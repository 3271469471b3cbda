//! `outbound_orders` table.

use crate::enums::OutboundStatus;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbound_orders")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub account_id: Uuid,
    pub order_id: Option<Uuid>,
    pub waybill_id: Option<Uuid>,
    #[sea_orm(column_type = "String(StringLen::N(100))")]
    pub seller_order_number: String,
    #[sea_orm(column_type = "String(StringLen::N(64))")]
    pub outbound_number: Option<String>,
    pub status: OutboundStatus,
    #[sea_orm(column_type = "String(StringLen::N(100))")]
    pub carrier: Option<String>,
    #[sea_orm(column_type = "String(StringLen::N(64))")]
    pub tracking_number: Option<String>,
    pub chargeable_weight_grams: Option<i32>,
    pub fee_minor: Option<i64>,
    #[sea_orm(column_type = "String(StringLen::N(3))")]
    pub fee_currency: Option<String>,
    pub auto_fulfilled: bool,
    pub raw: Option<Json>,
    pub last_polled_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
