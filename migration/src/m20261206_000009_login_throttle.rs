//! Login throttling: failed-login counters per (account, client address), per account and
//! per client address, in the database so every replica sees the same counts. Keys are
//! SHA-256 digests (no email address or IP address is stored in clear).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LoginThrottles {
    Table,
    Key,
    Failures,
    BlockedUntil,
    LastFailureAt,
    LastSuccessAt,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LoginThrottles::Table)
                    .if_not_exists()
                    .col(string_len(LoginThrottles::Key, 80).primary_key())
                    .col(integer(LoginThrottles::Failures).default(0))
                    .col(timestamp_with_time_zone_null(LoginThrottles::BlockedUntil))
                    .col(timestamp_with_time_zone_null(LoginThrottles::LastFailureAt))
                    .col(timestamp_with_time_zone_null(LoginThrottles::LastSuccessAt))
                    .col(timestamp_with_time_zone(LoginThrottles::ExpiresAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_login_throttles_expires_at")
                    .table(LoginThrottles::Table)
                    .col(LoginThrottles::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(LoginThrottles::Table).to_owned()).await
    }
}
