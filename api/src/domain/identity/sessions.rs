//! Sign-up, login, refresh-token rotation with reuse detection, logout.

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use entity::{enums::Role, membership, organization, refresh_token, user};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use super::{Identity, throttle};
use crate::db::write_transaction;
use crate::{
    auth::{Actor, opaque, password},
    db::begin_write,
    domain::{
        audit::{self, By},
        validate,
    },
    error::{DomainError, DomainResult, UserErrorCode},
};

/// A signed-in session: returned by sign-up, login and refresh.
#[derive(Clone)]
pub struct Session {
    pub access_token: String,
    pub access_token_expires_at: DateTime<Utc>,
    pub refresh_token: String,
    pub refresh_token_expires_at: DateTime<Utc>,
    /// Row id of the refresh token (for rotation bookkeeping).
    pub refresh_token_id: Uuid,
    pub user: user::Model,
    pub membership: membership::Model,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("user", &self.user.id)
            .field("expires", &self.access_token_expires_at)
            .finish_non_exhaustive()
    }
}

impl Identity {
    /// Creates an organization and its OWNER, and signs them in.
    pub async fn sign_up(&self, organization_name: &str, email: &str, password: &str) -> DomainResult<Session> {
        let checked = validate::collect(vec![
            validate::name(organization_name, 200, &["input", "organizationName"]),
            validate::email(email, &["input", "email"]),
        ])?;
        let [org_name, email]: [String; 2] =
            checked.try_into().map_err(|_| DomainError::bad_input("input", "invalid"))?;
        password::check_policy(password, &email)?;
        let hash = self.hasher.hash(password.to_owned()).await?;

        let (session, events) = write_transaction::<_, _, DomainError>(&self.db, |txn| {
            let this = self.clone();
            Box::pin(async move {
                ensure_email_free(txn, &email).await?;
                let now = Utc::now();
                let org = organization::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    name: Set(org_name),
                    sender_address: Set(None),
                    created_at: Set(now),
                    updated_at: Set(now),
                }
                .insert(txn)
                .await?;
                let (user, membership) = insert_user(txn, org.id, &email, hash, Role::Owner, false).await?;
                let mut events = Vec::new();
                events.push(
                    audit::record(
                        txn,
                        org.id,
                        By::User { user_id: user.id },
                        "organization.created",
                        "Organization",
                        Some(org.id),
                        None,
                    )
                    .await?,
                );
                events.push(
                    audit::record(
                        txn,
                        org.id,
                        By::User { user_id: user.id },
                        "user.signed_up",
                        "User",
                        Some(user.id),
                        None,
                    )
                    .await?,
                );
                let session = this.issue_session(txn, user, membership, Uuid::now_v7()).await?;
                Ok((session, events))
            })
        })
        .await?;
        self.bus.publish_all(events);
        Ok(session)
    }

    /// Email + password login. Unknown email, wrong password and deactivated user all
    /// give the same answer in the same time. Failed attempts are throttled per
    /// (account, client address), per account and per address (see [`throttle`]):
    /// `RATE_LIMITED` while a counter says to wait.
    ///
    /// [`throttle`]: super::throttle
    pub async fn login(&self, email: &str, password: &str, client: Option<IpAddr>) -> DomainResult<Session> {
        let email = email.trim().to_lowercase();
        let ticket = throttle::admit(&self.db, &email, client).await?;
        let checked = match self.check_password(&email, password).await {
            Ok(checked) => checked,
            Err(e) => {
                if let Err(again) = ticket.abandoned(&self.db).await {
                    tracing::warn!(error = %again, "giving back a login attempt failed");
                }
                return Err(e);
            }
        };
        let Some((user, membership)) = checked else {
            ticket.failed();
            return Err(DomainError::user(
                UserErrorCode::InvalidCredentials,
                &["input", "password"],
                "Email or password is incorrect.",
            ));
        };
        ticket.succeeded(&self.db).await?;
        let session = write_transaction::<_, _, DomainError>(&self.db, |txn| {
            let this = self.clone();
            Box::pin(async move {
                let now = Utc::now();
                let mut active: user::ActiveModel = user.into();
                active.last_login_at = Set(Some(now));
                let user = active.update(txn).await?;
                this.issue_session(txn, user, membership, Uuid::now_v7()).await
            })
        })
        .await?;
        Ok(session)
    }

    /// The active user and their membership when `password` is theirs; `None` otherwise.
    async fn check_password(
        &self,
        email: &str,
        password: &str,
    ) -> DomainResult<Option<(user::Model, membership::Model)>> {
        let found = user::Entity::find().filter(user::Column::Email.eq(email)).one(&self.db).await?;
        let ok = self.hasher.verify(password.to_owned(), found.as_ref().map(|u| u.password_hash.clone())).await?;
        let user = match found {
            Some(u) if ok && u.deactivated_at.is_none() => u,
            _ => return Ok(None),
        };
        Ok(primary_membership(&self.db, user.id).await?.map(|m| (user, m)))
    }

    /// Rotates a refresh token. Each token works once; presenting a used one means it
    /// leaked (or a client raced itself), so the whole family is revoked.
    pub async fn refresh(&self, presented: &str) -> DomainResult<Session> {
        let unauthenticated = DomainError::Unauthenticated("refresh token invalid, expired or revoked");
        if !presented.starts_with(opaque::REFRESH_PREFIX) {
            return Err(unauthenticated);
        }
        let hash = opaque::sha256_hex(presented);
        let Some(row) =
            refresh_token::Entity::find().filter(refresh_token::Column::TokenHash.eq(&hash)).one(&self.db).await?
        else {
            return Err(unauthenticated);
        };
        let now = Utc::now();
        if row.revoked_at.is_some() || row.expires_at <= now {
            return Err(unauthenticated);
        }

        // One transaction: consume (compare-and-set), check the user, issue the successor.
        // A failure anywhere rolls the consumption back, so a retry is not mistaken for
        // reuse. The token row is locked first and the user row second — the same order
        // "log out everywhere" uses — so the two serialise instead of racing.
        let txn = begin_write(&self.db).await?;
        let consumed = refresh_token::Entity::update_many()
            .col_expr(refresh_token::Column::UsedAt, Expr::value(now))
            .filter(refresh_token::Column::Id.eq(row.id))
            .filter(refresh_token::Column::UsedAt.is_null())
            .filter(refresh_token::Column::RevokedAt.is_null())
            .exec(&txn)
            .await?
            .rows_affected
            == 1;
        if !consumed {
            txn.rollback().await?;
            self.revoke_family(
                row.organization_id,
                row.family_id,
                By::User { user_id: row.user_id },
                "session.refresh_token_reused",
            )
            .await?;
            tracing::warn!(user_id = %row.user_id, family = %row.family_id, "refresh token reuse: family revoked");
            return Err(unauthenticated);
        }
        let user = user::Entity::find_by_id(row.user_id).lock_exclusive().one(&txn).await?;
        let membership = membership_in(&txn, row.organization_id, row.user_id).await?;
        let (Some(user), Some(membership)) = (user, membership) else {
            return Err(unauthenticated);
        };
        if user.deactivated_at.is_some() {
            txn.rollback().await?;
            self.revoke_family(row.organization_id, row.family_id, By::System, "session.revoked").await?;
            return Err(unauthenticated);
        }
        let session = self.issue_session(&txn, user, membership, row.family_id).await?;
        refresh_token::Entity::update_many()
            .col_expr(refresh_token::Column::ReplacedById, Expr::value(session.refresh_token_id))
            .filter(refresh_token::Column::Id.eq(row.id))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(session)
    }

    /// Ends the session the refresh token belongs to; with `all_sessions`, every session
    /// of the calling user (access tokens included, through the token version).
    pub async fn logout(&self, actor: Option<&Actor>, presented: Option<&str>, all_sessions: bool) -> DomainResult<()> {
        if let Some(presented) = presented {
            let hash = opaque::sha256_hex(presented);
            if let Some(row) =
                refresh_token::Entity::find().filter(refresh_token::Column::TokenHash.eq(&hash)).one(&self.db).await?
            {
                let owner_ok = actor.is_none_or(|a| a.user_id() == Some(row.user_id));
                if owner_ok {
                    self.revoke_family(
                        row.organization_id,
                        row.family_id,
                        By::User { user_id: row.user_id },
                        "session.logged_out",
                    )
                    .await?;
                }
            }
        }
        if all_sessions {
            let actor = actor.ok_or(DomainError::Unauthenticated("sign in to end all sessions"))?;
            let user_id = actor.require_user()?;
            let org = actor.tenant().id();
            let events = write_transaction::<_, _, DomainError>(&self.db, |txn| {
                let actor = actor.clone();
                Box::pin(async move {
                    revoke_user_sessions(txn, user_id).await?;
                    Ok(vec![
                        audit::record(
                            txn,
                            org,
                            By::Actor(&actor),
                            "session.logged_out_everywhere",
                            "User",
                            Some(user_id),
                            None,
                        )
                        .await?,
                    ])
                })
            })
            .await?;
            self.auth_cache.invalidate();
            self.bus.publish_all(events);
        }
        Ok(())
    }

    async fn revoke_family(&self, org: Uuid, family: Uuid, by: By<'_>, action: &str) -> DomainResult<()> {
        let now = Utc::now();
        let txn = begin_write(&self.db).await?;
        refresh_token::Entity::update_many()
            .col_expr(refresh_token::Column::RevokedAt, Expr::value(now))
            .filter(refresh_token::Column::FamilyId.eq(family))
            .filter(refresh_token::Column::RevokedAt.is_null())
            .exec(&txn)
            .await?;
        let event = audit::record(&txn, org, by, action, "Session", Some(family), None).await?;
        txn.commit().await?;
        // The session's access tokens stop working now on this replica (the session is
        // checked on each request), on others within the auth cache's TTL.
        self.auth_cache.invalidate();
        self.bus.publish_all([event]);
        Ok(())
    }

    pub(super) async fn issue_session(
        &self,
        db: &impl ConnectionTrait,
        user: user::Model,
        membership: membership::Model,
        family: Uuid,
    ) -> DomainResult<Session> {
        let access = self
            .jwt
            .issue(
                user.id,
                membership.organization_id,
                membership.role,
                user.is_staff,
                user.token_version,
                Some(family),
            )
            .map_err(DomainError::internal)?;
        let (token, hash) = opaque::new_refresh_token();
        let now = Utc::now();
        let expires = now + Duration::seconds(self.refresh_ttl_secs);
        let refresh_token_id = Uuid::now_v7();
        refresh_token::ActiveModel {
            id: Set(refresh_token_id),
            organization_id: Set(membership.organization_id),
            user_id: Set(user.id),
            family_id: Set(family),
            token_hash: Set(hash),
            expires_at: Set(expires),
            used_at: Set(None),
            replaced_by_id: Set(None),
            revoked_at: Set(None),
            created_at: Set(now),
        }
        .insert(db)
        .await?;
        Ok(Session {
            access_token: access.token,
            access_token_expires_at: access.expires_at,
            refresh_token: token,
            refresh_token_expires_at: expires,
            refresh_token_id,
            user,
            membership,
        })
    }
}

pub(super) async fn revoke_user_sessions(db: &impl ConnectionTrait, user_id: Uuid) -> DomainResult<()> {
    let now = Utc::now();
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(now))
        .filter(refresh_token::Column::UserId.eq(user_id))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    user::Entity::update_many()
        .col_expr(user::Column::TokenVersion, Expr::col(user::Column::TokenVersion).add(1))
        .col_expr(user::Column::UpdatedAt, Expr::value(now))
        .filter(user::Column::Id.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

pub(super) async fn ensure_email_free(db: &impl ConnectionTrait, email: &str) -> DomainResult<()> {
    if user::Entity::find().filter(user::Column::Email.eq(email)).one(db).await?.is_some() {
        return Err(DomainError::user(
            UserErrorCode::Taken,
            &["input", "email"],
            "This email address is already registered.",
        ));
    }
    Ok(())
}

pub(super) async fn insert_user(
    db: &impl ConnectionTrait,
    organization_id: Uuid,
    email: &str,
    password_hash: String,
    role: Role,
    is_staff: bool,
) -> DomainResult<(user::Model, membership::Model)> {
    let now = Utc::now();
    let user = user::ActiveModel {
        id: Set(Uuid::now_v7()),
        email: Set(email.to_owned()),
        password_hash: Set(password_hash),
        display_name: Set(None),
        is_staff: Set(is_staff),
        token_version: Set(0),
        deactivated_at: Set(None),
        last_login_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .map_err(|e| taken_or_internal(e, "email"))?;
    let membership = membership::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(organization_id),
        user_id: Set(user.id),
        role: Set(role),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok((user, membership))
}

/// A unique-key violation racing past the pre-check becomes the same user error.
fn taken_or_internal(e: sea_orm::DbErr, field: &str) -> DomainError {
    if matches!(e.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) {
        DomainError::user(UserErrorCode::Taken, &["input", field], "This value is already taken.")
    } else {
        e.into()
    }
}

pub(super) async fn primary_membership(
    db: &impl ConnectionTrait,
    user_id: Uuid,
) -> DomainResult<Option<membership::Model>> {
    Ok(membership::Entity::find()
        .filter(membership::Column::UserId.eq(user_id))
        .order_by_asc(membership::Column::Id)
        .one(db)
        .await?)
}

pub(super) async fn membership_in(
    db: &impl ConnectionTrait,
    organization_id: Uuid,
    user_id: Uuid,
) -> DomainResult<Option<membership::Model>> {
    Ok(membership::Entity::find()
        .filter(membership::Column::OrganizationId.eq(organization_id))
        .filter(membership::Column::UserId.eq(user_id))
        .one(db)
        .await?)
}
