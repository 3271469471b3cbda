//! Marketplace tables: accounts, skus, channels, orders, order_items, waybills.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();

        manager
            .create_table(
                Table::create()
                    .table(Accounts::Table)
                    .if_not_exists()
                    .col(pk_uuid(Accounts::Id))
                    .col(uuid(Accounts::OrganizationId))
                    .col(string_len(Accounts::Platform, 32))
                    .col(string_len(Accounts::Name, 200))
                    .col(string_len(Accounts::Status, 32))
                    .col(string_len_null(Accounts::ExternalAccountId, 200))
                    .col(string_len_null(Accounts::MarketplaceId, 64))
                    .col(string_len_null(Accounts::Region, 32))
                    .col(blob_null(Accounts::CredentialsCiphertext))
                    .col(blob_null(Accounts::CredentialsNonce))
                    .col(integer_null(Accounts::CredentialsKeyVersion))
                    .col(string_len_null(Accounts::OauthState, 64).unique_key())
                    .col(timestamp_with_time_zone_null(Accounts::AccessTokenExpiresAt))
                    .col(timestamp_with_time_zone_null(Accounts::RefreshTokenExpiresAt))
                    .col(timestamp_with_time_zone_null(Accounts::SyncWatermark))
                    .col(text_null(Accounts::SyncCursor))
                    .col(timestamp_with_time_zone_null(Accounts::LastSyncedAt))
                    .col(text_null(Accounts::LastSyncError))
                    .col(timestamp_with_time_zone_null(Accounts::DisabledAt))
                    .col(timestamp_with_time_zone(Accounts::CreatedAt))
                    .col(timestamp_with_time_zone(Accounts::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_accounts_organization_id")
                            .from(Accounts::Table, Accounts::OrganizationId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_index(
                Index::create()
                    .name("ux_accounts_organization_id_platform_external_account_id")
                    .table(Accounts::Table)
                    .col(Accounts::OrganizationId)
                    .col(Accounts::Platform)
                    .col(Accounts::ExternalAccountId)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_index(
                Index::create()
                    .name("ix_accounts_organization_id_platform")
                    .table(Accounts::Table)
                    .col(Accounts::OrganizationId)
                    .col(Accounts::Platform)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Skus::Table)
                    .if_not_exists()
                    .col(pk_uuid(Skus::Id))
                    .col(uuid(Skus::OrganizationId))
                    .col(string_len(Skus::Code, 100))
                    .col(string_len_null(Skus::Name, 500))
                    .col(string_len_null(Skus::DeclNameEn, 200))
                    .col(string_len_null(Skus::DeclNameCn, 200))
                    .col(big_integer_null(Skus::DeclValueMinor))
                    .col(string_len_null(Skus::DeclCurrency, 3))
                    .col(integer_null(Skus::WeightGrams))
                    .col(string_len_null(Skus::HsCode, 20))
                    .col(string_len_null(Skus::OriginCountry, 2))
                    .col(text_null(Skus::PickingInfo))
                    .col(uuid_null(Skus::WarehouseAccountId))
                    .col(string_len_null(Skus::WarehouseSkuId, 64))
                    .col(string_len(Skus::WarehouseStatus, 32).default("NOT_SUBMITTED"))
                    .col(timestamp_with_time_zone_null(Skus::WarehouseSyncedAt))
                    .col(timestamp_with_time_zone(Skus::CreatedAt))
                    .col(timestamp_with_time_zone(Skus::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_skus_organization_id")
                            .from(Skus::Table, Skus::OrganizationId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_skus_warehouse_account_id")
                            .from(Skus::Table, Skus::WarehouseAccountId)
                            .to(Accounts::Table, Accounts::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_index(
                Index::create()
                    .name("ux_skus_organization_id_code")
                    .table(Skus::Table)
                    .col(Skus::OrganizationId)
                    .col(Skus::Code)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_index(
                Index::create()
                    .name("ix_skus_organization_id_warehouse_sku_id")
                    .table(Skus::Table)
                    .col(Skus::OrganizationId)
                    .col(Skus::WarehouseSkuId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Channels::Table)
                    .if_not_exists()
                    .col(pk_uuid(Channels::Id))
                    .col(uuid_null(Channels::OrganizationId))
                    .col(string_len(Channels::Code, 64))
                    .col(string_len(Channels::Name, 200))
                    .col(string_len(Channels::Provider, 32))
                    .col(json(Channels::DestinationCountries))
                    .col(integer_null(Channels::MaxWeightGrams))
                    .col(big_integer_null(Channels::MaxValueMinor))
                    .col(string_len_null(Channels::ValueCurrency, 3))
                    .col(json(Channels::RequiredFields))
                    .col(string_len(Channels::AddressPolicy, 32).default("AS_IS"))
                    .col(string_len(Channels::TrackingSource, 32))
                    .col(string_len_null(Channels::TrackingPrefix, 2))
                    .col(string_len_null(Channels::TrackingSuffix, 2))
                    .col(big_integer_null(Channels::RangeStart))
                    .col(big_integer_null(Channels::RangeEnd))
                    .col(big_integer_null(Channels::RangeNext))
                    .col(string_len_null(Channels::ServiceCode, 64))
                    .col(string_len_null(Channels::Region, 32))
                    .col(uuid_null(Channels::WarehouseAccountId))
                    .col(boolean(Channels::Active).default(true))
                    .col(timestamp_with_time_zone(Channels::CreatedAt))
                    .col(timestamp_with_time_zone(Channels::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_channels_organization_id")
                            .from(Channels::Table, Channels::OrganizationId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_channels_warehouse_account_id")
                            .from(Channels::Table, Channels::WarehouseAccountId)
                            .to(Accounts::Table, Accounts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_index(
                Index::create()
                    .name("ux_channels_organization_id_code")
                    .table(Channels::Table)
                    .col(Channels::OrganizationId)
                    .col(Channels::Code)
                    .unique()
                    .to_owned(),
            )
            .await?;

        db.execute_unprepared(
            "CREATE UNIQUE INDEX ux_channels_global_code ON channels (code) WHERE organization_id IS NULL",
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Orders::Table)
                    .if_not_exists()
                    .col(pk_uuid(Orders::Id))
                    .col(uuid(Orders::OrganizationId))
                    .col(uuid(Orders::AccountId))
                    .col(string_len(Orders::Platform, 32))
                    .col(string_len(Orders::PlatformOrderId, 100))
                    .col(string_len_null(Orders::PlatformStatus, 64))
                    .col(string_len_null(Orders::BuyerName, 200))
                    .col(string_len_null(Orders::BuyerEmail, 320))
                    .col(string_len(Orders::RecipientName, 200))
                    .col(string_len_null(Orders::RecipientPhone, 64))
                    .col(string_len_null(Orders::RecipientEmail, 320))
                    .col(string_len_null(Orders::RecipientCompany, 200))
                    .col(string_len(Orders::AddressLine1, 500))
                    .col(string_len_null(Orders::AddressLine2, 500))
                    .col(string_len_null(Orders::City, 200))
                    .col(string_len_null(Orders::State, 200))
                    .col(string_len_null(Orders::PostalCode, 32))
                    .col(string_len(Orders::CountryCode, 2))
                    .col(string_len(Orders::Currency, 3))
                    .col(big_integer(Orders::TotalMinor))
                    .col(big_integer(Orders::ShippingMinor).default(0))
                    .col(string_len(Orders::FulfillmentStatus, 32).default("UNPUSHED"))
                    .col(string_len(Orders::WriteBackStatus, 32).default("NOT_REQUESTED"))
                    .col(text_null(Orders::WriteBackError))
                    .col(uuid_null(Orders::ChannelId))
                    .col(string_len_null(Orders::TrackingNumber, 64))
                    .col(text_null(Orders::LastOperationMessage))
                    .col(integer(Orders::Version).default(0))
                    .col(timestamp_with_time_zone_null(Orders::OrderedAt))
                    .col(timestamp_with_time_zone_null(Orders::PlatformUpdatedAt))
                    .col(timestamp_with_time_zone_null(Orders::PushedAt))
                    .col(timestamp_with_time_zone_null(Orders::ShippedAt))
                    .col(timestamp_with_time_zone(Orders::CreatedAt))
                    .col(timestamp_with_time_zone(Orders::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_orders_organization_id")
                            .from(Orders::Table, Orders::OrganizationId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_orders_account_id")
                            .from(Orders::Table, Orders::AccountId)
                            .to(Accounts::Table, Accounts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_orders_channel_id")
                            .from(Orders::Table, Orders::ChannelId)
                            .to(Channels::Table, Channels::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_index(
                Index::create()
                    .name("ux_orders_account_id_platform_order_id")
                    .table(Orders::Table)
                    .col(Orders::AccountId)
                    .col(Orders::PlatformOrderId)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_index(
                Index::create()
                    .name("ix_orders_organization_id_created_at")
                    .table(Orders::Table)
                    .col(Orders::OrganizationId)
                    .col(Orders::CreatedAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_index(
                Index::create()
                    .name("ix_orders_organization_id_fulfillment_status")
                    .table(Orders::Table)
                    .col(Orders::OrganizationId)
                    .col(Orders::FulfillmentStatus)
                    .to_owned(),
            )
            .await?;

        manager
            .create_index(
                Index::create()
                    .name("ix_orders_organization_id_account_id")
                    .table(Orders::Table)
                    .col(Orders::OrganizationId)
                    .col(Orders::AccountId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_index(
                Index::create()
                    .name("ix_orders_organization_id_channel_id")
                    .table(Orders::Table)
                    .col(Orders::OrganizationId)
                    .col(Orders::ChannelId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_index(
                Index::create()
                    .name("ix_orders_organization_id_country_code")
                    .table(Orders::Table)
                    .col(Orders::OrganizationId)
                    .col(Orders::CountryCode)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(OrderItems::Table)
                    .if_not_exists()
                    .col(pk_uuid(OrderItems::Id))
                    .col(uuid(OrderItems::OrganizationId))
                    .col(uuid(OrderItems::OrderId))
                    .col(string_len_null(OrderItems::PlatformItemId, 100))
                    .col(string_len_null(OrderItems::PlatformSku, 200))
                    .col(string_len_null(OrderItems::Title, 1000))
                    .col(integer(OrderItems::Quantity))
                    .col(big_integer(OrderItems::UnitPriceMinor))
                    .col(uuid_null(OrderItems::SkuId))
                    .col(timestamp_with_time_zone(OrderItems::CreatedAt))
                    .col(timestamp_with_time_zone(OrderItems::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_order_items_organization_id")
                            .from(OrderItems::Table, OrderItems::OrganizationId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_order_items_order_id")
                            .from(OrderItems::Table, OrderItems::OrderId)
                            .to(Orders::Table, Orders::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_order_items_sku_id")
                            .from(OrderItems::Table, OrderItems::SkuId)
                            .to(Skus::Table, Skus::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_index(
                Index::create()
                    .name("ix_order_items_order_id")
                    .table(OrderItems::Table)
                    .col(OrderItems::OrderId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_index(
                Index::create()
                    .name("ix_order_items_organization_id_sku_id")
                    .table(OrderItems::Table)
                    .col(OrderItems::OrganizationId)
                    .col(OrderItems::SkuId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Waybills::Table)
                    .if_not_exists()
                    .col(pk_uuid(Waybills::Id))
                    .col(uuid(Waybills::OrganizationId))
                    .col(uuid_null(Waybills::OrderId))
                    .col(uuid(Waybills::ChannelId))
                    .col(string_len(Waybills::CustomerReference, 64))
                    .col(string_len_null(Waybills::TrackingNumber, 64))
                    .col(string_len(Waybills::Status, 32).default("UNCONFIRMED"))
                    .col(json(Waybills::Snapshot))
                    .col(string_len_null(Waybills::ProviderReference, 128))
                    .col(text_null(Waybills::ErrorMessage))
                    .col(integer(Waybills::Attempts).default(0))
                    .col(timestamp_with_time_zone_null(Waybills::PrintedAt))
                    .col(timestamp_with_time_zone_null(Waybills::ForecastedAt))
                    .col(timestamp_with_time_zone(Waybills::CreatedAt))
                    .col(timestamp_with_time_zone(Waybills::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_waybills_organization_id")
                            .from(Waybills::Table, Waybills::OrganizationId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_waybills_order_id")
                            .from(Waybills::Table, Waybills::OrderId)
                            .to(Orders::Table, Orders::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_waybills_channel_id")
                            .from(Waybills::Table, Waybills::ChannelId)
                            .to(Channels::Table, Channels::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_index(
                Index::create()
                    .name("ux_waybills_channel_id_tracking_number")
                    .table(Waybills::Table)
                    .col(Waybills::ChannelId)
                    .col(Waybills::TrackingNumber)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_index(
                Index::create()
                    .name("ix_waybills_organization_id_status_created_at")
                    .table(Waybills::Table)
                    .col(Waybills::OrganizationId)
                    .col(Waybills::Status)
                    .col(Waybills::CreatedAt)
                    .to_owned(),
            )
            .await?;

        db.execute_unprepared(
            "CREATE UNIQUE INDEX ux_waybills_active_order ON waybills (order_id) WHERE order_id IS NOT NULL AND status <> 'CANCELLED'",
        )
        .await?;

        db.execute_unprepared(
            "CREATE UNIQUE INDEX ux_waybills_active_customer_reference ON waybills (organization_id, customer_reference) WHERE status <> 'CANCELLED'",
        )
        .await?;

        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Waybills::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(OrderItems::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Orders::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Channels::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Skus::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Accounts::Table).to_owned()).await?;
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
    OrganizationId,
    Platform,
    Name,
    Status,
    ExternalAccountId,
    MarketplaceId,
    Region,
    CredentialsCiphertext,
    CredentialsNonce,
    CredentialsKeyVersion,
    OauthState,
    AccessTokenExpiresAt,
    RefreshTokenExpiresAt,
    SyncWatermark,
    SyncCursor,
    LastSyncedAt,
    LastSyncError,
    DisabledAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Skus {
    Table,
    Id,
    OrganizationId,
    Code,
    Name,
    DeclNameEn,
    DeclNameCn,
    DeclValueMinor,
    DeclCurrency,
    WeightGrams,
    HsCode,
    OriginCountry,
    PickingInfo,
    WarehouseAccountId,
    WarehouseSkuId,
    WarehouseStatus,
    WarehouseSyncedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Channels {
    Table,
    Id,
    OrganizationId,
    Code,
    Name,
    Provider,
    DestinationCountries,
    MaxWeightGrams,
    MaxValueMinor,
    ValueCurrency,
    RequiredFields,
    AddressPolicy,
    TrackingSource,
    TrackingPrefix,
    TrackingSuffix,
    RangeStart,
    RangeEnd,
    RangeNext,
    ServiceCode,
    Region,
    WarehouseAccountId,
    Active,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Orders {
    Table,
    Id,
    OrganizationId,
    AccountId,
    Platform,
    PlatformOrderId,
    PlatformStatus,
    BuyerName,
    BuyerEmail,
    RecipientName,
    RecipientPhone,
    RecipientEmail,
    RecipientCompany,
    AddressLine1,
    AddressLine2,
    City,
    State,
    PostalCode,
    CountryCode,
    Currency,
    TotalMinor,
    ShippingMinor,
    FulfillmentStatus,
    WriteBackStatus,
    WriteBackError,
    ChannelId,
    TrackingNumber,
    LastOperationMessage,
    Version,
    OrderedAt,
    PlatformUpdatedAt,
    PushedAt,
    ShippedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum OrderItems {
    Table,
    Id,
    OrganizationId,
    OrderId,
    PlatformItemId,
    PlatformSku,
    Title,
    Quantity,
    UnitPriceMinor,
    SkuId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Waybills {
    Table,
    Id,
    OrganizationId,
    OrderId,
    ChannelId,
    CustomerReference,
    TrackingNumber,
    Status,
    Snapshot,
    ProviderReference,
    ErrorMessage,
    Attempts,
    PrintedAt,
    ForecastedAt,
    CreatedAt,
    UpdatedAt,
}
