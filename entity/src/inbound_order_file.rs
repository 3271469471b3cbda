//! `inbound_order_files` table.

use crate::enums::InboundFileKind;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "inbound_order_files")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub inbound_order_id: Uuid,
    pub kind: InboundFileKind,
    #[sea_orm(column_type = "String(StringLen::N(32))")]
    pub file_type: Option<String>,
    #[sea_orm(column_type = "String(StringLen::N(255))")]
    pub file_name: String,
    #[sea_orm(column_type = "String(StringLen::N(128))")]
    pub content_type: String,
    pub size_bytes: i64,
    #[sea_orm(column_type = "String(StringLen::N(64))")]
    pub sha256: String,
    #[sea_orm(column_type = "Blob")]
    pub content: Vec<u8>,
    pub uploaded_to_provider_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
