//! `login_throttles` table: failed-login counters (see `api::domain::identity::throttle`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "login_throttles")]
pub struct Model {
    /// `p:`, `a:` or `i:` and the hex SHA-256 of (account, address), account or address.
    #[sea_orm(primary_key, auto_increment = false, column_type = "String(StringLen::N(80))")]
    pub key: String,
    /// Consecutive failed attempts (forgotten a day after the last one).
    pub failures: i32,
    /// No attempt is checked before this instant: RATE_LIMITED.
    pub blocked_until: Option<DateTimeUtc>,
    pub last_failure_at: Option<DateTimeUtc>,
    /// (account, address) rows only: the last successful login from this address.
    pub last_success_at: Option<DateTimeUtc>,
    /// When the row may be deleted.
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
