//! OrangeConnex: the service region and the "received" quantity on stock snapshots (one row
//! per SKU × warehouse, filterable by region), and the seller SKU OC keeps for each SKU
//! (editable on OC's portal, shown beside ours).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum InventorySnapshots {
    Table,
    OrganizationId,
    Region,
    Received,
}

#[derive(DeriveIden)]
enum Skus {
    Table,
    WarehouseSellerSku,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(InventorySnapshots::Table)
                    .add_column(string_len(InventorySnapshots::Region, 16).default(""))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(InventorySnapshots::Table)
                    .add_column(integer(InventorySnapshots::Received).default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter().table(Skus::Table).add_column(string_len_null(Skus::WarehouseSellerSku, 100)).to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_inventory_snapshots_organization_id_region")
                    .table(InventorySnapshots::Table)
                    .col(InventorySnapshots::OrganizationId)
                    .col(InventorySnapshots::Region)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_inventory_snapshots_organization_id_region")
                    .table(InventorySnapshots::Table)
                    .to_owned(),
            )
            .await?;
        manager.alter_table(Table::alter().table(Skus::Table).drop_column(Skus::WarehouseSellerSku).to_owned()).await?;
        manager
            .alter_table(
                Table::alter().table(InventorySnapshots::Table).drop_column(InventorySnapshots::Received).to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter().table(InventorySnapshots::Table).drop_column(InventorySnapshots::Region).to_owned(),
            )
            .await
    }
}
