//! API keys for integrators and reporting tools: created by an admin with a role no
//! higher than their own, shown once, stored hashed, revocable.

use chrono::Utc;
use entity::{api_key, enums::Role};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use super::Identity;
use crate::db::write_transaction;
use crate::{
    auth::{Actor, actor::rank, opaque},
    domain::{
        audit::{self, By},
        pagination::{self, Page, PageArgs},
        validate,
    },
    error::{DomainError, DomainResult, UserErrorCode},
};

pub type ApiKeyView = api_key::Model;

pub struct CreatedApiKey {
    pub api_key: api_key::Model,
    /// The full key; returned once and never stored.
    pub secret: String,
}

impl Identity {
    pub async fn create_api_key(&self, actor: &Actor, name: &str, role: Role) -> DomainResult<CreatedApiKey> {
        actor.require(Role::Admin)?;
        // A key never mints keys: a leaked key must not outlive its revocation.
        actor.require_user()?;
        let name = validate::name(name, 200, &["input", "name"]).map_err(|e| DomainError::User(vec![e]))?;
        if rank(role) > rank(actor.role()) {
            return Err(DomainError::user(
                UserErrorCode::RoleNotAllowed,
                &["input", "role"],
                "You cannot grant a role above your own.",
            ));
        }
        let generated = opaque::new_api_key();
        let org = actor.tenant().id();
        let (model, event) = write_transaction::<_, _, DomainError>(&self.db, |txn| {
            let actor = actor.clone();
            Box::pin(async move {
                let now = Utc::now();
                let model = api_key::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    organization_id: Set(org),
                    name: Set(name),
                    prefix: Set(generated.lookup),
                    secret_hash: Set(generated.secret_hash),
                    role: Set(role),
                    created_by_user_id: Set(actor.user_id()),
                    last_used_at: Set(None),
                    revoked_at: Set(None),
                    created_at: Set(now),
                    updated_at: Set(now),
                }
                .insert(txn)
                .await?;
                let event = audit::record(
                    txn,
                    org,
                    By::Actor(&actor),
                    "api_key.created",
                    "ApiKey",
                    Some(model.id),
                    Some(serde_json::json!({ "role": role })),
                )
                .await?;
                Ok((model, event))
            })
        })
        .await?;
        self.bus.publish_all([event]);
        Ok(CreatedApiKey { api_key: model, secret: generated.key })
    }

    pub async fn revoke_api_key(&self, actor: &Actor, id: Uuid) -> DomainResult<ApiKeyView> {
        actor.require(Role::Admin)?;
        let org = actor.tenant().id();
        let (model, event) = write_transaction::<_, _, DomainError>(&self.db, |txn| {
            let actor = actor.clone();
            Box::pin(async move {
                let key = api_key::Entity::find_by_id(id)
                    .filter(api_key::Column::OrganizationId.eq(org))
                    .one(txn)
                    .await?
                    .ok_or(DomainError::NotFound)?;
                if key.revoked_at.is_some() {
                    // Revoking twice is a no-op that still answers with the key.
                    return Ok((key, None));
                }
                let mut active: api_key::ActiveModel = key.into();
                let now = Utc::now();
                active.revoked_at = Set(Some(now));
                active.updated_at = Set(now);
                let model = active.update(txn).await?;
                let event =
                    audit::record(txn, org, By::Actor(&actor), "api_key.revoked", "ApiKey", Some(id), None).await?;
                Ok((model, Some(event)))
            })
        })
        .await?;
        self.auth_cache.invalidate();
        self.bus.publish_all(event);
        Ok(model)
    }

    pub async fn api_key(&self, actor: &Actor, id: Uuid) -> DomainResult<ApiKeyView> {
        actor.require(Role::Admin)?;
        api_key::Entity::find_by_id(id)
            .filter(api_key::Column::OrganizationId.eq(actor.tenant().id()))
            .one(&self.db)
            .await?
            .ok_or(DomainError::NotFound)
    }

    pub async fn api_keys(&self, actor: &Actor, args: PageArgs) -> DomainResult<Page<ApiKeyView>> {
        actor.require(Role::Admin)?;
        let select = api_key::Entity::find().filter(api_key::Column::OrganizationId.eq(actor.tenant().id()));
        pagination::fetch(&self.db, select, api_key::Column::Id, args).await
    }
}

impl Identity {}
