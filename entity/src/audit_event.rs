//! `audit_events` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Option<Uuid>,
    pub actor_user_id: Option<Uuid>,
    pub actor_api_key_id: Option<Uuid>,
    #[sea_orm(column_type = "String(StringLen::N(100))")]
    pub action: String,
    #[sea_orm(column_type = "String(StringLen::N(64))")]
    pub entity_type: String,
    pub entity_id: Option<Uuid>,
    pub data: Option<Json>,
    #[sea_orm(column_type = "String(StringLen::N(64))")]
    pub request_id: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
