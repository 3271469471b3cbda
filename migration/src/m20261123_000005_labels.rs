//! Labels (templates live in `label_templates` since the warehouse migration): printed
//! label files (one PDF per print, downloadable through a signed link until
//! it expires, then pruned), and the organization's sender (return) address printed in
//! each label's FROM block.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
    SenderAddress,
}

#[derive(DeriveIden)]
enum LabelFiles {
    Table,
    Id,
    OrganizationId,
    TemplateId,
    WaybillCount,
    Content,
    CreatedBy,
    CreatedAt,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Organizations::Table)
                    .add_column(json_null(Organizations::SenderAddress))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LabelFiles::Table)
                    .if_not_exists()
                    .col(pk_uuid(LabelFiles::Id))
                    .col(uuid(LabelFiles::OrganizationId))
                    .col(uuid(LabelFiles::TemplateId))
                    .col(integer(LabelFiles::WaybillCount))
                    .col(blob(LabelFiles::Content))
                    .col(uuid_null(LabelFiles::CreatedBy))
                    .col(timestamp_with_time_zone(LabelFiles::CreatedAt))
                    .col(timestamp_with_time_zone(LabelFiles::ExpiresAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_label_files_organization_id")
                            .from(LabelFiles::Table, LabelFiles::OrganizationId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_label_files_expires_at")
                    .table(LabelFiles::Table)
                    .col(LabelFiles::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(LabelFiles::Table).to_owned()).await?;
        manager
            .alter_table(
                Table::alter().table(Organizations::Table).drop_column(Organizations::SenderAddress).to_owned(),
            )
            .await
    }
}
