//! `order_items` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "order_items")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub order_id: Uuid,
    #[sea_orm(column_type = "String(StringLen::N(100))")]
    pub platform_item_id: Option<String>,
    #[sea_orm(column_type = "String(StringLen::N(200))")]
    pub platform_sku: Option<String>,
    #[sea_orm(column_type = "String(StringLen::N(1000))")]
    pub title: Option<String>,
    pub quantity: i32,
    pub unit_price_minor: i64,
    pub sku_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
