//! `orders` table.

use crate::enums::{FulfillmentStatus, MarketplaceState, Platform, WriteBackStatus};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "orders")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub account_id: Uuid,
    pub platform: Platform,
    #[sea_orm(column_type = "String(StringLen::N(100))")]
    pub platform_order_id: String,
    #[sea_orm(column_type = "String(StringLen::N(64))")]
    pub platform_status: Option<String>,
    #[sea_orm(column_type = "String(StringLen::N(200))")]
    pub buyer_name: Option<String>,
    #[sea_orm(column_type = "String(StringLen::N(320))")]
    pub buyer_email: Option<String>,
    #[sea_orm(column_type = "String(StringLen::N(200))")]
    pub recipient_name: String,
    #[sea_orm(column_type = "String(StringLen::N(64))")]
    pub recipient_phone: Option<String>,
    #[sea_orm(column_type = "String(StringLen::N(320))")]
    pub recipient_email: Option<String>,
    #[sea_orm(column_type = "String(StringLen::N(200))")]
    pub recipient_company: Option<String>,
    #[sea_orm(column_type = "String(StringLen::N(500))")]
    pub address_line1: String,
    #[sea_orm(column_type = "String(StringLen::N(500))")]
    pub address_line2: Option<String>,
    #[sea_orm(column_type = "String(StringLen::N(200))")]
    pub city: Option<String>,
    #[sea_orm(column_type = "String(StringLen::N(200))")]
    pub state: Option<String>,
    #[sea_orm(column_type = "String(StringLen::N(32))")]
    pub postal_code: Option<String>,
    #[sea_orm(column_type = "String(StringLen::N(2))")]
    pub country_code: String,
    #[sea_orm(column_type = "String(StringLen::N(3))")]
    pub currency: String,
    pub total_minor: i64,
    pub shipping_minor: i64,
    pub fulfillment_status: FulfillmentStatus,
    pub write_back_status: WriteBackStatus,
    #[sea_orm(column_type = "Text")]
    pub write_back_error: Option<String>,
    /// The typed code of the last write-back failure (a `UserErrorCode` name).
    #[sea_orm(column_type = "String(StringLen::N(64))")]
    pub write_back_error_code: Option<String>,
    pub marketplace_state: MarketplaceState,
    /// The marketplace the order was placed in (Amazon marketplace id).
    #[sea_orm(column_type = "String(StringLen::N(64))")]
    pub marketplace_id: Option<String>,
    pub channel_id: Option<Uuid>,
    #[sea_orm(column_type = "String(StringLen::N(64))")]
    pub tracking_number: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub last_operation_message: Option<String>,
    /// The typed code of the last push failure (a `UserErrorCode` name).
    #[sea_orm(column_type = "String(StringLen::N(64))")]
    pub last_error_code: Option<String>,
    pub version: i32,
    pub ordered_at: Option<DateTimeUtc>,
    pub platform_updated_at: Option<DateTimeUtc>,
    pub pushed_at: Option<DateTimeUtc>,
    pub shipped_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
