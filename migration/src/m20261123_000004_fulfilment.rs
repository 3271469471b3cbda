//! Fulfilment workflow columns: the typed code of an order's last push failure (for the
//! SPA and failure reporting), a waybill's error code and when a user edited its snapshot
//! (an edited snapshot is sent as is on the next push), and a channel's carrier limit on
//! address line length. One column per statement: SQLite alters one column at a time.
//! Plus the indexes the waybill list needs: newest first within a tenant (keyset on id)
//! and lookup by tracking number within a tenant.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Orders {
    Table,
    LastErrorCode,
}

#[derive(DeriveIden)]
enum Waybills {
    Table,
    Id,
    OrganizationId,
    TrackingNumber,
    ErrorCode,
    EditedAt,
}

#[derive(DeriveIden)]
enum Channels {
    Table,
    AddressLineMax,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter().table(Orders::Table).add_column(string_len_null(Orders::LastErrorCode, 64)).to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter().table(Waybills::Table).add_column(string_len_null(Waybills::ErrorCode, 64)).to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Waybills::Table)
                    .add_column(timestamp_with_time_zone_null(Waybills::EditedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter().table(Channels::Table).add_column(integer_null(Channels::AddressLineMax)).to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_waybills_organization_id_id")
                    .table(Waybills::Table)
                    .col(Waybills::OrganizationId)
                    .col(Waybills::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_waybills_organization_id_tracking_number")
                    .table(Waybills::Table)
                    .col(Waybills::OrganizationId)
                    .col(Waybills::TrackingNumber)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in ["ix_waybills_organization_id_tracking_number", "ix_waybills_organization_id_id"] {
            manager.drop_index(Index::drop().name(name).table(Waybills::Table).to_owned()).await?;
        }
        manager
            .alter_table(Table::alter().table(Channels::Table).drop_column(Channels::AddressLineMax).to_owned())
            .await?;
        manager.alter_table(Table::alter().table(Waybills::Table).drop_column(Waybills::EditedAt).to_owned()).await?;
        manager.alter_table(Table::alter().table(Waybills::Table).drop_column(Waybills::ErrorCode).to_owned()).await?;
        manager.alter_table(Table::alter().table(Orders::Table).drop_column(Orders::LastErrorCode).to_owned()).await?;
        Ok(())
    }
}
