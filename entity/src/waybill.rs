//! `waybills` table.

use crate::enums::WaybillStatus;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "waybills")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub order_id: Option<Uuid>,
    pub channel_id: Uuid,
    #[sea_orm(column_type = "String(StringLen::N(64))")]
    pub customer_reference: String,
    #[sea_orm(column_type = "String(StringLen::N(64))")]
    pub tracking_number: Option<String>,
    pub status: WaybillStatus,
    pub snapshot: Json,
    #[sea_orm(column_type = "String(StringLen::N(128))")]
    pub provider_reference: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub error_message: Option<String>,
    #[sea_orm(column_type = "String(StringLen::N(64))")]
    pub error_code: Option<String>,
    /// Set when a user edited the snapshot; the next push sends it unchanged.
    pub edited_at: Option<DateTimeUtc>,
    pub attempts: i32,
    pub printed_at: Option<DateTimeUtc>,
    pub forecasted_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
