//! Reading the organization's audit log (ADMIN and above).

use entity::{audit_event, enums::Role};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::Identity;
use crate::{
    auth::Actor,
    domain::pagination::{self, Page, PageArgs},
    error::{DomainError, DomainResult},
};

impl Identity {
    pub async fn audit_events(&self, actor: &Actor, args: PageArgs) -> DomainResult<Page<audit_event::Model>> {
        actor.require(Role::Admin)?;
        let select = audit_event::Entity::find().filter(audit_event::Column::OrganizationId.eq(actor.tenant().id()));
        pagination::fetch(&self.db, select, audit_event::Column::Id, args).await
    }

    pub async fn audit_event(&self, actor: &Actor, id: Uuid) -> DomainResult<audit_event::Model> {
        actor.require(Role::Admin)?;
        audit_event::Entity::find_by_id(id)
            .filter(audit_event::Column::OrganizationId.eq(actor.tenant().id()))
            .one(&self.db)
            .await?
            .ok_or(DomainError::NotFound)
    }
}
