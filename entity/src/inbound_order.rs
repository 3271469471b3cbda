//! `inbound_orders` table.

use crate::enums::{InboundStatus, ShippingMethod};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "inbound_orders")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub account_id: Uuid,
    #[sea_orm(column_type = "String(StringLen::N(32))")]
    pub warehouse_region: String,
    #[sea_orm(column_type = "String(StringLen::N(100))")]
    pub seller_inbound_number: String,
    #[sea_orm(column_type = "String(StringLen::N(64))")]
    pub inbound_number: Option<String>,
    pub shipping_method: ShippingMethod,
    pub eta: Option<DateTimeUtc>,
    pub need_clearance_doc: bool,
    pub status: InboundStatus,
    pub tracking_numbers: Json,
    pub last_polled_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
