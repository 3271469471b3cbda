//! GraphQL output types for identity. Built from domain values; entities never derive
//! GraphQL traits themselves.

use async_graphql::{ComplexObject, Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{api_key, audit_event, enums::Role as DbRole, organization};

use crate::{
    domain::identity::UserView,
    error::DomainError,
    graphql::{
        connection::{Conn, connection, page_args},
        context::{actor, loaders, services},
        errors::ApiResult,
        ids::{Kind, encode},
    },
};

/// A member's role inside an organization. Platform staff is a separate flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum Role {
    Owner,
    Admin,
    Operator,
    Viewer,
}

impl From<DbRole> for Role {
    fn from(r: DbRole) -> Self {
        match r {
            DbRole::Owner => Role::Owner,
            DbRole::Admin => Role::Admin,
            DbRole::Operator => Role::Operator,
            DbRole::Viewer => Role::Viewer,
        }
    }
}

impl From<Role> for DbRole {
    fn from(r: Role) -> Self {
        match r {
            Role::Owner => DbRole::Owner,
            Role::Admin => DbRole::Admin,
            Role::Operator => DbRole::Operator,
            Role::Viewer => DbRole::Viewer,
        }
    }
}

pub struct User(pub UserView);

#[Object]
impl User {
    pub async fn id(&self) -> ID {
        encode(Kind::User, self.0.user.id)
    }
    async fn email(&self) -> &str {
        &self.0.user.email
    }
    async fn display_name(&self) -> Option<&str> {
        self.0.user.display_name.as_deref()
    }
    async fn role(&self) -> Role {
        self.0.membership.role.into()
    }
    /// Staff of the logistics company (manages global channels, sees every tenant's waybills).
    async fn is_staff(&self) -> bool {
        self.0.user.is_staff
    }
    async fn active(&self) -> bool {
        self.0.user.deactivated_at.is_none()
    }
    async fn deactivated_at(&self) -> Option<DateTime<Utc>> {
        self.0.user.deactivated_at
    }
    async fn last_login_at(&self) -> Option<DateTime<Utc>> {
        self.0.user.last_login_at
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.user.created_at
    }
    async fn organization(&self, ctx: &Context<'_>) -> ApiResult<Organization> {
        let org = loaders(ctx)?.organizations.load_one(self.0.membership.organization_id).await?;
        org.map(Organization).ok_or_else(|| DomainError::NotFound.into())
    }
}

pub struct Organization(pub organization::Model);

#[Object]
impl Organization {
    pub async fn id(&self) -> ID {
        encode(Kind::Organization, self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// The sender (return) address printed in labels' FROM block (`updateSenderAddress`).
    async fn sender_address(&self) -> Option<super::super::orders::Address> {
        crate::domain::labels::sender_address_of(&self.0).map(Into::into)
    }
    /// Members of the organization, newest first.
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity")]
    async fn users(&self, ctx: &Context<'_>, first: Option<i32>, after: Option<String>) -> ApiResult<Conn<User>> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        let args = page_args(ctx, first, after, s.settings.limits.page_size)?;
        let page = s.identity.users(a.tenant(), args).await?;
        Ok(connection(page, |v| v.membership.id, User))
    }
}

#[derive(SimpleObject)]
#[graphql(complex)]
pub struct ApiKey {
    #[graphql(skip)]
    pub model: api_key::Model,
    pub name: String,
    pub role: Role,
    /// The first characters of the key, to recognise it in a list (`sgk_<prefix>_…`).
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<api_key::Model> for ApiKey {
    fn from(m: api_key::Model) -> Self {
        Self {
            name: m.name.clone(),
            role: m.role.into(),
            prefix: m.prefix.clone(),
            created_at: m.created_at,
            last_used_at: m.last_used_at,
            revoked_at: m.revoked_at,
            model: m,
        }
    }
}

#[ComplexObject]
impl ApiKey {
    pub async fn id(&self) -> ID {
        encode(Kind::ApiKey, self.model.id)
    }
    async fn created_by(&self, ctx: &Context<'_>) -> ApiResult<Option<User>> {
        let Some(id) = self.model.created_by_user_id else {
            return Ok(None);
        };
        Ok(loaders(ctx)?.users.load_one(id).await?.map(User))
    }
}

pub struct AuditEvent(pub audit_event::Model);

#[Object]
impl AuditEvent {
    pub async fn id(&self) -> ID {
        encode(Kind::AuditEvent, self.0.id)
    }
    /// What happened, e.g. `user.created`, `api_key.revoked`.
    async fn action(&self) -> &str {
        &self.0.action
    }
    async fn entity_type(&self) -> &str {
        &self.0.entity_type
    }
    /// Global id of the affected object, when it has one.
    async fn entity_id(&self) -> Option<ID> {
        let id = self.0.entity_id?;
        node_kind(&self.0.entity_type).map(|k| encode(k, id))
    }
    async fn actor(&self, ctx: &Context<'_>) -> ApiResult<Option<User>> {
        let Some(id) = self.0.actor_user_id else {
            return Ok(None);
        };
        Ok(loaders(ctx)?.users.load_one(id).await?.map(User))
    }
    async fn actor_api_key_id(&self) -> Option<ID> {
        self.0.actor_api_key_id.map(|id| encode(Kind::ApiKey, id))
    }
    async fn data(&self) -> Option<async_graphql::Json<serde_json::Value>> {
        self.0.data.clone().map(async_graphql::Json)
    }
    async fn request_id(&self) -> Option<&str> {
        self.0.request_id.as_deref()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

pub fn node_kind(entity_type: &str) -> Option<Kind> {
    match entity_type {
        "User" => Some(Kind::User),
        "Organization" => Some(Kind::Organization),
        "ApiKey" => Some(Kind::ApiKey),
        "Account" => Some(Kind::Account),
        "Order" => Some(Kind::Order),
        "Job" => Some(Kind::Job),
        "Sku" => Some(Kind::Sku),
        _ => None,
    }
}
