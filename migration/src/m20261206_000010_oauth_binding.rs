//! OAuth consent rounds bound to who started them (issue 17 item 9): the user (or API
//! key) that asked for the consent page, and until when its `state` may be completed.
//! `oauth_state_expires_at` is NULL once the round was completed (or never opened), so a
//! used state is told apart from an unknown one. Rounds opened before this migration have
//! no binding and must be started again.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Accounts {
    Table,
    OauthStartedBy,
    OauthStateExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        for col in [
            uuid_null(Accounts::OauthStartedBy).to_owned(),
            timestamp_with_time_zone_null(Accounts::OauthStateExpiresAt).to_owned(),
        ] {
            manager.alter_table(Table::alter().table(Accounts::Table).add_column(col).to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for col in [Accounts::OauthStartedBy, Accounts::OauthStateExpiresAt] {
            manager.alter_table(Table::alter().table(Accounts::Table).drop_column(col).to_owned()).await?;
        }
        Ok(())
    }
}
