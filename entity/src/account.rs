//! `accounts` table.

use crate::enums::{AccountStatus, Platform};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "accounts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub platform: Platform,
    #[sea_orm(column_type = "String(StringLen::N(200))")]
    pub name: String,
    pub status: AccountStatus,
    #[sea_orm(column_type = "String(StringLen::N(200))")]
    pub external_account_id: Option<String>,
    #[sea_orm(column_type = "String(StringLen::N(64))")]
    pub marketplace_id: Option<String>,
    #[sea_orm(column_type = "String(StringLen::N(32))")]
    pub region: Option<String>,
    /// The seller's user id as the platform shows it (eBay username).
    #[sea_orm(column_type = "String(StringLen::N(200))")]
    pub platform_user_name: Option<String>,
    /// JSON array of every marketplace id the seller sells in (Amazon).
    #[sea_orm(column_type = "Text")]
    pub marketplace_ids: Option<String>,
    /// JSON array of the carriers the platform accepts for this seller (cached list).
    #[sea_orm(column_type = "Text")]
    pub carriers_json: Option<String>,
    pub carriers_fetched_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Blob")]
    pub credentials_ciphertext: Option<Vec<u8>>,
    #[sea_orm(column_type = "Blob")]
    pub credentials_nonce: Option<Vec<u8>>,
    pub credentials_key_version: Option<i32>,
    #[sea_orm(column_type = "String(StringLen::N(64))", unique)]
    pub oauth_state: Option<String>,
    /// The user (or API key) who opened the current consent round: only they may complete it.
    pub oauth_started_by: Option<Uuid>,
    /// Until when `oauth_state` may be completed; `None` once used (or never opened).
    pub oauth_state_expires_at: Option<DateTimeUtc>,
    pub access_token_expires_at: Option<DateTimeUtc>,
    pub refresh_token_expires_at: Option<DateTimeUtc>,
    pub sync_watermark: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text")]
    pub sync_cursor: Option<String>,
    pub last_synced_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text")]
    pub last_sync_error: Option<String>,
    pub disabled_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
