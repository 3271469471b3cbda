//! Reporting: "orders of one account by status" (orderStats grouped by status or
//! fulfilment status, with their totals) answered from the index alone at 1M orders. The
//! wider index replaces `(organization_id, account_id)`, whose every use it still serves,
//! so orders keep the same number of indexes to maintain on writes.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Orders {
    Table,
    OrganizationId,
    AccountId,
    FulfillmentStatus,
    Currency,
    TotalMinor,
}

const OLD: &str = "ix_orders_organization_id_account_id";
const NEW: &str = "ix_orders_organization_id_account_id_status_totals";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(NEW)
                    .table(Orders::Table)
                    .col(Orders::OrganizationId)
                    .col(Orders::AccountId)
                    .col(Orders::FulfillmentStatus)
                    .col(Orders::Currency)
                    .col(Orders::TotalMinor)
                    .to_owned(),
            )
            .await?;
        manager.drop_index(Index::drop().name(OLD).table(Orders::Table).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(OLD)
                    .table(Orders::Table)
                    .col(Orders::OrganizationId)
                    .col(Orders::AccountId)
                    .to_owned(),
            )
            .await?;
        manager.drop_index(Index::drop().name(NEW).table(Orders::Table).to_owned()).await
    }
}
