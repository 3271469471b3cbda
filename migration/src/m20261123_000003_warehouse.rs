//! Warehouse tables: outbound_orders, inbound_orders, inbound_order_lines, inbound_order_files, inventory_snapshots, stock_movements, label_templates.

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
                    .table(OutboundOrders::Table)
                    .if_not_exists()
                    .col(pk_uuid(OutboundOrders::Id))
                    .col(uuid(OutboundOrders::OrganizationId))
                    .col(uuid(OutboundOrders::AccountId))
                    .col(uuid_null(OutboundOrders::OrderId))
                    .col(uuid_null(OutboundOrders::WaybillId))
                    .col(string_len(OutboundOrders::SellerOrderNumber, 100))
                    .col(string_len_null(OutboundOrders::OutboundNumber, 64))
                    .col(string_len(OutboundOrders::Status, 32))
                    .col(string_len_null(OutboundOrders::Carrier, 100))
                    .col(string_len_null(OutboundOrders::TrackingNumber, 64))
                    .col(integer_null(OutboundOrders::ChargeableWeightGrams))
                    .col(big_integer_null(OutboundOrders::FeeMinor))
                    .col(string_len_null(OutboundOrders::FeeCurrency, 3))
                    .col(boolean(OutboundOrders::AutoFulfilled).default(false))
                    .col(json_null(OutboundOrders::Raw))
                    .col(timestamp_with_time_zone_null(OutboundOrders::LastPolledAt))
                    .col(timestamp_with_time_zone(OutboundOrders::CreatedAt))
                    .col(timestamp_with_time_zone(OutboundOrders::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_outbound_orders_organization_id")
                            .from(OutboundOrders::Table, OutboundOrders::OrganizationId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_outbound_orders_account_id")
                            .from(OutboundOrders::Table, OutboundOrders::AccountId)
                            .to(Accounts::Table, Accounts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_outbound_orders_order_id")
                            .from(OutboundOrders::Table, OutboundOrders::OrderId)
                            .to(Orders::Table, Orders::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_outbound_orders_waybill_id")
                            .from(OutboundOrders::Table, OutboundOrders::WaybillId)
                            .to(Waybills::Table, Waybills::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_index(
                Index::create()
                    .name("ux_outbound_orders_account_id_seller_order_number")
                    .table(OutboundOrders::Table)
                    .col(OutboundOrders::AccountId)
                    .col(OutboundOrders::SellerOrderNumber)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_index(
                Index::create()
                    .name("ux_outbound_orders_account_id_outbound_number")
                    .table(OutboundOrders::Table)
                    .col(OutboundOrders::AccountId)
                    .col(OutboundOrders::OutboundNumber)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_index(
                Index::create()
                    .name("ix_outbound_orders_organization_id_status")
                    .table(OutboundOrders::Table)
                    .col(OutboundOrders::OrganizationId)
                    .col(OutboundOrders::Status)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(InboundOrders::Table)
                    .if_not_exists()
                    .col(pk_uuid(InboundOrders::Id))
                    .col(uuid(InboundOrders::OrganizationId))
                    .col(uuid(InboundOrders::AccountId))
                    .col(string_len(InboundOrders::WarehouseRegion, 32))
                    .col(string_len(InboundOrders::SellerInboundNumber, 100))
                    .col(string_len_null(InboundOrders::InboundNumber, 64))
                    .col(string_len(InboundOrders::ShippingMethod, 32))
                    .col(timestamp_with_time_zone_null(InboundOrders::Eta))
                    .col(boolean(InboundOrders::NeedClearanceDoc))
                    .col(string_len(InboundOrders::Status, 32))
                    .col(json(InboundOrders::TrackingNumbers))
                    .col(timestamp_with_time_zone_null(InboundOrders::LastPolledAt))
                    .col(timestamp_with_time_zone(InboundOrders::CreatedAt))
                    .col(timestamp_with_time_zone(InboundOrders::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_inbound_orders_organization_id")
                            .from(InboundOrders::Table, InboundOrders::OrganizationId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_inbound_orders_account_id")
                            .from(InboundOrders::Table, InboundOrders::AccountId)
                            .to(Accounts::Table, Accounts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_index(
                Index::create()
                    .name("ux_inbound_orders_organization_id_seller_inbound_number")
                    .table(InboundOrders::Table)
                    .col(InboundOrders::OrganizationId)
                    .col(InboundOrders::SellerInboundNumber)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_index(
                Index::create()
                    .name("ux_inbound_orders_account_id_inbound_number")
                    .table(InboundOrders::Table)
                    .col(InboundOrders::AccountId)
                    .col(InboundOrders::InboundNumber)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_index(
                Index::create()
                    .name("ix_inbound_orders_organization_id_status")
                    .table(InboundOrders::Table)
                    .col(InboundOrders::OrganizationId)
                    .col(InboundOrders::Status)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(InboundOrderLines::Table)
                    .if_not_exists()
                    .col(pk_uuid(InboundOrderLines::Id))
                    .col(uuid(InboundOrderLines::OrganizationId))
                    .col(uuid(InboundOrderLines::InboundOrderId))
                    .col(string_len(InboundOrderLines::SellerCartonNumber, 100))
                    .col(uuid(InboundOrderLines::SkuId))
                    .col(integer(InboundOrderLines::Quantity))
                    .col(integer(InboundOrderLines::ReceivedQuantity).default(0))
                    .col(integer(InboundOrderLines::PutawayQuantity).default(0))
                    .col(timestamp_with_time_zone(InboundOrderLines::CreatedAt))
                    .col(timestamp_with_time_zone(InboundOrderLines::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_inbound_order_lines_organization_id")
                            .from(InboundOrderLines::Table, InboundOrderLines::OrganizationId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_inbound_order_lines_inbound_order_id")
                            .from(InboundOrderLines::Table, InboundOrderLines::InboundOrderId)
                            .to(InboundOrders::Table, InboundOrders::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_inbound_order_lines_sku_id")
                            .from(InboundOrderLines::Table, InboundOrderLines::SkuId)
                            .to(Skus::Table, Skus::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_index(
                Index::create()
                    .name("ix_inbound_order_lines_inbound_order_id")
                    .table(InboundOrderLines::Table)
                    .col(InboundOrderLines::InboundOrderId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(InboundOrderFiles::Table)
                    .if_not_exists()
                    .col(pk_uuid(InboundOrderFiles::Id))
                    .col(uuid(InboundOrderFiles::OrganizationId))
                    .col(uuid(InboundOrderFiles::InboundOrderId))
                    .col(string_len(InboundOrderFiles::Kind, 32))
                    .col(string_len_null(InboundOrderFiles::FileType, 32))
                    .col(string_len(InboundOrderFiles::FileName, 255))
                    .col(string_len(InboundOrderFiles::ContentType, 128))
                    .col(big_integer(InboundOrderFiles::SizeBytes))
                    .col(string_len(InboundOrderFiles::Sha256, 64))
                    .col(blob(InboundOrderFiles::Content))
                    .col(timestamp_with_time_zone_null(InboundOrderFiles::UploadedToProviderAt))
                    .col(timestamp_with_time_zone(InboundOrderFiles::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_inbound_order_files_organization_id")
                            .from(InboundOrderFiles::Table, InboundOrderFiles::OrganizationId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_inbound_order_files_inbound_order_id")
                            .from(InboundOrderFiles::Table, InboundOrderFiles::InboundOrderId)
                            .to(InboundOrders::Table, InboundOrders::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_index(
                Index::create()
                    .name("ix_inbound_order_files_inbound_order_id")
                    .table(InboundOrderFiles::Table)
                    .col(InboundOrderFiles::InboundOrderId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(InventorySnapshots::Table)
                    .if_not_exists()
                    .col(pk_uuid(InventorySnapshots::Id))
                    .col(uuid(InventorySnapshots::OrganizationId))
                    .col(uuid(InventorySnapshots::AccountId))
                    .col(uuid(InventorySnapshots::SkuId))
                    .col(string_len(InventorySnapshots::WarehouseCode, 64))
                    .col(integer(InventorySnapshots::Available))
                    .col(integer(InventorySnapshots::Reserved))
                    .col(integer(InventorySnapshots::InTransit))
                    .col(integer(InventorySnapshots::Unfulfillable).default(0))
                    .col(timestamp_with_time_zone(InventorySnapshots::CapturedAt))
                    .col(timestamp_with_time_zone(InventorySnapshots::CreatedAt))
                    .col(timestamp_with_time_zone(InventorySnapshots::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_inventory_snapshots_organization_id")
                            .from(InventorySnapshots::Table, InventorySnapshots::OrganizationId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_inventory_snapshots_account_id")
                            .from(InventorySnapshots::Table, InventorySnapshots::AccountId)
                            .to(Accounts::Table, Accounts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_inventory_snapshots_sku_id")
                            .from(InventorySnapshots::Table, InventorySnapshots::SkuId)
                            .to(Skus::Table, Skus::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_index(
                Index::create()
                    .name("ux_inventory_snapshots_sku_id_warehouse_code")
                    .table(InventorySnapshots::Table)
                    .col(InventorySnapshots::SkuId)
                    .col(InventorySnapshots::WarehouseCode)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_index(
                Index::create()
                    .name("ix_inventory_snapshots_organization_id_warehouse_code")
                    .table(InventorySnapshots::Table)
                    .col(InventorySnapshots::OrganizationId)
                    .col(InventorySnapshots::WarehouseCode)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(StockMovements::Table)
                    .if_not_exists()
                    .col(pk_uuid(StockMovements::Id))
                    .col(uuid(StockMovements::OrganizationId))
                    .col(uuid(StockMovements::AccountId))
                    .col(uuid(StockMovements::SkuId))
                    .col(string_len(StockMovements::WarehouseCode, 64))
                    .col(string_len(StockMovements::ExternalId, 128))
                    .col(string_len(StockMovements::MovementType, 64))
                    .col(integer(StockMovements::Quantity))
                    .col(string_len_null(StockMovements::Reference, 128))
                    .col(timestamp_with_time_zone(StockMovements::OccurredAt))
                    .col(timestamp_with_time_zone(StockMovements::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_stock_movements_organization_id")
                            .from(StockMovements::Table, StockMovements::OrganizationId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_stock_movements_account_id")
                            .from(StockMovements::Table, StockMovements::AccountId)
                            .to(Accounts::Table, Accounts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_stock_movements_sku_id")
                            .from(StockMovements::Table, StockMovements::SkuId)
                            .to(Skus::Table, Skus::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_index(
                Index::create()
                    .name("ux_stock_movements_account_id_external_id")
                    .table(StockMovements::Table)
                    .col(StockMovements::AccountId)
                    .col(StockMovements::ExternalId)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_index(
                Index::create()
                    .name("ix_stock_movements_organization_id_sku_id_occurred_at")
                    .table(StockMovements::Table)
                    .col(StockMovements::OrganizationId)
                    .col(StockMovements::SkuId)
                    .col(StockMovements::OccurredAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(LabelTemplates::Table)
                    .if_not_exists()
                    .col(pk_uuid(LabelTemplates::Id))
                    .col(uuid_null(LabelTemplates::OrganizationId))
                    .col(string_len(LabelTemplates::Code, 64))
                    .col(string_len(LabelTemplates::Name, 200))
                    .col(integer(LabelTemplates::PageWidthMm))
                    .col(integer(LabelTemplates::PageHeightMm))
                    .col(json(LabelTemplates::Layout))
                    .col(timestamp_with_time_zone(LabelTemplates::CreatedAt))
                    .col(timestamp_with_time_zone(LabelTemplates::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_label_templates_organization_id")
                            .from(LabelTemplates::Table, LabelTemplates::OrganizationId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_index(
                Index::create()
                    .name("ux_label_templates_organization_id_code")
                    .table(LabelTemplates::Table)
                    .col(LabelTemplates::OrganizationId)
                    .col(LabelTemplates::Code)
                    .unique()
                    .to_owned(),
            )
            .await?;

        db.execute_unprepared(
            "CREATE UNIQUE INDEX ux_label_templates_global_code ON label_templates (code) WHERE organization_id IS NULL",
        )
        .await?;

        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(LabelTemplates::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(StockMovements::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(InventorySnapshots::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(InboundOrderFiles::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(InboundOrderLines::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(InboundOrders::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(OutboundOrders::Table).to_owned()).await?;
        Ok(())
    }
}

#[derive(DeriveIden)]
enum OutboundOrders {
    Table,
    Id,
    OrganizationId,
    AccountId,
    OrderId,
    WaybillId,
    SellerOrderNumber,
    OutboundNumber,
    Status,
    Carrier,
    TrackingNumber,
    ChargeableWeightGrams,
    FeeMinor,
    FeeCurrency,
    AutoFulfilled,
    Raw,
    LastPolledAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Orders {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Waybills {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum InboundOrders {
    Table,
    Id,
    OrganizationId,
    AccountId,
    WarehouseRegion,
    SellerInboundNumber,
    InboundNumber,
    ShippingMethod,
    Eta,
    NeedClearanceDoc,
    Status,
    TrackingNumbers,
    LastPolledAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum InboundOrderLines {
    Table,
    Id,
    OrganizationId,
    InboundOrderId,
    SellerCartonNumber,
    SkuId,
    Quantity,
    ReceivedQuantity,
    PutawayQuantity,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Skus {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum InboundOrderFiles {
    Table,
    Id,
    OrganizationId,
    InboundOrderId,
    Kind,
    FileType,
    FileName,
    ContentType,
    SizeBytes,
    Sha256,
    Content,
    UploadedToProviderAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum InventorySnapshots {
    Table,
    Id,
    OrganizationId,
    AccountId,
    SkuId,
    WarehouseCode,
    Available,
    Reserved,
    InTransit,
    Unfulfillable,
    CapturedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum StockMovements {
    Table,
    Id,
    OrganizationId,
    AccountId,
    SkuId,
    WarehouseCode,
    ExternalId,
    MovementType,
    Quantity,
    Reference,
    OccurredAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum LabelTemplates {
    Table,
    Id,
    OrganizationId,
    Code,
    Name,
    PageWidthMm,
    PageHeightMm,
    Layout,
    CreatedAt,
    UpdatedAt,
}
