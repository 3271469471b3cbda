//! `skus` table.

use crate::enums::WarehouseSkuStatus;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "skus")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    #[sea_orm(column_type = "String(StringLen::N(100))")]
    pub code: String,
    #[sea_orm(column_type = "String(StringLen::N(500))")]
    pub name: Option<String>,
    #[sea_orm(column_type = "String(StringLen::N(200))")]
    pub decl_name_en: Option<String>,
    #[sea_orm(column_type = "String(StringLen::N(200))")]
    pub decl_name_cn: Option<String>,
    pub decl_value_minor: Option<i64>,
    #[sea_orm(column_type = "String(StringLen::N(3))")]
    pub decl_currency: Option<String>,
    pub weight_grams: Option<i32>,
    #[sea_orm(column_type = "String(StringLen::N(20))")]
    pub hs_code: Option<String>,
    #[sea_orm(column_type = "String(StringLen::N(2))")]
    pub origin_country: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub picking_info: Option<String>,
    pub warehouse_account_id: Option<Uuid>,
    #[sea_orm(column_type = "String(StringLen::N(64))")]
    pub warehouse_sku_id: Option<String>,
    /// The seller SKU the warehouse keeps (OC's sellerSKUID, editable on its portal).
    #[sea_orm(column_type = "String(StringLen::N(100))")]
    pub warehouse_seller_sku: Option<String>,
    pub warehouse_status: WarehouseSkuStatus,
    pub warehouse_synced_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
