use async_graphql::{Context, ID, InputObject, Object, SimpleObject};

use super::types::{AuditEvent, Role, User};
use crate::{
    domain::identity::NewUser,
    graphql::{
        connection::{Conn, connection, page_args},
        context::{actor, services},
        errors::{ApiResult, UserErrorObject, payload},
        ids::{Kind, decode},
    },
};

#[derive(InputObject)]
pub struct CreateUserInput {
    pub email: String,
    #[graphql(secret)]
    pub password: String,
    pub role: Role,
}

#[derive(InputObject)]
pub struct UpdateUserRoleInput {
    pub user_id: ID,
    pub role: Role,
}

#[derive(InputObject)]
pub struct DeactivateUserInput {
    pub user_id: ID,
}

#[derive(SimpleObject)]
pub struct UserPayload {
    pub user: Option<User>,
    pub user_errors: Vec<UserErrorObject>,
}

impl From<(Option<crate::domain::identity::UserView>, Vec<UserErrorObject>)> for UserPayload {
    fn from((user, user_errors): (Option<crate::domain::identity::UserView>, Vec<UserErrorObject>)) -> Self {
        Self { user: user.map(User), user_errors }
    }
}

#[derive(Default)]
pub struct UserQuery;

#[Object]
impl UserQuery {
    /// Members of the caller's organization, newest first.
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity")]
    async fn users(&self, ctx: &Context<'_>, first: Option<i32>, after: Option<String>) -> ApiResult<Conn<User>> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        let page = s.identity.users(a.tenant(), page_args(ctx, first, after, s.settings.limits.page_size)?).await?;
        Ok(connection(page, |v| v.membership.id, User))
    }

    /// The organization's audit log, newest first (ADMIN and above).
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity")]
    async fn audit_events(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Conn<AuditEvent>> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        let page = s.identity.audit_events(a, page_args(ctx, first, after, s.settings.limits.page_size)?).await?;
        Ok(connection(page, |e| e.id, AuditEvent))
    }
}

#[derive(Default)]
pub struct UserMutation;

#[Object]
impl UserMutation {
    /// Adds a user to the caller's organization (ADMIN and above; at most the caller's role).
    async fn create_user(&self, ctx: &Context<'_>, input: CreateUserInput) -> ApiResult<UserPayload> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        let new = NewUser { email: input.email, password: input.password, role: input.role.into() };
        Ok(payload(s.identity.create_user(a, new).await)?.into())
    }

    async fn update_user_role(&self, ctx: &Context<'_>, input: UpdateUserRoleInput) -> ApiResult<UserPayload> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        let id = decode(Kind::User, &input.user_id)?;
        Ok(payload(s.identity.update_user_role(a, id, input.role.into()).await)?.into())
    }

    /// Deactivates a user; their sessions and tokens stop working immediately.
    async fn deactivate_user(&self, ctx: &Context<'_>, input: DeactivateUserInput) -> ApiResult<UserPayload> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        let id = decode(Kind::User, &input.user_id)?;
        Ok(payload(s.identity.deactivate_user(a, id).await)?.into())
    }
}
