//! `inventory_snapshots` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "inventory_snapshots")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub account_id: Uuid,
    pub sku_id: Uuid,
    #[sea_orm(column_type = "String(StringLen::N(64))")]
    pub warehouse_code: String,
    /// The OC service region the warehouse serves (GB, DE, AU…).
    #[sea_orm(column_type = "String(StringLen::N(16))")]
    pub region: String,
    pub available: i32,
    pub reserved: i32,
    pub in_transit: i32,
    pub received: i32,
    pub unfulfillable: i32,
    pub captured_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
