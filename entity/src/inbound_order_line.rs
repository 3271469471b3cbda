//! `inbound_order_lines` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "inbound_order_lines")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub inbound_order_id: Uuid,
    #[sea_orm(column_type = "String(StringLen::N(100))")]
    pub seller_carton_number: String,
    pub sku_id: Uuid,
    pub quantity: i32,
    pub received_quantity: i32,
    pub putaway_quantity: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
