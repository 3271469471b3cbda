//! `carrier_mappings` table: the carrier identifier one marketplace accepts for a channel
//! (per organization, or the logistics company's default when `organization_id` is NULL).

use crate::enums::Platform;
use sea_orm::entity::prelude::*;

/// `scope` value of the logistics company's default mapping.
pub const GLOBAL_SCOPE: &str = "global";

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "carrier_mappings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Option<Uuid>,
    /// The organization id as text, or `GLOBAL_SCOPE`.
    #[sea_orm(column_type = "String(StringLen::N(36))")]
    pub scope: String,
    pub channel_id: Uuid,
    pub platform: Platform,
    #[sea_orm(column_type = "String(StringLen::N(100))")]
    pub carrier_code: String,
    #[sea_orm(column_type = "String(StringLen::N(200))")]
    pub carrier_name: Option<String>,
    #[sea_orm(column_type = "String(StringLen::N(500))")]
    pub tracking_url: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
