//! `stock_movements` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "stock_movements")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub account_id: Uuid,
    pub sku_id: Uuid,
    #[sea_orm(column_type = "String(StringLen::N(64))")]
    pub warehouse_code: String,
    #[sea_orm(column_type = "String(StringLen::N(128))")]
    pub external_id: String,
    #[sea_orm(column_type = "String(StringLen::N(64))")]
    pub movement_type: String,
    pub quantity: i32,
    #[sea_orm(column_type = "String(StringLen::N(128))")]
    pub reference: Option<String>,
    pub occurred_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
