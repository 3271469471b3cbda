//! `channels` table.

use crate::enums::{AddressPolicy, ChannelProvider, TrackingSource};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "channels")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Option<Uuid>,
    #[sea_orm(column_type = "String(StringLen::N(64))")]
    pub code: String,
    #[sea_orm(column_type = "String(StringLen::N(200))")]
    pub name: String,
    pub provider: ChannelProvider,
    pub destination_countries: Json,
    pub max_weight_grams: Option<i32>,
    pub max_value_minor: Option<i64>,
    #[sea_orm(column_type = "String(StringLen::N(3))")]
    pub value_currency: Option<String>,
    pub required_fields: Json,
    pub address_policy: AddressPolicy,
    pub tracking_source: TrackingSource,
    #[sea_orm(column_type = "String(StringLen::N(2))")]
    pub tracking_prefix: Option<String>,
    #[sea_orm(column_type = "String(StringLen::N(2))")]
    pub tracking_suffix: Option<String>,
    pub range_start: Option<i64>,
    pub range_end: Option<i64>,
    pub range_next: Option<i64>,
    #[sea_orm(column_type = "String(StringLen::N(64))")]
    pub service_code: Option<String>,
    #[sea_orm(column_type = "String(StringLen::N(32))")]
    pub region: Option<String>,
    pub warehouse_account_id: Option<Uuid>,
    pub active: bool,
    /// The carrier's limit on each address line's length (characters).
    pub address_line_max: Option<i32>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
