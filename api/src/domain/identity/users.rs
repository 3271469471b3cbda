//! Users of an organization: listing, creation by an admin, role changes, deactivation.

use chrono::Utc;
use entity::{enums::Role, membership, organization, user};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use uuid::Uuid;

use super::{
    Identity,
    sessions::{ensure_email_free, insert_user, membership_in, revoke_user_sessions},
};
use crate::db::write_transaction;
use crate::{
    auth::{Actor, Tenant, actor::rank, password},
    domain::{
        audit::{self, By},
        pagination::{self, Page, PageArgs},
        validate,
    },
    error::{DomainError, DomainResult, UserErrorCode},
};

/// A user as seen inside one organization.
#[derive(Debug, Clone)]
pub struct UserView {
    pub user: user::Model,
    pub membership: membership::Model,
}

#[derive(Clone)]
pub struct NewUser {
    pub email: String,
    pub password: String,
    pub role: Role,
}

impl Identity {
    pub async fn organization(&self, tenant: Tenant) -> DomainResult<organization::Model> {
        organization::Entity::find_by_id(tenant.id()).one(&self.db).await?.ok_or(DomainError::NotFound)
    }

    /// Organizations by id, for loaders; only the caller's own is ever returned.
    pub async fn organizations_by_ids(&self, tenant: Tenant, ids: &[Uuid]) -> DomainResult<Vec<organization::Model>> {
        if !ids.contains(&tenant.id()) {
            return Ok(Vec::new());
        }
        Ok(organization::Entity::find_by_id(tenant.id()).all(&self.db).await?)
    }

    pub async fn user(&self, tenant: Tenant, user_id: Uuid) -> DomainResult<UserView> {
        let membership = membership_in(&self.db, tenant.id(), user_id).await?.ok_or(DomainError::NotFound)?;
        let user = user::Entity::find_by_id(user_id).one(&self.db).await?.ok_or(DomainError::NotFound)?;
        Ok(UserView { user, membership })
    }

    /// Users of the tenant among `ids` (one query each for memberships and users).
    pub async fn users_by_ids(&self, tenant: Tenant, ids: &[Uuid]) -> DomainResult<Vec<UserView>> {
        let memberships = membership::Entity::find()
            .filter(membership::Column::OrganizationId.eq(tenant.id()))
            .filter(membership::Column::UserId.is_in(ids.iter().copied()))
            .all(&self.db)
            .await?;
        self.join_users(memberships).await
    }

    pub async fn users(&self, tenant: Tenant, args: PageArgs) -> DomainResult<Page<UserView>> {
        let select = membership::Entity::find().filter(membership::Column::OrganizationId.eq(tenant.id()));
        let page = pagination::fetch(&self.db, select, membership::Column::Id, args).await?;
        let views = self.join_users(page.items.clone()).await?;
        Ok(Page {
            items: views,
            has_next_page: page.has_next_page,
            has_previous_page: page.has_previous_page,
            total_count: page.total_count,
        })
    }

    async fn join_users(&self, memberships: Vec<membership::Model>) -> DomainResult<Vec<UserView>> {
        let users = user::Entity::find()
            .filter(user::Column::Id.is_in(memberships.iter().map(|m| m.user_id)))
            .all(&self.db)
            .await?;
        Ok(memberships
            .into_iter()
            .filter_map(|m| {
                users.iter().find(|u| u.id == m.user_id).map(|u| UserView { user: u.clone(), membership: m })
            })
            .collect())
    }

    /// An ADMIN or OWNER adds a user to their organization, at most at their own role.
    pub async fn create_user(&self, actor: &Actor, input: NewUser) -> DomainResult<UserView> {
        actor.require(Role::Admin)?;
        // Managing people is for people: API keys cannot create or change users.
        actor.require_user()?;
        let email = validate::email(&input.email, &["input", "email"]).map_err(|e| DomainError::User(vec![e]))?;
        if rank(input.role) > rank(actor.role()) {
            return Err(DomainError::user(
                UserErrorCode::RoleNotAllowed,
                &["input", "role"],
                "You cannot grant a role above your own.",
            ));
        }
        password::check_policy(&input.password, &email)?;
        let hash = self.hasher.hash(input.password).await?;
        let org = actor.tenant().id();
        let (view, event) = write_transaction::<_, _, DomainError>(&self.db, |txn| {
            let actor = actor.clone();
            Box::pin(async move {
                ensure_email_free(txn, &email).await?;
                let (user, membership) = insert_user(txn, org, &email, hash, input.role, false).await?;
                let event = audit::record(
                    txn,
                    org,
                    By::Actor(&actor),
                    "user.created",
                    "User",
                    Some(user.id),
                    Some(serde_json::json!({ "role": input.role })),
                )
                .await?;
                Ok((UserView { user, membership }, event))
            })
        })
        .await?;
        self.bus.publish_all([event]);
        Ok(view)
    }

    pub async fn update_user_role(&self, actor: &Actor, user_id: Uuid, role: Role) -> DomainResult<UserView> {
        actor.require(Role::Admin)?;
        actor.require_user()?;
        if actor.user_id() == Some(user_id) {
            return Err(DomainError::user(
                UserErrorCode::RoleNotAllowed,
                &["input", "userId"],
                "You cannot change your own role.",
            ));
        }
        if rank(role) > rank(actor.role()) {
            return Err(DomainError::user(
                UserErrorCode::RoleNotAllowed,
                &["input", "role"],
                "You cannot grant a role above your own.",
            ));
        }
        let org = actor.tenant().id();
        let (view, event) = write_transaction::<_, _, DomainError>(&self.db, |txn| {
            let actor = actor.clone();
            Box::pin(async move {
                let target = membership_in(txn, org, user_id).await?.ok_or(DomainError::NotFound)?;
                if rank(target.role) > rank(actor.role()) {
                    return Err(DomainError::user(
                        UserErrorCode::RoleNotAllowed,
                        &["input", "userId"],
                        "You cannot change the role of someone above you.",
                    ));
                }
                if target.role == Role::Owner && role != Role::Owner {
                    ensure_other_owner(txn, org, user_id).await?;
                }
                let previous = target.role;
                let mut active: membership::ActiveModel = target.into();
                active.role = Set(role);
                active.updated_at = Set(Utc::now());
                let membership = active.update(txn).await?;
                let user = user::Entity::find_by_id(user_id).one(txn).await?.ok_or(DomainError::NotFound)?;
                let event = audit::record(
                    txn,
                    org,
                    By::Actor(&actor),
                    "user.role_changed",
                    "User",
                    Some(user_id),
                    Some(serde_json::json!({ "from": previous, "to": role })),
                )
                .await?;
                Ok((UserView { user, membership }, event))
            })
        })
        .await?;
        self.auth_cache.invalidate();
        self.bus.publish_all([event]);
        Ok(view)
    }

    /// Deactivates a user: they can no longer log in, and every session and access token
    /// they hold stops working at once.
    pub async fn deactivate_user(&self, actor: &Actor, user_id: Uuid) -> DomainResult<UserView> {
        actor.require(Role::Admin)?;
        actor.require_user()?;
        if actor.user_id() == Some(user_id) {
            return Err(DomainError::user(
                UserErrorCode::RoleNotAllowed,
                &["input", "userId"],
                "You cannot deactivate yourself.",
            ));
        }
        let org = actor.tenant().id();
        let (view, event) = write_transaction::<_, _, DomainError>(&self.db, |txn| {
            let actor = actor.clone();
            Box::pin(async move {
                let membership = membership_in(txn, org, user_id).await?.ok_or(DomainError::NotFound)?;
                if rank(membership.role) > rank(actor.role()) {
                    return Err(DomainError::user(
                        UserErrorCode::RoleNotAllowed,
                        &["input", "userId"],
                        "You cannot deactivate someone above you.",
                    ));
                }
                if membership.role == Role::Owner {
                    ensure_other_owner(txn, org, user_id).await?;
                }
                let user = user::Entity::find_by_id(user_id).one(txn).await?.ok_or(DomainError::NotFound)?;
                if user.deactivated_at.is_some() {
                    return Err(DomainError::user(
                        UserErrorCode::InvalidState,
                        &["input", "userId"],
                        "The user is already deactivated.",
                    ));
                }
                revoke_user_sessions(txn, user_id).await?;
                let mut active: user::ActiveModel =
                    user::Entity::find_by_id(user_id).one(txn).await?.ok_or(DomainError::NotFound)?.into();
                active.deactivated_at = Set(Some(Utc::now()));
                let user = active.update(txn).await?;
                let event =
                    audit::record(txn, org, By::Actor(&actor), "user.deactivated", "User", Some(user_id), None).await?;
                Ok((UserView { user, membership }, event))
            })
        })
        .await?;
        self.auth_cache.invalidate();
        self.bus.publish_all([event]);
        Ok(view)
    }

    /// Creates a user from the CLI (no actor): into a new organization or an existing one.
    pub async fn create_user_cli(
        &self,
        email: &str,
        password: &str,
        role: Role,
        is_staff: bool,
        organization: OrgChoice,
    ) -> DomainResult<UserView> {
        let email = validate::email(email, &["email"]).map_err(|e| DomainError::User(vec![e]))?;
        password::check_policy(password, &email)?;
        let hash = self.hasher.hash(password.to_owned()).await?;
        let (view, events) = write_transaction::<_, _, DomainError>(&self.db, |txn| {
            Box::pin(async move {
                ensure_email_free(txn, &email).await?;
                let now = Utc::now();
                let org_id = match organization {
                    OrgChoice::Existing(id) => {
                        organization::Entity::find_by_id(id).one(txn).await?.ok_or(DomainError::NotFound)?.id
                    }
                    OrgChoice::New(name) => {
                        let name =
                            validate::name(&name, 200, &["organization"]).map_err(|e| DomainError::User(vec![e]))?;
                        organization::ActiveModel {
                            id: Set(Uuid::now_v7()),
                            name: Set(name),
                            sender_address: Set(None),
                            created_at: Set(now),
                            updated_at: Set(now),
                        }
                        .insert(txn)
                        .await?
                        .id
                    }
                };
                let (user, membership) = insert_user(txn, org_id, &email, hash, role, is_staff).await?;
                let event = audit::record(txn, org_id, By::System, "user.created", "User", Some(user.id), None).await?;
                Ok((UserView { user, membership }, vec![event]))
            })
        })
        .await?;
        self.bus.publish_all(events);
        Ok(view)
    }

    /// Whether any user exists (the sandbox demo seeds only an empty database).
    pub async fn has_users(&self) -> DomainResult<bool> {
        Ok(user::Entity::find().count(&self.db).await? > 0)
    }
}

pub enum OrgChoice {
    New(String),
    Existing(Uuid),
}

async fn ensure_other_owner(db: &impl ConnectionTrait, org: Uuid, except_user: Uuid) -> DomainResult<()> {
    let owners = membership::Entity::find()
        .filter(membership::Column::OrganizationId.eq(org))
        .filter(membership::Column::Role.eq(Role::Owner))
        .filter(membership::Column::UserId.ne(except_user))
        .all(db)
        .await?;
    let active = user::Entity::find()
        .filter(user::Column::Id.is_in(owners.iter().map(|m| m.user_id)))
        .filter(user::Column::DeactivatedAt.is_null())
        .count(db)
        .await?;
    if active == 0 {
        return Err(DomainError::user(
            UserErrorCode::LastOwner,
            &["input", "userId"],
            "The organization must keep at least one active owner.",
        ));
    }
    Ok(())
}
