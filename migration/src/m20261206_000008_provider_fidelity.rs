//! Provider fidelity: where an order stands on its marketplace (and which marketplace it
//! was placed in), the typed write-back failure code, the facts read from a seller's
//! account when it connects (eBay username, Amazon marketplaces), the per-account cache of
//! carriers the marketplace accepts, and each channel's carrier identifier per marketplace.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Orders {
    Table,
    MarketplaceState,
    MarketplaceId,
    WriteBackErrorCode,
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    PlatformUserName,
    MarketplaceIds,
    CarriersJson,
    CarriersFetchedAt,
}

#[derive(DeriveIden)]
enum Channels {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum CarrierMappings {
    Table,
    Id,
    OrganizationId,
    Scope,
    ChannelId,
    Platform,
    CarrierCode,
    CarrierName,
    TrackingUrl,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        for col in [
            string_len(Orders::MarketplaceState, 32).default("AWAITING_SHIPMENT").to_owned(),
            string_len_null(Orders::MarketplaceId, 64).to_owned(),
            string_len_null(Orders::WriteBackErrorCode, 64).to_owned(),
        ] {
            manager.alter_table(Table::alter().table(Orders::Table).add_column(col).to_owned()).await?;
        }
        for col in [
            string_len_null(Accounts::PlatformUserName, 200).to_owned(),
            text_null(Accounts::MarketplaceIds).to_owned(),
            text_null(Accounts::CarriersJson).to_owned(),
            timestamp_with_time_zone_null(Accounts::CarriersFetchedAt).to_owned(),
        ] {
            manager.alter_table(Table::alter().table(Accounts::Table).add_column(col).to_owned()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(CarrierMappings::Table)
                    .if_not_exists()
                    .col(uuid(CarrierMappings::Id).primary_key())
                    .col(uuid_null(CarrierMappings::OrganizationId))
                    // The organization id, or "global" for the logistics company's default:
                    // NULLs would not be unique in PostgreSQL.
                    .col(string_len(CarrierMappings::Scope, 36))
                    .col(uuid(CarrierMappings::ChannelId))
                    .col(string_len(CarrierMappings::Platform, 32))
                    .col(string_len(CarrierMappings::CarrierCode, 100))
                    .col(string_len_null(CarrierMappings::CarrierName, 200))
                    .col(string_len_null(CarrierMappings::TrackingUrl, 500))
                    .col(timestamp_with_time_zone(CarrierMappings::CreatedAt))
                    .col(timestamp_with_time_zone(CarrierMappings::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_carrier_mappings_channel")
                            .from(CarrierMappings::Table, CarrierMappings::ChannelId)
                            .to(Channels::Table, Channels::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_carrier_mappings_channel_platform_scope")
                    .table(CarrierMappings::Table)
                    .col(CarrierMappings::ChannelId)
                    .col(CarrierMappings::Platform)
                    .col(CarrierMappings::Scope)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(CarrierMappings::Table).to_owned()).await?;
        for col in
            [Accounts::PlatformUserName, Accounts::MarketplaceIds, Accounts::CarriersJson, Accounts::CarriersFetchedAt]
        {
            manager.alter_table(Table::alter().table(Accounts::Table).drop_column(col).to_owned()).await?;
        }
        for col in [Orders::MarketplaceState, Orders::MarketplaceId, Orders::WriteBackErrorCode] {
            manager.alter_table(Table::alter().table(Orders::Table).drop_column(col).to_owned()).await?;
        }
        Ok(())
    }
}
